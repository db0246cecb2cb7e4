"""``shopguard init``, ``shopguard audit ...`` and ``shopguard keyring ...``."""

from __future__ import annotations

import base64
import os
import sys
from pathlib import Path

import typer
from rich.table import Table

from shopguard.cli import app
from shopguard.cli._common import console, err_console, open_runtime, settings
from shopguard.core.errors import ConfigError

audit_app = typer.Typer(
    help="Inspect and verify the tamper-evident audit log.", no_args_is_help=True
)
keyring_app = typer.Typer(
    help="Manage the key ring (data keys and the master key).", no_args_is_help=True
)
app.add_typer(audit_app, name="audit")
app.add_typer(keyring_app, name="keyring")


@app.command("init")
def init() -> None:
    """Create the state directory (.shopguard/): config, master key (0600), database schema."""
    from shopguard.core.runtime import init_state

    created = init_state(settings())
    for path in created:
        console.print(f"created {path}")
    console.print(f"shopguard state ready in {settings().home}")


@audit_app.command("verify")
def audit_verify() -> None:
    """Verify the hash chain, MACs and head anchor. Exit 0 intact, 1 naming the first bad entry."""
    with open_runtime() as rt:
        report = rt.audit.verify()
    if report.ok:
        console.print(f"audit log intact: {report.entries} entries verified")
        raise typer.Exit(0)
    err_console.print(f"audit log TAMPERED: entry {report.first_bad_seq}: {report.reason}")
    raise typer.Exit(1)


@audit_app.command("export")
def audit_export(
    out: Path = typer.Option(None, "--out", "-o", help="JSON-lines file (default: stdout)."),
) -> None:
    """Export every entry as JSON lines (hashes and MACs included, so a copy can be re-verified)."""
    with open_runtime() as rt:
        if out is None:
            n = rt.audit.export_jsonl(sys.stdout)
        else:
            tmp = out.with_suffix(out.suffix + ".tmp")
            with tmp.open("w", encoding="utf-8") as fh:
                n = rt.audit.export_jsonl(fh)
            tmp.replace(out)
    err_console.print(f"exported {n} entries")


@keyring_app.command("list")
def keyring_list() -> None:
    """List data keys by purpose and version (never the keys themselves)."""
    with open_runtime() as rt:
        rows = rt.keyring.purposes()
    table = Table("purpose", "version", "state", "key id")
    for purpose, version, state, key_id in rows:
        table.add_row(purpose, str(version), state, key_id)
    console.print(table)


@keyring_app.command("rotate")
def keyring_rotate(
    purpose: str = typer.Argument(..., help="Purpose whose data key to rotate."),
) -> None:
    """Make a new active data key for PURPOSE; data under older versions stays readable."""
    with open_runtime() as rt:
        key = rt.keyring.rotate(purpose)
    console.print(f"rotated {purpose}: new active key {key.key_id}")


@keyring_app.command("rotate-master")
def keyring_rotate_master() -> None:
    """Re-wrap every data key under a fresh master key (file-based master keys only)."""
    from shopguard.core import crypto
    from shopguard.core.keyring import load_keks

    s = settings()
    if s.master_key is not None:
        raise ConfigError(
            "the master key comes from SHOPGUARD_MASTER_KEY; rotate it in your secret store"
        )
    load_keks(s)  # fails early, with one line, if the current key is unusable
    pending = s.master_key_path.with_suffix(".key.new")
    if not pending.exists():
        fd = os.open(pending, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(base64.urlsafe_b64encode(crypto.new_key()).decode("ascii") + "\n")
            fh.flush()
            os.fsync(fh.fileno())
    # Both keys load while master.key.new exists, so a crash here loses nothing.
    new_kek = load_keks(s)[-1]
    with open_runtime() as rt:
        n = rt.keyring.rewrap(new_kek)
    os.replace(pending, s.master_key_path)
    console.print(f"master key rotated; {n} data keys re-wrapped")

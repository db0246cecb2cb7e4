"""``shopguard privacy``: find and protect personal data."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import typer

from shopguard.cli import app
from shopguard.cli._common import err_console, progress, require_file
from shopguard.core.errors import DataValidationError

__all__ = ["privacy_app"]

privacy_app = typer.Typer(
    help="Find, pseudonymise and protect personal data.", no_args_is_help=True
)
app.add_typer(privacy_app, name="privacy")


@privacy_app.command("scan-text")
def scan_text(
    infile: Path = typer.Argument(..., help='JSON lines, each {"id": ..., "text": ...}.'),
    out: Path = typer.Option(..., "--out", help="JSON lines to write: {id, entities}."),
    skip_bad: bool = typer.Option(
        False, "--skip-bad", help="Report malformed lines and go on (default: fail, write nothing)."
    ),
    min_score: float = typer.Option(0.5, "--min-score", min=0.0, max=1.0),
    dask: str = typer.Option(
        None, "--dask", help="Partition the scan on Dask: 'local' or a scheduler tcp://HOST:PORT."
    ),
    dask_workers: int = typer.Option(
        2, "--dask-workers", min=1, max=256, help="Processes of the local Dask cluster."
    ),
) -> None:
    """Detect personal data in texts; write entity types and character offsets per id."""
    from shopguard.privacy.pii import PiiDetector
    from shopguard.privacy.pii._jsonl import BadLine, read_text_records

    require_file(infile, what="input file")
    if not out.parent.is_dir():
        raise DataValidationError("output directory does not exist", file=str(out))
    if dask:
        _scan_text_on_dask(infile, out, dask, dask_workers, min_score, skip_bad)
        return
    with infile.open("rb") as fh:
        total = sum(1 for _ in fh)
    detector = PiiDetector(min_score=min_score)
    n_ok = n_bad = 0
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    try:
        with (
            os.fdopen(fd, "w", encoding="utf-8") as dst,
            infile.open("rb") as src,
            progress() as bar,
        ):
            task = bar.add_task("scanning texts", total=total)
            for item in read_text_records(src):
                bar.update(task, completed=item.line)
                if isinstance(item, BadLine):
                    if not skip_bad:
                        raise DataValidationError(
                            f"line {item.line}: {item.reason}", file=str(infile)
                        )
                    n_bad += 1
                    err_console.print(f"skipped line {item.line}: {item.reason}")
                    continue
                ents = [e.to_dict() for e in detector.detect(item.text)]
                dst.write(json.dumps({"id": item.id, "entities": ents}, ensure_ascii=False) + "\n")
                n_ok += 1
            bar.update(task, completed=total)
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    err_console.print(f"scanned {n_ok} texts" + (f", skipped {n_bad} bad lines" if n_bad else ""))
    typer.echo(str(out))


def _scan_text_on_dask(
    infile: Path, out: Path, dask: str, workers: int, min_score: float, skip_bad: bool
) -> None:
    from shopguard.privacy.dask_scan import scan_text_dask

    with infile.open("rb") as fh:
        total = sum(1 for _ in fh)
    with progress() as bar:
        task = bar.add_task(f"scanning texts on Dask ({dask})", total=total)
        res = scan_text_dask(
            infile,
            out,
            dask=dask,
            workers=workers,
            min_score=min_score,
            skip_bad=skip_bad,
            on_progress=lambda n: bar.update(task, completed=n),
        )
        bar.update(task, completed=total)
    for line, reason in res.skipped:
        err_console.print(f"skipped line {line}: {reason}")
    err_console.print(
        f"scanned {res.scanned} texts on {res.workers} Dask workers"
        + (f", skipped {len(res.skipped)} bad lines" if res.skipped else "")
    )
    typer.echo(str(out))


@privacy_app.command("scan-table")
def scan_table(
    source: Path = typer.Argument(None, help="A .csv, .csv.gz or .parquet file."),
    table: str = typer.Option(
        None, "--table", help="Scan this table of the configured database instead."
    ),
    sample: int = typer.Option(
        200, "--sample", min=10, max=100_000, help="Values sampled per column."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """Classify the columns of a table that hold personal data, with a confidence (no values shown)."""
    from rich.table import Table

    from shopguard.cli._common import console, open_runtime
    from shopguard.privacy.tables import scan_database_table, scan_file

    if (source is None) == (table is None):
        raise DataValidationError("give either a file or --table")
    if source is not None:
        require_file(source, what="table file")
        findings = scan_file(source, sample=sample)
    else:
        with open_runtime() as rt:
            findings = scan_database_table(rt.engine, table, sample=sample)
    if as_json:
        typer.echo(json.dumps([f.to_json() for f in findings], indent=2))
        return
    out = Table("column", "type", "confidence", "values matched", "by name")
    for f in findings:
        out.add_row(
            f.column,
            f.type.value,
            f"{f.confidence:.2f}",
            f"{f.matched_fraction:.0%}",
            "yes" if f.by_name else "",
        )
    console.print(out)


dsar_app = typer.Typer(
    help="Data-subject requests: access, erasure, deadlines.", no_args_is_help=True
)
privacy_app.add_typer(dsar_app, name="dsar")


def _law(value: str | None) -> Any:
    from shopguard.privacy.requests import Law

    if value is None:
        return None
    try:
        return Law(value.upper())
    except ValueError:
        raise DataValidationError("--law must be GDPR or CCPA") from None


@dsar_app.command("export")
def dsar_export(
    customer: str = typer.Option(..., "--customer", help="The customer id."),
    tenant: str = typer.Option("default", "--tenant", help="The tenant (store)."),
    out: Path = typer.Option(..., "--out", help="JSON file to write (mode 0600)."),
    law: str = typer.Option(None, "--law", help="GDPR or CCPA (default: by jurisdiction)."),
) -> None:
    """Export everything held about a customer as JSON; the request is tracked and audited."""
    import shopguard.assistant.erasure  # noqa: F401  (its conversations are exported too)
    from shopguard.cli._common import open_runtime
    from shopguard.privacy.dsar import fulfil_export

    if not out.parent.is_dir():
        raise DataValidationError("output directory does not exist", file=str(out))
    with open_runtime() as rt:
        req = fulfil_export(rt, tenant=tenant, customer_id=customer, out=out, law=_law(law))
    err_console.print(f"request {req.request_id} ({req.law.value}): exported to {out}")


@dsar_app.command("erase")
def dsar_erase(
    customer: str = typer.Option(..., "--customer", help="The customer id."),
    tenant: str = typer.Option("default", "--tenant", help="The tenant (store)."),
    law: str = typer.Option(None, "--law", help="GDPR or CCPA (default: by jurisdiction)."),
    yes: bool = typer.Option(False, "--yes", help="Confirm: erasure cannot be undone."),
) -> None:
    """Erase a customer: shred their keys, delete their rows, flag models for retraining."""
    import shopguard.assistant.erasure
    import shopguard.integrity.erasure  # noqa: F401  (its records are erased too)
    from shopguard.cli._common import console, open_runtime
    from shopguard.privacy.dsar import erase_subject

    if not yes:
        raise DataValidationError("erasure cannot be undone: add --yes to confirm")
    with open_runtime() as rt:
        req = erase_subject(rt, tenant=tenant, customer_id=customer, law=_law(law))
    for st in req.steps:
        facts = ", ".join(f"{k}={v}" for k, v in st.items() if k not in ("step", "at"))
        console.print(f"  {st['step']}: {facts}")
    err_console.print(f"request {req.request_id} ({req.law.value}): customer erased")


@dsar_app.command("list")
def dsar_list(
    overdue: bool = typer.Option(False, "--overdue", help="Only open requests past deadline."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Data-subject requests with their legal deadlines (GDPR 30 days, CCPA 45 days)."""
    from datetime import UTC, datetime

    from rich.table import Table

    from shopguard.cli._common import console, open_runtime
    from shopguard.privacy.requests import RequestLedger

    with open_runtime() as rt:
        ledger = RequestLedger(rt.engine)
        rows = ledger.overdue(bus=rt.bus) if overdue else ledger.all()
    if as_json:
        typer.echo(json.dumps([r.to_json() for r in rows], indent=2))
        return
    now = datetime.now(UTC)
    out = Table("request", "kind", "law", "customer", "status", "received", "due")
    for r in rows:
        due = r.due_at.date().isoformat() + (" (overdue)" if r.overdue(now) else "")
        out.add_row(r.request_id, r.kind.value, r.law.value, r.customer_id, r.status.value,
                    r.received_at.date().isoformat(), due)  # fmt: skip
    console.print(out)


def _read_frame(path: Path) -> Any:
    import pandas as pd

    require_file(path, what="table file")
    name = path.name.lower()
    try:
        if name.endswith(".parquet"):
            return pd.read_parquet(path)
        if name.endswith((".csv", ".csv.gz")):
            return pd.read_csv(path)
    except (OSError, ValueError) as exc:
        raise DataValidationError(
            f"cannot read table ({type(exc).__name__})", file=str(path)
        ) from None
    raise DataValidationError("expected a .csv, .csv.gz or .parquet file", file=str(path))


def _write_frame(frame: Any, out: Path) -> None:
    if not out.parent.is_dir():
        raise DataValidationError("output directory does not exist", file=str(out))
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
    os.close(fd)
    try:
        if out.name.lower().endswith(".parquet"):
            frame.to_parquet(tmp, index=False)
        else:
            frame.to_csv(tmp, index=False)
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


@privacy_app.command("anonymise")
def anonymise_cmd(
    infile: Path = typer.Argument(..., help="A .csv, .csv.gz or .parquet training extract."),
    quasi: str = typer.Option(
        ..., "--quasi", help="Quasi-identifier columns, e.g. age,zip,gender."
    ),
    k: int = typer.Option(5, "--k", min=2, help="Smallest equivalence class."),
    sensitive: str = typer.Option(None, "--sensitive", help="Sensitive column (for --l)."),
    ell: int = typer.Option(None, "--l", min=2, help="Distinct sensitive values per class."),
    max_suppression: float = typer.Option(0.02, "--max-suppression", min=0.0, max=0.99),
    drop: str = typer.Option("", "--drop", help="Columns to remove (direct identifiers)."),
    out: Path = typer.Option(..., "--out", help="Where to write the anonymised extract."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Generalise quasi-identifiers until every class has k records (and l sensitive values)."""
    from shopguard.privacy.anonymise import anonymise
    from shopguard.privacy.pii import PiiType
    from shopguard.privacy.tables import scan_frame

    frame = _read_frame(infile)
    quasi_cols = [c.strip() for c in quasi.split(",") if c.strip()]
    drop_cols = [c.strip() for c in drop.split(",") if c.strip()]
    direct = {PiiType.PERSON, PiiType.EMAIL, PiiType.PHONE, PiiType.CREDIT_CARD, PiiType.IBAN,
              PiiType.US_SSN, PiiType.PASSPORT, PiiType.IP_ADDRESS}  # fmt: skip
    identifiers = [f.column for f in scan_frame(frame) if f.type in direct and f.confidence >= 0.5]
    result = anonymise(
        frame,
        quasi=quasi_cols,
        k=k,
        sensitive=sensitive,
        l_diversity=ell,
        max_suppression=max_suppression,
        drop=drop_cols,
        identifier_columns=identifiers,
    )
    _write_frame(result.frame, out)
    report = result.to_json()
    if as_json:
        typer.echo(json.dumps(report, indent=2))
    else:
        levels = ", ".join(
            f"{q}: level {lv}/{result.max_levels[q]}" for q, lv in result.levels.items()
        )
        err_console.print(
            f"k={k}{f', l={ell}' if ell else ''}: {report['records_out']} of {report['records_in']} "
            f"records released ({result.suppressed} suppressed), {result.n_classes} classes, "
            f"smallest {result.min_class}; {levels}"
        )
        typer.echo(str(out))


@privacy_app.command("redact")
def redact_cmd(
    infile: Path = typer.Argument(..., help='JSON lines, each {"id": ..., "text": ...}.'),
    out: Path = typer.Option(..., "--out", help='JSON lines to write: {"id", "text", "entities"}.'),
    mode: str = typer.Option("tag", "--mode", help="tag (<EMAIL>), token (keyed) or mask."),
    skip_bad: bool = typer.Option(False, "--skip-bad", help="Report malformed lines and go on."),
) -> None:
    """Replace personal data in texts by type tags, keyed tokens or masks."""
    import contextlib

    from shopguard.cli._common import open_runtime
    from shopguard.privacy.pii._jsonl import BadLine, read_text_records
    from shopguard.privacy.pseudonym import Pseudonymiser
    from shopguard.privacy.redact import RedactMode, Redactor

    try:
        how = RedactMode(mode)
    except ValueError:
        raise DataValidationError("--mode must be tag, token or mask") from None
    require_file(infile, what="input file")
    if not out.parent.is_dir():
        raise DataValidationError("output directory does not exist", file=str(out))
    with infile.open("rb") as fh:
        total = sum(1 for _ in fh)
    with contextlib.ExitStack() as stack:
        pseudo = None
        if how is RedactMode.TOKEN:
            rt = stack.enter_context(open_runtime())
            pseudo = Pseudonymiser(rt.engine, rt.keyring)
        redactor = Redactor(mode=how, pseudonymiser=pseudo)
        fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
        n_ok = n_bad = 0
        try:
            with (
                os.fdopen(fd, "w", encoding="utf-8") as dst,
                infile.open("rb") as src,
                progress() as bar,
            ):
                task = bar.add_task("redacting texts", total=total)
                for item in read_text_records(src):
                    bar.update(task, completed=item.line)
                    if isinstance(item, BadLine):
                        if not skip_bad:
                            raise DataValidationError(
                                f"line {item.line}: {item.reason}", file=str(infile)
                            )
                        n_bad += 1
                        err_console.print(f"skipped line {item.line}: {item.reason}")
                        continue
                    text, ents = redactor.redact(item.text)
                    rec = {"id": item.id, "text": text, "entities": [e.type.value for e in ents]}
                    dst.write(json.dumps(rec, ensure_ascii=False) + "\n")
                    n_ok += 1
            os.replace(tmp, out)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    err_console.print(f"redacted {n_ok} texts" + (f", skipped {n_bad} bad lines" if n_bad else ""))
    typer.echo(str(out))


@privacy_app.command("pseudonymise")
def pseudonymise_cmd(
    infile: Path = typer.Argument(..., help="A .csv, .csv.gz or .parquet file."),
    columns: str = typer.Option(..., "--columns", help="col[:kind],... kind: opaque, email, card."),
    purpose: str = typer.Option(..., "--purpose", help="Token purpose, e.g. analytics."),
    out: Path = typer.Option(..., "--out", help="Where to write the pseudonymised file."),
    vault: bool = typer.Option(
        False, "--vault", help="Keep values for audited re-identification (needs --subject)."
    ),
    subject: str = typer.Option(
        None, "--subject", help="Column naming the customer (for --vault)."
    ),
    tenant: str = typer.Option("default", "--tenant"),
) -> None:
    """Replace columns by keyed deterministic tokens (joins still work within a purpose)."""
    from shopguard.cli._common import open_runtime
    from shopguard.privacy.pseudonym import Pseudonymiser, TokenKind

    frame = _read_frame(infile)
    spec: list[tuple[str, TokenKind]] = []
    for part in (p.strip() for p in columns.split(",") if p.strip()):
        name, _, kind = part.partition(":")
        if name not in frame:
            raise DataValidationError(f"unknown column {name!r}")
        try:
            spec.append((name, TokenKind(kind or "opaque")))
        except ValueError:
            raise DataValidationError(f"unknown token kind {kind!r}") from None
    if vault and (subject is None or subject not in frame):
        raise DataValidationError("--vault needs --subject naming the customer column")
    with open_runtime() as rt:
        pseudo = Pseudonymiser(rt.engine, rt.keyring)
        for name, kind in spec:
            present = frame[name].notna()
            values = frame.loc[present, name].astype(str)
            if vault:
                subjects = frame.loc[present, subject].astype(str)
                toks = pseudo.tokenise(purpose, list(zip(subjects, values, strict=True)),
                                       tenant=tenant, kind=kind)  # fmt: skip
            else:
                toks = [pseudo.token(purpose, v, kind=kind) for v in values]
            frame[name] = frame[name].astype(object)
            frame.loc[present, name] = toks
    _write_frame(frame, out)
    typer.echo(str(out))


@privacy_app.command("reidentify")
def reidentify_cmd(
    token: str = typer.Argument(..., help="The token to turn back into its value."),
    purpose: str = typer.Option(..., "--purpose"),
    reason: str = typer.Option(..., "--reason", help="Why (kept in the audit log)."),
    officer: str = typer.Option(..., "--officer", help="Who asks (a privacy officer)."),
    tenant: str = typer.Option("default", "--tenant"),
) -> None:
    """Re-identify a token (privacy officer only; every attempt is audited)."""
    from shopguard.cli._common import open_runtime
    from shopguard.privacy.pseudonym import REIDENTIFY_SCOPE, Pseudonymiser

    with open_runtime() as rt:
        pseudo = Pseudonymiser(rt.engine, rt.keyring, audit=rt.audit)
        # The local operator holds the master key and so the officer's power; the
        # officer's name and reason are what the audit entry records.
        value = pseudo.reidentify(
            token, purpose=purpose, tenant=tenant, principal=f"cli:{officer}",
            scopes={REIDENTIFY_SCOPE}, reason=reason,
        )  # fmt: skip
    typer.echo(value)


@privacy_app.command("protect-store")
def protect_store_cmd(
    source: Path = typer.Argument(..., help="A store directory (CSV or Parquet tables)."),
    tenant: str = typer.Option("default", "--tenant"),
    force: bool = typer.Option(False, "--force", help="Replace the tenant's current store."),
) -> None:
    """Import a store export: seal and tokenise its personal columns, keep the rest."""
    from shopguard.cli._common import open_runtime
    from shopguard.privacy.dsar import store_root
    from shopguard.privacy.protect import protect_store
    from shopguard.store.generate import write_store
    from shopguard.store.schema import load_store
    from shopguard.store.service import STORE_DIR

    if not source.is_dir():
        raise DataValidationError("store directory not found", file=str(source))
    store = load_store(source)
    with open_runtime() as rt, progress() as bar:
        task = bar.add_task("protecting the store", total=None)
        protected, report = protect_store(
            rt, store, tenant=tenant, progress=lambda s: bar.update(task, description=s)
        )
        dest = store_root(rt.home, tenant) / STORE_DIR
        write_store(protected, dest, fmt="parquet", overwrite=force)
    err_console.print(
        f"sealed {report.sealed_fields} fields of {report.sealed_customers} customers; "
        f"tokenised {sum(report.tokenised.values())} values"
    )
    typer.echo(str(dest))


@privacy_app.command("datamap")
def datamap_cmd(
    out: Path = typer.Option(..., "--out", help="Directory for datamap.json and datamap.html."),
    declarations: Path = typer.Option(
        None, "--declarations", help="TOML file with [data_map] nodes and flows."
    ),
    tenant: str = typer.Option("default", "--tenant"),
    no_scan: bool = typer.Option(False, "--no-scan", help="Skip scanning the store tables."),
) -> None:
    """Render the data map (HTML graph) and export it as JSON."""
    from shopguard.cli._common import open_runtime
    from shopguard.privacy.datamap import build_data_map, load_declarations
    from shopguard.privacy.dsar import store_root
    from shopguard.store.schema import load_store
    from shopguard.store.service import STORE_DIR

    decl = None
    if declarations is not None:
        require_file(declarations, what="declarations file")
        decl = load_declarations(declarations)
    frames: list[tuple[str, Any]] = []
    if not no_scan:
        with open_runtime() as rt:
            store_dir = store_root(rt.home, tenant) / STORE_DIR
        if store_dir.is_dir():
            store = load_store(store_dir)
            frames = [(n, store.table(n)) for n in ("customers", "sessions", "orders",
                                                    "transactions", "reviews")]  # fmt: skip
    dm = build_data_map(store_frames=frames, declarations=decl)
    out.mkdir(parents=True, exist_ok=True)
    (out / "datamap.json").write_text(json.dumps(dm.to_json(), indent=2) + "\n", "utf-8")
    (out / "datamap.html").write_text(dm.to_html(), "utf-8")
    typer.echo(str(out / "datamap.html"))

"""``shopguard redteam run|list|diff``: the attack suite against a live deployment, gating CI.

Exit codes of ``run``: 0 every check passed (or was skipped), 1 any check failed or errored,
2 bad input.
"""

from __future__ import annotations

import json
import os
import tomllib
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from shopguard.cli import app
from shopguard.cli._common import console, progress, require_file, settings
from shopguard.core.errors import DataValidationError

__all__ = ["redteam_app"]

redteam_app = typer.Typer(
    help="Red-team a deployment: every registered attack and remote check.", no_args_is_help=True
)
app.add_typer(redteam_app, name="redteam")

_COLOUR = {"pass": "green", "fail": "red", "error": "yellow", "skipped": "dim"}


def _history_dir() -> Path:
    return settings().home / "redteam"


def _load_keys_file(path: Path) -> tuple[dict[str, str], dict[str, Any]]:
    """``{"api_keys": {role: key}, ...plain resources}`` as JSON or TOML."""
    require_file(path, what="keys file")
    text = path.read_text("utf-8")
    try:
        data = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
    except (ValueError, tomllib.TOMLDecodeError) as exc:
        raise DataValidationError("keys file is not valid JSON/TOML", file=str(path)) from exc
    if not isinstance(data, dict) or not isinstance(data.get("api_keys", {}), dict):
        raise DataValidationError("keys file needs an api_keys table of role = key", file=str(path))
    keys = {str(k): str(v) for k, v in data.pop("api_keys", {}).items()}
    extra = {
        k: v
        for k, v in data.items()
        if isinstance(v, (str, int, float, list)) and not k.startswith("_")
    }
    return keys, extra


def _areas(only: str | None) -> list[Any] | None:
    from shopguard.core.scorecard import Area

    if not only:
        return None
    out = []
    for part in (p.strip() for p in only.split(",") if p.strip()):
        try:
            out.append(Area(part))
        except ValueError:
            raise DataValidationError(
                f"unknown area {part!r}; one of {', '.join(a.value for a in Area)}"
            ) from None
    return out


@redteam_app.command("run")
def run(
    target: str = typer.Option(..., "--target", help="Base URL of the deployment's gateway."),
    key: str | None = typer.Option(
        None, "--key", help="The storefront API key (role 'full'); or SHOPGUARD_REDTEAM_KEY."
    ),
    keys_file: Path | None = typer.Option(
        None, "--keys-file", help="JSON/TOML: api_keys = {role = key}, plus plain resources."
    ),
    only: str | None = typer.Option(None, "--only", help="Comma-separated areas to run."),
    budget: int | None = typer.Option(None, "--budget", min=1, help="Most requests to send."),
    time_limit: float | None = typer.Option(
        None, "--time-limit", min=1, help="Seconds after which nothing new starts."
    ),
    out: Path = typer.Option(Path("redteam-out"), "--out", help="Where the artefacts go."),
) -> None:
    """Attack TARGET; write scorecard.json, report.html, junit.xml and redteam.sarif to OUT."""
    from shopguard.redteam.outputs import write_outputs
    from shopguard.redteam.runner import plan, remote_context, run_suite

    if not target.startswith(("http://", "https://")):
        raise DataValidationError("--target must be an http(s) URL")
    if out.exists() and not out.is_dir():
        raise DataValidationError("output path exists and is not a directory", file=str(out))
    keys, extra = _load_keys_file(keys_file) if keys_file else ({}, {})
    key = key or os.environ.get("SHOPGUARD_REDTEAM_KEY")
    if key:
        keys["full"] = key
    if "full" not in keys:
        raise DataValidationError("give the storefront key with --key (or 'full' in --keys-file)")
    areas = _areas(only)
    ctx = remote_context(target, keys, extra)  # plan() loads every check, attack and builder
    total = len(plan(ctx, only=areas))
    with progress() as bar:
        task = bar.add_task("starting", total=total)
        result = run_suite(
            ctx,
            only=areas,
            budget=budget,
            time_limit=time_limit,
            on_start=lambda item: bar.update(task, description=f"{item.kind} {item.name}"),
            on_result=lambda _r: bar.advance(task),
        )
        bar.update(task, description="writing the report")
        paths = write_outputs(result, out, history_dir=_history_dir())
    _render(result)
    for name, path in paths.items():
        console.print(f"{name:9} {path}")
    if not result.passed:
        raise typer.Exit(1)


def _render(result: Any) -> None:
    table = Table("status", "check", "figure vs bar", "evidence", title=f"red team {result.run_id}")
    for r in result.scorecard.results:
        fig = (
            ""
            if r.figure is None
            else f"{r.figure.name}={r.figure.value:.4g} (bar {r.figure.bar:.4g})"
        )
        table.add_row(
            f"[{_COLOUR.get(r.status.value, 'dim')}]{r.status.value}[/]", r.id, fig, r.evidence
        )
    console.print(table)
    console.print(
        f"{result.queries} requests in {result.seconds:.0f} s; verdict: "
        + ("[green]PASS[/]" if result.passed else "[red]FAIL[/]")
    )


@redteam_app.command("list")
def list_(
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Every registered attack and check: name, area, control, bar."""
    from shopguard.core.scorecard import checks
    from shopguard.redteam import attacks
    from shopguard.redteam.runner import load_plugins

    load_plugins()  # every check, attack and target builder

    rows = [
        {"kind": "attack", "name": a.name, "area": a.area.value, "control": a.control, "bar": a.bar}
        for a in attacks
    ] + [
        {
            "kind": "check",
            "name": c.name,
            "area": c.area.value,
            "control": getattr(c, "control", c.name.split(".", 1)[0]),
            "bar": c.title,
        }
        for c in checks
    ]
    if as_json:
        typer.echo(json.dumps(rows, indent=1))
        return
    table = Table("kind", "name", "area", "control", "bar")
    for r in rows:
        table.add_row(r["kind"], r["name"], r["area"], r["control"], r["bar"])
    console.print(table)


@redteam_app.command("diff")
def diff_cmd(
    run_a: str = typer.Argument(..., help="Earlier run id (or 'previous')."),
    run_b: str = typer.Argument(..., help="Later run id (or 'latest')."),
    history_dir: Path | None = typer.Option(None, "--history", help="Runs folder."),
) -> None:
    """Regressions and improvements per check and per area from RUN_A to RUN_B (exit 1 on any regression)."""
    from shopguard.redteam.outputs import diff, load_run

    folder = history_dir or _history_dir()
    runs = []
    for rid in (run_a, run_b):
        try:
            runs.append(load_run(folder, rid))
        except KeyError:
            raise DataValidationError(f"no stored red-team run {rid!r}", file=str(folder)) from None
    changes, per_area = diff(runs[0], runs[1])
    table = Table("change", "check", "area", "before", "after", title=f"{run_a} -> {run_b}")
    colour = {"regression": "red", "improvement": "green", "new": "cyan", "removed": "yellow"}
    for c in changes:
        if c.kind != "same":
            table.add_row(
                f"[{colour[c.kind]}]{c.kind}[/]", c.id, c.area, c.before or "-", c.after or "-"
            )
    console.print(table)
    areas = Table(
        "area", "regressions", "improvements", "new", "removed", "unchanged", title="per area"
    )
    for area, n in sorted(per_area.items()):
        areas.add_row(
            area,
            str(n["regression"]),
            str(n["improvement"]),
            str(n["new"]),
            str(n["removed"]),
            str(n["same"]),
        )
    console.print(areas)
    if any(c.kind == "regression" for c in changes):
        raise typer.Exit(1)

"""``shopguard audit deps`` and ``shopguard audit config``: supply-chain gates for CI.

Both exit 0 when clean, 1 when a finding reaches ``--fail-on``, 2 on bad input.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from shopguard.cli._common import console, err_console, progress, settings
from shopguard.cli.core_cmds import audit_app


def _write_json(path: Path, obj: object) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(obj, indent=2) + "\n", "utf-8")
    tmp.replace(path)


@audit_app.command("deps")
def audit_deps(
    advisories: Path = typer.Option(
        None,
        "--advisories",
        help="OSV advisory export (JSON list, folder of *.json, or all.zip) for an offline audit. "
        "Default: the governance_advisories_file setting, else pip-audit's online service.",
    ),
    fail_on: str = typer.Option("high", "--fail-on", help="low, medium, high or critical."),
    service: str = typer.Option("pypi", "--service", help="Online service: pypi or osv."),
    json_out: Path = typer.Option(None, "--json", help="Also write the report as JSON."),
) -> None:
    """Check installed packages for known vulnerabilities (pip-audit); exit 1 at or above --fail-on."""
    from shopguard.governance import depaudit

    bar = depaudit.Severity.parse(fail_on)
    source = advisories or settings().governance_advisories_file
    if source is not None:
        svc = depaudit.OsvExportService.from_path(source)
        label = source.name
    else:
        svc = depaudit.online_service(service)
        label = f"{service} (online)"
    deps = depaudit.installed_dependencies()
    with progress(transient=True) as bar_ui:
        task = bar_ui.add_task(f"auditing against {label}", total=len(deps))
        report = depaudit.audit_dependencies(
            svc,
            dependencies=deps,
            source=label,
            on_progress=lambda _name: bar_ui.advance(task),
        )
    if json_out is not None:
        _write_json(json_out, report.to_json())
    if report.findings:
        table = Table("severity", "package", "version", "advisory", "fixed in", "summary")
        for f in report.findings:
            table.add_row(
                f.severity.value + (f" ({f.cvss_score:.1f})" if f.cvss_score is not None else ""),
                f.package,
                f.version,
                f.id,
                ", ".join(f.fix_versions) or "no fix",
                f.summary[:60],
            )
        console.print(table)
    over = report.at_least(bar)
    console.print(
        f"{report.audited} packages audited against {label}: {len(report.findings)} known "
        f"vulnerabilities, {len(over)} at or above {bar.value}"
        + (f", {len(report.skipped)} skipped" if report.skipped else "")
    )
    if over:
        err_console.print(f"FAIL: {len(over)} vulnerable dependencies at or above {bar.value}")
        raise typer.Exit(1)


@audit_app.command("config")
def audit_config_cmd(
    url: str = typer.Option(None, "--url", help="Also probe a running gateway at this base URL."),
    fail_on: str = typer.Option("medium", "--fail-on", help="low, medium, high or critical."),
    json_out: Path = typer.Option(None, "--json", help="Also write the findings as JSON."),
) -> None:
    """Lint the deployment's settings (and live endpoints) for misconfiguration; exit 1 at --fail-on."""
    from shopguard.governance import configaudit, depaudit

    bar = depaudit.Severity.parse(fail_on)
    findings = configaudit.audit_config(settings(), base_url=url)
    if json_out is not None:
        _write_json(json_out, [f.to_json() for f in findings])
    if findings:
        table = Table("severity", "rule", "where", "finding", "fix")
        for f in findings:
            table.add_row(f.severity.value, f.rule, f.where, f.message, f.fix)
        console.print(table)
    over = [f for f in findings if f.severity.at_least(bar)]
    console.print(f"{len(findings)} findings, {len(over)} at or above {bar.value}")
    if over:
        err_console.print(f"FAIL: {len(over)} misconfigurations at or above {bar.value}")
        raise typer.Exit(1)

"""The evidence bundle: everything an auditor asks for, in one folder, with a manifest of hashes.

``write_evidence_bundle`` writes the SBOM, the dependency and configuration
audits, the vendor register with its risk history (and a plot of it), the art. 30
record, a DPIA per automated-decision model, the controls matrix (JSON, CSV,
Markdown) and the scorecard it was judged against, then ``MANIFEST.json`` with the
SHA-256 of every file so a copy can be checked later.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from shopguard.core.errors import DataValidationError
from shopguard.core.runtime import Runtime
from shopguard.core.scorecard import CheckContext, run_checks
from shopguard.governance import configaudit, depaudit, records, sbom
from shopguard.governance.vendors import VendorRegister

__all__ = ["EvidenceBundle", "write_evidence_bundle"]

_GOVERNANCE_CHECKS = (
    "supply_chain.sbom_complete",
    "supply_chain.no_vulnerable_dependencies",
    "supply_chain.config_audit_clean",
    "compliance.vendors_assessed",
    "compliance.records_generated",
)


@dataclass(frozen=True)
class EvidenceBundle:
    out_dir: Path
    files: tuple[str, ...]
    controls_evidenced: int
    controls_total: int
    open_actions: int


def _dump(path: Path, obj: Any) -> None:
    path.write_text(json.dumps(obj, indent=2, sort_keys=False, default=str) + "\n", "utf-8")


def _md_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    def cell(v: object) -> str:
        return str(v).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _ropa_md(ropa: Mapping[str, Any]) -> str:
    out = [
        "# Record of processing activities (GDPR art. 30(1))\n",
        f"Controller: {ropa['controller']['name']} ({ropa['controller']['contact']})  ",
        f"Generated: {ropa['generated_at']} from {ropa['data_map_source']}\n",
    ]
    if ropa["consent_purposes_not_in_data_map"]:
        out.append(
            "**Consent purposes not described in the data map:** "
            + ", ".join(ropa["consent_purposes_not_in_data_map"])
            + "\n"
        )
    rows = []
    for a in ropa["activities"]:
        consent = a.get("consent")
        rows.append(
            [
                a["name"],
                a["purpose"],
                a["legal_basis_article"],
                ", ".join(a["personal_data_categories"]) or "-",
                ", ".join(r["vendor"] for r in a["recipients"]) or "none",
                a["retention"],
                "yes" if a["automated_decision_art22"] else "no",
                f"{consent['granted']} granted / {consent['refused_or_withdrawn']} refused"
                if consent
                else "-",
            ]
        )
    out.append(
        _md_table(
            [
                "activity",
                "purpose",
                "legal basis",
                "personal data",
                "recipients",
                "retention",
                "art. 22",
                "consent",
            ],
            rows,
        )
    )
    return "\n".join(out)


def _dpia_md(d: Mapping[str, Any]) -> str:
    desc = d["description"]
    out = [
        f"# DPIA: {desc['activity']} / model `{desc['model']}`\n",
        f"{d['article']}. Status: **{d['status']}**\n",
        "## Description\n",
        f"- Purpose: {desc['purpose']}",
        f"- Legal basis: {desc['legal_basis']}",
        f"- Personal data: {', '.join(desc['personal_data'])}",
        f"- Datasets: {', '.join(desc['datasets']) or '-'}; routes: {', '.join(desc['routes']) or '-'}",
        f"- Recipients: {', '.join(r['vendor'] for r in desc['recipients']) or 'none'}",
        f"- Retention: {desc['retention']}\n",
        "## Risks and measures\n",
        _md_table(
            ["risk", "inherent", "controls (evidence)", "residual"],
            [
                [
                    r["risk"],
                    r["inherent"],
                    ", ".join(f"{c} ({s})" for c, s in r["controls"].items()),
                    r["residual"],
                ]
                for r in d["risks"]
            ],
        ),
        f"Residual risk: **{d['residual_risk']}**; prior consultation (art. 36) needed: "
        f"{'yes' if d['prior_consultation_needed'] else 'no'}\n",
        "## Open actions\n",
        *[f"- [ ] {a}" for a in d["open_actions"]],
        "",
    ]
    return "\n".join(out)


def _matrix_csv(matrix: Sequence[Mapping[str, Any]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(
        ["control", "title", "gdpr", "ccpa", "owasp_ml", "owasp_llm", "atlas", "evidence", "checks"]
    )
    for row in matrix:
        w.writerow(
            [
                row["control"],
                row["title"],
                "; ".join(row["gdpr"]),
                "; ".join(row["ccpa"]),
                "; ".join(row["owasp_ml_top10_2023"]),
                "; ".join(row["owasp_llm_top10_2025"]),
                "; ".join(row["mitre_atlas"]),
                row["evidence"],
                "; ".join(f"{c['id']}={c['status']}" for c in row["checks"]),
            ]
        )
    return buf.getvalue()


def _matrix_md(matrix: Sequence[Mapping[str, Any]]) -> str:
    return "# Controls matrix\n\n" + _md_table(
        ["control", "GDPR", "CCPA", "OWASP ML", "OWASP LLM", "MITRE ATLAS", "evidence", "checks"],
        [
            [
                f"{r['control']}: {r['title']}",
                ", ".join(r["gdpr"]) or "-",
                ", ".join(r["ccpa"]) or "-",
                ", ".join(r["owasp_ml_top10_2023"]) or "-",
                ", ".join(r["owasp_llm_top10_2025"]) or "-",
                ", ".join(r["mitre_atlas"]) or "-",
                r["evidence"],
                ", ".join(f"{c['id']} ({c['status']})" for c in r["checks"]) or "-",
            ]
            for r in matrix
        ],
    )


def _plot_vendor_risk(path: Path, history: Mapping[str, list[tuple[str, float, str]]]) -> bool:
    if not any(history.values()):
        return False
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 3.5))
    for vendor, points in sorted(history.items()):
        if points:
            xs = mdates.date2num([datetime.fromisoformat(at) for at, _, _ in points])  # type: ignore[no-untyped-call]
            ax.plot(xs, [r for _, r, _ in points], marker="o", label=vendor)
    for y, label in ((0.25, "medium"), (0.5, "high"), (0.75, "critical")):
        ax.axhline(y, color="grey", linewidth=0.6, linestyle="--")
        ax.text(ax.get_xlim()[0], y, f" {label}", va="bottom", fontsize=7, color="grey")
    ax.set_ylim(0, 1)
    ax.set_ylabel("risk (higher is riskier)")
    ax.set_title("Vendor risk over time")
    ax.legend(fontsize=7, loc="upper left")
    ax.xaxis_date()
    fig.autofmt_xdate()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def write_evidence_bundle(
    rt: Runtime,
    out_dir: Path,
    *,
    scorecard_path: Path | None = None,
    advisories: Path | None = None,
    base_url: str | None = None,
    clock: Callable[[], datetime] | None = None,
) -> EvidenceBundle:
    """Write the whole bundle into ``out_dir`` (created; existing files are replaced).

    Raises
    ------
    DataValidationError
        The scorecard or advisory file given is unreadable or malformed.
    """
    now = (clock or (lambda: datetime.now(UTC)))()
    if out_dir.exists() and not out_dir.is_dir():
        raise DataValidationError("output path exists and is not a directory", file=str(out_dir))
    out_dir.mkdir(parents=True, exist_ok=True)
    given: dict[str, Any] = {"checks": []}
    if scorecard_path is not None:
        try:
            given = json.loads(scorecard_path.read_text("utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            raise DataValidationError(
                "not a readable scorecard JSON", file=scorecard_path.name
            ) from None
        if not isinstance(given, dict) or not isinstance(given.get("checks"), list):
            raise DataValidationError(
                "expected a scorecard with a 'checks' list", file=scorecard_path.name
            )
    files: list[str] = []

    # SBOM
    reg = VendorRegister(rt.engine, audit=rt.audit, bus=rt.bus, clock=lambda: now)
    from shopguard.governance.checks import sbom_inputs

    summary = sbom.write_sbom(rt.settings, out_dir / "sbom.cdx.json", **sbom_inputs(rt))
    files.append(summary.path.name)

    # dependency audit
    dep: dict[str, Any]
    if advisories is not None:
        report = depaudit.audit_dependencies(
            depaudit.OsvExportService.from_path(advisories), source=advisories.name
        )
        dep = report.to_json()
    else:
        dep = {"source": None, "status": "not run: pass an OSV advisory export (--advisories)"}
    _dump(out_dir / "dependency-audit.json", dep)
    files.append("dependency-audit.json")

    # configuration audit
    findings = configaudit.audit_config(rt.settings, base_url=base_url)
    _dump(out_dir / "config-audit.json", [f.to_json() for f in findings])
    files.append("config-audit.json")

    # vendors: today's rating joins each vendor's history
    vendors_doc = []
    history: dict[str, list[tuple[str, float, str]]] = {}
    for v in reg.all():
        rating = reg.rate(v.vendor_id, at=now, store=True)
        latest = reg.latest_assessment(v.vendor_id)
        hist = reg.history(v.vendor_id)
        history[v.vendor_id] = [(at, risk, level.value) for at, risk, level in hist]
        vendors_doc.append(
            {
                **v.to_json(),
                "rating": rating.to_json(),
                "latest_assessment": None
                if latest is None
                else {
                    "at": latest.at,
                    "score": latest.score,
                    "complete": latest.complete,
                    "missing": list(latest.missing),
                    "critical_failed": list(latest.critical_failed),
                    "by_category": dict(latest.by_category),
                },
                "events": [dataclasses.asdict(e) for e in reg.events(v.vendor_id)],
                "risk_history": history[v.vendor_id],
            }
        )
    _dump(out_dir / "vendors.json", vendors_doc)
    files.append("vendors.json")
    if _plot_vendor_risk(out_dir / "vendor-risk.png", history):
        files.append("vendor-risk.png")

    # scorecard: the one given, plus the governance checks run now
    resources: dict[str, Any] = {"runtime": rt}
    if advisories is not None:
        resources["advisories"] = advisories
    if base_url is not None:
        resources["base_url"] = base_url
    import shopguard.governance.checks  # noqa: F401  (registers the checks)

    ours = run_checks(CheckContext(resources), names=_GOVERNANCE_CHECKS, clock=lambda: now)
    ours_json = ours.to_json()
    ids = {c["id"] for c in ours_json["checks"]}
    merged = {
        **ours_json,
        "checks": [c for c in given["checks"] if c.get("id") not in ids] + ours_json["checks"],
    }
    _dump(out_dir / "scorecard.json", merged)
    files.append("scorecard.json")

    # records
    recs = records.generate_records(rt, scorecard=merged, clock=now)
    _dump(out_dir / "ropa.json", recs["ropa"])
    (out_dir / "ropa.md").write_text(_ropa_md(recs["ropa"]), "utf-8")
    files += ["ropa.json", "ropa.md"]
    actions = 0
    for d in recs["dpias"]:
        stem = "dpia-" + d["dpia"].replace("/", "-")
        _dump(out_dir / f"{stem}.json", d)
        (out_dir / f"{stem}.md").write_text(_dpia_md(d), "utf-8")
        files += [f"{stem}.json", f"{stem}.md"]
        actions += len(d["open_actions"])
    _dump(out_dir / "controls-matrix.json", recs["matrix"])
    (out_dir / "controls-matrix.csv").write_text(_matrix_csv(recs["matrix"]), "utf-8")
    (out_dir / "controls-matrix.md").write_text(_matrix_md(recs["matrix"]), "utf-8")
    files += ["controls-matrix.json", "controls-matrix.csv", "controls-matrix.md"]

    evidenced = sum(1 for r in recs["matrix"] if r["evidence"] == "evidenced")
    index = [
        "# shopguard evidence bundle\n",
        f"Generated {now.astimezone(UTC).isoformat(timespec='seconds')} for {rt.settings.home}.\n",
        f"- Controls evidenced by passing scorecard checks: {evidenced}/{len(recs['matrix'])}",
        f"- SBOM: {summary.packages} packages, {summary.models} models, {summary.datasets} datasets, "
        f"{summary.services} services (CycloneDX {summary.spec_version}, schema-valid)",
        f"- Dependency audit: {len(dep.get('findings', []))} known vulnerabilities"
        if "findings" in dep
        else f"- Dependency audit: {dep['status']}",
        f"- Configuration audit: {len(findings)} findings",
        f"- Vendors: {len(vendors_doc)}; DPIAs: {len(recs['dpias'])} ({actions} open actions)\n",
        "Files: " + ", ".join(f"`{f}`" for f in files),
        "",
    ]
    (out_dir / "README.md").write_text("\n".join(index), "utf-8")
    files.append("README.md")
    manifest = {
        "generated_at": now.astimezone(UTC).isoformat(timespec="seconds"),
        "files": {f: hashlib.sha256((out_dir / f).read_bytes()).hexdigest() for f in files},
    }
    _dump(out_dir / "MANIFEST.json", manifest)
    return EvidenceBundle(out_dir, tuple(files), evidenced, len(recs["matrix"]), actions)

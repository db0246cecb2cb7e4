"""Scorecard checks of the supply-chain and compliance areas."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from shopguard.core.runtime import Runtime
from shopguard.core.scorecard import Area, Check, CheckContext, Figure, Status, checks
from shopguard.governance import configaudit, depaudit, records, sbom
from shopguard.governance.vendors import VendorRegister

__all__: list[str] = []


def vendor_services(rt: Runtime) -> list[sbom.VendorService]:
    """The vendor register's entries as SBOM services."""
    return [
        sbom.VendorService(
            name=v.name,
            supplies=v.supplies,
            endpoints=v.endpoints,
            personal_data=tuple(c.value for c in v.personal_data),
            depends=tuple(f"{k}:{x}" for k, xs in sorted(v.depends.items()) for x in xs),
            kind=v.kind,
        )
        for v in VendorRegister(rt.engine).all()
    ]


def sbom_inputs(rt: Runtime) -> dict[str, Any]:
    """What the SBOM takes from the rest of governance: vendors and the data map's datasets."""
    return {
        "vendors": vendor_services(rt),
        "model_datasets": records.model_datasets(records.load_data_map(rt.settings)),
    }


@checks.register
class SbomComplete(Check):
    """The SBOM validates against CycloneDX 1.6 and lists every installed package and model."""

    name = "supply_chain.sbom_complete"
    area = Area.SUPPLY_CHAIN
    title = "SBOM is valid CycloneDX and lists every package and model, hashed"
    requires = ("runtime",)

    def run(self, ctx: CheckContext) -> tuple[Status, Figure | None, str]:
        rt: Runtime = ctx["runtime"]
        packages = sbom.installed_packages()
        models = sbom.model_artifacts(rt.settings.models_dir)
        bom = sbom.build_bom(rt.settings, packages=packages, **sbom_inputs(rt))
        doc = sbom.validate_bom_json(sbom.bom_to_json(bom))
        done = sbom.check_completeness(doc, packages=packages, models=models)
        evidence = (
            f"CycloneDX {doc['specVersion']} valid; {done.packages} packages, {done.models} models; "
            f"missing packages {len(done.missing_packages)}, missing models "
            f"{len(done.missing_models)}, unhashed {len(done.unhashed)}"
        )
        status = Status.PASS if done.complete else Status.FAIL
        return status, Figure("coverage", round(done.coverage, 4), 1.0), evidence


@checks.register
class NoVulnerableDependencies(Check):
    """No installed package has a known vulnerability at or above the bar (default: high).

    Needs ``advisories``: the path of an OSV advisory export (the demo passes the
    ``governance_advisories_file`` setting, else the bundled curated snapshot).
    """

    name = "supply_chain.no_vulnerable_dependencies"
    area = Area.SUPPLY_CHAIN
    title = "No known-vulnerable dependency at or above high severity"
    requires = ("advisories",)

    def run(self, ctx: CheckContext) -> tuple[Status, Figure | None, str]:
        source = Path(ctx["advisories"])
        bar = depaudit.Severity.parse(str(ctx.resources.get("vuln_bar", "high")))
        service = depaudit.OsvExportService.from_path(source)
        report = depaudit.audit_dependencies(service, source=source.name)
        over = report.at_least(bar)
        ids = ", ".join(f"{f.package} {f.version}: {f.id}" for f in over[:5])
        curated = (
            " (the bundled curated snapshot: a smoke test, not a full advisory database)"
            if source.resolve() == depaudit.CURATED_ADVISORIES.resolve()
            else ""
        )
        evidence = (
            f"{report.audited} packages audited against {source.name}, "
            f"{len(service.severities)} advisories{curated}; "
            f"{len(report.findings)} known vulnerabilities, {len(over)} at or above {bar.value}"
            + (f" ({ids})" if ids else "")
        )
        status = Status.PASS if not over else Status.FAIL
        return status, Figure("vulnerabilities_at_or_above_bar", float(len(over)), 0.0), evidence


@checks.register
class ConfigAuditClean(Check):
    """The deployment's settings and live gateway have no misconfiguration of medium or worse."""

    name = "supply_chain.config_audit_clean"
    area = Area.SUPPLY_CHAIN
    title = "Configuration audit clean (no finding of medium severity or worse)"
    requires = ("runtime", "base_url")

    def run(self, ctx: CheckContext) -> tuple[Status, Figure | None, str]:
        rt: Runtime = ctx["runtime"]
        findings = configaudit.audit_config(rt.settings, base_url=ctx["base_url"])
        bad = [f for f in findings if f.severity.at_least(depaudit.Severity.MEDIUM)]
        rules = ", ".join(sorted({f.rule for f in bad})) or "none"
        evidence = f"{len(findings)} findings ({len(bad)} medium or worse: {rules})"
        status = Status.PASS if not bad else Status.FAIL
        return status, Figure("findings_medium_or_worse", float(len(bad)), 0.0), evidence


@checks.register
class VendorsAssessed(Check):
    """Every active vendor has a complete, in-date assessment and no expired certification."""

    name = "compliance.vendors_assessed"
    area = Area.COMPLIANCE
    title = "Every vendor assessed, in date and certified"
    requires = ("runtime",)

    def run(self, ctx: CheckContext) -> tuple[Status, Figure | None, str]:
        rt: Runtime = ctx["runtime"]
        reg = VendorRegister(rt.engine)
        vendors = [v for v in reg.all() if v.status == "active"]
        if not vendors:
            if rt.settings.upstreams:
                return Status.FAIL, None, "upstream services configured but no vendor registered"
            return Status.PASS, None, "no vendors registered and no upstream services configured"
        bad: list[str] = []
        for v in vendors:
            rating = reg.rate(v.vendor_id)
            latest = reg.latest_assessment(v.vendor_id)
            if latest is None or not latest.complete or rating.overdue:
                bad.append(f"{v.vendor_id}: not assessed in date")
            elif rating.expired_certifications:
                bad.append(f"{v.vendor_id}: certification expired")
        ok = len(vendors) - len(bad)
        evidence = f"{ok}/{len(vendors)} vendors assessed and in date" + (
            f"; {'; '.join(bad[:5])}" if bad else ""
        )
        return (
            Status.PASS if not bad else Status.FAIL,
            Figure("vendors_in_date", ok / len(vendors), 1.0),
            evidence,
        )


@checks.register
class RecordsGenerated(Check):
    """The art. 30 record covers every consent purpose and each automated decision has a DPIA."""

    name = "compliance.records_generated"
    area = Area.COMPLIANCE
    title = "Record of processing, DPIAs and controls matrix generated"
    requires = ("runtime",)

    def run(self, ctx: CheckContext) -> tuple[Status, Figure | None, str]:
        rt: Runtime = ctx["runtime"]
        bundle: dict[str, Any] = records.generate_records(rt, scorecard=None)
        ropa = bundle["ropa"]
        gaps = ropa["consent_purposes_not_in_data_map"]
        expected = [
            f"{a.id}/{m}"
            for a in bundle["data_map"].activities
            if a.automated_decision
            for m in a.models
        ]
        drafted = {d["dpia"] for d in bundle["dpias"]}
        missing_dpia = [e for e in expected if e not in drafted]
        deployed = [d for d in bundle["dpias"] if d["model_facts"]["present"]]
        problems = []
        if gaps:
            problems.append(f"consent purposes missing from the data map: {', '.join(gaps)}")
        if missing_dpia:
            problems.append(f"no DPIA for {', '.join(missing_dpia)}")
        if len(deployed) < len(expected):
            problems.append("a DPIA names a model that is not deployed")
        evidence = (
            f"{len(ropa['activities'])} processing activities, {len(bundle['dpias'])} DPIAs, "
            f"{len(bundle['matrix'])} controls mapped"
            + (f"; {'; '.join(problems)}" if problems else "")
        )
        return (Status.PASS if not problems else Status.FAIL), None, evidence


@checks.register
class LiveGatewayHardened(Check):
    """What anyone can see of the gateway from outside: no admin route open without
    credentials, no CORS for arbitrary origins, no tracebacks, TLS and HSTS off loopback.

    The live half of ``supply_chain.config_audit_clean``, needing only the URL, so a
    remote run judges it; the settings half needs the deployment's host.
    """

    name = "supply_chain.live_gateway_hardened"
    area = Area.SUPPLY_CHAIN
    title = "Live gateway probe: no open admin route, open CORS, traceback or missing TLS"
    requires = ("base_url",)

    def run(self, ctx: CheckContext) -> tuple[Status, Figure | None, str]:
        findings = configaudit.audit_live(ctx["base_url"])
        bad = [f for f in findings if f.severity.at_least(depaudit.Severity.MEDIUM)]
        rules = ", ".join(sorted({f"{f.rule} ({f.where})" for f in bad})) or "none"
        evidence = f"{len(findings)} findings ({len(bad)} medium or worse: {rules})"
        status = Status.PASS if not bad else Status.FAIL
        return status, Figure("findings_medium_or_worse", float(len(bad)), 0.0), evidence

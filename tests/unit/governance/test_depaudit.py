"""Dependency audit: a real advisory fixture against fake installed-package lists."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from packaging.version import Version
from pip_audit._service import ConnectionError as AuditConnectionError
from pip_audit._service import ResolvedDependency, VulnerabilityService

from shopguard.core.errors import ConfigError, DataValidationError
from shopguard.governance.depaudit import (
    OsvExportService,
    Severity,
    audit_dependencies,
    load_osv_export,
    severity_from_osv,
)

FIXTURE = Path(__file__).parent / "fixtures" / "osv-real-advisories.json"


def _deps(**versions: str) -> list[ResolvedDependency]:
    return [ResolvedDependency(name=n, version=Version(v)) for n, v in versions.items()]


def test_audit_when_requests_2_19_installed_then_real_advisory_found_with_fix_and_severity():
    report = audit_dependencies(
        OsvExportService.from_path(FIXTURE), dependencies=_deps(requests="2.19.0")
    )
    assert report.audited == 1
    [f] = report.findings
    ids = {f.id, *f.aliases}
    assert {"GHSA-x84v-xcm2-53pg", "CVE-2018-18074", "PYSEC-2018-28"} <= ids
    assert f.fix_versions == ("2.20.0",)
    assert f.severity is Severity.CRITICAL
    assert f.cvss_score == pytest.approx(9.8)


@pytest.mark.parametrize(
    ("name", "version", "found"),
    [
        ("requests", "2.20.0", False),
        ("requests", "2.34.2", False),
        ("requests", "1.0", True),
        ("urllib3", "1.26.4", True),
        ("urllib3", "1.26.5", False),
        ("flask", "0.1", False),
    ],
)
def test_audit_when_version_on_either_side_of_fix_then_flagged_only_inside_range(
    name, version, found
):
    report = audit_dependencies(
        OsvExportService.from_path(FIXTURE), dependencies=_deps(**{name: version})
    )
    assert bool(report.findings) is found


def test_audit_when_fail_on_critical_then_high_finding_not_over_bar():
    report = audit_dependencies(
        OsvExportService.from_path(FIXTURE), dependencies=_deps(urllib3="1.26.4")
    )
    [f] = report.findings
    assert f.severity is Severity.HIGH and f.cvss_score == pytest.approx(7.5)
    assert report.at_least(Severity.CRITICAL) == []
    assert report.at_least(Severity.HIGH) == [f]


def test_severity_when_no_vector_then_database_label_else_unknown_gates_as_high():
    # Synthetic records: only the severity fields matter here.
    labelled = {"id": "X-1", "affected": [], "database_specific": {"severity": "MODERATE"}}
    assert severity_from_osv(labelled) == (Severity.MEDIUM, None)
    unknown, _ = severity_from_osv({"id": "X-2", "affected": []})
    assert unknown is Severity.UNKNOWN
    assert unknown.at_least(Severity.HIGH)
    assert not unknown.at_least(Severity.CRITICAL)


def test_load_when_folder_or_zip_or_api_answer_then_same_advisories(tmp_path):
    records = json.loads(FIXTURE.read_text())
    folder = tmp_path / "osv"
    folder.mkdir()
    for r in records:
        (folder / f"{r['id']}.json").write_text(json.dumps(r))
    zipped = tmp_path / "all.zip"
    with zipfile.ZipFile(zipped, "w") as zf:
        for r in records:
            zf.writestr(f"{r['id']}.json", json.dumps(r))
    api = tmp_path / "answer.json"
    api.write_text(json.dumps({"vulns": records}))
    expected = sorted(r["id"] for r in records)
    for path in (folder, zipped, api):
        assert sorted(a.id for a in load_osv_export(path)) == expected


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ("not json {", "not JSON"),
        ('"a string"', "expected OSV records"),
        ("[1, 2]", "record 1 is not a JSON object"),
        ('[{"affected": []}]', "has no 'id'"),
        ('[{"id": "GHSA-1"}]', "no 'affected' list"),
        ('[{"id": "GHSA-1", "affected": [{"package": {}}]}]', "package.name"),
        (
            '[{"id": "GHSA-1", "affected": [{"package": {"ecosystem": "PyPI", "name": "x"},'
            ' "ranges": [{"type": "ECOSYSTEM", "events": [{"fixed": "not a version!"}]}]}]}]',
            "not PEP 440",
        ),
    ],
)
def test_load_when_wrong_format_then_error_names_file_and_problem(tmp_path, content, needle):
    path = tmp_path / "advisories.json"
    path.write_text(content)
    with pytest.raises(DataValidationError) as err:
        load_osv_export(path)
    assert needle in str(err.value)
    assert "advisories.json" in str(err.value)


def test_load_when_file_missing_then_clear_error(tmp_path):
    with pytest.raises(DataValidationError, match="does not exist"):
        load_osv_export(tmp_path / "nope.json")


def test_audit_when_online_service_unreachable_then_config_error_suggests_offline_export():
    class Down(VulnerabilityService):
        def query(self, spec):
            raise AuditConnectionError("no route")

    with pytest.raises(ConfigError, match="--advisories"):
        audit_dependencies(Down(), dependencies=_deps(requests="2.19.0"))


def test_audit_when_online_service_answers_then_severity_looked_up_by_alias():
    from pip_audit._service import VulnerabilityResult

    class Online(VulnerabilityService):
        def query(self, spec):
            return spec, [
                VulnerabilityResult.create(
                    ids=["PYSEC-2018-28", "CVE-2018-18074"],
                    description="leak",
                    fix_versions=[Version("2.20.0")],
                    published=None,
                )
            ]

    sev = OsvExportService.from_path(FIXTURE).severities
    aliased = {"CVE-2018-18074": sev["GHSA-x84v-xcm2-53pg"]}
    report = audit_dependencies(Online(), dependencies=_deps(requests="2.19.0"), severities=aliased)
    assert report.findings[0].severity is Severity.CRITICAL
    bare = audit_dependencies(Online(), dependencies=_deps(requests="2.19.0"))
    assert bare.findings[0].severity is Severity.UNKNOWN


def test_curated_snapshot_when_loaded_then_valid_real_records_each_scored():
    from shopguard.governance.depaudit import CURATED_ADVISORIES

    advisories = load_osv_export(CURATED_ADVISORIES)
    assert len(advisories) >= 8
    assert all(a.id.startswith("GHSA-") and a.cvss_score is not None for a in advisories)
    old = audit_dependencies(
        OsvExportService(advisories), dependencies=_deps(pyjwt="2.3.0", certifi="2022.9.24")
    )
    assert {f.package for f in old.findings} == {"pyjwt", "certifi"}


def test_audit_when_online_service_skips_every_package_then_error_not_clean_pass():
    from pip_audit._service import SkippedDependency

    class NotFound(VulnerabilityService):
        def query(self, spec):
            return SkippedDependency(name=spec.name, skip_reason="not found on PyPI"), []

    with pytest.raises(ConfigError, match="could not audit any"):
        audit_dependencies(NotFound(), dependencies=_deps(requests="2.19.0", urllib3="1.26.4"))

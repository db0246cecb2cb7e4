"""Dependency audit: installed packages checked for known vulnerabilities with pip-audit.

Two advisory sources, both behind pip-audit's ``VulnerabilityService`` interface:

- online: pip-audit's own PyPI (default) or OSV service, when reachable;
- offline: :class:`OsvExportService`, over an OSV advisory export the user supplies
  (a JSON list of OSV records, one record, an OSV API ``{"vulns": [...]}`` answer,
  a folder of ``*.json`` records, or OSV's per-ecosystem ``all.zip``).

Each finding carries a severity: the CVSS v3/v4 base score when the advisory
gives a vector (scored with the ``cvss`` library), else the advisory database's
own label (GHSA ``LOW`` / ``MODERATE`` / ``HIGH`` / ``CRITICAL``), else
``unknown``. **Unknown severity gates like high**: a vulnerability nobody has
scored is never waved through as low.

References
----------
OSV schema, https://ossf.github.io/osv-schema/ ; pip-audit, https://github.com/pypa/pip-audit
"""

from __future__ import annotations

import importlib.metadata
import json
import logging
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, cast

import requests
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version
from pip_audit._service import (
    ConnectionError as AuditConnectionError,
)
from pip_audit._service import (
    Dependency,
    OsvService,
    PyPIService,
    ResolvedDependency,
    ServiceError,
    SkippedDependency,
    VulnerabilityResult,
    VulnerabilityService,
)

from shopguard.core.errors import ConfigError, DataValidationError

__all__ = [
    "CURATED_ADVISORIES",
    "Advisory",
    "DependencyAuditReport",
    "OsvExportService",
    "Severity",
    "VulnerabilityFinding",
    "audit_dependencies",
    "installed_dependencies",
    "load_osv_export",
    "online_service",
    "severity_from_osv",
]

logger = logging.getLogger(__name__)

#: A small curated set of real advisories shipped with shopguard (see advisories/README.md):
#: a smoke test of the gate for offline demos, not a vulnerability database.
CURATED_ADVISORIES = Path(__file__).parent / "advisories" / "pypi-curated.json"


class Severity(StrEnum):
    """Finding severity, shared by the dependency and configuration audits."""

    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"
    UNKNOWN = "unknown"

    @property
    def rank(self) -> int:
        # SECURITY: an unscored vulnerability gates like a high one (fail closed).
        return {
            Severity.INFO: 0,
            Severity.LOW: 1,
            Severity.MEDIUM: 2,
            Severity.HIGH: 3,
            Severity.UNKNOWN: 3,
            Severity.CRITICAL: 4,
        }[self]

    def at_least(self, bar: Severity) -> bool:
        return self.rank >= bar.rank

    @classmethod
    def parse(cls, value: str) -> Severity:
        v = value.strip().lower()
        if v == "moderate":
            return cls.MEDIUM
        try:
            return cls(v)
        except ValueError:
            raise DataValidationError(
                "unknown severity; expected one of " + ", ".join(s.value for s in cls)
            ) from None


def _cvss_band(score: float) -> Severity:
    if score >= 9.0:
        return Severity.CRITICAL
    if score >= 7.0:
        return Severity.HIGH
    if score >= 4.0:
        return Severity.MEDIUM
    if score > 0.0:
        return Severity.LOW
    return Severity.INFO


def severity_from_osv(record: Mapping[str, Any]) -> tuple[Severity, float | None]:
    """The severity (and CVSS base score, when known) of one OSV record."""
    from cvss import CVSS3, CVSS4
    from cvss.exceptions import CVSSError

    best: float | None = None
    for entry in record.get("severity") or ():
        if not isinstance(entry, dict):
            continue
        kind, vector = entry.get("type"), entry.get("score")
        if not isinstance(vector, str):
            continue
        try:
            if kind == "CVSS_V3":
                score = float(CVSS3(vector).base_score)
            elif kind == "CVSS_V4":
                score = float(CVSS4(vector).base_score)
            else:
                continue
        except (CVSSError, ValueError, KeyError):
            logger.warning("advisory %s: unreadable %s vector", record.get("id"), kind)
            continue
        best = score if best is None else max(best, score)
    if best is not None:
        return _cvss_band(best), best
    label = (record.get("database_specific") or {}).get("severity")
    if isinstance(label, str):
        try:
            return Severity.parse(label), None
        except DataValidationError:
            pass
    return Severity.UNKNOWN, None


@dataclass(frozen=True)
class Advisory:
    """An OSV advisory reduced to what matching needs."""

    id: str
    aliases: tuple[str, ...]
    summary: str
    severity: Severity
    cvss_score: float | None
    record: Mapping[str, Any]

    def affected_ranges(self, package: str) -> Iterator[Mapping[str, Any]]:
        for affected in self.record.get("affected", ()):
            pkg = affected.get("package", {})
            if pkg.get("ecosystem") == "PyPI" and canonicalize_name(pkg.get("name", "")) == package:
                yield affected

    def affects(self, package: str, version: Version) -> bool:
        for affected in self.affected_ranges(package):
            for v in affected.get("versions", ()):
                try:
                    if Version(v) == version:
                        return True
                except InvalidVersion:
                    continue
            for rng in affected.get("ranges", ()):
                if rng.get("type") == "ECOSYSTEM" and _in_range(rng.get("events", ()), version):
                    return True
        return False

    def fixed_versions(self, package: str) -> list[Version]:
        out = set()
        for affected in self.affected_ranges(package):
            for rng in affected.get("ranges", ()):
                for ev in rng.get("events", ()):
                    if "fixed" in ev:
                        try:
                            out.add(Version(ev["fixed"]))
                        except InvalidVersion:
                            continue
        return sorted(out)


def _in_range(events: Sequence[Mapping[str, str]], version: Version) -> bool:
    """OSV range evaluation: introduced opens, fixed closes (exclusive), last_affected (inclusive)."""

    def v(s: str) -> Version:
        return Version("0") if s == "0" else Version(s)

    intervals: list[tuple[Version, Version | None, bool]] = []
    start: Version | None = None
    for ev in sorted(events, key=lambda e: v(next(iter(e.values()))) if e else Version("0")):
        if "introduced" in ev:
            start = v(ev["introduced"])
        elif "fixed" in ev and start is not None:
            intervals.append((start, v(ev["fixed"]), False))
            start = None
        elif "last_affected" in ev and start is not None:
            intervals.append((start, v(ev["last_affected"]), True))
            start = None
    if start is not None:
        intervals.append((start, None, False))
    for lo, hi, inclusive in intervals:
        if version < lo:
            continue
        if hi is None or version < hi or (inclusive and version == hi):
            return True
    return False


def _records_from(obj: Any, source: str) -> list[Mapping[str, Any]]:
    if isinstance(obj, dict) and "vulns" in obj:
        obj = obj["vulns"]
    if isinstance(obj, dict):
        obj = [obj]
    if not isinstance(obj, list):
        raise DataValidationError(
            "expected OSV records: a JSON list of objects with 'id' and 'affected'", file=source
        )
    return obj


def _check_record(rec: Any, index: int, source: str) -> Advisory:
    where = f"record {index + 1}"
    if not isinstance(rec, dict):
        raise DataValidationError(f"{where} is not a JSON object", file=source)
    if not isinstance(rec.get("id"), str) or not rec["id"]:
        raise DataValidationError(f"{where} has no 'id'", file=source)
    rid = rec["id"][:64]
    affected = rec.get("affected")
    if not isinstance(affected, list):
        raise DataValidationError(f"{where} ({rid}) has no 'affected' list", file=source)
    for a in affected:
        pkg = a.get("package") if isinstance(a, dict) else None
        if not isinstance(pkg, dict) or not pkg.get("name") or not pkg.get("ecosystem"):
            raise DataValidationError(
                f"{where} ({rid}): each 'affected' entry needs package.name and package.ecosystem",
                file=source,
            )
        for rng in a.get("ranges", ()):
            events = rng.get("events") if isinstance(rng, dict) else None
            if not isinstance(events, list) or not all(isinstance(e, dict) for e in events):
                raise DataValidationError(
                    f"{where} ({rid}): a range has no 'events' list", file=source
                )
            if rng.get("type") == "ECOSYSTEM" and pkg.get("ecosystem") == "PyPI":
                for e in events:
                    for value in e.values():
                        if value != "0":
                            try:
                                Version(str(value))
                            except InvalidVersion:
                                raise DataValidationError(
                                    f"{where} ({rid}): version {str(value)[:30]!r} is not PEP 440",
                                    file=source,
                                ) from None
    severity, score = severity_from_osv(rec)
    summary = str(rec.get("summary") or rec.get("details") or "").replace("\n", " ")[:300]
    aliases = tuple(str(a) for a in rec.get("aliases", ()) if isinstance(a, str))
    return Advisory(rid, aliases, summary, severity, score, rec)


def load_osv_export(path: Path) -> list[Advisory]:
    """Read and check an OSV advisory export.

    Raises
    ------
    DataValidationError
        The file is missing, not JSON, or not OSV records; the message names the file and record.
    """
    source = path.name
    docs: list[tuple[str, str]] = []
    if path.is_dir():
        docs = [(p.name, p.read_text("utf-8")) for p in sorted(path.glob("*.json"))]
        if not docs:
            raise DataValidationError("folder holds no *.json OSV records", file=source)
    elif path.is_file() and zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as zf:
            docs = [
                (n, zf.read(n).decode("utf-8"))
                for n in sorted(zf.namelist())
                if n.endswith(".json")
            ]
    elif path.is_file():
        try:
            docs = [(source, path.read_text("utf-8"))]
        except UnicodeDecodeError:
            raise DataValidationError("not a UTF-8 JSON file", file=source) from None
    else:
        raise DataValidationError("advisory file does not exist", file=str(path))
    advisories: list[Advisory] = []
    for name, text in docs:
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as exc:
            raise DataValidationError(
                f"not JSON (line {exc.lineno}, column {exc.colno})", file=name
            ) from None
        for i, rec in enumerate(_records_from(obj, name)):
            advisories.append(_check_record(rec, i, name))
    return advisories


class OsvExportService(VulnerabilityService):  # type: ignore[misc]  # untyped base
    """pip-audit's service interface over a local OSV export (offline audits)."""

    def __init__(self, advisories: Sequence[Advisory]) -> None:
        self._by_package: dict[str, list[Advisory]] = {}
        for adv in advisories:
            for affected in adv.record.get("affected", ()):
                pkg = affected["package"]
                if pkg["ecosystem"] == "PyPI":
                    key = canonicalize_name(pkg["name"])
                    bucket = self._by_package.setdefault(key, [])
                    if adv not in bucket:
                        bucket.append(adv)
        self.severities: dict[str, tuple[Severity, float | None]] = {
            a.id: (a.severity, a.cvss_score) for a in advisories
        }

    @classmethod
    def from_path(cls, path: Path) -> OsvExportService:
        return cls(load_osv_export(path))

    def query(self, spec: Dependency) -> tuple[Dependency, list[VulnerabilityResult]]:
        if not isinstance(spec, ResolvedDependency):
            return spec, []
        results = []
        for adv in self._by_package.get(spec.canonical_name, ()):
            if adv.record.get("withdrawn"):
                continue
            if adv.affects(spec.canonical_name, spec.version):
                results.append(
                    VulnerabilityResult.create(
                        ids=[adv.id, *adv.aliases],
                        description=adv.summary,
                        fix_versions=adv.fixed_versions(spec.canonical_name),
                        published=None,
                    )
                )
        return spec, results


def online_service(kind: str = "pypi", *, timeout: int = 15) -> VulnerabilityService:
    """pip-audit's own online service (``pypi`` or ``osv``)."""
    if kind == "pypi":
        return PyPIService(timeout=timeout)
    if kind == "osv":
        return OsvService(timeout=timeout)
    raise ConfigError(f"unknown advisory service {kind!r}; expected pypi or osv")


def installed_dependencies(
    distributions: Iterable[importlib.metadata.Distribution] | None = None,
) -> list[Dependency]:
    """Installed distributions as pip-audit dependencies (unparsable versions are skipped)."""
    seen: dict[str, Dependency] = {}
    for dist in distributions if distributions is not None else importlib.metadata.distributions():
        name = dist.metadata["Name"] if dist.metadata is not None else None
        if not name or canonicalize_name(name) in seen:
            continue
        try:
            seen[canonicalize_name(name)] = ResolvedDependency(
                name=name, version=Version(dist.version)
            )
        except InvalidVersion:
            seen[canonicalize_name(name)] = SkippedDependency(
                name=name, skip_reason="version is not PEP 440"
            )
    return sorted(seen.values(), key=lambda d: d.canonical_name)


@dataclass(frozen=True)
class VulnerabilityFinding:
    package: str
    version: str
    id: str
    aliases: tuple[str, ...]
    severity: Severity
    cvss_score: float | None
    fix_versions: tuple[str, ...]
    summary: str

    def to_json(self) -> dict[str, Any]:
        return {
            "package": self.package,
            "version": self.version,
            "id": self.id,
            "aliases": list(self.aliases),
            "severity": self.severity.value,
            "cvss_score": self.cvss_score,
            "fix_versions": list(self.fix_versions),
            "summary": self.summary,
        }


@dataclass(frozen=True)
class DependencyAuditReport:
    source: str
    audited: int
    skipped: tuple[tuple[str, str], ...]
    findings: tuple[VulnerabilityFinding, ...]

    def at_least(self, bar: Severity) -> list[VulnerabilityFinding]:
        return [f for f in self.findings if f.severity.at_least(bar)]

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "audited": self.audited,
            "skipped": [{"package": p, "reason": r} for p, r in self.skipped],
            "findings": [f.to_json() for f in self.findings],
        }


def audit_dependencies(
    service: VulnerabilityService,
    *,
    dependencies: Sequence[Dependency] | None = None,
    severities: Mapping[str, tuple[Severity, float | None]] | None = None,
    source: str = "",
    on_progress: Callable[[str], None] | None = None,
) -> DependencyAuditReport:
    """Query ``service`` for every dependency (default: everything installed).

    ``severities`` maps advisory ids (any alias) to their severity; an
    :class:`OsvExportService` provides its own. Ids with none are ``unknown``.

    Raises
    ------
    ConfigError
        The online advisory service is unreachable or failed (use an offline export).
    """
    deps = list(dependencies) if dependencies is not None else installed_dependencies()
    sev = dict(severities or getattr(service, "severities", {}) or {})
    findings: list[VulnerabilityFinding] = []
    skipped: list[tuple[str, str]] = []
    audited = 0
    try:
        for dep, results in service.query_all(iter(deps)):
            if on_progress is not None:
                on_progress(dep.canonical_name)
            if isinstance(dep, SkippedDependency):
                skipped.append((dep.canonical_name, dep.skip_reason))
                continue
            audited += 1
            resolved = cast(ResolvedDependency, dep)
            for r in results:
                ids = [r.id, *sorted(r.aliases)]
                level, score = next((sev[i] for i in ids if i in sev), (Severity.UNKNOWN, None))
                findings.append(
                    VulnerabilityFinding(
                        package=resolved.canonical_name,
                        version=str(resolved.version),
                        id=str(r.id),
                        aliases=tuple(str(a) for a in sorted(r.aliases)),
                        severity=level,
                        cvss_score=score,
                        fix_versions=tuple(str(v) for v in r.fix_versions),
                        summary=r.description[:300],
                    )
                )
    except (AuditConnectionError, ServiceError, requests.RequestException) as exc:
        raise ConfigError(
            f"advisory service unavailable ({type(exc).__name__}); "
            "pass an OSV advisory export with --advisories"
        ) from None
    resolvable = sum(1 for d in deps if isinstance(d, ResolvedDependency))
    if resolvable and audited == 0:
        # SECURITY: a service that answered for nothing has not cleared anything (fail closed).
        raise ConfigError(
            f"the advisory service could not audit any of {resolvable} packages "
            f"({skipped[0][1][:80] if skipped else 'no answer'}); "
            "pass an OSV advisory export with --advisories"
        )
    findings.sort(key=lambda f: (-f.severity.rank, f.package, f.id))
    return DependencyAuditReport(source, audited, tuple(skipped), tuple(findings))

"""The risk register: threats ranked by likelihood x impact, with live control evidence.

The register starts from the threats shopguard knows (:class:`~.threats.Threat`),
each with a likelihood and impact on 1-5 scales (ISO 31000 style), an owner
role, and the controls that treat it. A control links to scorecard checks by
name pattern: the checks are its *live evidence*. :meth:`RiskRegister.assess`
takes the latest check results and recomputes each residual risk:

    coverage = sum(strength x passing / linked) / sum(strength)   (over the risk's controls)
    residual likelihood = likelihood x (1 - 0.75 x coverage)

so a control whose checks fail (or that has no evidence at all) reduces
nothing, and the residual rises back toward the inherent risk; even a risk whose
every control is proven keeps a quarter of its likelihood. Ratings and
owners can be changed (:meth:`RiskRegister.update`); the controls come from code.

References
----------
ISO 31000:2018 Risk management; NIST AI 100-1 (AI RMF 1.0) "Map" and "Measure" functions;
OWASP Machine Learning Security Top 10 (2023); MITRE ATLAS.
"""

from __future__ import annotations

import fnmatch
import html
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from shopguard.core.audit import AuditEvent, AuditLog
from shopguard.core.errors import DataValidationError, NotFoundError
from shopguard.core.events import Alert, EventBus, Severity
from shopguard.governance import ops_tables as t
from shopguard.governance.roles import Role
from shopguard.governance.threats import Threat

__all__ = [
    "DEFAULT_RISKS",
    "Assessment",
    "Control",
    "RiskRegister",
    "RiskSpec",
    "load_scorecard",
    "write_heatmap",
]


#: The most that proven controls take off a risk's likelihood.
_MAX_REDUCTION = 0.75


@dataclass(frozen=True)
class Control:
    id: str
    title: str
    checks: tuple[str, ...]  # fnmatch patterns over scorecard check ids
    strength: int = 2  # its weight among the risk's controls


@dataclass(frozen=True)
class RiskSpec:
    risk_id: str
    threat: Threat
    title: str
    likelihood: int
    impact: int
    owner: Role
    controls: tuple[Control, ...]
    refs: str


DEFAULT_RISKS: tuple[RiskSpec, ...] = (
    RiskSpec(
        "R-POISON",
        Threat.POISONING,
        "Poisoned reviews or transactions skew the ranker or the fraud model",
        4,
        4,
        Role.ML_ENGINEER,
        (
            Control("C-INGEST", "Integrity checks and quarantine on ingestion", ("integrity.*",)),
            Control("C-DRIFT", "Drift and output-shift monitoring", ("monitoring.*",), 1),
            Control(
                "C-ROLLBACK",
                "Model roll-back to a known-good version",
                ("operations.model_rollback",),
                1,
            ),
        ),
        "OWASP ML02; ATLAS AML.T0020",
    ),
    RiskSpec(
        "R-EXTRACT",
        Threat.EXTRACTION,
        "Competitors or fraudsters copy a model through its API",
        4,
        3,
        Role.SECURITY_ENGINEER,
        (
            Control("C-AUTH", "Authenticated, scoped API keys", ("api.*_refused",)),
            Control("C-RATE", "Rate limits per key and IP", ("api.flood_rate_limited",), 1),
            Control("C-WATCH", "Extraction watch and hardened outputs", ("model_theft.*",)),
            Control(
                "C-IR-EXT",
                "Extraction alerts become incidents with a playbook",
                ("monitoring.extraction_becomes_incident",),
                1,
            ),
        ),
        "OWASP ML05; ATLAS AML.T0024",
    ),
    RiskSpec(
        "R-EVASION",
        Threat.EVASION,
        "Crafted transactions or images evade the fraud or image models",
        4,
        4,
        Role.ML_ENGINEER,
        (
            Control(
                "C-ADV", "Unusual-input detection and adversarial training", ("adversarial.*",), 3
            ),
        ),
        "OWASP ML01; ATLAS AML.T0015",
    ),
    RiskSpec(
        "R-INJECT",
        Threat.PROMPT_INJECTION,
        "The shopping assistant is talked into leaking orders or calling tools",
        4,
        4,
        Role.SECURITY_ENGINEER,
        (
            Control(
                "C-ASSIST",
                "Injection detection, tool authorisation, leak filters",
                ("assistant.*",),
                3,
            ),
        ),
        "OWASP LLM01; ATLAS AML.T0051",
    ),
    RiskSpec(
        "R-BREACH",
        Threat.DATA_BREACH,
        "Customers' personal data is stolen or leaks through a model",
        3,
        5,
        Role.PRIVACY_OFFICER,
        (
            Control("C-PRIV", "PII detection, field encryption, consent", ("privacy.*",)),
            Control("C-AUDIT", "Tamper-evident audit log", ("operations.audit_*",), 1),
            Control("C-TENANT", "Tenant isolation", ("api.cross_tenant_read_refused",), 1),
        ),
        "GDPR Art. 32-34; OWASP ML04",
    ),
    RiskSpec(
        "R-VENDOR",
        Threat.VENDOR_COMPROMISE,
        "A compromised dependency, pre-trained model or vendor API",
        3,
        4,
        Role.SECURITY_ENGINEER,
        (Control("C-SUPPLY", "SBOM, dependency audit, artifact scanning", ("supply_chain.*",), 2),),
        "OWASP ML06; ATLAS AML.T0010",
    ),
    RiskSpec(
        "R-BIAS",
        Threat.BIAS,
        "Models treat groups of customers unfairly",
        3,
        3,
        Role.PRIVACY_OFFICER,
        (Control("C-FAIR", "Bias audits and mitigation", ("fairness.*",), 2),),
        "EU AI Act Art. 10; NIST AI 100-1",
    ),
    RiskSpec(
        "R-INSIDER",
        Threat.INSIDER_MISUSE,
        "Staff misuse access to models, keys or customer data",
        2,
        5,
        Role.ADMIN,
        (
            Control("C-MFA", "MFA on every privileged account", ("operations.privileged_mfa",), 1),
            Control("C-REVIEW", "Access reviews; no stale keys", ("operations.unused_keys",), 1),
            Control(
                "C-TRAIN",
                "Security training and drills in date",
                ("operations.training_in_date",),
                1,
            ),
        ),
        "ISO 27001 A.5.18, A.6.3",
    ),
)


@dataclass(frozen=True)
class ControlEvidence:
    control: Control
    linked: tuple[str, ...]
    passing: tuple[str, ...]
    failing: tuple[str, ...]

    @property
    def effectiveness(self) -> float:
        return len(self.passing) / len(self.linked) if self.linked else 0.0


@dataclass(frozen=True)
class Assessment:
    risk_id: str
    threat: Threat
    title: str
    owner: str
    likelihood: int
    impact: int
    residual_likelihood: float
    evidence: tuple[ControlEvidence, ...]

    @property
    def inherent(self) -> int:
        return self.likelihood * self.impact

    @property
    def residual(self) -> float:
        return round(self.residual_likelihood * self.impact, 1)

    @property
    def level(self) -> str:
        r = self.residual
        return "critical" if r >= 16 else "high" if r >= 10 else "medium" if r >= 5 else "low"

    def to_json(self) -> dict[str, Any]:
        return {
            "risk_id": self.risk_id,
            "threat": self.threat.value,
            "title": self.title,
            "owner": self.owner,
            "likelihood": self.likelihood,
            "impact": self.impact,
            "inherent": self.inherent,
            "residual_likelihood": round(self.residual_likelihood, 2),
            "residual": self.residual,
            "level": self.level,
            "controls": [
                {
                    "id": e.control.id,
                    "title": e.control.title,
                    "linked": list(e.linked),
                    "passing": list(e.passing),
                    "failing": list(e.failing),
                }
                for e in self.evidence
            ],
        }


def load_scorecard(path: Path) -> dict[str, str]:
    """``{check id: status}`` from a ``scorecard.json``."""
    try:
        data = json.loads(path.read_text("utf-8"))
        return {str(c["id"]): str(c["status"]) for c in data["checks"]}
    except (OSError, ValueError, KeyError, TypeError):
        raise DataValidationError("not a readable scorecard.json", file=str(path)) from None


class RiskRegister:
    def __init__(
        self,
        engine: Engine,
        audit: AuditLog,
        *,
        bus: EventBus | None = None,
        specs: tuple[RiskSpec, ...] = DEFAULT_RISKS,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self._engine = engine
        self._audit = audit
        self._bus = bus
        self.specs = {s.risk_id: s for s in specs}
        self._clock = clock or (lambda: datetime.now(UTC))
        self._last: dict[str, float] = {}

    def ensure_defaults(self) -> None:
        """Insert the built-in risks that are not in the register yet (idempotent)."""
        with self._engine.begin() as conn:
            have = set(conn.execute(sa.select(t.risks.c.risk_id)).scalars())
            rows = [
                {
                    "risk_id": s.risk_id,
                    "title": s.title,
                    "threat": s.threat.value,
                    "likelihood": s.likelihood,
                    "impact": s.impact,
                    "owner": s.owner.value,
                    "controls": json.dumps([c.id for c in s.controls]),
                    "updated_at": self._clock().isoformat(),
                }
                for s in self.specs.values()
                if s.risk_id not in have
            ]
            if rows:
                conn.execute(t.risks.insert(), rows)

    def update(
        self,
        risk_id: str,
        *,
        likelihood: int | None = None,
        impact: int | None = None,
        owner: str | None = None,
        actor: str,
    ) -> None:
        self.ensure_defaults()
        values: dict[str, Any] = {}
        for name, v in (("likelihood", likelihood), ("impact", impact)):
            if v is not None:
                if not 1 <= v <= 5:
                    raise DataValidationError(f"{name} must be 1-5", column=name)
                values[name] = v
        if owner is not None:
            values["owner"] = owner[:64]
        if not values:
            return
        values["updated_at"] = self._clock().isoformat()
        with self._engine.begin() as conn:
            n = conn.execute(
                t.risks.update().where(t.risks.c.risk_id == risk_id).values(**values)
            ).rowcount
        if n == 0:
            raise NotFoundError(f"no risk {risk_id}")
        self._audit.append(
            AuditEvent(
                action="risk.update",
                decision="allow",
                principal=actor,
                target=f"risk:{risk_id}",
                details={k: v for k, v in values.items() if k != "updated_at"},
            )
        )

    def assess(self, results: Mapping[str, str]) -> list[Assessment]:
        """The register ranked by residual risk given check ``results`` (id -> status).

        Publishes ``governance.risk.residual_up`` when a residual risk rose since the
        previous assessment by this register (a control's evidence started failing).
        """
        self.ensure_defaults()
        with self._engine.connect() as conn:
            rows = {r["risk_id"]: r for r in conn.execute(sa.select(t.risks)).mappings()}
        out = []
        for risk_id, row in rows.items():
            spec = self.specs.get(risk_id)
            controls = spec.controls if spec else ()
            evidence = []
            covered = 0.0
            for c in controls:
                linked = tuple(
                    sorted(n for n in results if any(fnmatch.fnmatchcase(n, p) for p in c.checks))
                )
                passing = tuple(n for n in linked if results[n] == "pass")
                failing = tuple(n for n in linked if results[n] in ("fail", "error"))
                ev = ControlEvidence(c, linked, passing, failing)
                evidence.append(ev)
                covered += c.strength * ev.effectiveness
            likelihood = int(row["likelihood"])
            total = sum(c.strength for c in controls)
            coverage = covered / total if total else 0.0
            residual_l = likelihood * (1 - _MAX_REDUCTION * coverage)
            a = Assessment(
                risk_id,
                Threat(row["threat"]),
                row["title"],
                row["owner"],
                likelihood,
                int(row["impact"]),
                residual_l,
                tuple(evidence),
            )
            out.append(a)
            prev = self._last.get(risk_id)
            if prev is not None and a.residual > prev and self._bus is not None:
                failing_all = sorted({f for e in evidence for f in e.failing})
                self._bus.publish(
                    Alert(
                        topic="governance.risk.residual_up",
                        severity=Severity.HIGH
                        if a.level in ("high", "critical")
                        else Severity.WARNING,
                        source="governance.risks",
                        summary=f"residual risk {risk_id} rose {prev} -> {a.residual}",
                        details={
                            "risk_id": risk_id,
                            "threat": a.threat.value,
                            "failing": failing_all,
                        },
                    )
                )
            self._last[risk_id] = a.residual
        out.sort(key=lambda a: (-a.residual, -a.inherent, a.risk_id))
        return out


def _band(score: float) -> int:
    """Colour band of a likelihood x impact score (the same cut-offs as ``Assessment.level``)."""
    return 3 if score >= 16 else 2 if score >= 10 else 1 if score >= 5 else 0


def write_heatmap(assessments: list[Assessment], out_dir: Path) -> tuple[Path, Path]:
    """Write ``risk-heatmap.png`` (likelihood x impact, inherent -> residual arrows) and
    ``risk-register.html`` (the ranked table with the chart); returns both paths."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap

    out_dir.mkdir(parents=True, exist_ok=True)
    grid = [[(lk * im) for im in range(1, 6)] for lk in range(1, 6)]
    cmap = ListedColormap(["#66bb6a", "#fdd835", "#fb8c00", "#e53935"])
    fig, ax = plt.subplots(figsize=(7, 6), dpi=110)
    ax.imshow(
        [[_band(v) for v in row] for row in grid],
        origin="lower",
        cmap=cmap,
        extent=(0.5, 5.5, 0.5, 5.5),
        alpha=0.55,
        vmin=0,
        vmax=4,
    )
    placed: dict[tuple[int, int], int] = {}
    for a in assessments:
        key = (a.impact, round(a.residual_likelihood))
        k = placed.get(key, 0)
        placed[key] = k + 1
        dx = 0.0
        dy = -0.2 * k
        if a.residual_likelihood != a.likelihood:
            ax.annotate(
                "",
                xy=(a.impact + dx, a.residual_likelihood + dy),
                xytext=(a.impact + dx, a.likelihood + dy),
                arrowprops={"arrowstyle": "->", "color": "#555", "lw": 1},
            )
        ax.plot(a.impact + dx, a.residual_likelihood + dy, "o", color="black", ms=6)
        ax.annotate(
            a.risk_id.removeprefix("R-"),
            (a.impact + dx, a.residual_likelihood + dy),
            textcoords="offset points",
            xytext=(4, 4),
            fontsize=7,
        )
    ax.set_xticks(range(1, 6))
    ax.set_yticks(range(1, 6))
    ax.set_xlabel("impact")
    ax.set_ylabel("likelihood (residual; arrow from inherent)")
    ax.set_title("shopguard risk heat map")
    fig.tight_layout()
    png = out_dir / "risk-heatmap.png"
    fig.savefig(png)
    plt.close(fig)
    rows = "\n".join(
        "<tr>"
        + "".join(
            f"<td>{html.escape(str(v))}</td>"
            for v in (
                i + 1,
                a.risk_id,
                a.threat.value,
                a.title,
                a.owner,
                a.inherent,
                a.residual,
                a.level,
                "; ".join(
                    f"{e.control.id}: {len(e.passing)}/{len(e.linked)} pass"
                    + (f" (failing {', '.join(e.failing)})" if e.failing else "")
                    for e in a.evidence
                ),
            )
        )
        + "</tr>"
        for i, a in enumerate(assessments)
    )
    page = out_dir / "risk-register.html"
    page.write_text(
        "<!doctype html><meta charset='utf-8'><title>shopguard risk register</title>"
        "<style>body{font-family:sans-serif;margin:2em}td,th{border:1px solid #ccc;padding:4px 8px}"
        "table{border-collapse:collapse}</style>"
        f"<h1>Risk register</h1><p>Generated {datetime.now(UTC).isoformat(timespec='seconds')}</p>"
        "<img src='risk-heatmap.png' alt='risk heat map'>"
        "<table><tr><th>#</th><th>risk</th><th>threat</th><th>title</th><th>owner</th>"
        "<th>inherent</th><th>residual</th><th>level</th><th>controls (live evidence)</th></tr>"
        f"{rows}</table>",
        "utf-8",
    )
    return png, page

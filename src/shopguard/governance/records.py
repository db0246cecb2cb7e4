"""Regulator-ready records: record of processing (GDPR art. 30), DPIAs (art. 35), controls matrix.

- The **record of processing activities** is generated from a declared data map
  (``<home>/datamap.json``, or the reference store's map built in here) and the
  consent ledger's purposes: every consent purpose appears, with how many
  customers granted or withdrew it; recipients come from the vendor register.
- A **DPIA** is drafted for each automated-decision model, pre-filled from its model
  card and metadata, its fairness audit when one is on file, and the data map;
  what is missing is listed as an open action, never filled in.
- The **controls matrix** maps each shopguard control to GDPR / CCPA articles, OWASP
  ML Top 10 (2023) and LLM Top 10 (2025) entries and MITRE ATLAS techniques, with the
  scorecard checks that evidence it and their latest status.

References
----------
GDPR art. 30, 35 and 22; EDPB/WP29 *Guidelines on DPIA* (WP248 rev.01); OWASP Machine
Learning Security Top 10 (2023); OWASP Top 10 for LLM Applications (2025); MITRE ATLAS.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from shopguard.core.errors import DataValidationError
from shopguard.core.runtime import Runtime
from shopguard.core.settings import Settings
from shopguard.governance.vendors import Clause, DataCategory, Vendor
from shopguard.privacy.consent import ConsentLedger, Purpose

__all__ = [
    "CONTROLS",
    "Activity",
    "Control",
    "DataMap",
    "LegalBasis",
    "controls_matrix",
    "default_data_map",
    "dpias",
    "draft_dpia",
    "generate_records",
    "load_data_map",
    "model_datasets",
    "record_of_processing",
]

DATAMAP_FILE = "datamap.json"


class LegalBasis(StrEnum):
    """GDPR art. 6(1) bases."""

    CONSENT = "consent"
    CONTRACT = "contract"
    LEGAL_OBLIGATION = "legal_obligation"
    VITAL_INTERESTS = "vital_interests"
    PUBLIC_TASK = "public_task"
    LEGITIMATE_INTERESTS = "legitimate_interests"

    @property
    def article(self) -> str:
        letter = "abcdef"[list(LegalBasis).index(self)]
        return f"GDPR art. 6(1)({letter})"


@dataclass(frozen=True)
class Activity:
    """One processing activity of the data map."""

    id: str
    name: str
    purpose: str
    legal_basis: LegalBasis
    consent_purpose: Purpose | None
    data_subjects: tuple[str, ...]
    data_categories: tuple[DataCategory, ...]
    models: tuple[str, ...] = ()
    datasets: tuple[str, ...] = ()
    routes: tuple[str, ...] = ()
    recipients: tuple[str, ...] = ()
    transfers: tuple[str, ...] = ()
    retention: str = "not declared"
    automated_decision: bool = False


@dataclass(frozen=True)
class DataMap:
    controller: str
    contact: str
    activities: tuple[Activity, ...]
    source: str = "built-in reference store map"


def default_data_map(controller: str = "the store operator") -> DataMap:
    """The reference store's data map (what shopguard's own store processes)."""
    customers = ("customers",)
    acts = (
        Activity(
            "orders", "Order fulfilment", "take, pay for and deliver orders",
            LegalBasis.CONTRACT, None, customers,
            (DataCategory.CONTACT, DataCategory.IDENTITY, DataCategory.ORDER_HISTORY,
             DataCategory.PAYMENT),
            datasets=("store/customers", "store/orders"), retention="6 years (tax records)",
        ),
        Activity(
            "fraud", "Payment fraud scoring", "decline or review likely fraudulent payments",
            LegalBasis.LEGITIMATE_INTERESTS, None, customers,
            (DataCategory.PAYMENT, DataCategory.ORDER_HISTORY, DataCategory.DEVICE,
             DataCategory.LOCATION),
            models=("fraud",), datasets=("store/transactions",), routes=("/v1/fraud/score",),
            retention="18 months after the transaction", automated_decision=True,
        ),
        Activity(
            "personalisation", "Product recommendations", "personalise product suggestions",
            LegalBasis.CONSENT, Purpose.PERSONALISATION, customers,
            (DataCategory.ORDER_HISTORY, DataCategory.BEHAVIOUR),
            models=("recommender",), datasets=("store/orders", "store/sessions"),
            routes=("/v1/recommendations/{customer_id}",), retention="while consent stands",
        ),
        Activity(
            "reviews", "Review ranking", "rank product reviews by expected helpfulness",
            LegalBasis.LEGITIMATE_INTERESTS, None, customers,
            (DataCategory.FREE_TEXT,), models=("reviews",), datasets=("store/reviews",),
            routes=("/v1/products/{product_id}/reviews", "/v1/reviews"),
            retention="while the review is published",
        ),
        Activity(
            "analytics", "Shop analytics", "measure how the shop is used",
            LegalBasis.CONSENT, Purpose.ANALYTICS, customers,
            (DataCategory.BEHAVIOUR, DataCategory.DEVICE), datasets=("store/sessions",),
            retention="13 months",
        ),
        Activity(
            "marketing", "Marketing e-mail", "send offers to customers who asked for them",
            LegalBasis.CONSENT, Purpose.MARKETING, customers,
            (DataCategory.CONTACT, DataCategory.ORDER_HISTORY), retention="until withdrawn",
        ),
        Activity(
            "training", "Model training", "train the recommender on purchase histories",
            LegalBasis.CONSENT, Purpose.MODEL_TRAINING, customers,
            (DataCategory.ORDER_HISTORY,), models=("recommender",), datasets=("store/orders",),
            retention="until the model is retrained without the customer",
        ),
    )  # fmt: skip
    return DataMap(controller, "privacy officer (see privacy notice)", acts)


def model_datasets(data_map: DataMap) -> dict[str, tuple[str, ...]]:
    """Model name -> the datasets the data map declares for its activities."""
    out: dict[str, list[str]] = {}
    for a in data_map.activities:
        for m in a.models:
            out.setdefault(m, [])
            out[m] += [d for d in a.datasets if d not in out[m]]
    return {m: tuple(ds) for m, ds in out.items()}


def _tuple_of_str(obj: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = obj.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise DataValidationError(f"{where}: {key!r} must be a list of strings", file=DATAMAP_FILE)
    return tuple(value)


def _activity(obj: Any, i: int) -> Activity:
    where = f"activity {i + 1}"
    if not isinstance(obj, dict):
        raise DataValidationError(f"{where} is not an object", file=DATAMAP_FILE)
    for key in ("id", "name", "purpose", "legal_basis"):
        if not isinstance(obj.get(key), str) or not obj[key].strip():
            raise DataValidationError(f"{where}: {key!r} is required", file=DATAMAP_FILE)
    try:
        basis = LegalBasis(obj["legal_basis"])
    except ValueError:
        raise DataValidationError(
            f"{where}: legal_basis must be one of {', '.join(b.value for b in LegalBasis)}",
            file=DATAMAP_FILE,
        ) from None
    consent = obj.get("consent_purpose")
    try:
        cp = Purpose(consent) if consent is not None else None
    except ValueError:
        raise DataValidationError(
            f"{where}: consent_purpose must be one of {', '.join(p.value for p in Purpose)}",
            file=DATAMAP_FILE,
        ) from None
    if basis is LegalBasis.CONSENT and cp is None:
        raise DataValidationError(
            f"{where}: a consent-based activity must name its consent_purpose", file=DATAMAP_FILE
        )
    try:
        cats = tuple(DataCategory(c) for c in _tuple_of_str(obj, "data_categories", where))
    except ValueError:
        raise DataValidationError(
            f"{where}: unknown data category; expected {', '.join(c.value for c in DataCategory)}",
            file=DATAMAP_FILE,
        ) from None
    return Activity(
        id=obj["id"],
        name=obj["name"],
        purpose=obj["purpose"],
        legal_basis=basis,
        consent_purpose=cp,
        data_subjects=_tuple_of_str(obj, "data_subjects", where) or ("customers",),
        data_categories=cats,
        models=_tuple_of_str(obj, "models", where),
        datasets=_tuple_of_str(obj, "datasets", where),
        routes=_tuple_of_str(obj, "routes", where),
        recipients=_tuple_of_str(obj, "recipients", where),
        transfers=_tuple_of_str(obj, "transfers", where),
        retention=str(obj.get("retention") or "not declared"),
        automated_decision=bool(obj.get("automated_decision", False)),
    )


def load_data_map(settings: Settings) -> DataMap:
    """``<home>/datamap.json`` when present, else :func:`default_data_map`.

    Raises
    ------
    DataValidationError
        The declared map is not JSON or a field is wrong (named, with the activity).
    """
    path = settings.home / DATAMAP_FILE
    if not path.is_file():
        return default_data_map()
    try:
        doc = json.loads(path.read_text("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise DataValidationError("not valid JSON", file=DATAMAP_FILE) from None
    if not isinstance(doc, dict) or not isinstance(doc.get("activities"), list):
        raise DataValidationError("expected an object with an 'activities' list", file=DATAMAP_FILE)
    acts = tuple(_activity(a, i) for i, a in enumerate(doc["activities"]))
    ids = [a.id for a in acts]
    if len(set(ids)) != len(ids):
        raise DataValidationError("activity ids must be unique", file=DATAMAP_FILE)
    return DataMap(
        str(doc.get("controller") or "the store operator"),
        str(doc.get("contact") or "not declared"),
        acts,
        source=DATAMAP_FILE,
    )


def _recipients(activity: Activity, vendors: Sequence[Vendor]) -> list[dict[str, Any]]:
    out = []
    for v in vendors:
        linked = (
            v.vendor_id in activity.recipients
            or set(v.depends.get("models", ())) & set(activity.models)
            or set(v.depends.get("datasets", ())) & set(activity.datasets)
            or set(v.depends.get("routes", ())) & set(activity.routes)
        )
        if linked:
            out.append(
                {
                    "vendor": v.vendor_id,
                    "name": v.name,
                    "role": v.supplies,
                    "personal_data": sorted(
                        c.value for c in set(v.personal_data) & set(activity.data_categories)
                    ),
                    "dpa_signed": bool(v.clauses.get(Clause.DATA_PROCESSING_AGREEMENT, False)),
                }
            )
    return out


def record_of_processing(
    data_map: DataMap,
    *,
    engine: Engine | None = None,
    vendors: Sequence[Vendor] = (),
    tenant: str = "default",
    clock: datetime | None = None,
) -> dict[str, Any]:
    """The art. 30(1) record: one entry per activity, every consent purpose covered."""
    ledger = ConsentLedger(engine) if engine is not None else None
    activities = list(data_map.activities)
    covered = {a.consent_purpose for a in activities if a.consent_purpose is not None}
    gaps = []
    for p in Purpose:
        if p not in covered:
            gaps.append(p.value)
            activities.append(
                Activity(
                    f"consent:{p.value}",
                    f"Consent purpose '{p.value}'",
                    "not described in the data map",
                    LegalBasis.CONSENT,
                    p,
                    ("customers",),
                    (),
                )
            )
    entries = []
    for a in activities:
        entry: dict[str, Any] = {
            "id": a.id,
            "name": a.name,
            "purpose": a.purpose,
            "legal_basis": a.legal_basis.value,
            "legal_basis_article": a.legal_basis.article,
            "data_subjects": list(a.data_subjects),
            "personal_data_categories": [c.value for c in a.data_categories],
            "special_or_sensitive": sorted(
                c.value
                for c in a.data_categories
                if c in {DataCategory.HEALTH, DataCategory.BIOMETRIC, DataCategory.CHILDREN}
            ),
            "systems": {
                "models": list(a.models),
                "datasets": list(a.datasets),
                "routes": list(a.routes),
            },
            "recipients": _recipients(a, vendors),
            "third_country_transfers": list(a.transfers) or ["none declared"],
            "retention": a.retention,
            "automated_decision_art22": a.automated_decision,
            "security_measures": [c.id for c in CONTROLS if "GDPR art. 32" in c.gdpr],
        }
        if a.consent_purpose is not None:
            entry["consent_purpose"] = a.consent_purpose.value
            if ledger is not None:
                decisions = ledger.decisions(tenant=tenant, purpose=a.consent_purpose)
                entry["consent"] = {
                    "granted": sum(1 for g in decisions.values() if g),
                    "refused_or_withdrawn": sum(1 for g in decisions.values() if not g),
                    "tenant": tenant,
                }
        entries.append(entry)
    return {
        "record": "GDPR art. 30(1) record of processing activities",
        "generated_at": (clock or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="seconds"),
        "controller": {"name": data_map.controller, "contact": data_map.contact},
        "data_map_source": data_map.source,
        "consent_purposes_not_in_data_map": gaps,
        "activities": entries,
    }


# -- controls matrix ---------------------------------------------------------------------


class Evidence(StrEnum):
    EVIDENCED = "evidenced"
    FAILING = "failing"
    NO_EVIDENCE = "no evidence"


@dataclass(frozen=True)
class Control:
    id: str
    title: str
    gdpr: tuple[str, ...] = ()
    ccpa: tuple[str, ...] = ()
    owasp_ml: tuple[str, ...] = ()
    owasp_llm: tuple[str, ...] = ()
    atlas: tuple[str, ...] = ()
    checks: tuple[str, ...] = ()
    areas: tuple[str, ...] = field(default=())


_SEC = "GDPR art. 32"
CONTROLS: tuple[Control, ...] = (
    Control("SG-AUTHN", "Every API route needs credentials (API keys, verified JWTs)",
            (_SEC, "GDPR art. 25"), ("CCPA 1798.100(e)", "CCPA 1798.150"), ("ML05",), ("LLM10",),
            ("AML.T0040", "AML.T0012"),
            ("api.no_credentials_refused", "api.wrong_key_refused", "api.expired_jwt_refused")),
    Control("SG-AUTHZ", "Scopes and tenant isolation on every route",
            (_SEC, "GDPR art. 25(2)"), ("CCPA 1798.100(e)",), ("ML05",), ("LLM02", "LLM06"),
            ("AML.T0040",), ("api.underscoped_key_refused", "api.cross_tenant_read_refused")),
    Control("SG-RATELIMIT", "Rate limits per key, IP and route",
            (_SEC,), ("CCPA 1798.100(e)",), ("ML05", "ML04"), ("LLM10",),
            ("AML.T0024", "AML.T0029", "AML.T0034"), ("api.flood_rate_limited",), ("model_theft",)),
    Control("SG-INPUT", "Input validation: size limits, schemas, unusual-input checks",
            (_SEC,), ("CCPA 1798.100(e)",), ("ML01",), ("LLM01", "LLM05"), ("AML.T0043", "AML.T0015"),
            ("api.oversized_body_refused", "api.malformed_json_refused"), ("adversarial",)),
    Control("SG-AUDIT", "Tamper-evident audit log of every security decision",
            ("GDPR art. 5(2)", "GDPR art. 30", "GDPR art. 33(5)"), ("CCPA 1798.185(a)(15)",),
            (), (), (), ("operations.audit_log_intact", "operations.audit_tamper_detected")),
    Control("SG-CONSENT", "Consent ledger enforced for personalisation and training",
            ("GDPR art. 6(1)(a)", "GDPR art. 7", "GDPR art. 21"), ("CCPA 1798.120", "CCPA 1798.121"),
            (), ("LLM02",), (), ("privacy.consent_opt_out_honoured",)),
    Control("SG-ENCRYPT", "Field encryption under a rotating key ring; crypto-shredding",
            (_SEC, "GDPR art. 34(3)(a)", "GDPR art. 17"), ("CCPA 1798.150", "CCPA 1798.105"),
            ("ML03", "ML04"), ("LLM02",), ("AML.T0025",), (), ("privacy",)),
    Control("SG-POISON", "Poisoning checks and quarantine on ingested reviews and transactions",
            ("GDPR art. 5(1)(d)", _SEC), (), ("ML02", "ML10"), ("LLM04",), ("AML.T0020",), (),
            ("integrity",)),
    Control("SG-MODELSEC", "Signed model vault, artifact scanning, extraction watch, watermarks",
            (_SEC,), (), ("ML05", "ML06", "ML10"), ("LLM03",), ("AML.T0024", "AML.T0010"), (),
            ("model_theft",)),
    Control("SG-ASSISTANT", "Prompt-injection detection, leak filters, tool authorisation",
            (_SEC, "GDPR art. 5(1)(f)"), ("CCPA 1798.100(e)",), (),
            ("LLM01", "LLM02", "LLM05", "LLM06", "LLM07"), ("AML.T0051", "AML.T0054", "AML.T0057"),
            (), ("assistant",)),
    Control("SG-FAIRNESS", "Bias audits and transparency reports for automated decisions",
            ("GDPR art. 5(1)(a)", "GDPR art. 22", "GDPR art. 35"), ("CCPA 1798.185(a)(16)",),
            ("ML08",), ("LLM09",), (), (), ("fairness",)),
    Control("SG-MONITOR", "Drift and output-shift monitoring with alerts",
            ("GDPR art. 32(1)(d)",), (), ("ML08", "ML09"), ("LLM09",), ("AML.T0015",), (),
            ("monitoring",)),
    Control("SG-SBOM", "AI bill of materials: packages, models, datasets, services",
            ("GDPR art. 32(1)(d)", "GDPR art. 30"), (), ("ML06",), ("LLM03",), ("AML.T0010",),
            ("supply_chain.sbom_complete",)),
    Control("SG-DEPAUDIT", "Known-vulnerable dependencies gate releases",
            ("GDPR art. 32(1)(d)",), ("CCPA 1798.100(e)",), ("ML06",), ("LLM03",), ("AML.T0010",),
            ("supply_chain.no_vulnerable_dependencies",)),
    Control("SG-CONFIG", "Deployment configuration audit gates releases",
            ("GDPR art. 25", _SEC), ("CCPA 1798.100(e)",), (), (), ("AML.T0049",),
            ("supply_chain.config_audit_clean",)),
    Control("SG-VENDORS", "Vendor risk register: assessments, clauses, monitoring",
            ("GDPR art. 28", "GDPR art. 32(4)", "GDPR art. 44"), ("CCPA 1798.100(d)",),
            ("ML06", "ML07"), ("LLM03",), ("AML.T0010",), ("compliance.vendors_assessed",)),
    Control("SG-RECORDS", "Record of processing, DPIAs and this matrix, generated from the system",
            ("GDPR art. 30", "GDPR art. 35", "GDPR art. 22(3)"), ("CCPA 1798.185(a)(15)",),
            (), (), (), ("compliance.records_generated",)),
)  # fmt: skip


def controls_matrix(scorecard: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """Each control with its mappings and the status of the scorecard checks that evidence it.

    A control is *evidenced* when at least one of its checks (named, or in its areas)
    passed and none failed; *failing* when any failed or errored; otherwise *no evidence*
    (skipped checks are not evidence).
    """
    results = [c for c in (scorecard or {}).get("checks", []) if isinstance(c, dict)]
    rows = []
    for ctl in CONTROLS:
        mine = [r for r in results if r.get("id") in ctl.checks or r.get("area") in ctl.areas]
        statuses = [str(r.get("status")) for r in mine]
        if any(s in {"fail", "error"} for s in statuses):
            state = Evidence.FAILING
        elif any(s == "pass" for s in statuses):
            state = Evidence.EVIDENCED
        else:
            state = Evidence.NO_EVIDENCE
        rows.append(
            {
                "control": ctl.id,
                "title": ctl.title,
                "gdpr": list(ctl.gdpr),
                "ccpa": list(ctl.ccpa),
                "owasp_ml_top10_2023": list(ctl.owasp_ml),
                "owasp_llm_top10_2025": list(ctl.owasp_llm),
                "mitre_atlas": list(ctl.atlas),
                "evidence": state.value,
                "checks": [
                    {"id": r.get("id"), "status": r.get("status"), "evidence": r.get("evidence")}
                    for r in mine
                ],
            }
        )
    return rows


# -- DPIA ------------------------------------------------------------------------------

_DPIA_RISKS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("Discriminatory or unfair outcomes for groups of customers", "high", ("SG-FAIRNESS",)),
    ("Wrong automated decisions (e.g. a legitimate payment declined)", "high",
     ("SG-MONITOR", "SG-FAIRNESS")),
    ("Evasion by crafted inputs, letting harmful activity through", "medium",
     ("SG-INPUT", "SG-POISON")),
    ("Poisoned training data skewing decisions", "medium", ("SG-POISON",)),
    ("Model theft or inversion exposing training data", "medium",
     ("SG-RATELIMIT", "SG-MODELSEC", "SG-AUTHZ")),
    ("Breach of the personal data the model uses", "high", ("SG-ENCRYPT", "SG-AUTHN", "SG-AUDIT")),
    ("Opaque decisions the customer cannot contest", "medium", ("SG-FAIRNESS", "SG-RECORDS")),
)  # fmt: skip


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        doc = json.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    return doc if isinstance(doc, dict) else None


def draft_dpia(
    activity: Activity,
    model: str,
    *,
    settings: Settings,
    matrix: Sequence[Mapping[str, Any]],
    vendors: Sequence[Vendor] = (),
) -> dict[str, Any]:
    """A DPIA draft for ``model`` used in ``activity`` (art. 35(7) structure)."""
    model_dir = settings.models_dir / model
    actions: list[str] = []
    facts: dict[str, Any] = {"path": str(model_dir), "present": model_dir.is_dir()}
    card: dict[str, Any] | None = None
    for name in ("model_card.json", "card.json"):
        card = card or _read_json(model_dir / name)
    if card is None and (model_dir / "model_card.md").is_file():
        card = {"markdown": (model_dir / "model_card.md").read_text("utf-8")[:4000]}
    if card is None:
        actions.append("write a model card (intended use, limits, evaluation) for this model")
    for meta_name in ("model.json", "recommender.json", "review_ranker.json"):
        meta = _read_json(model_dir / meta_name)
        if meta:
            facts["metadata"] = {
                k: meta[k] for k in ("format", "feature_names", "shopguard_version") if k in meta
            }
    metrics = _read_json(model_dir / "metrics.json")
    if metrics:
        facts["metrics"] = metrics
    fairness = None
    for candidate in (
        model_dir / "fairness.json",
        settings.home / "reports" / "fairness" / f"{model}.json",
    ):
        fairness = fairness or _read_json(candidate)
    if fairness is None:
        actions.append("run a fairness audit and attach it (shopguard fairness)")
    if not model_dir.is_dir():
        actions.append("the model is declared in the data map but not deployed under models/")
    by_id = {row["control"]: row for row in matrix}
    risks = []
    for text, inherent, controls in _DPIA_RISKS:
        states = {c: by_id[c]["evidence"] if c in by_id else "no evidence" for c in controls}
        evidenced = all(s == Evidence.EVIDENCED for s in states.values())
        residual = "low" if evidenced else inherent
        if not evidenced:
            actions.append(
                f"evidence controls {', '.join(c for c, s in states.items() if s != 'evidenced')} "
                f"against: {text.lower()}"
            )
        risks.append({"risk": text, "inherent": inherent, "controls": states, "residual": residual})
    residual_high = any(r["residual"] == "high" for r in risks)
    return {
        "dpia": f"{activity.id}/{model}",
        "article": "GDPR art. 35(7); art. 22 (automated individual decision-making)",
        "description": {
            "activity": activity.name,
            "purpose": activity.purpose,
            "model": model,
            "legal_basis": activity.legal_basis.article,
            "data_subjects": list(activity.data_subjects),
            "personal_data": [c.value for c in activity.data_categories],
            "datasets": list(activity.datasets),
            "routes": list(activity.routes),
            "recipients": _recipients(activity, vendors),
            "retention": activity.retention,
        },
        "model_facts": facts,
        "model_card": card,
        "fairness_audit": fairness,
        "necessity_and_proportionality": {
            "legal_basis": activity.legal_basis.value,
            "data_minimisation": "only the categories listed are processed",
            "retention": activity.retention,
            "rights": "access, rectification, erasure via shopguard privacy dsar; "
            "human review of automated decisions on request (art. 22(3))",
        },
        "risks": risks,
        "residual_risk": "high" if residual_high else "acceptable",
        "prior_consultation_needed": residual_high,
        "open_actions": actions,
        "status": "draft: for the DPO's review and sign-off",
    }


def dpias(
    data_map: DataMap,
    *,
    settings: Settings,
    matrix: Sequence[Mapping[str, Any]],
    vendors: Sequence[Vendor] = (),
) -> list[dict[str, Any]]:
    """One DPIA per model of every automated-decision activity."""
    return [
        draft_dpia(a, m, settings=settings, matrix=matrix, vendors=vendors)
        for a in data_map.activities
        if a.automated_decision
        for m in a.models
    ]


def generate_records(
    rt: Runtime,
    *,
    scorecard: Mapping[str, Any] | None,
    tenant: str = "default",
    clock: datetime | None = None,
) -> dict[str, Any]:
    """The data map, art. 30 record, controls matrix and DPIAs of a deployment."""
    from shopguard.governance.vendors import VendorRegister

    data_map = load_data_map(rt.settings)
    vendors = VendorRegister(rt.engine).all()
    matrix = controls_matrix(scorecard)
    return {
        "data_map": data_map,
        "ropa": record_of_processing(
            data_map, engine=rt.engine, vendors=vendors, tenant=tenant, clock=clock
        ),
        "matrix": matrix,
        "dpias": dpias(data_map, settings=rt.settings, matrix=matrix, vendors=vendors),
    }

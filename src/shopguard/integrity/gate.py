"""The training gate: training data must pass integrity checks before a model learns from it.

:func:`audit_fraud_training_data` checks a labelled transaction table --
duplicate transaction ids, exact duplicate rows, and flipped labels (the
label audit of :mod:`.labels` on the store's fraud features, a sample of at
most ``max_rows``) -- and returns an :class:`IntegrityReport` holding the
SHA-256 of the data, each check's figure and bar, and whether all passed.
``shopguard train`` refuses data whose report fails unless the operator
accepts the risk with a reason (audited), and writes the report beside the
model (``integrity.json``): every model records what it was trained on.

:func:`audit_review_training_data` (the review ranker's data) checks duplicate
review ids and the share of reviews the fake-review scorer flags (text plus
behaviour: bursts, copies across accounts, rating deviation, cliques);
:func:`audit_recommender_training_data` (the recommender's user -> item
sequences) checks the share of profiles the shilling detector flags, the
detector learning from a trusted reference history when one is given.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "GateCheck",
    "IntegrityReport",
    "audit_fraud_training_data",
    "audit_recommender_training_data",
    "audit_review_training_data",
    "data_hash",
    "record_override",
    "sequences_hash",
]

REPORT_FILE = "integrity.json"


def data_hash(frame: pd.DataFrame) -> str:
    """SHA-256 over the table's columns and values (row order included)."""
    h = hashlib.sha256()
    h.update(json.dumps([str(c) for c in frame.columns]).encode())
    h.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return h.hexdigest()


@dataclass(frozen=True)
class GateCheck:
    name: str
    value: float
    bar: float
    passed: bool
    detail: str


@dataclass(frozen=True)
class IntegrityReport:
    """What the gate found about one training table."""

    data_sha256: str
    rows: int
    checks: tuple[GateCheck, ...] = field(default_factory=tuple)

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    def failures(self) -> list[str]:
        return [f"{c.name} {c.value:.4f} > {c.bar}" for c in self.checks if not c.passed]

    def to_json(self) -> dict[str, Any]:
        return {
            "data_sha256": self.data_sha256,
            "rows": self.rows,
            "passed": self.passed,
            "checks": [asdict(c) for c in self.checks],
        }

    def write(self, model_dir: Path, *, accepted_risk: str | None = None) -> Path:
        model_dir.mkdir(parents=True, exist_ok=True)
        path = model_dir / REPORT_FILE
        body = {**self.to_json(), "accepted_risk": accepted_risk}
        path.write_text(json.dumps(body, indent=2) + "\n", "utf-8")
        return path


def audit_fraud_training_data(
    tx: pd.DataFrame,
    *,
    label_column: str = "TX_FRAUD",
    max_duplicate_share: float = 0.0,
    max_suspected_share: float = 0.15,
    max_rows: int = 6000,
    random_state: int = 0,
) -> IntegrityReport:
    """Check a validated transaction table (the fraud model's training data)."""
    from shopguard.integrity.labels import LabelIssueDetector
    from shopguard.store.fraud import feature_frame

    n = len(tx)
    checks = []
    dup_ids = float(tx["TRANSACTION_ID"].duplicated().mean()) if n else 0.0
    checks.append(
        GateCheck(
            "duplicate_transaction_ids",
            dup_ids,
            max_duplicate_share,
            dup_ids <= max_duplicate_share,
            "share of rows whose TRANSACTION_ID appeared before",
        )
    )
    content = [c for c in tx.columns if c != "TRANSACTION_ID"]
    dup_rows = float(tx.duplicated(subset=content).mean()) if n else 0.0
    checks.append(
        GateCheck(
            "duplicate_rows",
            dup_rows,
            max_duplicate_share,
            dup_rows <= max_duplicate_share,
            "share of rows identical to an earlier one apart from the id",
        )
    )
    y = tx[label_column].to_numpy(dtype=np.int64)
    if n >= 100 and 0 < y.sum() < n:
        feats = feature_frame(tx).to_numpy(dtype=np.float64)
        rng = np.random.default_rng(random_state)
        pos, neg = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
        keep_neg = min(len(neg), max(100, max_rows - len(pos)))
        idx = np.sort(np.r_[pos[:max_rows], rng.choice(neg, keep_neg, replace=False)])
        det = LabelIssueDetector(rounds=1, folds=3, random_state=random_state).fit(
            feats[idx], y[idx]
        )
        share = float(det.suspected_.mean())
        checks.append(
            GateCheck(
                "suspected_flipped_labels",
                share,
                max_suspected_share,
                share <= max_suspected_share,
                f"confident-learning label audit on {len(idx)} rows",
            )
        )
    return IntegrityReport(data_hash(tx), n, tuple(checks))


def record_override(report: IntegrityReport, *, reason: str, model: str) -> None:
    """Audit an operator's decision to train on data that failed its checks (fail closed:
    without a durable audit entry the override does not happen)."""
    from shopguard.core.audit import AuditEvent
    from shopguard.core.runtime import Runtime
    from shopguard.core.settings import load_settings

    rt = Runtime.open(load_settings())
    try:
        rt.audit.append(
            AuditEvent(
                action="integrity.training_gate.override",
                decision="accepted_risk",
                principal="cli",
                target=f"model:{model}",
                findings=tuple(report.failures()),
                details={"reason": reason, "data_sha256": report.data_sha256, "rows": report.rows},
            )
        )
    finally:
        rt.close()


def sequences_hash(sequences: Mapping[str, Sequence[str]]) -> str:
    """SHA-256 over user -> item sequences (user order and item order included)."""
    h = hashlib.sha256()
    for user, items in sequences.items():
        h.update(json.dumps([str(user), [str(i) for i in items]]).encode())
        h.update(b"\n")
    return h.hexdigest()


def audit_review_training_data(
    reviews: pd.DataFrame,
    *,
    max_duplicate_share: float = 0.0,
    max_flagged_share: float = 0.10,
    scorer: Any = None,
) -> IntegrityReport:
    """Check a reviews table (the review ranker's training data).

    Columns as :func:`shopguard.store.reviews.load_reviews` reads them (``review_id``,
    ``product_id``, ``customer_id``, ``rating``, ``text``, ``created_at``,
    ``verified_purchase``). The flagged-share bar (10 %) sits above what the shipped
    scorer flags on a generated store's honest reviews (about 3 %) and below a
    campaign that makes a tenth of the table.
    """
    from shopguard.integrity.reviews import ReviewScorer

    n = len(reviews)
    checks = []
    if "review_id" in reviews.columns:
        dup = float(reviews["review_id"].astype(str).duplicated().mean()) if n else 0.0
        checks.append(
            GateCheck(
                "duplicate_review_ids",
                dup,
                max_duplicate_share,
                dup <= max_duplicate_share,
                "share of rows whose review_id appeared before",
            )
        )
    if n:
        frame = pd.DataFrame(
            {
                "id": (
                    reviews["review_id"].astype(str)
                    if "review_id" in reviews.columns
                    else pd.Series(range(n), dtype=str)
                ).to_numpy(),
                "text": reviews["text"].fillna("").astype(str).to_numpy(),
                "rating": pd.to_numeric(reviews["rating"]).to_numpy(),
            }
        )
        for src, dst in (
            ("product_id", "product_id"),
            ("customer_id", "reviewer_id"),
            ("created_at", "created_at"),
            ("verified_purchase", "verified_purchase"),
        ):
            if src in reviews.columns:
                frame[dst] = reviews[src].to_numpy()
        scored = (scorer or ReviewScorer.load_default()).score_frame(frame)
        share = float(scored["flagged"].mean())
        checks.append(
            GateCheck(
                "suspected_fake_reviews",
                share,
                max_flagged_share,
                share <= max_flagged_share,
                f"share of {n} reviews the fake-review scorer (text + behaviour) flags",
            )
        )
    return IntegrityReport(data_hash(reviews), n, tuple(checks))


def audit_recommender_training_data(
    sequences: Mapping[str, Sequence[str]],
    *,
    reference: Mapping[str, Sequence[str]] | None = None,
    max_flagged_share: float = 0.01,
    random_state: int = 0,
) -> IntegrityReport:
    """Check user -> item sequences (the recommender's training data) for shilling profiles.

    The shilling detector learns from ``reference`` (a trusted, earlier history, e.g.
    the data the serving model was trained on) plus attacks it simulates on it, then
    scores every profile of ``sequences``.

    Warnings
    --------
    Without ``reference`` the detector learns from the audited data itself; injected
    profiles then shape its notion of normal (the pushed product looks popular, the
    shills look like a coherent segment) and a coordinated attack of a few percent of
    the profiles can pass. The check's detail says which reference was used.
    """
    from shopguard.integrity.shilling import ShillingDetector

    checks = []
    n = len(sequences)
    ref = reference if reference is not None else sequences
    if n and len(ref) >= 20:
        det = ShillingDetector(random_state=random_state).fit(ref)
        share = float(det.flag(sequences).mean())
        checks.append(
            GateCheck(
                "suspected_shilling_profiles",
                share,
                max_flagged_share,
                share <= max_flagged_share,
                f"share of {n} profiles the shilling detector flags; reference: "
                + (
                    f"trusted history of {len(ref)} profiles"
                    if reference is not None
                    else "the audited data itself (no --reference; blind to large coordinated attacks)"
                ),
            )
        )
    return IntegrityReport(sequences_hash(sequences), n, tuple(checks))

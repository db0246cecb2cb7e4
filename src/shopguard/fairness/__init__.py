"""Fairness and transparency: bias audits, mitigation, reason codes, model cards, reports.

The public API is re-exported here; submodules starting with ``_`` are private.
"""

from shopguard.fairness.audit import (
    AuditResult,
    FairnessBars,
    GroupStats,
    Interval,
    Verdict,
    audit_predictions,
)
from shopguard.fairness.dataset import ProxyFinding, RepresentationRow, proxy_scan, representation
from shopguard.fairness.mitigation import (
    Constraint,
    ExponentiatedGradient,
    GroupThresholdOptimizer,
    Mitigation,
    reweighing_weights,
)
from shopguard.fairness.ranking import ExposureRow, PriceRow, exposure_audit, price_audit

__all__ = [
    "AuditResult",
    "Constraint",
    "ExponentiatedGradient",
    "ExposureRow",
    "FairnessBars",
    "GroupStats",
    "GroupThresholdOptimizer",
    "Interval",
    "Mitigation",
    "PriceRow",
    "ProxyFinding",
    "RepresentationRow",
    "Verdict",
    "audit_predictions",
    "exposure_audit",
    "price_audit",
    "proxy_scan",
    "representation",
    "reweighing_weights",
]

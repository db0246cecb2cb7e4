"""Imports every module that registers scorecard checks, so the registry is complete."""

from __future__ import annotations

from shopguard.adversarial import checks as adversarial_checks
from shopguard.assistant import checks as assistant_checks
from shopguard.console import checks as console_checks
from shopguard.core import checks as core_checks
from shopguard.fairness import checks as fairness_checks
from shopguard.gateway import checks as gateway_checks
from shopguard.governance import checks as governance_checks
from shopguard.governance import ops_checks
from shopguard.integrity import checks as integrity_checks
from shopguard.modelsec import checks as modelsec_checks
from shopguard.privacy import checks as privacy_checks

__all__ = [
    "adversarial_checks",
    "assistant_checks",
    "console_checks",
    "core_checks",
    "fairness_checks",
    "gateway_checks",
    "governance_checks",
    "integrity_checks",
    "modelsec_checks",
    "ops_checks",
    "privacy_checks",
]

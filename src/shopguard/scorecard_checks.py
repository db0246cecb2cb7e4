"""Imports every module that registers scorecard checks, so the registry is complete."""

from __future__ import annotations

from shopguard.adversarial import checks as adversarial_checks
from shopguard.core import checks as core_checks
from shopguard.gateway import checks as gateway_checks
from shopguard.privacy import checks as privacy_checks

__all__ = ["adversarial_checks", "core_checks", "gateway_checks", "privacy_checks"]

"""Imports every module that registers scorecard checks, so the registry is complete."""

from __future__ import annotations

from shopguard.core import checks as core_checks
from shopguard.gateway import checks as gateway_checks
from shopguard.integrity import checks as integrity_checks
from shopguard.privacy import checks as privacy_checks

__all__ = ["core_checks", "gateway_checks", "integrity_checks", "privacy_checks"]

"""Imports every module that registers scorecard checks, so the registry is complete."""

from __future__ import annotations

from shopguard.assistant import checks as assistant_checks
from shopguard.console import checks as console_checks
from shopguard.core import checks as core_checks
from shopguard.gateway import checks as gateway_checks
from shopguard.governance import ops_checks
from shopguard.privacy import checks as privacy_checks

__all__ = [
    "assistant_checks",
    "console_checks",
    "core_checks",
    "gateway_checks",
    "ops_checks",
    "privacy_checks",
]

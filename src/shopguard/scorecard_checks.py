"""Imports every module that registers scorecard checks, so the registry is complete."""

from __future__ import annotations

import shopguard.core.checks
import shopguard.gateway.checks  # noqa: F401

"""Every defence configuration can turn off, and the check that fails when it is off.

A *toggle* is one defence named in configuration: each guard of the gateway's guard
registry (``gateway_guards``), each of the assistant's defences (``assistant_guards``)
and the request body limit. :data:`CHECK_FOR` names the scorecard check (or attack,
``attack.<name>``) that passes with the defence on and fails with it off;
``tests/integration/test_guard_toggles.py`` proves it for every entry, and
``tests/unit/redteam/test_toggles.py`` fails when a defence is registered without one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shopguard.assistant.service import GUARD_NAMES
from shopguard.core.settings import Settings

__all__ = ["CHECK_FOR", "NO_CHECK_YET", "Toggle", "registered_toggles", "toggle", "toggles"]

#: The check that fails when the toggle is off.
CHECK_FOR: dict[str, str] = {
    "gateway_guards:authn": "api.no_credentials_refused",
    "gateway_guards:authz": "api.underscoped_key_refused",
    "gateway_guards:rate_limit": "api.flood_rate_limited",
    "gateway_guards:ops.containment": "operations.containment_enforced",
    "gateway_guards:extraction_watch": "attack.extraction.knockoff",
    "gateway_guards:extraction_degrade": "model_theft.degraded_outputs_coarsened",
    "gateway_guards:adversarial.unusual_input": "adversarial.attacked_uploads_refused",
    "assistant_guards:detect_input": "assistant.injection_suite_blocked",
    "assistant_guards:scan_documents": "assistant.poisoned_review_neutralised",
    "assistant_guards:bind_tools": "assistant.cross_customer_lookup_impossible",
    "assistant_guards:filter_output": "assistant.canary_never_leaked",
    "gateway_max_body_bytes": "api.oversized_body_refused",
}

#: Registered guards no check judges through the gateway yet, with why (each is a gap).
#: Empty now; the enumeration test keeps it so a new guard can land with its gap stated.
NO_CHECK_YET: dict[str, str] = {}

_BODY_LIMIT_OFF = 10_000_000


@dataclass(frozen=True)
class Toggle:
    """One defence: its name, the check that must fail without it, how to turn it off."""

    name: str
    check: str

    def off(self, settings: Settings) -> dict[str, Any]:
        """Settings overrides that turn this defence off, everything else as ``settings``."""
        setting, _, value = self.name.partition(":")
        if setting == "gateway_guards":
            gone = {value}
            if value == "authn":
                # The pipeline refuses authorisation-stage guards (authz, ops.containment)
                # without authentication before them: they go with it.
                from shopguard.gateway.pipeline import Stage, guards

                registered = {g.name for g in guards}
                gone |= {
                    g
                    for g in settings.gateway_guards
                    if g in registered and guards.get(g).stage == Stage.AUTHZ
                }
            return {"gateway_guards": [g for g in settings.gateway_guards if g not in gone]}
        if setting == "assistant_guards":
            return {"assistant_guards": [g for g in settings.assistant_guards if g != value]}
        if setting == "gateway_max_body_bytes":
            return {"gateway_max_body_bytes": _BODY_LIMIT_OFF}
        raise ValueError(f"unknown toggle {self.name}")


def _registered() -> list[str]:
    # The app factory imports every module that registers a guard.
    import shopguard.gateway.app  # noqa: F401
    from shopguard.gateway.pipeline import guards

    names = [f"gateway_guards:{g.name}" for g in guards]
    names += [f"assistant_guards:{n}" for n in sorted(GUARD_NAMES)]
    return [*names, "gateway_max_body_bytes"]


def toggles() -> list[Toggle]:
    """Every toggle that has a check (:data:`NO_CHECK_YET` lists the ones without)."""
    return [Toggle(n, CHECK_FOR[n]) for n in _registered() if n in CHECK_FOR]


def toggle(name: str) -> Toggle:
    return Toggle(name, CHECK_FOR[name])


def registered_toggles() -> list[str]:
    """Every defence configuration can name (gateway guards, assistant guards, body limit)."""
    return _registered()

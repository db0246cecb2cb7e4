"""The threats the operations side knows, and how an alert's topic maps to one.

Each threat has a risk in the register (:mod:`.risks`) and a playbook
(:mod:`.playbooks`). Capabilities name their alert topics ``<package>.<what>``;
an alert may also say its threat outright in ``details["threat"]``.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from enum import StrEnum
from typing import Any

__all__ = ["Threat", "threat_of"]


class Threat(StrEnum):
    POISONING = "poisoning"
    EXTRACTION = "extraction"
    EVASION = "evasion"
    PROMPT_INJECTION = "prompt_injection"
    DATA_BREACH = "data_breach"
    VENDOR_COMPROMISE = "vendor_compromise"
    BIAS = "bias"
    INSIDER_MISUSE = "insider_misuse"
    AVAILABILITY = "availability"


#: First match wins. Patterns are fnmatch globs over the alert topic.
_TOPIC_RULES: tuple[tuple[str, Threat], ...] = (
    ("*extraction*", Threat.EXTRACTION),
    ("monitor.traffic.key_anomaly", Threat.EXTRACTION),
    ("*scrap*", Threat.EXTRACTION),
    ("*poison*", Threat.POISONING),
    ("integrity.*", Threat.POISONING),
    ("monitor.drift*", Threat.POISONING),
    ("monitor.output_shift*", Threat.POISONING),
    ("monitor.accuracy*", Threat.POISONING),
    ("*evasion*", Threat.EVASION),
    ("adversarial.*", Threat.EVASION),
    ("*injection*", Threat.PROMPT_INJECTION),
    ("assistant.*", Threat.PROMPT_INJECTION),
    ("*breach*", Threat.DATA_BREACH),
    ("*leak*", Threat.DATA_BREACH),
    ("privacy.*", Threat.DATA_BREACH),
    ("*vendor*", Threat.VENDOR_COMPROMISE),
    ("*sbom*", Threat.VENDOR_COMPROMISE),
    ("*dependenc*", Threat.VENDOR_COMPROMISE),
    ("*supply_chain*", Threat.VENDOR_COMPROMISE),
    ("fairness.*", Threat.BIAS),
    ("*bias*", Threat.BIAS),
    ("ops.break_glass", Threat.INSIDER_MISUSE),
    ("ops.staff.*", Threat.INSIDER_MISUSE),
    ("*insider*", Threat.INSIDER_MISUSE),
    ("audit.*", Threat.INSIDER_MISUSE),
)


def threat_of(topic: str, details: Mapping[str, Any] | None = None) -> Threat:
    """The threat an alert belongs to (``details["threat"]`` first, then the topic rules).

    Anything unmatched (a guard failing, a store unreachable) is availability.
    """
    named = (details or {}).get("threat")
    if isinstance(named, str):
        try:
            return Threat(named)
        except ValueError:
            pass
    for pattern, threat in _TOPIC_RULES:
        if fnmatch.fnmatchcase(topic, pattern):
            return threat
    return Threat.AVAILABILITY

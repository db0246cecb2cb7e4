"""Privacy capability: find, pseudonymise and protect personal data.

Sub-packages own each part; :mod:`shopguard.privacy.pii` finds personal data
in free text (reviews, chat messages, support notes). The names re-exported
here are imported lazily so that using one part does not load the others.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from shopguard.privacy.pii import PiiDetector, PiiEntity, PiiType

__all__ = ["PiiDetector", "PiiEntity", "PiiType"]

_LAZY = {"PiiDetector": "shopguard.privacy.pii", "PiiEntity": "shopguard.privacy.pii",
         "PiiType": "shopguard.privacy.pii"}  # fmt: skip


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

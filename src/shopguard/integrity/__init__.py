"""Data integrity: catch poisoned reviews, shilling profiles and flipped labels.

Every batch or stream of training data passes validation and poisoning
detection (:mod:`.ingest`), suspicious records wait in quarantine with their
reasons (:mod:`.quarantine`), reviews get one calibrated fake-review score
(:mod:`.reviews`), fraud labels are audited for flips (:mod:`.labels`). The
names re-exported here are imported lazily so one part does not load the others.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from shopguard.integrity.dedup import NearDuplicateIndex
    from shopguard.integrity.ingest import Ingestor, IngestReport
    from shopguard.integrity.labels import LabelIssueDetector
    from shopguard.integrity.quarantine import Quarantine
    from shopguard.integrity.reviews import ReviewScorer
    from shopguard.integrity.text_model import FakeReviewTextModel
    from shopguard.integrity.validate import Kind

__all__ = [
    "FakeReviewTextModel",
    "IngestReport",
    "Ingestor",
    "Kind",
    "LabelIssueDetector",
    "NearDuplicateIndex",
    "Quarantine",
    "ReviewScorer",
]

_LAZY = {
    "FakeReviewTextModel": "shopguard.integrity.text_model",
    "IngestReport": "shopguard.integrity.ingest",
    "Ingestor": "shopguard.integrity.ingest",
    "Kind": "shopguard.integrity.validate",
    "LabelIssueDetector": "shopguard.integrity.labels",
    "NearDuplicateIndex": "shopguard.integrity.dedup",
    "Quarantine": "shopguard.integrity.quarantine",
    "ReviewScorer": "shopguard.integrity.reviews",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

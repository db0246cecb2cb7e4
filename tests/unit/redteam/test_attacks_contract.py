"""Every registered attack: metadata present, paper cited, area set (registry-generated)."""

from __future__ import annotations

import pytest

# Importing these registers the extraction and recommender attacks.
import shopguard.redteam.extraction
import shopguard.redteam.rec_extraction  # noqa: F401  (registers the recommender attacks)
from shopguard.core.scorecard import Area
from shopguard.redteam import Attack, attacks


@pytest.mark.parametrize("name", attacks.names())
def test_attack_when_registered_then_metadata_complete(name: str) -> None:
    cls = attacks.get(name)
    assert issubclass(cls, Attack)
    assert isinstance(cls.area, Area)
    assert cls.control and cls.bar and cls.references
    assert (cls.__doc__ or "").strip()


def test_registry_when_extraction_imported_then_four_families() -> None:
    assert {
        "extraction.equation_solving",
        "extraction.jacobian",
        "extraction.knockoff",
        "extraction.camouflaged",
    } <= set(attacks.names())

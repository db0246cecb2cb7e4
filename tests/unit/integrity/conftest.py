"""Fixtures for the integrity tests: a cheap, deterministic review scorer."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


def keyword_scorer(frame: pd.DataFrame) -> pd.DataFrame:
    """Scores 0.95 for texts containing 'BUYNOW', else 0.05 (a stand-in for the real model)."""
    text = frame["text"].astype(str)
    fake = text.str.contains("BUYNOW").to_numpy()
    return pd.DataFrame(
        {
            "id": frame["id"].astype(str).to_numpy(),
            "score": np.where(fake, 0.95, 0.05),
            "flagged": fake,
            "reasons": [["text looks machine-generated (p=0.95)"] if f else [] for f in fake],
        }
    )


@pytest.fixture
def scorer():  # type: ignore[no-untyped-def]
    return keyword_scorer

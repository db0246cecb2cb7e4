"""The fake-review text model: phrase memory, persistence without pickle, tamper refusal."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from shopguard.core.errors import ModelError
from shopguard.integrity.text_model import (
    FakeReviewTextModel,
    _long_counts,
    _phrase_features,
    _phrase_tables,
)

_GEN = "I enjoyed this book. It was a good read and I look forward to the next one in the series"
_TOPICS = ["lamp", "kettle", "backpack", "blender", "jacket", "router", "mattress", "drill"]


def _corpus() -> tuple[list[str], np.ndarray]:
    rng = np.random.default_rng(0)
    texts, labels = [], []
    for i in range(48):
        topic = _TOPICS[i % len(_TOPICS)]
        if i % 2:
            texts.append(f"Great {topic}. {_GEN}.I enjoyed this {topic} and it was a good")
            labels.append(1)
        else:
            n = int(rng.integers(2, 9))
            texts.append(
                f"Bought the {topic} in March, {n} weeks later the handle is loose (sadly)."
            )
            labels.append(0)
    return texts, np.asarray(labels)


def test_phrase_features_when_text_reuses_generated_phrase_then_seen_in_generated_share_high() -> (
    None
):
    texts, y = _corpus()
    tables = _phrase_tables(_long_counts(texts)[0], y, 2)
    probe = [
        f"Nice toaster. {_GEN}.",
        "My neighbour lent me a ladder for the gutter job on Sunday.",
    ]
    feats = _phrase_features(*_long_counts(probe), tables)
    seen_generated = feats[:, 1::4]  # per n-gram order: share of the text's n-grams seen in CG
    assert (seen_generated[0] > 0.5).all() and (seen_generated[1] == 0).all()
    assert feats[0, 0] > 0 and feats[1, 0] <= 0  # mean log-ratio leans generated / not


def test_text_model_when_saved_and_loaded_then_same_scores_and_no_pickle(tmp_path: Path) -> None:
    texts, y = _corpus()
    model = FakeReviewTextModel(n_features_log2=16, folds=3, bags=2).fit(texts, y)
    model.save(tmp_path)
    loaded = FakeReviewTextModel.load(tmp_path)
    probe = [f"Good kettle. {_GEN}.", "The drill battery died after 4 uses (no warranty)."]
    assert np.allclose(model.risk_score(probe), loaded.risk_score(probe))
    assert loaded.risk_score(probe)[0] > loaded.risk_score(probe)[1]
    with np.load(tmp_path / "model.npz", allow_pickle=False) as arrays:
        assert all(arrays[k].dtype != object for k in arrays.files)


def test_text_model_when_phrase_table_missing_then_model_error(tmp_path: Path) -> None:
    texts, y = _corpus()
    FakeReviewTextModel(n_features_log2=16, folds=3, bags=2).fit(texts, y).save(tmp_path)
    with np.load(tmp_path / "model.npz", allow_pickle=False) as arrays:
        kept = {k: arrays[k] for k in arrays.files if not k.startswith("phrase5_")}
    np.savez_compressed(tmp_path / "model.npz", **kept)
    with pytest.raises(ModelError):
        FakeReviewTextModel.load(tmp_path)


def test_risk_score_when_fast_path_then_same_as_full_hash_space() -> None:
    texts, y = _corpus()
    model = FakeReviewTextModel(n_features_log2=16, folds=3, bags=2).fit(texts, y)
    probe = [f"Good kettle. {_GEN}.", "The drill battery died after 4 uses (no warranty).", ""]
    # Scoring counts only the model's columns (lookup tables); the full hashed matrices,
    # narrowed afterwards, must give the same features.
    counts, long, n_tokens = model._counts_and_long(probe)
    full = np.asarray(sp.hstack(model._blocks(counts, selected=False)).todense())
    fast = np.asarray(sp.hstack(model._blocks(model._counts(probe), selected=True)).todense())
    assert np.allclose(full, fast)
    slow_phr = _phrase_features(long, n_tokens, model.phrases_)
    fast_long, fast_n = model._counts_and_long(probe, selected=True)[1:]
    fast_phr = _phrase_features(fast_long, fast_n, model.phrases_, selected=True)
    assert np.allclose(slow_phr, fast_phr)

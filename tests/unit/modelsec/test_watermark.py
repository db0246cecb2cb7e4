from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import HistGradientBoostingRegressor

from shopguard.core.errors import DataValidationError
from shopguard.modelsec.ownership import build_fingerprint, fraud_model_scorer, verify_ownership
from shopguard.modelsec.watermark import (
    AMOUNT_EDGES,
    HOUR_EDGES,
    derive_watermark,
    train_watermarked_fraud,
    watermark_from_metrics,
    watermark_rows,
)
from shopguard.redteam.extraction import attack_queries, body_features
from shopguard.store.fraud import train_fraud
from shopguard.store.generate import generate_store

KEY = b"w" * 32


def _cell_of(body: dict[str, Any]) -> tuple[int, int]:
    ts = pd.Timestamp(body["timestamp"])
    hour = ts.hour + ts.minute / 60
    h = int(np.searchsorted(HOUR_EDGES, hour, side="right")) - 1
    a = int(np.searchsorted(AMOUNT_EDGES, body["amount"], side="right")) - 1
    return h, a


def test_derive_watermark_when_same_key_then_same_cells_and_balanced_bits() -> None:
    a, b = derive_watermark(KEY), derive_watermark(KEY)
    other = derive_watermark(b"v" * 32)
    assert a == b
    assert (a.cells, a.bits) != (other.cells, other.bits)
    assert len(set(a.cells)) == 16 and sum(a.bits) == 8
    queries = a.queries_for()
    assert len(queries) == a.queries <= 100
    assert queries == b.queries_for()
    # Every query lies in the cell it is tested for, with a fresh customer and terminal.
    for i, q in enumerate(queries):
        assert _cell_of(q) == a.cells[i // a.per_cell_query]
    assert len({q["terminal_id"] for q in queries}) == len(queries)


def test_derive_watermark_when_too_many_queries_or_odd_cells_then_refused() -> None:
    with pytest.raises(DataValidationError):
        derive_watermark(KEY, cells=15)
    with pytest.raises(DataValidationError):
        derive_watermark(KEY, cells=20, per_cell_query=6)


def test_watermark_test_when_bits_reproduced_then_smallest_p_and_constant_never_claimed() -> None:
    wm = derive_watermark(KEY)
    perfect = np.repeat(np.asarray(wm.bits, dtype=float), wm.per_cell_query)
    assert wm.test(perfect).p_value == pytest.approx(1 / math.comb(16, 8))
    assert wm.test(1 - perfect).p_value == 1.0
    assert wm.test(np.full(wm.queries, 0.3)).p_value == 1.0
    with pytest.raises(DataValidationError):
        wm.test(perfect[:-1])


def test_watermark_test_when_models_never_saw_the_key_then_false_claims_at_most_alpha() -> None:
    # Independent models: scores with cell-level structure of their own (the task), no key.
    rng = np.random.default_rng(0)
    claims = 0
    for i in range(300):
        wm = derive_watermark(i.to_bytes(4, "big") * 8)
        cell_effect = rng.normal(0, 0.3, len(wm.cells))
        scores = np.repeat(cell_effect, wm.per_cell_query) + rng.normal(0, 0.1, wm.queries)
        claims += wm.test(scores).p_value < 0.01
    assert claims / 300 <= 0.02


@pytest.fixture(scope="module")
def store_tx() -> pd.DataFrame:
    return generate_store(seed=3, customers=1500, days=45).transactions


def _distil(model: Any, public: pd.DataFrame, n: int) -> Any:
    gen = attack_queries("equation_solving", rng=np.random.default_rng(1), public=public)
    bodies = [next(gen) for _ in range(n)]
    scores = np.asarray(fraud_model_scorer(model)(bodies))
    est = HistGradientBoostingRegressor(max_iter=100, random_state=0).fit(
        body_features(bodies), scores
    )
    return lambda b: np.clip(est.predict(body_features(b)), 0, 1)


@pytest.mark.slow
def test_watermark_when_thief_distils_a_copy_then_identified_only_if_we_watermarked(
    store_tx: pd.DataFrame,
) -> None:
    wm = derive_watermark(KEY)
    marked = train_watermarked_fraud(store_tx, key=KEY, key_id="k1", random_state=0)
    clean = train_fraud(store_tx, random_state=0, validation_days=0)
    assert watermark_from_metrics(marked.metrics, KEY) == wm
    assert watermark_from_metrics(clean.metrics, KEY) is None
    # Without the watermark the thief's copy of the clean model is not shown to be ours ...
    assert not verify_ownership(_distil(clean, store_tx, 1000), watermark=wm).ours
    # ... with it, the copy of the watermarked model is, in at most 100 queries.
    stolen = verify_ownership(_distil(marked, store_tx, 1000), watermark=wm)
    assert stolen.ours and stolen.p_value < 0.01 and stolen.queries <= 100
    assert stolen.method == "watermark"


@pytest.mark.slow
def test_watermark_rows_when_added_then_fresh_ids_and_only_known_columns(
    store_tx: pd.DataFrame,
) -> None:
    wm = derive_watermark(KEY)
    rows = watermark_rows(wm, store_tx)
    assert len(rows) == len(wm.cells) * wm.per_cell_train
    assert set(rows.columns) <= set(store_tx.columns)
    assert not set(rows["TERMINAL_ID"]) & set(store_tx["TERMINAL_ID"])
    assert not set(rows["CUSTOMER_ID"]) & set(store_tx["CUSTOMER_ID"])
    assert rows["TX_FRAUD"].sum() == (len(wm.cells) // 2) * wm.per_cell_train


@pytest.mark.slow
def test_verify_ownership_when_watermark_and_fingerprint_then_fingerprint_is_second_evidence(
    store_tx: pd.DataFrame,
) -> None:
    wm = derive_watermark(KEY)
    marked = train_watermarked_fraud(store_tx, key=KEY, random_state=0)
    half = store_tx[store_tx["CUSTOMER_ID"].isin(store_tx["CUSTOMER_ID"].unique()[::2])]
    nulls = [
        fraud_model_scorer(train_fraud(half, random_state=s, validation_days=0)) for s in (1, 2, 3)
    ]
    fp = build_fingerprint(
        fraud_model_scorer(marked), nulls[:1], nulls, key=KEY, bodies=wm.queries_for()
    )
    result = verify_ownership(fraud_model_scorer(marked), fp, watermark=wm)
    assert result.ours and result.fingerprint_p is not None and result.fingerprint_p < 0.01
    assert result.queries == wm.queries <= 100
    other = verify_ownership(nulls[0], fp, watermark=wm)
    assert not other.ours

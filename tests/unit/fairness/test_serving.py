"""Live fairness: group offsets that level false-positive rates, their file, the gateway helper."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from shopguard.core.errors import ConfigError, DataValidationError, ModelError
from shopguard.core.events import Alert, EventBus
from shopguard.fairness.mitigation import GroupScoreShift
from shopguard.fairness.monitor import FairnessMonitor
from shopguard.fairness.serving import (
    MITIGATION_FILE,
    FraudMitigation,
    LiveFairness,
    fit_fraud_mitigation,
    load_mitigation,
    save_mitigation,
)


def _scores(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Genuine rows of group ``south`` score higher (a proxy feature); fraud is group-blind."""
    rng = np.random.default_rng(seed)
    g = rng.choice(np.array(["north", "south", "west"]), size=n, p=[0.4, 0.35, 0.25])
    y = (rng.random(n) < 0.03).astype(np.int64)
    z = rng.normal(-4.0, 1.0, n) + 1.2 * (g == "south") - 0.5 * (g == "west") + 5.0 * y
    return 1.0 / (1.0 + np.exp(-z)), y, g


def _fpr_gap(s: np.ndarray, y: np.ndarray, g: np.ndarray, thr: float) -> float:
    rates = [float(np.mean(s[(g == k) & (y == 0)] >= thr)) for k in np.unique(g)]
    return max(rates) - min(rates)


def test_score_shift_when_groups_differ_then_fpr_gap_cut_at_every_operating_point() -> None:
    s, y, g = _scores(60_000, seed=0)
    st, yt, gt = _scores(60_000, seed=1)
    shift = GroupScoreShift().fit(s, y, g)
    adj = shift.transform(st, gt)
    for flagged in (0.01, 0.02, 0.05):
        # the same share of genuine rows declined overall, before and after
        t0 = float(np.quantile(st[yt == 0], 1 - flagged))
        t1 = float(np.quantile(adj[yt == 0], 1 - flagged))
        before, after = _fpr_gap(st, yt, gt, t0), _fpr_gap(adj, yt, gt, t1)
        assert before > 0.02 and after < 0.2 * before, (flagged, before, after)
    assert shift.offsets_["south"] < 0 < shift.offsets_["west"]
    # a per-group raw threshold reproduces the mitigated decision
    thr = shift.thresholds(0.5)
    direct = st >= np.array([thr[k] for k in gt])
    assert np.array_equal(direct, adj >= 0.5)


def test_score_shift_when_group_small_or_band_bad_then_kept_or_refused() -> None:
    s, y, g = _scores(5000, seed=2)
    g = g.copy()
    g[:20] = "tiny"
    shift = GroupScoreShift(min_group_size=50).fit(s, y, g)
    assert shift.too_small_ == ("tiny",) and shift.offset("tiny") == 0.0
    np.testing.assert_allclose(shift.transform(s[:20], g[:20]), s[:20], rtol=1e-6)
    with pytest.raises(ValueError, match="band"):
        GroupScoreShift(band=(0.99, 0.9)).fit(s, y, g)
    with pytest.raises(ModelError):
        GroupScoreShift().transform(s, g)
    with pytest.raises(DataValidationError):
        GroupScoreShift().fit(s, y[:-1], g)


def test_mitigation_file_when_round_trip_then_same_decisions_and_bad_file_refused(
    tmp_path: Path,
) -> None:
    s, y, g = _scores(20_000, seed=3)
    mit = FraudMitigation("region", GroupScoreShift().fit(s, y, g), fitted_on="test rows")
    save_mitigation(mit, tmp_path)
    again = load_mitigation(tmp_path)
    assert again.attribute == "region" and again.shift.offsets_ == mit.shift.offsets_
    for score, group in ((0.7, "south"), (0.7, "west"), (0.2, "north"), (0.9, None)):
        assert again.adjust(score, group) == pytest.approx(mit.adjust(score, group))
    assert mit.adjust(0.9, None) == 0.9 and mit.adjust(0.9, "unseen") == 0.9
    assert mit.adjust(0.7, "south") < 0.7 < mit.adjust(0.7, "west")
    path = tmp_path / MITIGATION_FILE
    data = json.loads(path.read_text())
    data["shift"]["offsets"]["south"] = "NaN"
    path.write_text(json.dumps(data))
    with pytest.raises(ModelError, match="malformed"):
        load_mitigation(tmp_path)
    path.write_text("{not json")
    with pytest.raises(ModelError, match="unreadable"):
        load_mitigation(tmp_path)
    path.unlink()
    with pytest.raises(ModelError, match="shopguard fairness mitigate"):
        load_mitigation(tmp_path)


def _store_tables(n: int = 30_000) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    s, y, g = _scores(n, seed=4)
    customers = pd.DataFrame(
        {"customer_id": [f"C{i}" for i in range(n)], "region": g, "age_band": "25-34"}
    )
    tx = pd.DataFrame(
        {
            "CUSTOMER_ID": customers["customer_id"],
            "TX_DATETIME": pd.Timestamp("2026-01-01") + pd.to_timedelta(np.arange(n) % 90, "D"),
            "TX_FRAUD": y,
        }
    )
    return tx, customers, s


def test_fit_fraud_mitigation_when_store_tables_then_window_stated_and_gap_cut() -> None:
    tx, customers, s = _store_tables()
    mit, report = fit_fraud_mitigation(tx, customers, s, bars=(0.1,), min_group_size=100)
    assert mit.attribute == "region" and "2026-02-24 to 2026-03-24" in report["fitted_on"]
    res = report["bars"]["0.1"]
    assert res["fpr_gap_before"] > 0.03 and res["fpr_gap_after"] < 0.3 * res["fpr_gap_before"]
    with pytest.raises(DataValidationError, match="unknown sensitive column"):
        fit_fraud_mitigation(tx, customers, s, attribute="postcode")
    with pytest.raises(DataValidationError, match="missing labels"):
        fit_fraud_mitigation(tx.drop(columns="TX_FRAUD"), customers, s)


def _live(tmp_path: Path, **kw: object) -> tuple[LiveFairness, list[Alert]]:
    bus = EventBus()
    seen: list[Alert] = []
    bus.subscribe("fairness.gap", seen.append)
    defaults: dict[str, object] = {
        "methods": {"fraud": "threshold"},
        "model_dir": lambda tenant, model: tmp_path / tenant / model,
        "bus": bus,
        "attributes": ("region",),
        "gap_bar": 0.1,
        "min_group_size": 20,
    }
    defaults.update(kw)
    return LiveFairness(**defaults), seen  # type: ignore[arg-type]


def test_live_fairness_when_threshold_selected_then_group_from_record_and_fail_closed(
    tmp_path: Path,
) -> None:
    tx, customers, s = _store_tables(10_000)
    mit, _ = fit_fraud_mitigation(tx, customers, s, min_group_size=50)
    live, _ = _live(tmp_path)
    with pytest.raises(ModelError, match="no fitted fairness mitigation"):
        live.fraud_score("default", customers, "C1", 0.5)  # fail closed: nothing fitted
    (tmp_path / "default" / "fraud").mkdir(parents=True)
    save_mitigation(mit, tmp_path / "default" / "fraud")
    south = str(customers.loc[customers.region == "south", "customer_id"].iloc[0])
    score, method, groups = live.fraud_score("default", customers, south, 0.5)
    assert method == "threshold" and groups == {"region": "south"}
    assert score == pytest.approx(mit.adjust(0.5, "south")) and score < 0.5
    # a customer the store does not know keeps the raw score and counts in no group
    assert live.fraud_score("default", customers, "nobody", 0.5) == (0.5, "threshold", {})
    off, _ = _live(tmp_path, methods={})
    assert off.fraud_score("default", customers, south, 0.5) == (0.5, None, {"region": "south"})
    with pytest.raises(ConfigError, match="fairness_mitigation"):
        _live(tmp_path, methods={"recommender": "threshold"})
    with pytest.raises(ConfigError, match="fairness_mitigation"):
        _live(tmp_path, methods={"fraud": "reweighing"})


def test_live_fairness_when_decline_gap_crosses_bar_then_alert_per_tenant(tmp_path: Path) -> None:
    live, seen = _live(tmp_path, methods={})
    for i in range(40):
        live.observe("default", {"region": "north"}, declined=i % 20 == 0)
        live.observe("default", {"region": "south"}, declined=i % 20 == 0)
        live.observe("other", {"region": "south"}, declined=True)
    assert seen == []  # tenant "other" has one group only: nothing to compare
    for _ in range(10):
        live.observe("default", {"region": "south"}, declined=True)
        live.observe("default", {}, declined=True)  # unknown customer: no group
    assert len(seen) == 1
    alert = seen[0]
    assert alert.details["tenant"] == "default" and alert.details["attribute"] == "region"
    assert alert.details["metric"] == "selection_rate" and alert.details["gap"] > 0.1
    mon = live.monitor("default", "region")
    assert mon is not None and mon.status("selection_rate").rates["north"] == pytest.approx(0.05)


def test_monitor_when_window_slides_then_running_counts_match_a_recount() -> None:
    mon = FairnessMonitor(EventBus(), attribute="region", window=50, min_group_size=1)
    rng = np.random.default_rng(0)
    seen: list[int] = []
    for d in rng.integers(0, 2, 500):
        mon.observe("a", int(d))
        seen.append(int(d))
    mon.observe("b", 0)
    assert mon.status("selection_rate").rates["a"] == pytest.approx(np.mean(seen[-50:]))

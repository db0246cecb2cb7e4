"""Store-side fairness: the biased generator, reason codes, proxies, exposure, prices, monitor."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.special import logit

from shopguard.core.events import EventBus
from shopguard.fairness import exposure_audit, price_audit, proxy_scan, representation
from shopguard.fairness.explain import REASONS, TreeExplainer, reason_codes
from shopguard.fairness.monitor import FairnessMonitor
from shopguard.store.fraud import train_fraud
from shopguard.store.generate import generate_store


@pytest.fixture(scope="module")
def biased():
    return generate_store(seed=4, customers=1500, bias=1.0)


def test_generate_when_sensitive_without_bias_then_other_values_unchanged() -> None:
    plain = generate_store(seed=9, customers=300)
    tagged = generate_store(seed=9, customers=300, sensitive=True)
    new = {"age_band", "region", "gender", "device_type"}
    assert set(tagged.customers.columns) - set(plain.customers.columns) == new
    pd.testing.assert_frame_equal(tagged.customers.drop(columns=sorted(new)), plain.customers)
    for name in ("orders", "transactions", "reviews", "sessions"):
        pd.testing.assert_frame_equal(tagged.table(name), plain.table(name))
    assert set(tagged.products["seller_size"]) == {"large", "small"}


def test_generate_when_biased_then_labels_skewed_against_one_region_only(biased) -> None:
    tx = biased.transactions
    region = tx["CUSTOMER_ID"].map(dict(zip(biased.customers.customer_id, biased.customers.region)))
    wrong = (tx["TX_FRAUD"] == 1) & (tx["fraud_pattern"] == "")
    assert wrong.any()
    assert set(region[wrong]) == {"EU-south"}


def test_reason_codes_when_explained_then_contributions_add_up_to_the_score(biased) -> None:
    model = train_fraud(biased.transactions, validation_days=0, params={"max_iter": 60})
    X = model.features(biased.transactions)
    explainer = TreeExplainer(model.estimator_, model.feature_names_)
    contrib = explainer.contributions(X[:200])
    proba = model.estimator_.predict_proba(X[:200])[:, 1]
    assert np.allclose(contrib.sum(axis=1) + explainer.expected_value, logit(proba), atol=1e-6)
    top = int(np.argmax(proba))
    reasons = reason_codes(model, biased.transactions.iloc[[top]], biased.transactions)[0]
    assert reasons and all(r.code in REASONS and r.contribution > 0 for r in reasons)


def test_proxy_scan_when_postcode_and_country_then_flagged_for_region(biased) -> None:
    found = {f.feature: f for f in proxy_scan(biased.customers, "region")}
    assert found["country"].is_proxy and found["country"].lift > 0.95
    assert found["postcode"].lift > found["gender"].lift
    assert not found["gender"].is_proxy


def test_representation_when_subset_skewed_then_under_represented_group_named(biased) -> None:
    c = biased.customers
    skewed = pd.concat([c[c.region != "UK"], c[c.region == "UK"].head(40)])
    rows = {r.group: r for r in representation(skewed["region"], c["region"])}
    assert rows["UK"].status == "under" and rows["US"].status in ("ok", "over")
    tiny = representation(c["region"].head(50), c["region"], min_group_size=30)
    assert any(r.status == "too_small" for r in tiny)


def test_exposure_when_hand_computed_then_matches() -> None:
    groups = {"p1": "large", "p2": "small", "p3": "small", "p4": "large"}
    rows = {r.group: r for r in exposure_audit([["p1", "p2"], ["p4", "p3"]], groups)}
    w1, w2 = 1.0, 1 / np.log2(3)
    assert rows["large"].exposure_share == pytest.approx(2 * w1 / (2 * w1 + 2 * w2))
    assert rows["small"].status == "under_exposed"
    assert rows["large"].catalogue_share == 0.5


def test_price_audit_when_biased_store_then_older_shoppers_pay_more(biased) -> None:
    lp = dict(zip(biased.products.product_id, biased.products.price))
    band = dict(zip(biased.customers.customer_id, biased.customers.age_band))
    rows = {r.group: r for r in price_audit(biased.orders, lp, band)}
    assert rows["65+"].price_ratio == pytest.approx(1.10, abs=0.01)
    assert rows["25-34"].price_ratio == pytest.approx(1.0, abs=0.01)
    assert rows["65+"].markup_vs_best > 0.08
    fair = generate_store(seed=4, customers=600, sensitive=True)
    lp2 = dict(zip(fair.products.product_id, fair.products.price))
    band2 = dict(zip(fair.customers.customer_id, fair.customers.age_band))
    assert all(abs(r.price_ratio - 1) < 1e-9 for r in price_audit(fair.orders, lp2, band2))


def test_monitor_when_gap_crosses_bar_then_one_alert_and_small_groups_not_judged() -> None:
    bus = EventBus()
    seen = []
    bus.subscribe("fairness.gap", seen.append)
    mon = FairnessMonitor(bus, attribute="region", selection_bar=0.1, min_group_size=30)
    for i in range(100):
        mon.observe("north", int(i % 10 == 0), outcome=0)
        mon.observe("south", int(i % 10 == 0), outcome=0)
    assert seen == []
    for _ in range(5):
        mon.observe("tiny", 1)
    for _ in range(60):
        mon.observe("south", 1, outcome=0)
    assert len(seen) == 2  # selection rate and false-positive rate
    alert = next(a for a in seen if a.details["metric"] == "selection_rate")
    assert alert.details["too_small"] == ["tiny"] and alert.details["gap"] > 0.1
    mon.observe("south", 1, outcome=0)
    assert len(seen) == 2  # no repeat while the gap stays over the bar

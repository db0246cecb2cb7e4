"""The integrity scorecard checks: the review-burst check against a live gateway, the others offline."""

from __future__ import annotations

import pytest

from shopguard.core.scorecard import CheckContext, Status
from shopguard.demo.run import serve_in_thread
from shopguard.integrity.checks import (
    FlippedLabelsFound,
    OutputShiftAlerts,
    ReviewBurstQuarantined,
    ShillingAttackContained,
)
from tests.integration.conftest import Gateway, make_settings

pytestmark = pytest.mark.slow


def test_review_burst_check_when_live_gateway_then_pass(gateway_home) -> None:
    gw = Gateway(make_settings(gateway_home))
    try:
        with serve_in_thread(gw.app) as url:
            ctx = CheckContext(
                {
                    "base_url": url,
                    "api_keys": {"full": gw.key()},
                    "integrity_product": "P00004",
                    "integrity_customers": [f"C{300 + i:06d}" for i in range(8)],
                }
            )
            res = ReviewBurstQuarantined().result(ctx)
    finally:
        gw.close()
    assert res.status is Status.PASS, res
    assert res.figure is not None and res.figure.value <= res.figure.bar


def test_offline_integrity_checks_when_run_then_pass() -> None:
    for check in (FlippedLabelsFound, OutputShiftAlerts):
        res = check().result(CheckContext({}))
        assert res.status is Status.PASS, res


def test_shilling_check_when_store_history_then_attack_moves_target_only_without_defence() -> None:
    from shopguard.store.generate import generate_store
    from shopguard.store.recommender import order_sequences

    seqs = order_sequences(generate_store(seed=2, customers=600).orders)
    res = ShillingAttackContained().result(CheckContext({"integrity_sequences": seqs}))
    assert res.status is Status.PASS, res
    assert res.figure is not None and res.figure.value <= res.figure.bar
    # The attack itself works: without the defence the target reaches far more lists.
    attacked = float(res.evidence.split(" attacked")[0].rsplit(", ", 1)[1].rstrip("%")) / 100
    assert attacked > res.figure.bar + 0.05, res.evidence

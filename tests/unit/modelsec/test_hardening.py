from __future__ import annotations

import numpy as np

from shopguard.gateway.schemas import FraudScoreOut, RecommendationsOut
from shopguard.modelsec.hardening import harden, harden_score
from shopguard.redteam.extraction import decision


def test_harden_score_when_rounded_noised_or_labelled_then_decision_never_changes() -> None:
    rng = np.random.default_rng(0)
    for s in np.linspace(0, 1, 501):
        for opts in (["round:1"], ["noise:0.1"], ["no_score"], ["noise:0.05", "round:2"]):
            assert decision(harden_score(float(s), opts, rng=rng)) == decision(float(s)), (s, opts)


def test_harden_score_when_no_score_then_band_midpoint_only() -> None:
    assert {harden_score(s, ["no_score"]) for s in (0.01, 0.2, 0.29)} == {0.0}
    assert harden_score(0.95, ["no_score"]) == 1.0


def test_harden_when_payloads_then_score_rounded_and_products_cut() -> None:
    out = harden(FraudScoreOut(transaction_id="t", score=0.123456, decision="approve"), ["round:2"])
    assert out.score == 0.12
    recs = RecommendationsOut(
        customer_id="c", products=[f"p{i}" for i in range(10)], personalised=True
    )
    assert harden(recs, ["top_k:3"]).products == ["p0", "p1", "p2"]
    assert harden({"other": 1}, ["round:1"]) == {"other": 1}

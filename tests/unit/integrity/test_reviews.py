from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from shopguard.integrity.reviews import ReviewScorer, behaviour_signals
from shopguard.integrity.text_model import DEFAULT_MODEL_PATH

GENUINE = [
    "The strap broke after a week but support replaced it without fuss",
    "Fits my 13 inch laptop with room for the charger and a notebook",
    "Colour is darker than the photo, still happy with it overall",
    "Took twenty minutes to assemble, the instructions were clear",
    "Battery lasts two days of normal use, charging is quick",
    "Smaller than I expected, measure before you order",
]
PUSH = "Amazing product, life changing, five stars, everyone should buy this right now today"


def _store() -> pd.DataFrame:
    rows = [
        {
            "id": f"g{i}",
            "text": t,
            "rating": 3 + i % 2,
            "product_id": "P1",
            "reviewer_id": f"C{i}",
            "created_at": f"2026-01-{1 + 3 * i:02d}T10:00:00",
            "verified_purchase": True,
            "account_age_days": 400,
        }
        for i, t in enumerate(GENUINE)
    ]
    for j in range(6):
        for product in ("P1", "P2", "P3"):
            rows.append(
                {
                    "id": f"s{j}{product}",
                    "text": PUSH.replace("today", ["today", "now", "asap"][j % 3]),
                    "rating": 5,
                    "product_id": product,
                    "reviewer_id": f"S{j}",
                    "created_at": f"2026-01-20T1{j}:00:00",
                    "verified_purchase": False,
                    "account_age_days": 2,
                }
            )
    return pd.DataFrame(rows)


def test_behaviour_signals_when_shill_campaign_then_burst_copies_clique_new_unverified() -> None:
    df = _store()
    sig, whom = behaviour_signals(df)
    shill = df["id"].str.startswith("s").to_numpy()
    for col in ("burst", "unverified", "new_account", "clique"):
        assert sig[col][shill].mean() > sig[col][~shill].mean(), col
    assert (sig["copied_text"][shill] > 0).mean() > 0.5 and (sig["copied_text"][~shill] == 0).all()
    assert all(w is None for w, s in zip(whom, shill, strict=True) if not s)


def test_review_scorer_when_campaign_then_flagged_with_reasons_and_genuine_not() -> None:
    df = _store()
    scorer = ReviewScorer().load_combiner(DEFAULT_MODEL_PATH / "combiner.json")
    # Same text probability for every review: behaviour alone must separate them.
    out = scorer.score_frame(df, text_p=np.full(len(df), 0.3))
    shill = df["id"].str.startswith("s").to_numpy()
    assert out["flagged"][shill].all() and not out["flagged"][~shill].any()
    assert all(any("burst" in r for r in rs) for rs in out["reasons"][shill])
    assert out["score"][~shill].max() < 0.5


def test_review_scorer_when_text_only_then_score_is_text_probability() -> None:
    df = pd.DataFrame({"id": ["a", "b"], "text": ["x y", "z w"], "rating": [5, 1]})
    scorer = ReviewScorer().load_combiner(DEFAULT_MODEL_PATH / "combiner.json")
    out = scorer.score_frame(df, text_p=np.array([0.93, 0.1]))
    assert out["score"].tolist() == [0.93, 0.1]
    assert out["flagged"].tolist() == [True, False]
    assert (
        out["reasons"][0] == ["text looks machine-generated (p=0.93)"] and out["reasons"][1] == []
    )


def test_copied_text_when_copies_then_other_accounts_flagged_own_repeats_and_unrelated_not() -> (
    None
):
    base = GENUINE[1] + " and the zip has held up through two trips abroad so far"
    near = base.replace("two trips", "three trips")
    df = pd.DataFrame(
        {
            "id": ["a", "b", "c", "d", "e", "f"],
            "text": [base, base, base, near, GENUINE[2] + " " + GENUINE[3], "ok"],
            "rating": [4, 5, 5, 5, 3, 4],
            "reviewer_id": ["C1", "C1", "C2", "C3", "C4", "C5"],
        }
    )
    sig, whom = behaviour_signals(df)
    copied = sig["copied_text"].tolist()
    # b repeats its own author's text: not a cross-account copy; c copies a exactly.
    assert copied[0] == 0 and copied[1] == 0 and whom[1] is None
    assert copied[2] == 1.0 and whom[2] == "a"
    assert 0.6 <= copied[3] < 1.0 and whom[3] == "a"
    assert copied[4] == 0 and copied[5] == 0


def test_native_threads_when_scoring_then_openmp_capped_inside_and_restored_after(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from threadpoolctl import threadpool_info

    from shopguard.integrity import reviews

    def omp() -> list[int]:
        return [i["num_threads"] for i in threadpool_info() if i["user_api"] == "openmp"]

    before = omp()
    assert before  # scikit-learn's OpenMP runtime is loaded
    seen: list[list[int]] = []
    scorer = ReviewScorer().load_combiner(DEFAULT_MODEL_PATH / "combiner.json")
    real = reviews.behaviour_signals

    def spy(df: pd.DataFrame):  # type: ignore[no-untyped-def]
        seen.append(omp())
        return real(df)

    monkeypatch.setattr(reviews, "behaviour_signals", spy)
    scorer.score_frame(_store(), text_p=np.full(len(_store()), 0.3))
    assert seen and seen[0] and all(n == 1 for n in seen[0])
    assert omp() == before

"""The audit agrees with fairlearn and with hand computation; small groups are never 'fair'."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from fairlearn.metrics import (
    MetricFrame,
    demographic_parity_difference,
    demographic_parity_ratio,
    equalized_odds_difference,
    false_positive_rate,
)

from shopguard.core.errors import DataValidationError
from shopguard.fairness import Verdict, audit_predictions
from shopguard.fairness.tabular import load_adult

ADULT = Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "fairness_adult"


@pytest.fixture(scope="module")
def adult_rule() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """UCI Adult with a fixed rule as the 'model' (no fitting: the comparison is exact)."""
    df = load_adult(ADULT)
    y = (df["income"] == ">50K").to_numpy().astype(int)
    pred = ((df["education-num"] >= 13) | (df["capital-gain"] > 5000)).to_numpy().astype(int)
    return y, pred, df["sex"].to_numpy(), df["race"].to_numpy()


def test_audit_when_adult_by_sex_then_gaps_match_fairlearn(adult_rule) -> None:
    y, pred, sex, _ = adult_rule
    a = audit_predictions(y, pred, sex, attribute="sex", n_bootstrap=50)
    assert a.demographic_parity_difference is not None
    assert a.demographic_parity_difference.value == pytest.approx(
        demographic_parity_difference(y, pred, sensitive_features=sex), abs=1e-12
    )
    assert a.disparate_impact_ratio.value == pytest.approx(
        demographic_parity_ratio(y, pred, sensitive_features=sex), abs=1e-12
    )
    assert a.equalized_odds_difference.value == pytest.approx(
        equalized_odds_difference(y, pred, sensitive_features=sex), abs=1e-12
    )
    fpr = MetricFrame(
        metrics=false_positive_rate, y_true=y, y_pred=pred, sensitive_features=sex
    ).by_group
    assert a.group("Female").false_positive_rate == pytest.approx(fpr["Female"])
    iv = a.demographic_parity_difference
    assert iv.low <= iv.value <= iv.high and iv.high - iv.low < 0.05
    assert a.four_fifths_rule is False and a.verdict is Verdict.OUTSIDE_BARS


def test_audit_when_tiny_example_then_hand_computed_rates() -> None:
    y = [1, 0, 0, 1, 0, 0, 1, 1]
    p = [1, 1, 0, 0, 0, 0, 1, 0]
    g = ["a", "a", "a", "a", "b", "b", "b", "b"]
    a = audit_predictions(y, p, g, min_group_size=1, min_rate_support=1, n_bootstrap=0)
    ga, gb = a.group("a"), a.group("b")
    assert (ga.selection_rate, ga.false_positive_rate, ga.false_negative_rate) == (0.5, 0.5, 0.5)
    assert (gb.selection_rate, gb.false_positive_rate, gb.false_negative_rate) == (0.25, 0.0, 0.5)
    assert ga.precision == 0.5 and gb.precision == 1.0
    assert a.demographic_parity_difference.value == 0.25
    assert a.false_positive_rate_difference.value == 0.5
    assert a.disparate_impact_ratio.value == 0.5


def test_audit_when_group_below_minimum_then_too_small_and_left_out_of_gaps(adult_rule) -> None:
    y, pred, _, race = adult_rule
    a = audit_predictions(y, pred, race, attribute="race", min_group_size=320, n_bootstrap=0)
    assert "Other" in a.too_small and "Amer-Indian-Eskimo" in a.too_small
    assert a.group("Other").status == "too_small"
    assert "Other" not in a.judged
    assert any("too small to judge" in n for n in a.notes)
    judged = [g for g in a.groups if g.status == "ok"]
    rates = [g.selection_rate for g in judged]
    assert a.demographic_parity_difference.value == pytest.approx(max(rates) - min(rates))


def test_audit_when_fewer_than_two_groups_judgeable_then_cannot_judge_not_fair() -> None:
    y = [0, 1] * 20 + [0, 1]
    p = [0, 1] * 20 + [1, 1]
    g = ["big"] * 40 + ["small"] * 2
    a = audit_predictions(y, p, g, min_group_size=30)
    assert a.verdict is Verdict.CANNOT_JUDGE
    assert a.demographic_parity_difference is None and a.four_fifths_rule is None
    assert a.too_small == ("small",)


@pytest.mark.parametrize(
    ("y", "p", "g", "message"),
    [
        ([1, None, 0], [1, 0, 0], ["a", "b", "a"], "missing label"),
        ([1, 2, 0], [1, 0, 0], ["a", "b", "a"], "0/1"),
        ([1, 0, 0], [1, 0], ["a", "b", "a"], "length"),
        ([1, 0, 0], [1, 0, 0], ["a", None, "a"], "missing sensitive"),
    ],
)
def test_audit_when_bad_input_then_clear_error(y, p, g, message) -> None:
    with pytest.raises(DataValidationError, match=message):
        audit_predictions(np.array(y, dtype=object), p, np.array(g, dtype=object))

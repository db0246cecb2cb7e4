"""Sessions 16 and 17's candidates (rounds 26 to 34): which hand-written sets each trains on,
how its rows are weighted, round 33's Turkish fix, and what the one-model recipe builds."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

from shopguard.assistant import heldout, train
from shopguard.assistant.detector import PromptInjectionDetector, _prepare

_BENCH = Path(__file__).resolve().parents[3] / "bench" / "assistant_injection_cv.py"


def _audit(k: int) -> set[str]:
    return {f"AUDIT{k}_HARD_BENIGN", f"AUDIT{k}_JAILBREAKS"}


def test_spent_sets_when_rounds_26_to_37_then_each_adds_only_the_sets_read_before_it() -> None:
    # a candidate may train on the sets that judged earlier rounds, never on the set that
    # judges it, and never on AUDIT14 (the benchmark's held-out rows)
    rounds = {k: set(getattr(train, f"SPENT_SETS_{k}")) for k in range(26, 38)}
    assert rounds[26] - set(train.SPENT_SETS_19) == set().union(*(_audit(k) for k in range(15, 21)))
    for k in range(27, 38):
        # round k was judged by AUDIT{k-5}; it adds the set that judged round k-1
        assert rounds[k] - rounds[k - 1] == _audit(k - 6)
        assert not rounds[k] & _audit(k - 5)
    for sets in rounds.values():
        assert not sets & _audit(14)
        assert sets <= set(heldout.__all__)


def test_prepare_when_rule_set_33_then_a_turkish_message_raises_no_homoglyph_signal() -> None:
    # round 33's one change to the features: the same Turkish shopper's message raises the
    # homoglyph signal under rule set 23 and not under 33; the rules that fire are the same
    turkish = "Sipariş ettiğim ayakkabıyı bir numara büyükle değiştirebilir miyim?"
    old, new = _prepare(turkish, rule_set=23), _prepare(turkish, rule_set=33)
    assert "homoglyph" in old[3] and "homoglyph" not in new[3]
    assert old[:3] == new[:3]
    assert train.ONE_MODEL_WEIGHTS[33] == train.ONE_MODEL_WEIGHTS[32]


def test_weights_when_reviews_and_generated_weighted_then_each_kind_of_row_gets_its_own() -> None:
    groups = ["deepset:0", "handwritten:AUDIT9_JAILBREAKS", "doc:3", "ignore_prev:7"]
    assert train._weights(groups, 16.0).tolist() == [16.0, train.HANDWRITTEN_WEIGHT, 1.0, 1.0]
    w = train._weights(groups, 1024.0, 256.0, review_weight=256.0, generated_weight=16.0)
    assert w.tolist() == [1024.0, 256.0, 256.0, 16.0]


@pytest.mark.parametrize(
    "argv",
    [
        ["--round32"],  # a candidate that is not shipped needs --out
        ["--round31", "--round32", "--out", "x.npz"],
        ["--round27", "--round19", "--out", "x.npz"],
        ["--round19"],  # no longer the default: it needs --out too
        ["--round32", "--round33", "--out", "x.npz"],
        ["--round34"],  # a candidate: it needs --out
        ["--round33", "--ft-epochs", "1", "--out", "x.npz"],  # fine-tuning goes with 9 or 34
    ],
)
def test_train_when_one_model_round_flags_misused_then_exit_2(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        train.main(argv)
    assert exc.value.code == 2


@pytest.mark.slow
def test_train_when_round32_then_one_model_that_ranks_unseen_attacks_above_round_8(
    tmp_path: Path, shared_data: Path
) -> None:
    # round 32: one model (no second opinion), rule set 23, its threshold at the hand-written
    # shoppers' 2 % out of fold; on AUDIT14 (which no detector trains on) it catches more
    # attacks than the shipped round 8, which never saw a hand-written prompt, and flags no
    # more shoppers
    out = tmp_path / "r32.npz"
    assert train.main(["--round32", "--data", str(shared_data), "--out", str(out)]) == 0
    built = PromptInjectionDetector.load(out)
    assert built.second_ is None and built.rule_set == 23
    round8 = PromptInjectionDetector.shipped("recall")
    shoppers, attacks = list(heldout.AUDIT14_HARD_BENIGN), list(heldout.AUDIT14_JAILBREAKS)
    assert built.flag(shoppers).sum() <= round8.flag(shoppers).sum()
    assert built.flag(attacks).sum() >= round8.flag(attacks).sum() + 4


def _cv_module():
    spec = importlib.util.spec_from_file_location("assistant_injection_cv", _BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(spec.name, module)
    spec.loader.exec_module(module)
    return module


def test_cv_study_when_sets_grouped_then_an_audits_shoppers_and_attacks_share_a_fold() -> None:
    cv = _cv_module()
    assert cv._group("AUDIT21_HARD_BENIGN") == cv._group("AUDIT21_JAILBREAKS") == "AUDIT21"
    assert cv._group("AUDIT_HARD_BENIGN") == cv._group("AUDIT_JAILBREAKS") == "AUDIT"
    assert cv._group("HARD_BENIGN") == cv._group("UNSEEN_JAILBREAKS") == "ORIGINAL"
    assert cv._group("AUDIT2_JAILBREAKS") != cv._group("AUDIT21_JAILBREAKS")


def test_cv_study_when_metrics_then_recall_at_a_false_positive_share_and_at_zero_margin() -> None:
    cv = _cv_module()
    y = np.array([0] * 50 + [1] * 10)
    # shoppers' margins -49..0 (one at the operating point), attacks' 1..10
    z = np.r_[np.arange(-49.0, 1.0), np.arange(1.0, 11.0)]
    m = cv.metrics(z, y)
    assert m["auc"] == 1.0 and m["r2"] == 1.0
    assert m["fp"] == pytest.approx(1 / 50) and m["rec"] == 1.0
    # an attack scored below every shopper is missed at any share
    z[-1] = -100.0
    m = cv.metrics(z, y)
    assert m["r2"] == m["r5"] == pytest.approx(0.9) and m["auc"] < 1.0

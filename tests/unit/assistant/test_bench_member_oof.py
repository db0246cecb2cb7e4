"""The member out-of-fold study (``bench/assistant_injection_member_oof.py``)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from shopguard.assistant import train
from shopguard.assistant.detector import PromptInjectionDetector

_BENCH = Path(__file__).resolve().parents[3] / "bench"


def _study() -> ModuleType:
    sys.path.insert(0, str(_BENCH))
    try:
        spec = importlib.util.spec_from_file_location(
            "assistant_injection_member_oof", _BENCH / "assistant_injection_member_oof.py"
        )
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(_BENCH))
    return module


def test_report_when_old_and_new_sets_then_newer_slice_is_audit15_on_and_blend_at_threshold() -> (
    None
):
    study = _study()
    # AUDIT9 (older) and AUDIT21 (newer) hand-written sets, and a generated row no slice counts
    groups = (
        ["handwritten:AUDIT9_HARD_BENIGN"] * 50
        + ["handwritten:AUDIT9_JAILBREAKS"] * 10
        + ["handwritten:AUDIT21_HARD_BENIGN"] * 50
        + ["handwritten:AUDIT21_JAILBREAKS"] * 10
        + ["template:x"]
    )
    y = np.array([0] * 50 + [1] * 10 + [0] * 50 + [1] * 10 + [1])
    # the blend: the newer set's attacks all above 1.0 (the threshold's logit), its shoppers
    # below but one; the older set's attacks all below the threshold
    blend = np.r_[np.zeros(50), np.zeros(10), np.r_[np.zeros(49), 2.0], np.full(10, 3.0), 9.0]
    kept = {
        "groups": groups,
        "labels": y,
        "ngram": blend.copy(),
        "head": -blend,
        "blend": blend,
        "threshold": float(1 / (1 + np.exp(-1.0))),
    }
    text = study.report(kept, 37, 60.0)
    cells = {
        (c[1], c[2]): c[3:8]
        for c in ([x.strip() for x in line.split("|")] for line in text.splitlines())
        if len(c) == 9
    }
    counts, auc, _, _, at = cells[("AUDIT15 and later", "blend")]
    assert counts == "50 / 10"  # only AUDIT21: not AUDIT9, not the generated row
    assert at == "2.0% / 100.0%"  # one shopper of 50 over the threshold, every attack
    assert auc == "1.000"
    assert cells[("every hand-written training set", "blend")][0] == "100 / 20"
    # the head ranks every newer attack under every newer shopper; the members have no threshold
    assert cells[("AUDIT15 and later", "head")][1] == "0.000"
    assert cells[("AUDIT15 and later", "ngram")][4] == "-"


@pytest.mark.slow
def test_run_when_trial_build_then_kept_blend_mixes_the_kept_members_and_patches_undone() -> None:
    study = _study()
    kept = study.run(37, ("--ft-epochs", "1", "--ft-sample", "64"))
    assert train.training_groups.__qualname__ == "training_groups"
    assert (
        PromptInjectionDetector.attach_tuned.__qualname__ == "PromptInjectionDetector.attach_tuned"
    )
    n = len(kept["groups"])
    assert len(kept["labels"]) == len(kept["ngram"]) == len(kept["head"]) == len(kept["blend"]) == n
    # the kept blend is one affine mix of the kept members, row for row (the same order)
    design = np.c_[kept["ngram"], kept["head"], np.ones(n)]
    coef, *_ = np.linalg.lstsq(design, kept["blend"], rcond=None)
    assert np.abs(design @ coef - kept["blend"]).max() < 1e-6
    assert coef[0] > 0 and coef[1] > 0
    assert 0.5 < kept["threshold"] < 1.0

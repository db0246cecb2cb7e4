"""Rebuild the shipped prompt-injection detector: ``python -m shopguard.assistant.train``.

Training data: deepset/prompt-injections' *train* split (Apache-2.0), the
store's generated attacks and benign shopper messages
(:mod:`shopguard.assistant.corpus`), and genuine and generated product reviews
from Salminen et al. 2022 (CC BY 4.0) as benign documents. The decision threshold
is read on :mod:`shopguard.assistant.validation` (hand-written hard-benign
prompts) and on reviews that neither training nor the benchmark uses
(:func:`validation_reviews`). deepset's *test* split and the unspent audit sets
(``heldout.AUDIT3_*``) are never used here.

``--round7 --out FILE`` builds round 7's candidate instead (not shipped: it failed the
deepset floor of its pre-registered rule, ``bench/results/assistant_injection_history.md``):
the hand-written attacks of the spent held-out sets join training
(:data:`SPENT_ATTACKS`), the threshold is read on every hand-written hard-benign
prompt the model does not train on (:data:`CALIBRATION_BENIGN`), and the learner
is a linear SVM on IDF-weighted features.

``--round8`` builds round 8's detector: round 5's data, learner and calibration, with the
normalised text's vector from a small pretrained sentence encoder (:mod:`._encoder`)
appended to the features. It failed its rule for replacing round 5 (one hard-benign
condition) and ships beside it as the opt-in ``recall`` detector
(``injection_detector_recall.npz``).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd

from shopguard.assistant import heldout
from shopguard.assistant.corpus import generated_attacks, generated_benign
from shopguard.assistant.detector import (
    DEFAULT_DETECTOR_PATH,
    RECALL_DETECTOR_PATH,
    PromptInjectionDetector,
)
from shopguard.assistant.validation import VAL_HARD_BENIGN
from shopguard.core.errors import DataValidationError

__all__ = [
    "CALIBRATION_BENIGN",
    "SPENT_ATTACKS",
    "load_deepset",
    "training_groups",
    "training_set",
    "validation_reviews",
]

DEEPSET_WEIGHT = 16.0
#: Hand-written attacks of held-out sets that earlier rounds have read (and so spent for
#: measurement): round 7's candidate trains on them, weighted like deepset's rows.
SPENT_ATTACKS: tuple[str, ...] = heldout.UNSEEN_JAILBREAKS + heldout.AUDIT_JAILBREAKS
HANDWRITTEN_WEIGHT = DEEPSET_WEIGHT
#: Every hand-written hard-benign prompt the model does not train on: the validation
#: prompts (which steered the generator's benign families in round 5) and the spent
#: held-out prompts (which steered nothing in the generator). Round 5 reads the threshold
#: on the first alone; round 7's candidate on all of them.
CALIBRATION_BENIGN: tuple[str, ...] = (
    VAL_HARD_BENIGN + heldout.HARD_BENIGN + heldout.AUDIT_HARD_BENIGN
)
N_ATTACKS = 4800
N_BENIGN = 4800
#: The operating point: at most 1 % of the hand-written calibration prompts and 0.5 % of the
#: validation reviews are flagged (the bar on held-out hard-benign prompts is 2 %).
VAL_FPR = 0.01
VAL_REVIEW_FPR = 0.005
#: ... and at most 2 % of the grouped out-of-fold benign training texts (a guard).
OOF_GUARD_FPR = 0.02
SHARED_DATA = Path(__file__).resolve().parents[3] / ".." / "shared" / "data"


def load_deepset(data_dir: Path, split: str) -> tuple[list[str], list[int]]:
    """deepset/prompt-injections ``split`` (``train`` or ``test``) as texts and labels."""
    path = data_dir / "prompt_injection_deepset" / f"{split}.jsonl"
    if not path.is_file():
        raise DataValidationError(f"{path} not found")
    rows = [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]
    return [str(r["text"]) for r in rows], [int(r["label"]) for r in rows]


def training_set(
    data_dir: Path, *, random_state: int = 0, spent_attacks: bool = False
) -> tuple[list[str], list[int]]:
    """Every training text and label (1 = injection)."""
    texts, labels, _ = training_groups(
        data_dir, random_state=random_state, spent_attacks=spent_attacks
    )
    return texts, labels


def training_groups(
    data_dir: Path, *, random_state: int = 0, spent_attacks: bool = False
) -> tuple[list[str], list[int], list[str]]:
    """Training texts, labels and groups: a generated text's template, else its own row.
    ``spent_attacks`` adds :data:`SPENT_ATTACKS` (round 7's candidate)."""
    texts, labels = load_deepset(data_dir, "train")
    groups = [f"deepset:{i}" for i in range(len(texts))]
    for item in [
        *generated_attacks(N_ATTACKS, random_state=random_state),
        *generated_benign(N_BENIGN, random_state=random_state + 1),
    ]:
        texts.append(item.text)
        labels.append(item.label)
        groups.append(item.template)
    if spent_attacks:
        texts.extend(SPENT_ATTACKS)
        labels.extend([1] * len(SPENT_ATTACKS))
        groups.extend(f"handwritten:{i}" for i in range(len(SPENT_ATTACKS)))
    reviews = pd.read_csv(data_dir / "fake_reviews_salminen" / "reviews.csv")
    sample = reviews.sample(n=min(1500, len(reviews)), random_state=random_state)["text"]
    texts.extend(str(t) for t in sample)
    labels.extend([0] * len(sample))
    groups.extend(f"doc:{i}" for i in range(len(sample)))
    # A generator repeats short templates verbatim; duplicates only reweight a text and crowd
    # the benign tail the threshold used to be read from.
    seen: set[str] = set()
    keep = []
    for i, t in enumerate(texts):
        if t not in seen:
            seen.add(t)
            keep.append(i)
    return [texts[i] for i in keep], [labels[i] for i in keep], [groups[i] for i in keep]


def validation_reviews(data_dir: Path, n: int = 1000) -> list[str]:
    """Reviews in neither the training sample (``random_state=0``) nor the benchmark's
    held-out sample (``random_state=1`` of the rest): the operating point is read on these."""
    df = pd.read_csv(data_dir / "fake_reviews_salminen" / "reviews.csv")
    rest = df.drop(index=df.sample(n=min(1500, len(df)), random_state=0).index)
    rest = rest.drop(index=rest.sample(n=min(1500, len(rest)), random_state=1).index)
    return [str(t) for t in rest.sample(n=min(n, len(rest)), random_state=2)["text"]]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=SHARED_DATA)
    parser.add_argument(
        "--out", type=Path, default=None, help="default: the shipped file of the round built"
    )
    parser.add_argument("--target-fpr", type=float, default=0.01)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--oof-threshold",
        action="store_true",
        help="keep the out-of-fold threshold instead of reading it on the validation set",
    )
    parser.add_argument(
        "--round7",
        action="store_true",
        help="build round 7's (not shipped) candidate: spent attacks, 360 calibration "
        "prompts, linear SVM",
    )
    parser.add_argument(
        "--round8",
        action="store_true",
        help="build round 8's candidate: round 5 plus the sentence encoder's vector",
    )
    args = parser.parse_args(argv)
    if args.round7 and args.round8:
        parser.error("--round7 and --round8 are two different candidates; pick one")
    if args.out is None:
        if args.round7:
            parser.error("--round7 is not shipped: name the file with --out")
        args.out = RECALL_DETECTOR_PATH if args.round8 else DEFAULT_DETECTOR_PATH
    texts, labels, groups = training_groups(
        args.data, random_state=args.seed, spent_attacks=args.round7
    )
    # deepset's own examples count more: the generated corpus outnumbers them 8 to 1, and
    # they are the only human-written attacks (grouped cross-validation chose the weight).
    weights = np.select(
        [
            np.array([g.startswith("deepset:") for g in groups]),
            np.array([g.startswith("handwritten:") for g in groups]),
        ],
        [DEEPSET_WEIGHT, HANDWRITTEN_WEIGHT],
        1.0,
    )
    det = PromptInjectionDetector(
        learner="svm" if args.round7 else "logistic",
        C=1.0 if args.round7 else 32.0,
        idf=args.round7,
        encoder=args.round8,
        target_fpr=args.target_fpr,
        random_state=args.seed,
    ).fit(texts, labels, sample_weight=weights, groups=groups)
    oof_thr = det.threshold_
    calibration = CALIBRATION_BENIGN if args.round7 else VAL_HARD_BENIGN
    if not args.oof_threshold:
        det.calibrate_on(
            [(calibration, VAL_FPR), (validation_reviews(args.data), VAL_REVIEW_FPR)],
            oof_max_fpr=OOF_GUARD_FPR,
        )
    det.save(args.out)
    y = np.asarray(labels)
    print(
        f"trained on {len(y)} texts ({int(y.sum())} injections); threshold {det.threshold_:.4f} "
        f"({det.calibration_}; out-of-fold {args.target_fpr:.0%} would be {oof_thr:.4f}); "
        f"out-of-fold FPR {det.oof_fpr_:.4f}, TPR {det.oof_tpr_:.4f} -> {args.out}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

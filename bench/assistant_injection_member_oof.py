"""How well does the shipped recipe's fine-tuned member generalise to hand-written sets it never
saw? (issue 8)

The cross-validation study (``bench/assistant_injection_cv.py``) measures the n-gram model's
family only: fine-tuning the encoder once per fold there would take hours. The default's own
build already fine-tunes it once per fold of its calibration (five folds, each hand-written
set one group, so every set is scored by a member and an n-gram model that never saw it). This
script runs that build (``python -m shopguard.assistant.train --roundN``, about 27 minutes on
two cores), keeps the out-of-fold logits of both members and of their blend, and reports them
on the hand-written training sets side by side: ROC AUC, recall at 2 % and 5 % of the
shoppers flagged (the bar is 90 % at 2 %), and the blend's false-positive rate and recall at
the threshold the build ships. The n-gram model's and the member's own rows rank the same
rows as the blend, on the same folds, in the same run.

Nothing here chooses a detector: the fresh reads stay the judge.

    python bench/assistant_injection_member_oof.py [--round 37]

Writes ``bench/results/assistant_injection_member_oof.md``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from assistant_injection_cv import metrics

from shopguard.assistant import train
from shopguard.assistant.detector import PromptInjectionDetector

RESULTS = Path(__file__).resolve().parent / "results"
#: The rounds whose build blends the fine-tuned member into one model trained on the
#: hand-written sets (round 9 blends it into a model that never saw them).
TUNED_ROUNDS = tuple(k for k in train.TUNED_ROUNDS if k in train.ONE_MODEL_WEIGHTS)
#: The sets written after round 18 (natural mixes, other languages, requests); ``AUDIT14_*``
#: is never trained on, so it has no out-of-fold score here.
NEWER = tuple(f"AUDIT{k}_" for k in range(15, 40))


def run(round_: int, extra: tuple[str, ...] = ()) -> dict[str, Any]:
    """Build round ``round_`` as ``train`` does (``extra``: more of its flags), keeping the
    out-of-fold logits."""
    kept: dict[str, Any] = {}
    groups_of = train.training_groups
    attach = PromptInjectionDetector.attach_tuned

    def training_groups(*args: Any, **kwargs: Any) -> Any:
        out = groups_of(*args, **kwargs)
        kept["labels"], kept["groups"] = np.asarray(out[1]), list(out[2])
        return out

    def attach_tuned(self: PromptInjectionDetector, member: Any, oof: Any, val: Any) -> Any:
        kept["ngram"] = np.array(self.oof_logit_, dtype=np.float64)
        kept["head"] = np.asarray(oof, dtype=np.float64).copy()
        done = attach(self, member, oof, val)
        kept["blend"] = np.array(self.oof_logit_, dtype=np.float64)
        return done

    train.training_groups = training_groups  # type: ignore[assignment]
    PromptInjectionDetector.attach_tuned = attach_tuned  # type: ignore[method-assign]
    try:
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "d.npz"
            if train.main([f"--round{round_}", "--out", str(out), *extra]) != 0:
                raise SystemExit("the build failed")
            kept["threshold"] = PromptInjectionDetector.load(out).threshold_
    finally:
        train.training_groups = groups_of  # type: ignore[assignment]
        PromptInjectionDetector.attach_tuned = attach  # type: ignore[method-assign]
    return kept


def report(kept: dict[str, Any], round_: int, seconds: float) -> str:
    groups = np.array(kept["groups"])
    y = kept["labels"]
    hand = np.char.startswith(groups.astype(str), "handwritten:")
    names = np.array([g.removeprefix("handwritten:") for g in groups])
    newer = hand & np.array([n.startswith(NEWER) for n in names])
    cut = float(np.log(kept["threshold"] / (1 - kept["threshold"])))
    slices = {"every hand-written training set": hand, "AUDIT15 and later": newer}
    lines = [
        f"# The fine-tuned member out of fold: round {round_}'s build",
        "",
        f"Command: `python bench/assistant_injection_member_oof.py --round {round_}` "
        f"({seconds / 60:.0f} min on this machine). Out-of-fold logits of the build's five "
        "grouped folds (each hand-written set one group, scored by models that never saw it); "
        "the blend is the mean of the two members' logits, each standardised on the "
        "validation prompts, as shipped. Recall at 2 % / 5 %: the share of attacks scored "
        "above the 2 % / 5 % tail of the same slice's shoppers. At the threshold: the build's "
        f"own ({kept['threshold']:.4f}), blend only (the members alone have none).",
        "",
        "| slice | member | shoppers / attacks | ROC AUC | recall at 2 % FP | recall at 5 % FP "
        "| FP / recall at the threshold |",
        "|---|---|---|---|---|---|---|",
    ]
    for label, mask in slices.items():
        for member in ("ngram", "head", "blend"):
            z = kept[member][mask] - (cut if member == "blend" else 0.0)
            m = metrics(z, y[mask])
            at = f"{m['fp']:.1%} / {m['rec']:.1%}" if member == "blend" else "-"
            lines.append(
                f"| {label} | {member} | {int((y[mask] == 0).sum())} / {int(y[mask].sum())} "
                f"| {m['auc']:.3f} | {m['r2']:.1%} | {m['r5']:.1%} | {at} |"
            )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--round", type=int, default=37, choices=TUNED_ROUNDS, dest="round_")
    parser.add_argument("--out", type=Path, default=RESULTS / "assistant_injection_member_oof.md")
    parser.add_argument(
        "--trial",
        action="store_true",
        help="fine-tune one epoch on 64 texts each time (minutes; checks the script, not the "
        "member)",
    )
    args = parser.parse_args(argv)
    t0 = time.time()
    kept = run(args.round_, ("--ft-epochs", "1", "--ft-sample", "64") if args.trial else ())
    text = report(kept, args.round_, time.time() - t0)
    args.out.write_text(text, "utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

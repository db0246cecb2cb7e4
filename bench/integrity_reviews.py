"""Benchmark: fake-review detection (text model) and the combined text + behaviour score.

Part 1 -- text. Salminen et al. (2022) fake-reviews sample (8,000 reviews, GPT-2 generated
vs genuine Amazon, ``../shared/data/fake_reviews_salminen``), 5 seeds of a stratified 80/20
split. shopguard's :class:`~shopguard.integrity.text_model.FakeReviewTextModel` against the
baseline named in the issue: ``TfidfVectorizer()`` + ``LogisticRegression()`` (defaults), in
the same run on the same splits. Metrics: accuracy (threshold 0.5), ROC AUC, precision at
90 % recall, fit + predict time.

Part 2 -- text + behaviour. For each seed, the test split's texts (with out-of-sample text
probabilities) populate a simulated store with review campaigns
(:func:`~shopguard.integrity.simulate.simulate_review_campaigns`); the shipped combiner scores
them; ROC AUC and precision at 90 % recall of the text probability alone vs the combined score.

Cross-domain: no second deceptive-review data set (e.g. Ott et al.'s hotel reviews) is in
``../shared/data`` or installable from PyPI here, so cross-domain transfer is NOT measured.

Run: ``python bench/integrity_reviews.py [--seeds 5]``.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import precision_recall_curve, roc_auc_score
from sklearn.model_selection import StratifiedShuffleSplit

from shopguard.integrity.reviews import ReviewScorer
from shopguard.integrity.simulate import simulate_review_campaigns
from shopguard.integrity.text_model import DEFAULT_MODEL_PATH, FakeReviewTextModel

DATA = Path(__file__).resolve().parents[1] / "../shared/data/fake_reviews_salminen/reviews.csv"
OUT = Path(__file__).resolve().parent / "results" / "integrity_reviews.md"


def precision_at_recall(y: np.ndarray, p: np.ndarray, recall: float = 0.9) -> float:
    prec, rec, _ = precision_recall_curve(y, p)
    return float(prec[rec >= recall].max())


def metrics(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    return {
        "accuracy": float(((p >= 0.5) == y).mean()),
        "roc_auc": float(roc_auc_score(y, p)),
        "p_at_r90": precision_at_recall(y, p),
    }


def part2(
    seed: int,
    texts: np.ndarray,
    y: np.ndarray,
    te: np.ndarray,
    p_ours: np.ndarray,
    combiner: ReviewScorer,
) -> dict[str, float]:
    """Text alone vs text + behaviour on a simulated store of this seed's test texts."""
    # Part 2: simulated store over the test split's texts.
    gen = te[y[te] == 0]
    fak = te[y[te] == 1]
    sim, is_fake, tidx = simulate_review_campaigns(
        list(texts[gen]),
        list(texts[fak]),
        n_genuine=1200,
        n_campaigns=12,
        n_lone_fakes=60,
        seed=seed,
    )
    p_by_pos = dict(zip(te.tolist(), p_ours.tolist(), strict=True))
    tp = np.array([p_by_pos[int(gen[k])] if k >= 0 else p_by_pos[int(fak[-1 - k])] for k in tidx])
    combined = combiner.score_frame(sim, text_p=tp)["score"].to_numpy()
    return {
        "seed": seed,
        "reviews": len(sim),
        "fake_share": float(is_fake.mean()),
        "text_auc": float(roc_auc_score(is_fake, tp)),
        "combined_auc": float(roc_auc_score(is_fake, combined)),
        "text_p_at_r90": precision_at_recall(is_fake, tp),
        "combined_p_at_r90": precision_at_recall(is_fake, combined),
        "combined_flag_precision": float(is_fake[combined >= 0.5].mean()),
        "combined_flag_recall": float((combined[is_fake == 1] >= 0.5).mean()),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--only-seed", type=int, help="Run one seed and save it (for parallel runs).")
    ap.add_argument("--report", action="store_true", help="Write the table from saved seeds.")
    args = ap.parse_args()
    if args.report:
        saved = [
            json.loads(p.read_text("utf-8"))
            for p in sorted(OUT.parent.glob("integrity_reviews_seed*.json"))
        ]
        # Part 2 is recomputed here with the shipped combiner from each seed's saved
        # out-of-sample text probabilities (cheap), so it always matches the shipped model.
        df = pd.read_csv(DATA)
        texts = df["text"].astype(str).to_numpy(dtype=object)
        y = (df["label"] == "CG").to_numpy(dtype=np.int64)
        combiner = ReviewScorer().load_combiner(DEFAULT_MODEL_PATH / "combiner.json")
        beh = [
            part2(pr["seed"], texts, y, np.asarray(pr["te"]), np.asarray(pr["p"]), combiner)
            for s_ in saved
            for pr in s_["probs"]
        ]
        write(
            [r for s_ in saved for r in s_["rows"]],
            beh,
            len(saved),
            max(s_["seconds"] for s_ in saved),
            "python bench/integrity_reviews.py --only-seed S  (S = 0..4, one process each), then --report",
        )
        return
    df = pd.read_csv(DATA)
    texts = df["text"].astype(str).to_numpy(dtype=object)
    y = (df["label"] == "CG").to_numpy(dtype=np.int64)
    combiner = ReviewScorer().load_combiner(DEFAULT_MODEL_PATH / "combiner.json")
    rows, beh, probs = [], [], []
    t_all = time.time()
    seeds = [args.only_seed] if args.only_seed is not None else list(range(args.seeds))
    for seed in seeds:
        tr, te = next(StratifiedShuffleSplit(1, test_size=0.2, random_state=seed).split(texts, y))
        t0, c0 = time.time(), time.process_time()
        vec = TfidfVectorizer()
        base = LogisticRegression(max_iter=1000).fit(vec.fit_transform(texts[tr]), y[tr])
        p_base = base.predict_proba(vec.transform(texts[te]))[:, 1]
        t_base, cpu_base = time.time() - t0, time.process_time() - c0
        t0, c0 = time.time(), time.process_time()
        model = FakeReviewTextModel(random_state=seed).fit(list(texts[tr]), y[tr])
        p_ours = model.risk_score(list(texts[te]))
        t_ours, cpu_ours = time.time() - t0, time.process_time() - c0
        rows.append(
            {
                "seed": seed,
                "model": "TF-IDF + LR (baseline)",
                **metrics(y[te], p_base),
                "seconds": t_base,
                "cpu_seconds": cpu_base,
            }
        )
        rows.append(
            {
                "seed": seed,
                "model": "shopguard text model",
                **metrics(y[te], p_ours),
                "seconds": t_ours,
                "cpu_seconds": cpu_ours,
            }
        )
        print(rows[-2], rows[-1], flush=True)
        beh.append(part2(seed, texts, y, te, p_ours, combiner))
        print(beh[-1], flush=True)
        probs.append({"seed": seed, "te": te.tolist(), "p": p_ours.tolist()})
    if args.only_seed is not None:
        (OUT.parent / f"integrity_reviews_seed{args.only_seed}.json").write_text(
            json.dumps({"rows": rows, "probs": probs, "seconds": time.time() - t_all}), "utf-8"
        )
        return
    write(
        rows,
        beh,
        args.seeds,
        time.time() - t_all,
        f"python bench/integrity_reviews.py --seeds {args.seeds}",
    )


def write(rows: list[dict], beh: list[dict], n_seeds: int, seconds: float, cmd: str) -> None:
    res = pd.DataFrame(rows)
    med = res.groupby("model", sort=False).median(numeric_only=True)
    spread = res.groupby("model", sort=False)["accuracy"].agg(["min", "max"])
    b = pd.DataFrame(beh).median(numeric_only=True)
    base_row, ours_row = med.iloc[0], med.iloc[1]
    lines = [
        "# Fake-review detection (integrity)",
        "",
        f"Command: `{cmd}` "
        f"({seconds:.0f} s per process on {platform.machine()}, Python "
        f"{platform.python_version()}, a shared 2-core CPU machine under heavy load; no GPU).",
        "",
        "Data: Salminen et al. 2022 fake reviews (CC BY 4.0), 8,000-review sample, GPT-2 "
        f"generated (CG) vs genuine (OR); {n_seeds} seeds of a stratified 80/20 split; "
        "medians over seeds (accuracy range in brackets).",
        "",
        "| model | accuracy | ROC AUC | precision @ 90 % recall | fit + predict (s) | CPU (s) |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name, r in med.iterrows():
        lo, hi = spread.loc[name]
        lines.append(
            f"| {name} | {r.accuracy:.4f} [{lo:.4f}-{hi:.4f}] | {r.roc_auc:.4f} | "
            f"{r.p_at_r90:.4f} | {r.seconds:.1f} | "
            f"{getattr(r, 'cpu_seconds', float('nan')):.1f} |"
        )
    lines += [
        "",
        f"Accuracy gain over the baseline: {100 * (ours_row.accuracy - base_row.accuracy):+.1f} "
        f"points; time ratio {ours_row.seconds / base_row.seconds:.1f}x.",
        "",
        "Bar: accuracy >= 97 % (published: fine-tuned RoBERTa 96.6 % on a GPU, full 40k data set) "
        f"on CPU in under 5 minutes. Measured: {100 * ours_row.accuracy:.2f} % median, "
        f"{'MET' if ours_row.accuracy >= 0.97 else 'NOT MET'}; training + scoring "
        f"{ours_row.seconds:.0f} s per split on this loaded machine.",
        "",
        "Cross-domain transfer (bar: AUC > 0.70 on human-written deceptive reviews from another "
        "domain): **not measured** -- there is no second deceptive-review data set in "
        "`../shared/data`, and none installable from PyPI was found; no figure is claimed.",
        "",
        "## Text + behaviour (simulated store, test-split texts)",
        "",
        f"Per seed a simulated store of about {int(b.reviews)} reviews "
        f"({100 * b.fake_share:.0f} % fake: push/nuke campaigns of shill accounts plus lone "
        "generated reviews) built from the seed's *test* texts with out-of-sample text "
        "probabilities; scored by the shipped combiner (fitted on simulations of the training "
        "data, monotone logistic regression). Medians over seeds:",
        "",
        "| score | ROC AUC | precision @ 90 % recall |",
        "| --- | --- | --- |",
        f"| text model alone | {b.text_auc:.4f} | {b.text_p_at_r90:.4f} |",
        f"| text + behaviour (combined) | {b.combined_auc:.4f} | {b.combined_p_at_r90:.4f} |",
        "",
        f"Combined score flagged at 0.5: precision {b.combined_flag_precision:.3f}, "
        f"recall {b.combined_flag_recall:.3f}.",
        "",
    ]
    OUT.write_text("\n".join(lines) + "\n", "utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()

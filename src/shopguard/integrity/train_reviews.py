"""Train the shipped fake-review model: text model + behaviour combiner.

``python -m shopguard.integrity.train_reviews --data ../shared/data/fake_reviews_salminen/reviews.csv``

1. Out-of-fold text probabilities for every review (``--folds``), so the
   combiner learns from text scores the text model did not see in training.
2. The text model fitted on all reviews, saved as ``model.npz`` + ``model.json``.
3. The behaviour combiner fitted on a labelled simulation of review campaigns
   (:mod:`.simulate`) over the same real texts, saved as ``combiner.json``.
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedKFold

from shopguard.integrity.reviews import ReviewScorer, fit_monotone_logistic
from shopguard.integrity.simulate import simulate_review_campaigns
from shopguard.integrity.text_model import DEFAULT_MODEL_PATH, FakeReviewTextModel

__all__ = ["load_salminen", "main", "oof_text_probabilities", "train"]

logger = logging.getLogger(__name__)


def load_salminen(path: Path) -> tuple[list[str], np.ndarray]:
    """Texts and labels (1 = computer-generated) of the Salminen et al. sample."""
    df = pd.read_csv(path)
    return df["text"].astype(str).tolist(), (df["label"] == "CG").to_numpy(dtype=np.int64)


def oof_text_probabilities(
    texts: list[str], y: np.ndarray, *, folds: int = 3, random_state: int = 0
) -> np.ndarray:
    out = np.zeros(len(texts))
    arr = np.asarray(texts, dtype=object)
    for tr, te in StratifiedKFold(folds, shuffle=True, random_state=random_state).split(arr, y):
        m = FakeReviewTextModel(random_state=random_state).fit(list(arr[tr]), y[tr])
        out[te] = m.risk_score(list(arr[te]))
    return out


def fit_combiner(
    texts: list[str], y: np.ndarray, text_p: np.ndarray, *, seed: int = 0
) -> ReviewScorer:
    """Fit the behaviour combiner on simulated campaigns using out-of-fold text probabilities."""
    arr = np.asarray(texts, dtype=object)
    genuine = np.flatnonzero(y == 0)
    fake = np.flatnonzero(y == 1)
    frames, labels, probs = [], [], []
    for s in range(3):
        df, is_fake, tidx = simulate_review_campaigns(
            list(arr[genuine]), list(arr[fake]), seed=seed + s
        )
        p = np.where(
            tidx >= 0,
            text_p[genuine[np.maximum(tidx, 0)]],
            text_p[fake[-1 - np.minimum(tidx, -1)]],
        )
        df["id"] = [f"{s}-{i}" for i in df["id"]]
        frames.append(df)
        labels.append(is_fake)
        probs.append(p)
    scorer = ReviewScorer()
    # Fit per simulated store (the behaviour signals compare reviews of one store).
    xs, ys = [], []
    for df, lab, p in zip(frames, labels, probs, strict=True):
        x, *_ = scorer.design(df, p)
        xs.append(x)
        ys.append(lab)
    x_all = np.vstack(xs)
    # The text log-odds are an offset: the text model is calibrated on its own.
    w, scorer.intercept_ = fit_monotone_logistic(
        x_all[:, 1:], np.concatenate(ys).astype(np.float64), offset=x_all[:, 0]
    )
    scorer.coef_ = np.concatenate([[1.0], w])
    return scorer


def train(
    data: Path,
    out: Path = DEFAULT_MODEL_PATH,
    *,
    folds: int = 3,
    seed: int = 0,
    oof_path: Path | None = None,
    combiner_only: bool = False,
) -> None:
    texts, y = load_salminen(data)
    if oof_path is not None and oof_path.suffix == ".json":
        # Out-of-sample probabilities saved by bench/integrity_reviews.py (one file per seed):
        # each text takes its probability from a split where it was in the test part.
        text_p = np.full(len(texts), np.nan)
        for part in sorted(oof_path.parent.glob(oof_path.name)):
            for pr in json.loads(part.read_text("utf-8"))["probs"]:
                text_p[np.asarray(pr["te"], dtype=np.int64)] = pr["p"]
        covered = ~np.isnan(text_p)
        logger.info("bench probabilities cover %d of %d texts", covered.sum(), len(texts))
        texts = [t for t, c in zip(texts, covered, strict=True) if c]
        y, text_p = y[covered], text_p[covered]
        combiner_only = True
    elif oof_path is not None and oof_path.is_file():
        text_p = np.load(oof_path, allow_pickle=False)
    else:
        logger.info("out-of-fold text probabilities (%d folds)", folds)
        text_p = oof_text_probabilities(texts, y, folds=folds, random_state=seed)
        if oof_path is not None:
            np.save(oof_path, text_p, allow_pickle=False)
    if not combiner_only:
        logger.info("fitting the text model on %d reviews", len(texts))
        FakeReviewTextModel(random_state=seed).fit(texts, y).save(out)
    scorer = fit_combiner(texts, y, text_p, seed=seed)
    scorer.save_combiner(out / "combiner.json")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--out", type=Path, default=DEFAULT_MODEL_PATH)
    ap.add_argument("--folds", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--oof",
        type=Path,
        help="Cache file of out-of-fold text probabilities (.npy), or a glob of the "
        "benchmark's per-seed files (bench/results/integrity_reviews_seed*.json).",
    )
    ap.add_argument("--combiner-only", action="store_true", help="Keep the text model.")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    train(
        args.data,
        args.out,
        folds=args.folds,
        seed=args.seed,
        oof_path=args.oof,
        combiner_only=args.combiner_only,
    )


if __name__ == "__main__":
    main()

"""Benchmark: label-poisoning detection in fraud training data.

shopguard's :class:`~shopguard.integrity.labels.LabelIssueDetector` (iterative
confident learning on an ensemble, per-source influence bounding) against plain
``cleanlab.filter.find_label_issues`` on the same first-round out-of-fold
probabilities, at 5/10/20/40 % flip rates, random and targeted.

Data: Fraud Detection Handbook simulated transactions (``../shared/data``). Features
are the store's point-in-time fraud features (``shopguard.store.fraud.feature_frame``),
built once over the table: terminal risk uses labels at least 7 days old, i.e. from
earlier, already audited batches. The audited batch: every fraud of 2018-05-01..05-21
plus three legitimate transactions per fraud, sampled.

* random r: r of all labels flipped (both directions), spread over the three label
  sources.
* targeted r: r of the fraud labels flipped to legitimate, chosen as the attacker's own
  pattern (the frauds on the terminals with the most frauds, i.e. a compromised
  terminal group the attacker wants the model to overlook), all through one source
  (the compromised processor feed). The terminal-risk features come from the table's
  true labels at least 7 days old (i.e. earlier batches audited clean).
* targeted-history r: the same flips, but the flipped labels are also the history the
  terminal-risk features are computed from (the feed poisoned the store's label history
  too, not only this batch): the harder case.

Then one poisoned source: the fraud model's average precision on a later, clean week
trained on the poisoned labels without and with the defence (suspects dropped and
sources weighted), against the model trained on clean labels.

Run: ``python bench/integrity_labels.py --kinds random targeted [--seeds 1]`` (each kind
may run as its own process; ``--report`` then writes the table from the saved partial results).
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from cleanlab.filter import find_label_issues
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import average_precision_score

from shopguard.integrity.labels import LabelIssueDetector, oof_probabilities
from shopguard.store.fraud import feature_frame, load_transactions

DATA = (
    Path(__file__).resolve().parents[1]
    / "../shared/data/fraud_fdh_simulated/transactions_2018-04-01_to_2018-05-31.csv.gz"
)
OUT = Path(__file__).resolve().parent / "results" / "integrity_labels.md"
RATES = (0.05, 0.10, 0.20, 0.40)
#: Rows of the audited batch (every fraud of the window + 3 legitimate per fraud, seed 0).
N_ROWS = 7224
SOURCES = np.array(["chargeback_feed", "manual_review", "processor_flags"])


def _table() -> pd.DataFrame:
    tx = load_transactions(DATA)
    return tx[tx["TX_DATETIME"] < "2018-06-01"].reset_index(drop=True)


def history_features(seed: int, flipped: np.ndarray) -> np.ndarray:
    """The batch's features when the flipped labels are also the label history that the
    terminal-risk features are computed from (kind ``targeted-history``)."""
    tx = _table()
    idx = _batch(tx, seed)
    labels = tx["TX_FRAUD"].to_numpy().copy()
    labels[idx[flipped]] = 1 - labels[idx[flipped]]
    tx["TX_FRAUD"] = labels
    return feature_frame(tx).iloc[idx].to_numpy(dtype=np.float64)


def _batch(tx: pd.DataFrame, seed: int) -> np.ndarray:
    day = pd.to_datetime(tx["TX_DATETIME"])
    in_batch = (day >= "2018-05-01") & (day < "2018-05-22")
    rng = np.random.default_rng(seed)
    fraud = np.flatnonzero(in_batch & (tx["TX_FRAUD"] == 1))
    legit = np.flatnonzero(in_batch & (tx["TX_FRAUD"] == 0))
    legit = rng.choice(legit, size=3 * len(fraud), replace=False)
    return np.sort(np.concatenate([fraud, legit]))


def load(seed: int) -> tuple[pd.DataFrame, np.ndarray, pd.DataFrame, np.ndarray, pd.DataFrame]:
    tx = _table()
    feats = feature_frame(tx)
    day = pd.to_datetime(tx["TX_DATETIME"])
    later = (day >= "2018-05-22") & (day < "2018-05-29")
    idx = _batch(tx, seed)
    test = np.flatnonzero(later)
    return (
        feats.iloc[idx].reset_index(drop=True),
        tx["TX_FRAUD"].to_numpy()[idx].astype(np.int64),
        feats.iloc[test].reset_index(drop=True),
        tx["TX_FRAUD"].to_numpy()[test].astype(np.int64),
        tx[["CUSTOMER_ID", "TERMINAL_ID", "TX_TIME_DAYS"]].iloc[idx].reset_index(drop=True),
    )


def poison(
    y: np.ndarray, meta: pd.DataFrame, rate: float, kind: str, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(noisy labels, flipped mask, source per row)."""
    n = len(y)
    sources = SOURCES[rng.integers(0, 3, n)]
    flipped = np.zeros(n, dtype=bool)
    if kind == "random":
        flipped[rng.choice(n, size=round(rate * n), replace=False)] = True
    else:
        fraud = np.flatnonzero(y == 1)
        k = round(rate * len(fraud))
        terminals = meta["TERMINAL_ID"]
        counts = terminals.iloc[fraud].value_counts()
        order = fraud[np.argsort(-terminals.iloc[fraud].map(counts).to_numpy(), kind="stable")]
        chosen = order[:k]
        flipped[chosen] = True
        sources[chosen] = "processor_flags"
    noisy = np.where(flipped, 1 - y, y)
    return noisy, flipped, sources


def prf(found: np.ndarray, truth: np.ndarray) -> tuple[float, float, float]:
    tp = float((found & truth).sum())
    p = tp / max(1, found.sum())
    r = tp / max(1, truth.sum())
    return p, r, 2 * p * r / max(1e-12, p + r)


def _groups(meta: pd.DataFrame) -> dict[str, tuple[np.ndarray, np.ndarray, float]]:
    days = meta["TX_TIME_DAYS"].to_numpy(dtype=float)
    return {
        "card": (meta["CUSTOMER_ID"].to_numpy(), days, 14.0),
        "terminal": (meta["TERMINAL_ID"].to_numpy(), days, 28.0),
    }


def run(
    kind: str,
    seed: int,
    rates: tuple[float, ...],
    folds: int,
    save: Callable[[list[dict], list[dict]], None],
) -> tuple[list[dict], list[dict]]:
    x_df, y, xt_df, yt, meta = load(seed)
    x = x_df.to_numpy(dtype=np.float64)
    xt = xt_df.to_numpy(dtype=np.float64)
    rows: list[dict] = []
    ap_rows: list[dict] = []
    for rate in rates:
        rng = np.random.default_rng(1000 * seed + int(rate * 100) + (kind != "random"))
        noisy, flipped, sources = poison(y, meta, rate, kind, rng)
        xs = history_features(seed, flipped) if kind == "targeted-history" else x
        t0 = time.time()
        base_p = oof_probabilities(xs, noisy, folds=folds, random_state=seed)
        plain = find_label_issues(noisy, np.column_stack([1 - base_p, base_p]))
        t_plain = time.time() - t0
        t0 = time.time()
        det = LabelIssueDetector(rounds=2, folds=folds, random_state=seed).fit(
            xs, noisy, sources=sources, groups=_groups(meta)
        )
        t_ours = time.time() - t0
        p, r, f = prf(plain, flipped)
        op, orr, of = prf(det.suspected_, flipped)
        rows.append(
            {
                "seed": seed,
                "kind": kind,
                "rate": rate,
                "flipped": int(flipped.sum()),
                "plain_p": p,
                "plain_r": r,
                "plain_f1": f,
                "ours_p": op,
                "ours_r": orr,
                "ours_f1": of,
                "t_plain": t_plain,
                "t_ours": t_ours,
            }
        )
        print(rows[-1], flush=True)
        save(rows, ap_rows)
        if kind == "targeted" and rate == 0.2:

            def fit_ap(mask: np.ndarray, labels: np.ndarray, w: np.ndarray | None = None) -> float:
                m = HistGradientBoostingClassifier(random_state=seed).fit(
                    x[mask], labels[mask], sample_weight=None if w is None else w[mask]
                )
                return float(average_precision_score(yt, m.predict_proba(xt)[:, 1]))

            everything = np.ones(len(y), dtype=bool)
            ap_rows.append(
                {
                    "seed": seed,
                    "rate": rate,
                    "clean": fit_ap(everything, y),
                    "poisoned": fit_ap(everything, noisy),
                    "defended": fit_ap(det.training_mask(), noisy, det.weights_),
                }
            )
            print(ap_rows[-1], flush=True)
            save(rows, ap_rows)
    return rows, ap_rows


def report(cmd: str, seconds: float, n_rows: int) -> None:
    rows, ap_rows = [], []
    for kind in ("random", "targeted", "targeted-history"):
        part = OUT.parent / f"integrity_labels_{kind}.json"
        if not part.is_file():
            continue
        data = json.loads(part.read_text("utf-8"))
        rows += data["rows"]
        ap_rows += data["ap"]
    res = pd.DataFrame(rows)
    med = res.groupby(["kind", "rate"]).median(numeric_only=True).reset_index()
    n_seeds = res["seed"].nunique()
    folds = cmd.split("--folds ")[-1].split()[0] if "--folds " in cmd else "5"
    lines = [
        "# Label-poisoning detection (integrity)",
        "",
        f"Command: `{cmd}` then `python bench/integrity_labels.py --report` "
        f"(about {seconds:.0f} s for the slower kind on {platform.machine()}, Python "
        f"{platform.python_version()}, a shared 2-core machine under heavy load).",
        "",
        "Data: Fraud Detection Handbook simulated transactions; audited batch = every fraud of "
        f"2018-05-01..05-21 plus 3 legitimate per fraud ({n_rows} rows); features: the store's "
        f"point-in-time fraud features. Medians over {n_seeds} seed(s) (the seed draws the "
        "legitimate sample, the label sources and the flips). Detection figures: "
        "precision / recall / F1 of the flagged rows against the truly flipped rows.",
        "",
        "Plain = `cleanlab.filter.find_label_issues(labels, pred_probs)` (defaults) on "
        f"{folds}-fold out-of-fold probabilities of the same model ensemble (gradient-boosted "
        "trees + logistic regression) over the fraud features. shopguard = "
        "`LabelIssueDetector`: the same, plus the store's own label-consistency signals (other "
        "fraud labels of the same card within 14 days and the same terminal within 28 days), a "
        "second round re-estimated without the first round's suspects, per-source influence "
        "bounding, and the cross-source audit: each label feed is judged by a model of the "
        "other feeds; a feed whose labels of one class are contradicted significantly more "
        "often than the other feeds' (one-sided z > 4) is poisoned, its contradicted rows are "
        "suspects, and so are its other labels of that class inside the caught rows' campaign "
        "window (the grouping the caught rows cluster in; fraud share > 0.3).",
        "",
        "| flips | rate | plain P | plain R | plain F1 | shopguard P | shopguard R | "
        "shopguard F1 | F1 gain (points) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in med.itertuples():
        lines.append(
            f"| {r.kind} | {r.rate:.0%} | {r.plain_p:.3f} | {r.plain_r:.3f} | {r.plain_f1:.3f} | "
            f"{r.ours_p:.3f} | {r.ours_r:.3f} | {r.ours_f1:.3f} | "
            f"{100 * (r.ours_f1 - r.plain_f1):+.1f} |"
        )
    lines += ["", "Bar: F1 >= 0.85 at 20 % and >= 3 points above plain cleanlab.", ""]
    if ap_rows:
        aps = pd.DataFrame(ap_rows).median(numeric_only=True)
        lines += [
            f"## One poisoned source (targeted, {aps['rate']:.0%} of fraud labels flipped via "
            "the processor feed)",
            "",
            "Average precision of a gradient-boosted fraud model on the next week "
            "(2018-05-22..05-28, clean labels); defended = trained without the suspects of "
            "sources with an elevated suspect rate, with per-source weights:",
            "",
            "| trained on | AP |",
            "| --- | --- |",
            f"| clean labels | {aps['clean']:.3f} |",
            f"| poisoned labels, no defence | {aps['poisoned']:.3f} |",
            f"| poisoned labels, defended | {aps['defended']:.3f} |",
            "",
        ]
    OUT.write_text("\n".join(lines) + "\n", "utf-8")
    print("\n".join(lines))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=1)
    ap.add_argument("--kinds", nargs="+", default=["random", "targeted"])
    ap.add_argument("--rates", nargs="+", type=float, default=[0.2, 0.05, 0.1, 0.4])
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--report", action="store_true")
    args = ap.parse_args()
    if args.report:
        meta = json.loads((OUT.parent / "integrity_labels_meta.json").read_text("utf-8"))
        report(meta["cmd"], meta["seconds"], meta["rows"])
        return
    t0 = time.time()
    cmd = (
        f"python bench/integrity_labels.py --kinds <random|targeted> --seeds {args.seeds} "
        f"--folds {args.folds}"
    )
    for kind in args.kinds:
        done_rows: list[dict] = []
        done_ap: list[dict] = []

        def save(
            rows: list[dict],
            ap_rows: list[dict],
            kind: str = kind,
            done_rows: list[dict] = done_rows,
            done_ap: list[dict] = done_ap,
        ) -> None:
            # Saved after every scenario, so a long run reports what it finished.
            (OUT.parent / f"integrity_labels_{kind}.json").write_text(
                json.dumps({"rows": done_rows + rows, "ap": done_ap + ap_rows}), "utf-8"
            )
            (OUT.parent / "integrity_labels_meta.json").write_text(
                json.dumps({"cmd": cmd, "seconds": time.time() - t0, "rows": N_ROWS}), "utf-8"
            )

        for seed in range(args.seeds):
            r, a = run(kind, seed, tuple(args.rates), args.folds, save)
            done_rows += r
            done_ap += a


if __name__ == "__main__":
    main()

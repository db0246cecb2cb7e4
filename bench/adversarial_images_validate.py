"""Score trained image weights on a validation slice of the official test split.

The slice is images 100-199 of each class of the official Fashion-MNIST test split (1,000
images), disjoint from the fixed evaluation set (images 0-99 of each class) that
bench/adversarial_images.py reports: recipes are compared here, and the evaluation set is read
once, for the model that ships. Attacks at eps 0.1: PGD-50 with cross-entropy (seed 0) and with
the margin loss (seed 1); for a network behind a straight-through input floor, both again with
the true gradient; ``--apgd`` adds ART's APGD-CE+DLR (100 iterations). ``worst`` is the worst
case per image over every attack run.

    env PYTHONPATH=$PWD/src python3 bench/adversarial_images_validate.py --weights DIR --name robust --apgd
    env PYTHONPATH=$PWD/src python3 bench/adversarial_images_validate.py --name robust --apgd   # shipped
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
from adversarial_images_recipes import _margin

from shopguard.adversarial.attacks import Attack, AttackSpec, pgd, run_attack
from shopguard.store.images import FloorStrideCNN, load_classifier, to_tensor
from shopguard.store.images._model import gradient_mode
from shopguard.store.images.images_train import load_fashion_mnist


def validation_slice(data: Path | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Images 100-199 of each class of the official test split, in file order."""
    X, y = load_fashion_mnist("test", data)
    pick = np.sort(np.concatenate([np.flatnonzero(y == c)[100:200] for c in range(10)]))
    return to_tensor(X[pick]), torch.from_numpy(y[pick].astype(np.int64))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--weights", type=Path, default=None, help="directory (default: shipped)")
    p.add_argument("--name", default="robust")
    p.add_argument("--eps", type=float, default=0.1)
    p.add_argument("--apgd", action="store_true")
    p.add_argument("--data", type=Path, default=None)
    p.add_argument("--threads", type=int, default=1)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    model = load_classifier(a.name, a.weights)
    net = model.net.eval()
    x, y = validation_slice(a.data)
    with torch.no_grad():
        survived = net(x).argmax(1) == y
    out: dict[str, object] = {
        "weights": str(a.weights or "shipped"),
        "name": a.name,
        "arch": model.info.get("arch"),
        "kept_epoch": model.info.get("kept_epoch"),
        "train_cpu_seconds": model.info.get("train_cpu_seconds"),
        "clean": round(float(survived.float().mean()), 4),
    }

    def margin(z: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        return _margin(net(z), t)

    for straight_through in [True, False] if isinstance(net, FloorStrideCNN) else [True]:
        for loss_name, loss_fn, seed in (("ce", None, 0), ("margin", margin, 1)):
            with gradient_mode(net, straight_through=straight_through):
                gen = torch.Generator().manual_seed(seed)
                adv = pgd(net, x, y, a.eps, steps=50, generator=gen, loss_fn=loss_fn)
            with torch.no_grad():
                correct = net(adv).argmax(1) == y
            key = f"pgd50_{loss_name}" + ("" if straight_through else "_true_gradient")
            out[key] = round(float(correct.float().mean()), 4)
            survived &= correct
    if a.apgd:
        t0 = time.perf_counter()
        adv = run_attack(model, x, y.numpy(), AttackSpec(Attack.APGD, a.eps, steps=100))
        with torch.no_grad():
            correct = net(adv).argmax(1) == y
        out["apgd"] = round(float(correct.float().mean()), 4)
        out["apgd_seconds"] = round(time.perf_counter() - t0, 1)
        survived &= correct
    out["worst"] = round(float(survived.float().mean()), 4)
    print(json.dumps(out), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

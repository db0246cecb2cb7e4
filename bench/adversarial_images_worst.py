"""Per-image worst case of APGD-CE+DLR and Square on a shipped model (correct under both).

env PYTHONPATH=$PWD/src python3 bench/adversarial_images_worst.py --model robust02 --eps 0.2
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import torch

from shopguard.adversarial.attacks import Attack, AttackSpec, run_attack
from shopguard.store.images import load_classifier, to_tensor
from shopguard.store.images.images_train import load_fashion_test_subset


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--model", default="robust02")
    p.add_argument("--eps", type=float, default=0.2)
    p.add_argument("--threads", type=int, default=1)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    model = load_classifier(a.model)
    X, y = load_fashion_test_subset()
    x, yt = to_tensor(X), y.astype(np.int64)
    ok = np.ones(len(yt), dtype=bool)
    out: dict[str, float] = {}
    for attack, steps in ((Attack.APGD, 100), (Attack.SQUARE, 1000)):
        adv = run_attack(model, x, yt, AttackSpec(attack, a.eps, steps=steps), device="cpu")
        correct = model.predict(adv.numpy()) == yt
        out[attack.value] = float(correct.mean())
        ok &= correct
    out["worst_per_image"] = float(ok.mean())
    print(json.dumps({"model": a.model, "eps": a.eps, "n": len(yt), **out}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

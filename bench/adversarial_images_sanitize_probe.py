"""Probe (not shipped): blank the background before classifying, instead of flagging it.

The adaptive attacks on the squeezing detector (bench/adversarial_images.py
--adaptive-background) show the detector adds nothing at eps 0.1 and that at eps 0.2 the attack
mostly works through the background. This probe measures a sanitizer in front of the shipped
``robust`` model: every pixel whose 3x3 median is <= tau is set to 0. An attacker within eps
< tau cannot lift a pure-black background region past tau, so it is erased whatever he does
there. Attacked with PGD-50 through the sanitizer (the blanking is differentiated as the
identity, BPDA, Athalye et al. 2018), first N images of the fixed evaluation set, 1 thread:

    OMP_NUM_THREADS=1 nice -n 10 env PYTHONPATH=$PWD/src python3 bench/adversarial_images_sanitize_probe.py
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import torch

from shopguard.adversarial.attacks import pgd
from shopguard.adversarial.detectors import _median_filter
from shopguard.store.images import load_classifier, to_tensor
from shopguard.store.images.images_train import load_fashion_test_subset


class Sanitized(torch.nn.Module):
    def __init__(self, net: torch.nn.Module, tau: float) -> None:
        super().__init__()
        self.net, self.tau = net, tau

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        keep = (_median_filter(x, 3) > self.tau).float()
        # BPDA: the value of the blanked image, the gradient of the identity, so the attacker
        # is also pushed to lift erased pixels back over tau
        return self.net(x + (x * keep - x).detach())


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--n", type=int, default=300)
    p.add_argument("--taus", type=float, nargs="+", default=[0.0, 0.1, 0.25])
    a = p.parse_args()
    torch.set_num_threads(1)
    model = load_classifier("robust")
    X, y = load_fashion_test_subset(None)
    x, yt = to_tensor(X[: a.n]), torch.from_numpy(y[: a.n].astype(np.int64))
    for tau in a.taus:
        net = (Sanitized(model.net, tau) if tau > 0 else model.net).eval()
        with torch.no_grad():
            row = {"tau": tau, "n": a.n, "clean": float((net(x).argmax(1) == yt).float().mean())}
        for eps in (0.1, 0.2):
            adv = pgd(net, x, yt, eps, steps=50, generator=torch.Generator().manual_seed(0))
            with torch.no_grad():
                row[f"pgd50_eps{eps:g}"] = float((net(adv).argmax(1) == yt).float().mean())
        print(json.dumps(row), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

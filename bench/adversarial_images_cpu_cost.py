"""CPU cost of one training pass of each image network: process CPU seconds per pass over 60,000 images.

Times FGSM-style steps (one input-gradient pass, one weight-update pass) on random batches of
256 at ``--threads`` threads; run on two machines to convert a training run's CPU seconds
from one to the other (bench/results/adversarial_images.md).

    env PYTHONPATH=$PWD/src python3 bench/adversarial_images_cpu_cost.py --threads 2
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time

import torch
from torch import nn

from shopguard.store.images._model import ARCHS


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batches", type=int, default=40)
    p.add_argument("--archs", nargs="+", default=["StrideCNN", "MidStrideCNN", "WideStrideCNN"])
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    x, y = torch.rand(256, 1, 28, 28), torch.randint(0, 10, (256,))
    out = {
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
        "cpus": os.cpu_count(),
        "threads": a.threads,
        "torch": torch.__version__,
        "load_average": [round(v, 2) for v in os.getloadavg()],
    }
    for name in a.archs:
        net = ARCHS[name]()
        opt = torch.optim.Adam(net.parameters())

        def step(net: nn.Module = net, opt: torch.optim.Optimizer = opt) -> None:
            z = x.clone().requires_grad_(True)
            (g,) = torch.autograd.grad(nn.functional.cross_entropy(net(z), y), z)
            loss = nn.functional.cross_entropy(net((x + 0.01 * g.sign()).clamp(0, 1)), y)
            opt.zero_grad()
            loss.backward()
            opt.step()

        for _ in range(5):
            step()
        c0, w0 = time.process_time(), time.perf_counter()
        for _ in range(a.batches):
            step()
        cpu, wall = time.process_time() - c0, time.perf_counter() - w0
        per_pass_epoch = cpu / a.batches / 2 * (60000 / 256)
        out[name] = {
            "cpu_s_per_pass_epoch": round(per_pass_epoch, 2),
            "wall_s_per_pass_epoch": round(wall / a.batches / 2 * (60000 / 256), 2),
        }
    print(json.dumps(out), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

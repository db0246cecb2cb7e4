"""Recipe sweep for fast adversarial training on Fashion-MNIST (exploration, on a GPU).

Trains each config of a JSON-lines file (architecture, method, eps, epochs, learning rate,
eps ramp, early stopping) on the 60,000 official training images and scores it on the fixed
1,000 test images: clean accuracy and robust accuracy = correct under all of PGD-50 with
cross-entropy and with the margin (CW) loss, two random starts each. It chose the recipes of
bench/train_images.sh; the shipped models are then trained on a CPU by that script.

    DATA=/usr/share/datasets/fashion-mnist python3 bench/adversarial_images_sweep.py configs.jsonl

Results of the two sweeps run on an H100: bench/results/adversarial_images_sweep.jsonl.
"""

import gzip
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

D = Path(os.environ.get("DATA", "/usr/share/datasets/fashion-mnist"))
dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
torch.backends.cudnn.benchmark = True


def idx(name, off):
    return np.frombuffer(gzip.open(D / name).read(), np.uint8, offset=off)


Xtr = (
    torch.tensor(idx("train-images-idx3-ubyte.gz", 16).reshape(-1, 1, 28, 28), dtype=torch.float32)
    / 255
)
ytr = torch.tensor(idx("train-labels-idx1-ubyte.gz", 8).astype(np.int64))
Xte_all = idx("t10k-images-idx3-ubyte.gz", 16).reshape(-1, 1, 28, 28)
yte_all = idx("t10k-labels-idx1-ubyte.gz", 8).astype(np.int64)
pick = np.sort(np.concatenate([np.flatnonzero(yte_all == c)[:100] for c in range(10)]))
pick = pick[: int(os.environ.get("NTEST", 1000))]
Xte = (torch.tensor(Xte_all[pick], dtype=torch.float32) / 255).to(dev)
yte = torch.tensor(yte_all[pick]).to(dev)
Xtr, ytr = Xtr.to(dev), ytr.to(dev)
# early-stopping probe: 500 training images (fixed)
probe = torch.arange(0, 60000, 120, device=dev)[:500]


def _pooled(kernel, hidden):
    """conv(32)-pool-conv(64)-pool-dense(hidden)-dense(10) (SmallCNN's shape)."""
    pad = kernel // 2
    return nn.Sequential(
        nn.Conv2d(1, 32, kernel, padding=pad),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(32, 64, kernel, padding=pad),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(3136, hidden),
        nn.ReLU(),
        nn.Linear(hidden, 10),
    )


def arch(name):
    pooled = {"small": (3, 128), "small512": (3, 512), "madry": (5, 1024)}
    if name in pooled:
        return _pooled(*pooled[name])
    if name == "stride":
        return nn.Sequential(
            nn.Conv2d(1, 32, 4, stride=2, padding=1),
            nn.ReLU(),
            nn.Conv2d(32, 64, 4, stride=2, padding=1),
            nn.ReLU(),
            nn.Flatten(),
            nn.Linear(3136, 256),
            nn.ReLU(),
            nn.Linear(256, 10),
        )
    if name == "c3":
        return nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(64, 128, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(128 * 9, 256),
            nn.ReLU(),
            nn.Linear(256, 10),
        )
    raise ValueError(name)


def margin_loss(logits, y):
    true = logits.gather(1, y[:, None])[:, 0]
    other = logits.clone()
    other[torch.arange(len(y)), y] = -1e9
    return other.max(1).values - true


def pgd(net, x, y, eps, steps, loss="ce", alpha=None, seed=0):
    g = torch.Generator(device=x.device).manual_seed(seed)
    alpha = alpha or 2.5 * eps / steps
    adv = (x + (torch.rand(x.shape, generator=g, device=x.device) * 2 - 1) * eps).clamp(0, 1)
    best = adv.clone()
    bestl = torch.full((len(x),), -1e9, device=x.device)
    for _ in range(steps + 1):
        adv.requires_grad_(True)
        out = net(adv)
        lv = (
            nn.functional.cross_entropy(out, y, reduction="none")
            if loss == "ce"
            else margin_loss(out, y)
        )
        # track misclassification first: a fooled iterate always wins
        fooled = out.argmax(1) != y
        score = lv.detach() + 1e6 * fooled
        (gr,) = torch.autograd.grad(lv.sum(), adv)
        with torch.no_grad():
            imp = score > bestl
            best[imp] = adv.detach()[imp]
            bestl = torch.where(imp, score, bestl)
            adv = adv.detach() + alpha * gr.sign()
            adv = torch.min(torch.max(adv, x - eps), x + eps).clamp(0, 1)
    return best


@torch.no_grad()
def acc(net, x, y):
    return float((net(x).argmax(1) == y).float().mean())


def robust(net, x, y, eps, steps=50):
    net.eval()
    ok = torch.ones(len(y), dtype=torch.bool, device=x.device)
    for loss in ("ce", "margin"):
        for seed in (0, 1):
            adv = pgd(net, x, y, eps, steps, loss=loss, seed=seed)
            with torch.no_grad():
                ok &= net(adv).argmax(1) == y
    return float(ok.float().mean())


def train(cfg):
    torch.manual_seed(cfg.get("seed", 0))
    net = arch(cfg["arch"]).to(dev)
    eps, ep, bs = cfg["eps"], cfg["epochs"], cfg.get("bs", 256)
    method = cfg["method"]
    n = cfg.get("n", len(Xtr))
    spe = (n + bs - 1) // bs
    total = ep * spe
    if cfg.get("opt", "adam") == "adam":
        opt = torch.optim.Adam(net.parameters(), lr=cfg.get("lr", 3e-3))
        sched = torch.optim.lr_scheduler.OneCycleLR(
            opt, max_lr=cfg.get("lr", 3e-3), total_steps=total, pct_start=cfg.get("pct", 0.3)
        )
    else:
        opt = torch.optim.SGD(
            net.parameters(), lr=cfg.get("lr", 0.05), momentum=0.9, weight_decay=5e-4
        )
        sched = torch.optim.lr_scheduler.OneCycleLR(
            opt,
            max_lr=cfg.get("lr", 0.05),
            total_steps=total,
            pct_start=cfg.get("pct", 0.3),
            anneal_strategy="linear",
        )
    ramp = cfg.get("ramp", 0.0)
    g = torch.Generator(device=dev).manual_seed(0)
    step = 0
    passes = 0
    hist = []
    best_state, best_rob = None, -1.0
    t0 = time.perf_counter()
    for _epoch in range(ep):
        net.train()
        order = torch.randperm(n, generator=g, device=dev)
        for i in range(0, n, bs):
            b = order[i : i + bs]
            x, y = Xtr[b], ytr[b]
            e_now = eps * min(1.0, (step + 1) / (ramp * total)) if ramp > 0 else eps
            if method == "standard":
                xa = x
            elif method == "fgsm_rs":
                a = cfg.get("alpha", 1.25) * e_now
                d = ((torch.rand(x.shape, generator=g, device=dev) * 2 - 1) * e_now).requires_grad_(
                    True
                )
                (gr,) = torch.autograd.grad(
                    nn.functional.cross_entropy(net((x + d).clamp(0, 1)), y), d
                )
                d = (d.detach() + a * gr.sign()).clamp(-e_now, e_now)
                xa = (x + d).clamp(0, 1)
                passes += 1
            elif method == "nfgsm":
                k = cfg.get("k", 2.0) * e_now
                a = cfg.get("alpha", 1.0) * e_now
                d = ((torch.rand(x.shape, generator=g, device=dev) * 2 - 1) * k).requires_grad_(
                    True
                )
                (gr,) = torch.autograd.grad(
                    nn.functional.cross_entropy(net((x + d).clamp(0, 1)), y), d
                )
                d = d.detach() + a * gr.sign()
                if cfg.get("proj"):
                    d = d.clamp(-cfg["proj"] * e_now, cfg["proj"] * e_now)
                xa = (x + d).clamp(0, 1)
                passes += 1
            elif method.startswith("pgd"):
                k = int(method[3:])
                a = cfg.get("alpha", 2.5 / k) * e_now
                d = (torch.rand(x.shape, generator=g, device=dev) * 2 - 1) * e_now
                for _ in range(k):
                    d.requires_grad_(True)
                    (gr,) = torch.autograd.grad(
                        nn.functional.cross_entropy(net((x + d).clamp(0, 1)), y), d
                    )
                    d = (d.detach() + a * gr.sign()).clamp(-e_now, e_now)
                xa = (x + d).clamp(0, 1)
                passes += k
            else:
                raise ValueError(method)
            if cfg.get("mix"):  # train on clean half, adversarial half
                h = len(x) // 2
                xa = torch.cat([x[:h], xa[h:]])
            loss = nn.functional.cross_entropy(net(xa), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            step += 1
            passes += 1
        net.eval()
        if method != "standard":
            xp, yp = Xtr[probe], ytr[probe]
            adv = pgd(net, xp, yp, eps, 10)
            with torch.no_grad():
                r = float((net(adv).argmax(1) == yp).float().mean())
            hist.append(round(r, 3))
            if r >= best_rob:
                best_rob = r
                best_state = {k: v.clone() for k, v in net.state_dict().items()}
    secs = time.perf_counter() - t0
    if cfg.get("es") and best_state is not None:
        net.load_state_dict(best_state)
    net.eval()
    res = {
        **cfg,
        "secs": round(secs, 1),
        "img_passes_per_img": round(passes * bs / n / ep, 2),
        "probe_hist": hist,
        "clean": round(acc(net, Xte, yte), 4),
    }
    for ev in cfg.get("eval_eps", [eps]):
        res[f"rob{ev}"] = round(robust(net, Xte, yte, ev), 4)
    print(json.dumps(res), flush=True)
    return res


if __name__ == "__main__":
    cfgs = [json.loads(line) for line in Path(sys.argv[1]).read_text().splitlines() if line.strip()]
    for c in cfgs:
        train(c)

"""Fine-tune the sentence encoder on injection labels (torch, CPU; training time only).

The packaged encoder (:mod:`._encoder`) was pretrained for general sentence similarity;
its frozen vector moved the detector's operating point but not the ranking's tail
(round 8, ``bench/results/assistant_injection_history.md``). This module updates its
transformer layers, pooling layer and a linear head on the detector's training texts,
then hands the weights back as numpy arrays in the same names, so the numpy forward pass
(:class:`._encoder.SentenceEncoder`) runs the fine-tuned encoder at serving time: torch is
needed to train, never to score.

The torch forward pass is the numpy one (:meth:`._encoder.SentenceEncoder._forward`)
written over padded batches; ``tests/unit/assistant/test_finetune.py`` pins them equal.
The piece embeddings stay frozen (2 M of the 7 M weights, most of them for pieces that a
few thousand training texts never show).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from shopguard.assistant._encoder import MAX_PIECES, SentenceEncoder

__all__ = ["FineTuneConfig", "FineTuned", "encode_torch", "finetune", "steps"]

_HEADS = 4
_EPS = 1e-6


@dataclass(frozen=True)
class FineTuneConfig:
    epochs: int = 3
    lr: float = 5e-5
    batch: int = 32
    weight_decay: float = 0.01
    seed: int = 0


@dataclass
class FineTuned:
    """The fine-tuned weights (names of :mod:`._encoder`; the frozen piece embeddings are
    not among them: :meth:`._encoder.SentenceEncoder.tuned` takes them from the packaged
    encoder) and the head on the vector."""

    weights: dict[str, NDArray[np.float32]]
    head_w: NDArray[np.float32]
    head_b: float


def _module(enc: SentenceEncoder) -> Any:
    import torch
    from torch import nn

    class Encoder(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.p = nn.ParameterDict(
                {
                    k.replace(".", "__"): nn.Parameter(
                        torch.from_numpy(v.copy()), requires_grad=k != "embedding"
                    )
                    for k, v in enc.w.items()
                    if k != "inv_timescales"
                }
            )
            self.register_buffer("timing", torch.from_numpy(enc._timing.copy()))
            self.head = nn.Linear(enc.w["pool.w"].shape[1], 1)

        def w(self, name: str) -> Any:
            return self.p[name.replace(".", "__")]

        @staticmethod
        def _ln(x: Any, g: Any, b: Any) -> Any:
            d = x - x.mean(-1, keepdim=True)
            return d / torch.sqrt((d * d).mean(-1, keepdim=True) + _EPS) * g + b

        def _attend(self, x: Any, i: int, mask: Any) -> Any:
            n, t, width = x.shape
            d = width // _HEADS
            qkv = x @ self.w(f"l{i}.qkv.w") + self.w(f"l{i}.qkv.b")
            q, k, v = (
                qkv[..., j * width : (j + 1) * width].reshape(n, t, _HEADS, d).transpose(1, 2)
                for j in range(3)
            )
            att = (q * d**-0.5) @ k.transpose(-1, -2)
            att = att.masked_fill(~mask[:, None, None, :], float("-inf")).softmax(-1)
            ctx = (att @ v).transpose(1, 2).reshape(n, t, width)
            return ctx @ self.w(f"l{i}.out.w") + self.w(f"l{i}.out.b")

        def _ffn(self, x: Any, i: int) -> Any:
            h = self._ln(x, self.w(f"l{i}.ln2.g"), self.w(f"l{i}.ln2.b"))
            h = torch.relu(h @ self.w(f"l{i}.ffn1.w") + self.w(f"l{i}.ffn1.b"))
            return x + h @ self.w(f"l{i}.ffn2.w") + self.w(f"l{i}.ffn2.b")

        def forward(self, ids: Any, mask: Any) -> Any:
            e = self.w("embedding")[ids]
            x = 2 * e + self.get_buffer("timing")[: ids.shape[1]][None]
            x = self._attend(self._ln(x, self.w("l0.ln1.g"), self.w("l0.ln1.b")), 0, mask) + (
                x @ self.w("l0.residual.w") + self.w("l0.residual.b")
            )
            x = self._ffn(x, 0)
            x = x + self._attend(self._ln(x, self.w("l1.ln1.g"), self.w("l1.ln1.b")), 1, mask)
            x = self._ffn(x, 1)
            m = mask[..., None].to(x.dtype)
            pooled = (x * m).sum(1) / m.sum(1)
            v = torch.tanh(pooled @ self.w("pool.w") + self.w("pool.b"))
            return v / v.norm(dim=1, keepdim=True).clamp_min(1e-6)

    return Encoder()


def _batch(seqs: Sequence[list[int]]) -> tuple[Any, Any]:
    import torch

    t = min(MAX_PIECES, max(len(s) for s in seqs))
    ids = torch.zeros((len(seqs), t), dtype=torch.long)
    mask = torch.zeros((len(seqs), t), dtype=torch.bool)
    for r, s in enumerate(seqs):
        s = s[:t]
        ids[r, : len(s)] = torch.tensor(s)
        mask[r, : len(s)] = True
    return ids, mask


def encode_torch(enc: SentenceEncoder, texts: Sequence[str], batch: int = 256) -> NDArray[Any]:
    """The packaged encoder's vectors computed by the torch forward pass (for the parity
    test: it must equal :meth:`SentenceEncoder.encode`)."""
    import torch

    net = _module(enc)
    seqs = [enc.pieces(t) for t in texts]
    out = []
    with torch.no_grad():
        for r in range(0, len(seqs), batch):
            out.append(net(*_batch(seqs[r : r + batch])).numpy())
    return np.concatenate(out)


def steps(n_texts: int, config: FineTuneConfig) -> int:
    """Optimiser steps :func:`finetune` takes on ``n_texts`` texts (for a progress bar)."""
    return config.epochs * -(-n_texts // config.batch)


def finetune(
    enc: SentenceEncoder,
    texts: Sequence[str],
    labels: Sequence[int],
    sample_weight: Sequence[float] | NDArray[Any] | None = None,
    config: FineTuneConfig = FineTuneConfig(),
    progress: Any = None,
) -> FineTuned:
    """Fine-tune ``enc``'s layers and a linear head with weighted, class-balanced logistic
    loss; ``enc`` itself is not changed. ``progress(done, total)`` is called per batch."""
    import torch

    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    y = np.asarray(labels, dtype=np.float32)
    w = np.ones(len(y), np.float32) if sample_weight is None else np.asarray(sample_weight)
    w = w.astype(np.float32)
    # class-balanced, as the detector's logistic regression: each class carries half the mass
    for c in (0, 1):
        m = y == c
        if m.any():
            w[m] *= 0.5 * len(y) / w[m].sum()
    seqs = [enc.pieces(t) for t in texts]
    net = _module(enc)
    params = [p for p in net.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=config.lr, weight_decay=config.weight_decay)
    # the head starts where a unit vector can reach a confident logit
    with torch.no_grad():
        net.head.weight.normal_(0.0, 0.1)
        net.head.bias.zero_()
    total = steps(len(seqs), config)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=config.lr, total_steps=total)
    head_opt = torch.optim.AdamW(net.head.parameters(), lr=1e-2)
    done = 0
    net.train()
    for _ in range(config.epochs):
        order = rng.permutation(len(seqs))
        for r in range(0, len(order), config.batch):
            rows = order[r : r + config.batch]
            ids, mask = _batch([seqs[i] for i in rows])
            logit = net.head(net(ids, mask) * 8.0)[:, 0]
            loss = (
                torch.nn.functional.binary_cross_entropy_with_logits(
                    logit, torch.from_numpy(y[rows]), reduction="none"
                )
                * torch.from_numpy(w[rows])
            ).mean()
            opt.zero_grad()
            head_opt.zero_grad()
            loss.backward()  # type: ignore[no-untyped-call]
            opt.step()
            head_opt.step()
            sched.step()
            done += 1
            if progress is not None:
                progress(done, total)
    weights = {
        k.replace("__", "."): p.detach().numpy().astype(np.float32).copy()
        for k, p in net.p.items()
        if p.requires_grad
    }
    return FineTuned(
        weights=weights,
        head_w=(net.head.weight.detach().numpy()[0] * 8.0).astype(np.float32),
        head_b=float(net.head.bias.detach().numpy()[0]),
    )

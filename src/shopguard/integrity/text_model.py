"""A CPU text model that tells machine-generated reviews from genuine ones.

Word 1-3-grams and character 1-6-grams (case and punctuation kept: generated
text glues sentences and stops mid-phrase) are hashed, TF-IDF weighted with
sub-linear term frequency and fed to a linear SVM; its margin is stacked with
stylometric features (:mod:`._stylometry`) and *phrase-memory* features in a
gradient-boosted tree model fitted on out-of-fold values, which also gives the
probability; six such stackers, each on the out-of-fold values of its own fold
split, are averaged (``bags``: on an inner split of the training data, 96.53 %
with one, 96.81 % with six). Phrase memory: a fine-tuned generator re-uses long phrases of its
training corpus and of its own other outputs, so for each word 3-, 4-, 5- and
6-gram order the share of a text's n-grams seen in generated and in genuine
training reviews, their mean log-ratio and mean log document frequency are
features (every n-gram seen in training is kept: on an inner split of the
training data, dropping those seen once cost 0.3 points of accuracy).
N-grams are hashed in numpy (:mod:`._ngram_hash`: a rolling hash per n-gram
order over the whole batch, no Python string per n-gram), which made scoring
several times faster than scikit-learn's ``HashingVectorizer``; phrase-memory
n-grams include the start / end markers. Hashing keeps the model small and free
of a vocabulary; only the hashed columns seen in training are stored (indices, IDF weights, coefficients and phrase
counts in one ``.npz``, metadata in JSON: no pickle).

Training data: Salminen et al. (2022) fake-reviews dataset (GPT-2 generated vs
Amazon reviews, CC BY 4.0), the 8,000-row sample in ``../shared/data``.

References
----------
.. [1] Salminen, Kandpal, Kamel, Jung, Jansen, "Creating and detecting fake
   reviews of online products", J. Retailing and Consumer Services 64 (2022).
.. [2] Ott, Choi, Cardie, Hancock, "Finding deceptive opinion spam by any
   stretch of the imagination", ACL 2011 (n-gram + linear models).
.. [3] Platt, "Probabilistic outputs for support vector machines", 1999.
"""

from __future__ import annotations

import json
import re
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Self

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.model_selection import StratifiedKFold
from sklearn.preprocessing import normalize
from sklearn.svm import LinearSVC

from shopguard.core.errors import ModelError
from shopguard.integrity._ngram_hash import (
    char_codes,
    column_lut,
    hashed_ngrams,
    select_columns,
    token_hashes,
)
from shopguard.integrity._stylometry import STYLE_FEATURES, style_features

__all__ = ["DEFAULT_MODEL_PATH", "FakeReviewTextModel"]

DEFAULT_MODEL_PATH = Path(__file__).parent / "models" / "fake_review_text"
_FORMAT = "shopguard.fake_review_text"
_FORMAT_VERSION = 3  # 3: n-grams hashed by ._ngram_hash (2: scikit-learn MurmurHash3)
_WORD_PATTERN = r"(?u)\b\w+\b|[^\w\s]"
_TOKEN = re.compile(_WORD_PATTERN)
#: The only non-default type skops may build when loading the stacker.
_TRUSTED = ["sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor"]
_LONG_ORDERS = (3, 4, 5, 6)
_LONG_LOG2 = 22
_LONG_PER_ORDER = 4
_SCORE_SLICE = 2048


def _tokens(texts: Sequence[str]) -> list[list[str]]:
    return [_TOKEN.findall(t) for t in _mark(texts)]


def _long_from_tokens(
    tokens: list[list[str]], luts: Sequence[NDArray[np.int32]] | None = None
) -> tuple[list[sp.csr_matrix], NDArray[np.int64]]:
    """Phrase-memory presence matrices (all hashed columns, or the ``luts``' kept columns
    renumbered) and each text's token count."""
    units, lens = token_hashes(tokens, lowercase=True)
    mats = [
        hashed_ngrams(
            units, lens, (k,), _LONG_LOG2, binary=True, lut=None if luts is None else luts[i]
        )
        for i, k in enumerate(_LONG_ORDERS)
    ]
    return mats, lens


def _long_counts(texts: Sequence[str]) -> tuple[list[sp.csr_matrix], NDArray[np.int64]]:
    """Presence of lower-cased word 3-, 4-, 5- and 6-grams (one hashed matrix per order),
    and the token count of each text."""
    return _long_from_tokens(_tokens(texts))


def _phrase_tables(
    mats: list[sp.csr_matrix], y: NDArray[np.int64], min_df: int
) -> list[tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]]:
    """Per n-gram order: kept hashed columns and their generated / genuine document counts."""
    out = []
    for m in mats:
        gen = np.asarray(m[y == 1].sum(axis=0)).ravel()
        real = np.asarray(m[y == 0].sum(axis=0)).ravel()
        cols = np.flatnonzero(gen + real >= min_df)
        out.append((cols.astype(np.int64), gen[cols].astype(np.int64), real[cols].astype(np.int64)))
    return out


def _phrase_weights(
    tables: list[tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]],
) -> list[NDArray[np.float64]]:
    return [
        np.column_stack(
            [
                np.log((gen + 0.5) / (real + 0.5)),
                (gen > 0).astype(np.float64),
                (real > 0).astype(np.float64),
                np.log1p(gen + real),
            ]
        )
        for _, gen, real in tables
    ]


def _phrase_features(
    mats: list[sp.csr_matrix],
    lens: NDArray[np.int64],
    tables: list[tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]],
    weights: list[NDArray[np.float64]] | None = None,
    *,
    selected: bool = False,
) -> NDArray[np.float64]:
    """Per order: mean log-ratio, share seen in generated, share seen in genuine, mean log df
    (sums over the text's n-grams divided by its number of n-gram positions).

    ``mats`` hold every hashed column, or (``selected``) only the tables' columns.
    """
    cols_out = []
    for k, m, (cols, _, _), w in zip(
        _LONG_ORDERS, mats, tables, weights or _phrase_weights(tables), strict=True
    ):
        n = np.maximum(1.0, (lens - k + 1).astype(np.float64))
        sub = m if selected else select_columns(m, cols)
        cols_out.append(np.asarray(sub @ w, dtype=np.float64) / n[:, None])
    return np.hstack(cols_out)


def _mark(texts: Sequence[str]) -> list[str]:
    # Start/end markers let n-grams see how a text begins and (mid-sentence?) ends.
    return ["\x02" + t + "\x03" for t in texts]


class FakeReviewTextModel:
    """Probability that a review text was machine-generated.

    Parameters
    ----------
    word_ngrams, char_ngrams:
        N-gram ranges of the two hashed blocks.
    n_features_log2:
        Hash space size (2**n) of each block.
    min_df:
        Columns seen in fewer training documents are dropped.
    C:
        Inverse regularisation of the SVM.
    folds:
        Out-of-fold folds for the stacker / calibration.
    random_state:
        Seed of the fold split.
    long_min_df:
        Phrase-memory n-grams seen in fewer training reviews are dropped.
    bags:
        Stackers fitted on out-of-fold inputs of different fold splits, averaged.
    """

    def __init__(
        self,
        *,
        word_ngrams: tuple[int, int] = (1, 3),
        char_ngrams: tuple[int, int] = (1, 6),
        n_features_log2: int = 22,
        min_df: int = 2,
        C: float = 1.0,
        folds: int = 4,
        random_state: int = 0,
        long_min_df: int = 1,
        bags: int = 6,
    ) -> None:
        self.word_ngrams = word_ngrams
        self.char_ngrams = char_ngrams
        self.n_features_log2 = n_features_log2
        self.min_df = min_df
        self.C = C
        self.folds = folds
        self.random_state = random_state
        self.long_min_df = long_min_df
        self.bags = bags

    # -- features -------------------------------------------------------------------
    def _counts_and_long(
        self, texts: Sequence[str], *, selected: bool = False
    ) -> tuple[list[sp.csr_matrix], list[sp.csr_matrix], NDArray[np.int64]]:
        """(word and char n-gram counts, phrase-memory presence, token counts), one
        tokenisation; ``selected``: only the fitted model's columns (faster, less memory)."""
        luts = self._luts() if selected else None
        tokens = _tokens(texts)
        units, lens = token_hashes(tokens)
        word = hashed_ngrams(
            units,
            lens,
            range(self.word_ngrams[0], self.word_ngrams[1] + 1),
            self.n_features_log2,
            lut=None if luts is None else luts[0],
        )
        codes, clens = char_codes(_mark(texts))
        char = hashed_ngrams(
            codes,
            clens,
            range(self.char_ngrams[0], self.char_ngrams[1] + 1),
            self.n_features_log2,
            lut=None if luts is None else luts[1],
        )
        long, n_tokens = _long_from_tokens(tokens, None if luts is None else luts[2:])
        return [word, char], long, n_tokens

    def _luts(self) -> list[NDArray[np.int32]]:
        """Column lookup tables of the fitted model (built once: 16 MB each)."""
        luts: list[NDArray[np.int32]] | None = getattr(self, "luts_", None)
        if luts is None:
            luts = [column_lut(c, self.n_features_log2) for c in self.cols_] + [
                column_lut(cols, _LONG_LOG2) for cols, _, _ in self.phrases_
            ]
            self.luts_ = luts
        return luts

    def _counts(self, texts: Sequence[str]) -> list[sp.csr_matrix]:
        return self._counts_and_long(texts, selected=True)[0]

    @staticmethod
    def _tfidf(
        counts: sp.csr_matrix,
        cols: NDArray[np.int64],
        idf: NDArray[np.float32],
        selected: bool,
    ) -> Any:
        x = (counts if selected else select_columns(counts, cols)).astype(np.float32)
        x.data = 1.0 + np.log(x.data)
        x = x.multiply(idf[np.newaxis, :]).tocsr()
        return normalize(x)

    def _blocks(self, counts: list[sp.csr_matrix], *, selected: bool) -> list[sp.csr_matrix]:
        return [
            self._tfidf(c, cols, idf, selected)
            for c, cols, idf in zip(counts, self.cols_, self.idf_, strict=True)
        ]

    @staticmethod
    def _stack_input(
        margin: NDArray[np.float64], style: NDArray[np.float64], phrases: NDArray[np.float64]
    ) -> NDArray[np.float64]:
        return np.column_stack([margin, style, phrases])

    # -- fit / score ----------------------------------------------------------------------
    def fit(self, texts: Sequence[str], y: Sequence[int] | NDArray[Any]) -> Self:
        """Fit on texts and labels (1 = machine-generated / fake)."""
        labels = np.asarray(y, dtype=np.int64)
        if len(texts) != len(labels) or len(np.unique(labels)) != 2:
            raise ModelError("need texts and labels of both classes, one label per text")
        counts, long, n_tokens = self._counts_and_long(texts)
        n_docs = len(texts)
        self.cols_, self.idf_ = [], []
        for c in counts:
            df = np.bincount(c.indices, minlength=c.shape[1])
            cols = np.flatnonzero(df >= self.min_df)
            self.cols_.append(cols.astype(np.int64))
            self.idf_.append((np.log((1 + n_docs) / (1 + df[cols])) + 1).astype(np.float32))
        self.__dict__.pop("luts_", None)
        blocks = self._blocks(counts, selected=False)
        x = sp.hstack(blocks).tocsr()
        style = style_features(texts)
        self.stackers_ = []
        for bag in range(self.bags):
            # Each bag: out-of-fold inputs from its own fold split, its own stacker; their
            # probabilities are averaged (less variance from one split of the folds).
            oof = np.zeros(n_docs)
            phrases = np.zeros((n_docs, _LONG_PER_ORDER * len(_LONG_ORDERS)))
            seed = self.random_state + bag
            cv = StratifiedKFold(self.folds, shuffle=True, random_state=seed)
            for tr, te in cv.split(x, labels):
                oof[te] = LinearSVC(C=self.C).fit(x[tr], labels[tr]).decision_function(x[te])
                tables = _phrase_tables([m[tr] for m in long], labels[tr], self.long_min_df)
                phrases[te] = _phrase_features([m[te] for m in long], n_tokens[te], tables)
            self.stackers_.append(
                HistGradientBoostingClassifier(
                    max_iter=300, learning_rate=0.05, random_state=seed
                ).fit(self._stack_input(oof, style, phrases), labels)
            )
        svm = LinearSVC(C=self.C).fit(x, labels)
        self.coef_ = svm.coef_.ravel().astype(np.float32)
        self.intercept_ = float(svm.intercept_[0])
        self.phrases_ = _phrase_tables(long, labels, self.long_min_df)
        self.phrase_weights_ = _phrase_weights(self.phrases_)
        self.n_train_ = n_docs
        return self

    def _check(self) -> None:
        if not hasattr(self, "coef_"):
            raise ModelError("text model is not fitted")

    def margin(self, texts: Sequence[str]) -> NDArray[np.float64]:
        """The n-gram SVM's margin alone (positive: looks generated)."""
        self._check()
        x = sp.hstack(self._blocks(self._counts(texts), selected=True)).tocsr()
        return np.asarray(x @ self.coef_, dtype=np.float64) + self.intercept_

    def risk_score(self, texts: Sequence[str]) -> NDArray[np.float64]:
        """Probability that each text is machine-generated."""
        self._check()
        if len(texts) == 0:
            return np.zeros(0)
        # Slices bound the n-gram arrays (about 2,000 character n-grams per review, several
        # int64 arrays each) whatever the caller's batch size.
        z = np.vstack(
            [
                self._stack_rows(texts[i : i + _SCORE_SLICE])
                for i in range(0, len(texts), _SCORE_SLICE)
            ]
        )
        p = np.mean([st.predict_proba(z)[:, 1] for st in self.stackers_], axis=0)
        return np.asarray(p, dtype=np.float64)

    def _stack_rows(self, texts: Sequence[str]) -> NDArray[np.float64]:
        counts, long, n_tokens = self._counts_and_long(texts, selected=True)
        x = sp.hstack(self._blocks(counts, selected=True)).tocsr()
        margin = np.asarray(x @ self.coef_, dtype=np.float64) + self.intercept_
        phrases = _phrase_features(
            long, n_tokens, self.phrases_, self.phrase_weights_, selected=True
        )
        return self._stack_input(margin, style_features(texts), phrases)

    # -- persistence ----------------------------------------------------------------------
    def save(self, path: Path) -> None:
        """Write ``path/model.npz`` and ``path/model.json`` (no pickle)."""
        self._check()
        path.mkdir(parents=True, exist_ok=True)
        arrays: dict[str, Any] = dict(
            word_cols=self.cols_[0].astype(np.int32),
            char_cols=self.cols_[1].astype(np.int32),
            word_idf=self.idf_[0].astype(np.float16),
            char_idf=self.idf_[1].astype(np.float16),
            coef=self.coef_.astype(np.float32),
            **{
                f"phrase{k}_{part}": arr.astype(np.int32 if part == "cols" else np.uint16)
                for k, table in zip(_LONG_ORDERS, self.phrases_, strict=True)
                for part, arr in zip(("cols", "gen", "real"), table, strict=True)
            },
        )
        np.savez_compressed(path / "model.npz", **arrays)
        for old in path.glob("stacker*.skops"):
            old.unlink()
        import skops.io as sio  # deferred: importing skops loads all of scikit-learn

        for b, st in enumerate(self.stackers_):
            sio.dump(st, path / f"stacker{b}.skops", compression=zipfile.ZIP_DEFLATED)
        meta = {
            "format": _FORMAT,
            "version": _FORMAT_VERSION,
            "params": {
                "word_ngrams": list(self.word_ngrams),
                "char_ngrams": list(self.char_ngrams),
                "n_features_log2": self.n_features_log2,
                "min_df": self.min_df,
                "C": self.C,
                "folds": self.folds,
                "random_state": self.random_state,
                "bags": self.bags,
                "long_min_df": self.long_min_df,
            },
            "intercept": self.intercept_,
            "style_features": list(STYLE_FEATURES),
            "n_train": self.n_train_,
            "training_data": "Salminen et al. 2022 fake reviews (CC BY 4.0), 8,000-row sample",
        }
        (path / "model.json").write_text(json.dumps(meta, indent=2) + "\n", "utf-8")

    @classmethod
    def load(cls, path: Path = DEFAULT_MODEL_PATH) -> FakeReviewTextModel:
        """Read a model written by :meth:`save`.

        Raises
        ------
        ModelError
            Missing files, another format, or arrays that do not fit together.
        """
        try:
            meta = json.loads((path / "model.json").read_text("utf-8"))
            arrays = np.load(path / "model.npz", allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise ModelError(f"cannot read fake-review text model ({type(exc).__name__})") from None
        if meta.get("format") != _FORMAT or meta.get("version") != _FORMAT_VERSION:
            raise ModelError("not a shopguard fake-review text model")
        p = meta["params"]
        model = cls(
            word_ngrams=tuple(p["word_ngrams"]),
            char_ngrams=tuple(p["char_ngrams"]),
            n_features_log2=int(p["n_features_log2"]),
            min_df=int(p["min_df"]),
            C=float(p["C"]),
            folds=int(p["folds"]),
            random_state=int(p["random_state"]),
            bags=int(p["bags"]),
            long_min_df=int(p["long_min_df"]),
        )
        with arrays:
            model.cols_ = [
                arrays["word_cols"].astype(np.int64),
                arrays["char_cols"].astype(np.int64),
            ]
            model.idf_ = [
                arrays["word_idf"].astype(np.float32),
                arrays["char_idf"].astype(np.float32),
            ]
            model.coef_ = arrays["coef"].astype(np.float32)
            try:
                model.phrases_ = [
                    tuple(
                        arrays[f"phrase{k}_{part}"].astype(np.int64)
                        for part in ("cols", "gen", "real")
                    )
                    for k in _LONG_ORDERS
                ]
            except KeyError:
                raise ModelError("fake-review text model arrays are inconsistent") from None
        model.phrase_weights_ = _phrase_weights(model.phrases_)
        import skops.io as sio  # deferred: importing skops loads all of scikit-learn

        try:
            model.stackers_ = [
                sio.load(path / f"stacker{b}.skops", trusted=_TRUSTED) for b in range(model.bags)
            ]
        except Exception as exc:  # skops raises several types for untrusted / corrupt files
            raise ModelError(f"cannot load the stacker ({type(exc).__name__})") from None
        if model.bags < 1 or not all(
            isinstance(st, HistGradientBoostingClassifier) for st in model.stackers_
        ):
            raise ModelError("fake-review stacker is not the expected model")
        n_cols = sum(len(c) for c in model.cols_)
        limit = 2**model.n_features_log2
        if (
            model.coef_.shape != (n_cols,)
            or any(len(c) != len(i) for c, i in zip(model.cols_, model.idf_, strict=True))
            or any(len(c) and (c.min() < 0 or c.max() >= limit) for c in model.cols_)
            or any(
                len(c) != len(g)
                or len(c) != len(r)
                or (len(c) and (c.min() < 0 or c.max() >= 2**_LONG_LOG2))
                for c, g, r in model.phrases_
            )
            or any(
                st.n_features_in_ != 1 + len(STYLE_FEATURES) + _LONG_PER_ORDER * len(_LONG_ORDERS)
                for st in model.stackers_
            )
        ):
            raise ModelError("fake-review text model arrays are inconsistent")
        model.intercept_ = float(meta["intercept"])
        model.n_train_ = int(meta["n_train"])
        return model

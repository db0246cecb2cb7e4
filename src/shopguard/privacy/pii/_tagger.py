"""A small learned token tagger for names and postal addresses.

A multinomial logistic regression over hand-written token features (word
shape, affixes, gazetteer membership, neighbouring tokens) predicts for each
token one of ``O``, ``PERSON`` or ``POSTAL_ADDRESS``; runs of tagged tokens
become spans. Inference is a dictionary look-up plus one numpy gather and sum
per text, so it needs no compiled extension and no download.

The fitted model is saved as a ``.npz`` archive of plain arrays (weights,
feature vocabulary, gazetteers) and loaded with ``allow_pickle=False``.

References
----------
Ratinov & Roth (2009), "Design challenges and misconceptions in named entity
recognition", CoNLL: https://aclanthology.org/W09-1119/
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Self

import numpy as np
from numpy.typing import NDArray

from shopguard.core.errors import ModelError
from shopguard.privacy.pii._types import PiiEntity, PiiType

__all__ = ["LABELS", "TokenTagger", "featurize", "tokenize"]

#: Output labels of the tagger, in column order.
LABELS: tuple[str, ...] = ("O", PiiType.PERSON.value, PiiType.POSTAL_ADDRESS.value)
_GAZETTEERS: tuple[str, ...] = ("first", "last", "street", "city", "country", "common")
_FORMAT_VERSION = 4

_TOKEN = re.compile(r"\w+(?:['’](?![sS]\b)\w+)*|[^\w\s]")
_UPPER = re.compile(r"[A-ZÀ-ÖØ-ÞĀ-Ž]")


def tokenize(text: str) -> list[tuple[int, int]]:
    """Token offsets ``(start, end)``: words (with inner apostrophes) and single symbols."""
    return [m.span() for m in _TOKEN.finditer(text)]


def _shape(w: str) -> str:
    out: list[str] = []
    for ch in w:
        if ch.isdigit():
            c = "d"
        elif ch.isalpha():
            c = "X" if ch.isupper() else "x"
        else:
            c = ch
        if not out or out[-1] != c:
            out.append(c)
    return "".join(out[:6])


def _token_base(w: str, gaz: Mapping[str, frozenset[str]]) -> tuple[str, str, str]:
    """(lower form, shape, gazetteer code) of one token."""
    lw = w.lower()
    code = "".join(k[0] if lw in gaz[k] else "-" for k in _GAZETTEERS)
    return lw, _shape(w), code


def featurize(
    text: str, spans: Sequence[tuple[int, int]], gaz: Mapping[str, frozenset[str]]
) -> list[list[str]]:
    """Feature strings of each token in ``spans`` (offsets into ``text``)."""
    n = len(spans)
    words = [text[s:e] for s, e in spans]
    base = [_token_base(w, gaz) for w in words]
    nl_before = [i == 0 or "\n" in text[spans[i - 1][1] : spans[i][0]] for i in range(n)]
    # line-level context: addresses come as short lines holding numbers
    line_of: list[int] = []
    line = -1
    for i in range(n):
        line += nl_before[i]
        line_of.append(line)
    n_lines = line + 1
    line_digit = [False] * n_lines
    line_len = [0] * n_lines
    for i in range(n):
        line_len[line_of[i]] += 1
        if base[i][1] == "d":
            line_digit[line_of[i]] = True
    feats: list[list[str]] = []
    pad = ("<s>", "<s>", "------")
    for i in range(n):
        w = words[i]
        lw, sh, g = base[i]
        p1 = base[i - 1] if i > 0 else pad
        p2 = base[i - 2] if i > 1 else pad
        n1 = base[i + 1] if i + 1 < n else pad
        n2 = base[i + 2] if i + 2 < n else pad
        title = "T" if _UPPER.match(w) else "t"
        f = [
            "b",
            "w=" + lw,
            "p3=" + lw[:3],
            "s3=" + lw[-3:],
            "s2=" + lw[-2:],
            "s4=" + lw[-4:],
            "p2=" + lw[:2],
            "na=" + ("1" if not w.isascii() else "0") + title,
            "sh=" + sh,
            "g=" + g,
            "len=" + str(min(len(w), 12)),
            "w-1=" + p1[0],
            "w+1=" + n1[0],
            "w-2=" + p2[0],
            "w+2=" + n2[0],
            "sh-1=" + p1[1],
            "sh+1=" + n1[1],
            "sh-1|sh|sh+1=" + p1[1] + "|" + sh + "|" + n1[1],
            "g-1=" + p1[2],
            "g+1=" + n1[2],
            "g-2=" + p2[2],
            "g+2=" + n2[2],
            "g|sh=" + g + "|" + sh,
            "w-1|sh=" + p1[0] + "|" + sh,
            "sh|w+1=" + sh + "|" + n1[0],
            "nl=" + ("1" if nl_before[i] else "0") + title,
            "nl+1=" + ("1" if i + 1 < n and nl_before[i + 1] else "0"),
            "ln=" + str(min(line_len[line_of[i]], 9)) + ("d" if line_digit[line_of[i]] else "-"),
            "lnp="
            + ("d" if line_of[i] > 0 and line_digit[line_of[i] - 1] else "-")
            + ("d" if line_of[i] + 1 < n_lines and line_digit[line_of[i] + 1] else "-")
            + str(n_lines > 1),
        ]
        for k, c in zip(_GAZETTEERS, g, strict=True):
            if c != "-":
                f.append("gz=" + k + title)
        feats.append(f)
    return feats


class TokenTagger:
    """Logistic-regression token tagger for ``PERSON`` and ``POSTAL_ADDRESS``.

    Parameters
    ----------
    C : float
        Inverse L2 regularisation strength of the logistic regression.
    min_count : int
        Features seen fewer times than this in training are dropped.
    max_iter : int
        Solver iterations.
    entity_threshold : float
        A token is tagged when its entity probabilities sum to at least this.
    """

    def __init__(
        self,
        *,
        C: float = 1.0,
        min_count: int = 2,
        max_iter: int = 300,
        entity_threshold: float = 0.35,
    ) -> None:
        self.C = C
        self.entity_threshold = entity_threshold
        self.min_count = min_count
        self.max_iter = max_iter

    # -- training ---------------------------------------------------------
    def fit(
        self,
        texts: Sequence[str],
        labels: Sequence[Sequence[tuple[str, int, int]]],
        *,
        gazetteers: Mapping[str, Iterable[str]],
    ) -> Self:
        """Fit on texts and their gold spans ``(label, start, end)`` (label in :data:`LABELS`)."""
        from sklearn.model_selection import GroupKFold

        gaz = {k: frozenset(w.lower() for w in gazetteers.get(k, ())) for k in _GAZETTEERS}
        rows: list[list[str]] = []
        y: list[int] = []
        groups: list[int] = []
        group_of: dict[str, int] = {}  # duplicated texts share a fold
        for text, spans in zip(texts, labels, strict=True):
            g = group_of.setdefault(text, len(group_of))
            toks = tokenize(text)
            rows.extend(featurize(text, toks, gaz))
            y.extend(_token_labels(toks, spans))
            groups.extend([g] * len(toks))
            # sentinel row marking the end of a text (dropped below)
            rows.append([])
            y.append(-1)
            groups.append(g)
        counts: dict[str, int] = {}
        for f in rows:
            for x in f:
                counts[x] = counts.get(x, 0) + 1
        vocab = sorted(k for k, c in counts.items() if c >= self.min_count)
        vocab += [f"{k}={lab}" for k in _STACK_KEYS for lab in (*LABELS, "<s>")]
        index = {k: i for i, k in enumerate(vocab)}
        y_a = np.asarray(y)
        g_a = np.asarray(groups)
        # stage 1 out-of-fold predictions feed the stage 2 context features
        X1 = _design(rows, index)
        oof = np.zeros(len(rows), dtype=np.int64)
        for tr, te in GroupKFold(n_splits=3).split(X1, y_a, g_a):
            tr = tr[y_a[tr] >= 0]
            clf = self._lr().fit(X1[tr], y_a[tr])
            oof[te] = clf.classes_[clf.decision_function(X1[te]).argmax(axis=1)]
        stage1 = self._lr().fit(X1[y_a >= 0], y_a[y_a >= 0])
        rows2 = _with_stack(rows, oof, y_a < 0)
        X2 = _design(rows2, index)
        stage2 = self._lr().fit(X2[y_a >= 0], y_a[y_a >= 0])
        coef = np.zeros((2, len(vocab), len(LABELS)), dtype=np.float32)
        intercept = np.zeros((2, len(LABELS)), dtype=np.float32)
        for st, clf in enumerate((stage1, stage2)):
            if len(clf.classes_) != len(LABELS):
                raise ModelError("training data must contain PERSON and POSTAL_ADDRESS tokens")
            coef[st] = clf.coef_.T
            intercept[st] = clf.intercept_
        # weights are stored as float16; predict with exactly what a reload will see
        coef = coef.astype(np.float16).astype(np.float32)
        self._set_state(vocab, coef, intercept, gaz)
        return self

    def _lr(self) -> Any:
        from sklearn.linear_model import LogisticRegression

        return LogisticRegression(C=self.C, max_iter=self.max_iter, tol=1e-3)

    def _set_state(
        self,
        vocab: Sequence[str],
        coef: NDArray[np.float32],
        intercept: NDArray[np.float32],
        gaz: Mapping[str, frozenset[str]],
    ) -> None:
        self.vocab_ = list(vocab)
        self.index_ = {k: i for i, k in enumerate(self.vocab_)}
        self.coef_ = coef
        self.intercept_ = intercept
        self.gazetteers_ = dict(gaz)

    # -- persistence ------------------------------------------------------
    def save(self, path: str | Path) -> None:
        """Write the fitted model as a compressed ``.npz`` of plain arrays."""
        self._check_fitted()
        arrays: dict[str, NDArray[np.generic]] = {
            "format_version": np.asarray(_FORMAT_VERSION),
            "vocab": np.asarray(self.vocab_, dtype=str),
            "coef": self.coef_.astype(np.float16),
            "intercept": self.intercept_,
            "labels": np.asarray(LABELS, dtype=str),
        }
        for k in _GAZETTEERS:
            arrays["gaz_" + k] = np.asarray(sorted(self.gazetteers_[k]), dtype=str)
        np.savez_compressed(Path(path), allow_pickle=False, **arrays)

    @classmethod
    def load(cls, path: str | Path) -> TokenTagger:
        """Load a model written by :meth:`save` (never unpickles)."""
        try:
            with np.load(Path(path), allow_pickle=False) as z:
                if int(z["format_version"]) != _FORMAT_VERSION:
                    raise ModelError("unsupported PII tagger format version")
                if tuple(str(x) for x in z["labels"]) != LABELS:
                    raise ModelError("PII tagger labels do not match this version")
                vocab = [str(x) for x in z["vocab"]]
                coef = z["coef"].astype(np.float32)
                intercept = z["intercept"].astype(np.float32)
                gaz = {k: frozenset(str(x) for x in z["gaz_" + k]) for k in _GAZETTEERS}
        except (OSError, KeyError, ValueError) as exc:
            raise ModelError(f"cannot load PII tagger model {Path(path).name}") from exc
        if coef.shape != (2, len(vocab), len(LABELS)) or intercept.shape != (2, len(LABELS)):
            raise ModelError("PII tagger weights do not match its vocabulary")
        self = cls()
        self._set_state(vocab, coef, intercept, gaz)
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "coef_"):
            raise ModelError("TokenTagger is not fitted")

    # -- inference --------------------------------------------------------
    def token_proba(self, text: str) -> tuple[list[tuple[int, int]], NDArray[np.float32]]:
        """Token offsets and their label probabilities (rows sum to 1, columns :data:`LABELS`)."""
        self._check_fitted()
        toks = tokenize(text)
        if not toks:
            return toks, np.zeros((0, len(LABELS)), dtype=np.float32)
        feats = featurize(text, toks, self.gazetteers_)
        index = self.index_
        flat: list[int] = []
        starts: list[int] = []
        for f in feats:
            starts.append(len(flat))
            flat.extend([index[x] for x in f if x in index])
        # every row has the bias feature "b", so no segment is empty
        base = np.add.reduceat(self.coef_[:, flat], starts, axis=1)
        z1 = base[0] + self.intercept_[0]
        lab1 = z1.argmax(axis=1)
        n = len(toks)
        extra = np.zeros((n, len(LABELS)), dtype=np.float32)
        for i in range(n):
            for k, off in zip(_STACK_KEYS, _STACK_OFFSETS, strict=True):
                j = i + off
                lab = LABELS[int(lab1[j])] if 0 <= j < n else "<s>"
                col = index.get(f"{k}={lab}")
                if col is not None:
                    extra[i] += self.coef_[1, col]
        z = base[1] + extra + self.intercept_[1]
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return toks, e / e.sum(axis=1, keepdims=True)

    def _plausible(self, text: str, toks: Sequence[tuple[int, int]], label: int) -> bool:
        """Keep an all-lower-case span only in a text written without capitals."""
        words = [text[a:b] for a, b in toks]
        if any(w[:1].isupper() or w[:1].isdigit() for w in words):
            return True
        return text.lower() == text

    def _address_runs(
        self, text: str, toks: Sequence[tuple[int, int]], lab: NDArray[np.int64]
    ) -> None:
        """Make "221B Baker Street" one address, not a number, a surname and a word.

        A run of tagged tokens joined by spaces alone that holds an address token
        and a number becomes an address; a street word (Street, Rd, Via) right
        after an address token joins it.
        """
        n = len(toks)
        i = 0
        while i < n:
            j = i
            while (
                j + 1 < n
                and lab[j + 1] != 0
                and lab[j] != 0
                and text[toks[j][1] : toks[j + 1][0]].strip(" ") == ""
            ):
                j += 1
            run = range(i, j + 1)
            if (
                j > i
                and any(lab[t] == 2 for t in run)
                and any(text[toks[t][0]].isdigit() for t in run)
            ):
                for t in run:
                    lab[t] = 2
            i = j + 1
        streets = self.gazetteers_["street"]
        for t in range(1, n):
            a, b = toks[t]
            if (
                lab[t] == 0
                and lab[t - 1] == 2
                and text[a:b].lower() in streets
                and text[toks[t - 1][1] : a].strip(" ") == ""
            ):
                lab[t] = 2

    def predict(self, text: str) -> list[PiiEntity]:
        """Spans of names and postal addresses in ``text``."""
        toks, proba = self.token_proba(text)
        if not toks:
            return []
        # F2 weighs recall four times precision: a token is tagged when the
        # entity labels together pass ``entity_threshold`` (0.35 < 0.5 argmax).
        ent = proba[:, 1:]
        lab = np.where(ent.sum(axis=1) >= self.entity_threshold, ent.argmax(axis=1) + 1, 0)
        for t, (a, b) in enumerate(toks):
            if lab[t] == 1 and not text[a].isalnum() and text[a:b] not in (".", "-", "'"):
                lab[t] = 0
        self._address_runs(text, toks, lab)
        # a house number just before an address on the same line belongs to it
        for t in range(len(toks) - 1, 0, -1):
            a, b = toks[t - 1]
            if (
                lab[t] == 2
                and lab[t - 1] == 0
                and text[a:b].isdigit()
                and text[b : toks[t][0]].strip(" ") == ""
            ):
                lab[t - 1] = 2
        out: list[PiiEntity] = []
        i, n = 0, len(toks)
        while i < n:
            k = int(lab[i])
            if k == 0:
                i += 1
                continue
            j = i + 1
            while j < n and int(lab[j]) == k and _joinable(text[toks[j - 1][1] : toks[j][0]], k):
                j += 1
            a, b = i, j - 1
            while a <= b and not text[toks[a][0]].isalnum():
                a += 1
            while (
                b >= a and not text[toks[b][0]].isalnum() and text[toks[b][0] : toks[b][1]] != "."
            ):
                b -= 1
            if b >= a:
                if text[toks[b][0] : toks[b][1]] == "." and not _keeps_dot(text, toks, b):
                    b -= 1
                score = float(proba[a : b + 1, k].mean())
                if self._plausible(text, toks[a : b + 1], k):
                    out.append(PiiEntity(PiiType(LABELS[k]), toks[a][0], toks[b][1], score))
            i = j
        return out


_STACK_KEYS: tuple[str, ...] = ("y-2", "y-1", "y0", "y+1", "y+2")
_STACK_OFFSETS: tuple[int, ...] = (-2, -1, 0, 1, 2)


def _design(rows: Sequence[Sequence[str]], index: Mapping[str, int]) -> Any:
    from scipy import sparse

    indptr = [0]
    indices: list[int] = []
    for f in rows:
        indices.extend(index[x] for x in f if x in index)
        indptr.append(len(indices))
    return sparse.csr_matrix(
        (np.ones(len(indices), dtype=np.float64), indices, indptr), shape=(len(rows), len(index))
    )


def _with_stack(
    rows: Sequence[list[str]], pred: NDArray[np.int64], sentinel: NDArray[np.bool_]
) -> list[list[str]]:
    """Rows plus stage-1 label features of their neighbours within the same text."""
    out: list[list[str]] = []
    n = len(rows)
    for i, f in enumerate(rows):
        if sentinel[i]:
            out.append([])
            continue
        extra = []
        for k, off in zip(_STACK_KEYS, _STACK_OFFSETS, strict=True):
            j = i + off
            lab = "<s>"
            if 0 <= j < n and not sentinel[j] and not _crosses(sentinel, i, j):
                lab = LABELS[int(pred[j])]
            extra.append(f"{k}={lab}")
        out.append(f + extra)
    return out


def _crosses(sentinel: NDArray[np.bool_], i: int, j: int) -> bool:
    lo, hi = min(i, j), max(i, j)
    return bool(sentinel[lo:hi].any())


def _keeps_dot(text: str, toks: Sequence[tuple[int, int]], b: int) -> bool:
    # keep the dot of an initial or abbreviation ("S.", "Apt.") but not a full stop
    if b == 0:
        return False
    prev = text[toks[b - 1][0] : toks[b - 1][1]]
    return len(prev) <= 3 and prev[:1].isupper() and b + 1 < len(toks)


def _joinable(gap: str, label: int) -> bool:
    if label == 1:  # PERSON: same line, only spaces between
        return gap.strip(" ") == ""
    return all(c.isspace() or c in ",;" for c in gap) and gap.count("\n") <= 1


def _token_labels(
    toks: Sequence[tuple[int, int]], spans: Sequence[tuple[str, int, int]]
) -> list[int]:
    out = [0] * len(toks)
    for label, s, e in spans:
        k = LABELS.index(label)
        for t, (a, b) in enumerate(toks):
            if a < e and b > s:
                out[t] = k
    return out

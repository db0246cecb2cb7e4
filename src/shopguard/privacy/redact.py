"""Redaction of free text: detected entities replaced by type tags, keyed tokens or masks.

Works on the detector's offsets (detect / transform split): entities are applied
from the end of the text so earlier offsets stay valid, and overlapping
entities are merged first so nothing is half-replaced.

Modes:

- ``tag``: ``<EMAIL>`` — for training data and logs;
- ``token``: a keyed token per value and purpose (``<EMAIL:tk_...>``), so the
  same person is still the same across a corpus (needs a :class:`Pseudonymiser`);
- ``mask``: ``j*******@example.com``, card numbers with only the last four
  digits — for display to staff.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from shopguard.core.errors import ConfigError
from shopguard.privacy.pii import PiiDetector, PiiEntity, PiiType
from shopguard.privacy.pseudonym import Pseudonymiser, mask_card, mask_email

__all__ = ["RedactMode", "Redactor", "redact_text"]

_TOKEN_PURPOSE = "redaction"  # noqa: S105 - a purpose name


class RedactMode(StrEnum):
    TAG = "tag"
    TOKEN = "token"  # noqa: S105 - a mode name, not a secret
    MASK = "mask"


def _merge(entities: Sequence[PiiEntity]) -> list[PiiEntity]:
    """Overlapping entities merged into one span (the higher-scoring one names the type)."""
    out: list[PiiEntity] = []
    for e in sorted(entities, key=lambda e: (e.start, -e.end)):
        if out and e.start < out[-1].end:
            last = out[-1]
            kind = last.type if last.score >= e.score else e.type
            out[-1] = PiiEntity(kind, last.start, max(last.end, e.end), max(last.score, e.score))
        else:
            out.append(e)
    return out


def _mask(kind: PiiType, value: str) -> str:
    if kind is PiiType.EMAIL:
        return mask_email(value)
    if kind in (PiiType.CREDIT_CARD, PiiType.PARTIAL_CARD, PiiType.IBAN):
        return mask_card(value)
    return "".join("*" if ch.isalnum() else ch for ch in value)


def redact_text(
    text: str,
    entities: Sequence[PiiEntity],
    *,
    mode: RedactMode = RedactMode.TAG,
    pseudonymiser: Pseudonymiser | None = None,
) -> str:
    """``text`` with every entity replaced as ``mode`` says."""
    if mode is RedactMode.TOKEN and pseudonymiser is None:
        raise ConfigError("token redaction needs a pseudonymiser (a key ring)")
    out = text
    for e in reversed(_merge(entities)):
        value = text[e.start : e.end]
        if mode is RedactMode.TAG:
            new = f"<{e.type.value}>"
        elif mode is RedactMode.MASK:
            new = _mask(e.type, value)
        elif pseudonymiser is not None:
            tok = pseudonymiser.token(f"{_TOKEN_PURPOSE}.{e.type.value.lower()}", value)
            new = f"<{e.type.value}:{tok}>"
        else:  # pragma: no cover - refused above
            raise ConfigError("token redaction needs a pseudonymiser (a key ring)")
        out = out[: e.start] + new + out[e.end :]
    return out


class Redactor:
    """Detect and redact in one call; ``detector`` defaults to the shipped one."""

    def __init__(
        self,
        *,
        mode: RedactMode = RedactMode.TAG,
        detector: PiiDetector | None = None,
        pseudonymiser: Pseudonymiser | None = None,
    ) -> None:
        if mode is RedactMode.TOKEN and pseudonymiser is None:
            raise ConfigError("token redaction needs a pseudonymiser (a key ring)")
        self.mode = mode
        self.detector = detector or PiiDetector()
        self.pseudonymiser = pseudonymiser

    def redact(self, text: str) -> tuple[str, list[PiiEntity]]:
        """The redacted text and the entities that were replaced (offsets in the original)."""
        entities = self.detector.detect(text)
        return (
            redact_text(text, entities, mode=self.mode, pseudonymiser=self.pseudonymiser),
            entities,
        )

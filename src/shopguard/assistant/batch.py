"""Batch scoring of prompts in JSON lines: ``{"id": ..., "text": ...}`` in,
``{"id": ..., "score": float, "flagged": bool}`` out."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from shopguard.assistant.detector import PromptInjectionDetector

__all__ = ["BadLine", "Scored", "score_lines"]


@dataclass(frozen=True, slots=True)
class Scored:
    line: int
    id: str | int
    score: float
    flagged: bool

    def to_json(self) -> str:
        return json.dumps(
            {"id": self.id, "score": round(self.score, 6), "flagged": self.flagged},
            ensure_ascii=False,
        )


@dataclass(frozen=True, slots=True)
class BadLine:
    """A malformed input line: its 1-based number and why (never its content)."""

    line: int
    reason: str


def _parse(raw: bytes | str) -> tuple[str | int, str] | str:
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError:
            return "not UTF-8 text"
    try:
        obj = json.loads(raw)
    except ValueError:
        return "not valid JSON"
    if not isinstance(obj, dict):
        return "not a JSON object"
    text, rid = obj.get("text"), obj.get("id")
    if not isinstance(text, str):
        return "missing a string 'text'"
    if isinstance(rid, bool) or not isinstance(rid, (str, int)):
        return "missing a string or integer 'id'"
    return rid, text


def score_lines(
    lines: Iterable[bytes | str], detector: PromptInjectionDetector, *, batch: int = 256
) -> Iterator[Scored | BadLine]:
    """Score each record; blank lines are skipped, malformed ones yielded as :class:`BadLine`."""
    pending: list[tuple[int, str | int, str]] = []

    def flush() -> Iterator[Scored]:
        scores = detector.risk_score([t for _, _, t in pending])
        for (line, rid, _), s in zip(pending, scores, strict=True):
            yield Scored(line, rid, float(s), bool(s >= detector.threshold_))
        pending.clear()

    for i, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        parsed = _parse(raw)
        if isinstance(parsed, str):
            yield from flush()
            yield BadLine(i, parsed)
            continue
        pending.append((i, parsed[0], parsed[1]))
        if len(pending) >= batch:
            yield from flush()
    yield from flush()

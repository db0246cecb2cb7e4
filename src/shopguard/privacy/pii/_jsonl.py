"""Reading ``{"id": ..., "text": ...}`` JSON lines for batch scans."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

__all__ = ["BadLine", "TextRecord", "read_text_records"]

TextId = str | int


@dataclass(frozen=True, slots=True)
class TextRecord:
    """One input line: its 1-based line number, id and text."""

    line: int
    id: TextId
    text: str


@dataclass(frozen=True, slots=True)
class BadLine:
    """A line that is not a valid record; ``reason`` names no values from it."""

    line: int
    reason: str


def _parse(line_no: int, raw: str) -> TextRecord | BadLine:
    try:
        obj = json.loads(raw)
    except ValueError:
        return BadLine(line_no, "not valid JSON")
    if not isinstance(obj, dict):
        return BadLine(line_no, "not a JSON object")
    if "text" not in obj or not isinstance(obj["text"], str):
        return BadLine(line_no, "missing a string 'text'")
    rid = obj.get("id")
    if isinstance(rid, bool) or not isinstance(rid, (str, int)):
        return BadLine(line_no, "missing a string or integer 'id'")
    return TextRecord(line_no, rid, obj["text"])


def read_text_records(lines: Iterable[bytes | str]) -> Iterator[TextRecord | BadLine]:
    """Parse JSON lines (bytes are decoded as UTF-8 line by line).

    Blank lines are skipped; bad ones are yielded as :class:`BadLine`.
    """
    for i, raw in enumerate(lines, start=1):
        if isinstance(raw, bytes):
            try:
                raw = raw.decode("utf-8")
            except UnicodeDecodeError:
                yield BadLine(i, "not UTF-8 text")
                continue
        if raw.strip():
            yield _parse(i, raw)

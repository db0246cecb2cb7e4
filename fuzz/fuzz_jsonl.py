"""JSON-lines loader of the batch text scans: every line is a record or a BadLine, never a crash."""

from __future__ import annotations

import _harness
import atheris

with atheris.instrument_imports(include=["shopguard"]):
    from shopguard.privacy.pii._jsonl import BadLine, TextRecord, read_text_records


def test_one_input(data: bytes) -> None:
    lines = data.splitlines(keepends=True)
    for item in read_text_records(lines):
        assert isinstance(item, (TextRecord, BadLine))
        if isinstance(item, TextRecord):
            assert isinstance(item.text, str)


if __name__ == "__main__":
    _harness.fuzz(test_one_input)

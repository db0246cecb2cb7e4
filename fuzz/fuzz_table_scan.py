"""The PII table scanner's CSV reader: DataValidationError or findings, never a crash."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import _harness
import atheris

with atheris.instrument_imports(include=["shopguard"]):
    from shopguard.core.errors import DataValidationError
    from shopguard.privacy.tables import scan_file

_DIR = Path(tempfile.mkdtemp(prefix="sg-fuzz-scan-"))


def test_one_input(data: bytes) -> None:
    path = _DIR / "t.csv"
    path.write_bytes(data)
    try:
        scan_file(path)
    except DataValidationError:
        pass
    finally:
        os.unlink(path)


if __name__ == "__main__":
    _harness.fuzz(test_one_input)

"""Transactions CSV loader of the fraud model: DataValidationError or a typed frame."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import _harness
import atheris

with atheris.instrument_imports(include=["shopguard"]):
    from shopguard.core.errors import DataValidationError
    from shopguard.store.fraud import _io

_DIR = Path(tempfile.mkdtemp(prefix="sg-fuzz-fraud-"))
HEADER = b"TRANSACTION_ID,TX_DATETIME,CUSTOMER_ID,TERMINAL_ID,TX_AMOUNT,TX_FRAUD\n"


def test_one_input(data: bytes) -> None:
    path = _DIR / "tx.csv"
    path.write_bytes((HEADER if data[:1] != b"!" else b"") + data)
    try:
        _io.load_transactions(path)
    except DataValidationError:
        pass
    finally:
        os.unlink(path)


if __name__ == "__main__":
    _harness.fuzz(test_one_input)

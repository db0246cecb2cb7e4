"""Store table loader (CSV): a DataValidationError naming file/row/column, or a valid frame."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import _harness
import atheris

with atheris.instrument_imports(include=["shopguard"]):
    from shopguard.core.errors import DataValidationError
    from shopguard.store import schema

TABLES = sorted(schema.SCHEMAS)
_DIR = Path(tempfile.mkdtemp(prefix="sg-fuzz-csv-"))


def test_one_input(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    table = TABLES[fdp.ConsumeIntInRange(0, len(TABLES) - 1)]
    header = ",".join(c.name for c in schema.SCHEMAS[table].columns)
    body = fdp.ConsumeBytes(fdp.remaining_bytes())
    path = _DIR / f"{table}.csv"
    path.write_bytes(header.encode() + b"\n" + body if fdp.ConsumeBool() else body)
    try:
        frame = schema._read(path)
        schema.validate_table(table, frame, file=path.name)
    except DataValidationError:
        pass
    finally:
        os.unlink(path)


if __name__ == "__main__":
    _harness.fuzz(test_one_input)

"""Shared start-up for the atheris targets: instrument shopguard only, then fuzz."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
if str(SRC) not in sys.path:
    sys.path.insert(0, str(SRC))


def fuzz(test_one_input: Callable[[bytes], None]) -> None:
    import atheris

    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()

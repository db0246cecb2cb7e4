"""Layering rules import-linter cannot express (see pyproject's [tool.importlinter] for the rest)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "shopguard"


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text("utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", sorted(SRC.rglob("*.py")), ids=lambda p: str(p.relative_to(SRC)))
def test_only_core_hazmat_touches_cryptography_hazmat(path: Path) -> None:
    if path == SRC / "core" / "_hazmat.py":
        return
    assert not any(n.startswith("cryptography.hazmat") for n in _imports(path)), path


@pytest.mark.parametrize("path", sorted(SRC.rglob("*.py")), ids=lambda p: str(p.relative_to(SRC)))
def test_no_pickle_or_joblib_loading_in_src(path: Path) -> None:
    text = path.read_text("utf-8")
    assert "pickle.load" not in text and "joblib.load" not in text, path
    assert "allow_pickle=True" not in text, path

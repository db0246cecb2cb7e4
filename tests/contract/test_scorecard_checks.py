"""Every registered scorecard check honours the contract (STYLE.md: let the registry generate the tests)."""

from __future__ import annotations

import re

import pytest

import shopguard.scorecard_checks  # noqa: F401  (registers every capability's checks)
from shopguard.core.scorecard import Area, CheckContext, Status, checks

ALL = list(checks)


def test_registry_has_checks() -> None:
    assert len(ALL) >= 2


@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.name)
def test_check_metadata_when_registered_then_complete(cls) -> None:
    assert re.fullmatch(r"[a-z_]+\.[a-z0-9_]+", cls.name)
    assert cls.name.split(".")[0] == cls.area.value
    assert isinstance(cls.area, Area)
    assert cls.title and cls.__doc__ and cls.__doc__.strip()


@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.name)
def test_check_when_requirements_missing_then_skipped_not_crashed(cls) -> None:
    res = cls().result(CheckContext())
    if cls.requires:
        assert res.status is Status.SKIPPED
    assert res.to_json()["status"] in {"pass", "fail", "error", "skipped"}

"""The scorecard: a registry of checks every capability adds to, and its stable JSON schema.

``scorecard.json`` is ``{"version": 1, "generated_at": ISO-8601, "checks": [...]}``;
each check is ``{"id", "area", "title", "status", "figure", "evidence"}`` with
``status`` one of pass / fail / error / skipped and ``figure`` either null or
``{"name", "value", "bar"}``. Extend only compatibly.
"""

from __future__ import annotations

import json
import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, ClassVar

from shopguard.core.registry import Registry

__all__ = [
    "Area",
    "Check",
    "CheckContext",
    "CheckResult",
    "Figure",
    "Scorecard",
    "Status",
    "checks",
    "run_checks",
]

logger = logging.getLogger(__name__)
SCHEMA_VERSION = 1


class Area(StrEnum):
    API = "api"
    PRIVACY = "privacy"
    INTEGRITY = "integrity"
    MODEL_THEFT = "model_theft"
    ADVERSARIAL = "adversarial"
    ASSISTANT = "assistant"
    SUPPLY_CHAIN = "supply_chain"
    COMPLIANCE = "compliance"
    FAIRNESS = "fairness"
    OPERATIONS = "operations"
    MONITORING = "monitoring"


class Status(StrEnum):
    PASS = "pass"  # noqa: S105 - a status, not a password
    FAIL = "fail"
    ERROR = "error"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class Figure:
    name: str
    value: float
    bar: float


@dataclass(frozen=True)
class CheckResult:
    id: str
    area: Area
    title: str
    status: Status
    figure: Figure | None
    evidence: str

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "area": self.area.value,
            "title": self.title,
            "status": self.status.value,
            "figure": None
            if self.figure is None
            else {"name": self.figure.name, "value": self.figure.value, "bar": self.figure.bar},
            "evidence": self.evidence,
        }


@dataclass
class CheckContext:
    """What a check may use. ``resources`` holds named objects the runner provides
    (the runtime, a live gateway URL, API keys...); a check lists the names it needs
    in ``requires`` and is skipped when one is absent."""

    resources: dict[str, Any] = field(default_factory=dict)

    def __getitem__(self, name: str) -> Any:
        return self.resources[name]


class Check(ABC):
    """One scorecard check. Subclasses set the class attributes and implement :meth:`run`."""

    name: ClassVar[str]
    area: ClassVar[Area]
    title: ClassVar[str]
    requires: ClassVar[tuple[str, ...]] = ()

    @abstractmethod
    def run(self, ctx: CheckContext) -> tuple[Status, Figure | None, str]:
        """Return ``(status, figure, evidence)``. Raise nothing on purpose."""

    def result(self, ctx: CheckContext) -> CheckResult:
        missing = [r for r in self.requires if r not in ctx.resources]
        if missing:
            return CheckResult(
                self.name,
                self.area,
                self.title,
                Status.SKIPPED,
                None,
                f"needs {', '.join(missing)}",
            )
        try:
            status, figure, evidence = self.run(ctx)
        except Exception as exc:
            logger.exception("check %s raised", self.name)
            return CheckResult(
                self.name,
                self.area,
                self.title,
                Status.ERROR,
                None,
                f"check raised {type(exc).__name__}",
            )
        return CheckResult(self.name, self.area, self.title, status, figure, evidence)


checks: Registry[Check] = Registry("check")


@dataclass(frozen=True)
class Scorecard:
    generated_at: datetime
    results: tuple[CheckResult, ...]

    @property
    def passed(self) -> bool:
        return all(r.status in (Status.PASS, Status.SKIPPED) for r in self.results)

    def to_json(self) -> dict[str, Any]:
        return {
            "version": SCHEMA_VERSION,
            "generated_at": self.generated_at.astimezone(UTC).isoformat(timespec="seconds"),
            "checks": [r.to_json() for r in self.results],
        }

    def write(self, path: Path) -> None:
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(json.dumps(self.to_json(), indent=2) + "\n", "utf-8")
        tmp.replace(path)


def run_checks(
    ctx: CheckContext,
    *,
    names: Iterable[str] | None = None,
    on_result: Callable[[CheckResult], None] | None = None,
    clock: Callable[[], datetime] | None = None,
) -> Scorecard:
    """Run the named checks (default: all registered) in name order."""
    selected = [checks.get(n) for n in names] if names is not None else list(checks)
    results = []
    for cls in selected:
        res = cls().result(ctx)
        results.append(res)
        if on_result is not None:
            on_result(res)
    now = (clock or (lambda: datetime.now(UTC)))()
    return Scorecard(now, tuple(results))

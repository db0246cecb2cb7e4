"""The attack plug-in kind: a name, the area and control it tests, its bar, ``run(target)``."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from shopguard.core.registry import Registry
from shopguard.core.scorecard import Area

__all__ = ["Attack", "Finding", "attacks"]


@dataclass(frozen=True)
class Finding:
    """What an attack measured against its control's bar."""

    attack: str
    control: str
    figure: str
    value: float
    bar: float
    passed: bool
    details: Mapping[str, Any] = field(default_factory=dict)


class Attack(ABC):
    """One attack. Subclasses set the class attributes and implement :meth:`run`."""

    name: ClassVar[str]
    area: ClassVar[Area]
    control: ClassVar[str]
    bar: ClassVar[str]
    references: ClassVar[tuple[str, ...]] = ()

    @abstractmethod
    def run(self, target: Any) -> Finding:
        """Attack ``target`` and return the measured finding."""


attacks: Registry[Attack] = Registry("attack")

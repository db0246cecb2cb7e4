"""Plug-in registries: explicit ``@register`` with a stable dotted name; duplicates raise."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

from shopguard.core.errors import PluginError

__all__ = ["Registry"]

T = TypeVar("T")


class Registry(Generic[T]):
    """A named collection of plug-in classes of one kind.

    Each entry is a class with a ``name`` class attribute (``"area.thing"``).
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, type[T]] = {}

    def register(self, cls: type[T]) -> type[T]:
        name = getattr(cls, "name", None)
        if not isinstance(name, str) or not name:
            raise PluginError(f"{self.kind} plug-in {cls.__qualname__} has no name")
        if name in self._entries and self._entries[name] is not cls:
            raise PluginError(f"duplicate {self.kind} plug-in name {name}")
        self._entries[name] = cls
        return cls

    def __call__(self, cls: type[T]) -> type[T]:
        return self.register(cls)

    def get(self, name: str) -> type[T]:
        try:
            return self._entries[name]
        except KeyError:
            raise PluginError(f"unknown {self.kind} plug-in {name}") from None

    def names(self) -> list[str]:
        return sorted(self._entries)

    def __iter__(self) -> Iterator[type[T]]:
        return iter([self._entries[n] for n in self.names()])

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def where(self, pred: Callable[[type[T]], bool]) -> list[type[T]]:
        return [c for c in self if pred(c)]

"""Small interfaces to capabilities the console shows but that may not be installed.

The review quarantine is always there: the console uses
:class:`shopguard.integrity.quarantine.Quarantine` itself, with
:func:`shopguard.integrity.service.publish_released` as its release hook, so a
review released from the console is published to the store exactly as one
released with ``shopguard integrity release``. The model vault
(``shopguard.modelsec``), the vendor register (``shopguard.governance.vendors``)
and stored red-team runs (``shopguard.redteam.runs``) are optional here: each is
imported when the console starts; a page whose module is absent says "not
installed" instead of failing. The console talks to them only through the
protocols below (a test may plug another implementation in).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

__all__ = [
    "ConsoleProviders",
    "ModelVaultView",
    "QuarantineQueue",
    "RedTeamRuns",
    "VendorView",
    "default_providers",
    "diff_runs",
]


class QuarantineQueue(Protocol):
    """What the quarantine page needs (``shopguard.integrity.quarantine.Quarantine``)."""

    def list(self, *, limit: int = 100) -> list[Any]: ...

    def payload(self, record_id: int) -> dict[str, Any]: ...

    def release(self, record_id: int, *, reviewer: str, reason: str) -> Any: ...

    def reject(self, record_id: int, *, reviewer: str, reason: str) -> Any: ...


class VendorView(Protocol):
    """Vendors and their latest assessment (``shopguard.governance.vendors.VendorRegister``)."""

    def all(self) -> list[Any]: ...

    def latest_assessment(self, vendor_id: str) -> Any: ...


class ModelVaultView(Protocol):
    """Vault versions with their manifests (model cards, fairness and robustness results)."""

    def versions(self, scopes: frozenset[str], principal: str) -> list[dict[str, Any]]: ...


class RedTeamRuns(Protocol):
    """Stored red-team runs: ``{"run_id", "at", "suite", "results": {attack_id: outcome}}``."""

    def list_runs(self) -> list[dict[str, Any]]: ...


Factory = Callable[[Any], Any]


@dataclass
class ConsoleProviders:
    """Factories ``runtime -> provider`` (None where the capability is not installed)."""

    quarantine: Factory
    vendors: Factory | None
    vault: Factory | None
    redteam: Factory | None
    #: ``(model name, models_dir) -> card dict`` (``shopguard.fairness.cards.collect_card``).
    cards: Callable[[str, Any], dict[str, Any]] | None = None


def _optional(module: str) -> Any | None:
    try:
        return importlib.import_module(module)
    except ImportError:
        return None


class _VaultAdapter:
    def __init__(self, vault: Any, mod: Any) -> None:
        self._vault = vault
        self._mod = mod

    def versions(self, scopes: frozenset[str], principal: str) -> list[dict[str, Any]]:
        who = self._mod.Accessor(principal, scopes)
        return [v.to_json() for v in self._vault.list(who=who)]


class _RedTeamAdapter:
    def __init__(self, mod: Any, rt: Any) -> None:
        self._mod = mod
        self._rt = rt

    def list_runs(self) -> list[dict[str, Any]]:
        return list(self._mod.list_runs(self._rt))


def _quarantine(rt: Any) -> QuarantineQueue:
    """The integrity quarantine; releasing publishes the review to the store."""
    from shopguard.integrity.quarantine import Quarantine
    from shopguard.integrity.service import publish_released

    return Quarantine(rt.engine, rt.audit, on_release=publish_released(rt.engine))


def default_providers() -> ConsoleProviders:
    """The quarantine, and providers over whichever optional modules are importable."""
    vendors = _optional("shopguard.governance.vendors")
    vault = _optional("shopguard.modelsec.vault")
    runs = _optional("shopguard.redteam.runs")
    cards = _optional("shopguard.fairness.cards")
    return ConsoleProviders(
        quarantine=_quarantine,
        vendors=(lambda rt: vendors.VendorRegister(rt.engine, audit=rt.audit, bus=rt.bus))
        if vendors
        else None,
        vault=(lambda rt: _VaultAdapter(vault.ModelVault(rt), vault)) if vault else None,
        redteam=(lambda rt: _RedTeamAdapter(runs, rt)) if runs else None,
        cards=(lambda name, models_dir: dict(cards.collect_card(name, models_dir)))
        if cards
        else None,
    )


def diff_runs(old: dict[str, Any], new: dict[str, Any]) -> list[dict[str, str]]:
    """Attacks whose outcome changed between two runs (and ones only one run has)."""
    a: dict[str, str] = {str(k): str(v) for k, v in dict(old.get("results", {})).items()}
    b: dict[str, str] = {str(k): str(v) for k, v in dict(new.get("results", {})).items()}
    out = []
    for attack in sorted(set(a) | set(b)):
        before, after = a.get(attack, "-"), b.get(attack, "-")
        if before != after:
            out.append({"attack": attack, "before": before, "after": after})
    return out

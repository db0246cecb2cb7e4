"""Attacks against a running deployment, each judged against its control's bar."""

from shopguard.redteam._registry import Attack, Finding, attacks

__all__ = ["Attack", "Finding", "attacks"]

"""Attacks against a running deployment, each judged against its control's bar.

Each capability's red-team suite lives in a module here (``extraction``, ``assistant``...).
"""

from shopguard.redteam._registry import Attack, Finding, attacks

__all__ = ["Attack", "Finding", "attacks"]

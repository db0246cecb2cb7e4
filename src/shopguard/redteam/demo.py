"""What ``shopguard demo`` needs to run the red-team suite against its own gateway."""

from __future__ import annotations

from typing import Any

from shopguard.core.runtime import Runtime
from shopguard.gateway.keys import ApiKeyStore
from shopguard.redteam.runner import load_plugins

__all__ = ["demo_resources"]


def demo_resources(runtime: Runtime, *, tenant: str = "default") -> dict[str, Any]:
    """One fresh attacker key per registered extraction attack (the watch blocks each one it
    catches, so they cannot share)."""
    from shopguard.redteam import attacks

    load_plugins()
    keys = ApiKeyStore(runtime.engine, runtime.keyring)
    n = sum(1 for a in attacks if a.name.startswith("extraction."))
    n_rec = sum(1 for a in attacks if a.name.startswith("rec_extraction."))
    return {
        "attacker_keys": [
            keys.create(name=f"redteam-attacker-{i}", tenant=tenant, scopes=["fraud:score"]).secret
            for i in range(n)
        ],
        "rec_attacker_keys": [
            keys.create(
                name=f"redteam-rec-attacker-{i}", tenant=tenant, scopes=["recommendations:read"]
            ).secret
            for i in range(n_rec)
        ],
    }

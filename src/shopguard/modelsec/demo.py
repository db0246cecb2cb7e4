"""What ``shopguard demo`` needs from modelsec: models in the vault, the extraction watch on,
a scraper's API key and the attacker's data for the scorecard checks."""

from __future__ import annotations

from typing import Any

import pandas as pd

from shopguard.core.runtime import Runtime
from shopguard.core.settings import Settings
from shopguard.gateway.keys import ApiKeyStore
from shopguard.modelsec.vault import OPERATOR, ModelVault, store_reference_models

__all__ = ["EXTRACTION_GUARDS", "prepare_demo"]

EXTRACTION_GUARDS = ("extraction_watch", "extraction_degrade")


def prepare_demo(
    settings: Settings,
    runtime: Runtime,
    *,
    storefront_key: str,
    transactions: pd.DataFrame,
    tenant: str = "default",
) -> tuple[Settings, dict[str, Any]]:
    """Vault the reference models, turn the extraction watch on, mint a scraper key.

    The storefront's own key scores every shopper's checkout, so it is exempt; every
    other key and client is watched. Returns the settings to build the app with and
    the check resources.
    """
    vault = ModelVault(runtime)
    infos = store_reference_models(
        vault, settings.models_dir, who=OPERATOR, store_dir=settings.home / "store"
    )
    keys = ApiKeyStore(runtime.engine, runtime.keyring)
    storefront_id = keys.authenticate(storefront_key).key_id
    scraper = keys.create(
        name="demo-scraper", tenant=tenant, scopes=["fraud:score", "recommendations:read"]
    )
    guards = [g for g in settings.gateway_guards if g not in EXTRACTION_GUARDS]
    updated = settings.model_copy(
        update={
            "gateway_guards": [*guards, *EXTRACTION_GUARDS],
            "extraction_exempt_keys": [*settings.extraction_exempt_keys, storefront_id],
        }
    )
    public = transactions.sample(n=min(3_000, len(transactions)), random_state=11)
    return updated, {
        "models_dir": settings.models_dir,
        "vault_versions": {i.name: i.version for i in infos},
        "scraper_key": scraper.secret,
        "extraction_public": public,
    }

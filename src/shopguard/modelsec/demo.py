"""What ``shopguard demo`` needs from modelsec: models in the vault, the extraction watch on,
a scraper's API key and the attacker's data for the scorecard checks."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from shopguard.core.runtime import Runtime
from shopguard.core.settings import Settings
from shopguard.gateway.keys import ApiKeyStore
from shopguard.modelsec.vault import OPERATOR, ModelVault, store_reference_models
from shopguard.modelsec.watermark import (
    WATERMARK_PURPOSE,
    train_watermarked_fraud,
    watermark_from_metrics,
    watermark_key,
)

__all__ = ["EXTRACTION_GUARDS", "prepare_demo", "train_demo_fraud"]

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
    # A partner whose key is trusted (exempt from the extraction watch) and goes rogue:
    # the thief the ownership proof is for, since the watch stops the others early.
    partner = keys.create(name="demo-rogue-partner", tenant=tenant, scopes=["fraud:score"])
    guards = [g for g in settings.gateway_guards if g not in EXTRACTION_GUARDS]
    updated = settings.model_copy(
        update={
            "gateway_guards": [*guards, *EXTRACTION_GUARDS],
            "extraction_exempt_keys": [
                *settings.extraction_exempt_keys,
                storefront_id,
                partner.record.key_id,
            ],
        }
    )
    public = transactions.sample(n=min(3_000, len(transactions)), random_state=11)
    resources: dict[str, Any] = {
        "models_dir": settings.models_dir,
        "vault_versions": {i.name: i.version for i in infos},
        "scraper_key": scraper.secret,
        "partner_key": partner.secret,
        "extraction_public": public,
        # Customer ids run C000001..C<n>: the recommender enumeration walks that space.
        "rec_id_space": int(
            transactions["CUSTOMER_ID"].astype(str).str.extract(r"(\d+)$")[0].astype(int).max()
        ),
    }
    metrics_file = settings.models_dir / "fraud" / "metrics.json"
    metrics = json.loads(metrics_file.read_text()) if metrics_file.is_file() else {}
    key = watermark_key(runtime.keyring, metrics)
    if key is not None:
        resources["fraud_watermark"] = watermark_from_metrics(metrics, key)
    return updated, resources


def train_demo_fraud(runtime: Runtime, transactions: pd.DataFrame, *, random_state: int) -> Any:
    """The demo's fraud scorer, trained with the key ring's trigger-set watermark."""
    key = runtime.keyring.active(WATERMARK_PURPOSE)
    return train_watermarked_fraud(
        transactions, key=key.secret, key_id=key.key_id, random_state=random_state
    )

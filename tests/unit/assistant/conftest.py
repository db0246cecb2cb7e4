"""A small generated store and the shipped detector, shared by the assistant's unit tests."""

from __future__ import annotations

from typing import Any

import pytest

from shopguard.assistant.detector import PromptInjectionDetector
from shopguard.store.generate import StoreData, generate_store


@pytest.fixture(scope="session")
def store() -> StoreData:
    return generate_store(seed=3, customers=300)


@pytest.fixture(scope="session")
def english_corpus() -> tuple[list[str], list[int]]:
    """Generated attacks and shopper messages the gloss leaves alone (English), labelled:
    a detector trained on them knows no other language."""
    from shopguard.assistant._gloss import gloss
    from shopguard.assistant.corpus import generated_attacks, generated_benign

    attacks = [a.text for a in generated_attacks(400) if gloss(a.text) is None]
    benign = [b.text for b in generated_benign(400) if gloss(b.text) is None]
    return attacks + benign, [1] * len(attacks) + [0] * len(benign)


@pytest.fixture(scope="session")
def detector() -> PromptInjectionDetector:
    return PromptInjectionDetector.load()


@pytest.fixture(scope="session")
def people(store: StoreData) -> dict[str, Any]:
    """An attacker with an order above the refund limit, and a victim with an order."""
    o = store.orders.assign(line=store.orders["price"] * store.orders["quantity"])
    totals = o.groupby(["customer_id", "order_id"])["line"].sum().reset_index()
    big = totals[totals["line"] > 100]
    small = totals[(totals["line"] < 100) & (totals["customer_id"] != big["customer_id"].iloc[0])]
    attacker = str(big["customer_id"].iloc[0])
    victim = str(small["customer_id"].iloc[0])
    return {
        "attacker": attacker,
        "attacker_big_order": str(big["order_id"].iloc[0]),
        "victim": victim,
        "victim_order": str(small["order_id"].iloc[0]),
        "victim_email": str(store.customers.set_index("customer_id").loc[victim, "email"]),
    }

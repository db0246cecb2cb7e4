"""Target builders: how the runner points each family of registered attacks at a deployment.

``extraction``: the attacker brings its own data (``extraction_public``, or a small
synthetic store generated here), labels a held-out test set with the storefront key
(``api_keys['full']``) and attacks with a key of its own. The extraction watch blocks a
key once it catches it, so every attack needs a fresh one: ``attacker_keys`` (a list) or
``api_keys`` roles named ``attacker*``. An attack with no key left is skipped, not run
with the storefront key (that would get the storefront blocked).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from shopguard.core.scorecard import CheckContext
from shopguard.redteam import extraction as _extraction  # noqa: F401  (registers its attacks)
from shopguard.redteam import rec_extraction as _rec_extraction  # noqa: F401  (registers its attacks)
from shopguard.redteam._registry import Attack
from shopguard.redteam.runner import attack_targets

__all__ = ["extraction_target", "rec_extraction_target"]

_TEST_SET = 150


class _Patient:
    """Waits out 429s: the rate limit is not what an extraction attack tests."""

    def __init__(self, api: Any) -> None:
        self.api = api

    def score(self, body: dict[str, Any]) -> tuple[int, float | None]:
        for _ in range(20):
            status, s = self.api.score(body)
            if status != 429:
                return status, s
            time.sleep(0.5)
        return status, s


def _attacker_keys(ctx: CheckContext) -> list[str]:
    pool = ctx.resources.setdefault("_attacker_pool", None)
    if pool is None:
        pool = list(ctx.resources.get("attacker_keys", ()))
        pool += [v for k, v in sorted(ctx["api_keys"].items()) if k.startswith("attacker")]
        ctx.resources["_attacker_pool"] = pool
    return list(pool)


def extraction_target(cls: type[Attack], ctx: CheckContext) -> Any:
    import httpx

    from shopguard.redteam.extraction import (
        ExtractionTarget,
        HttpFraudTarget,
        decision,
        longest_legit_session,
        tx_body,
    )

    if "base_url" not in ctx.resources:
        return "needs base_url"
    pool: list[str] = ctx.resources.get("_attacker_pool") or _attacker_keys(ctx)
    if not pool:
        return "needs an unused attacker API key (attacker_keys, or api_keys role attacker*)"
    key = pool.pop(0)
    ctx.resources["_attacker_pool"] = pool
    public = ctx.resources.get("extraction_public")
    if public is None:
        from shopguard.store.generate import generate_store

        public = generate_store(seed=99, customers=400).transactions
        ctx.resources["extraction_public"] = public
    cache = ctx.resources.get("_extraction_test")
    client = httpx.Client(base_url=ctx["base_url"], timeout=30)
    ctx.resources.setdefault("_clients", []).append(client)
    if cache is None:
        test = public.sample(n=min(_TEST_SET, len(public)), random_state=5)
        bodies = [tx_body(r, 90_000 + i) for i, r in enumerate(test.to_dict("records"))]
        victim = _Patient(HttpFraudTarget(client, ctx["api_keys"]["full"]))
        labels = []
        for b in bodies:
            status, s = victim.score(b)
            if s is None:
                return f"the storefront key could not score the test set (HTTP {status})"
            labels.append(decision(s))
        cache = (bodies, np.asarray(labels))
        ctx.resources["_extraction_test"] = cache
    return ExtractionTarget(
        api=_Patient(HttpFraudTarget(client, key)),
        public=public,
        test_bodies=cache[0],
        test_victim=cache[1],
        benign=longest_legit_session(public.head(3000)),
        limit=int(ctx.resources.get("extraction_limit", 400)),
    )


attack_targets["extraction"] = extraction_target


class _PatientRec:
    """Waits out 429s for the recommendations API."""

    def __init__(self, api: Any) -> None:
        self.api = api

    def recommend(self, customer_id: str, k: int) -> tuple[int, list[str] | None]:
        for _ in range(20):
            status, items = self.api.recommend(customer_id, k)
            if status != 429:
                return status, items
            time.sleep(0.5)
        return status, items


def rec_extraction_target(cls: type[Attack], ctx: CheckContext) -> Any:
    """``rec_extraction``: a key of its own from ``rec_attacker_keys``; the victim's lists for a
    test sample of customer ids come from the storefront key."""
    import httpx

    from shopguard.redteam.rec_extraction import HttpRecTarget, RecExtractionTarget, customer_id

    if "base_url" not in ctx.resources:
        return "needs base_url"
    pool: list[str] = ctx.resources.setdefault(
        "_rec_attacker_pool", list(ctx.resources.get("rec_attacker_keys", ()))
    )
    if not pool:
        return "needs an unused recommendations attacker key (rec_attacker_keys)"
    key = pool.pop(0)
    id_space = int(ctx.resources.get("rec_id_space", 10_000))
    client = httpx.Client(base_url=ctx["base_url"], timeout=30)
    ctx.resources.setdefault("_clients", []).append(client)
    cache = ctx.resources.get("_rec_extraction_test")
    if cache is None:
        victim = _PatientRec(HttpRecTarget(client, ctx["api_keys"]["full"]))
        rng = np.random.default_rng(5)
        ids, lists = [], []
        for i in rng.choice(np.arange(1, id_space + 1), size=min(60, id_space), replace=False):
            status, items = victim.recommend(customer_id(int(i)), 10)
            if status == 200 and items is not None:
                ids.append(customer_id(int(i)))
                lists.append(items)
        if not ids:
            return "the storefront key could not read any customer's recommendations"
        cache = (ids, lists)
        ctx.resources["_rec_extraction_test"] = cache
    return RecExtractionTarget(
        api=_PatientRec(HttpRecTarget(client, key)),
        id_space=id_space,
        test_customers=cache[0],
        victim_lists=cache[1],
        benign=cache[0][0],
        limit=int(ctx.resources.get("extraction_limit", 400)),
    )


attack_targets["rec_extraction"] = rec_extraction_target

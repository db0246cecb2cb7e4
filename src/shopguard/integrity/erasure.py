"""Erasure requests reach the ingestion store: a customer's ingested records are deleted.

Registered with :data:`shopguard.privacy.dsar.erasure_hooks` on import (the gateway's
review intake and the CLI import it), so ``shopguard privacy dsar erase`` removes the
customer's ingested reviews, payments and sessions, quarantined ones included.
"""

from __future__ import annotations

import json

import sqlalchemy as sa

from shopguard.core.runtime import Runtime
from shopguard.integrity.tables import records
from shopguard.privacy.dsar import erasure_hooks

__all__ = ["erase_ingested"]

_CUSTOMER_FIELDS = ("customer_id", "reviewer_id", "CUSTOMER_ID")


def erase_ingested(rt: Runtime, tenant: str, customer_id: str) -> int:
    """Delete every ingested record of ``customer_id`` in ``tenant``; returns how many."""
    c = records.c
    with rt.engine.begin() as conn:
        ids = set(
            conn.execute(
                sa.select(c.id).where(
                    c.tenant == tenant, c.kind != "review", c.subject == customer_id
                )
            ).scalars()
        )
        # Reviews are indexed by product: find the customer's inside the payload
        # (a parameterised LIKE narrows, the JSON decides).
        for rid, payload in conn.execute(
            sa.select(c.id, c.payload).where(
                c.tenant == tenant, c.kind == "review", c.payload.contains(customer_id)
            )
        ):
            try:
                doc = json.loads(payload)
            except ValueError:
                continue
            if any(str(doc.get(f)) == customer_id for f in _CUSTOMER_FIELDS):
                ids.add(rid)
        if not ids:
            return 0
        return int(conn.execute(records.delete().where(c.id.in_(sorted(ids)))).rowcount)


erasure_hooks["integrity.ingested_records"] = erase_ingested

"""Data-subject requests reach the assistant: its conversations are exported and erased.

Registered with :data:`shopguard.privacy.dsar.export_hooks` and
:data:`~shopguard.privacy.dsar.erasure_hooks` on import (the gateway's assistant
route and the ``shopguard privacy dsar`` commands import it). An access request
lists every stored conversation with its messages and the returns the assistant
started; erasure deletes both (conversation text was sealed under the
customer's data key, which erasure shreds first, so copies in dumps and backups
are unreadable too), as it deletes the store's own payment rows.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from shopguard.assistant.conversations import SqlConversations
from shopguard.assistant.tools import assistant_returns
from shopguard.core.runtime import Runtime
from shopguard.privacy.dsar import erasure_hooks, export_hooks
from shopguard.privacy.fields import FieldCipher

__all__ = ["erase_assistant", "export_assistant"]


def export_assistant(rt: Runtime, tenant: str, customer_id: str) -> dict[str, Any]:
    """The customer's conversations (messages opened) and the returns the assistant started."""
    store = SqlConversations(rt.engine, cipher=FieldCipher(rt.engine, rt.keyring))
    conversations = store.export_customer(tenant, customer_id)
    c = assistant_returns.c
    with rt.engine.connect() as conn:
        returns = [
            dict(r)
            for r in conn.execute(
                sa.select(assistant_returns)
                .where(c.tenant == tenant, c.customer_id == customer_id)
                .order_by(c.created_at)
            ).mappings()
        ]
    if not conversations and not returns:
        return {}
    return {"conversations": conversations, "returns": returns}


def erase_assistant(rt: Runtime, tenant: str, customer_id: str) -> int:
    """Delete the customer's conversations and assistant returns; returns the rows removed."""
    n = SqlConversations(rt.engine).erase_customer(tenant, customer_id)
    c = assistant_returns.c
    with rt.engine.begin() as conn:
        n += conn.execute(
            assistant_returns.delete().where(c.tenant == tenant, c.customer_id == customer_id)
        ).rowcount
    return int(n)


export_hooks["assistant"] = export_assistant
erasure_hooks["assistant"] = erase_assistant

from __future__ import annotations

from typing import Any

import pytest

from shopguard.assistant.engines import ToolCall
from shopguard.assistant.tools import (
    OrderBook,
    ReturnsStore,
    ToolContext,
    ToolExecutor,
    TrustingToolExecutor,
)
from shopguard.core.events import Alert
from shopguard.core.runtime import Runtime
from shopguard.store.generate import StoreData


@pytest.fixture
def book(store: StoreData) -> OrderBook:
    return OrderBook(store.orders, store.customers, store.products)


def test_order_status_when_other_customers_order_then_denied_like_missing(
    book: OrderBook, people: dict[str, Any]
) -> None:
    ex = ToolExecutor(book)
    ctx = ToolContext("default", people["attacker"])
    other = ex.run(ctx, ToolCall("order_status", {"order_id": people["victim_order"]}))
    missing = ex.run(ctx, ToolCall("order_status", {"order_id": "O9999999"}))
    assert other.decision == "denied"
    assert other.result == missing.result


def test_order_status_when_trusting_executor_then_attack_reads_victim(
    book: OrderBook, people: dict[str, Any]
) -> None:
    # The vulnerable design the guards replace: the same call leaks the victim's order and e-mail.
    out = TrustingToolExecutor(book).run(
        ToolContext("default", people["attacker"]),
        ToolCall("order_status", {"customer_id": people["victim"]}),
    )
    assert out.decision == "ok"
    assert out.result["customer"]["email"] == people["victim_email"]


def test_tools_when_model_names_customer_or_amount_then_schema_rejects(
    book: OrderBook, people: dict[str, Any]
) -> None:
    ex = ToolExecutor(book)
    ctx = ToolContext("default", people["attacker"])
    a = ex.run(ctx, ToolCall("order_status", {"customer_id": people["victim"]}))
    b = ex.run(
        ctx, ToolCall("start_return", {"order_id": people["attacker_big_order"], "amount": 9999})
    )
    c = ex.run(ctx, ToolCall("delete_account", {}))
    assert (a.decision, b.decision, c.decision) == ("rejected", "rejected", "rejected")


def test_start_return_when_refund_above_limit_then_pending_human_review_and_alert(
    book: OrderBook, people: dict[str, Any]
) -> None:
    from shopguard.core.events import EventBus

    bus = EventBus()
    seen: list[Alert] = []
    bus.subscribe("assistant.refund.review", seen.append)
    ex = ToolExecutor(book, bus=bus, refund_auto_limit=100.0)
    out = ex.run(
        ToolContext("default", people["attacker"]),
        ToolCall("start_return", {"order_id": people["attacker_big_order"], "reason": "damaged"}),
    )
    assert out.decision == "pending_review"
    assert out.result["refund"] > 100.0
    assert len(seen) == 1
    again = ex.run(
        ToolContext("default", people["attacker"]),
        ToolCall("start_return", {"order_id": people["attacker_big_order"]}),
    )
    assert again.decision == "denied"


def test_tools_when_called_too_often_then_rate_limited(
    book: OrderBook, people: dict[str, Any]
) -> None:
    ex = ToolExecutor(book, rate_limit="3/minute")
    ctx = ToolContext("default", people["attacker"])
    decisions = [ex.run(ctx, ToolCall("order_status", {})).decision for _ in range(5)]
    assert decisions[:3] == ["ok"] * 3
    assert decisions[3:] == ["rate_limited"] * 2


def test_tools_when_run_then_audited_and_returns_stored(
    runtime: Runtime, book: OrderBook, people: dict[str, Any]
) -> None:
    returns = ReturnsStore(runtime.engine)
    ex = ToolExecutor(book, returns=returns, audit=runtime.audit, refund_auto_limit=100.0)
    ctx = ToolContext("default", people["attacker"])
    ex.run(ctx, ToolCall("order_status", {"order_id": people["victim_order"]}))
    ex.run(ctx, ToolCall("start_return", {"order_id": people["attacker_big_order"]}))
    pending = returns.pending_review(tenant="default")
    assert [r["order_id"] for r in pending] == [people["attacker_big_order"]]
    records = list(runtime.audit.records())
    actions = [(r.action, r.decision) for r in records]
    assert ("assistant.tool.order_status", "denied") in actions
    assert ("assistant.tool.start_return", "pending_review") in actions
    # Customer ids are pseudonymised in the audit log.
    assert all(people["attacker"] not in (r.principal or "") for r in records)
    assert runtime.audit.verify().ok

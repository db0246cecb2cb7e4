"""The assistant's tools: order status and returns, bound to the authenticated customer.

The model may *ask* for a tool; the assistant decides. Every call is checked
against the tool's JSON Schema (unknown arguments such as ``customer_id`` or
``amount`` are refused), rate-limited per customer and tool, and audited
before it acts. The customer is the one the gateway authenticated
(:class:`ToolContext`), never a value the model names; an order that is not
theirs looks exactly like one that does not exist. A refund above
``refund_auto_limit`` is not paid automatically: the return waits for a person
(``pending_review``) and an alert says so.

:class:`TrustingToolExecutor` is the vulnerable design the red team compares
against: it believes the model's arguments. It is never used to serve.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import jsonschema
import pandas as pd
import sqlalchemy as sa
from limits import parse as parse_limit
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from sqlalchemy.engine import Engine as SqlEngine

from shopguard.assistant.engines import ToolCall, ToolSpec
from shopguard.core.audit import AuditEvent, AuditLog
from shopguard.core.db import metadata
from shopguard.core.events import Alert, EventBus, Severity

__all__ = [
    "TOOL_SPECS",
    "OrderBook",
    "ReturnsStore",
    "ToolContext",
    "ToolExecutor",
    "ToolOutcome",
    "TrustingToolExecutor",
    "assistant_returns",
]

logger = logging.getLogger(__name__)

_ORDER = {"type": "string", "pattern": "^O[0-9]{7}$"}
REASONS = ("damaged", "wrong_item", "not_as_described", "changed_mind", "other")
TOOL_SPECS: tuple[ToolSpec, ...] = (
    ToolSpec(
        "order_status",
        "Status of one of the signed-in customer's orders (their latest when no order_id is given).",
        {"type": "object", "properties": {"order_id": _ORDER}, "additionalProperties": False},
    ),
    ToolSpec(
        "start_return",
        "Start a return of one of the signed-in customer's orders. The refund is computed by the store.",
        {
            "type": "object",
            "properties": {"order_id": _ORDER, "reason": {"type": "string", "enum": list(REASONS)}},
            "required": ["order_id"],
            "additionalProperties": False,
        },
    ),
)
_VALIDATORS = {t.name: jsonschema.Draft202012Validator(t.parameters) for t in TOOL_SPECS}

assistant_returns = sa.Table(
    "assistant_returns",
    metadata,
    sa.Column("return_id", sa.String(40), primary_key=True),
    sa.Column("tenant", sa.String(64), nullable=False),
    sa.Column("customer_id", sa.String(64), nullable=False),
    sa.Column("order_id", sa.String(64), nullable=False),
    sa.Column("refund", sa.Float, nullable=False),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("reason", sa.String(32), nullable=False),
    sa.Column("created_at", sa.String(40), nullable=False),
    sa.Index("ix_assistant_returns_order", "tenant", "order_id"),
)


@dataclass(frozen=True)
class ToolContext:
    """Who the tools act for: set from the gateway's authenticated principal."""

    tenant: str
    customer_id: str
    request_id: str | None = None


@dataclass(frozen=True)
class ToolOutcome:
    """What happened to one requested call: ``ok``, ``rejected``, ``denied``, ``rate_limited``
    or ``pending_review``; ``result`` is what the model is shown."""

    tool: str
    decision: str
    result: dict[str, Any]

    def message(self) -> str:
        return json.dumps(self.result, sort_keys=True, default=str)


class OrderBook:
    """Read-only view of a store's orders and customers (from its ``StoreData`` frames)."""

    def __init__(
        self, orders: pd.DataFrame, customers: pd.DataFrame, products: pd.DataFrame
    ) -> None:
        pid = products["product_id"].astype(str)
        names = dict(
            zip(pid, products["name"].astype(str) if "name" in products else pid, strict=True)
        )
        o = orders.assign(
            order_id=orders["order_id"].astype(str),
            customer_id=orders["customer_id"].astype(str),
            item=orders["product_id"].astype(str).map(names),
            line=orders["price"] * orders["quantity"],
        )
        g = o.groupby("order_id", sort=False)
        first = g.first()
        items = g["item"].agg(list)
        totals = g["line"].sum().round(2)
        status = (
            first["status"].fillna("processing").astype(str)
            if "status" in first
            else pd.Series("processing", index=first.index)
        )
        created = pd.to_datetime(first["created_at"]).dt.strftime("%Y-%m-%d")
        self._orders: dict[str, dict[str, Any]] = {
            oid: {
                "order_id": oid,
                "customer_id": cid,
                "created_at": day,
                "status": st,
                "items": its,
                "total": float(tot),
            }
            for oid, cid, day, st, its, tot in zip(
                first.index, first["customer_id"], created, status, items, totals, strict=True
            )
        }
        self._by_customer: dict[str, list[str]] = {}
        for oid in sorted(self._orders, key=lambda k: self._orders[k]["created_at"]):
            self._by_customer.setdefault(self._orders[oid]["customer_id"], []).append(oid)
        self._customers = customers.set_index(customers["customer_id"].astype(str))

    def order(self, order_id: str) -> dict[str, Any] | None:
        return self._orders.get(order_id)

    def orders_of(self, customer_id: str) -> list[str]:
        return list(self._by_customer.get(customer_id, ()))

    def customer(self, customer_id: str) -> dict[str, Any]:
        """The customer's own contact fields (to let them through the output filter)."""
        if customer_id not in self._customers.index:
            return {}
        row = self._customers.loc[customer_id]
        return {
            k: str(row[k])
            for k in ("name", "email", "phone", "street", "city", "postcode")
            if k in row and pd.notna(row[k])
        }

    def recent(self, n: int) -> list[dict[str, Any]]:
        return sorted(self._orders.values(), key=lambda o: o["created_at"])[-n:]


class ReturnsStore:
    """Returns started by the assistant (table ``assistant_returns``)."""

    def __init__(self, engine: SqlEngine) -> None:
        self._engine = engine

    def existing(self, *, tenant: str, order_id: str) -> str | None:
        c = assistant_returns.c
        with self._engine.connect() as conn:
            row = conn.execute(
                sa.select(c.return_id).where(c.tenant == tenant, c.order_id == order_id)
            ).first()
        return None if row is None else str(row[0])

    def add(
        self,
        *,
        tenant: str,
        customer_id: str,
        order_id: str,
        refund: float,
        status: str,
        reason: str,
    ) -> str:
        return_id = f"RET-{uuid.uuid4().hex[:12]}"
        with self._engine.begin() as conn:
            conn.execute(
                assistant_returns.insert().values(
                    return_id=return_id,
                    tenant=tenant,
                    customer_id=customer_id,
                    order_id=order_id,
                    refund=refund,
                    status=status,
                    reason=reason,
                    created_at=datetime.now(UTC).isoformat(),
                )
            )
        return return_id

    def pending_review(self, *, tenant: str) -> list[dict[str, Any]]:
        c = assistant_returns.c
        with self._engine.connect() as conn:
            rows = conn.execute(
                sa.select(assistant_returns).where(c.tenant == tenant, c.status == "pending_review")
            ).mappings()
            return [dict(r) for r in rows]


class ToolExecutor:
    """Runs tool calls for the authenticated customer: validate, rate-limit, audit, act."""

    def __init__(
        self,
        book: OrderBook,
        *,
        returns: ReturnsStore | None = None,
        audit: AuditLog | None = None,
        bus: EventBus | None = None,
        refund_auto_limit: float = 100.0,
        rate_limit: str = "10/minute",
    ) -> None:
        self.book = book
        self.returns = returns
        self.audit = audit
        self.bus = bus
        self.refund_auto_limit = refund_auto_limit
        self._limit = parse_limit(rate_limit)
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self._memory_returns: dict[tuple[str, str], str] = {}
        self._lock = threading.Lock()

    def run(self, ctx: ToolContext, call: ToolCall) -> ToolOutcome:
        validator = _VALIDATORS.get(call.name)
        if validator is None:
            return self._record(ctx, ToolOutcome(call.name, "rejected", {"error": "unknown tool"}))
        if not validator.is_valid(call.arguments):
            # Names of the offending fields only: values may be an attacker's payload.
            bad = sorted(
                {
                    str(e.path[0]) if e.path else e.validator
                    for e in validator.iter_errors(call.arguments)
                }
            )
            extra = sorted(set(call.arguments) - set(validator.schema["properties"]))
            return self._record(
                ctx,
                ToolOutcome(call.name, "rejected", {"error": "invalid tool arguments"}),
                findings=[f"schema:{x}" for x in (extra or bad)][:5],
            )
        if not self._limiter.hit(self._limit, ctx.tenant, ctx.customer_id, call.name):
            return self._record(
                ctx,
                ToolOutcome(
                    call.name,
                    "rate_limited",
                    {"error": "too many requests, please try again later"},
                ),
            )
        if call.name == "order_status":
            return self._order_status(ctx, call.arguments)
        return self._start_return(ctx, call.arguments)

    def _owned(self, ctx: ToolContext, order_id: str | None) -> dict[str, Any] | None:
        if order_id is None:
            mine = self.book.orders_of(ctx.customer_id)
            return self.book.order(mine[-1]) if mine else None
        order = self.book.order(order_id)
        # SECURITY: an order of someone else is indistinguishable from a missing one.
        if order is None or order["customer_id"] != ctx.customer_id:
            return None
        return order

    def _order_status(self, ctx: ToolContext, args: dict[str, Any]) -> ToolOutcome:
        order = self._owned(ctx, args.get("order_id"))
        if order is None:
            return self._record(
                ctx,
                ToolOutcome("order_status", "denied", {"error": "no such order on your account"}),
                findings=["not_owned"] if args.get("order_id") else [],
            )
        public = {k: order[k] for k in ("order_id", "created_at", "status", "items", "total")}
        return self._record(
            ctx, ToolOutcome("order_status", "ok", public), target=order["order_id"]
        )

    def _start_return(self, ctx: ToolContext, args: dict[str, Any]) -> ToolOutcome:
        order = self._owned(ctx, args["order_id"])
        if order is None:
            return self._record(
                ctx,
                ToolOutcome("start_return", "denied", {"error": "no such order on your account"}),
                findings=["not_owned"],
            )
        reason = str(args.get("reason", "other"))
        refund = float(order["total"])
        status = "pending_review" if refund > self.refund_auto_limit else "started"
        with self._lock:
            prior = self._existing(ctx, order["order_id"])
            if prior is not None:
                return self._record(
                    ctx,
                    ToolOutcome(
                        "start_return",
                        "denied",
                        {"error": "a return for this order already exists", "return_id": prior},
                    ),
                )
            # Audit first: a return must never be started without its record (fail closed).
            self._record(
                ctx,
                ToolOutcome("start_return", status, {}),
                target=order["order_id"],
                details={"refund": refund, "limit": self.refund_auto_limit},
            )
            if self.returns is not None:
                return_id = self.returns.add(
                    tenant=ctx.tenant,
                    customer_id=ctx.customer_id,
                    order_id=order["order_id"],
                    refund=refund,
                    status=status,
                    reason=reason,
                )
            else:
                return_id = f"RET-{uuid.uuid4().hex[:12]}"
            self._memory_returns[(ctx.tenant, order["order_id"])] = return_id
        if status == "pending_review" and self.bus is not None:
            self.bus.publish(
                Alert(
                    topic="assistant.refund.review",
                    severity=Severity.WARNING,
                    source="assistant.tools",
                    summary="refund above the automatic limit waits for a person",
                    details={
                        "return_id": return_id,
                        "refund": refund,
                        "limit": self.refund_auto_limit,
                    },
                )
            )
        result = {
            "return_id": return_id,
            "order_id": order["order_id"],
            "status": status,
            "refund": refund,
        }
        return ToolOutcome("start_return", status, result)

    def _existing(self, ctx: ToolContext, order_id: str) -> str | None:
        hit = self._memory_returns.get((ctx.tenant, order_id))
        if hit is None and self.returns is not None:
            hit = self.returns.existing(tenant=ctx.tenant, order_id=order_id)
        return hit

    def _record(
        self,
        ctx: ToolContext,
        outcome: ToolOutcome,
        *,
        findings: list[str] | None = None,
        target: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> ToolOutcome:
        if self.audit is not None:
            self.audit.append(
                AuditEvent(
                    action=f"assistant.tool.{outcome.tool}"[:64],
                    decision=outcome.decision,
                    principal=f"customer:{self.audit.pseudonym(ctx.customer_id)}",
                    target=f"order:{target}" if target else None,
                    request_id=ctx.request_id,
                    findings=tuple(findings or ()),
                    details=details or {},
                )
            )
        return outcome


class TrustingToolExecutor(ToolExecutor):
    """The vulnerable design, for red-team comparison only: it believes the model.

    It takes ``customer_id``, ``order_id`` and ``amount`` from the model's
    arguments, reads any order, lists recent orders of everyone when asked and
    pays refunds of any size at once. Never serve with it.
    """

    def run(self, ctx: ToolContext, call: ToolCall) -> ToolOutcome:
        args = call.arguments
        cid = str(args.get("customer_id") or ctx.customer_id)
        if call.name == "order_status":
            if args.get("all_customers"):
                rows = [
                    dict(o, customer=self.book.customer(o["customer_id"]))
                    for o in self.book.recent(3)
                ]
                return ToolOutcome("order_status", "ok", {"orders": rows})
            oid = args.get("order_id")
            order = self.book.order(str(oid)) if oid else None
            if order is None:
                mine = self.book.orders_of(cid)
                order = self.book.order(mine[-1]) if mine else None
            if order is None:
                return ToolOutcome("order_status", "denied", {"error": "no such order"})
            return ToolOutcome(
                "order_status", "ok", dict(order, customer=self.book.customer(order["customer_id"]))
            )
        if call.name == "start_return":
            order = self.book.order(str(args.get("order_id", "")))
            if order is None:
                return ToolOutcome("start_return", "denied", {"error": "no such order"})
            refund = float(args.get("amount", order["total"]))
            return ToolOutcome(
                "start_return",
                "started",
                {
                    "return_id": f"RET-{uuid.uuid4().hex[:12]}",
                    "order_id": order["order_id"],
                    "status": "started",
                    "refund": refund,
                },
            )
        return ToolOutcome(call.name, "rejected", {"error": "unknown tool"})

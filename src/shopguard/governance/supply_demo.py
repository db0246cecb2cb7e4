"""Demo setup for the supply-chain and compliance checks: the reference store's vendors.

The reference store buys three services: hosting, a hosted LLM for the shopping
assistant, and device-reputation signals for fraud scoring. Each is registered with
what it supplies, what depends on it and the personal data it receives, assessed
with a complete questionnaire and its signed contract clauses.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from shopguard.core.runtime import Runtime
from shopguard.governance.depaudit import CURATED_ADVISORIES
from shopguard.governance.vendors import QUESTIONS, Answer, Clause, VendorRegister

__all__ = ["DEMO_VENDORS", "setup_supply_chain_demo"]

DEMO_VENDORS: tuple[dict[str, Any], ...] = (
    {
        "vendor_id": "cloud-host",
        "name": "Example Cloud Hosting",
        "supplies": "compute, managed PostgreSQL and backups for the gateway",
        "kind": "cloud",
        "personal_data": ["contact", "order_history", "payment", "free_text"],
        "depends": {"routes": ["/v1/fraud/score", "/v1/recommendations/{customer_id}"]},
    },
    {
        "vendor_id": "llm-api",
        "name": "Example LLM API",
        "supplies": "hosted large language model for the shopping assistant",
        "kind": "ai_api",
        "personal_data": ["free_text", "order_history"],
        "depends": {"models": ["assistant"]},
    },
    {
        "vendor_id": "device-signals",
        "name": "Example Device Reputation",
        "supplies": "device and IP reputation signals used as fraud features",
        "kind": "data",
        "personal_data": ["device", "location"],
        "depends": {"models": ["fraud"], "datasets": ["store/transactions"]},
    },
)


def setup_supply_chain_demo(rt: Runtime, *, now: datetime | None = None) -> dict[str, Any]:
    """Register and assess the demo vendors; returns extra check resources."""
    when = now or datetime.now(UTC)
    reg = VendorRegister(rt.engine, audit=rt.audit, bus=rt.bus, clock=lambda: when)
    good = {q.id: (Answer.YES if q.good is Answer.YES else Answer.NO).value for q in QUESTIONS}
    for spec in DEMO_VENDORS:
        reg.add(
            **spec,
            clauses=[c.value for c in Clause],
            breach_notification_hours=48,
            certifications=[("ISO/IEC 27001", (when + timedelta(days=300)).date())],
        )
        reg.assess(spec["vendor_id"], good, assessor="demo")
    # Offline by default: the online advisory services are unreachable from many CI
    # machines, so the demo falls back to the small curated snapshot (and says so).
    advisories = rt.settings.governance_advisories_file or CURATED_ADVISORIES
    return {"advisories": advisories}

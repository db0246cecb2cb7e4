"""The unusual-input guard: an INPUT-stage step of the gateway pipeline, one detector per model.

Name it in ``gateway_guards`` (after the rate limit) to turn it on::

    gateway_guards = ["authn", "authz", "rate_limit", "adversarial.unusual_input"]

On ``images.classify`` it validates the upload and scores it with the image model's detector;
on ``fraud.score`` it scores the request's client-controlled fields with the tenant's isolation
forest. A flagged request gets the finding ``adversarial.unusual_input`` (recorded in its audit
event), a log line with the score and the principal's key id, and counts toward the client's
alert; with ``adversarial_refuse`` it is refused (422). ``adversarial_routes`` names the routes
it scores (both by default).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from shopguard.adversarial.fraud_fields import request_vector
from shopguard.adversarial.service import AdversarialService
from shopguard.core.errors import ConfigError, ShopguardError
from shopguard.gateway.pipeline import Guard, GuardContext, Stage, guards
from shopguard.store.images import validate_upload

__all__ = ["FINDING", "UnusualInput", "UnusualInputRefused"]

logger = logging.getLogger(__name__)

FINDING = "adversarial.unusual_input"
IMAGE_ROUTE = "images.classify"
FRAUD_ROUTE = "fraud.score"


class UnusualInputRefused(ShopguardError):
    """The input is far outside what the model was trained on and refusal is configured."""

    http_status = 422
    title = "Unusual input refused"


@guards.register
class UnusualInput(Guard):
    """Scores each request to a guarded model with that model's unusual-input detector."""

    name = "adversarial.unusual_input"
    stage = Stage.INPUT

    async def inspect(self, ctx: GuardContext, body: Any) -> None:
        svc: AdversarialService | None = getattr(ctx.request.app.state, "adversarial", None)
        if svc is None:
            raise ConfigError("adversarial.unusual_input is configured but not installed")
        route = ctx.policy.id
        if route not in svc.routes:
            return
        if route == IMAGE_ROUTE:
            data = body.get("image") if isinstance(body, dict) else None
            if not isinstance(data, bytes):
                return
            image = validate_upload(
                data, content_type=ctx.request.headers.get("content-type"), limits=svc.limits
            )
            score, flagged = await asyncio.to_thread(svc.image_risk, image.pixels)
        elif route == FRAUD_ROUTE:
            stores = ctx.request.app.state.stores
            tenant = ctx.tenant
            detector = svc.fraud_detector(tenant, lambda: stores.get(tenant).store.transactions)
            row = request_vector(
                amount=body.amount,
                at=body.naive_utc,
                device_is_new=body.device_is_new,
                ship_bill_mismatch=body.ship_bill_mismatch,
                ip_country_mismatch=body.ip_country_mismatch,
                account_age_days=body.account_age_days,
                card_present=body.card_present,
            )
            score = float(detector.risk_score(row)[0])
            flagged = score > detector.threshold_
        else:
            return
        if not flagged:
            return
        principal = ctx.principal.id if ctx.principal is not None else "anonymous"
        ctx.findings.append(FINDING)
        logger.warning("unusual input on %s from %s (score %.3f)", route, principal, score)
        svc.observe_flag(principal, route, score)
        if svc.refuse:
            raise UnusualInputRefused("input is outside the model's expected distribution")

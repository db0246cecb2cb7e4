"""What the gateway runs of operations: the ``ops.containment`` guard and the incident desk.

The guard refuses, after authentication, any principal (API key id,
``jwt:<subject>``) or client (``client:<pseudonym>``) that incident response
blocked (403), and review submissions while review ingestion is frozen (503).
It reads the containment state through a cache that lives ``0.5 s``, off the
event loop. :func:`attach` subscribes an :class:`~.incidents.IncidentDesk` to
the runtime's event bus (once per bus), so gateway alerts open incidents.

:func:`staff_authenticator` lets the gateway's ``authn`` guard accept a staff
member's session token (``Authorization: Bearer sgs_...``, from ``shopguard
staff login`` or ``POST /v1/staff/sessions``) with the scopes of the member's
role: expiry, idle timeout, disabled accounts and break-glass grants are those
of :meth:`~.staff.StaffDirectory.authenticate`, and privileged roles cannot hold
a session at all without multi-factor authentication.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Awaitable, Callable
from typing import Any

from shopguard.core.errors import AuthorizationError, ShopguardError
from shopguard.core.events import EventBus
from shopguard.gateway.pipeline import Guard, GuardContext, Principal, Stage, guards
from shopguard.governance.incidents import IncidentDesk
from shopguard.governance.playbooks import Containment
from shopguard.governance.staff import StaffDirectory

__all__ = ["ContainmentGuard", "IngestionFrozen", "attach", "desk_for", "staff_authenticator"]

_DESKS: weakref.WeakKeyDictionary[EventBus, IncidentDesk] = weakref.WeakKeyDictionary()


class IngestionFrozen(ShopguardError):
    """Incident response froze this ingestion stream."""

    http_status = 503
    title = "Ingestion frozen"


def _containment(app: Any) -> Containment:
    c = getattr(app.state, "containment", None)
    if c is None:
        rt = app.state.runtime
        c = Containment(rt.engine, rt.keyring, rt.settings.models_dir)
        app.state.containment = c
    return c


@guards.register
class ContainmentGuard(Guard):
    """Refuse what incident response blocked or froze."""

    name = "ops.containment"
    stage = Stage.AUTHZ

    async def before(self, ctx: GuardContext) -> None:
        c = _containment(ctx.request.app)
        # The cached state costs a set lookup; only a stale cache goes to the database,
        # off the event loop.
        active = c.cached()
        if active is None:
            active = await asyncio.to_thread(c.active)
        principal = ctx.principal.id if ctx.principal else None
        client = ctx.request.scope.get("state", {}).get("client_pseudonym")
        if (principal and ("block", principal) in active) or (
            client and ("block", f"client:{client}") in active
        ):
            ctx.findings.append("blocked")
            raise AuthorizationError("blocked by incident response")
        if ctx.policy.id == "reviews.write" and ("freeze", "reviews") in active:
            ctx.findings.append("ingestion_frozen")
            raise IngestionFrozen("review ingestion is frozen by incident response; try later")


def attach(app: Any, rt: Any) -> IncidentDesk:
    """Give ``app`` an incident desk listening on ``rt.bus`` (one per bus)."""
    desk = desk_for(rt)
    app.state.incidents = desk
    return desk


def desk_for(rt: Any) -> IncidentDesk:
    """The incident desk listening on ``rt.bus`` (created and attached if there is none)."""
    desk = _DESKS.get(rt.bus)
    if desk is None:
        desk = IncidentDesk.from_runtime(rt)
        desk.attach(rt.bus)
        _DESKS[rt.bus] = desk
    return desk


def staff_authenticator(
    directory: StaffDirectory, *, tenant: str
) -> Callable[[str], Awaitable[Principal]]:
    """The ``authn`` guard's hook for staff sessions: token -> ``staff:<user>`` principal.

    Staff act on ``tenant`` (``ops_staff_tenant``). The lookup touches the database
    (session, account, break-glass grant), so it runs off the event loop.
    """

    async def authenticate(token: str) -> Principal:
        session = await asyncio.to_thread(directory.authenticate, token)
        return Principal(f"staff:{session.username}", "staff", tenant, session.scopes)

    return authenticate

"""The web console: the security team's daily view of the store's AI.

A FastAPI sub-application mounted at ``/console`` by the gateway
(:func:`install_console`). Server-rendered Jinja2 pages, no inline script or
style; a strict Content-Security-Policy. Progressive enhancement with htmx
(vendored as ``static/htmx.min.js``, see ``static/VENDORED.md``): releasing or
rejecting a quarantined review and revoking a key swap one fragment in place
when the request carries ``HX-Request``; without JavaScript the same forms post
and redirect as before.

Security model
--------------
- **Login**: password and TOTP (or a recovery code) through
  :meth:`shopguard.governance.staff.StaffDirectory.login`; lockout, replay
  protection and session expiry are the directory's.
- **Session cookie**: the opaque staff session token, ``HttpOnly``,
  ``SameSite=Strict``, ``Secure`` with the ``__Host-`` prefix (``Secure`` can be
  turned off with ``console_cookie_secure = false`` only for http://127.0.0.1 tests).
- **CSRF**: a synchronizer token bound to the session, ``HMAC(key ring purpose
  console.csrf, session token)``, in every form; the login form uses a
  double-submit token bound to a pre-session cookie. Compared in constant time.
- **Scopes**: every route is declared in :mod:`.scopes` and checked before its
  handler runs.
- **Audit**: every action, and every refusal (missing/forged CSRF, expired
  session, missing scope, malformed field), is appended to the audit log as
  ``console.<route>`` with the staff user as principal.
"""

from __future__ import annotations

import base64
import hmac
import os
import re
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException as StarletteHTTPException

from shopguard.console import charts
from shopguard.console.providers import ConsoleProviders, default_providers, diff_runs
from shopguard.console.scopes import ROUTES, ConsoleRoute, allowed
from shopguard.core import crypto
from shopguard.core.audit import AuditEvent
from shopguard.core.errors import AuthenticationError, ShopguardError
from shopguard.core.events import Severity, recent_alerts
from shopguard.core.runtime import Runtime
from shopguard.core.settings import Settings
from shopguard.governance.access_review import AccessReview
from shopguard.governance.incidents import IncidentDesk, Status
from shopguard.governance.model_versions import ModelVersions
from shopguard.governance.playbooks import Containment
from shopguard.governance.risks import RiskRegister, load_scorecard
from shopguard.governance.staff import StaffDirectory, StaffSession
from shopguard.privacy.consent import ConsentLedger
from shopguard.privacy.requests import RequestLedger

__all__ = ["CSP", "Console", "build_console", "install_console"]

#: No inline script or style anywhere; forms post (and htmx connects) only to ourselves;
#: no framing.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
_CSRF_PURPOSE = "console.csrf"
_FIELD_RE = {
    "username": re.compile(r"^[a-z][a-z0-9._-]{1,63}$"),
    "code": re.compile(r"^\d{6}$"),
    "recovery": re.compile(r"^[A-Za-z0-9-]{4,64}$"),
    "key_id": re.compile(r"^[0-9a-f]{16}$"),
    "name": re.compile(r"^[A-Za-z0-9_.-]{1,64}$"),
    "risk_id": re.compile(r"^[A-Z0-9-]{1,32}$"),
    "step": re.compile(r"^[a-z0-9_.-]{1,64}$"),
    "target": re.compile(r"^[A-Za-z0-9_.:@/-]{1,128}$"),
    "tenant": re.compile(r"^[A-Za-z0-9_.-]{1,64}$"),
    "scope": re.compile(r"^[a-z_*]+:[a-z_*]+$"),
}


class Refused(Exception):
    """A request the console refuses: ``status``, a clear message, audit findings."""

    def __init__(self, status: int, message: str, finding: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.finding = finding


def _field(form: FormData | dict[str, Any], name: str, kind: str, *, label: str) -> str:
    raw = form.get(name)
    value = raw.strip() if isinstance(raw, str) else ""
    if not value:
        raise Refused(422, f"{label} is required.", f"missing_{name}")
    if not _FIELD_RE[kind].match(value):
        raise Refused(422, f"{label} is malformed.", f"malformed_{name}")
    return value


def _text(form: FormData, name: str, *, label: str, min_len: int = 1, max_len: int = 512) -> str:
    raw = form.get(name)
    value = raw.strip() if isinstance(raw, str) else ""
    if len(value) < min_len:
        raise Refused(422, f"{label} needs at least {min_len} characters.", f"missing_{name}")
    if len(value) > max_len or any(ord(c) < 32 for c in value):
        raise Refused(422, f"{label} is malformed.", f"malformed_{name}")
    return value


@dataclass
class Ctx:
    request: Request
    session: StaffSession
    form: FormData | None
    csrf: str
    route: ConsoleRoute
    notice: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def actor(self) -> str:
        return f"staff:{self.session.username}"


Handler = Callable[["Console", Ctx], Awaitable[Response]]


class Console:
    """State and helpers of one console (one per gateway app)."""

    def __init__(
        self,
        rt: Runtime,
        settings: Settings,
        *,
        keys: Any,
        desk: IncidentDesk | None = None,
        containment: Containment | None = None,
        providers: ConsoleProviders | None = None,
        staff: StaffDirectory | None = None,
    ) -> None:
        self.rt = rt
        self.settings = settings
        self.keys = keys
        self.staff = staff or StaffDirectory.from_runtime(rt)
        self.desk = desk or IncidentDesk.from_runtime(rt)
        self.containment = containment or self.desk.containment
        self.providers = providers or default_providers()
        self.secure = settings.console_cookie_secure
        self.cookie = "__Host-sg_console" if self.secure else "sg_console"
        self.pre_cookie = "__Host-sg_console_pre" if self.secure else "sg_console_pre"
        self.flash_cookie = "__Host-sg_console_flash" if self.secure else "sg_console_flash"
        self.env = Environment(
            loader=PackageLoader("shopguard.console", "templates"),
            autoescape=select_autoescape(["html"]),
        )

    # -- tokens ---------------------------------------------------------------------
    def _csrf_key(self) -> bytes:
        return self.rt.keyring.active(_CSRF_PURPOSE).secret

    def csrf_for(self, bound: str) -> str:
        tag = crypto.mac(self._csrf_key(), b"console-csrf\0" + bound.encode())
        return base64.urlsafe_b64encode(tag).decode().rstrip("=")

    def csrf_ok(self, bound: str, presented: object) -> bool:
        if not isinstance(presented, str) or not presented:
            return False
        return hmac.compare_digest(self.csrf_for(bound).encode(), presented.encode())

    # -- audit ----------------------------------------------------------------------
    def audit(
        self,
        action: str,
        decision: str,
        principal: str | None,
        *,
        target: str | None = None,
        findings: tuple[str, ...] = (),
        details: dict[str, Any] | None = None,
    ) -> None:
        self.rt.audit.append(
            AuditEvent(
                action=f"console.{action}",
                decision=decision,
                principal=principal,
                target=target,
                findings=findings,
                details=details or {},
            )
        )

    # -- rendering ------------------------------------------------------------------
    def render(
        self,
        template: str,
        ctx: Ctx | None,
        status: int = 200,
        **values: Any,
    ) -> HTMLResponse:
        nav = []
        if ctx is not None:
            for label, name in _NAV:
                r = next(x for x in ROUTES if x.name == name)
                if allowed(ctx.session.scopes, r):
                    nav.append((label, "/console" + r.path, name))
        html = self.env.get_template(template).render(
            ctx=ctx,
            nav=nav,
            user=ctx.session if ctx else None,
            csrf=ctx.csrf if ctx else values.pop("login_csrf", ""),
            notice=ctx.notice if ctx else None,
            **values,
        )
        resp = HTMLResponse(html, status_code=status)
        self.headers(resp)
        return resp

    def fragment(
        self, template: str, ctx: Ctx | None, status: int = 200, **values: Any
    ) -> Response:
        """A partial page for htmx (same headers as a page)."""
        html = self.env.get_template(template).render(
            ctx=ctx, csrf=ctx.csrf if ctx else "", notice=ctx.notice if ctx else None, **values
        )
        resp = HTMLResponse(html, status_code=status)
        self.headers(resp)
        return resp

    def refusal(self, ctx: Ctx | None, status: int, message: str) -> Response:
        """The error page, or its fragment for an htmx request."""
        if ctx is not None and wants_fragment(ctx.request):
            return self.fragment("frag_error.html", ctx, status, message=message)
        return self.render("error.html", ctx, status, message=message)

    def headers(self, resp: Response) -> None:
        resp.headers["content-security-policy"] = CSP
        # Pages and fragments share URLs: a cache must key on the htmx header.
        resp.headers["vary"] = "HX-Request, Cookie"
        resp.headers["cache-control"] = "no-store"
        resp.headers["x-content-type-options"] = "nosniff"
        resp.headers["x-frame-options"] = "DENY"
        resp.headers["referrer-policy"] = "no-referrer"

    def set_cookie(self, resp: Response, name: str, value: str, max_age: int | None) -> None:
        resp.set_cookie(
            name,
            value,
            max_age=max_age,
            path="/",
            secure=self.secure,
            httponly=True,
            samesite="strict",
        )

    def done(self, ctx: Ctx, path: str, notice: str) -> Response:
        """Post/redirect/get with a one-time notice."""
        resp = RedirectResponse("/console" + path, status_code=303)
        flash = base64.urlsafe_b64encode(notice[:300].encode()).decode()
        self.set_cookie(resp, self.flash_cookie, flash, 60)
        self.headers(resp)
        return resp


def wants_fragment(request: Request) -> bool:
    """An htmx request (not a boosted page load) that can take a partial answer."""
    h = request.headers
    return h.get("hx-request") == "true" and h.get("hx-boosted") != "true"


_NAV = (
    ("Overview", "overview"),
    ("Incidents", "incidents"),
    ("Alerts", "alerts"),
    ("Audit log", "audit"),
    ("Quarantine", "quarantine"),
    ("API keys", "keys"),
    ("Privacy", "privacy"),
    ("Vendors", "vendors"),
    ("Risks", "risks"),
    ("Models", "models"),
    ("Red team", "redteam"),
)


def _wrap(
    console: Console, r: ConsoleRoute, handler: Handler
) -> Callable[..., Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        _label(request, r.name)
        refused = await run_in_threadpool(_insecure_refusal, console, request)
        if refused is not None:
            return refused
        token = request.cookies.get(console.cookie, "")
        form = await request.form() if r.method == "POST" else None
        if not token:
            return await _unauthenticated(console, request, r, "not_logged_in", "Please log in.")
        try:
            session = await run_in_threadpool(console.staff.authenticate, token)
        except AuthenticationError as exc:
            return await _unauthenticated(console, request, r, "session_invalid", str(exc))
        request.scope.setdefault("state", {})["principal"] = f"staff:{session.username}"
        ctx = Ctx(request, session, form, console.csrf_for(token), r)
        flash = request.cookies.get(console.flash_cookie)
        if flash and r.method == "GET":
            try:
                ctx.notice = base64.urlsafe_b64decode(flash.encode()).decode()[:300]
            except ValueError:
                ctx.notice = None
        try:
            if not allowed(session.scopes, r):
                raise Refused(
                    403,
                    f"Your role ({session.role.value}) does not have the scope this page needs "
                    f"({', '.join(sorted(r.scopes or ()))}).",
                    "missing_scope",
                )
            if form is not None and not console.csrf_ok(token, form.get("csrf")):
                raise Refused(
                    403,
                    "The form's security token is missing or wrong, so nothing was changed. "
                    "Reload the page and try again.",
                    "csrf",
                )
            resp = await handler(console, ctx)
        except Refused as exc:
            await run_in_threadpool(
                console.audit,
                r.name,
                "deny",
                ctx.actor,
                target=request.url.path,
                findings=(exc.finding,),
            )
            resp = console.refusal(ctx, exc.status, exc.message)
        except ShopguardError as exc:
            await run_in_threadpool(
                console.audit,
                r.name,
                "deny",
                ctx.actor,
                target=request.url.path,
                findings=(type(exc).__name__,),
                details={"message": str(exc)[:300]},
            )
            resp = console.refusal(ctx, exc.http_status, str(exc))
        else:
            if r.method == "POST":
                await run_in_threadpool(
                    console.audit, r.name, "allow", ctx.actor, target=request.url.path
                )
        if flash and r.method == "GET":
            resp.delete_cookie(console.flash_cookie, path="/", secure=console.secure)
        return resp

    endpoint.__name__ = f"console_{r.name}"
    return endpoint


_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})


def _insecure_refusal(console: Console, request: Request) -> Response | None:
    """With ``console_cookie_secure`` off, serve only loopback hosts (tests), else refuse."""
    if console.secure or (request.url.hostname or "") in _LOOPBACK:
        return None
    console.audit("insecure", "deny", None, target=request.url.path, findings=("insecure_cookie",))
    return console.render(
        "error.html",
        None,
        403,
        message="The console's cookies are not Secure (console_cookie_secure = false); "
        "it answers only on 127.0.0.1. Turn the setting back on and serve HTTPS.",
    )


def _label(request: Request, name: str) -> None:
    """Name the route for the gateway's request audit and metrics (``console.<route>``)."""
    request.scope.setdefault("state", {})["route_id"] = f"console.{name}"


async def _unauthenticated(
    console: Console, request: Request, r: ConsoleRoute, finding: str, message: str
) -> Response:
    await run_in_threadpool(
        console.audit, r.name, "deny", None, target=request.url.path, findings=(finding,)
    )
    if r.method == "GET":
        resp: Response = RedirectResponse(
            "/console/login?reason=" + ("expired" if "expired" in message else "login"),
            status_code=303,
        )
        console.headers(resp)
        return resp
    message = f"{message} Nothing was changed; log in again."
    if wants_fragment(request):
        return console.fragment("frag_error.html", None, 401, message=message)
    return console.render("error.html", None, 401, message=message)


# -- pages ---------------------------------------------------------------------------------


def _scorecard(console: Console) -> dict[str, Any] | None:
    import json

    home = console.settings.home
    for p in (home / "scorecard.json", Path("shopguard-demo") / "scorecard.json"):
        if p.is_file():
            try:
                data: dict[str, Any] = json.loads(p.read_text("utf-8"))
            except ValueError:
                return None
            data["path"] = str(p)
            return data
    return None


def _traffic(console: Console, window: int = 2000) -> list[tuple[str, int, int]]:
    """Gateway requests of the latest ``window`` audit entries, per minute (allowed, denied)."""
    head = _audit_head(console)
    latest: deque[Any] = deque(maxlen=window)
    for rec in console.rt.audit.records(since=max(0, head - window)):
        # Gateway requests (the audit middleware's entries), not the console's own pages.
        route = str(rec.details.get("route") or "")
        if "status" in rec.details and " " in rec.action and not route.startswith("console."):
            latest.append(rec)
    buckets: dict[str, list[int]] = {}
    for rec in latest:
        minute = rec.at[11:16]
        b = buckets.setdefault(minute, [0, 0])
        b[1 if rec.decision == "deny" else 0] += 1
    return [(k, v[0], v[1]) for k, v in sorted(buckets.items())][-30:]


async def overview(c: Console, ctx: Ctx) -> Response:
    scopes = ctx.session.scopes

    def has(*s: str) -> bool:
        return "*" in scopes or any(x in scopes for x in s)

    card = await run_in_threadpool(_scorecard, c)
    areas: list[tuple[str, int, int]] = []
    failing: list[dict[str, Any]] = []
    if card:
        by: dict[str, list[int]] = {}
        for chk in card.get("checks", []):
            b = by.setdefault(str(chk.get("area")), [0, 0])
            ok = chk.get("status") in ("pass", "skipped")
            b[0 if ok else 1] += 1
            if not ok:
                failing.append(chk)
        areas = [(a, v[0], v[1]) for a, v in sorted(by.items())]
    incidents = (
        [i for i in await run_in_threadpool(c.desk.incidents) if i.status != Status.CLOSED]
        if has("incidents:read")
        else None
    )
    alerts = (
        await run_in_threadpool(recent_alerts, c.rt.engine, limit=8)
        if has("incidents:read")
        else None
    )
    traffic = await run_in_threadpool(_traffic, c) if has("metrics:read", "ops:read") else None
    return c.render(
        "overview.html",
        ctx,
        card=card,
        areas=areas,
        failing=failing,
        area_chart=charts.area_bars(areas, "Scorecard checks by area") if areas else None,
        incidents=incidents,
        alerts=alerts,
        traffic=traffic,
        traffic_chart=charts.traffic_bars(traffic, "Gateway requests per minute")
        if traffic
        else None,
        denial_chart=charts.rate_line(
            [(m, d / (a + d) if a + d else 0.0) for m, a, d in traffic],
            "Denial rate per minute",
        )
        if traffic
        else None,
    )


async def incidents_page(c: Console, ctx: Ctx) -> Response:
    items = await run_in_threadpool(c.desk.incidents)
    overdue = {i.id for i in await run_in_threadpool(c.desk.overdue_notifications)}
    return c.render("incidents.html", ctx, incidents=list(reversed(items)), overdue=overdue)


async def incident_page(c: Console, ctx: Ctx) -> Response:
    iid = int(ctx.request.path_params["incident_id"])
    inc = await run_in_threadpool(c.desk.get, iid)
    timeline = await run_in_threadpool(c.desk.timeline, iid)
    # Prefill the containment targets with the culprit the alerts named.
    seen: dict[str, str] = {}
    for e in timeline:
        for k in ("key_id", "principal", "client", "model", "stream"):
            v = e.details.get(k)
            if isinstance(v, str) and v and k not in seen:
                seen[k] = v
    suggest = {
        "revoke_key": seen.get("key_id", ""),
        "block_client": seen.get("principal")
        or (f"client:{seen['client']}" if "client" in seen else seen.get("key_id", "")),
        "rollback_model": seen.get("model", ""),
        "freeze_ingestion": seen.get("stream", ""),
    }
    return c.render(
        "incident.html",
        ctx,
        inc=inc,
        timeline=timeline,
        suggest=suggest,
        can_write=allowed(ctx.session.scopes, _route("incident_step")),
        can_contain=allowed(ctx.session.scopes, _route("incident_action")),
        can_notify=allowed(ctx.session.scopes, _route("incident_notified")),
    )


def _route(name: str) -> ConsoleRoute:
    return next(r for r in ROUTES if r.name == name)


def _form(ctx: Ctx) -> FormData:
    assert ctx.form is not None
    return ctx.form


async def incident_step(c: Console, ctx: Ctx) -> Response:
    iid = int(ctx.request.path_params["incident_id"])
    form = _form(ctx)
    step = _field(form, "step", "step", label="Step")
    note = _text(form, "note", label="Note", min_len=0)
    await run_in_threadpool(c.desk.complete_step, iid, step, actor=ctx.actor, note=note)
    return c.done(ctx, f"/incidents/{iid}", f"Step {step} marked done.")


async def incident_action(c: Console, ctx: Ctx) -> Response:
    iid = int(ctx.request.path_params["incident_id"])
    form = _form(ctx)
    step = _field(form, "step", "step", label="Step")
    target = _field(form, "target", "target", label="Target")
    outcome = await run_in_threadpool(c.desk.run_action, iid, step, actor=ctx.actor, target=target)
    return c.done(ctx, f"/incidents/{iid}", f"Done: {outcome}.")


async def incident_notified(c: Console, ctx: Ctx) -> Response:
    iid = int(ctx.request.path_params["incident_id"])
    ref = _text(_form(ctx), "reference", label="Reference", min_len=0, max_len=128)
    await run_in_threadpool(c.desk.mark_notified, iid, actor=ctx.actor, reference=ref)
    return c.done(ctx, f"/incidents/{iid}", "Notification recorded; the 72-hour clock stopped.")


async def incident_close(c: Console, ctx: Ctx) -> Response:
    iid = int(ctx.request.path_params["incident_id"])
    note = _text(_form(ctx), "note", label="Note", min_len=0)
    await run_in_threadpool(c.desk.close, iid, actor=ctx.actor, note=note)
    return c.done(ctx, f"/incidents/{iid}", f"Incident {iid} closed.")


async def alerts_page(c: Console, ctx: Ctx) -> Response:
    sev = ctx.request.query_params.get("severity", "")
    if sev and sev not in {s.value for s in Severity}:
        raise Refused(422, "Severity must be one of info, warning, high, critical.", "bad_filter")
    rows = await run_in_threadpool(recent_alerts, c.rt.engine, limit=500)
    if sev:
        rows = [r for r in rows if r["severity"] == sev]
    return c.render(
        "alerts.html", ctx, alerts=rows[:200], severity=sev, severities=[s.value for s in Severity]
    )


def _audit_head(c: Console) -> int:
    import sqlalchemy as sa

    from shopguard.core.tables import audit_log

    with c.rt.engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.max(audit_log.c.seq))).scalar() or 0)


def _search_audit(c: Console, q: str, principal: str, decision: str) -> list[Any]:
    hits: deque[Any] = deque(maxlen=200)
    ql = q.lower()
    # Without a filter only the tail is needed; a search streams the whole log.
    since = 0 if (q or principal or decision) else max(0, _audit_head(c) - 200)
    for rec in c.rt.audit.records(since=since):
        if ql and ql not in rec.action.lower() and ql not in (rec.target or "").lower():
            continue
        if principal and principal != (rec.principal or ""):
            continue
        if decision and decision != rec.decision:
            continue
        hits.append(rec)
    return list(reversed(hits))


async def audit_page(c: Console, ctx: Ctx) -> Response:
    qp = ctx.request.query_params
    q, principal, decision = qp.get("q", ""), qp.get("principal", ""), qp.get("decision", "")
    if any(len(v) > 128 or any(ord(ch) < 32 for ch in v) for v in (q, principal, decision)):
        raise Refused(422, "Search fields must be at most 128 printable characters.", "bad_filter")
    rows = await run_in_threadpool(_search_audit, c, q, principal, decision)
    return c.render("audit.html", ctx, rows=rows, q=q, principal=principal, decision=decision)


async def audit_verify(c: Console, ctx: Ctx) -> Response:
    report = await run_in_threadpool(c.rt.audit.verify)
    if report.ok:
        msg = f"Audit chain verified: {report.entries} entries, intact."
    else:
        msg = (
            f"AUDIT CHAIN BROKEN at entry {report.first_bad_seq}: {report.reason}. "
            "Treat the log after that entry as tampered."
        )
    return c.done(ctx, "/audit", msg)


_QUEUE_LIMIT = 100


def _held(c: Console) -> list[dict[str, Any]]:
    """Quarantined records with what a reviewer reads before deciding (title, text, rating)."""
    q = c.providers.quarantine(c.rt)
    items = []
    for rec in q.list(limit=_QUEUE_LIMIT):
        row = rec.to_json() if hasattr(rec, "to_json") else dict(rec)
        payload = q.payload(int(row["id"]))
        row["title"] = str(payload.get("title", ""))[:200]
        row["text"] = str(payload.get("text", ""))[:400]
        row["rating"] = payload.get("rating")
        row["product_id"] = payload.get("product_id")
        items.append(row)
    return items


async def quarantine_page(c: Console, ctx: Ctx) -> Response:
    return c.render(
        "quarantine.html",
        ctx,
        items=await run_in_threadpool(_held, c),
        limit=_QUEUE_LIMIT,
        can_decide=allowed(ctx.session.scopes, _route("quarantine_release")),
    )


async def _decide(c: Console, ctx: Ctx, verb: str) -> Response:
    q = c.providers.quarantine(c.rt)
    rid = int(ctx.request.path_params["record_id"])
    reason = _text(_form(ctx), "reason", label="Reason", min_len=3)
    fn = q.release if verb == "release" else q.reject
    decided = await run_in_threadpool(lambda: fn(rid, reviewer=ctx.actor, reason=reason))
    notice = f"Record {rid} {'released' if verb == 'release' else 'rejected'}."
    if wants_fragment(ctx.request):
        ctx.notice = notice
        left = len(await run_in_threadpool(q.list, limit=_QUEUE_LIMIT))
        row = decided.to_json() if hasattr(decided, "to_json") else dict(decided)
        return c.fragment(
            "frag_quarantine.html",
            ctx,
            record=row,
            verb=verb,
            reason=reason,
            left=left,
            limit=_QUEUE_LIMIT,
        )
    return c.done(ctx, "/quarantine", notice)


async def quarantine_release(c: Console, ctx: Ctx) -> Response:
    return await _decide(c, ctx, "release")


async def quarantine_reject(c: Console, ctx: Ctx) -> Response:
    return await _decide(c, ctx, "reject")


def _store_scopes() -> list[str]:
    from shopguard.gateway.app import STORE_SCOPES  # lazy: the gateway imports the console

    return sorted(STORE_SCOPES)


def _key_reviews(c: Console) -> dict[str, Any]:
    """Access-review facts per key id: owner, last use, flags (unused, over-privileged...)."""
    entries = AccessReview.from_runtime(c.rt, staff=c.staff).entries()
    return {e.subject.removeprefix("key:"): e for e in entries if e.subject.startswith("key:")}


async def keys_page(c: Console, ctx: Ctx) -> Response:
    keys = await run_in_threadpool(c.keys.list)
    return c.render(
        "keys.html",
        ctx,
        keys=list(reversed(keys)),
        reviews=await run_in_threadpool(_key_reviews, c),
        all_scopes=_store_scopes(),
        can_manage=allowed(ctx.session.scopes, _route("key_create")),
        issued=None,
    )


async def key_create(c: Console, ctx: Ctx) -> Response:
    form = _form(ctx)
    name = _field(form, "name", "name", label="Key name")
    tenant = _field(form, "tenant", "tenant", label="Tenant")
    scopes = [s for s in form.getlist("scopes") if isinstance(s, str)]
    known = set(_store_scopes())
    if not scopes:
        raise Refused(422, "Choose at least one scope for the key.", "missing_scopes")
    if any(s not in known for s in scopes):
        raise Refused(422, "Unknown scope; choose from the list.", "malformed_scopes")
    days_raw = form.get("days")
    expires = None
    if isinstance(days_raw, str) and days_raw.strip():
        if not days_raw.strip().isdigit() or not 1 <= int(days_raw) <= 365:
            raise Refused(422, "Expiry must be 1 to 365 days.", "malformed_days")
        expires = timedelta(days=int(days_raw))
    issued = await run_in_threadpool(
        lambda: c.keys.create(name=name, tenant=tenant, scopes=scopes, expires_in=expires)
    )
    keys = await run_in_threadpool(c.keys.list)
    reviews = await run_in_threadpool(_key_reviews, c)
    ctx.notice = f"Key {issued.record.key_id} created. Copy the secret now; it is not shown again."
    return c.render(
        "keys.html",
        ctx,
        201,
        keys=list(reversed(keys)),
        reviews=reviews,
        all_scopes=_store_scopes(),
        can_manage=True,
        issued=issued,
    )


async def key_revoke(c: Console, ctx: Ctx) -> Response:
    key_id = _field(ctx.request.path_params, "key_id", "key_id", label="Key id")
    await run_in_threadpool(c.keys.revoke, key_id)
    notice = f"Key {key_id} revoked; requests with it are refused."
    if wants_fragment(ctx.request):
        ctx.notice = notice
        key = next(k for k in await run_in_threadpool(c.keys.list) if k.key_id == key_id)
        reviews = await run_in_threadpool(_key_reviews, c)
        return c.fragment("frag_key.html", ctx, k=key, rv=reviews.get(key_id), can_manage=True)
    return c.done(ctx, "/keys", notice)


async def privacy_page(c: Console, ctx: Ctx) -> Response:
    scopes = ctx.session.scopes
    now = datetime.now(UTC)
    requests = None
    if "*" in scopes or "privacy:dsar" in scopes:
        requests = [
            {
                **r.to_json(),
                "overdue": r.overdue(now),
                "days_left": (r.due_at - now).days,
            }
            for r in await run_in_threadpool(RequestLedger(c.rt.engine).all)
        ]
    qp = ctx.request.query_params
    history = None
    tenant, customer = qp.get("tenant", ""), qp.get("customer", "")
    can_consent = "*" in scopes or "consent:read" in scopes
    if customer and can_consent:
        tenant = _field({"t": tenant or "default"}, "t", "tenant", label="Tenant")
        customer = _field({"c": customer}, "c", "tenant", label="Customer id")
        history = await run_in_threadpool(
            lambda: ConsentLedger(c.rt.engine).history(tenant=tenant, customer_id=customer)
        )
    return c.render(
        "privacy.html",
        ctx,
        requests=requests,
        can_consent=can_consent,
        history=history,
        tenant=tenant or "default",
        customer=customer,
    )


async def vendors_page(c: Console, ctx: Ctx) -> Response:
    f = c.providers.vendors
    rows: list[dict[str, Any]] = []
    if f is not None:
        reg = f(c.rt)
        for v in await run_in_threadpool(reg.all):
            row = v.to_json() if hasattr(v, "to_json") else dict(v)
            a = await run_in_threadpool(reg.latest_assessment, row["vendor_id"])
            row["assessment"] = _as_dict(a)
            rows.append(row)
    return c.render("vendors.html", ctx, installed=f is not None, vendors=rows)


def _as_dict(obj: Any) -> dict[str, Any] | None:
    """A provider's result as a plain dict (``to_json``, a dataclass, or a mapping)."""
    import dataclasses

    if obj is None:
        return None
    if hasattr(obj, "to_json"):
        out: dict[str, Any] = dict(obj.to_json())
    elif dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        out = dataclasses.asdict(obj)
    else:
        out = dict(obj)
    if "passed" not in out and isinstance(getattr(obj, "passed", None), bool):
        out["passed"] = obj.passed
    return out


def _register(c: Console) -> RiskRegister:
    return RiskRegister(c.rt.engine, c.rt.audit, bus=c.rt.bus)


async def risks_page(c: Console, ctx: Ctx) -> Response:
    card = await run_in_threadpool(_scorecard, c)
    results = {str(x["id"]): str(x["status"]) for x in (card or {}).get("checks", [])}
    if card and "path" in card:
        results = await run_in_threadpool(load_scorecard, Path(card["path"]))
    assessed = await run_in_threadpool(_register(c).assess, results)
    cells = [(a.risk_id, a.likelihood, a.impact, a.residual_likelihood) for a in assessed]
    return c.render(
        "risks.html",
        ctx,
        risks=assessed,
        heatmap=charts.heatmap(cells, "Risk heat map: likelihood by impact"),
        can_write=allowed(ctx.session.scopes, _route("risk_update")),
        scored=card is not None,
    )


async def risk_update(c: Console, ctx: Ctx) -> Response:
    rid = _field(ctx.request.path_params, "risk_id", "risk_id", label="Risk id")
    form = _form(ctx)
    values: dict[str, int] = {}
    for name in ("likelihood", "impact"):
        raw = form.get(name)
        if not isinstance(raw, str) or raw not in {"1", "2", "3", "4", "5"}:
            raise Refused(422, f"{name.capitalize()} must be a whole number 1 to 5.", "malformed")
        values[name] = int(raw)
    await run_in_threadpool(
        lambda: _register(c).update(
            rid, likelihood=values["likelihood"], impact=values["impact"], actor=ctx.actor
        )
    )
    return c.done(ctx, "/risks", f"Risk {rid} updated.")


def _read_small_json(path: Path) -> Any:
    import json

    if not path.is_file() or path.stat().st_size > 262_144:
        return None
    try:
        return json.loads(path.read_text("utf-8"))
    except ValueError:
        return None


def _card_sections(c: Console, d: Path) -> dict[str, Any]:
    """Model card sections: from the fairness package's card when installed, else the files
    the trainers and checks write (metrics.json, fairness.json, robustness.json, card.json)."""
    if c.providers.cards is not None:
        card = c.providers.cards(d.name, d.parent)
        return {
            "Intended use": card.get("intended_use"),
            "Training data": card.get("training_data"),
            "Metrics": card.get("metrics"),
            "Fairness": card.get("fairness"),
            "Robustness": card.get("robustness"),
        }
    metrics = _read_small_json(d / "metrics.json")
    robustness = _read_small_json(d / "robustness.json")
    if robustness is None and isinstance(metrics, dict):
        robustness = metrics.get("robustness")
    return {
        "Card": _read_small_json(d / "card.json"),
        "Metrics": metrics,
        "Fairness": _read_small_json(d / "fairness.json"),
        "Robustness": robustness,
    }


def _models(c: Console) -> list[dict[str, Any]]:
    root = c.settings.models_dir
    mv = ModelVersions(root)
    out = []
    if root.is_dir():
        for d in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
            versions = mv.versions(d.name)
            out.append(
                {
                    "name": d.name,
                    "sections": _card_sections(c, d),
                    "versions": [v.version for v in versions],
                    "current": mv.current(d.name),
                }
            )
    return out


async def models_page(c: Console, ctx: Ctx) -> Response:
    models = await run_in_threadpool(_models, c)
    vault = None
    if c.providers.vault is not None:
        v = c.providers.vault(c.rt)
        vault = await run_in_threadpool(v.versions, ctx.session.scopes, ctx.actor)
    return c.render(
        "models.html",
        ctx,
        models=models,
        vault=vault,
        vault_installed=c.providers.vault is not None,
        can_rollback=allowed(ctx.session.scopes, _route("model_rollback")),
    )


async def model_rollback(c: Console, ctx: Ctx) -> Response:
    name = _field(ctx.request.path_params, "name", "name", label="Model name")
    if c.containment is None:
        raise Refused(503, "No containment is configured.", "no_containment")
    version = await run_in_threadpool(c.containment.rollback_model, name)
    return c.done(ctx, "/models", f"Model {name} rolled back to version {version}.")


async def redteam_page(c: Console, ctx: Ctx) -> Response:
    f = c.providers.redteam
    runs: list[dict[str, Any]] = []
    diff = None
    if f is not None:
        runs = await run_in_threadpool(f(c.rt).list_runs)
        runs.sort(key=lambda r: str(r.get("at", "")))
        if len(runs) >= 2:
            diff = diff_runs(runs[-2], runs[-1])
    return c.render("redteam.html", ctx, installed=f is not None, runs=runs, diff=diff)


_HANDLERS: dict[str, Handler] = {
    "overview": overview,
    "incidents": incidents_page,
    "incident": incident_page,
    "incident_step": incident_step,
    "incident_action": incident_action,
    "incident_notified": incident_notified,
    "incident_close": incident_close,
    "alerts": alerts_page,
    "audit": audit_page,
    "audit_verify": audit_verify,
    "quarantine": quarantine_page,
    "quarantine_release": quarantine_release,
    "quarantine_reject": quarantine_reject,
    "keys": keys_page,
    "key_create": key_create,
    "key_revoke": key_revoke,
    "privacy": privacy_page,
    "vendors": vendors_page,
    "risks": risks_page,
    "risk_update": risk_update,
    "models": models_page,
    "model_rollback": model_rollback,
    "redteam": redteam_page,
}


async def _logout(c: Console, ctx: Ctx) -> Response:
    await run_in_threadpool(c.staff.logout, ctx.request.cookies.get(c.cookie, ""))
    resp = RedirectResponse("/console/login?reason=logout", status_code=303)
    resp.delete_cookie(c.cookie, path="/", secure=c.secure, httponly=True, samesite="strict")
    c.headers(resp)
    return resp


_HANDLERS["logout"] = _logout


# -- login ---------------------------------------------------------------------------------

_REASONS = {
    "expired": "Your session expired. Log in again.",
    "logout": "You are logged out.",
    "login": "Please log in.",
}


def _login_routes(app: FastAPI, c: Console) -> None:
    def form_page(request: Request, status: int = 200, error: str | None = None) -> Response:
        pre = base64.urlsafe_b64encode(os.urandom(24)).decode().rstrip("=")
        resp = c.render(
            "login.html",
            None,
            status,
            login_csrf=c.csrf_for("login:" + pre),
            error=error,
            info=_REASONS.get(request.query_params.get("reason", "")),
        )
        c.set_cookie(resp, c.pre_cookie, pre, 900)
        return resp

    async def login_form(request: Request) -> Response:
        _label(request, "login")
        refused = await run_in_threadpool(_insecure_refusal, console=c, request=request)
        return refused or form_page(request)

    async def login_submit(request: Request) -> Response:
        _label(request, "login")
        refused = await run_in_threadpool(_insecure_refusal, console=c, request=request)
        if refused is not None:
            return refused
        form = await request.form()
        pre = request.cookies.get(c.pre_cookie, "")
        if not pre or not c.csrf_ok("login:" + pre, form.get("csrf")):
            await run_in_threadpool(
                c.audit, "login", "deny", None, target="/console/login", findings=("csrf",)
            )
            return form_page(
                request,
                403,
                "The form's security token is missing or wrong. Nothing was sent; try again.",
            )
        try:
            username = _field(form, "username", "username", label="User name")
            password = form.get("password")
            if not isinstance(password, str) or not password or len(password) > 1024:
                raise Refused(422, "Password is required.", "missing_password")
            code_raw = form.get("code")
            rec_raw = form.get("recovery")
            code = code_raw.strip() if isinstance(code_raw, str) and code_raw.strip() else None
            recovery = rec_raw.strip() if isinstance(rec_raw, str) and rec_raw.strip() else None
            if code is not None and not _FIELD_RE["code"].match(code):
                raise Refused(422, "The verification code is six digits.", "malformed_code")
            if recovery is not None and not _FIELD_RE["recovery"].match(recovery):
                raise Refused(422, "The recovery code is malformed.", "malformed_recovery")
        except Refused as exc:
            await run_in_threadpool(
                c.audit, "login", "deny", None, target="/console/login", findings=(exc.finding,)
            )
            return form_page(request, exc.status, exc.message)
        try:
            session = await run_in_threadpool(
                lambda: c.staff.login(username, password, code=code, recovery_code=recovery)
            )
        except AuthenticationError as exc:
            # The directory audits failures of known accounts; this entry also covers
            # unknown user names (no user name logged: it may be a mistyped password).
            await run_in_threadpool(
                c.audit,
                "login",
                "deny",
                None,
                target="/console/login",
                findings=("authentication_failed",),
            )
            return form_page(request, 401, str(exc))
        resp = RedirectResponse("/console/", status_code=303)
        ttl = int((session.expires_at - datetime.now(UTC)).total_seconds())
        c.set_cookie(resp, c.cookie, session.token, max(ttl, 60))
        resp.delete_cookie(c.pre_cookie, path="/", secure=c.secure, httponly=True)
        c.headers(resp)
        await run_in_threadpool(
            c.audit, "login", "allow", f"staff:{session.username}", target="/console/login"
        )
        return resp

    app.add_api_route("/login", login_form, methods=["GET"], include_in_schema=False)
    app.add_api_route("/login", login_submit, methods=["POST"], include_in_schema=False)


def build_console(console: Console) -> FastAPI:
    """The console's ASGI app (mount it at ``/console``)."""
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    app.state.console = console
    app.mount(
        "/static",
        StaticFiles(packages=[("shopguard.console", "static")]),
        name="static",
    )
    _login_routes(app, console)

    async def unknown(request: Request, exc: Exception) -> Response:
        """A path no route matches (e.g. a record id that is not a number), or a wrong method:
        the console's page, headers and audit entry instead of the framework's bare JSON."""
        status = int(getattr(exc, "status_code", 404))
        await run_in_threadpool(
            console.audit,
            "unknown_route",
            "deny",
            None,
            target=request.url.path[:200],
            findings=("no_such_route" if status == 404 else "method_not_allowed",),
        )
        message = (
            "There is no such console page or object; nothing was changed."
            if status == 404
            else "This page does not accept that kind of request; nothing was changed."
        )
        return console.render("error.html", None, status, message=message)

    app.add_exception_handler(StarletteHTTPException, unknown)
    for r in ROUTES:
        app.add_api_route(
            r.path,
            _wrap(console, r, _HANDLERS[r.name]),
            methods=[r.method],
            include_in_schema=False,
            name=r.name,
        )
    return app


def install_console(app: FastAPI, settings: Settings) -> Console | None:
    """Mount the console at ``/console`` on the gateway ``app`` (one line in ``create_app``)."""
    if not settings.console_enabled:
        return None
    console = Console(
        app.state.runtime,
        settings,
        keys=app.state.keys,
        desk=getattr(app.state, "incidents", None),
    )
    app.state.console = console
    app.mount("/console", build_console(console))
    return console

"""The gateway: the store's models behind one guarded, audited API.

``create_app(settings)`` opens the runtime (database, key ring, audit log) and
serves each tenant's store. Every route declares a :class:`RoutePolicy`; the
app refuses to start with a route that has none. Requests go through the
configured guards pipeline (:mod:`.pipeline`), and every decision is audited
before its response starts and counted in ``/metrics``.

Reverse-proxy mode (``upstreams``) puts the same pipeline in front of a store's
own model services: ``/v1/upstream/<name>/<path>`` is forwarded over httpx.
"""

from __future__ import annotations

import contextlib
import inspect
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any, get_type_hints

import httpx
from fastapi import Depends, FastAPI, Query, Request, Response
from fastapi import Path as PathParam
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

import shopguard.adversarial.guard  # noqa: F401  (registers the unusual-input guard)
from shopguard import __version__
from shopguard.console import install_console
from shopguard.core.errors import ConfigError, ModelError, NotFoundError, ShopguardError
from shopguard.core.runtime import Runtime
from shopguard.core.settings import Settings
from shopguard.core.threads import hold_blas_threads
from shopguard.fairness.explain import fraud_reasons
from shopguard.fairness.review import issue_decision_id
from shopguard.fairness.serving import LiveFairness
from shopguard.gateway.audit_mw import AuditMiddleware
from shopguard.gateway.jwt_auth import JwtVerifier
from shopguard.gateway.keys import ApiKeyStore
from shopguard.gateway.metrics import GatewayMetrics
from shopguard.gateway.pipeline import GatewayDeps, GuardContext, Pipeline, RoutePolicy
from shopguard.gateway.problems import install_problem_handlers
from shopguard.gateway.ratelimit import RateLimiter, parse_limits
from shopguard.gateway.schemas import (
    ConsentChangeIn,
    ConsentOut,
    ConsentPurposeOut,
    FraudLabelsIn,
    FraudLabelsOut,
    FraudScoreOut,
    ProductReviewsOut,
    ReasonOut,
    RecommendationsOut,
    ReviewIn,
    ReviewOut,
    TransactionIn,
)
from shopguard.governance import gateway_hook  # registers the ops.containment guard
from shopguard.governance.api import add_vendor_routes
from shopguard.governance.staff import StaffDirectory
from shopguard.governance.training import TrainingRegister
from shopguard.integrity.service import ReviewIntake
from shopguard.modelsec import guard as _modelsec_guard  # registers the extraction guards
from shopguard.monitor.feed import ModelFeed
from shopguard.monitor.watch import embedded_monitor
from shopguard.privacy.consent import ConsentLedger, ConsentState, Purpose
from shopguard.store.service import DEFAULT_TENANT, StoreService, TenantStores

__all__ = [
    "POLICY_ATTR",
    "STORE_SCOPES",
    "GuardedRoute",
    "RouteGuard",
    "add_guarded_route",
    "app_from_environment",
    "create_app",
    "route_policy",
]

_ID = r"^[A-Za-z0-9_.:-]{1,64}$"
_PROBLEM = {
    "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
}
#: Every guarded route can answer these; documented so clients (and schemathesis) expect them.
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"description": desc, **_PROBLEM}
    for code, desc in {
        400: "Malformed request (e.g. a body that is not UTF-8 JSON)",
        401: "No or bad credentials",
        403: "Missing scope",
        404: "Not found (or not visible to this tenant)",
        413: "Body too large",
        415: "Unsupported media type (e.g. an upload that is not the image type it claims)",
        422: "Request does not match the schema",
        429: "Rate limited (see Retry-After)",
        503: "A guard, the audit log or a model is unavailable (fail closed)",
    }.items()
}
DECLINE_AT = 0.8
REVIEW_AT = 0.3
POLICY_ATTR = "__shopguard_policy__"
GUARD_ATTR = "__shopguard_guard__"
_CTX = "shopguard.ctx"
#: Every scope the built-in routes declare (a test pins it to the routes). Upstream routes
#: add ``upstream:<name>`` scopes of their own.
STORE_SCOPES: tuple[str, ...] = (
    "fraud:score",
    "fraud:label",
    "recommendations:read",
    "reviews:read",
    "reviews:write",
    "metrics:read",
    "consent:read",
    "consent:write",
    "assistant:chat",
    "decisions:review",
    "vendors:read",
    "vendors:write",
    "images:classify",
)
#: Routes that need no credentials. Everything else must declare scopes.
PUBLIC_PATHS = frozenset({"/healthz", "/v1/staff/sessions"})
_HOP_HEADERS = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailers",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
        "x-api-key",
        "authorization",
        "cookie",
    }
)


def create_app(
    settings: Settings,
    *,
    runtime: Runtime | None = None,
    services: dict[str, StoreService] | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    start_monitor: bool = False,
    warm: bool = False,
) -> FastAPI:
    """Build the gateway app. ``runtime``/``services``/``transport`` may be injected (tests, demo).

    ``start_monitor`` runs the in-process monitor while the app is up (``shopguard serve``
    does by default, ``monitor_embedded``): the alert rules over the app's own metrics,
    the audit log's per-key figures and the served models' drift (``app.state.model_feed``).
    ``warm`` opens the default tenant's store and models now (``shopguard serve``: before
    the port answers), so the first caller does not wait for them; a tenant without a store
    is left to answer its requests as it would anyway.
    """
    hold_blas_threads(settings.blas_threads)
    rt = runtime or Runtime.open(settings)
    owns_runtime = runtime is None
    stores = TenantStores(settings.home, rt.engine, preloaded=services)
    if warm:
        with contextlib.suppress(ShopguardError):
            stores.get(DEFAULT_TENANT)
    keys = ApiKeyStore(rt.engine, rt.keyring, cache_ttl=settings.gateway_key_cache_ttl_s)
    limiter = RateLimiter(
        key_limits=parse_limits(settings.rate_limit_key),
        ip_limits=parse_limits(settings.rate_limit_ip),
        route_limits={r: parse_limits(v) for r, v in settings.rate_limit_routes.items()},
        redis_url=settings.redis_url,
        fail_open=settings.rate_limit_fail_open,
        bus=rt.bus,
    )
    staff = StaffDirectory.from_runtime(rt)
    deps = GatewayDeps(
        keys=keys,
        jwt=JwtVerifier.from_settings(settings),
        limiter=limiter,
        bus=rt.bus,
        staff=gateway_hook.staff_authenticator(staff, tenant=settings.ops_staff_tenant),
    )
    pipeline = Pipeline(list(settings.gateway_guards), deps)
    metrics = GatewayMetrics()
    consent = ConsentLedger(rt.engine)
    intake = ReviewIntake(rt.engine, rt.audit, quarantine_at=settings.integrity_quarantine_at)
    fair = LiveFairness(
        methods=settings.fairness_mitigation,
        model_dir=lambda tenant, model: stores.root(tenant) / "models" / model,
        bus=rt.bus,
        attributes=settings.fairness_monitor_attributes,
        gap_bar=settings.fairness_monitor_gap_bar,
        min_group_size=settings.fairness_min_group_size,
        window=settings.fairness_monitor_window,
    )
    upstream_client = httpx.AsyncClient(timeout=settings.upstream_timeout_s, transport=transport)
    feed = ModelFeed(window=settings.monitor_drift_window)

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        monitor = None
        if start_monitor:
            monitor = embedded_monitor(
                rt,
                scrape=lambda: metrics.render().decode(),
                feed=feed,
                # Overdue training and drills raise an alert once a day (and at start).
                jobs=[(86_400.0, TrainingRegister.from_runtime(rt).alert_overdue)],
            )
            monitor.start(settings.monitor_interval_s)
            app.state.monitor = monitor
        try:
            yield
        finally:
            if monitor is not None:
                monitor.stop()
            await upstream_client.aclose()
            await limiter.close()
            await _modelsec_guard.close_monitor(app)
            if owns_runtime:
                rt.close()

    app = FastAPI(
        title="shopguard gateway",
        version=__version__,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    # Every route is a GuardedRoute: its guards run as pure ASGI before FastAPI's
    # dependency injection (see RouteGuard), whoever adds the route and when.
    app.router.route_class = GuardedRoute
    _install_problem_schema(app)
    app.state.runtime = rt
    app.state.settings = settings
    app.state.stores = stores
    app.state.keys = keys
    app.state.pipeline = pipeline
    app.state.limiter = limiter
    app.state.metrics = metrics
    app.state.fairness = fair
    app.state.staff = staff
    app.state.model_feed = feed  # drift watch: routes append, the monitor thread drains
    app.state.monitor = None
    gateway_hook.attach(app, rt)  # incidents from gateway alerts; ops.containment guard state
    install_problem_handlers(app)

    def guard_for(policy_id: str, *scopes: str, public: bool = False) -> RouteGuard:
        return RouteGuard(
            RoutePolicy(policy_id, frozenset(scopes), public), pipeline, rt.audit.pseudonym
        )

    def guarded(policy_id: str, *scopes: str, public: bool = False) -> Any:
        guard = guard_for(policy_id, *scopes, public=public)

        async def dependency(request: Request) -> GuardContext:
            return await guard.context(request)

        setattr(dependency, POLICY_ATTR, guard.policy)
        setattr(dependency, GUARD_ATTR, guard)
        return Depends(dependency)

    app.state.guarded = guarded
    app.state.guard_for = guard_for

    def target(kind: str, value: str) -> str:
        # Customer ids identify people: the audit log gets their keyed pseudonym.
        return f"{kind}:{rt.audit.pseudonym(value)}" if kind == "customer" else f"{kind}:{value}"

    def customer_store(ctx: GuardContext, customer_id: str) -> StoreService:
        """The caller's tenant's store, if it has this customer (else 404: not visible)."""
        ctx.request.scope["state"]["audit_target"] = target("customer", customer_id)
        svc = stores.get(ctx.tenant)
        if not svc.has_customer(customer_id):
            raise NotFoundError("unknown customer")
        return svc

    async def consent_view(ctx: GuardContext, svc: StoreService, customer_id: str) -> Any:
        jurisdiction = svc.jurisdiction(customer_id)
        state = await run_in_threadpool(
            consent.state, tenant=ctx.tenant, customer_id=customer_id, jurisdiction=jurisdiction
        )
        return await ctx.outputs(_consent_out(customer_id, jurisdiction, state))

    @app.get("/healthz", tags=["public"])
    async def healthz(ctx: GuardContext = guarded("healthz", public=True)) -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/metrics", tags=["operations"], response_class=Response, responses=ERRORS)
    async def prometheus(ctx: GuardContext = guarded("metrics", "metrics:read")) -> Response:
        body = metrics.render()
        if app.state.monitor is not None:  # the monitor's own figures (drift, per key)
            body += app.state.monitor.render()
        return Response(body, media_type="text/plain; version=0.0.4")

    @app.post("/v1/fraud/score", response_model=FraudScoreOut, tags=["fraud"], responses=ERRORS)
    async def fraud_score(
        body: TransactionIn, ctx: GuardContext = guarded("fraud.score", "fraud:score")
    ) -> Any:
        ctx.request.scope["state"]["audit_target"] = target("customer", body.customer_id)
        await ctx.inputs(body)
        svc = stores.get(ctx.tenant)
        tx: dict[str, Any] = {
            "TRANSACTION_ID": body.transaction_id,
            "TX_DATETIME": body.naive_utc,
            "CUSTOMER_ID": body.customer_id,
            "TERMINAL_ID": body.terminal_id,
            "TX_AMOUNT": body.amount,
            "device_is_new": int(body.device_is_new),
            "ship_bill_mismatch": int(body.ship_bill_mismatch),
            "ip_country_mismatch": int(body.ip_country_mismatch),
            "account_age_days": body.account_age_days,
            "card_present": int(body.card_present),
        }

        def decide() -> tuple[float, str, str | None]:
            # fairness hook: the per-model mitigation (groups from the store's customer
            # record, never the request) and O(1) per-group decline counters
            score, mitigation, groups = fair.fraud_score(
                ctx.tenant, svc.store.customers, body.customer_id, svc.score_transaction(tx)
            )
            decision = (
                "decline" if score >= DECLINE_AT else "review" if score >= REVIEW_AT else "approve"
            )
            fair.observe(ctx.tenant, groups, decision == "decline")
            return score, decision, mitigation

        score, decision, mitigation = await run_in_threadpool(decide)
        if mitigation is not None:
            ctx.findings.append(f"mitigation:{mitigation}")
        feed.observe(  # numbers and flags as they are: the monitor thread converts them
            "fraud",
            {
                "amount": body.amount,
                "account_age_days": body.account_age_days,
                "device_is_new": body.device_is_new,
                "ship_bill_mismatch": body.ship_bill_mismatch,
                "ip_country_mismatch": body.ip_country_mismatch,
                "card_present": body.card_present,
            },
            score,
        )
        feed.predicted("fraud", (ctx.tenant, body.transaction_id), decision != "approve")
        reasons = await run_in_threadpool(fraud_reasons, svc, tx) if decision != "approve" else []
        ctx.findings.extend(f"reason:{r['code']}" for r in reasons)
        out = FraudScoreOut(
            transaction_id=body.transaction_id,
            score=round(score, 6),
            decision=decision,
            reasons=[ReasonOut(**r) for r in reasons],
            mitigation=mitigation,
            decision_id=issue_decision_id(
                rt.keyring, ctx.tenant, ctx.request.scope["state"]["request_id"]
            )
            if decision != "approve"
            else None,
        )
        return await ctx.outputs(out)

    @app.post(
        "/v1/fraud/labels",
        response_model=FraudLabelsOut,
        status_code=202,
        tags=["fraud"],
        responses=ERRORS,
    )
    async def fraud_labels(
        body: FraudLabelsIn, ctx: GuardContext = guarded("fraud.labels", "fraud:label")
    ) -> Any:
        """Late truth (chargebacks, confirmed fraud) about earlier scored payments: the
        monitor matches each with the decision it was given and tracks the accuracy."""
        await ctx.inputs(body)
        for item in body.labels:
            feed.label("fraud", (ctx.tenant, item.transaction_id), item.fraud)
        return FraudLabelsOut(accepted=len(body.labels))

    @app.get(
        "/v1/recommendations/{customer_id}",
        response_model=RecommendationsOut,
        tags=["recommendations"],
        responses=ERRORS,
    )
    async def recommendations(
        customer_id: str = PathParam(pattern=_ID),
        k: int = Query(10, ge=1, le=50),
        ctx: GuardContext = guarded("recommendations.read", "recommendations:read"),
    ) -> Any:
        svc = customer_store(ctx, customer_id)
        await ctx.inputs({"customer_id": customer_id, "k": k})
        personalised = await run_in_threadpool(
            consent.allowed,
            tenant=ctx.tenant,
            customer_id=customer_id,
            purpose=Purpose.PERSONALISATION,
            jurisdiction=svc.jurisdiction(customer_id),
        )
        products = await run_in_threadpool(svc.recommend, customer_id, k, personalised=personalised)
        feed.observe(
            "recommender",
            {"k": k, "personalised": personalised},
            _bucket(products[0]) if products else -1.0,
        )
        out = RecommendationsOut(
            customer_id=customer_id, products=products, personalised=personalised
        )
        return await ctx.outputs(out)

    @app.get(
        "/v1/customers/{customer_id}/consent",
        response_model=ConsentOut,
        tags=["privacy"],
        responses=ERRORS,
    )
    async def read_consent(
        customer_id: str = PathParam(pattern=_ID),
        ctx: GuardContext = guarded("consent.read", "consent:read"),
    ) -> Any:
        return await consent_view(ctx, customer_store(ctx, customer_id), customer_id)

    @app.put(
        "/v1/customers/{customer_id}/consent",
        response_model=ConsentOut,
        tags=["privacy"],
        responses=ERRORS,
    )
    async def change_consent(
        body: ConsentChangeIn,
        customer_id: str = PathParam(pattern=_ID),
        ctx: GuardContext = guarded("consent.write", "consent:write"),
    ) -> Any:
        svc = customer_store(ctx, customer_id)
        await ctx.inputs(body)
        await run_in_threadpool(
            consent.record,
            tenant=ctx.tenant,
            customer_id=customer_id,
            purpose=body.purpose,
            granted=body.granted,
            source="storefront",
            policy_version=body.policy_version,
        )
        return await consent_view(ctx, svc, customer_id)

    @app.get(
        "/v1/products/{product_id}/reviews",
        response_model=ProductReviewsOut,
        tags=["reviews"],
        responses=ERRORS,
    )
    async def product_reviews(
        product_id: str = PathParam(pattern=_ID),
        limit: int = Query(20, ge=1, le=100),
        ctx: GuardContext = guarded("reviews.read", "reviews:read"),
    ) -> Any:
        ctx.request.scope["state"]["audit_target"] = target("product", product_id)
        await ctx.inputs({"product_id": product_id, "limit": limit})
        svc = stores.get(ctx.tenant)
        rows = await run_in_threadpool(svc.product_reviews, product_id, limit=limit)
        out = ProductReviewsOut(product_id=product_id, reviews=[ReviewOut(**r) for r in rows])
        return await ctx.outputs(out)

    @app.post(
        "/v1/reviews", response_model=ReviewOut, status_code=201, tags=["reviews"], responses=ERRORS
    )
    async def post_review(
        body: ReviewIn, ctx: GuardContext = guarded("reviews.write", "reviews:write")
    ) -> Any:
        ctx.request.scope["state"]["audit_target"] = (
            f"{target('product', body.product_id)} {target('customer', body.customer_id)}"
        )
        await ctx.inputs(body)
        svc = stores.get(ctx.tenant)
        review = await run_in_threadpool(
            intake.submit,
            svc,
            product_id=body.product_id,
            customer_id=body.customer_id,
            rating=body.rating,
            title=body.title,
            text=body.text,
        )
        feed.observe(
            "reviews",
            {"rating": float(body.rating), "text_chars": float(len(body.text))},
            _review_score(review),
        )
        out = ReviewOut(
            review_id=review["review_id"],
            rating=review["rating"],
            title=review["title"],
            text=review["text"],
            verified_purchase=bool(review["verified_purchase"]),
            status=review["status"],
        )
        return await ctx.outputs(out)

    for name, base_url in settings.upstreams.items():
        _add_upstream(app, guarded, upstream_client, name, base_url)
    from shopguard.gateway.routes_decisions import add_review_route

    add_review_route(app, settings)
    add_vendor_routes(app)
    from shopguard.gateway.routes_staff import install_staff_routes

    install_staff_routes(app)
    from shopguard.gateway.routes_images import install_adversarial

    install_adversarial(app, settings)

    from shopguard.gateway.routes_assistant import install_assistant_routes

    install_assistant_routes(app, settings)
    install_console(app, settings)  # the web console at /console (its own CSP, cookies, CSRF)
    _refuse_undeclared(app)
    # Outermost: the edge (body limit, security headers, audit, metrics), then CORS
    # (closed unless configured). add_middleware puts the last one added outermost.
    if settings.gateway_cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.gateway_cors_origins),
            allow_methods=["GET", "POST"],
            allow_headers=["authorization", "x-api-key", "content-type"],
        )
    app.add_middleware(
        AuditMiddleware,
        audit=rt.audit,
        metrics=metrics,
        max_bytes=settings.gateway_max_body_bytes,
        harden=True,
    )
    return app


def _install_problem_schema(app: FastAPI) -> None:
    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = original()
            schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = {
                "type": "object",
                "required": ["type", "title", "status"],
                "properties": {
                    "type": {"type": "string"},
                    "title": {"type": "string"},
                    "status": {"type": "integer"},
                    "detail": {"type": "string"},
                },
            }
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def app_from_environment() -> FastAPI:
    """The app for ``uvicorn --factory`` (each worker builds its own from settings, and runs
    the in-process monitor unless ``monitor_embedded`` is off)."""
    from shopguard.core.settings import load_settings

    settings = load_settings()
    return create_app(settings, start_monitor=settings.monitor_embedded, warm=True)


def add_guarded_route(
    app: FastAPI,
    path: str,
    endpoint: Callable[..., Awaitable[Any]],
    *,
    policy_id: str,
    scopes: Sequence[str],
    methods: Sequence[str] = ("GET",),
    **route_kwargs: Any,
) -> None:
    """Serve ``endpoint`` at ``path`` behind the app's guards pipeline (built by :func:`create_app`).

    ``endpoint`` is a plain FastAPI endpoint (its parameters are resolved as
    usual); its arguments go through the input checks and its result through
    the output filters, as the built-in routes do. The route declares
    ``policy_id`` and ``scopes``, so :func:`route_policy` finds it.
    """
    if not scopes:
        raise ConfigError(f"route {path} declares no scopes")
    guard: RouteGuard = app.state.guard_for(policy_id, *scopes)
    pipeline = guard.pipeline
    hints = get_type_hints(endpoint, include_extras=True)  # keep Annotated constraints
    params = [
        p.replace(annotation=hints.get(p.name, p.annotation))
        for p in inspect.signature(endpoint).parameters.values()
    ]
    own = next((p.name for p in params if p.annotation is Request), None)
    if not (pipeline.has_inputs or pipeline.has_outputs):
        # Nothing to run after the guards (which ran before FastAPI, see GuardedRoute): the
        # wrapper needs no request, so FastAPI has one parameter fewer to resolve per call.
        async def plain(**kwargs: Any) -> Any:
            return await endpoint(**kwargs)

        _declare(plain, endpoint, guard, params, hints)
        app.add_api_route(path, plain, methods=list(methods), responses=ERRORS, **route_kwargs)
        return
    # The request reaches the wrapper as a plain ``Request`` parameter (the endpoint's own,
    # if it has one): no dependency for FastAPI to solve on every call.
    req_name = own or "_shopguard_request"
    extra = (
        []
        if own
        else [inspect.Parameter(req_name, inspect.Parameter.KEYWORD_ONLY, annotation=Request)]
    )

    async def route(**kwargs: Any) -> Any:
        request: Request = kwargs[req_name] if own else kwargs.pop(req_name)
        ctx = await guard.context(request)
        if pipeline.has_inputs:
            await ctx.inputs(kwargs)
        result = await endpoint(**kwargs)
        return await ctx.outputs(result) if pipeline.has_outputs else result

    _declare(route, endpoint, guard, [*params, *extra], hints)
    app.add_api_route(path, route, methods=list(methods), responses=ERRORS, **route_kwargs)


def _declare(
    wrapper: Callable[..., Any],
    endpoint: Callable[..., Any],
    guard: RouteGuard,
    params: list[inspect.Parameter],
    hints: dict[str, Any],
) -> None:
    """Give ``wrapper`` the signature FastAPI reads and the route's declared guard."""
    wrapper.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        params, return_annotation=hints.get("return", Any)
    )
    wrapper.__name__ = getattr(endpoint, "__name__", "guarded_route")
    setattr(wrapper, POLICY_ATTR, guard.policy)
    setattr(wrapper, GUARD_ATTR, guard)


def _add_upstream(
    app: FastAPI, guarded: Callable[..., Any], client: httpx.AsyncClient, name: str, base_url: str
) -> None:
    if not name.isidentifier():
        raise ConfigError(f"upstream name {name!r} must be an identifier")
    base = base_url.rstrip("/")

    async def proxy(
        request: Request,
        path: str,
        ctx: GuardContext = guarded(f"upstream.{name}", f"upstream:{name}"),
    ) -> Response:
        body = await request.body()
        await ctx.inputs({"path": path, "body": body})
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_HEADERS}
        headers["x-shopguard-tenant"] = ctx.tenant
        try:
            upstream = await client.request(
                request.method,
                f"{base}/{path}",
                params=request.query_params,
                content=body,
                headers=headers,
            )
        except httpx.HTTPError:
            raise ModelError(f"upstream {name} unreachable") from None
        payload = await ctx.outputs(upstream.content)
        return Response(
            payload,
            status_code=upstream.status_code,
            media_type=upstream.headers.get("content-type", "application/octet-stream"),
        )

    app.add_api_route(
        f"/v1/upstream/{name}/{{path:path}}",
        proxy,
        responses=ERRORS,
        methods=["GET", "POST"],
        tags=["upstream"],
        name=f"upstream_{name}",
    )


def _consent_out(
    customer_id: str, jurisdiction: str | None, state: dict[Purpose, ConsentState]
) -> ConsentOut:
    return ConsentOut(
        customer_id=customer_id,
        jurisdiction=jurisdiction,
        purposes={
            p.value: ConsentPurposeOut(
                granted=st.granted,
                default=st.is_default,
                since=st.event.at if st.event else None,
                source=st.event.source if st.event else None,
                policy_version=st.event.policy_version if st.event else None,
            )
            for p, st in state.items()
        },
    )


def route_policy(route: APIRoute) -> RoutePolicy | None:
    """The policy a route declared, if any."""
    guard = _declared_guard(route)
    return guard.policy if guard is not None else None


def _declared_guard(route: APIRoute) -> RouteGuard | None:
    guard = getattr(route.endpoint, GUARD_ATTR, None)
    if isinstance(guard, RouteGuard):
        return guard
    for dep in route.dependant.dependencies:
        guard = getattr(dep.call, GUARD_ATTR, None)
        if isinstance(guard, RouteGuard):
            return guard
    return None


class RouteGuard:
    """A route's policy and the app's pipeline: runs authN, authZ and rate limits.

    Runs as pure ASGI in front of the route (:class:`GuardedRoute`), after
    routing and before FastAPI parses the body or solves dependencies: a
    refused request costs no more than the guards. The context it builds is
    left in the scope for the route's ``guarded(...)`` dependency or
    :func:`add_guarded_route` wrapper. A route that was not wrapped (say, one
    included from another router) runs the same guards from there instead.
    """

    __slots__ = ("pipeline", "policy", "pseudonym")

    def __init__(
        self, policy: RoutePolicy, pipeline: Pipeline, pseudonym: Callable[[str], str]
    ) -> None:
        self.policy = policy
        self.pipeline = pipeline
        self.pseudonym = pseudonym

    async def run(self, scope: Scope, receive: Receive) -> GuardContext:
        state = scope.get("state")
        if state is None:
            state = scope["state"] = {}
        state["route_id"] = self.policy.id
        client = scope.get("client")
        if client is not None:
            state["client_pseudonym"] = self.pseudonym(client[0])
        ctx = GuardContext(Request(scope, receive), self.policy, self.pipeline)
        await self.pipeline.run_pre(ctx)
        scope[_CTX] = ctx
        return ctx

    async def context(self, request: Request) -> GuardContext:
        """The request's guarded context (running the guards here if the route was not wrapped)."""
        ctx = request.scope.get(_CTX)
        if ctx is None or ctx.policy is not self.policy:
            ctx = await self.run(request.scope, request.receive)
        ctx.request = request  # FastAPI's own: it holds the body it already read
        return ctx


class _Guarded:
    """Pure-ASGI wrapper of a route's app: the route's guards first."""

    __slots__ = ("app", "guard")

    def __init__(self, app: ASGIApp, guard: RouteGuard) -> None:
        self.app = app
        self.guard = guard

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self.guard.run(scope, receive)
        await self.app(scope, receive, send)


class GuardedRoute(APIRoute):
    """An ``APIRoute`` whose declared guards run before FastAPI's request handling."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        guard = _declared_guard(self)
        if guard is not None:
            self.app = _Guarded(self.app, guard)


def _refuse_undeclared(app: FastAPI) -> None:
    for route in app.routes:
        if isinstance(route, APIRoute):
            policy = route_policy(route)
            if policy is None:
                raise ConfigError(f"route {route.path} declares no policy; every route must")
            if not policy.public and not policy.scopes:
                raise ConfigError(f"route {route.path} declares no scopes")
            if policy.public and route.path not in PUBLIC_PATHS:
                raise ConfigError(f"route {route.path} is public but not in PUBLIC_PATHS")


def _bucket(product_id: object) -> float:
    """A stable number in [0, 1) per product: the recommender's top pick as a value whose
    distribution shifts when one product is pushed (or dropped) everywhere."""
    return (zlib.crc32(str(product_id).encode()) % 10_000) / 10_000


def _review_score(review: dict[str, Any]) -> float:
    """The fake-review score the intake gave (1.0 / 0.0 by quarantine when it gave none)."""
    score = review.get("score")
    return float(score) if score is not None else float(review["status"] == "quarantined")

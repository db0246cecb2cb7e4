"""JWTs through the app, reverse-proxy mode, metrics, and a schemathesis run over the OpenAPI spec."""

from __future__ import annotations

import json

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from shopguard.demo.idp import DemoIdentityProvider
from shopguard.gateway.app import create_app
from tests.integration.conftest import (
    ALL_SCOPES,
    Gateway,
    SyncASGIClient,
    idp_settings,
    make_settings,
)


def test_jwt_when_valid_then_served_and_when_expired_or_foreign_then_401(gateway_home) -> None:
    idp = DemoIdentityProvider.create(gateway_home / "idp")
    stranger = DemoIdentityProvider.create(gateway_home / "stranger")
    gw = Gateway(idp_settings(gateway_home, idp))
    good = idp.token(subject="svc", tenant="default", scopes=["recommendations:read"])
    expired = idp.token(
        subject="svc", tenant="default", scopes=["recommendations:read"], expires_in=-5
    )
    foreign = stranger.token(subject="svc", tenant="default", scopes=["recommendations:read"])
    under = idp.token(subject="svc", tenant="default", scopes=["reviews:read"])
    try:
        with gw.client() as c:
            codes = [
                c.get(
                    "/v1/recommendations/C000001", headers={"Authorization": f"Bearer {t}"}
                ).status_code
                for t in (good, expired, foreign, under)
            ]
        principals = {r.principal for r in gw.runtime.audit.records()}
    finally:
        gw.close()
    assert codes == [200, 401, 401, 403]
    assert "jwt:svc" in principals


def _upstream_app() -> Starlette:
    async def price(request: Request) -> JSONResponse:
        body = await request.json() if request.method == "POST" else {}
        return JSONResponse(
            {
                "tenant": request.headers.get("x-shopguard-tenant"),
                "saw_api_key": "x-api-key" in request.headers,
                "echo": body,
            }
        )

    return Starlette(routes=[Route("/price", price, methods=["GET", "POST"])])


def test_upstream_when_proxied_then_guarded_and_credentials_not_forwarded(gateway_home) -> None:
    settings = make_settings(gateway_home, upstreams={"pricing": "http://pricing.internal"})
    gw = Gateway.__new__(Gateway)
    from shopguard.core.runtime import Runtime
    from shopguard.gateway.keys import ApiKeyStore

    gw.settings = settings
    gw.runtime = Runtime.open(settings)
    gw.app = create_app(
        settings, runtime=gw.runtime, transport=httpx.ASGITransport(app=_upstream_app())
    )
    gw.keys = ApiKeyStore(gw.runtime.engine, gw.runtime.keyring)
    try:
        with gw.client() as c:
            anon = c.post("/v1/upstream/pricing/price", json={"sku": "P1"})
            wrong = c.post(
                "/v1/upstream/pricing/price",
                json={"sku": "P1"},
                headers={"X-API-Key": gw.key("fraud:score")},
            )
            ok = c.post(
                "/v1/upstream/pricing/price",
                json={"sku": "P1"},
                headers={"X-API-Key": gw.key("upstream:pricing")},
            )
    finally:
        gw.close()
    assert (anon.status_code, wrong.status_code, ok.status_code) == (401, 403, 200)
    assert ok.json() == {"tenant": "default", "saw_api_key": False, "echo": {"sku": "P1"}}


def test_metrics_when_requests_made_then_counted_by_route_and_decision(gateway: Gateway) -> None:
    key = {"X-API-Key": gateway.key()}
    with gateway.client() as c:
        c.get("/v1/recommendations/C000001", headers=key)
        c.get("/v1/recommendations/C000001")
        text = c.get("/metrics", headers=key).text
    assert (
        'shopguard_gateway_requests_total{decision="allow",route="recommendations.read"} 1.0'
        in text
    )
    assert (
        'shopguard_gateway_requests_total{decision="deny",route="recommendations.read"} 1.0' in text
    )


@pytest.fixture
def api_schema(gateway: Gateway):
    return schemathesis.openapi.from_asgi("/openapi.json", gateway.app)


@pytest.fixture
def full_key(gateway: Gateway) -> str:
    return gateway.key(*ALL_SCOPES)


schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@schema.parametrize()
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
def test_openapi_when_fuzzed_then_no_5xx_and_responses_match_schema(case, full_key) -> None:
    # Any byte string fits the image route's schema, but only real PNG/JPEG images are accepted:
    # there the generated bodies are negative data by construction.
    excluded = [positive_data_acceptance] if case.path == "/v1/images/classify" else []
    case.call_and_validate(headers={"X-API-Key": full_key}, excluded_checks=excluded)


@pytest.fixture
def negative_schema(gateway: Gateway):
    """The same spec, generating requests that violate it (wrong types, missing fields, junk)."""
    api = schemathesis.openapi.from_asgi("/openapi.json", gateway.app)
    api.config.generation.update(modes=[schemathesis.GenerationMode.NEGATIVE])
    return api


# These take no input (no parameters, no body): there is nothing to violate.
negative = (
    schemathesis.pytest.from_fixture("negative_schema")
    .exclude(path=["/healthz", "/metrics", "/v1/vendors"], method="GET")
    .exclude(path="/v1/staff/sessions", method="DELETE")  # logout: only its bearer token
)


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@negative.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_openapi_when_fed_schema_violating_input_then_4xx_problem_never_5xx(case, full_key) -> None:
    response = case.call(headers={"X-API-Key": full_key})
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        ctype = response.headers["content-type"]  # schemathesis: a list per header
        assert (ctype[0] if isinstance(ctype, list) else ctype).startswith(
            "application/problem+json"
        )


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_openapi_when_driven_statefully_then_no_5xx_across_call_sequences(
    api_schema, gateway: Gateway
) -> None:
    # Links between operations are inferred from path parameters and response schemas
    # (ids a response returns feed the next call), so sequences reach deeper than one call.
    spec = api_schema.raw_schema
    paths = spec["paths"]

    def link(src: str, method: str, status: str, name: str, dst: str, params: dict) -> None:
        target = paths[dst]["get"]["operationId"]
        response = paths[src][method]["responses"][status]
        response.setdefault("links", {})[name] = {"operationId": target, "parameters": params}

    # Write consent, then read it back; recommend, then read reviews of a recommended product.
    link(
        "/v1/customers/{customer_id}/consent",
        "put",
        "200",
        "ReadConsent",
        "/v1/customers/{customer_id}/consent",
        {"customer_id": "$request.path.customer_id"},
    )
    link(
        "/v1/recommendations/{customer_id}",
        "get",
        "200",
        "ReviewsOfRecommended",
        "/v1/products/{product_id}/reviews",
        {"product_id": "$response.body#/products/0"},
    )
    linked = schemathesis.openapi.from_dict(spec)
    linked.app = api_schema.app
    machine = linked.as_state_machine()

    class Machine(machine):  # type: ignore[misc, valid-type]
        # A new key per sequence: the per-key rate limits and extraction watch would otherwise
        # carry over from one sequence to the next, so whether a call answers 200 (and its
        # link's rule can fire) would depend on the sequences before it, and hypothesis,
        # replaying a prefix, would call its own strategy flaky.
        def __init__(self) -> None:
            super().__init__()
            self.key = gateway.key(*ALL_SCOPES)

        def get_call_kwargs(self, case):
            return {"headers": {"X-API-Key": self.key}}

    Machine.run(
        settings=settings(
            max_examples=15,
            stateful_step_count=4,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )
    )


def test_openapi_when_served_then_problem_schema_documented(gateway: Gateway) -> None:
    with gateway.client() as c:
        spec = c.get("/openapi.json").json()
    assert "Problem" in spec["components"]["schemas"]
    for path, ops in spec["paths"].items():
        for op in ops.values():
            if path != "/healthz":
                assert {"401", "403", "429"} <= set(op["responses"]), path
    json.dumps(spec)


def test_sync_client_is_a_real_asgi_client(gateway: Gateway) -> None:
    with SyncASGIClient(gateway.app) as c:
        assert c.get("/healthz").json() == {"status": "ok"}


def test_guards_when_unauthenticated_then_refused_before_the_body_is_parsed(
    gateway: Gateway,
) -> None:
    # The guards run as pure ASGI in front of the route: a caller without credentials
    # learns nothing about the schema (no 422 with field names) and costs no parsing.
    with gateway.client() as c:
        r = c.post(
            "/v1/fraud/score",
            content=b'{"transaction_id": "T", "is_admin": true',
            headers={"content-type": "application/json"},
        )
    assert r.status_code == 401
    assert "transaction_id" not in r.text and "is_admin" not in r.text


def test_route_when_included_from_a_plain_router_then_still_guarded(gateway: Gateway) -> None:
    from fastapi import APIRouter

    router = APIRouter()  # plain APIRoute: the guards run from the route's dependency instead

    @router.get("/v1/extra/ping")
    async def ping(ctx=gateway.app.state.guarded("extra.ping", "reviews:read")) -> dict:
        return {"tenant": ctx.tenant}

    gateway.app.include_router(router)
    with gateway.client() as c:
        none = c.get("/v1/extra/ping")
        under = c.get("/v1/extra/ping", headers={"X-API-Key": gateway.key("fraud:score")})
        ok = c.get("/v1/extra/ping", headers={"X-API-Key": gateway.key("reviews:read")})
    assert (none.status_code, under.status_code, ok.status_code) == (401, 403, 200)
    assert ok.json() == {"tenant": "default"}
    ids = {r.request_id for r in gateway.runtime.audit.records()}
    assert ok.headers["x-request-id"] in ids


def test_add_guarded_route_when_endpoint_takes_the_request_then_it_gets_it(
    gateway: Gateway,
) -> None:
    from shopguard.gateway.app import add_guarded_route, route_policy

    async def whoami(item: str, request: Request) -> dict:  # starlette's, as FastAPI's
        return {"item": item, "path": request.url.path}

    add_guarded_route(
        gateway.app, "/v1/extra/{item}", whoami, policy_id="extra.who", scopes=["reviews:read"]
    )
    route = gateway.app.routes[-1]
    assert route_policy(route).scopes == frozenset({"reviews:read"})
    with gateway.client() as c:
        denied = c.get("/v1/extra/x1")
        ok = c.get("/v1/extra/x1", headers={"X-API-Key": gateway.key("reviews:read")})
    assert denied.status_code == 401
    assert ok.json() == {"item": "x1", "path": "/v1/extra/x1"}

"""Scorecard checks of the API area, run against a live gateway over HTTP.

Resources they need (the demo or the red team provides them):
``base_url``; ``api_keys``, a mapping with ``full`` (every scope, tenant A),
``underscoped`` (a scope no route uses), ``other_tenant`` (every scope, tenant B)
and ``expired_jwt`` (a correctly signed but expired bearer token); and
``foreign_customer``, a customer id of tenant A that tenant B does not have.
"""

from __future__ import annotations

import asyncio
import time
from abc import abstractmethod
from typing import Any

import httpx

from shopguard.core.patient_http import patient_client
from shopguard.core.scorecard import Area, Check, CheckContext, Figure, Status, checks

__all__: list[str] = []

_PROTECTED = [
    ("POST", "/v1/fraud/score"),
    ("GET", "/v1/recommendations/{customer}"),
    ("GET", "/v1/products/{product}/reviews"),
    ("POST", "/v1/reviews"),
]


def _requests(ctx: CheckContext) -> list[tuple[str, str]]:
    customer = ctx.resources.get("sample_customer", "C000001")
    product = ctx.resources.get("sample_product", "P00001")
    return [(m, p.format(customer=customer, product=product)) for m, p in _PROTECTED]


def _body(path: str, ctx: CheckContext) -> dict[str, Any] | None:
    customer = ctx.resources.get("sample_customer", "C000001")
    if path == "/v1/fraud/score":
        return {
            "transaction_id": "SCORECARD-1",
            "customer_id": customer,
            "terminal_id": "PSP1-EP01",
            "amount": 10.0,
            "timestamp": "2025-03-01T12:00:00",
        }
    if path == "/v1/reviews":
        return {
            "product_id": ctx.resources.get("sample_product", "P00001"),
            "customer_id": customer,
            "rating": 5,
            "title": "scorecard probe",
            "text": "scorecard probe",
        }
    return None


def _client(ctx: CheckContext) -> httpx.Client:
    return patient_client(ctx["base_url"])


class _RefusedEverywhere(Check):
    """Base: every protected route must answer ``expected`` to the given headers."""

    expected: int = 401
    requires = ("base_url", "api_keys")

    @abstractmethod
    def headers(self, ctx: CheckContext) -> dict[str, str]:
        """The credentials (or lack of them) to present."""

    def run(self, ctx: CheckContext) -> tuple[Status, Figure | None, str]:
        got = []
        with _client(ctx) as client:
            for method, path in _requests(ctx):
                r = client.request(method, path, json=_body(path, ctx), headers=self.headers(ctx))
                got.append((path, r.status_code))
        refused = sum(1 for _, code in got if code == self.expected)
        status = Status.PASS if refused == len(got) else Status.FAIL
        evidence = "; ".join(f"{p} -> {c}" for p, c in got)
        return status, Figure("routes_refused", refused, len(got)), evidence


@checks.register
class NoCredentials(_RefusedEverywhere):
    """Requests without credentials are refused with 401 on every protected route, and the
    genuine key is admitted there (a gateway that refuses everyone is not authenticating)."""

    name = "api.no_credentials_refused"
    area = Area.API
    title = "No credentials: 401 on every protected route; the genuine key admitted"

    def headers(self, ctx: CheckContext) -> dict[str, str]:
        return {}

    def run(self, ctx: CheckContext) -> tuple[Status, Figure | None, str]:
        status, figure, evidence = super().run(ctx)
        # The positive probe reads and scores only: nothing is written with the genuine key.
        admitted = []
        with _client(ctx) as client:
            for method, path in _requests(ctx):
                if method != "GET" and path != "/v1/fraud/score":
                    continue
                r = client.request(
                    method,
                    path,
                    json=_body(path, ctx),
                    headers={"X-API-Key": ctx["api_keys"]["full"]},
                )
                admitted.append((path, r.status_code))
        # 401 to the genuine key: it was not authenticated (403 would be a scope question).
        refused_genuine = [(p, c) for p, c in admitted if c == 401]
        evidence += "; genuine key: " + "; ".join(f"{p} -> {c}" for p, c in admitted)
        if refused_genuine:
            evidence += " (refused: credentials are not being authenticated)"
            status = Status.FAIL
        return status, figure, evidence


@checks.register
class WrongKey(_RefusedEverywhere):
    """A well-formed but unknown API key is refused with 401."""

    name = "api.wrong_key_refused"
    area = Area.API
    title = "Wrong API key: 401"

    def headers(self, ctx: CheckContext) -> dict[str, str]:
        full: str = ctx["api_keys"]["full"]
        forged = full[:-4] + ("AAAA" if not full.endswith("AAAA") else "BBBB")
        return {"X-API-Key": forged}


@checks.register
class ExpiredJwt(_RefusedEverywhere):
    """A correctly signed bearer token past its expiry is refused with 401."""

    name = "api.expired_jwt_refused"
    area = Area.API
    title = "Expired JWT: 401"

    def headers(self, ctx: CheckContext) -> dict[str, str]:
        return {"Authorization": f"Bearer {ctx['api_keys']['expired_jwt']}"}


@checks.register
class Underscoped(_RefusedEverywhere):
    """A valid key without the route's scope is refused with 403."""

    name = "api.underscoped_key_refused"
    area = Area.API
    title = "Under-scoped key: 403"
    expected = 403

    def headers(self, ctx: CheckContext) -> dict[str, str]:
        return {"X-API-Key": ctx["api_keys"]["underscoped"]}


@checks.register
class CrossTenant(Check):
    """A key of tenant B cannot read tenant A's customer (the customer is not visible: 404)."""

    name = "api.cross_tenant_read_refused"
    area = Area.API
    title = "Cross-tenant read: refused"
    requires = ("base_url", "api_keys", "foreign_customer")

    def run(self, ctx: CheckContext) -> tuple[Status, Figure | None, str]:
        cid = ctx["foreign_customer"]
        with _client(ctx) as client:
            own = client.get(
                f"/v1/recommendations/{cid}", headers={"X-API-Key": ctx["api_keys"]["full"]}
            )
            other = client.get(
                f"/v1/recommendations/{cid}", headers={"X-API-Key": ctx["api_keys"]["other_tenant"]}
            )
        ok = own.status_code == 200 and other.status_code in (403, 404)
        evidence = f"owner tenant -> {own.status_code}; other tenant -> {other.status_code}"
        return (Status.PASS if ok else Status.FAIL), None, evidence


@checks.register
class Flood(Check):
    """A burst past the per-key limit gets 429 with Retry-After before the limit is exceeded.

    Needs ``api_keys["flood"]`` with the ``metrics:read`` scope (``full`` is used otherwise).
    """

    name = "api.flood_rate_limited"
    area = Area.API
    title = "Flood past the rate limit: 429 with Retry-After"
    requires = ("base_url", "api_keys")

    def run(self, ctx: CheckContext) -> tuple[Status, Figure | None, str]:
        key = ctx["api_keys"].get("flood", ctx["api_keys"]["full"])
        limit = int(ctx.resources.get("flood_limit", 50))
        n = limit * 4

        async def burst() -> list[httpx.Response]:
            async with httpx.AsyncClient(base_url=ctx["base_url"], timeout=60) as client:
                sem = asyncio.Semaphore(32)

                async def one() -> httpx.Response:
                    async with sem:
                        # A cheap route, so the burst outruns the per-second limit on any machine.
                        r = await client.get("/metrics", headers={"X-API-Key": key})
                        r.extensions["shopguard_done"] = time.perf_counter()
                        return r

                return list(await asyncio.gather(*(one() for _ in range(n))))

        window = float(ctx.resources.get("flood_window_s", 1.0))
        start = time.perf_counter()
        responses = asyncio.run(burst())
        ok = sum(1 for r in responses if r.status_code == 200)
        limited = [r for r in responses if r.status_code == 429]
        retry = all("retry-after" in r.headers for r in limited)
        # The limiter is a sliding-window counter (as in the Redis script): in any one
        # window at most twice the per-window limit gets through (a burst straddling a
        # boundary). So count what was served within the burst's first window: on a slow
        # machine the burst outlasts the window, and later windows rightly admit more.
        served_in_window = sum(
            1
            for r in responses
            if r.status_code == 200 and r.extensions["shopguard_done"] - start <= window
        )
        ceiling = 2 * limit
        status = Status.PASS if limited and retry and served_in_window <= ceiling else Status.FAIL
        evidence = (
            f"{n} concurrent requests: {served_in_window} served in the first "
            f"{window:g} s window (limit {limit}/window, at most {ceiling} across a window "
            f"boundary); {ok} served and {len(limited)} refused in all over "
            f"{time.perf_counter() - start:.1f} s" + ("" if retry else "; Retry-After missing")
        )
        others = sorted({r.status_code for r in responses} - {200, 429})
        if others:
            evidence += f"; unexpected statuses {others}"
        return status, Figure("served_in_first_window", served_in_window, ceiling), evidence


@checks.register
class OversizedBody(Check):
    """A request body over the limit is refused with 413 before it is parsed."""

    name = "api.oversized_body_refused"
    area = Area.API
    title = "Oversized body: 413"
    requires = ("base_url", "api_keys")

    def run(self, ctx: CheckContext) -> tuple[Status, Figure | None, str]:
        with _client(ctx) as client:
            r = client.post(
                "/v1/reviews",
                content=b"{" + b" " * 5_000_000 + b"}",
                headers={"X-API-Key": ctx["api_keys"]["full"], "content-type": "application/json"},
            )
        return (
            (Status.PASS if r.status_code == 413 else Status.FAIL),
            None,
            f"5 MB body -> {r.status_code}",
        )


@checks.register
class MalformedJson(Check):
    """Malformed JSON gets a 4xx problem body that echoes nothing back."""

    name = "api.malformed_json_refused"
    area = Area.API
    title = "Malformed JSON: 422 problem+json, nothing echoed"
    requires = ("base_url", "api_keys")

    def run(self, ctx: CheckContext) -> tuple[Status, Figure | None, str]:
        marker = "SCORECARD-MARKER-7741"
        with _client(ctx) as client:
            r = client.post(
                "/v1/fraud/score",
                content=('{"transaction_id": "' + marker + '", ').encode(),
                headers={"X-API-Key": ctx["api_keys"]["full"], "content-type": "application/json"},
            )
        ctype = r.headers.get("content-type", "")
        ok = (
            r.status_code == 422
            and ctype.startswith("application/problem+json")
            and marker not in r.text
        )
        return (Status.PASS if ok else Status.FAIL), None, f"-> {r.status_code} {ctype}"


def _b64url(data: bytes) -> str:
    import base64

    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _forged_credentials() -> dict[str, dict[str, str]]:
    """Credentials an attacker can make without any secret: unsigned and self-signed JWTs
    claiming every scope, an HS256 token keyed with a guessable secret, random key and
    staff-session tokens in the gateway's own formats."""
    import json
    import secrets

    import jwt

    from shopguard.core.crypto import signing_keypair_pem

    now = int(time.time())
    claims = {"sub": "attacker", "tenant": "default", "scope": "*", "iat": now, "exp": now + 600}
    unsigned = ".".join(
        _b64url(json.dumps(part).encode()) for part in ({"alg": "none", "typ": "JWT"}, claims)
    )
    own_key, _ = signing_keypair_pem()
    return {
        "jwt_alg_none": {"Authorization": f"Bearer {unsigned}."},
        "jwt_hs256_guessed": {
            "Authorization": "Bearer " + jwt.encode(claims, "secret" * 6, algorithm="HS256")
        },
        "jwt_self_signed": {
            "Authorization": "Bearer " + jwt.encode(claims, own_key, algorithm="EdDSA")
        },
        "random_api_key": {"X-API-Key": "sgk_" + secrets.token_urlsafe(32)},
        "random_staff_session": {"Authorization": "Bearer sgs_" + secrets.token_urlsafe(32)},
    }


@checks.register
class ForgedTokensRefused(Check):
    """Credentials forged without any secret (unsigned, self-signed or HS256 JWTs claiming
    every scope; random API-key and staff-session tokens) get 401 on every protected route.

    Needs only the target's URL: any remote run can prove it.
    """

    name = "api.forged_tokens_refused"
    area = Area.API
    title = "Forged tokens (alg none, self-signed, HS256, random key/session): 401"
    requires = ("base_url",)
    fix = "Keep authn in gateway_guards; accept only jwt_algorithms that are asymmetric."

    def run(self, ctx: CheckContext) -> tuple[Status, Figure | None, str]:
        got: list[tuple[str, str, int]] = []
        with _client(ctx) as client:
            for label, headers in _forged_credentials().items():
                for method, path in _requests(ctx):
                    r = client.request(method, path, json=_body(path, ctx), headers=headers)
                    got.append((label, path, r.status_code))
        admitted = [(label, path, code) for label, path, code in got if code != 401]
        evidence = f"{len(got) - len(admitted)}/{len(got)} forged requests refused with 401"
        if admitted:
            evidence += "; not refused: " + ", ".join(f"{lb} {p} -> {c}" for lb, p, c in admitted)
        return (
            Status.PASS if not admitted else Status.FAIL,
            Figure("forged_requests_refused", float(len(got) - len(admitted)), float(len(got))),
            evidence,
        )

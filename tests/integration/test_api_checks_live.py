"""The api scorecard checks against a live gateway: they pass with the guards on and fail with a guard off."""

from __future__ import annotations

import pytest

from shopguard.core.scorecard import CheckContext, Status
from shopguard.demo.run import serve_in_thread
from shopguard.gateway.checks import Flood, NoCredentials, Underscoped
from tests.integration.conftest import Gateway, make_settings

pytestmark = pytest.mark.slow


def _ctx(gw: Gateway, base_url: str) -> CheckContext:
    keys = {
        "full": gw.key(),
        "underscoped": gw.key("catalogue:read"),
        "flood": gw.key("metrics:read"),
    }
    return CheckContext({"base_url": base_url, "api_keys": keys, "flood_limit": 20})


@pytest.mark.parametrize(
    ("check", "guard_off"),
    [(Flood, "rate_limit"), (Underscoped, "authz")],
)
def test_check_when_guard_on_then_pass_and_when_guard_off_then_fail(
    gateway_home, check, guard_off
) -> None:
    results = {}
    for label, guards in (("on", ["authn", "authz", "rate_limit"]), ("off", None)):
        if guards is None:
            guards = [g for g in ["authn", "authz", "rate_limit"] if g != guard_off]
        gw = Gateway(
            make_settings(
                gateway_home, gateway_guards=guards, rate_limit_key="20/second;2000/minute"
            )
        )
        try:
            with serve_in_thread(gw.app) as url:
                results[label] = check().result(_ctx(gw, url))
        finally:
            gw.close()
    assert results["on"].status is Status.PASS, results["on"]
    assert results["off"].status is Status.FAIL, results["off"]


def test_no_credentials_when_authn_guard_removed_then_nobody_served_and_check_fails(
    gateway_home,
) -> None:
    # Defence in depth: without a principal there is no tenant, so no store is reachable,
    # not even with the genuine key: the check fails on that (nothing authenticates).
    gw = Gateway(make_settings(gateway_home, gateway_guards=["rate_limit"]))
    try:
        with serve_in_thread(gw.app) as url:
            res = NoCredentials().result(_ctx(gw, url))
    finally:
        gw.close()
    assert res.status is Status.FAIL, res
    anonymous, genuine = res.evidence.split("; genuine key: ")
    assert anonymous.count("-> 401") == 4
    assert "-> 401" in genuine and "not being authenticated" in genuine


def test_malformed_json_check_when_key_just_spent_its_rate_limit_then_waits_and_judges_parsing(
    gateway_home,
) -> None:
    # In a red-team run the flood check spends the key's limit; the next check on that key
    # must judge what it tests (the 422 problem body), not report the 429 as a failure.
    import httpx

    from shopguard.gateway.checks import MalformedJson

    gw = Gateway(make_settings(gateway_home, rate_limit_key="3/second;2000/minute"))
    try:
        with serve_in_thread(gw.app) as url:
            ctx = _ctx(gw, url)
            with httpx.Client(base_url=url) as c:
                codes = [
                    c.get("/metrics", headers={"X-API-Key": ctx["api_keys"]["full"]}).status_code
                    for _ in range(6)
                ]
            assert 429 in codes  # the limit is spent
            res = MalformedJson().result(ctx)
    finally:
        gw.close()
    assert res.status is Status.PASS, res
    assert "-> 422" in res.evidence

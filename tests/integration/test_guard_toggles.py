"""Turning any single defence off in configuration makes its matching check fail.

Parametrised over :func:`shopguard.redteam.toggles.toggles`, so a defence added to the
registry with a check is proved here without editing this file. For each: the check
passes against a gateway with every defence on, and fails against the same gateway
with only that one off.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from shopguard.assistant.checks import demo_resources
from shopguard.core.scorecard import Status
from shopguard.demo.idp import DemoIdentityProvider
from shopguard.demo.run import serve_in_thread
from shopguard.redteam.runner import remote_context, run_suite
from shopguard.redteam.toggles import Toggle, toggles
from shopguard.store.schema import load_store
from shopguard.store.service import STORE_DIR
from tests.integration.conftest import Gateway, make_settings

pytestmark = pytest.mark.slow

ALL_ON = [
    "authn",
    "authz",
    "ops.containment",
    "rate_limit",
    "extraction_watch",
    "adversarial.unusual_input",
    "extraction_degrade",
]


def _run(gateway_home: Path, toggle: Toggle, *, off: bool) -> Any:
    idp = DemoIdentityProvider.create(gateway_home / "idp")  # reuses the key pair if there
    base: dict[str, Any] = {
        "gateway_guards": ALL_ON,
        "rate_limit_key": "20/second;2000/minute",
        "jwt_public_key_files": [idp.public_key_path],
        "jwt_audience": idp.audience,
        "jwt_issuer": idp.issuer,
        # As the demo runs it: refusing flagged image uploads, not scoring the fraud route
        # (the model-theft checks probe it with out-of-distribution payments on purpose).
        "adversarial_refuse": True,
        "adversarial_routes": ["images.classify"],
    }
    extraction = toggle.check.startswith("attack.extraction")
    if toggle.check.startswith(("attack.extraction", "model_theft.", "assistant.")):
        base["rate_limit_key"] = "2000/second"  # the rate limit is not what is judged
    settings = make_settings(gateway_home, **base)
    if off:
        settings = settings.model_copy(update=toggle.off(settings))
    gw = Gateway(settings)
    try:
        keys = {
            "full": gw.key(),
            "underscoped": gw.key("catalogue:read"),
            "flood": gw.key("metrics:read"),
        }
        extra: dict[str, Any] = {"runtime": gw.runtime}
        if toggle.check.startswith("assistant."):
            extra.update(demo_resources(load_store(gateway_home / STORE_DIR), idp))
        if extraction:
            exempt = gw.keys.authenticate(keys["full"]).key_id
            gw.close()
            gw = Gateway(settings.model_copy(update={"extraction_exempt_keys": [exempt]}))
            keys["attacker"] = gw.key("fraud:score")
            extra = {"runtime": gw.runtime, "extraction_limit": 250}
        with serve_in_thread(gw.app) as url:
            res = run_suite(remote_context(url, keys, extra), names=[toggle.check], remote=False)
    finally:
        gw.close()
    (result,) = res.scorecard.results
    return result


@pytest.mark.parametrize("toggle", toggles(), ids=lambda t: t.name)
def test_defence_toggle_when_off_then_matching_check_fails_and_when_on_passes(
    gateway_home: Path, toggle: Toggle
) -> None:
    on = _run(gateway_home, toggle, off=False)
    assert on.status is Status.PASS, on
    off = _run(gateway_home, toggle, off=True)
    assert off.status is Status.FAIL, off

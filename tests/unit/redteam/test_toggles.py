"""Every defence configuration can turn off has a check that fails without it (or is a listed gap)."""

from __future__ import annotations

from shopguard.core.scorecard import checks
from shopguard.core.settings import Settings
from shopguard.redteam._registry import attacks
from shopguard.redteam.runner import load_plugins
from shopguard.redteam.toggles import CHECK_FOR, NO_CHECK_YET, registered_toggles, toggle, toggles


def test_toggles_when_enumerated_then_every_registered_defence_has_a_check_or_a_stated_gap() -> (
    None
):
    registered = set(registered_toggles())
    assert {"gateway_guards:authn", "gateway_guards:ops.containment"} <= registered
    assert {f"assistant_guards:{n}" for n in ("detect_input", "filter_output")} <= registered
    assert registered == set(CHECK_FOR) | set(NO_CHECK_YET)
    assert CHECK_FOR["gateway_guards:adversarial.unusual_input"] == (
        "adversarial.attacked_uploads_refused"
    )
    assert not set(CHECK_FOR) & set(NO_CHECK_YET)
    assert {t.name for t in toggles()} == set(CHECK_FOR)


def test_toggles_when_checks_named_then_each_is_registered() -> None:
    load_plugins()
    known = {c.name for c in checks} | {f"attack.{a.name}" for a in attacks}
    assert set(CHECK_FOR.values()) <= known


def test_toggle_off_when_applied_then_only_that_defence_goes() -> None:
    s = Settings(
        gateway_guards=["authn", "authz", "ops.containment", "rate_limit"],
        assistant_guards=["detect_input", "scan_documents", "bind_tools", "filter_output"],
    )
    assert toggle("gateway_guards:ops.containment").off(s) == {
        "gateway_guards": ["authn", "authz", "rate_limit"]
    }
    assert toggle("assistant_guards:bind_tools").off(s) == {
        "assistant_guards": ["detect_input", "scan_documents", "filter_output"]
    }
    assert toggle("gateway_max_body_bytes").off(s)["gateway_max_body_bytes"] > 5_000_000
    guarded = Settings(gateway_guards=["authn", "authz", "rate_limit", "adversarial.unusual_input"])
    assert toggle("gateway_guards:adversarial.unusual_input").off(guarded) == {
        "gateway_guards": ["authn", "authz", "rate_limit"]
    }
    # Authorisation-stage guards cannot run without authn (the pipeline refuses the
    # configuration): turning authn off drops them too.
    assert toggle("gateway_guards:authn").off(s) == {"gateway_guards": ["rate_limit"]}

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shopguard.core.errors import DataValidationError
from shopguard.core.runtime import Runtime
from shopguard.privacy.consent import ConsentLedger, Purpose, training_subjects


@pytest.mark.parametrize(
    ("jurisdiction", "personalisation", "model_training"),
    [
        ("EU", False, False),
        ("UK", False, False),
        ("US", True, True),
        ("US-CA", True, False),
        (None, False, False),
        ("XX", False, False),
    ],
)
def test_state_when_no_events_then_jurisdiction_defaults(
    runtime: Runtime, jurisdiction, personalisation, model_training
) -> None:
    state = ConsentLedger(runtime.engine).state(
        tenant="t", customer_id="C1", jurisdiction=jurisdiction
    )
    assert state[Purpose.PERSONALISATION].granted is personalisation
    assert state[Purpose.MODEL_TRAINING].granted is model_training
    assert all(s.is_default for s in state.values())


def test_record_when_opt_in_then_opt_out_then_latest_wins_and_history_kept(
    runtime: Runtime,
) -> None:
    now = [datetime(2026, 1, 1, tzinfo=UTC)]
    ledger = ConsentLedger(runtime.engine, clock=lambda: now[0])
    ledger.record(
        tenant="t",
        customer_id="C1",
        purpose="marketing",
        granted=True,
        source="storefront",
        policy_version="v1",
    )
    now[0] += timedelta(days=3)
    ledger.record(
        tenant="t",
        customer_id="C1",
        purpose="marketing",
        granted=False,
        source="support",
        policy_version="v2",
    )
    state = ledger.state(tenant="t", customer_id="C1", jurisdiction="US")
    assert state[Purpose.MARKETING].granted is False
    assert state[Purpose.MARKETING].event.policy_version == "v2"
    assert state[Purpose.MARKETING].event.at.startswith("2026-01-04")
    hist = ledger.history(tenant="t", customer_id="C1")
    assert [(e.granted, e.source) for e in hist] == [(True, "storefront"), (False, "support")]
    assert not ledger.allowed(
        tenant="t", customer_id="C1", purpose=Purpose.MARKETING, jurisdiction="US"
    )
    # Other tenants and customers are untouched.
    assert ledger.allowed(
        tenant="other", customer_id="C1", purpose=Purpose.MARKETING, jurisdiction="US"
    )


@pytest.mark.parametrize(
    ("field", "kw"),
    [
        ("purpose", {"purpose": "selling"}),
        ("source", {"source": "rumour"}),
        ("policy_version", {"policy_version": ""}),
    ],
)
def test_record_when_bad_field_then_validation_error_and_nothing_stored(
    runtime: Runtime, field, kw
) -> None:
    ledger = ConsentLedger(runtime.engine)
    args = {
        "tenant": "t",
        "customer_id": "C1",
        "purpose": "marketing",
        "granted": True,
        "source": "api",
        "policy_version": "v1",
        **kw,
    }
    with pytest.raises(DataValidationError) as info:
        ledger.record(**args)
    assert info.value.column == field
    assert ledger.history(tenant="t", customer_id="C1") == []


def test_training_subjects_when_mixed_consent_then_only_permitted_customers(
    runtime: Runtime,
) -> None:
    ledger = ConsentLedger(runtime.engine)
    ledger.record_many(
        tenant="t",
        decisions=[("eu_yes", "model_training", True), ("us_no", "model_training", False)],
        source="import",
        policy_version="v1",
    )
    jurisdictions = {
        "eu_yes": "EU",
        "eu_silent": "EU",
        "us_no": "US",
        "us_silent": "US",
        "ca_silent": "US-CA",
        "unknown": None,
    }
    assert training_subjects(ledger, tenant="t", jurisdictions=jurisdictions) == {
        "eu_yes",
        "us_silent",
    }

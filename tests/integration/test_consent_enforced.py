"""Consent is enforced: the recommender stops personalising, and training leaves opted-out customers out."""

from __future__ import annotations

from shopguard.privacy.consent import ConsentLedger, training_subjects
from shopguard.store.recommender import order_sequences, train_recommender
from tests.integration.conftest import Gateway


def test_recommendations_when_customer_opts_out_then_not_personalised(gateway: Gateway) -> None:
    key = {"X-API-Key": gateway.key()}
    svc = gateway.app.state.stores.get("default")
    cid = str(svc.store.orders["customer_id"].value_counts().index[0])  # the richest history
    assert svc.jurisdiction(cid) is not None
    with gateway.client() as c:
        c.put(
            f"/v1/customers/{cid}/consent",
            json={"purpose": "personalisation", "granted": True, "policy_version": "v1"},
            headers=key,
        )
        before = c.get(f"/v1/recommendations/{cid}", headers=key).json()
        r = c.put(
            f"/v1/customers/{cid}/consent",
            json={"purpose": "personalisation", "granted": False, "policy_version": "v1"},
            headers=key,
        )
        assert r.status_code == 200 and r.json()["purposes"]["personalisation"]["granted"] is False
        after = c.get(f"/v1/recommendations/{cid}", headers=key).json()
        shown = c.get(f"/v1/customers/{cid}/consent", headers=key).json()
    assert before["personalised"] is True and after["personalised"] is False
    assert after["products"] == [str(p) for p in svc.recommender.popular(10)]
    assert before["products"] != after["products"]
    assert shown["purposes"]["personalisation"]["source"] == "storefront"


def test_consent_when_other_tenant_or_unknown_customer_then_404(gateway: Gateway) -> None:
    theirs = {"X-API-Key": gateway.key(tenant="other")}
    with gateway.client() as c:
        r = c.put(
            "/v1/customers/C000900/consent",
            json={"purpose": "marketing", "granted": True, "policy_version": "v1"},
            headers=theirs,
        )
        bad = c.put(
            "/v1/customers/C000001/consent",
            json={"purpose": "selling", "granted": True, "policy_version": "v1"},
            headers=theirs,
        )
    assert r.status_code == 404 and bad.status_code == 422


def test_training_when_customer_withholds_model_training_consent_then_excluded(
    gateway: Gateway,
) -> None:
    svc = gateway.app.state.stores.get("default")
    sequences = order_sequences(svc.store.orders)
    jurisdictions = {cid: "US" for cid in sequences}  # US default: training allowed
    victim = max(sequences, key=lambda c: len(sequences[c]))
    ledger = ConsentLedger(gateway.runtime.engine)
    with_victim = train_recommender(sequences, random_state=0)
    ledger.record(
        tenant="default",
        customer_id=victim,
        purpose="model_training",
        granted=False,
        source="storefront",
        policy_version="v1",
    )
    allowed = training_subjects(ledger, tenant="default", jurisdictions=jurisdictions)
    assert victim not in allowed and len(allowed) == len(sequences) - 1
    without = train_recommender(
        {c: s for c, s in sequences.items() if c in allowed}, random_state=0
    )
    # The model trained without consent knows nothing of the customer: cold-start answer.
    assert without.recommend(victim, k=10) == without.popular(10)
    assert with_victim.recommend(victim, k=10) != with_victim.popular(10)

"""POST /v1/reviews goes through the integrity pipeline: held reviews are never shown."""

from __future__ import annotations

from shopguard.integrity.quarantine import Quarantine
from shopguard.integrity.service import publish_released

from .conftest import Gateway

CAMPAIGN = (
    "Absolutely the best product I have ever bought, five stars, it changed my life and "
    "everyone in my family loves it, buy it now before it sells out"
)


def test_post_review_when_copy_campaign_then_quarantined_hidden_until_released(
    gateway: Gateway,
) -> None:
    key = {"X-API-Key": gateway.key()}
    with gateway.client() as client:
        statuses = []
        for i in range(6):
            body = {
                "product_id": "P00002",
                "customer_id": f"C{100 + i:06d}",
                "rating": 5,
                "title": f"wow {i}",
                "text": CAMPAIGN.replace("five", ["five", "5", "FIVE", "five!", "five", "5!"][i]),
            }
            r = client.post("/v1/reviews", json=body, headers=key)
            assert r.status_code == 201
            statuses.append(r.json()["status"])
        assert statuses[0] == "accepted" and statuses[1:] == ["quarantined"] * 5
        shown = client.get("/v1/products/P00002/reviews?limit=100", headers=key).json()["reviews"]
        titles = {x["title"] for x in shown}
        assert "wow 0" in titles and not titles & {f"wow {i}" for i in range(1, 6)}

        rt = gateway.runtime
        q = Quarantine(rt.engine, rt.audit, on_release=publish_released(rt.engine))
        held = q.list(kind="review")
        assert len(held) == 5 and all(any("duplicate" in r for r in h.reasons) for h in held)
        q.release(held[0].id, reviewer="mod-1", reason="verified buyer")
        shown = client.get("/v1/products/P00002/reviews?limit=100", headers=key).json()["reviews"]
        assert "wow 1" in {x["title"] for x in shown}
    actions = [r.action for r in gateway.runtime.audit.records()]
    assert actions.count("integrity.review.quarantine") == 5
    assert "integrity.quarantine.release" in actions


def test_canary_when_review_text_holds_personal_data_then_absent_from_audit_and_reasons(
    gateway: Gateway,
) -> None:
    email, card = "canary.int5.93b1@example.org", "4000 0566 5566 5556"
    key = {"X-API-Key": gateway.key()}
    text = f"{CAMPAIGN} write to {email} pay with {card}"
    with gateway.client() as client:
        for i in range(2):
            body = {
                "product_id": "P00003",
                "customer_id": f"C{200 + i:06d}",
                "rating": 5,
                "title": "canary",
                "text": text,
            }
            r = client.post("/v1/reviews", json=body, headers=key)
            assert r.status_code == 201
    rt = gateway.runtime
    dumped = " ".join(str(r.to_json()) for r in rt.audit.records())
    held = Quarantine(rt.engine, rt.audit).list(kind="review")
    reasons = " ".join(" ".join(h.reasons) for h in held)
    for secret in (email, card, card.replace(" ", "")):
        assert secret not in dumped and secret not in reasons


def test_release_when_review_has_no_time_then_published_as_of_release(gateway: Gateway) -> None:
    from datetime import UTC, datetime

    from shopguard.store.service import submitted_reviews_of

    publish = publish_released(gateway.runtime.engine)
    review = {
        "kind": "review",
        "id": "R-imported-1",
        "product_id": "P00002",
        "reviewer_id": "C000321",
        "rating": 4,
        "title": "imported",
        "text": "an imported review without a timestamp",
    }
    before = datetime.now(UTC)
    publish("default", review)  # a file import carries no created_at: no KeyError
    rows = submitted_reviews_of(gateway.runtime.engine, tenant="default", customer_id="C000321")
    assert [r["review_id"] for r in rows] == ["R-imported-1"]
    assert datetime.fromisoformat(str(rows[0]["created_at"])) >= before.replace(microsecond=0)
    # A record without product or reviewer is not a store review: nothing is published.
    publish("default", {**review, "id": "R-imported-2", "product_id": None})
    rows = submitted_reviews_of(gateway.runtime.engine, tenant="default", customer_id="C000321")
    assert [r["review_id"] for r in rows] == ["R-imported-1"]

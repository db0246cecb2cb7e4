from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shopguard.core.audit import AuditEvent
from shopguard.core.errors import AuthenticationError, AuthorizationError
from shopguard.gateway.keys import ApiKeyStore
from shopguard.governance.access_review import AccessReview, Decision
from shopguard.governance.roles import Role

from .conftest import FAST_HASHER

PW = "tulip-harbour-47-quietly"


@pytest.fixture
def review(runtime, clock, staff):
    return AccessReview.from_runtime(runtime, staff=staff, clock=clock)


def _use(runtime, key_id: str, route: str) -> None:
    runtime.audit.append(
        AuditEvent(
            action=f"POST /{route}", decision="allow", principal=key_id, details={"route": route}
        )
    )


def test_entries_when_keys_and_staff_then_flags_unused_over_privileged_orphaned(
    runtime, clock, staff, review
):
    real_now = datetime.now(UTC)
    clock.now = real_now - timedelta(days=100)  # accounts and keys made 100 days ago
    staff.add("sam", display_name="Sam", role=Role.SECURITY_ENGINEER, password=PW)
    staff.add("ann", display_name="Ann", role=Role.ANALYST, password=PW, manager="sam")
    keys = ApiKeyStore(runtime.engine, runtime.keyring, clock=clock)
    busy = keys.create(name="storefront", tenant="default", scopes=["fraud:score", "reviews:write"])
    idle = keys.create(name="old-batch", tenant="default", scopes=["fraud:score"])
    god = keys.create(name="god", tenant="default", scopes=["*"])
    review.set_owner(f"key:{busy.record.key_id}", "ann", actor="sam")
    clock.now = real_now + timedelta(minutes=1)
    _use(runtime, busy.record.key_id, "fraud.score")
    staff.login("ann", PW)
    by = {e.subject: e for e in review.entries()}
    b = by[f"key:{busy.record.key_id}"]
    assert b.owner == "ann" and b.last_used is not None
    assert "over_privileged" in b.flags and b.unused_scopes == ("reviews:write",)
    assert "orphaned" not in b.flags and "unused" not in b.flags
    i = by[f"key:{idle.record.key_id}"]
    assert {"unused", "orphaned", "review_overdue"} <= set(i.flags)
    assert "over_privileged" in by[f"key:{god.record.key_id}"].flags
    s = by["staff:sam"]
    assert "no_mfa" in s.flags and "orphaned" in s.flags and "unused" in s.flags
    assert by["staff:ann"].owner == "sam" and "unused" not in by["staff:ann"].flags


def test_decide_when_revoke_key_then_key_refused_and_decision_recorded_with_due(
    runtime, clock, staff, review
):
    staff.add("sam", display_name="Sam", role=Role.SECURITY_ENGINEER, password=PW)
    keys = ApiKeyStore(runtime.engine, runtime.keyring, cache_ttl=0, clock=clock)
    k = keys.create(name="old", tenant="default", scopes=["fraud:score"])
    nxt = review.decide(f"key:{k.record.key_id}", Decision.REVOKE, reviewer="sam", note="unused")
    with pytest.raises(AuthenticationError):
        keys.authenticate(k.secret)
    (h,) = review.history()
    assert h["decision"] == "revoke" and h["reviewer"] == "sam" and "orphaned" in h["flags"]
    assert nxt == (clock() + timedelta(days=90)).isoformat()
    assert all(e.subject != f"key:{k.record.key_id}" for e in review.entries())


def test_decide_when_approved_then_not_overdue_until_next_due(runtime, clock, staff, review):
    staff.add("sam", display_name="Sam", role=Role.SECURITY_ENGINEER, password=PW)
    staff.add("ann", display_name="Ann", role=Role.ANALYST, password=PW, manager="sam")
    clock.advance(days=91)
    assert "review_overdue" in next(e for e in review.entries() if e.subject == "staff:ann").flags
    review.decide("staff:ann", Decision.APPROVE, reviewer="sam")
    e = next(e for e in review.entries() if e.subject == "staff:ann")
    assert "review_overdue" not in e.flags and e.last_decision == "approve"


def test_decide_when_self_review_then_refused_and_audited(runtime, staff, review):
    staff.add("sam", display_name="Sam", role=Role.SECURITY_ENGINEER, password=PW)
    with pytest.raises(AuthorizationError):
        review.decide("staff:sam", Decision.APPROVE, reviewer="sam")
    runtime.audit.close()
    assert [r.findings for r in runtime.audit.records() if r.action == "access.review"] == [
        ("self_review",)
    ]


def test_decide_when_revoking_last_admin_then_refused(runtime, staff, review):
    staff.add("root", display_name="Root", role=Role.ADMIN, password=PW)
    staff.add("sam", display_name="Sam", role=Role.SECURITY_ENGINEER, password=PW)
    with pytest.raises(AuthorizationError, match="last enabled admin"):
        review.decide("staff:root", Decision.REVOKE, reviewer="sam")


def test_fast_hasher_is_argon2id():
    assert FAST_HASHER.hash("x").startswith("$argon2id$")

"""Keyed tokens, format-preserving tokens, masking, the token vault and audited re-identification."""

from __future__ import annotations

import pytest

from shopguard.core.errors import (
    AuthorizationError,
    DataValidationError,
    InvalidCiphertext,
    KeyRingError,
    NotFoundError,
)
from shopguard.core.runtime import Runtime
from shopguard.privacy.fields import FieldCipher
from shopguard.privacy.pseudonym import (
    REIDENTIFY_SCOPE,
    Pseudonymiser,
    TokenKind,
    luhn_valid,
    mask_card,
    mask_email,
)

CARD = "4242424242424242"


def _p(rt: Runtime) -> Pseudonymiser:
    return Pseudonymiser(rt.engine, rt.keyring, audit=rt.audit)


def test_token_when_same_value_and_purpose_then_same_token_and_joins_work(runtime: Runtime) -> None:
    p = _p(runtime)
    a = p.token("analytics", "jane@example.com")
    assert a == p.token("analytics", "jane@example.com")
    assert a.startswith("tk_") and "jane" not in a
    # Another purpose cannot be linked to this one.
    assert p.token("marketing", "jane@example.com") != a
    # A second process over the same key ring gets the same tokens.
    assert (
        Pseudonymiser(runtime.engine, runtime.keyring).token("analytics", "jane@example.com") == a
    )


def test_token_when_key_rotated_then_tokens_stable(runtime: Runtime) -> None:
    p = _p(runtime)
    before = p.token("analytics", "x")
    runtime.keyring.rotate("privacy.pseudonym.analytics")
    assert Pseudonymiser(runtime.engine, runtime.keyring).token("analytics", "x") == before


def test_card_token_when_made_then_card_shaped_luhn_valid_last_four_kept(runtime: Runtime) -> None:
    p = _p(runtime)
    tok = p.token("pay", CARD, kind=TokenKind.CARD)
    assert len(tok) == 16 and tok.isdigit() and luhn_valid(tok)
    assert tok[0] == "4" and tok[-4:] == "4242" and tok != CARD
    assert p.token("pay", "4242 4242 4242 4242", kind=TokenKind.CARD) == tok
    other = p.token("pay", "4000056655665556", kind=TokenKind.CARD)
    assert other != tok and luhn_valid(other)


def test_email_token_when_made_then_address_shaped(runtime: Runtime) -> None:
    p = _p(runtime)
    tok = p.token("crm", "Jane.Doe@Shop.example", kind=TokenKind.EMAIL)
    assert tok.endswith("@pseudonym.invalid") and "jane" not in tok.lower()
    kept = p.token("crm", "Jane.Doe@Shop.example", kind=TokenKind.EMAIL, keep_domain=True)
    assert kept.endswith("@shop.example")
    with pytest.raises(DataValidationError):
        p.token("crm", "not an email", kind=TokenKind.EMAIL)


def test_token_when_purpose_malformed_then_refused(runtime: Runtime) -> None:
    with pytest.raises(DataValidationError):
        _p(runtime).token("Bad Purpose!", "x")


def test_masks_when_applied_then_only_edges_shown() -> None:
    assert mask_email("jane.doe@example.com") == "j*******@example.com"
    assert mask_card("4242 4242 4242 4242") == "**** **** **** 4242"
    assert mask_email("broken") == "******"


def test_reidentify_when_officer_with_reason_then_value_and_audited(runtime: Runtime) -> None:
    p = _p(runtime)
    [tok] = p.tokenise("pay", [("C1", CARD)], tenant="t", kind=TokenKind.CARD)
    value = p.reidentify(
        tok, purpose="pay", tenant="t", principal="officer-1",
        scopes={REIDENTIFY_SCOPE}, reason="chargeback dispute 1234",
    )  # fmt: skip
    assert value == CARD
    [rec] = [r for r in runtime.audit.records() if r.action == "privacy.reidentify"]
    assert rec.decision == "allow" and rec.principal == "officer-1"
    assert rec.details["reason"] == "chargeback dispute 1234"
    assert CARD not in str(rec.to_json())


def test_reidentify_when_no_scope_or_reason_then_refused_and_audited(runtime: Runtime) -> None:
    p = _p(runtime)
    [tok] = p.tokenise("pay", [("C1", CARD)], tenant="t")
    with pytest.raises(AuthorizationError):
        p.reidentify(tok, purpose="pay", tenant="t", principal="analyst",
                     scopes={"fraud:score"}, reason="just curious, honestly")  # fmt: skip
    with pytest.raises(DataValidationError):
        p.reidentify(tok, purpose="pay", tenant="t", principal="officer",
                     scopes={REIDENTIFY_SCOPE}, reason="  why ")  # fmt: skip
    with pytest.raises(NotFoundError):
        p.reidentify(tok, purpose="pay", tenant="other-tenant", principal="officer",
                     scopes={REIDENTIFY_SCOPE}, reason="chargeback dispute 1")  # fmt: skip
    decisions = [r.decision for r in runtime.audit.records() if r.action == "privacy.reidentify"]
    assert decisions == ["deny", "deny", "deny"]


def test_reidentify_when_customer_shredded_then_unreadable(runtime: Runtime) -> None:
    cipher = FieldCipher(runtime.engine, runtime.keyring)
    p = Pseudonymiser(runtime.engine, runtime.keyring, cipher=cipher, audit=runtime.audit)
    [tok] = p.tokenise("ip", [("C7", "203.0.113.9")], tenant="t")
    cipher.shred("t", "C7")
    with pytest.raises((InvalidCiphertext, KeyRingError)):
        p.reidentify(tok, purpose="ip", tenant="t", principal="officer",
                     scopes={REIDENTIFY_SCOPE}, reason="legal request 42")  # fmt: skip


def test_tokenise_when_value_shared_then_stored_once(runtime: Runtime) -> None:
    p = _p(runtime)
    toks = p.tokenise("device", [("C1", "dev-1"), ("C2", "dev-1"), ("C2", "dev-2")], tenant="t")
    assert toks[0] == toks[1] != toks[2]
    assert p.tokens_of("t", "C1") == [("device", toks[0])]
    assert p.tokens_of("t", "C2") == [("device", toks[2])]
    # Again: nothing stored twice, same tokens.
    assert p.tokenise("device", [("C1", "dev-1")], tenant="t") == [toks[0]]
    assert p.value_of("t", "device", toks[2]) == "dev-2"
    assert p.forget_subject("t", "C2") == 1

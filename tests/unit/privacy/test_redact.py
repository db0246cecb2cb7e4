"""Redaction replaces every detected entity and nothing else."""

from __future__ import annotations

import pytest

from shopguard.core.errors import ConfigError
from shopguard.core.runtime import Runtime
from shopguard.privacy.pii import PiiEntity, PiiType
from shopguard.privacy.pseudonym import Pseudonymiser
from shopguard.privacy.redact import RedactMode, Redactor, redact_text

TEXT = "Mail jane.doe@example.com or pay with 4242 4242 4242 4242 today."


def test_redact_when_tag_mode_then_type_tags_and_rest_untouched() -> None:
    out, ents = Redactor(mode=RedactMode.TAG).redact(TEXT)
    assert out == "Mail <EMAIL> or pay with <CREDIT_CARD> today."
    assert {e.type for e in ents} == {PiiType.EMAIL, PiiType.CREDIT_CARD}


def test_redact_when_mask_mode_then_shape_kept() -> None:
    out, _ = Redactor(mode=RedactMode.MASK).redact(TEXT)
    assert "j*******@example.com" in out and "**** **** **** 4242" in out
    assert "jane.doe" not in out


def test_redact_when_token_mode_then_same_value_same_token(runtime: Runtime) -> None:
    p = Pseudonymiser(runtime.engine, runtime.keyring)
    r = Redactor(mode=RedactMode.TOKEN, pseudonymiser=p)
    a, _ = r.redact("from jane.doe@example.com")
    b, _ = r.redact("again jane.doe@example.com!")
    tok = a.split("<EMAIL:")[1].split(">")[0]
    assert tok in b and "jane" not in a


def test_redact_when_token_mode_without_key_ring_then_config_error() -> None:
    with pytest.raises(ConfigError):
        Redactor(mode=RedactMode.TOKEN)
    with pytest.raises(ConfigError):
        redact_text("x", [], mode=RedactMode.TOKEN)


def test_redact_when_entities_overlap_then_merged_not_half_replaced() -> None:
    text = "call +44 20 7946 0958 now"
    ents = [PiiEntity(PiiType.PHONE, 5, 21, 0.9), PiiEntity(PiiType.PARTIAL_CARD, 13, 21, 0.5)]
    assert redact_text(text, ents) == "call <PHONE> now"

from __future__ import annotations

import pytest

from shopguard.core import crypto
from shopguard.core.errors import InvalidCiphertext


def test_seal_when_opened_with_same_key_and_context_then_plaintext_returns() -> None:
    key = crypto.new_key()
    token = crypto.seal(key, b"4111111111111111", context=b"customers/card/C1")
    assert b"4111" not in token
    assert crypto.open_(key, token, context=b"customers/card/C1") == b"4111111111111111"


@pytest.mark.parametrize(
    "mutate",
    [
        pytest.param(lambda k, t, c: (crypto.new_key(), t, c), id="wrong-key"),
        pytest.param(lambda k, t, c: (k, t, b"customers/card/C2"), id="moved-to-other-row"),
        pytest.param(lambda k, t, c: (k, t[:-1] + bytes([t[-1] ^ 1]), c), id="flipped-tag-bit"),
        pytest.param(
            lambda k, t, c: (k, t[:20] + bytes([t[20] ^ 1]) + t[21:], c), id="flipped-body-bit"
        ),
        pytest.param(lambda k, t, c: (k, t[:10], c), id="truncated"),
        pytest.param(lambda k, t, c: (k, b"\x02" + t[1:], c), id="unknown-version"),
    ],
)
def test_open_when_anything_is_wrong_then_one_opaque_error(mutate) -> None:
    key = crypto.new_key()
    context = b"customers/card/C1"
    token = crypto.seal(key, b"secret value", context=context)
    k, t, c = mutate(key, token, context)
    with pytest.raises(InvalidCiphertext) as info:
        crypto.open_(k, t, context=c)
    assert "secret" not in str(info.value)


def test_verify_mac_when_tag_differs_then_raises() -> None:
    key = crypto.new_key()
    tag = crypto.mac(key, b"entry")
    crypto.verify_mac(key, b"entry", tag)
    with pytest.raises(InvalidCiphertext):
        crypto.verify_mac(key, b"entry2", tag)


def test_hmac_known_answer_rfc4231_case2() -> None:
    # RFC 4231 test case 2 (key "Jefe").
    tag = crypto.mac(b"Jefe", b"what do ya want for nothing?")
    assert tag.hex() == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"


def test_sealer_when_used_then_interchangeable_with_functions_and_same_errors() -> None:
    key = crypto.new_key()
    sealer = crypto.Sealer(key)
    a = sealer.seal(b"field", context=b"t/c/1")
    b = crypto.seal(key, b"field", context=b"t/c/1")
    assert crypto.open_(key, a, context=b"t/c/1") == b"field"
    assert sealer.open_(b, context=b"t/c/1") == b"field"
    with pytest.raises(InvalidCiphertext):
        sealer.open_(a, context=b"t/c/2")
    with pytest.raises(InvalidCiphertext):
        crypto.Sealer(crypto.new_key()).open_(a, context=b"t/c/1")
    assert "key" in repr(sealer) and key.hex() not in repr(sealer)


def test_sealer_framed_when_header_and_aad_given_then_round_trip_and_tamper_refused() -> None:
    from shopguard.core import crypto
    from shopguard.core.errors import InvalidCiphertext

    s = crypto.Sealer(crypto.new_key())
    token = s.seal_framed(b"HDR", b"secret", aad=b"ctx")
    assert token.startswith(b"HDR") and s.open_framed(token, 3, aad=b"ctx") == b"secret"
    with pytest.raises(InvalidCiphertext):
        s.open_framed(token, 3, aad=b"other place")
    with pytest.raises(InvalidCiphertext):
        s.open_framed(token[:-1] + bytes([token[-1] ^ 1]), 3, aad=b"ctx")
    with pytest.raises(InvalidCiphertext):
        s.open_framed(token[:10], 3, aad=b"ctx")

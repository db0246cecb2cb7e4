"""Inputs the fuzz targets found, kept as regression tests (each raised an uncaught error)."""

from __future__ import annotations

from pathlib import Path

import pytest

from shopguard.core.errors import ConfigError, DataValidationError
from shopguard.privacy.datamap import load_declarations
from shopguard.store.fraud._io import load_transactions


def _fraud_csv(tmp_path: Path, *, second_date: str) -> Path:
    """Two valid transactions, the second dated ``second_date``."""
    path = tmp_path / "tx.csv"
    path.write_text(
        "TRANSACTION_ID,TX_DATETIME,CUSTOMER_ID,TERMINAL_ID,TX_AMOUNT,TX_FRAUD\n"
        "1,2024-01-01 10:00:00,C1,T1,12.50,0\n"
        f"2,{second_date},C2,T2,99.00,1\n"
    )
    return path


def test_fraud_csv_when_date_beyond_year_2262_then_data_validation_error_names_row(
    tmp_path: Path,
) -> None:
    path = _fraud_csv(tmp_path, second_date="6024-01-01 10:00:00")
    with pytest.raises(DataValidationError, match=r"row 2.*out of range"):
        load_transactions(path)


def test_fraud_csv_when_dates_mix_offsets_and_local_times_then_data_validation_error(
    tmp_path: Path,
) -> None:
    path = _fraud_csv(tmp_path, second_date="2024-01-02 11:00:00-01:00")
    with pytest.raises(DataValidationError, match=r"row 2.*mix UTC offsets"):
        load_transactions(path)


def test_datamap_toml_when_not_utf8_then_config_error(tmp_path: Path) -> None:
    path = tmp_path / "shopguard.toml"
    path.write_bytes(b'log_level = "INFO"\nredis_\x99url =]\n')
    with pytest.raises(ConfigError, match="cannot read data map declarations"):
        load_declarations(path)


@pytest.mark.parametrize("scope", [7, {"a": 1}, ["reviews:read", 1], None])
def test_jwt_when_signed_token_has_non_string_scope_then_authentication_error(scope) -> None:
    import time

    import jwt
    from cryptography.hazmat.primitives.asymmetric import ed25519

    from shopguard.core.errors import AuthenticationError
    from shopguard.gateway.jwt_auth import JwtVerifier

    key = ed25519.Ed25519PrivateKey.generate()
    verifier = JwtVerifier(
        keys=[(None, key.public_key())], algorithms=["EdDSA"], audience="shop", issuer="idp"
    )
    claims = {"sub": "u1", "aud": "shop", "iss": "idp", "exp": int(time.time()) + 60}
    token = jwt.encode({**claims, "tenant": "default", "scope": scope}, key, algorithm="EdDSA")
    with pytest.raises(AuthenticationError):
        verifier.verify(token)

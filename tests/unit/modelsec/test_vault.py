from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest
import sqlalchemy as sa

from shopguard.core.errors import AuthorizationError, ModelError, NotFoundError, ShopguardError
from shopguard.core.runtime import Runtime
from shopguard.core.settings import load_settings
from shopguard.core.tables import keyring_keys
from shopguard.modelsec.tables import versions
from shopguard.modelsec.vault import (
    OPERATOR,
    Accessor,
    ModelKind,
    ModelVault,
    Scope,
    VaultStage,
    verify_export,
)
from shopguard.store.fraud import FraudModel


def _generic(tmp_path: Path, name: str = "m", payload: bytes = b'{"w": [1, 2, 3]}') -> Path:
    d = tmp_path / name
    d.mkdir()
    (d / "weights.json").write_bytes(payload)
    (d / "metrics.json").write_text(json.dumps({"auc": 0.9}))
    return d


def _audit_actions(rt: Runtime) -> list[tuple[str, str]]:
    return [(r.action, r.decision) for r in rt.audit.records()]


def test_vault_when_fraud_model_round_trips_then_loads_the_same_model(
    runtime: Runtime, fraud_dir: Path
) -> None:
    vault = ModelVault(runtime)
    info = vault.put(
        "fraud", fraud_dir, kind=ModelKind.FRAUD, who=OPERATOR, training_data_sha256="ab" * 32
    )
    assert info.version == 1 and info.stage is VaultStage.STAGING
    assert info.manifest["training_data_sha256"] == "ab" * 32
    assert info.manifest["integrity"]["verdict"] == "safe"
    vault.promote("fraud", 1, who=OPERATOR)
    model = vault.load("fraud", who=OPERATOR)
    assert isinstance(model, FraudModel)
    original = FraudModel.load(fraud_dir)
    assert model.feature_names_ == original.feature_names_
    assert ("modelsec.vault.read", "allow") in _audit_actions(runtime)


def test_vault_when_ciphertext_byte_flipped_then_refuses_and_alerts(
    runtime: Runtime, tmp_path: Path
) -> None:
    vault = ModelVault(runtime)
    vault.put("m", _generic(tmp_path), kind=ModelKind.GENERIC, who=OPERATOR)
    with runtime.engine.begin() as conn:
        ct = bytearray(conn.execute(sa.select(versions.c.ciphertext)).scalar_one())
        ct[len(ct) // 2] ^= 0x01
        conn.execute(versions.update().values(ciphertext=bytes(ct)))
    seen = []
    runtime.bus.subscribe("modelsec.vault.refused", seen.append)
    with pytest.raises(ModelError, match="not the one signed"):
        vault.files("m", 1, who=OPERATOR)
    assert ("modelsec.vault.read", "refuse") in _audit_actions(runtime)
    assert seen and seen[0].details["reason"] == "artifact_mismatch"


def test_vault_when_manifest_edited_then_signature_refuses(
    runtime: Runtime, tmp_path: Path
) -> None:
    vault = ModelVault(runtime)
    vault.put("m", _generic(tmp_path), kind=ModelKind.GENERIC, who=OPERATOR)
    with runtime.engine.begin() as conn:
        manifest = json.loads(conn.execute(sa.select(versions.c.manifest)).scalar_one())
        manifest["owner"] = "mallory"
        conn.execute(versions.update().values(manifest=json.dumps(manifest)))
    with pytest.raises(ModelError, match="signature does not verify"):
        vault.load("m", 1, who=OPERATOR)


def test_vault_when_artifact_swapped_between_versions_then_refuses(
    runtime: Runtime, tmp_path: Path
) -> None:
    vault = ModelVault(runtime)
    vault.put("m", _generic(tmp_path, "a"), kind=ModelKind.GENERIC, who=OPERATOR)
    vault.put("m", _generic(tmp_path, "b", b'{"w": [9]}'), kind=ModelKind.GENERIC, who=OPERATOR)
    with runtime.engine.begin() as conn:
        rows = {r.version: r for r in conn.execute(sa.select(versions)).all()}
        # Swap the whole encrypted artifact *and* its wrapped key and manifest: still refused
        # because the manifest names another version.
        conn.execute(
            versions.update()
            .where(versions.c.version == 1)
            .values(ciphertext=rows[2].ciphertext, wrapped_key=rows[2].wrapped_key)
        )
    with pytest.raises(ModelError, match="not the one signed"):
        vault.files("m", 1, who=OPERATOR)
    with runtime.engine.begin() as conn:
        conn.execute(
            versions.update()
            .where(versions.c.version == 1)
            .values(manifest=rows[2].manifest, signature=rows[2].signature)
        )
    with pytest.raises(ModelError, match="another model version"):
        vault.files("m", 1, who=OPERATOR)
    assert vault.files("m", 2, who=OPERATOR)["weights.json"] == b'{"w": [9]}'


def test_vault_when_wrapped_key_from_other_version_then_unwrap_refuses(
    runtime: Runtime, tmp_path: Path
) -> None:
    vault = ModelVault(runtime)
    vault.put("m", _generic(tmp_path, "a"), kind=ModelKind.GENERIC, who=OPERATOR)
    vault.put("m", _generic(tmp_path, "b"), kind=ModelKind.GENERIC, who=OPERATOR)
    with runtime.engine.begin() as conn:
        other = conn.execute(
            sa.select(versions.c.wrapped_key).where(versions.c.version == 2)
        ).scalar_one()
        conn.execute(versions.update().where(versions.c.version == 1).values(wrapped_key=other))
    with pytest.raises(ModelError, match="envelope key does not unwrap"):
        vault.files("m", 1, who=OPERATOR)


def test_vault_when_opened_with_wrong_master_key_then_never_loads(settings, tmp_path: Path) -> None:
    rt = Runtime.open(settings)
    try:
        ModelVault(rt).put("m", _generic(tmp_path), kind=ModelKind.GENERIC, who=OPERATOR)
    finally:
        rt.close()
    wrong = load_settings(
        home=settings.home,
        database_url=settings.database_url,
        master_key="A" * 43 + "=",
    )
    rt = Runtime.open(wrong)
    try:
        # The whole key ring is foreign: the signing key cannot unwrap (and neither can the
        # audit key), so the read fails closed.
        with pytest.raises(ShopguardError):
            ModelVault(rt).files("m", 1, who=OPERATOR)
    finally:
        rt.close()


def test_vault_when_signing_key_destroyed_then_refuses_naming_it(
    runtime: Runtime, tmp_path: Path
) -> None:
    vault = ModelVault(runtime)
    vault.put("m", _generic(tmp_path), kind=ModelKind.GENERIC, who=OPERATOR)
    with runtime.engine.begin() as conn:
        conn.execute(
            keyring_keys.update()
            .where(keyring_keys.c.purpose == "modelsec.signing")
            .values(state="destroyed")
        )
    fresh = Runtime.open(runtime.settings)
    try:
        with pytest.raises(ModelError, match=r"signing key .* is not in the key ring"):
            ModelVault(fresh).files("m", 1, who=OPERATOR)
    finally:
        fresh.close()


def test_vault_when_importing_malicious_pickle_then_refuses_naming_construct(
    runtime: Runtime, tmp_path: Path
) -> None:
    import os

    class Evil:
        def __reduce__(self):  # type: ignore[no-untyped-def]
            return (os.system, ("echo never",))

    d = tmp_path / "evil"
    d.mkdir()
    (d / "model.pkl").write_bytes(pickle.dumps(Evil(), protocol=4))
    with pytest.raises(ModelError, match="system"):
        ModelVault(runtime).put("evil", d, kind=ModelKind.GENERIC, who=OPERATOR)
    with runtime.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(versions)).scalar() == 0


def test_vault_when_scope_missing_then_denied_and_audited(runtime: Runtime, tmp_path: Path) -> None:
    vault = ModelVault(runtime)
    vault.put("m", _generic(tmp_path), kind=ModelKind.GENERIC, who=OPERATOR)
    reader = Accessor("key:reader", frozenset({Scope.READ.value}))
    assert vault.files("m", 1, who=reader)
    with pytest.raises(AuthorizationError):
        vault.promote("m", 1, who=reader)
    with pytest.raises(AuthorizationError):
        vault.files("m", 1, who=Accessor("key:nobody", frozenset()))
    assert ("modelsec.vault.read", "deny") in _audit_actions(runtime)


def test_vault_when_promoted_then_previous_production_archived(
    runtime: Runtime, tmp_path: Path
) -> None:
    vault = ModelVault(runtime)
    vault.put("m", _generic(tmp_path, "a"), kind=ModelKind.GENERIC, who=OPERATOR)
    vault.put("m", _generic(tmp_path, "b"), kind=ModelKind.GENERIC, who=OPERATOR)
    vault.promote("m", 1, who=OPERATOR)
    vault.promote("m", 2, who=OPERATOR)
    stages = {v.version: v.stage for v in vault.list(who=OPERATOR, name="m")}
    assert stages == {1: VaultStage.ARCHIVED, 2: VaultStage.PRODUCTION}
    with pytest.raises(NotFoundError):
        vault.files("nope", who=OPERATOR)


def test_vault_when_exported_then_offline_verification_passes_and_detects_edits(
    runtime: Runtime, tmp_path: Path
) -> None:
    vault = ModelVault(runtime)
    vault.put("m", _generic(tmp_path), kind=ModelKind.GENERIC, who=OPERATOR)
    out = vault.export("m", 1, tmp_path / "export", who=OPERATOR)
    assert verify_export(out)["name"] == "m"
    (out / "weights.json").write_text('{"w": [6]}')
    with pytest.raises(ModelError, match="does not match"):
        verify_export(out)

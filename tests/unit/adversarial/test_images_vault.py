"""The image classifiers go through the model vault: stored signed and encrypted, served from it,
and refused (with no fallback to the files on disk) when the vaulted copy does not verify."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa
import torch

from shopguard.adversarial.service import AdversarialService
from shopguard.core.errors import ModelError
from shopguard.core.runtime import Runtime
from shopguard.modelsec.tables import versions
from shopguard.modelsec.vault import IMAGES_MODEL, OPERATOR, ModelKind, ModelVault
from shopguard.store.images import (
    ImageClassifier,
    load_classifier,
    reference_model_path,
    save_classifier,
)
from shopguard.store.images._model import ARCHS, StrideCNN
from shopguard.store.images.images_train import load_test_sample

SHIPPED = reference_model_path("robust").parent


def _impostor_dir(tmp_path: Path) -> Path:
    """The shipped weights directory with ``robust`` replaced by an untrained StrideCNN."""
    d = tmp_path / "weights"
    shutil.copytree(SHIPPED, d)
    torch.manual_seed(0)
    save_classifier(ImageClassifier(net=StrideCNN().eval(), name="robust", info={}), d)
    return d


def test_vault_when_images_stored_then_loads_every_shipped_classifier_verified(
    runtime: Runtime,
) -> None:
    vault = ModelVault(runtime)
    info = vault.put(IMAGES_MODEL, SHIPPED, kind=ModelKind.IMAGES, who=OPERATOR)
    assert info.manifest["integrity"]["verdict"] == "safe"
    models = vault.load(IMAGES_MODEL, who=OPERATOR)
    assert set(models) == {"standard", "robust", "robust02"}
    x = torch.rand(4, 1, 28, 28)
    with torch.no_grad():
        assert torch.equal(models["robust"].net(x), load_classifier("robust").net(x))
    assert type(models["robust"].net) is ARCHS["StrideCNNx2"]


def test_service_when_vault_holds_images_then_serves_the_vaulted_model_not_the_files(
    runtime: Runtime, tmp_path: Path
) -> None:
    # the vault holds a different "robust" than the shipped files: what is served shows which
    vault = ModelVault(runtime)
    vault.put(IMAGES_MODEL, _impostor_dir(tmp_path), kind=ModelKind.IMAGES, who=OPERATOR)
    X, _ = load_test_sample()
    from_vault = AdversarialService(image_model_name="robust", vault=vault)
    from_files = AdversarialService(image_model_name="robust")
    vaulted = from_vault.image_model().predict_proba(X[:20])
    shipped = from_files.image_model().predict_proba(X[:20])
    assert from_vault.source == "vault" and from_files.source == "files"
    expected = load_classifier("robust", tmp_path / "weights").predict_proba(X[:20])
    np.testing.assert_allclose(vaulted, expected, atol=1e-6)
    assert not np.allclose(vaulted, shipped, atol=1e-3)
    # the detector calibration comes from the same verified version
    assert from_vault.image_detector().model is from_vault.image_model()


def test_service_when_vaulted_images_tampered_then_refuses_without_falling_back(
    runtime: Runtime,
) -> None:
    vault = ModelVault(runtime)
    vault.put(IMAGES_MODEL, SHIPPED, kind=ModelKind.IMAGES, who=OPERATOR)
    with runtime.engine.begin() as conn:
        ct = bytearray(conn.execute(sa.select(versions.c.ciphertext)).scalar_one())
        ct[len(ct) // 3] ^= 0x01
        conn.execute(versions.update().values(ciphertext=bytes(ct)))
    svc = AdversarialService(image_model_name="robust", vault=vault)
    with pytest.raises(ModelError, match="not the one signed"):
        svc.image_model()
    # without the vault version the files would have served: the refusal is the vault's
    assert AdversarialService(image_model_name="robust").image_model() is not None

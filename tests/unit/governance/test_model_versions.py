from __future__ import annotations

import pytest

from shopguard.core.errors import ModelError, NotFoundError
from shopguard.governance.model_versions import ModelVersions


def _write(root, name, text):
    d = root / name
    d.mkdir(parents=True, exist_ok=True)
    (d / "model.json").write_text(text)


def test_rollback_when_new_version_deployed_then_previous_restored(tmp_path):
    mv = ModelVersions(tmp_path)
    _write(tmp_path, "fraud", '{"v": 1}')
    assert mv.snapshot("fraud").version == 1
    _write(tmp_path, "fraud", '{"v": 2, "poisoned": true}')
    restored = mv.rollback("fraud")
    assert restored.version == 1
    assert (tmp_path / "fraud" / "model.json").read_text() == '{"v": 1}'
    assert [v.version for v in mv.versions("fraud")] == [1, 2]  # the bad one is kept as evidence
    assert mv.current("fraud") == 1


def test_rollback_when_stored_version_tampered_then_refused_and_live_model_kept(tmp_path):
    mv = ModelVersions(tmp_path)
    _write(tmp_path, "fraud", "one")
    mv.snapshot("fraud")
    (tmp_path / ".versions" / "fraud" / "v0001" / "files" / "model.json").write_text("evil")
    _write(tmp_path, "fraud", "two")
    with pytest.raises(ModelError):
        mv.rollback("fraud")
    assert (tmp_path / "fraud" / "model.json").read_text() == "two"


def test_rollback_when_no_earlier_version_then_not_found(tmp_path):
    mv = ModelVersions(tmp_path)
    _write(tmp_path, "fraud", "one")
    with pytest.raises(NotFoundError):
        mv.rollback("fraud")


def test_snapshot_when_unchanged_then_no_new_version(tmp_path):
    mv = ModelVersions(tmp_path)
    _write(tmp_path, "fraud", "one")
    assert mv.snapshot("fraud").version == mv.snapshot("fraud").version == 1

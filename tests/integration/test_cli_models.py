from __future__ import annotations

import json
import pickle
from pathlib import Path

import sqlalchemy as sa

from shopguard.cli import main
from shopguard.core.runtime import Runtime
from shopguard.core.settings import load_settings
from shopguard.modelsec.tables import versions


def _model_dir(root: Path) -> Path:
    d = root / "m"
    d.mkdir()
    (d / "weights.json").write_text(json.dumps({"w": [1, 2]}))
    (d / "metrics.json").write_text(json.dumps({"auc": 0.91}))
    return d


def test_models_scan_when_malicious_then_exit_1_naming_construct(tmp_path: Path, capsys) -> None:
    bad = tmp_path / "bad.pkl"
    bad.write_bytes(b"\x80\x02cposix\nsystem\n(X\x02\x00\x00\x00idtR.")
    good = tmp_path / "good.pkl"
    good.write_bytes(pickle.dumps({"w": [1.0, 2.0]}))
    assert main(["models", "scan", str(good)]) == 0
    capsys.readouterr()
    assert main(["models", "scan", str(good), str(bad)]) == 1
    out = capsys.readouterr().out
    assert "posix.system" in out and "UNSAFE" in out


def test_models_scan_when_path_missing_then_exit_2(tmp_path: Path, capsys) -> None:
    assert main(["models", "scan", str(tmp_path / "nope.pkl")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_models_vault_cli_when_imported_then_list_show_promote_export(
    tmp_path: Path, capsys
) -> None:
    assert main(["init"]) == 0
    src = _model_dir(tmp_path)
    assert main(["models", "import", str(src), "--name", "demo", "--owner", "ml-team"]) == 0
    assert main(["models", "promote", "demo", "1"]) == 0
    assert main(["models", "list"]) == 0
    out = capsys.readouterr().out
    assert "demo" in out and "production" in out
    assert main(["models", "show", "demo", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["verified"] is True and shown["owner"] == "ml-team"
    assert main(["models", "export", "demo", str(tmp_path / "out")]) == 0
    assert (tmp_path / "out" / "vault-manifest.sig").is_file()
    rt = Runtime.open(load_settings())
    try:
        with rt.engine.begin() as conn:
            ct = bytearray(conn.execute(sa.select(versions.c.ciphertext)).scalar_one())
            ct[-1] ^= 0xFF
            conn.execute(versions.update().values(ciphertext=bytes(ct)))
    finally:
        rt.close()
    capsys.readouterr()
    assert main(["models", "show", "demo"]) == 1
    assert "REFUSED" in capsys.readouterr().out
    assert main(["models", "export", "demo", str(tmp_path / "out2")]) == 2
    assert "refusing to load" in capsys.readouterr().err


def test_models_import_when_malicious_then_exit_2_and_nothing_stored(
    tmp_path: Path, capsys
) -> None:
    assert main(["init"]) == 0
    d = tmp_path / "evil"
    d.mkdir()
    (d / "model.pkl").write_bytes(b"\x80\x02cos\nsystem\n(X\x02\x00\x00\x00idtR.")
    assert main(["models", "import", str(d), "--name", "evil"]) == 2
    assert "unsafe artifact" in capsys.readouterr().err

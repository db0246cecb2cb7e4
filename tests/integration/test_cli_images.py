"""`shopguard images evaluate` / `shopguard adversarial evaluate` through main(argv) and exit codes."""

from __future__ import annotations

import gzip
import json
import struct
from pathlib import Path

import numpy as np
import pytest

import shopguard.cli as cli
from shopguard.store.images.images_train import holdout_split, load_fashion_subset

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "fashion_mnist_subset"


@pytest.fixture(autouse=True)
def only_image_commands(monkeypatch):
    import shopguard.cli.adversarial
    import shopguard.cli.images  # noqa: F401

    monkeypatch.setattr(cli, "_register", lambda: None)


def _idx(path: Path, arr: np.ndarray) -> Path:
    header = struct.pack(">HBB", 0, 0x08, arr.ndim) + struct.pack(f">{arr.ndim}I", *arr.shape)
    path.write_bytes(gzip.compress(header + arr.astype(np.uint8).tobytes()))
    return path


@pytest.fixture(scope="module")
def idx_pair(tmp_path_factory) -> tuple[Path, Path]:
    X, y = load_fashion_subset(DATA)
    _, test = holdout_split(y)
    pick = test[::25]
    d = tmp_path_factory.mktemp("idx")
    return _idx(d / "images-idx3-ubyte.gz", X[pick]), _idx(d / "labels-idx1-ubyte.gz", y[pick])


def test_images_evaluate_when_idx_set_then_json_accuracy_and_n(idx_pair, capsys) -> None:
    images, labels = idx_pair
    rc = cli.main(
        [
            "images",
            "evaluate",
            "--images",
            str(images),
            "--labels",
            str(labels),
            "--model",
            "standard",
            "--json",
        ]
    )
    out = json.loads(capsys.readouterr().out)
    assert rc == 0
    assert out["n"] == 40 and 0.7 <= out["accuracy"] <= 1.0


def test_images_evaluate_when_attacked_then_accuracy_is_on_attacked_images(
    idx_pair, capsys
) -> None:
    images, labels = idx_pair
    base = [
        "images",
        "evaluate",
        "--images",
        str(images),
        "--labels",
        str(labels),
        "--model",
        "standard",
        "--json",
    ]
    assert cli.main(base) == 0
    clean = json.loads(capsys.readouterr().out)["accuracy"]
    assert cli.main([*base, "--attack", "pgd", "--eps", "0.1", "--steps", "10"]) == 0
    attacked = json.loads(capsys.readouterr().out)
    assert attacked["attack"] == "pgd" and attacked["n"] == 40
    assert attacked["accuracy"] < clean - 0.3


@pytest.mark.parametrize(
    "extra",
    [
        ["--attack", "teleport"],
        ["--attack", "pgd", "--eps", "0"],
    ],
)
def test_images_evaluate_when_bad_option_then_exit_2_one_line(idx_pair, capsys, extra) -> None:
    images, labels = idx_pair
    rc = cli.main(
        [
            "images",
            "evaluate",
            "--images",
            str(images),
            "--labels",
            str(labels),
            "--model",
            "standard",
            *extra,
        ]
    )
    err = capsys.readouterr().err.strip()
    assert rc == 2 and len(err.splitlines()) == 1


def test_images_evaluate_when_files_bad_or_mismatched_then_exit_2(
    idx_pair, tmp_path, capsys
) -> None:
    images, labels = idx_pair
    junk = tmp_path / "junk.gz"
    junk.write_bytes(b"not idx at all")
    short = _idx(tmp_path / "short.gz", np.zeros(3))
    for args in (
        ["--images", str(junk), "--labels", str(labels)],
        ["--images", str(images), "--labels", str(short)],
        ["--images", str(tmp_path / "missing"), "--labels", str(labels)],
    ):
        assert cli.main(["images", "evaluate", *args, "--model", "standard"]) == 2
        assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_adversarial_evaluate_when_image_model_then_table_rows_json(capsys) -> None:
    rc = cli.main(
        [
            "adversarial",
            "evaluate",
            "--model",
            "standard",
            "--attack",
            "fgsm",
            "--eps",
            "0.1",
            "--n",
            "30",
            "--data",
            str(DATA),
            "--json",
        ]
    )
    rows = json.loads(capsys.readouterr().out)
    assert rc == 0
    assert [r["attack"] for r in rows] == ["clean", "fgsm"]
    assert rows[1]["accuracy"] < rows[0]["accuracy"] and rows[0]["n"] == 30


def test_adversarial_evaluate_when_unknown_model_or_attack_then_exit_2(capsys) -> None:
    assert (
        cli.main(["adversarial", "evaluate", "--model", "nope", "--n", "5", "--data", str(DATA)])
        == 2
    )
    assert (
        cli.main(
            [
                "adversarial",
                "evaluate",
                "--model",
                "standard",
                "--attack",
                "evasion",
                "--n",
                "5",
                "--data",
                str(DATA),
            ]
        )
        == 2
    )

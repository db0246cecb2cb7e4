"""Fast adversarial training (reduced: a few hundred images, one or two epochs), the network
registry of the weights loader, the fixed evaluation sets, and the robust-accuracy check's bar."""

from __future__ import annotations

import gzip
import json
import struct
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from shopguard.adversarial.checks import (
    ROBUST_ACCURACY_BAR,
    ROBUST_ACCURACY_FLOOR,
    RobustAccuracy,
)
from shopguard.core.errors import ConfigError, ModelError
from shopguard.core.scorecard import CheckContext, Status
from shopguard.store.images import ImageClassifier, StrideCNN, load_classifier, save_classifier
from shopguard.store.images._model import ARCHS, ensemble_of
from shopguard.store.images.images_train import (
    TrainMethod,
    _cross_entropy_objective,
    _pgd_example,
    _random_shift,
    _weight_perturbation,
    load_eval_set,
    load_fashion_test_subset,
    load_test_sample,
    train_classifier,
)
from shopguard.store.images.images_train import _main as images_train_main


def _fit(fashion: dict[str, Any], n: int, **kw: Any) -> ImageClassifier:
    """A StrideCNN trained on the first ``n`` images of the reduced set (eps 0.1, batch 64)."""
    idx = fashion["train"][:n]
    return train_classifier(
        fashion["X"][idx],
        fashion["y"][idx],
        name="t",
        arch="StrideCNN",
        eps=0.1,
        batch_size=64,
        **kw,
    )


@pytest.mark.parametrize("method", [TrainMethod.FGSM_RS, TrainMethod.N_FGSM])
def test_train_classifier_when_single_step_at_on_stride_cnn_then_probe_per_epoch_and_best_kept(
    fashion, method
) -> None:
    model = _fit(fashion, 600, method=method, eps_ramp=0.3, epochs=2)
    assert isinstance(model.net, StrideCNN)
    history = model.info["probe_pgd10_accuracy"]
    assert len(history) == 2
    # early stopping keeps the epoch whose probe accuracy was highest (the later one on a tie)
    assert model.info["kept_epoch"] == 2 - int(np.argmax(history[::-1]))
    assert model.info["train_cpu_seconds"] > 0


@pytest.mark.parametrize(
    ("method", "extra"), [(TrainMethod.PGD, {"steps": 2}), (TrainMethod.TRADES, {"beta": 6.0})]
)
def test_train_classifier_when_pgd_or_trades_with_average_then_recorded_and_probed(
    fashion, method, extra
) -> None:
    model = _fit(fashion, 256, method=method, epochs=1, ema=0.9, **extra)
    assert model.info["method"] == method.value and model.info["ema"] == 0.9
    assert model.info["steps"] == 2
    assert (model.info.get("beta") == 6.0) is (method is TrainMethod.TRADES)
    assert len(model.info["probe_pgd10_accuracy"]) == 1
    assert next(model.net.parameters()).device.type == "cpu"


@pytest.mark.parametrize("method", [TrainMethod.PGD, TrainMethod.TRADES])
def test_train_classifier_when_weight_perturbation_then_recorded_and_changes_the_result(
    fashion, method
) -> None:
    plain = _fit(fashion, 128, method=method, epochs=1, early_stopping=False)
    awp = _fit(fashion, 128, method=method, epochs=1, early_stopping=False, awp=0.01)
    assert awp.info["awp"] == 0.01 and "awp" not in plain.info
    w_plain = plain.net.state_dict()["head.weight"]
    assert not torch.allclose(w_plain, awp.net.state_dict()["head.weight"])


def test_weight_perturbation_when_applied_then_relative_size_and_raises_the_loss(fashion) -> None:
    X, y, idx = fashion["X"], fashion["y"], fashion["train"][:64]
    torch.manual_seed(0)
    net = StrideCNN()
    x = torch.from_numpy(X[idx].astype(np.float32) / 255).unsqueeze(1)
    objective = _cross_entropy_objective(x, torch.from_numpy(y[idx].astype(np.int64)))
    before = {k: v.clone() for k, v in net.state_dict().items()}
    with torch.no_grad():
        loss = float(objective(net))
    shifts = _weight_perturbation(net, objective, 0.05)
    assert len(shifts) == 4  # the two kernels and the two matrices; biases stay
    with torch.no_grad():
        for param, shift in shifts:
            assert float(shift.norm()) == pytest.approx(
                0.05 * float((param - shift).norm()), rel=1e-3
            )
        assert float(objective(net)) > loss
        for param, shift in shifts:
            param.sub_(shift)
    for k, v in net.state_dict().items():
        assert torch.allclose(v, before[k], atol=1e-6)


def test_train_classifier_when_weight_average_then_returns_a_different_network(fashion) -> None:
    X, y, idx = fashion["X"], fashion["y"], fashion["train"][:200]
    kw = {"name": "t", "arch": "StrideCNN", "epochs": 1, "batch_size": 32, "early_stopping": False}
    plain = train_classifier(X[idx], y[idx], **kw)
    averaged = train_classifier(X[idx], y[idx], ema=0.9, **kw)
    w_plain = plain.net.state_dict()["head.weight"]
    w_avg = averaged.net.state_dict()["head.weight"]
    assert not torch.allclose(w_plain, w_avg)


def test_train_classifier_when_best_probe_rounds_up_then_that_epoch_kept(
    fashion, monkeypatch
) -> None:
    from shopguard.store.images import images_train

    probes = iter([0.5, 401 / 500 - 1e-9])  # the second rounds up to 0.802
    monkeypatch.setattr(images_train, "_probe_accuracy", lambda *a: next(probes))
    model = _fit(fashion, 64, method=TrainMethod.FGSM_RS, epochs=2)
    assert model.info["probe_pgd10_accuracy"] == [0.5, 0.802]
    assert model.info["kept_epoch"] == 2


def test_train_classifier_when_time_limit_passed_then_stops_after_the_epoch(fashion) -> None:
    model = _fit(fashion, 128, method=TrainMethod.FGSM_RS, epochs=3, time_limit_s=0.0)
    assert model.info["epochs_run"] == 1 and model.info["stopped_early"] is True
    assert model.info["kept_epoch"] == 1 and len(model.info["probe_pgd10_accuracy"]) == 1


def test_pgd_example_when_crafted_then_inside_the_ball_and_raises_the_loss(fashion) -> None:
    X, y, idx = fashion["X"], fashion["y"], fashion["train"][:100]
    model = train_classifier(X[idx], y[idx], name="t", arch="StrideCNN", epochs=2, batch_size=32)
    x = torch.from_numpy(X[idx].astype(np.float32) / 255).unsqueeze(1)
    t = torch.from_numpy(y[idx].astype(np.int64))
    adv = _pgd_example(model.net, x, t, 0.1, 3, torch.Generator().manual_seed(0))
    assert float((adv - x).abs().max()) <= 0.1 + 1e-6
    assert float(adv.min()) >= 0.0 and float(adv.max()) <= 1.0
    ce = torch.nn.functional.cross_entropy
    with torch.no_grad():
        assert float(ce(model.net(adv), t)) > float(ce(model.net(x), t))


def test_train_classifier_when_unknown_arch_or_bad_ramp_then_config_error(fashion) -> None:
    X, y, idx = fashion["X"], fashion["y"], fashion["train"][:50]
    with pytest.raises(ConfigError):
        train_classifier(X[idx], y[idx], name="t", arch="ResNet", epochs=1)
    with pytest.raises(ConfigError):
        train_classifier(
            X[idx], y[idx], name="t", method=TrainMethod.N_FGSM, eps_ramp=1.0, epochs=1
        )
    with pytest.raises(ConfigError):
        train_classifier(X[idx], y[idx], name="t", ema=1.0, epochs=1)
    with pytest.raises(ConfigError):
        train_classifier(X[idx], y[idx], name="t", method=TrainMethod.PGD, steps=0, epochs=1)
    with pytest.raises(ConfigError):  # a weight perturbation needs a multi-step method
        train_classifier(X[idx], y[idx], name="t", method=TrainMethod.FGSM_RS, awp=0.01, epochs=1)
    with pytest.raises(ConfigError):
        train_classifier(X[idx], y[idx], name="t", shift=9, epochs=1)


def test_random_shift_when_applied_then_each_image_translated_with_zeros_shifted_in() -> None:
    gen = torch.Generator().manual_seed(0)
    x = torch.zeros(64, 1, 28, 28)
    x[:, 0, 10:18, 12:16] = torch.rand(64, 1, 1)  # a lit block, one grey level per image
    out = _random_shift(x, 2, gen)
    assert out.shape == x.shape
    seen = set()
    for i in range(64):
        rows, cols = torch.nonzero(out[i, 0], as_tuple=True)
        dr, dc = int(rows.min()) - 10, int(cols.min()) - 12
        assert abs(dr) <= 2 and abs(dc) <= 2
        # the same block, moved: nothing added, nothing lost
        assert torch.equal(out[i, 0, 10 + dr : 18 + dr, 12 + dc : 16 + dc], x[i, 0, 10:18, 12:16])
        assert float(out[i].sum()) == pytest.approx(float(x[i].sum()))
        seen.add((dr, dc))
    assert len(seen) > 10  # per image, not one shift for the batch


def test_train_classifier_when_shift_then_recorded_and_changes_the_result(fashion) -> None:
    plain = _fit(fashion, 200, method=TrainMethod.PGD, epochs=1)
    shifted = _fit(fashion, 200, method=TrainMethod.PGD, epochs=1, shift=2)
    assert shifted.info["shift"] == 2 and "shift" not in plain.info
    x = torch.rand(4, 1, 28, 28)
    with torch.no_grad():
        assert not torch.allclose(plain.net(x), shifted.net(x))
    # with a weight perturbation too (its loop once rebound the name ``shift`` mid-epoch)
    both = _fit(fashion, 200, method=TrainMethod.PGD, epochs=1, shift=2, awp=0.01)
    assert both.info["shift"] == 2 and both.info["awp"] == 0.01


@pytest.mark.parametrize(
    "arch",
    ["StrideCNN", "FloorStrideCNN", "MidStrideCNN", "WideStrideCNN", "StrideCNNx2", "StrideCNNx3"],
)
def test_save_and_load_when_stride_cnn_then_same_network_and_outputs(
    tmp_path: Path, arch: str
) -> None:
    torch.manual_seed(0)

    net = ARCHS[arch]().eval()
    save_classifier(ImageClassifier(net=net, name="s", info={"method": "standard"}), tmp_path)
    loaded = load_classifier("s", tmp_path)
    assert type(loaded.net) is ARCHS[arch]
    x = torch.rand(3, 1, 28, 28)
    assert torch.allclose(loaded.net(x), net(x))


def test_ensemble_of_when_members_then_mean_of_their_logits_and_summed_training_cost(
    tmp_path: Path,
) -> None:
    torch.manual_seed(0)
    members = [
        ImageClassifier(net=StrideCNN().eval(), name="m", info={"train_cpu_seconds": c, "eps": 0.1})
        for c in (100.0, 120.5, 80.0)
    ]
    joined = ensemble_of(members, "robust")
    x = torch.rand(4, 1, 28, 28)
    with torch.no_grad():
        expected = torch.stack([m.net(x) for m in members]).mean(0)
        assert torch.allclose(joined.net(x), expected, atol=1e-6)
        # not the mean of any one member: every member counts
        assert not torch.allclose(joined.net(x), members[0].net(x), atol=1e-3)
    assert joined.info["train_cpu_seconds"] == 300.5
    assert [m["train_cpu_seconds"] for m in joined.info["members"]] == [100.0, 120.5, 80.0]
    # the members' weights are copied, not shared: the ensemble file stands alone
    save_classifier(joined, tmp_path)
    with torch.no_grad():
        members[0].net.head.weight.zero_()
        assert torch.allclose(joined.net(x), expected, atol=1e-6)
        assert torch.allclose(load_classifier("robust", tmp_path).net(x), expected, atol=1e-6)


def test_ensemble_of_when_wrong_count_or_network_then_model_error() -> None:
    one = ImageClassifier(net=StrideCNN(), name="m", info={})
    with pytest.raises(ModelError, match="2 or 3"):
        ensemble_of([one], "e")
    with pytest.raises(ModelError, match="2 or 3"):
        ensemble_of([one] * 4, "e")
    floored = ImageClassifier(net=ARCHS["FloorStrideCNN"](), name="m", info={})
    with pytest.raises(ModelError, match="StrideCNN networks"):
        ensemble_of([one, floored], "e")


def test_images_train_when_ensemble_of_dirs_then_joined_file_loads_as_ensemble(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    torch.manual_seed(0)
    dirs = [tmp_path / "a", tmp_path / "b"]
    for seconds, d in zip((10.0, 20.0), dirs, strict=True):
        save_classifier(
            ImageClassifier(net=StrideCNN(), name="robust", info={"train_cpu_seconds": seconds}), d
        )
    rc = images_train_main(
        ["--name", "robust", "--ensemble-of", *map(str, dirs), "--out", str(tmp_path / "out")]
    )
    assert rc == 0
    assert json.loads(capsys.readouterr().out.strip())["members"] == 2
    joined = load_classifier("robust", tmp_path / "out")
    assert type(joined.net) is ARCHS["StrideCNNx2"]
    assert joined.info["train_cpu_seconds"] == 30.0


def test_load_classifier_when_manifest_names_unknown_network_then_model_error(
    tmp_path: Path,
) -> None:

    save_classifier(ImageClassifier(net=StrideCNN(), name="s", info={}), tmp_path)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    manifest["s"]["info"]["arch"] = "os.system"
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelError, match="unknown network"):
        load_classifier("s", tmp_path)


def _write_idx(directory: Path, prefix: str, images: np.ndarray, labels: np.ndarray) -> None:
    with gzip.open(directory / f"{prefix}-images-idx3-ubyte.gz", "wb") as f:
        f.write(struct.pack(">IIII", 0x803, len(images), 28, 28) + images.tobytes())
    with gzip.open(directory / f"{prefix}-labels-idx1-ubyte.gz", "wb") as f:
        f.write(struct.pack(">II", 0x801, len(labels)) + labels.tobytes())


def test_load_fashion_test_subset_when_official_layout_then_first_per_class_in_file_order(
    tmp_path: Path,
) -> None:
    labels = np.array([3, 1, 3, 1, 3, 0, 1, 0], dtype=np.uint8)
    images = np.arange(len(labels), dtype=np.uint8)[:, None, None] * np.ones(
        (1, 28, 28), dtype=np.uint8
    )
    _write_idx(tmp_path, "t10k", images, labels)
    X, y = load_fashion_test_subset(tmp_path, per_class=2)
    # first two of each class, kept in file order: indices 0, 1, 2, 3, 5, 7
    assert y.tolist() == [3, 1, 3, 1, 0, 0]
    assert X[:, 0, 0].tolist() == [0, 1, 2, 3, 5, 7]


def test_load_test_sample_when_shipped_then_100_images_10_per_class() -> None:
    X, y = load_test_sample()
    assert X.shape == (100, 28, 28)
    assert np.bincount(y, minlength=10).tolist() == [10] * 10


@pytest.mark.slow
def test_robust_accuracy_check_when_standard_model_then_fails_its_floor() -> None:
    X, y = load_test_sample()
    ctx = CheckContext(
        {"adversarial_images": {"model": "standard", "images": X[:30], "labels": y[:30]}}
    )
    status, figure, evidence = RobustAccuracy().run(ctx)
    assert ROBUST_ACCURACY_BAR == 0.80
    assert figure is not None and figure.bar == ROBUST_ACCURACY_FLOOR
    assert status is Status.FAIL
    assert figure.value < 0.5
    assert "target 0.8 not met" in evidence


@pytest.mark.slow
def test_robust_accuracy_check_when_shipped_robust_model_then_passes_where_standard_fails() -> None:
    X, y = load_test_sample()
    ctx = CheckContext(
        {"adversarial_images": {"model": "robust", "images": X[::2], "labels": y[::2]}}
    )
    status, figure, _ = RobustAccuracy().run(ctx)
    assert status is Status.PASS
    assert figure is not None and figure.value >= ROBUST_ACCURACY_FLOOR


def test_load_eval_set_when_official_files_then_test_subset_else_shared_holdout(
    tmp_path: Path,
) -> None:
    labels = np.repeat(np.arange(10, dtype=np.uint8), 3)
    _write_idx(tmp_path, "t10k", np.zeros((30, 28, 28), dtype=np.uint8), labels)
    X, y, described = load_eval_set(tmp_path)
    assert X.shape == (30, 28, 28) and len(y) == 30 and described.startswith("official test split")
    shared = Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "fashion_mnist_subset"
    _, y, described = load_eval_set(shared)
    assert len(y) == 1000 and "held-out" in described

"""The product-image classifier: a small CNN on 28x28 grey images, weights in safetensors.

Inputs are float pixels in ``[0, 1]``, shape ``(n, 1, 28, 28)``. The network is two
convolution blocks and two dense layers (about 420k parameters), the "small CNN" of the
adversarial-training literature for MNIST-sized inputs. Weights are stored as safetensors
(no pickle, no code on load) with a JSON manifest of SHA-256 digests that :func:`load_classifier`
checks before it reads a tensor.

References
----------
Xiao, Rasul, Vollgraf, "Fashion-MNIST: a Novel Image Dataset for Benchmarking Machine Learning
Algorithms", arXiv:1708.07747, 2017.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray
from safetensors.torch import load_file, save_file
from torch import nn

from shopguard.core.errors import ModelError
from shopguard.store.images._meta import CLASSES, IMAGE_SHAPE

__all__ = [
    "CLASSES",
    "IMAGE_SHAPE",
    "REFERENCE_MODELS",
    "FloorMidStrideCNN",
    "FloorStrideCNN",
    "FloorWideStrideCNN",
    "ImageClassifier",
    "MidStrideCNN",
    "SmallCNN",
    "StrideCNN",
    "StrideCNNx2",
    "StrideCNNx3",
    "StrideEnsemble",
    "WideStrideCNN",
    "ensemble_of",
    "gradient_mode",
    "input_floor",
    "load_classifier",
    "reference_model_path",
    "save_classifier",
    "to_tensor",
]

_WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
#: Models shipped with shopguard: ``standard`` (clean training), ``robust`` (two PGD-2
#: adversarially trained runs at eps 0.1, weight average, logits averaged: :class:`StrideCNNx2`)
#: and ``robust02`` (PGD-3 at eps 0.2, eps ramp, weight average).
REFERENCE_MODELS: tuple[str, ...] = ("standard", "robust", "robust02")
_MANIFEST = "manifest.json"


class SmallCNN(nn.Module):
    """conv(32)-pool-conv(64)-pool-dense(128)-dense(10), ReLU activations; logits out."""

    def __init__(self, n_classes: int = len(CLASSES)) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(64 * 7 * 7, 128),
            nn.ReLU(),
        )
        self.head = nn.Linear(128, n_classes)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """The penultimate-layer features (what a feature-space detector measures)."""
        out: torch.Tensor = self.features(x)
        return out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.head(self.features(x))
        return out


class StrideCNN(nn.Module):
    """conv(32, 4x4, stride 2)-conv(64, 4x4, stride 2)-dense(256)-dense(10), ReLU; logits out.

    Strided convolutions instead of max-pooling: about twice as fast as :class:`SmallCNN` on a
    CPU, and fast adversarial training on it did not overfit catastrophically at eps 0.2 where
    the max-pooling network did (bench/results/adversarial_images.md).
    """

    widths: tuple[int, int, int] = (32, 64, 256)

    def __init__(self, n_classes: int = len(CLASSES)) -> None:
        super().__init__()
        c1, c2, hidden = self.widths
        self.features = nn.Sequential(
            nn.Conv2d(1, c1, 4, stride=2, padding=1),
            nn.ReLU(),
            nn.Conv2d(c1, c2, 4, stride=2, padding=1),
            nn.ReLU(),
            nn.Flatten(),
            nn.Linear(c2 * 7 * 7, hidden),
            nn.ReLU(),
        )
        self.head = nn.Linear(hidden, n_classes)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """The penultimate-layer features (what a feature-space detector measures)."""
        out: torch.Tensor = self.features(x)
        return out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.head(self.features(x))
        return out


class _StraightThroughFloor(torch.autograd.Function):
    """``relu(x - floor) / (1 - floor)`` forward; backward as if it were ``x / (1 - floor)``."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, floor: float) -> torch.Tensor:
        ctx.scale = 1.0 / (1.0 - floor)
        out: torch.Tensor = (x - floor).clamp(min=0.0) * ctx.scale
        return out

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, None]:
        return grad * ctx.scale, None


def input_floor(x: torch.Tensor, floor: float, *, straight_through: bool = True) -> torch.Tensor:
    """Pixels at or under ``floor`` become 0, the rest are rescaled to ``[0, 1]``.

    Exact in the forward pass. With ``straight_through`` (the default) the gradient is that of
    the linear map ``x / (1 - floor)`` everywhere (BPDA, Athalye et al. 2018): the flat region's
    true gradient is zero, which would hide from a gradient attacker that raising a dim pixel
    past the floor changes the output. ``straight_through=False`` gives the true gradient, for
    checking that attacks with it are no stronger.
    """
    if straight_through:
        out: torch.Tensor = _StraightThroughFloor.apply(x, floor)  # type: ignore[no-untyped-call]
        return out
    return (x - floor).clamp(min=0.0) / (1.0 - floor)


class FloorStrideCNN(StrideCNN):
    """:class:`StrideCNN` behind a fixed input floor: pixels at or under 0.1 read as black.

    Product photos here lie on a black background (Fashion-MNIST: about half the pixels are
    exactly 0). An L-inf attacker with budget ``eps <= floor`` can then change nothing on the
    background, where most of a plain network's adversarial patterns sit (faint sleeves, straps,
    soles): the network is exactly invariant there, not merely hard to attack by gradient. The
    floor costs the detail of pixels dimmer than 0.1. Gradients are straight-through
    (:func:`input_floor`), so every gradient attack in shopguard, ART's included, gets the
    informative BPDA gradient rather than the flat region's zero.
    """

    floor: float = 0.1
    straight_through: bool = True

    def _floored(self, x: torch.Tensor) -> torch.Tensor:
        return input_floor(x, self.floor, straight_through=self.straight_through)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """The penultimate-layer features of the floored input."""
        out: torch.Tensor = self.features(self._floored(x))
        return out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.head(self.features(self._floored(x)))
        return out


@contextmanager
def gradient_mode(net: nn.Module, *, straight_through: bool) -> Iterator[None]:
    """Within the block a floored network (:class:`FloorStrideCNN`) hands attackers the
    straight-through (``True``) or the true gradient; any other network is left as it is.
    The previous mode is restored on exit, also on error.
    """
    if not isinstance(net, FloorStrideCNN):
        yield
        return
    previous = net.straight_through
    net.straight_through = straight_through
    try:
        yield
    finally:
        net.straight_through = previous


class WideStrideCNN(StrideCNN):
    """:class:`StrideCNN` with twice the channels and units: conv(64)-conv(128)-dense(512)-dense(10)."""

    widths = (64, 128, 512)


class MidStrideCNN(StrideCNN):
    """:class:`StrideCNN` at 1.5 times the width: conv(48)-conv(96)-dense(384)-dense(10)."""

    widths = (48, 96, 384)


class FloorMidStrideCNN(FloorStrideCNN):
    """:class:`FloorStrideCNN` at the widths of :class:`MidStrideCNN`."""

    widths = MidStrideCNN.widths


class FloorWideStrideCNN(FloorStrideCNN):
    """:class:`FloorStrideCNN` at the widths of :class:`WideStrideCNN`."""

    widths = WideStrideCNN.widths


class StrideEnsemble(nn.Module):
    """The mean of the logits of :attr:`size` independently trained :class:`StrideCNN` members.

    Averaging adversarially trained networks trained from different seeds lowers the variance
    part of their robust error (each member's mistakes under attack are partly its own), the
    effect weight averaging has within one run (bench/results/adversarial_images.md). The mean
    is of logits, not of probabilities, so the ensemble stays one smooth differentiable network:
    a gradient attack on it is an attack on the average, with nothing masked. Members are kept
    as ``members.<i>.*`` tensors in one safetensors file.
    """

    size: int = 3
    member: type[StrideCNN] = StrideCNN

    def __init__(self, n_classes: int = len(CLASSES)) -> None:
        super().__init__()
        self.members = nn.ModuleList(self.member(n_classes) for _ in range(self.size))

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """The members' penultimate-layer features side by side."""
        nets: list[StrideCNN] = list(self.members)  # type: ignore[arg-type]
        return torch.cat([m.embed(x) for m in nets], dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = torch.stack([m(x) for m in self.members]).mean(dim=0)
        return out


class StrideCNNx2(StrideEnsemble):
    """Two :class:`StrideCNN` members (:class:`StrideEnsemble`)."""

    size = 2


class StrideCNNx3(StrideEnsemble):
    """Three :class:`StrideCNN` members (:class:`StrideEnsemble`)."""

    size = 3


#: The network classes a weights file may name (safetensors metadata and manifest ``arch``).
ARCHS: dict[str, type[SmallCNN] | type[StrideCNN] | type[StrideEnsemble]] = {
    "SmallCNN": SmallCNN,
    "StrideCNN": StrideCNN,
    "FloorStrideCNN": FloorStrideCNN,
    "FloorMidStrideCNN": FloorMidStrideCNN,
    "FloorWideStrideCNN": FloorWideStrideCNN,
    "MidStrideCNN": MidStrideCNN,
    "WideStrideCNN": WideStrideCNN,
    "StrideCNNx2": StrideCNNx2,
    "StrideCNNx3": StrideCNNx3,
}


@dataclass
class ImageClassifier:
    """A fitted classifier and what it was trained with.

    Attributes
    ----------
    net:
        The network (in eval mode).
    name:
        Model name (``standard``, ``robust`` or a user's).
    info:
        Training record: method, eps, epochs, wall time, data, seed.
    """

    net: SmallCNN | StrideCNN | StrideEnsemble
    name: str
    info: dict[str, Any] = field(default_factory=dict)

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """Logits of a float tensor ``(n, 1, 28, 28)`` in ``[0, 1]`` (keeps the graph)."""
        out: torch.Tensor = self.net(x)
        return out

    @torch.no_grad()
    def predict_proba(self, images: NDArray[Any], *, batch_size: int = 512) -> NDArray[np.float32]:
        """Class probabilities of ``images``: uint8 ``(n, 28, 28)`` or float in ``[0, 1]``."""
        x = to_tensor(images)
        self.net.eval()
        parts = [
            torch.softmax(self.net(x[i : i + batch_size]), dim=1)
            for i in range(0, len(x), batch_size)
        ]
        if not parts:
            return np.zeros((0, len(CLASSES)), dtype=np.float32)
        return torch.cat(parts).numpy().astype(np.float32)

    def predict(self, images: NDArray[Any]) -> NDArray[np.int64]:
        """The most probable class of each image."""
        return np.asarray(self.predict_proba(images).argmax(axis=1), dtype=np.int64)


def to_tensor(images: NDArray[Any] | torch.Tensor) -> torch.Tensor:
    """``(n, 28, 28)`` / ``(n, 1, 28, 28)`` uint8 or float in [0, 1] as a float tensor ``(n, 1, 28, 28)``."""
    if isinstance(images, torch.Tensor):
        x = images.float()
    else:
        arr = np.asarray(images)
        x = torch.from_numpy(
            arr.astype(np.float32) / 255.0 if arr.dtype == np.uint8 else arr.astype(np.float32)
        )
    if x.ndim == 3:
        x = x.unsqueeze(1)
    if x.ndim != 4 or tuple(x.shape[1:]) != (1, *IMAGE_SHAPE):
        raise ModelError(f"images must be (n, 28, 28); got {tuple(x.shape)}")
    return x


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def save_classifier(model: ImageClassifier, directory: str | Path) -> Path:
    """Write ``<name>.safetensors`` and record its SHA-256 and training info in the manifest."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{model.name}.safetensors"
    tensors = {k: v.detach().contiguous() for k, v in model.net.state_dict().items()}
    arch = type(model.net).__name__
    save_file(tensors, str(path), metadata={"name": model.name, "arch": arch})
    manifest_path = out / _MANIFEST
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    manifest[model.name] = {
        "file": path.name,
        "sha256": _digest(path),
        "info": {**model.info, "arch": arch},
    }
    manifest_path.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return path


def reference_model_path(name: str) -> Path:
    """Where a shipped model's weights are."""
    if name not in REFERENCE_MODELS:
        raise ModelError(f"unknown image model {name!r}; shipped: {', '.join(REFERENCE_MODELS)}")
    return _WEIGHTS_DIR / f"{name}.safetensors"


def load_classifier(name: str, directory: str | Path | None = None) -> ImageClassifier:
    """Load model ``name`` from ``directory`` (default: the shipped weights).

    The file's SHA-256 must match the manifest before any tensor is read.

    Raises
    ------
    ModelError
        Unknown model, missing file, or a digest that does not match (tampered weights).
    """
    base = Path(directory) if directory is not None else _WEIGHTS_DIR
    manifest_path = base / _MANIFEST
    try:
        manifest = json.loads(manifest_path.read_text())
        entry = manifest[name]
    except (OSError, ValueError, KeyError):
        raise ModelError(f"image model {name!r} is not in the manifest") from None
    path = base / str(entry["file"])
    try:
        actual = _digest(path)
    except OSError:
        raise ModelError(f"image model {name!r}: weights file missing") from None
    # SECURITY: compare_digest; a tampered file must not be loaded.
    if not hmac.compare_digest(actual, str(entry["sha256"])):
        raise ModelError(f"image model {name!r}: weights digest does not match the manifest")
    info = dict(entry.get("info", {}))
    arch = ARCHS.get(str(info.get("arch", "SmallCNN")))
    if arch is None:
        raise ModelError(f"image model {name!r}: unknown network in the manifest")
    net = arch()
    try:
        net.load_state_dict(load_file(str(path)))
    except (RuntimeError, ValueError, OSError):
        raise ModelError(f"image model {name!r}: weights do not fit the network") from None
    net.eval()
    return ImageClassifier(net=net, name=name, info=info)


def ensemble_of(members: list[ImageClassifier], name: str) -> ImageClassifier:
    """One :class:`StrideEnsemble` classifier from separately trained :class:`StrideCNN` ones.

    The training record keeps each member's; ``train_cpu_seconds`` is their sum (what the
    ensemble cost to train, whether the members ran one after another or side by side).

    Raises
    ------
    ModelError
        Not two or three members, or a member that is not a plain :class:`StrideCNN`.
    """
    sizes = {cls.size: cls for cls in (StrideCNNx2, StrideCNNx3)}
    if len(members) not in sizes:
        raise ModelError(f"an ensemble takes 2 or 3 members; got {len(members)}")
    if any(type(m.net) is not StrideCNN for m in members):
        raise ModelError("ensemble members must be StrideCNN networks")
    net = sizes[len(members)]()
    for slot, m in zip(net.members, members, strict=True):
        slot.load_state_dict(m.net.state_dict())
    net.eval()
    cpu = [m.info.get("train_cpu_seconds") for m in members]
    info: dict[str, Any] = {
        "members": [dict(m.info) for m in members],
        "method": "ensemble",
        "eps": members[0].info.get("eps"),
        "dataset": members[0].info.get("dataset"),
    }
    if all(isinstance(c, int | float) for c in cpu):
        info["train_cpu_seconds"] = round(sum(float(c) for c in cpu if c is not None), 1)
    return ImageClassifier(net=net, name=name, info=info)

"""Unusual-input detectors: per model, fitted on its training distribution, calibrated on clean data.

* :class:`TabularIsolationDetector` - an isolation forest over a request's numeric fields.
  scikit-learn fits it; scoring one row walks all trees at once over flat numpy arrays
  (:class:`CompiledForest`), tens of microseconds instead of scikit-learn's ~3 ms per call.
* :class:`ImageSqueezeDetector` - feature squeezing: how far the model's output moves when the
  image is squeezed (bit-depth reduction, median smoothing), together with how much
  high-frequency residual the image carries. L-inf attacks add dense small perturbations that
  squeezing removes, so adversarial images move further than clean ones.

Both follow the detector convention: ``fit(X) -> self``, ``risk_score(X)`` in ``[0, 1]`` (higher
is riskier), ``threshold_`` calibrated in ``fit`` at a target false-positive rate on held-out
clean inputs, ``flag(X)``.

References
----------
Liu, Ting, Zhou, "Isolation Forest", ICDM 2008.
Xu, Evans, Qi, "Feature Squeezing: Detecting Adversarial Examples in Deep Neural Networks",
NDSS 2018. https://arxiv.org/abs/1704.01155
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Self

import numpy as np
from numpy.typing import NDArray
from sklearn.ensemble import IsolationForest

from shopguard.core.errors import ConfigError, ModelError
from shopguard.core.registry import Registry

if TYPE_CHECKING:
    import torch

    from shopguard.store.images import ImageClassifier

__all__ = [
    "CompiledForest",
    "ImageSqueezeDetector",
    "TabularIsolationDetector",
    "detectors",
]

FloatArray = NDArray[np.float64]


class _Detector:
    name: ClassVar[str]


detectors: Registry[Any] = Registry("detector")


def _average_path_length(n: FloatArray) -> FloatArray:
    """c(n) of Liu et al.: the mean path length of an unsuccessful BST search over n points."""
    n = np.asarray(n, dtype=np.float64)
    out = np.zeros_like(n)
    big = n > 2
    out[n == 2] = 1.0
    out[big] = 2.0 * (np.log(n[big] - 1.0) + np.euler_gamma) - 2.0 * (n[big] - 1.0) / n[big]
    return out


class CompiledForest:
    """A fitted :class:`~sklearn.ensemble.IsolationForest` as flat arrays, all trees walked at once.

    Every tree's nodes are concatenated; a leaf points to itself, so ``depth`` rounds of
    gather-compare-select take every tree from its root to its leaf. Scores equal
    ``IsolationForest.score_samples`` (the test pins it).
    """

    def __init__(self, forest: IsolationForest) -> None:
        feats, thr, left, right, leaf_len, roots = [], [], [], [], [], []
        offset = 0
        depth = 0
        for est, cols in zip(forest.estimators_, forest.estimators_features_, strict=True):
            t = est.tree_
            n = t.node_count
            is_leaf = t.children_left == -1
            idx = np.arange(n)
            f = np.where(is_leaf, 0, np.asarray(cols)[np.maximum(t.feature, 0)])
            feats.append(f)
            thr.append(np.where(is_leaf, np.inf, t.threshold))
            left.append(np.where(is_leaf, idx, t.children_left) + offset)
            right.append(np.where(is_leaf, idx, t.children_right) + offset)
            node_depth = np.zeros(n, dtype=np.float64)
            for parent in range(n):
                if not is_leaf[parent]:
                    node_depth[t.children_left[parent]] = node_depth[parent] + 1
                    node_depth[t.children_right[parent]] = node_depth[parent] + 1
            leaf_len.append(node_depth + _average_path_length(t.n_node_samples.astype(np.float64)))
            roots.append(offset)
            offset += n
            depth = max(depth, int(t.max_depth))
        self.feature = np.concatenate(feats).astype(np.intp)
        self.threshold = np.concatenate(thr).astype(np.float64)
        self.left = np.concatenate(left).astype(np.intp)
        self.right = np.concatenate(right).astype(np.intp)
        self.leaf_length = np.concatenate(leaf_len)
        self.roots = np.asarray(roots, dtype=np.intp)
        self.depth = depth
        self.norm = float(_average_path_length(np.array([float(forest.max_samples_)]))[0])

    def score_samples(self, X: FloatArray) -> FloatArray:
        """Like ``IsolationForest.score_samples``: minus the anomaly score (lower = more abnormal)."""
        X = np.asarray(X, dtype=np.float64)
        if X.ndim == 1:
            X = X[None, :]
        nodes = np.broadcast_to(self.roots, (X.shape[0], self.roots.size)).copy()
        rows = np.arange(X.shape[0])[:, None]
        for _ in range(self.depth):
            go_left = X[rows, self.feature[nodes]] <= self.threshold[nodes]
            nodes = np.where(go_left, self.left[nodes], self.right[nodes])
        mean_len = self.leaf_length[nodes].mean(axis=1)
        return np.asarray(-np.power(2.0, -mean_len / self.norm), dtype=np.float64)


def _calibrated_threshold(scores: FloatArray, target_fpr: float) -> float:
    # Flag strictly above the (1 - fpr) quantile of clean scores.
    return float(np.quantile(scores, 1.0 - target_fpr, method="higher"))


@detectors.register
class TabularIsolationDetector(_Detector):
    """Isolation forest over numeric request fields; risk is the forest's anomaly score.

    Parameters
    ----------
    n_estimators, max_samples:
        Forest size (Liu et al.'s defaults: 100 trees of 256 samples).
    target_fpr:
        Share of held-out clean rows the calibrated threshold flags.
    calibration_fraction:
        Share of ``X`` kept out of the forest to calibrate the threshold.
    random_state:
        Seed of the forest and the split.
    """

    name = "adversarial.tabular_isolation"

    def __init__(
        self,
        *,
        n_estimators: int = 100,
        max_samples: int = 256,
        target_fpr: float = 0.02,
        calibration_fraction: float = 0.3,
        random_state: int = 0,
    ) -> None:
        self.n_estimators = n_estimators
        self.max_samples = max_samples
        self.target_fpr = target_fpr
        self.calibration_fraction = calibration_fraction
        self.random_state = random_state

    def fit(self, X: FloatArray, y: Any = None) -> Self:
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or len(X) < 20:
            raise ConfigError("the detector needs a 2-d array of at least 20 clean rows")
        if not 0.0 < self.target_fpr < 0.5:
            raise ConfigError("target_fpr must be in (0, 0.5)")
        rng = np.random.default_rng(self.random_state)
        order = rng.permutation(len(X))
        n_cal = max(10, int(len(X) * self.calibration_fraction))
        cal, train = X[order[:n_cal]], X[order[n_cal:]]
        self.forest_ = IsolationForest(
            n_estimators=self.n_estimators,
            max_samples=min(self.max_samples, len(train)),
            random_state=self.random_state,
        ).fit(train)
        self.compiled_ = CompiledForest(self.forest_)
        self.n_features_in_ = X.shape[1]
        self.threshold_ = _calibrated_threshold(self.risk_score(cal), self.target_fpr)
        return self

    def risk_score(self, X: FloatArray) -> FloatArray:
        """Anomaly score in [0, 1] (0.5 is ordinary; near 1 isolates in few splits)."""
        compiled = getattr(self, "compiled_", None)
        if compiled is None:
            raise ModelError("detector is not fitted")
        X = np.asarray(X, dtype=np.float64)
        if X.ndim == 1:
            X = X[None, :]
        if X.shape[1] != self.n_features_in_:
            raise ModelError(f"expected {self.n_features_in_} features, got {X.shape[1]}")
        scores: FloatArray = -compiled.score_samples(X)
        return scores

    def flag(self, X: FloatArray) -> NDArray[np.bool_]:
        return np.asarray(self.risk_score(X) > self.threshold_)


@dataclass(frozen=True)
class _Squeezers:
    bits: int
    median: int


@detectors.register
class ImageSqueezeDetector(_Detector):
    """Feature squeezing plus a residual statistic, each ranked against clean images.

    For image ``x`` with model probabilities ``p(x)`` the raw scores are
    ``|p(x) - p(bitdepth(x))|_1``, ``|p(x) - p(median(x))|_1`` and the background residual: among
    the pixels that the median-squeezed image shows as dark background (``<= background_level``),
    the share that is lit in ``x`` itself. Product photos on a plain background keep it near 0;
    dense L-inf noise lights about half the background. Each is turned into its empirical rank among clean fitting images, and
    the risk is the largest rank: an image is as unusual as its most unusual statistic.

    Parameters
    ----------
    model:
        The classifier it guards (the squeezing scores are the model's output changes).
    bits:
        Bit depth of the squeezed image (Xu et al. use 1 for MNIST; Fashion-MNIST needs more grey).
    median:
        Median filter size.
    background_level:
        Grey level (in [0, 1]) at or under which a squeezed pixel counts as background.
    target_fpr:
        Share of held-out clean images the calibrated threshold flags.

    Warnings
    --------
    The background statistic catches dense L-inf noise, not an attacker who knows it and leaves
    the background dark, or lights it only up to the calibrated threshold
    (:mod:`shopguard.adversarial.adaptive`; measured with ``bench/adversarial_images.py
    --adaptive-background``: at eps 0.1 such an attacker fools the guarded model as often as
    plain PGD fools the bare one). The detector is a tripwire that adds refusals; robustness
    comes from the adversarially trained model it sits in front of.
    """

    name = "adversarial.image_squeeze"

    def __init__(
        self,
        *,
        model: ImageClassifier,
        bits: int = 3,
        median: int = 3,
        background_level: float = 0.05,
        target_fpr: float = 0.02,
        calibration_fraction: float = 0.5,
        random_state: int = 0,
    ) -> None:
        self.model = model
        self.bits = bits
        self.median = median
        self.background_level = background_level
        self.target_fpr = target_fpr
        self.calibration_fraction = calibration_fraction
        self.random_state = random_state

    def raw_scores(self, x: torch.Tensor) -> torch.Tensor:
        """``(n, 3)`` raw statistics of float images ``(n, 1, 28, 28)``; differentiable in ``x``."""
        import torch

        levels = float(2**self.bits - 1)
        # Straight-through rounding: the value of the squeezed image, the gradient of identity
        # (so adaptive attacks can differentiate through the detector; Athalye et al. 2018 BPDA).
        squeezed_bits = x + (torch.round(x * levels) / levels - x).detach()
        med = _median_filter(x, self.median)
        p = torch.softmax(self.model.net(x), dim=1)
        p_bits = torch.softmax(self.model.net(squeezed_bits), dim=1)
        p_med = torch.softmax(self.model.net(med), dim=1)
        # Background residual: among pixels the median filter calls background, the share that
        # is not dark. Hard count in value, a steep sigmoid's gradient (straight-through).
        level = self.background_level
        background = (med <= level).detach().float()
        hard = (x > level / 2).float()
        soft = torch.sigmoid((x - level / 2) * 200.0)
        lit = soft + (hard - soft).detach()
        residual = (lit * background).sum(dim=(1, 2, 3)) / background.sum(dim=(1, 2, 3)).clamp(
            min=1.0
        )
        return torch.stack(
            [(p - p_bits).abs().sum(dim=1), (p - p_med).abs().sum(dim=1), residual], dim=1
        )

    def _raw(self, images: NDArray[Any] | torch.Tensor) -> FloatArray:
        import torch

        from shopguard.store.images import to_tensor

        x = to_tensor(images)
        self.model.net.eval()
        with torch.no_grad():
            parts = [self.raw_scores(x[i : i + 500]).numpy() for i in range(0, len(x), 500)]
        return np.concatenate(parts).astype(np.float64) if parts else np.zeros((0, 3))

    def fit(self, X: NDArray[Any], y: Any = None) -> Self:
        raw = self._raw(X)
        if len(raw) < 20:
            raise ConfigError("the detector needs at least 20 clean images")
        rng = np.random.default_rng(self.random_state)
        order = rng.permutation(len(raw))
        n_cal = max(10, int(len(raw) * self.calibration_fraction))
        cal, ref = raw[order[:n_cal]], raw[order[n_cal:]]
        self.reference_ = np.sort(ref, axis=0)
        self.threshold_ = _calibrated_threshold(self._rank(cal), self.target_fpr)
        return self

    def _rank(self, raw: FloatArray) -> FloatArray:
        ref = self.reference_
        ranks = np.stack(
            [np.searchsorted(ref[:, j], raw[:, j], side="right") for j in range(ref.shape[1])],
            axis=1,
        ) / (len(ref) + 1.0)
        # Beyond the largest clean value, keep growing with distance (so the top is not flat).
        top = ref[-1]
        spread = np.maximum(ref[-1] - ref[0], 1e-12)
        excess = np.clip((raw - top) / spread, 0.0, None)
        return np.asarray(
            np.clip(ranks + (1.0 - ranks) * (1.0 - np.exp(-excess)), 0.0, 1.0).max(axis=1),
            dtype=np.float64,
        )

    def to_json(self) -> dict[str, Any]:
        """The fitted calibration (the model is stored separately)."""
        return {
            "bits": self.bits,
            "median": self.median,
            "background_level": self.background_level,
            "target_fpr": self.target_fpr,
            "threshold": self.threshold_,
            "reference": self.reference_.tolist(),
        }

    @classmethod
    def from_json(cls, model: ImageClassifier, data: dict[str, Any]) -> ImageSqueezeDetector:
        """A fitted detector from :meth:`to_json` output, guarding ``model``."""
        try:
            det = cls(
                model=model,
                bits=int(data["bits"]),
                median=int(data["median"]),
                background_level=float(data["background_level"]),
                target_fpr=float(data["target_fpr"]),
            )
            det.reference_ = np.asarray(data["reference"], dtype=np.float64)
            det.threshold_ = float(data["threshold"])
        except (KeyError, TypeError, ValueError):
            raise ModelError("image detector calibration is malformed") from None
        if det.reference_.ndim != 2 or det.reference_.shape[1] != 3:
            raise ModelError("image detector calibration is malformed")
        return det

    def risk_score(self, X: NDArray[Any] | torch.Tensor) -> FloatArray:
        if getattr(self, "reference_", None) is None:
            raise ModelError("detector is not fitted")
        return self._rank(self._raw(X))

    def flag(self, X: NDArray[Any] | torch.Tensor) -> NDArray[np.bool_]:
        return np.asarray(self.risk_score(X) > self.threshold_)


def _median_filter(x: torch.Tensor, size: int) -> torch.Tensor:
    import torch

    pad = size // 2
    padded = torch.nn.functional.pad(x, (pad, size - 1 - pad, pad, size - 1 - pad), mode="reflect")
    patches = padded.unfold(2, size, 1).unfold(3, size, 1)
    return patches.reshape(*patches.shape[:4], -1).median(dim=-1).values

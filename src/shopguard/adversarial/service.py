"""What the gateway needs at run time: the served image model, its detector, and per-tenant fraud detectors.

Everything is loaded lazily (torch only on the first image request) and cached; the client
pattern of flagged requests feeds the alert bus.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from shopguard.adversarial.detectors import ImageSqueezeDetector, TabularIsolationDetector
from shopguard.adversarial.fraud_fields import request_matrix
from shopguard.core.errors import ModelError
from shopguard.core.events import Alert, EventBus, Severity
from shopguard.store.images import UploadLimits

if TYPE_CHECKING:
    from shopguard.modelsec.vault import ModelVault
    from shopguard.store.images import ImageClassifier

__all__ = [
    "AdversarialService",
    "image_detector_path",
    "load_image_detector",
    "save_image_detector",
]

logger = logging.getLogger(__name__)

_DETECTOR_SUFFIX = ".detector.json"


def image_detector_path(model_name: str, directory: Path | None = None) -> Path:
    """Where the calibrated detector of a shipped (or ``directory``'s) image model is stored."""
    from shopguard.store.images import reference_model_path

    if directory is not None:
        return Path(directory) / f"{model_name}{_DETECTOR_SUFFIX}"
    return reference_model_path(model_name).with_name(f"{model_name}{_DETECTOR_SUFFIX}")


def save_image_detector(detector: ImageSqueezeDetector, path: Path) -> None:
    path.write_text(json.dumps(detector.to_json()) + "\n")


def load_image_detector(model: ImageClassifier, path: Path) -> ImageSqueezeDetector:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        raise ModelError(f"no detector calibration for image model {model.name}") from None
    return ImageSqueezeDetector.from_json(model, data)


@dataclass
class AdversarialService:
    """Run-time state of the adversarial defences behind the gateway.

    Parameters
    ----------
    image_model_name:
        The served image model (a shipped one: ``standard``, ``robust``, ``robust02``).
    refuse:
        Refuse flagged requests (422) instead of only flagging and logging them.
    routes:
        The route ids the guard scores (``images.classify``, ``fraud.score``).
    alert_after, alert_window_s:
        A principal with this many flagged requests within the window raises an alert.
    limits:
        What an upload may be.
    weights_dir:
        Directory of the image weights and detector calibration (default: the shipped ones).
    vault:
        The model vault. When it holds an ``images`` version (``store_reference_models``,
        ``shopguard models import-store``), the model and its detector calibration are read
        from the vault's production (else latest) version, after its signature, ciphertext
        and file digests verify; a version that does not verify is refused, with no fallback to
        the files on disk. Without one, ``weights_dir`` (or the shipped files) serves.
    """

    image_model_name: str = "robust"
    refuse: bool = False
    routes: frozenset[str] = frozenset({"images.classify", "fraud.score"})
    alert_after: int = 5
    alert_window_s: float = 60.0
    limits: UploadLimits = field(default_factory=UploadLimits)
    weights_dir: Path | None = None
    vault: ModelVault | None = None
    bus: EventBus | None = None
    clock: Callable[[], float] = time.monotonic

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._model: ImageClassifier | None = None
        self._image_detector: ImageSqueezeDetector | None = None
        #: Where the image model was read from: ``vault`` or ``files`` (None until loaded).
        self.source: str | None = None
        self._fraud: dict[str, TabularIsolationDetector] = {}
        self._flags: dict[str, deque[float]] = defaultdict(deque)

    # -- images -------------------------------------------------------------------
    def _load_images(self) -> ImageClassifier:
        """Load the served model (and, from the vault, its detector calibration with it)."""
        from shopguard.store.images import load_classifier

        if self.vault is not None:
            from shopguard.modelsec.vault import GATEWAY_READER, IMAGES_MODEL

            if self.vault.list(who=GATEWAY_READER, name=IMAGES_MODEL):
                # SECURITY: fail closed - a vaulted version that does not verify raises here,
                # and the files on disk are not tried instead.
                with self.vault.materialised(IMAGES_MODEL, who=GATEWAY_READER) as directory:
                    model = load_classifier(self.image_model_name, directory)
                    detector_path = image_detector_path(model.name, directory)
                    if detector_path.is_file():
                        self._image_detector = load_image_detector(model, detector_path)
                self.source = "vault"
                return model
        self.source = "files"
        return load_classifier(self.image_model_name, self.weights_dir)

    def image_model(self) -> ImageClassifier:
        with self._lock:
            if self._model is None:
                self._model = self._load_images()
            return self._model

    def image_detector(self) -> ImageSqueezeDetector:
        model = self.image_model()
        with self._lock:
            if self._image_detector is None:
                if self.source == "vault":
                    raise ModelError(f"no detector calibration for image model {model.name}")
                path = image_detector_path(model.name, self.weights_dir)
                self._image_detector = load_image_detector(model, path)
            return self._image_detector

    def classify(self, pixels: NDArray[np.uint8]) -> tuple[int, float]:
        """(class index, probability) of one 28x28 image."""
        proba = self.image_model().predict_proba(pixels[None])[0]
        label = int(proba.argmax())
        return label, float(proba[label])

    def image_risk(self, pixels: NDArray[np.uint8]) -> tuple[float, bool]:
        det = self.image_detector()
        score = float(det.risk_score(pixels[None])[0])
        return score, score > det.threshold_

    # -- fraud --------------------------------------------------------------------
    def fraud_detector(
        self, tenant: str, transactions: Callable[[], pd.DataFrame]
    ) -> TabularIsolationDetector:
        """The tenant's detector, fitted on first use on its legitimate transactions."""
        with self._lock:
            det = self._fraud.get(tenant)
        if det is not None:
            return det
        frame = transactions()
        if "TX_FRAUD" in frame.columns:
            frame = frame[frame["TX_FRAUD"].to_numpy() == 0]
        fitted = TabularIsolationDetector(random_state=0).fit(request_matrix(frame))
        with self._lock:
            return self._fraud.setdefault(tenant, fitted)

    def set_fraud_detector(self, tenant: str, detector: TabularIsolationDetector) -> None:
        with self._lock:
            self._fraud[tenant] = detector

    # -- client pattern -------------------------------------------------------------
    def observe_flag(self, principal: str, route: str, score: float) -> bool:
        """Record a flagged request; True (and an alert) when the principal crosses the rate."""
        now = self.clock()
        with self._lock:
            hits = self._flags[principal]
            hits.append(now)
            while hits and hits[0] < now - self.alert_window_s:
                hits.popleft()
            crossed = len(hits) == self.alert_after
        if crossed and self.bus is not None:
            self.bus.publish(
                Alert(
                    topic="adversarial.unusual_input",
                    severity=Severity.HIGH,
                    source="adversarial.unusual_input",
                    summary=f"{self.alert_after} unusual inputs within {self.alert_window_s:g}s from one client",
                    details={"principal": principal, "route": route, "last_score": round(score, 4)},
                )
            )
        return crossed

    def describe(self) -> dict[str, Any]:
        return {
            "image_model": self.image_model_name,
            "image_source": self.source,
            "refuse": self.refuse,
            "routes": sorted(self.routes),
        }

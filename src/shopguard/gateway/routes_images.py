"""HTTP routes of the adversarial capability: ``POST /v1/images/classify``.

:func:`install_adversarial` is the one hook ``gateway/app.py`` calls; it attaches the
:class:`~shopguard.adversarial.service.AdversarialService` and adds the route through
:func:`~shopguard.gateway.app.add_guarded_route` (policy ``images.classify``, scope
``images:classify``). The body is the raw image (``Content-Type: image/png`` or
``image/jpeg``); it is validated before any pixel is decoded (:func:`validate_upload`).
"""

from __future__ import annotations

from fastapi import Body, FastAPI, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

import shopguard.adversarial.guard  # noqa: F401 - registers the guard before the pipeline is built
from shopguard.adversarial.service import AdversarialService
from shopguard.core.settings import Settings
from shopguard.modelsec.vault import ModelVault
from shopguard.store.images import CLASSES, UploadLimits, validate_upload

__all__ = ["IMAGE_SCOPE", "ImageClassOut", "install_adversarial"]

IMAGE_SCOPE = "images:classify"


class ImageClassOut(BaseModel):
    label: int = Field(ge=0, le=len(CLASSES) - 1)
    class_name: str
    confidence: float = Field(ge=0.0, le=1.0)
    model: str


def install_adversarial(app: FastAPI, settings: Settings) -> None:
    """Attach the adversarial service to ``app`` and serve the image classifier."""
    from shopguard.gateway.app import add_guarded_route

    svc = AdversarialService(
        image_model_name=settings.images_model,
        vault=ModelVault(app.state.runtime),
        refuse=settings.adversarial_refuse,
        routes=frozenset(settings.adversarial_routes),
        limits=UploadLimits(max_bytes=settings.images_max_upload_bytes),
        bus=app.state.runtime.bus,
    )
    app.state.adversarial = svc

    async def classify_image(
        request: Request,
        image: bytes = Body(
            ...,
            media_type="image/png",
            description="A PNG or JPEG product image (grey, 28x28 best).",
        ),
    ) -> ImageClassOut:
        validated = validate_upload(
            image, content_type=request.headers.get("content-type"), limits=svc.limits
        )
        label, confidence = await run_in_threadpool(svc.classify, validated.pixels)
        pixels = validated.pixels
        app.state.model_feed.observe(
            "images",
            {"pixel_mean": float(pixels.mean()), "pixel_std": float(pixels.std())},
            float(confidence),
        )
        return ImageClassOut(
            label=label,
            class_name=CLASSES[label],
            confidence=round(confidence, 6),
            model=svc.image_model_name,
        )

    add_guarded_route(
        app,
        "/v1/images/classify",
        classify_image,
        policy_id="images.classify",
        scopes=[IMAGE_SCOPE],
        methods=["POST"],
        tags=["images"],
        response_model=ImageClassOut,
    )

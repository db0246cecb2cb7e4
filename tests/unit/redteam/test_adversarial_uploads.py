"""The live unusual-input check: PGD uploads within eps, and its verdict on what the route answers.

The deployment is stood in for by an httpx mock transport whose answers come from the real
image detector (``AdversarialService.image_risk``), so the check's PGD images meet the same
detector the gateway guard runs; ``tests/integration/test_guard_toggles.py`` runs the check
against the real gateway with the guard on and off.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import numpy as np
import pytest
import torch

from shopguard.adversarial.demo import guard_images
from shopguard.adversarial.service import AdversarialService
from shopguard.core.scorecard import CheckContext, Status
from shopguard.core.settings import Settings
from shopguard.redteam.adversarial import (
    EPS,
    REFUSED_BAR,
    AttackedUploadsRefused,
    attacked_pixels,
    png,
)
from shopguard.store.images import load_classifier, validate_upload
from shopguard.store.images.images_train import load_test_sample

Handler = Callable[[httpx.Request], httpx.Response]


@pytest.fixture(autouse=True)
def one_thread() -> Any:
    """Small CNNs on a shared machine: one torch thread is many times faster than two."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def service() -> AdversarialService:
    svc = AdversarialService(image_model_name="robust")
    svc.image_detector()  # load once for the module
    return svc


def _answer(svc: AdversarialService, *, refuse: bool, served_as: str = "robust") -> Handler:
    """The image route as the gateway answers it: refused (422) when the detector flags the
    upload and ``refuse`` is on, else classified."""

    def handler(request: httpx.Request) -> httpx.Response:
        image = validate_upload(request.content, content_type=request.headers["content-type"])
        _, flagged = svc.image_risk(image.pixels)
        if flagged and refuse:
            return httpx.Response(422, json={"title": "Unusual input refused", "status": 422})
        label, conf = svc.classify(image.pixels)
        body = {"label": label, "class_name": "x", "confidence": conf, "model": served_as}
        return httpx.Response(200, json=body)

    return handler


def _run(monkeypatch: pytest.MonkeyPatch, handler: Handler) -> Any:
    real_init = httpx.Client.__init__

    def init(self: httpx.Client, *args: Any, **kw: Any) -> None:
        kw["transport"] = httpx.MockTransport(handler)  # in place of the patient one
        real_init(self, *args, **kw)

    monkeypatch.setattr(httpx.Client, "__init__", init)
    ctx = CheckContext({"base_url": "http://deployment.test", "api_keys": {"full": "k"}})
    return AttackedUploadsRefused().result(ctx)


def test_attacked_pixels_when_crafted_then_within_eps_and_flagged_by_the_detector(
    service: AdversarialService,
) -> None:
    X, y = load_test_sample()
    X, y = X[::10], y[::10]
    model = load_classifier("robust")
    adv = attacked_pixels(model, X, y)
    assert adv.dtype == np.uint8 and adv.shape == X.shape
    diff = np.abs(adv.astype(int) - X.astype(int))
    assert diff.max() <= EPS * 255 and diff.mean() > 5  # dense, within the ball
    # PNG round trip keeps them exact; the detector flags them and not the originals.
    back = np.stack([validate_upload(png(a), content_type="image/png").pixels for a in adv])
    assert np.array_equal(back, adv)
    det = service.image_detector()
    assert det.flag(adv).mean() >= REFUSED_BAR
    assert det.flag(X).mean() == 0.0


def test_check_when_route_refuses_flagged_uploads_then_pass(
    monkeypatch: pytest.MonkeyPatch, service: AdversarialService
) -> None:
    res = _run(monkeypatch, _answer(service, refuse=True))
    assert res.status is Status.PASS, res.evidence
    assert res.figure.value >= REFUSED_BAR
    assert "white box against the served model 'robust'" in res.evidence


def test_check_when_route_only_flags_then_fail_with_no_refusals(
    monkeypatch: pytest.MonkeyPatch, service: AdversarialService
) -> None:
    # The same detector, flag-and-log only: every attacked upload is answered.
    res = _run(monkeypatch, _answer(service, refuse=False))
    assert res.status is Status.FAIL
    assert res.figure.value == 0.0


def test_check_when_route_refuses_clean_images_too_then_fail(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refuse_all(request: httpx.Request) -> httpx.Response:
        return httpx.Response(422, json={"title": "Unusual input refused"})

    res = _run(monkeypatch, refuse_all)
    assert res.status is Status.FAIL
    assert res.figure.value == 1.0 and "0.00 served" in res.evidence


def test_check_when_served_model_not_shipped_then_transfer_attack_said_so(
    monkeypatch: pytest.MonkeyPatch, service: AdversarialService
) -> None:
    res = _run(monkeypatch, _answer(service, refuse=True, served_as="their_own_cnn"))
    assert res.status is Status.PASS, res.evidence
    assert "transfer from 'robust'" in res.evidence


@pytest.mark.parametrize(
    ("code", "status"), [(403, Status.SKIPPED), (404, Status.SKIPPED), (500, Status.ERROR)]
)
def test_check_when_route_unavailable_then_skipped_or_error_never_pass(
    monkeypatch: pytest.MonkeyPatch, code: int, status: Status
) -> None:
    res = _run(monkeypatch, lambda _r: httpx.Response(code, json={"title": "no"}))
    assert res.status is status
    assert res.figure is None


def test_demo_config_when_guarded_then_image_route_refused_in_stage_order() -> None:
    # As the demo has it after turning the extraction guards on (an OUTPUT guard last).
    pre = list(Settings().gateway_guards)  # authn .. rate_limit
    s = Settings(gateway_guards=[*pre, "extraction_watch", "extraction_degrade"])
    g = guard_images(s)
    assert g.gateway_guards == [
        *pre,
        "extraction_watch",
        "adversarial.unusual_input",
        "extraction_degrade",
    ]
    assert g.adversarial_refuse is True
    assert g.adversarial_routes == ["images.classify"]
    assert guard_images(g).gateway_guards == g.gateway_guards  # idempotent

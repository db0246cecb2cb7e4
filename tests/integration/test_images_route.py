"""POST /v1/images/classify through the gateway: validation before decoding, the unusual-input guard."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from shopguard.core.events import Alert
from shopguard.store.images.images_train import holdout_split, load_fashion_subset
from tests.integration.conftest import Gateway, make_settings

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "fashion_mnist_subset"
GUARDS = ["authn", "authz", "rate_limit", "adversarial.unusual_input"]
TX = {
    "transaction_id": "T-adv-1",
    "customer_id": "C000001",
    "terminal_id": "T000001",
    "amount": 42.5,
    "timestamp": "2024-05-01T12:00:00Z",
}
#: A payment far outside the tenant's history (the isolation forest flags it).
ODD_TX = {
    **TX,
    "amount": 999_999.0,
    "timestamp": "2024-05-01T03:17:00Z",
    "device_is_new": True,
    "ship_bill_mismatch": True,
    "ip_country_mismatch": True,
    "account_age_days": 0,
}


def _png(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG")
    return buf.getvalue()


@pytest.fixture(scope="module")
def held_out() -> tuple[np.ndarray, np.ndarray]:
    X, y = load_fashion_subset(DATA)
    _, test = holdout_split(y)
    return X[test[::50]], y[test[::50]]


def _noisy(img: np.ndarray, seed: int = 0) -> np.ndarray:
    """Dense L-inf noise at eps 0.1 (what PGD leaves on the background), clipped to pixels."""
    noise = np.random.default_rng(seed).choice([-25, 25], img.shape)
    return np.clip(img.astype(int) + noise, 0, 255).astype(np.uint8)


@pytest.fixture
def image_gateway(gateway_home: Path):
    gw = Gateway(
        make_settings(
            gateway_home, images_model="standard", gateway_guards=GUARDS, adversarial_refuse=True
        )
    )
    yield gw
    gw.close()


def test_classify_when_clean_product_images_then_mostly_right_class(
    gateway: Gateway, held_out
) -> None:
    X, y = held_out
    key = {"X-API-Key": gateway.key("images:classify")}
    right = 0
    with gateway.client() as c:
        for img, label in zip(X, y, strict=True):
            r = c.post(
                "/v1/images/classify",
                content=_png(img),
                headers={**key, "content-type": "image/png"},
            )
            assert r.status_code == 200, r.text
            body = r.json()
            assert set(body) == {"label", "class_name", "confidence", "model"}
            right += body["label"] == int(label)
    assert right >= 0.7 * len(y)


@pytest.mark.parametrize(
    ("content", "ctype", "status"),
    [
        (b"", "image/png", 422),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 30, "image/png", 422),
        (b"GIF89a" + b"\x00" * 30, "image/gif", 415),
        (b'{"image": "x"}', "application/json", 422),
    ],
)
def test_classify_when_malformed_upload_then_4xx_problem_json(
    gateway: Gateway, content, ctype, status
) -> None:
    key = {"X-API-Key": gateway.key("images:classify")}
    with gateway.client() as c:
        r = c.post("/v1/images/classify", content=content, headers={**key, "content-type": ctype})
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")


def test_classify_when_mislabelled_or_oversized_then_415_413(gateway: Gateway, held_out) -> None:
    key = {"X-API-Key": gateway.key("images:classify")}
    png = _png(held_out[0][0])
    big = Image.new("L", (2000, 2000))
    buf = io.BytesIO()
    big.save(buf, format="PNG")
    with gateway.client() as c:
        assert (
            c.post(
                "/v1/images/classify", content=png, headers={**key, "content-type": "image/jpeg"}
            ).status_code
            == 415
        )
        r = c.post(
            "/v1/images/classify",
            content=buf.getvalue(),
            headers={**key, "content-type": "image/png"},
        )
    assert r.status_code == 413 and "pixels" in r.json()["detail"]


def test_classify_when_no_key_or_wrong_scope_then_401_403_before_any_decoding(
    gateway: Gateway,
) -> None:
    with gateway.client() as c:
        assert (
            c.post(
                "/v1/images/classify", content=b"x", headers={"content-type": "image/png"}
            ).status_code
            == 401
        )
        weak = {"X-API-Key": gateway.key("fraud:score"), "content-type": "image/png"}
        assert c.post("/v1/images/classify", content=b"x", headers=weak).status_code == 403


def test_guard_when_adversarial_noise_then_without_guard_served_with_guard_refused_and_alerted(
    gateway: Gateway, image_gateway: Gateway, held_out
) -> None:
    X, _ = held_out
    attacked = [_png(_noisy(img, seed=i)) for i, img in enumerate(X[:6])]
    # Without the guard every attacked upload reaches the model.
    key = {"X-API-Key": gateway.key("images:classify"), "content-type": "image/png"}
    with gateway.client() as c:
        assert all(
            c.post("/v1/images/classify", content=b, headers=key).status_code == 200
            for b in attacked
        )
    # With it they are refused, clean ones still served, and the client's pattern raises an alert.
    alerts: list[Alert] = []
    image_gateway.runtime.bus.subscribe("adversarial.unusual_input", alerts.append)
    key2 = {"X-API-Key": image_gateway.key("images:classify"), "content-type": "image/png"}
    with image_gateway.client() as c:
        codes = [
            c.post("/v1/images/classify", content=b, headers=key2).status_code for b in attacked
        ]
        clean = c.post("/v1/images/classify", content=_png(X[7]), headers=key2)
    assert codes == [422] * len(attacked)
    assert clean.status_code == 200
    assert any(a.topic == "adversarial.unusual_input" for a in alerts)
    audit = [json.dumps(r.to_json()) for r in image_gateway.runtime.audit.records()]
    assert sum("adversarial.unusual_input" in e for e in audit) >= len(attacked)


def test_guard_when_fraud_request_far_outside_then_flagged_and_refused(
    image_gateway: Gateway,
) -> None:
    key = {"X-API-Key": image_gateway.key("fraud:score")}
    odd = {**ODD_TX, "transaction_id": "T-adv-2"}
    with image_gateway.client() as c:
        ok = c.post("/v1/fraud/score", json=TX, headers=key)
        bad = c.post("/v1/fraud/score", json=odd, headers=key)
    assert ok.status_code == 200, ok.text
    assert bad.status_code == 422 and bad.json()["title"] == "Unusual input refused"


def test_guard_when_fraud_route_not_in_adversarial_routes_then_odd_request_served(
    gateway_home: Path,
) -> None:
    gw = Gateway(
        make_settings(
            gateway_home,
            gateway_guards=GUARDS,
            adversarial_refuse=True,
            adversarial_routes=["images.classify"],
        )
    )
    try:
        key = {"X-API-Key": gw.key("fraud:score")}
        # The request the default configuration refuses (the test above).
        odd = {**ODD_TX, "transaction_id": "T-adv-3"}
        with gw.client() as c:
            r = c.post("/v1/fraud/score", json=odd, headers=key)
    finally:
        gw.close()
    assert r.status_code == 200, r.text

"""``shopguard serve`` in a subprocess: a remote red-team run with only a key, and the
in-process monitor that serve runs by default (drift of the served fraud model)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from shopguard.cli import main
from shopguard.core.runtime import Runtime
from shopguard.gateway.keys import ApiKeyStore
from shopguard.governance.incidents import IncidentDesk
from tests.integration.conftest import ALL_SCOPES, make_settings

pytestmark = pytest.mark.slow

#: Checks a run with nothing but the URL and the storefront key must run (and pass).
REMOTE_WITH_A_KEY = {
    "api.no_credentials_refused",
    "api.wrong_key_refused",
    "api.forged_tokens_refused",
    "api.flood_rate_limited",
    "api.oversized_body_refused",
    "api.malformed_json_refused",
    "operations.console_hardened",
    "supply_chain.live_gateway_hardened",
    "adversarial.attacked_uploads_refused",
}


def _post(client: httpx.Client, path: str, body: object, key: str) -> httpx.Response:
    """POST, waiting out the (deliberately low) rate limit."""
    for _ in range(60):
        r = client.post(path, json=body, headers={"X-API-Key": key})
        if r.status_code != 429:
            return r
        time.sleep(float(r.headers.get("retry-after", "1")))
    return r


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def served(gateway_home: Path) -> Iterator[tuple[str, dict[str, str], Path]]:
    settings = make_settings(gateway_home)
    rt = Runtime.open(settings)
    try:
        keys = ApiKeyStore(rt.engine, rt.keyring)
        issued = {
            role: keys.create(name=f"test-{role}", tenant="default", scopes=ALL_SCOPES).secret
            for role in ("storefront", "traffic")
        }
    finally:
        rt.close()
    port = _port()
    env = {
        **os.environ,
        "SHOPGUARD_HOME": str(gateway_home),
        "SHOPGUARD_MONITOR_INTERVAL_S": "0.5",
        "SHOPGUARD_MONITOR_DRIFT_WINDOW": "50",
        # Low enough that the flood check's burst crosses it on a loaded machine too.
        "SHOPGUARD_RATE_LIMIT_KEY": "5/second;5000/minute",
        # Image uploads the unusual-input guard flags are refused (the fraud route is left
        # to the model's own checks, as in the demo).
        "SHOPGUARD_GATEWAY_GUARDS": json.dumps(
            ["authn", "authz", "ops.containment", "rate_limit", "adversarial.unusual_input"]
        ),
        "SHOPGUARD_ADVERSARIAL_REFUSE": "true",
        "SHOPGUARD_ADVERSARIAL_ROUTES": json.dumps(["images.classify"]),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "shopguard.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300  # importing everything takes a minute on a busy CI box
        with httpx.Client(timeout=1) as poll:  # one client: no TLS context per attempt
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"serve exited with {proc.returncode}")
                try:
                    if poll.get(f"{url}/healthz").status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError("serve did not start")
                time.sleep(0.3)
        yield url, issued, gateway_home
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=30)


def test_redteam_run_when_only_url_and_key_then_remote_checks_run_and_the_rest_say_why(
    served: tuple[str, dict[str, str], Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, keys, _ = served
    monkeypatch.setenv("SHOPGUARD_HOME", str(tmp_path / "client-home"))
    out = tmp_path / "out"
    rc = main(["redteam", "run", "--target", url, "--key", keys["storefront"], "--out", str(out)])
    card = json.loads((out / "scorecard.json").read_text())
    by_id = {c["id"]: c for c in card["checks"]}
    ran = {i for i, c in by_id.items() if c["status"] != "skipped"}
    assert ran >= REMOTE_WITH_A_KEY, sorted(REMOTE_WITH_A_KEY - ran)
    failed = {i: c["evidence"] for i, c in by_id.items() if c["status"] in ("fail", "error")}
    assert not failed and rc == 0, failed
    # Everything else says why it did not run, and is never reported as passed.
    for cid, c in by_id.items():
        if c["status"] == "skipped":
            assert c["evidence"], cid
    local = by_id["operations.privileged_mfa"]["evidence"]
    assert "local-only" in local
    assert "keys file" in by_id["api.cross_tenant_read_refused"]["evidence"]
    assert "local state" in by_id["privacy.no_pii_in_logs"]["evidence"]
    assert "attacker" in by_id["attack.extraction.knockoff"]["evidence"]


def test_serve_when_fraud_traffic_drifts_and_labels_disagree_then_monitor_reports_and_opens_incident(
    served: tuple[str, dict[str, str], Path],
) -> None:
    url, keys, home = served

    def tx(i: int, *, amount: float, age: int, new_device: bool) -> dict[str, object]:
        return {
            "transaction_id": f"DRIFT-{i}",
            "customer_id": "C000001",
            "terminal_id": "PSP1-EP01",
            "amount": amount,
            "timestamp": "2025-03-01T12:00:00",
            "device_is_new": new_device,
            "account_age_days": age,
        }

    headers = {"X-API-Key": keys["traffic"]}
    flagged: dict[str, bool] = {}
    with httpx.Client(base_url=url, timeout=30) as client:
        for i in range(100):  # a reference window of ordinary payments, then risky ones
            body = (
                tx(i, amount=20 + i % 40, age=400 + i, new_device=False)
                if i < 50
                else tx(i, amount=5000 + i, age=i % 3, new_device=True)
            )
            r = _post(client, "/v1/fraud/score", body, keys["traffic"])
            assert r.status_code == 200, r.text
            flagged[f"DRIFT-{i}"] = r.json()["decision"] != "approve"
        # Chargebacks arrive later: the first 50 decisions were right, the next 50 wrong.
        for part in (range(50), range(50, 100)):
            labels = [
                {"transaction_id": f"DRIFT-{i}", "fraud": flagged[f"DRIFT-{i}"] == (i < 50)}
                for i in part
            ]
            r = _post(client, "/v1/fraud/labels", {"labels": labels}, keys["traffic"])
            assert r.status_code == 202 and r.json() == {"accepted": 50}, r.text
        # The monitor thread takes the two label batches on its own schedule: wait until it
        # has judged both (after the first alone it reports no drop).
        expected = 'shopguard_monitor_label_accuracy_drop{model="fraud"} 1.0'
        deadline = time.monotonic() + 30
        text = ""
        while time.monotonic() < deadline:
            text = client.get("/metrics", headers=headers).text
            if expected in text:
                break
            time.sleep(0.5)
    assert expected in text, [ln for ln in text.splitlines() if "label_accuracy" in ln]
    assert 'shopguard_monitor_drift_psi{feature="amount",model="fraud"}' in text
    drift = [
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith('shopguard_monitor_drift_psi{feature="amount",model="fraud"}')
    ]
    assert drift and drift[0] > 0.25
    rt = Runtime.open(make_settings(home))
    try:
        deadline = time.monotonic() + 20
        poisoning: list[object] = []
        while not poisoning and time.monotonic() < deadline:
            poisoning = [
                i
                for i in IncidentDesk.from_runtime(rt).incidents()
                if i.threat.value == "poisoning"
            ]
            time.sleep(0.5)
    finally:
        rt.close()
    assert poisoning

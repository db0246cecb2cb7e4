"""A data-subject access export holds everything about the customer, and nothing about others."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from shopguard.cli import main
from shopguard.core.errors import NotFoundError
from shopguard.privacy.dsar import export_subject
from shopguard.privacy.fields import CustomerRecord, EncryptedCustomers, FieldCipher
from tests.integration.conftest import Gateway


def test_export_when_customer_active_everywhere_then_every_source_included(
    gateway: Gateway,
) -> None:
    svc = gateway.app.state.stores.get("default")
    cid = str(svc.store.orders["customer_id"].value_counts().index[0])
    key = {"X-API-Key": gateway.key()}
    product = str(
        svc.store.orders.loc[svc.store.orders["customer_id"] == cid, "product_id"].iloc[0]
    )
    with gateway.client() as c:
        c.get(f"/v1/recommendations/{cid}", headers=key)
        c.put(
            f"/v1/customers/{cid}/consent",
            json={"purpose": "marketing", "granted": False, "policy_version": "v3"},
            headers=key,
        )
        c.post(
            "/v1/reviews",
            json={
                "product_id": product,
                "customer_id": cid,
                "rating": 2,
                "title": "meh",
                "text": "late",
            },
            headers=key,
        )
    rt = gateway.runtime
    EncryptedCustomers(rt.engine, FieldCipher(rt.engine, rt.keyring)).write(
        CustomerRecord(tenant="default", customer_id=cid, email="subject@example.org")
    )
    export = export_subject(rt, tenant="default", customer_id=cid)
    assert len(export["store"]["customers"]) == 1
    assert len(export["store"]["orders"]) == int((svc.store.orders["customer_id"] == cid).sum()) > 0
    assert {r["CUSTOMER_ID"] for r in export["store"]["transactions"]} == {cid}
    assert [r["title"] for r in export["submitted_reviews"]] == ["meh"]
    assert export["consent_history"][-1]["policy_version"] == "v3"
    assert export["encrypted_personal_record"]["email"] == "subject@example.org"
    actions = {e["action"] for e in export["audit_log_references"]["entries"]}
    assert {"GET /v1/recommendations/{customer_id}", "POST /v1/reviews"} <= actions
    everyone = {r["customer_id"] for r in export["store"]["orders"]}
    assert everyone == {cid}  # nobody else's orders


def test_export_when_customer_unknown_or_of_other_tenant_then_not_found(gateway: Gateway) -> None:
    with pytest.raises(NotFoundError):
        export_subject(gateway.runtime, tenant="default", customer_id="C999999")
    with pytest.raises(NotFoundError):
        export_subject(gateway.runtime, tenant="other", customer_id="C000900")  # only in 'default'


def test_cli_dsar_export_when_run_then_owner_only_file_and_audited(
    gateway: Gateway, tmp_path: Path, monkeypatch, capsys
) -> None:
    monkeypatch.setenv("SHOPGUARD_HOME", str(gateway.settings.home))
    out = tmp_path / "export.json"
    assert main(["privacy", "dsar", "export", "--customer", "C000003", "--out", str(out)]) == 0
    assert os.stat(out).st_mode & 0o777 == 0o600
    assert json.loads(out.read_text())["customer_id"] == "C000003"
    assert (
        main(
            [
                "privacy",
                "dsar",
                "export",
                "--customer",
                "C999999",
                "--out",
                str(tmp_path / "x.json"),
            ]
        )
        == 2
    )
    assert not (tmp_path / "x.json").exists()
    actions = [r.action for r in gateway.runtime.audit.records()]
    assert actions.count("privacy.dsar.export") == 1

"""The store at rest: sealed and tokenised; erasure reaches the API, the files and backups."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from shopguard.cli import main
from shopguard.core.errors import InvalidCiphertext, KeyRingError, NotFoundError
from shopguard.core.runtime import Runtime
from shopguard.core.scorecard import CheckContext, Status
from shopguard.core.settings import Settings
from shopguard.privacy.checks import NoClearTextAtRest
from shopguard.privacy.dsar import (
    erase_subject,
    export_subject,
    models_to_retrain,
    record_training_subjects,
)
from shopguard.privacy.fields import EncryptedCustomers, FieldCipher, customers
from shopguard.privacy.protect import protect_store
from shopguard.privacy.pseudonym import REIDENTIFY_SCOPE, Pseudonymiser
from shopguard.privacy.requests import RequestLedger, RequestStatus
from shopguard.store.generate import generate_store, write_store
from shopguard.store.schema import load_store
from shopguard.store.service import STORE_DIR
from tests.integration.conftest import Gateway, make_settings


def _ingested_of(rt: Runtime, cid: str) -> int:
    from shopguard.integrity.tables import records

    with rt.engine.connect() as conn:
        rows = conn.execute(sa.select(records.c.payload)).scalars().all()
    docs = [json.loads(p) for p in rows]
    return sum(cid in (d.get("customer_id"), d.get("reviewer_id")) for d in docs)


def _canaries(store) -> list[str]:
    c = store.customers
    return [str(v) for col in ("name", "email", "phone", "card_number", "street")
            for v in c[col].head(40)]  # fmt: skip


@pytest.fixture(scope="module")
def small_store():
    return generate_store(seed=3, customers=250)


def test_protect_when_store_kept_then_no_clear_values_while_clear_store_fails_check(
    runtime: Runtime, small_store
) -> None:
    check = NoClearTextAtRest()
    ctx = CheckContext({"runtime": runtime, "pii_canaries": _canaries(small_store)})
    # Without the defence: the shop's export kept as is leaks every value.
    write_store(small_store, runtime.home / STORE_DIR, fmt="parquet", overwrite=True)
    status, figure, _ = check.run(ctx)
    assert status is Status.FAIL and figure is not None and figure.value > 0
    # With it: nothing in clear, in the files or the database.
    protected, report = protect_store(runtime, small_store, tenant="default")
    write_store(protected, runtime.home / STORE_DIR, fmt="parquet", overwrite=True)
    status, figure, evidence = check.run(ctx)
    assert status is Status.PASS, evidence
    assert report.sealed_customers == len(small_store.customers)
    # The kept store still validates, and every sealed record opens with the right key.
    kept = load_store(runtime.home / STORE_DIR)
    assert (kept.customers["email"].fillna("") == "").all()
    table = EncryptedCustomers(runtime.engine, FieldCipher(runtime.engine, runtime.keyring))
    first = small_store.customers.iloc[0]
    rec = table.read("default", str(first["customer_id"]))
    assert rec.email == first["email"] and rec.name == first["name"]
    assert rec.date_of_birth == pd.Timestamp(first["date_of_birth"]).date().isoformat()


def test_protect_when_tokenised_then_joins_survive_and_officer_can_reidentify(
    runtime: Runtime, small_store
) -> None:
    protected, _ = protect_store(runtime, small_store, tenant="default")
    clear_tx, kept_tx = small_store.transactions, protected.transactions
    # Same clear card -> same token, across rows and tables.
    pairs = pd.DataFrame({"clear": clear_tx["card_number"], "tok": kept_tx["card_number"]})
    assert pairs.groupby("clear")["tok"].nunique().max() == 1
    assert pairs.groupby("tok")["clear"].nunique().max() == 1
    cust = pd.DataFrame(
        {"clear": small_store.customers["card_number"], "tok": protected.customers["card_number"]}
    )
    both = pairs.merge(cust, on="clear", suffixes=("_tx", "_cust"))
    assert len(both) > 0 and (both["tok_tx"] == both["tok_cust"]).all()
    tok, clear = str(kept_tx["ip_address"].iloc[0]), str(clear_tx["ip_address"].iloc[0])
    p = Pseudonymiser(runtime.engine, runtime.keyring, audit=runtime.audit)
    assert p.reidentify(tok, purpose="store.ip", tenant="default", principal="dpo",
                        scopes={REIDENTIFY_SCOPE}, reason="fraud investigation 77") == clear  # fmt: skip


@pytest.fixture
def protected_gateway(trained_home: Path, tmp_path: Path) -> Gateway:
    import shutil

    home = tmp_path / ".shopguard"
    shutil.copytree(trained_home, home)
    settings: Settings = make_settings(home)
    rt = Runtime.open(settings)
    try:
        clear = load_store(home / STORE_DIR)
        protected, _ = protect_store(rt, clear, tenant="default")
        write_store(protected, home / STORE_DIR, fmt="parquet", overwrite=True)
        record_training_subjects(
            rt, home / "models" / "fraud", tenant="default",
            customer_ids=clear.transactions["CUSTOMER_ID"].astype(str),
        )  # fmt: skip
    finally:
        rt.close()
    gw = Gateway(settings)
    gw.app.state.stores.recheck_s = 0.0
    yield gw
    gw.close()


def test_erase_when_requested_then_gone_from_api_store_keys_and_backups(
    protected_gateway: Gateway,
) -> None:
    gw = protected_gateway
    rt = gw.runtime
    store = load_store(gw.settings.home / STORE_DIR)
    cid = str(store.transactions["CUSTOMER_ID"].value_counts().index[0])
    key = {"X-API-Key": gw.key()}
    with rt.engine.connect() as conn:
        backup = conn.execute(sa.select(customers).where(customers.c.customer_id == cid)).all()
    with gw.client() as c:
        assert c.get(f"/v1/recommendations/{cid}", headers=key).status_code == 200
        product = str(store.products["product_id"].iloc[0])
        review = {"product_id": product, "customer_id": cid, "rating": 4, "title": "fine",
                  "text": "Arrived on time and works as described."}  # fmt: skip
        assert c.post("/v1/reviews", json=review, headers=key).status_code == 201
        assert _ingested_of(rt, cid) == 1
        before = export_subject(rt, tenant="default", customer_id=cid)
        assert before["encrypted_personal_record"]["email"]
        assert all(v["value"] for v in before["pseudonymised_values"])
        req = erase_subject(rt, tenant="default", customer_id=cid)
        time.sleep(0.01)
        assert c.get(f"/v1/recommendations/{cid}", headers=key).status_code == 404
    assert req.status is RequestStatus.COMPLETED
    assert [s["step"] for s in req.steps] == [
        "keys_shredded",
        "personal_record_deleted",
        "store_rows_deleted",
        "submitted_reviews_deleted",
        "consent_history_deleted",
        "hook:assistant",
        "hook:integrity.ingested_records",
        "models_flagged_for_retraining",
    ]
    assert _ingested_of(rt, cid) == 0
    with pytest.raises(NotFoundError):
        export_subject(rt, tenant="default", customer_id=cid)
    after = load_store(gw.settings.home / STORE_DIR)
    for name, col in (("customers", "customer_id"), ("transactions", "CUSTOMER_ID"),
                      ("orders", "customer_id"), ("sessions", "customer_id")):  # fmt: skip
        assert not (after.table(name)[col].astype(str) == cid).any()
    assert len(after.customers) == len(store.customers) - 1
    # The backup copy of the encrypted row no longer opens: crypto-shredding reached it.
    table = EncryptedCustomers(rt.engine, FieldCipher(rt.engine, rt.keyring))
    with pytest.raises((InvalidCiphertext, KeyRingError)):
        table.read_rows(backup)
    assert {f["model"] for f in models_to_retrain(rt)} >= {"fraud"}
    steps = [r for r in rt.audit.records() if r.action == "privacy.dsar.erase"]
    assert len(steps) == 8 and all(cid not in json.dumps(r.to_json()) for r in steps)
    with pytest.raises(NotFoundError):
        erase_subject(rt, tenant="default", customer_id=cid)
    assert RequestLedger(rt.engine).all(status=RequestStatus.OPEN) == []


def test_cli_privacy_commands_when_run_then_work_and_bad_input_exits_2(
    protected_gateway: Gateway, tmp_path: Path, monkeypatch, capsys
) -> None:
    gw = protected_gateway
    monkeypatch.setenv("SHOPGUARD_HOME", str(gw.settings.home))
    cid = "C000010"
    assert main(["privacy", "dsar", "erase", "--customer", cid]) == 2  # needs --yes
    assert main(["privacy", "dsar", "erase", "--customer", cid, "--yes"]) == 0
    assert main(["privacy", "dsar", "erase", "--customer", cid, "--yes"]) == 2  # gone
    assert "keys_shredded" in capsys.readouterr().out
    assert main(["privacy", "dsar", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed[0]["kind"] == "erase" and listed[0]["status"] == "completed"
    assert listed[0]["law"] in ("GDPR", "CCPA")
    # anonymise / pseudonymise / redact / datamap
    extract = tmp_path / "extract.csv"
    pd.DataFrame(
        {"age": [20 + i % 30 for i in range(200)], "zip": [f"{75000 + i % 40}" for i in range(200)],
         "gender": ["f", "m"] * 100, "email": [f"u{i}@example.org" for i in range(200)]}
    ).to_csv(extract, index=False)  # fmt: skip
    out = tmp_path / "anon.csv"
    args = ["privacy", "anonymise", str(extract), "--quasi", "age,zip,gender", "--k", "5",
            "--out", str(out)]  # fmt: skip
    assert main(args) == 2  # the email column is a direct identifier
    assert main([*args, "--drop", "email", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["smallest_class"] >= 5
    assert pd.read_csv(out).groupby(["age", "zip", "gender"]).size().min() >= 5
    pseudo = tmp_path / "pseudo.csv"
    assert main(["privacy", "pseudonymise", str(extract), "--columns", "email:email",
                 "--purpose", "analytics", "--out", str(pseudo)]) == 0  # fmt: skip
    assert not pd.read_csv(pseudo)["email"].str.contains("example.org").any()
    assert main(["privacy", "pseudonymise", str(extract), "--columns", "nope",
                 "--purpose", "analytics", "--out", str(pseudo)]) == 2  # fmt: skip
    texts = tmp_path / "in.jsonl"
    texts.write_text('{"id": 1, "text": "mail me at jane@example.com"}\nnot json\n')
    red = tmp_path / "red.jsonl"
    assert main(["privacy", "redact", str(texts), "--out", str(red)]) == 2
    assert "line 2" in capsys.readouterr().err
    assert main(["privacy", "redact", str(texts), "--out", str(red), "--skip-bad"]) == 0
    assert json.loads(red.read_text().splitlines()[0])["text"] == "mail me at <EMAIL>"
    assert main(["privacy", "datamap", "--out", str(tmp_path / "map")]) == 0
    doc = json.loads((tmp_path / "map" / "datamap.json").read_text())
    assert doc["categories"]["CREDIT_CARD"]["stored_in"]
    tok = str(load_store(gw.settings.home / STORE_DIR).transactions["ip_address"].iloc[0])
    assert main(["privacy", "reidentify", tok, "--purpose", "store.ip", "--officer", "dpo",
                 "--reason", "short"]) == 2  # fmt: skip
    assert main(["privacy", "reidentify", tok, "--purpose", "store.ip", "--officer", "dpo",
                 "--reason", "chargeback case 991"]) == 0  # fmt: skip

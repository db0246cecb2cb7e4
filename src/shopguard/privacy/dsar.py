"""Data-subject access: everything the store holds about one customer, as JSON.

GDPR art. 15 / CCPA "right to know". The export gathers, for one tenant's
customer: the store's tables (customer row, sessions, orders, payments,
reviews), reviews submitted through the API, the consent history, the
encrypted personal record when one exists, and references to the audit log
(entries about the customer are found by the keyed pseudonym the log uses,
which is what the log holds instead of the id), and what other capabilities
hold, through their registered export hooks (the assistant's conversations).
Writing it is atomic.

Erasure (GDPR art. 17 / CCPA "right to delete", :func:`erase_subject`)
crypto-shreds the customer's data keys (every sealed copy of their fields, in
the database, a dump or a backup, becomes unreadable), deletes their encrypted
record and token-vault entries, removes their rows from the store's tables
(the training extracts and feature sources), their API-submitted reviews and
consent history, calls every registered erasure hook (retrieval / embedding
indexes of other capabilities), and flags each model trained on their data for
retraining. The audit log keeps its entries: they name the customer only by a
keyed pseudonym and are kept under art. 17(3)(b) (legal obligation), so the
chain stays verifiable. Each step is audited and recorded on the request.
"""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa

from shopguard.core.audit import AuditEvent
from shopguard.core.db import metadata
from shopguard.core.errors import InvalidCiphertext, NotFoundError
from shopguard.core.runtime import Runtime
from shopguard.privacy.consent import ConsentLedger
from shopguard.privacy.fields import EncryptedCustomers, FieldCipher
from shopguard.privacy.pseudonym import Pseudonymiser
from shopguard.privacy.requests import (
    DsarRequest,
    Law,
    RequestKind,
    RequestLedger,
    RequestStatus,
    law_for,
)
from shopguard.store.generate import StoreData, write_store
from shopguard.store.schema import load_store
from shopguard.store.service import (
    DEFAULT_TENANT,
    STORE_DIR,
    TENANTS_DIR,
    erase_submitted_reviews,
    submitted_reviews_of,
)

__all__ = [
    "MODEL_SOURCES",
    "ErasureHook",
    "ExportHook",
    "erase_subject",
    "erasure_hooks",
    "export_hooks",
    "export_subject",
    "fulfil_export",
    "models_to_retrain",
    "record_training_subjects",
    "retrain_flags",
    "write_export",
]

#: The store table each reference model learns from (used when a model kept no subject list).
MODEL_SOURCES = {"fraud": "transactions", "recommender": "orders", "reviews": "reviews"}
SUBJECTS_FILE = "training_subjects.json"
_SUBJECTS_PURPOSE = "privacy.training-subjects"

#: ``(runtime, tenant, customer_id) -> rows removed``; other capabilities register
#: here to drop an erased customer from their indexes (retrieval, embeddings, caches).
ErasureHook = Callable[[Runtime, str, str], int]
erasure_hooks: dict[str, ErasureHook] = {}
#: ``(runtime, tenant, customer_id) -> JSON-able data``; other capabilities register here
#: so an access request includes what they hold (an empty value means nothing held).
ExportHook = Callable[[Runtime, str, str], Any]
export_hooks: dict[str, ExportHook] = {}

retrain_flags = sa.Table(
    "privacy_retrain_flags",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("tenant", sa.String(64), nullable=False),
    sa.Column("model", sa.String(64), nullable=False),
    sa.Column("request_id", sa.String(32), nullable=False),
    sa.Column("flagged_at", sa.String(40), nullable=False),
    sa.Column("cleared_at", sa.String(40), nullable=True),
)

#: Store tables and the column that names the customer in each.
_SUBJECT_COLUMNS = {
    "customers": "customer_id",
    "sessions": "customer_id",
    "orders": "customer_id",
    "transactions": "CUSTOMER_ID",
    "reviews": "customer_id",
}


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    out = json.loads(frame.to_json(orient="records", date_format="iso"))
    return list(out)


def store_root(home: Path, tenant: str) -> Path:
    return home if tenant == DEFAULT_TENANT else home / TENANTS_DIR / tenant


def export_subject(rt: Runtime, *, tenant: str, customer_id: str) -> dict[str, Any]:
    """Everything held about ``customer_id`` of ``tenant``; :class:`NotFoundError` if unknown."""
    root = store_root(rt.home, tenant)
    tables: dict[str, list[dict[str, Any]]] = {}
    if (root / STORE_DIR).is_dir():
        store = load_store(root / STORE_DIR)
        for name, column in _SUBJECT_COLUMNS.items():
            frame = store.table(name)
            if column in frame.columns:
                tables[name] = _records(frame[frame[column].astype(str) == customer_id])
    submitted = submitted_reviews_of(rt.engine, tenant=tenant, customer_id=customer_id)
    consent = [
        {
            "purpose": e.purpose.value,
            "granted": e.granted,
            "at": e.at,
            "source": e.source,
            "policy_version": e.policy_version,
        }
        for e in ConsentLedger(rt.engine).history(tenant=tenant, customer_id=customer_id)
    ]
    encrypted: dict[str, Any] | None = None
    try:
        record = EncryptedCustomers(rt.engine, FieldCipher(rt.engine, rt.keyring)).read(
            tenant, customer_id
        )
        encrypted = record.personal()
    except NotFoundError:
        encrypted = None
    except InvalidCiphertext:
        encrypted = {"status": "unreadable (erased by crypto-shredding or damaged)"}
    held_elsewhere = {
        name: hook(rt, tenant, customer_id) for name, hook in sorted(export_hooks.items())
    }
    if (
        not tables.get("customers")
        and not submitted
        and not consent
        and encrypted is None
        and not any(held_elsewhere.values())
    ):
        raise NotFoundError("no data held about this customer")
    vault = Pseudonymiser(rt.engine, rt.keyring)
    tokens = vault.tokens_of(tenant, customer_id)
    revealed: list[dict[str, Any]] = []
    cipher = FieldCipher(rt.engine, rt.keyring)
    for purpose, tok in tokens:
        try:
            value: str | None = vault.value_of(tenant, purpose, tok, cipher=cipher)
        except InvalidCiphertext:
            value = None
        revealed.append({"purpose": purpose, "token": tok, "value": value})
    pseudonym = rt.audit.pseudonym(customer_id)
    audit_refs = [
        {"seq": r.seq, "at": r.at, "action": r.action, "decision": r.decision}
        for r in rt.audit.records()
        if r.target is not None and pseudonym in r.target
    ]
    return {
        "schema": 1,
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "tenant": tenant,
        "customer_id": customer_id,
        "store": tables,
        "submitted_reviews": submitted,
        "consent_history": consent,
        "encrypted_personal_record": encrypted,
        "pseudonymised_values": revealed,
        "audit_log_references": {"pseudonym": pseudonym, "entries": audit_refs},
        "other_capabilities": held_elsewhere,
    }


def write_export(export: dict[str, Any], out: Path) -> None:
    """Write ``export`` as JSON atomically, readable by the owner only (it is personal data)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(export, fh, indent=2, default=str)
        os.chmod(tmp, 0o600)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _subject_digest(rt: Runtime, tenant: str, customer_id: str) -> str:
    return rt.keyring.pseudonym(_SUBJECTS_PURPOSE, f"{tenant}/{customer_id}")


def record_training_subjects(
    rt: Runtime, model_dir: Path, *, tenant: str, customer_ids: Iterable[str]
) -> int:
    """Write which customers' data trained the model in ``model_dir`` (keyed digests only)."""
    digests = sorted({_subject_digest(rt, tenant, str(c)) for c in customer_ids})
    payload = {"schema": 1, "tenant": tenant, "subjects": digests}
    tmp = model_dir / f".{SUBJECTS_FILE}.tmp"
    tmp.write_text(json.dumps(payload), "utf-8")
    os.replace(tmp, model_dir / SUBJECTS_FILE)
    return len(digests)


def _models_trained_on(
    rt: Runtime, root: Path, store: StoreData | None, tenant: str, customer_id: str
) -> list[str]:
    models_dir = root / "models"
    if not models_dir.is_dir():
        return []
    digest = _subject_digest(rt, tenant, customer_id)
    out = []
    for model_dir in sorted(p for p in models_dir.iterdir() if p.is_dir()):
        subjects = model_dir / SUBJECTS_FILE
        if subjects.is_file():
            if digest in set(json.loads(subjects.read_text("utf-8")).get("subjects", [])):
                out.append(model_dir.name)
            continue
        table = MODEL_SOURCES.get(model_dir.name)
        if table is not None and store is not None:
            frame = store.table(table)
            col = _SUBJECT_COLUMNS[table]
            if (frame[col].astype(str) == customer_id).any():
                out.append(model_dir.name)
    return out


def _store_format(directory: Path) -> str:
    return "parquet" if any(directory.glob("*.parquet")) else "csv"


def erase_subject(
    rt: Runtime,
    *,
    tenant: str,
    customer_id: str,
    law: Law | None = None,
    principal: str = "cli",
    received_at: datetime | None = None,
) -> DsarRequest:
    """Erase everything held about a customer; returns the completed request with its steps.

    Raises
    ------
    NotFoundError
        Nothing is held about this customer (no request is recorded as done).
    """
    root = store_root(rt.home, tenant)
    store_dir = root / STORE_DIR
    store = load_store(store_dir) if store_dir.is_dir() else None
    in_store = store is not None and bool(
        (store.customers["customer_id"].astype(str) == customer_id).any()
    )
    vault = Pseudonymiser(rt.engine, rt.keyring)
    ledger = ConsentLedger(rt.engine)
    known = (
        in_store
        or bool(vault.tokens_of(tenant, customer_id))
        or bool(submitted_reviews_of(rt.engine, tenant=tenant, customer_id=customer_id))
        or bool(ledger.history(tenant=tenant, customer_id=customer_id))
    )
    cipher = FieldCipher(rt.engine, rt.keyring)
    customers_table = EncryptedCustomers(rt.engine, cipher)
    try:
        customers_table.read(tenant, customer_id)
        known = True
    except InvalidCiphertext:
        known = True
    except NotFoundError:
        pass
    if not known:
        raise NotFoundError("no data held about this customer")
    jurisdiction = None
    if in_store and store is not None and "jurisdiction" in store.customers:
        row = store.customers.loc[store.customers["customer_id"].astype(str) == customer_id]
        jurisdiction = str(row["jurisdiction"].iloc[0]) if len(row) else None
    requests = RequestLedger(rt.engine)
    req = requests.open(
        tenant=tenant,
        customer_id=customer_id,
        kind=RequestKind.ERASE,
        law=law or law_for(jurisdiction),
        received_at=received_at,
    )
    target = f"customer:{rt.audit.pseudonym(customer_id)}"

    def step(name: str, **facts: Any) -> None:
        requests.add_step(req.request_id, name, **facts)
        rt.audit.append(
            AuditEvent(
                action="privacy.dsar.erase",
                decision="allow",
                principal=principal,
                target=target,
                details={"request_id": req.request_id, "step": name, **facts},
            )
        )

    try:
        models = _models_trained_on(rt, root, store, tenant, customer_id)
        step("keys_shredded", keys=cipher.shred(tenant, customer_id))
        step(
            "personal_record_deleted",
            rows=int(customers_table.delete(tenant, customer_id)),
            vault_entries=vault.forget_subject(tenant, customer_id),
        )
        if store is not None:
            removed: dict[str, int] = {}
            kept: dict[str, pd.DataFrame] = {}
            for name, column in _SUBJECT_COLUMNS.items():
                frame = store.table(name)
                mine = frame[column].astype(str) == customer_id
                removed[name] = int(mine.sum())
                kept[name] = frame.loc[~mine].reset_index(drop=True)
            if any(removed.values()):
                write_store(
                    dataclasses.replace(store, **kept),
                    store_dir,
                    fmt=_store_format(store_dir),  # type: ignore[arg-type]
                    overwrite=True,
                )
            step("store_rows_deleted", **removed)
        step(
            "submitted_reviews_deleted",
            rows=erase_submitted_reviews(rt.engine, tenant=tenant, customer_id=customer_id),
        )
        step("consent_history_deleted", rows=ledger.erase(tenant=tenant, customer_id=customer_id))
        for name, hook in sorted(erasure_hooks.items()):
            step(f"hook:{name}", rows=int(hook(rt, tenant, customer_id)))
        now = datetime.now(UTC).isoformat()
        with rt.engine.begin() as conn:
            for model in models:
                conn.execute(
                    retrain_flags.insert().values(
                        tenant=tenant, model=model, request_id=req.request_id, flagged_at=now
                    )
                )
        step("models_flagged_for_retraining", models=models)
    except Exception:
        requests.close(req.request_id, status=RequestStatus.FAILED)
        raise
    requests.close(req.request_id)
    return requests.get(req.request_id)


def models_to_retrain(rt: Runtime, *, tenant: str | None = None) -> list[dict[str, Any]]:
    """Open retraining flags (a model trained on data since erased)."""
    c = retrain_flags.c
    q = sa.select(retrain_flags).where(c.cleared_at.is_(None)).order_by(c.id)
    if tenant is not None:
        q = q.where(c.tenant == tenant)
    with rt.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(q)]


def fulfil_export(
    rt: Runtime,
    *,
    tenant: str,
    customer_id: str,
    out: Path,
    principal: str = "cli",
    law: Law | None = None,
) -> DsarRequest:
    """Record an access request, write the export to ``out`` (0600) and close the request.

    Raises
    ------
    NotFoundError
        Nothing is held about this customer.
    """
    export = export_subject(rt, tenant=tenant, customer_id=customer_id)
    rows = export["store"].get("customers") or []
    jurisdiction = rows[0].get("jurisdiction") if rows else None
    requests = RequestLedger(rt.engine)
    req = requests.open(
        tenant=tenant,
        customer_id=customer_id,
        kind=RequestKind.EXPORT,
        law=law or law_for(jurisdiction),
    )
    export["request_id"] = req.request_id
    write_export(export, out)
    sections = sorted(k for k, v in export["store"].items() if v)
    requests.add_step(req.request_id, "exported", sections=sections)
    rt.audit.append(
        AuditEvent(
            action="privacy.dsar.export",
            decision="allow",
            principal=principal,
            target=f"customer:{rt.audit.pseudonym(customer_id)}",
            details={"tenant": tenant, "request_id": req.request_id, "sections": sections},
        )
    )
    requests.close(req.request_id)
    return requests.get(req.request_id)

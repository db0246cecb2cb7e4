"""Data-subject access: everything the store holds about one customer, as JSON.

GDPR art. 15 / CCPA "right to know". The export gathers, for one tenant's
customer: the store's tables (customer row, sessions, orders, payments,
reviews), reviews submitted through the API, the consent history, the
encrypted personal record when one exists, and references to the audit log
(entries about the customer are found by the keyed pseudonym the log uses,
which is what the log holds instead of the id). Writing it is atomic.
"""

from __future__ import annotations

import json
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from shopguard.core.errors import InvalidCiphertext, NotFoundError
from shopguard.core.runtime import Runtime
from shopguard.privacy.consent import ConsentLedger
from shopguard.privacy.fields import EncryptedCustomers, FieldCipher
from shopguard.store.schema import load_store
from shopguard.store.service import DEFAULT_TENANT, STORE_DIR, TENANTS_DIR, submitted_reviews_of

__all__ = ["export_subject", "write_export"]

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
    if not tables.get("customers") and not submitted and not consent and encrypted is None:
        raise NotFoundError("no data held about this customer")
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
        "audit_log_references": {"pseudonym": pseudonym, "entries": audit_refs},
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

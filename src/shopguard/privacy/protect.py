"""The store at rest: personal columns sealed or tokenised before anything is written.

:func:`protect_store` takes a store as exported by the shop (or generated) and
returns the copy shopguard keeps under ``.shopguard/``:

- *sealed* columns (a customer's name, email, phone, address, date of birth,
  card) move into the encrypted ``privacy_customers`` table, every field under
  the customer's own data key with its table, column, tenant and row bound as
  associated data, and are emptied in the store files;
- *tokenised* columns that models or joins need (card numbers, IP addresses,
  device ids, shipping addresses in sessions, orders and transactions) are
  replaced by keyed deterministic tokens (card tokens keep the card's shape
  and pass Luhn), and the value is kept in the token vault, sealed under the
  customer's key, for audited re-identification.

So the files and the database hold no personal value in clear, and erasing a
customer by shredding their key makes every sealed copy unreadable, backups
included.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import pandas as pd

from shopguard.core.runtime import Runtime
from shopguard.privacy.fields import CustomerRecord, EncryptedCustomers, FieldCipher
from shopguard.privacy.pseudonym import Pseudonymiser, TokenKind
from shopguard.store.generate import StoreData

__all__ = [
    "STORE_PERSONAL",
    "SUBJECT_COLUMN",
    "Protection",
    "ProtectionReport",
    "protect_store",
]

logger = logging.getLogger(__name__)


class Protection(StrEnum):
    SEAL = "seal"
    TOKEN = "token"  # noqa: S105 - a protection kind, not a secret
    CARD_TOKEN = "card_token"  # noqa: S105


#: Personal columns of each store table and how each is kept at rest.
STORE_PERSONAL: dict[str, dict[str, Protection]] = {
    "customers": {
        "name": Protection.SEAL,
        "email": Protection.SEAL,
        "phone": Protection.SEAL,
        "street": Protection.SEAL,
        "city": Protection.SEAL,
        "postcode": Protection.SEAL,
        "date_of_birth": Protection.SEAL,
        "card_number": Protection.CARD_TOKEN,
        "ip_address": Protection.TOKEN,
        "device_id": Protection.TOKEN,
    },
    "sessions": {"ip_address": Protection.TOKEN, "device_id": Protection.TOKEN},
    "orders": {
        "shipping_street": Protection.TOKEN,
        "shipping_city": Protection.TOKEN,
        "shipping_postcode": Protection.TOKEN,
    },
    "transactions": {
        "card_number": Protection.CARD_TOKEN,
        "ip_address": Protection.TOKEN,
        "device_id": Protection.TOKEN,
    },
}

#: The column naming the customer in each store table.
SUBJECT_COLUMN = {
    "customers": "customer_id",
    "sessions": "customer_id",
    "orders": "customer_id",
    "transactions": "CUSTOMER_ID",
    "reviews": "customer_id",
}

_PURPOSE = {
    "card_number": "store.card",
    "ip_address": "store.ip",
    "device_id": "store.device",
    "shipping_street": "store.address",
    "shipping_city": "store.address",
    "shipping_postcode": "store.address",
}


@dataclass(frozen=True)
class ProtectionReport:
    """What :func:`protect_store` did (counts only, no values)."""

    tenant: str
    sealed_customers: int
    sealed_fields: int
    tokenised: dict[str, int]

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _text(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    text = str(value)
    return text or None


def _address(street: str | None, postcode: str | None, city: str | None) -> str | None:
    tail = " ".join(p for p in (postcode, city) if p)
    parts = [p for p in (street, tail) if p]
    return ", ".join(parts) or None


def protect_store(
    rt: Runtime,
    store: StoreData,
    *,
    tenant: str,
    progress: Callable[[str], None] | None = None,
) -> tuple[StoreData, ProtectionReport]:
    """Seal and tokenise ``store``'s personal columns; returns the copy safe to keep at rest."""
    say = progress or (lambda _s: None)
    cipher = FieldCipher(rt.engine, rt.keyring, cache_size=max(10_000, 2 * len(store.customers)))
    vault = Pseudonymiser(rt.engine, rt.keyring, cipher=cipher, audit=rt.audit)
    say("sealing customers' personal fields")
    cust = store.customers
    cols = {c: cust[c].map(_text).tolist() if c in cust else [None] * len(cust)
            for c in STORE_PERSONAL["customers"]}  # fmt: skip
    records = [
        CustomerRecord(
            tenant=tenant,
            customer_id=str(cid),
            name=cols["name"][i],
            email=cols["email"][i],
            phone=cols["phone"][i],
            address=_address(cols["street"][i], cols["postcode"][i], cols["city"][i]),
            date_of_birth=cols["date_of_birth"][i],
            card_number=cols["card_number"][i],
        )
        for i, cid in enumerate(cust["customer_id"].astype(str))
    ]
    EncryptedCustomers(rt.engine, cipher).write_many(records)
    sealed_fields = sum(v is not None for r in records for v in r.personal().values())
    tokenised: dict[str, int] = {}
    tables: dict[str, pd.DataFrame] = {}
    for name in ("customers", "sessions", "orders", "transactions"):
        frame = store.table(name).copy()
        subject = frame[SUBJECT_COLUMN[name]].astype(str).tolist()
        for column, how in STORE_PERSONAL[name].items():
            if column not in frame:
                continue
            if how is Protection.SEAL:
                frame[column] = None
                continue
            say(f"tokenising {name}.{column}")
            values = frame[column].map(_text)
            present = values.notna().to_numpy()
            pairs = [(c, v) for c, v, p in zip(subject, values, present, strict=True) if p]
            kind = TokenKind.CARD if how is Protection.CARD_TOKEN else TokenKind.OPAQUE
            tokens = iter(vault.tokenise(_PURPOSE[column], pairs, tenant=tenant, kind=kind))
            frame[column] = [next(tokens) if p else None for p in present]
            tokenised[f"{name}.{column}"] = len(pairs)
        tables[name] = frame
    protected = dataclasses.replace(store, **tables)
    report = ProtectionReport(tenant, len(records), sealed_fields, tokenised)
    logger.info("protected store of tenant %s: %d customers sealed", tenant, len(records))
    return protected, report

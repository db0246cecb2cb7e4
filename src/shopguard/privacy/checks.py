"""Scorecard checks of the privacy area, run against a live gateway."""

from __future__ import annotations

import json
import secrets
import time
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import sqlalchemy as sa

from shopguard.core.errors import InvalidCiphertext, KeyRingError, NotFoundError
from shopguard.core.scorecard import Area, Check, CheckContext, Figure, Status, checks
from shopguard.privacy.dsar import erase_subject, export_subject
from shopguard.privacy.fields import EncryptedCustomers, FieldCipher
from shopguard.privacy.pii import PiiDetector, PiiType, luhn_valid
from shopguard.store.service import DEFAULT_TENANT

__all__: list[str] = []

PROBE_POLICY = "scorecard-probe"


@checks.register
class ConsentOptOutHonoured(Check):
    """After a customer opts out of personalisation, the recommender stops personalising.

    Needs ``consent_subject``: a customer whose recommendations are personalised when
    consent is given. The probe's consent events are tagged with policy version
    ``scorecard-probe``; the customer's personalisation consent is granted again at the end.
    """

    name = "privacy.consent_opt_out_honoured"
    area = Area.PRIVACY
    title = "A consent opt-out is honoured by the recommender"
    requires = ("base_url", "api_keys", "consent_subject")

    def run(self, ctx: CheckContext) -> tuple[Status, Figure | None, str]:
        cid = ctx["consent_subject"]
        url = f"/v1/customers/{cid}/consent"
        headers = {"X-API-Key": ctx["api_keys"]["full"]}

        def set_consent(client: httpx.Client, granted: bool) -> int:
            body = {
                "purpose": "personalisation",
                "granted": granted,
                "policy_version": PROBE_POLICY,
            }
            return client.put(url, json=body, headers=headers).status_code

        with httpx.Client(base_url=ctx["base_url"], timeout=30) as client:
            codes = [set_consent(client, True)]
            before = client.get(f"/v1/recommendations/{cid}", headers=headers).json()
            codes.append(set_consent(client, False))
            after = client.get(f"/v1/recommendations/{cid}", headers=headers).json()
            codes.append(set_consent(client, True))
        if any(c != 200 for c in codes):
            return Status.ERROR, None, f"consent endpoint answered {codes}"
        ok = before.get("personalised") is True and after.get("personalised") is False
        changed = before.get("products") != after.get("products")
        evidence = (
            f"opted in: personalised={before.get('personalised')}; "
            f"opted out: personalised={after.get('personalised')}, list changed={changed}"
        )
        return (Status.PASS if ok and changed else Status.FAIL), None, evidence


def _database_text(engine: sa.engine.Engine) -> bytes:
    """Everything the database holds, as bytes to search: the file itself for SQLite
    (free pages and the write-ahead log included), every row as text for PostgreSQL."""
    if engine.dialect.name == "sqlite":
        path = Path(str(engine.url.database))
        return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.is_file())
    chunks: list[bytes] = []
    meta = sa.MetaData()
    meta.reflect(engine)
    with engine.connect() as conn:
        for table in meta.sorted_tables:
            for row in conn.execute(sa.select(table)):
                chunks.append(repr(tuple(row)).encode("utf-8", "replace"))
    return b"\n".join(chunks)


def _store_text(home: Path) -> str:
    parts = []
    for path in sorted([*home.rglob("*.parquet"), *home.rglob("*.csv")]):
        frame = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)
        parts.append(frame.astype(str).to_csv(index=False))
    return "\n".join(parts)


@checks.register
class NoClearTextAtRest(Check):
    """Known personal values of real customers appear nowhere at rest in clear.

    Needs ``pii_canaries``: personal values (names, emails, phones, card numbers)
    of customers as the shop exported them. The database (SQLite file and WAL, or
    every PostgreSQL row) and every store file under the state directory are searched.
    """

    name = "privacy.no_cleartext_pii_at_rest"
    area = Area.PRIVACY
    title = "No personal data in clear at rest (database and store files)"
    requires = ("runtime", "pii_canaries")

    def run(self, ctx: CheckContext) -> tuple[Status, Figure | None, str]:
        rt = ctx["runtime"]
        values = [v for v in ctx["pii_canaries"] if v and len(v) >= 6]
        if not values:
            return Status.ERROR, None, "no canary values given"
        db = _database_text(rt.engine)
        files = _store_text(rt.home)
        found_db = sum(v.encode("utf-8") in db for v in values)
        found_files = sum(v in files for v in values)
        found = found_db + found_files
        evidence = (
            f"searched {len(values)} personal values of customers in {len(db) / 1e6:.1f} MB of "
            f"database and {len(files) / 1e6:.1f} MB of store files: {found_db} found in the "
            f"database, {found_files} in files"
        )
        status = Status.PASS if found == 0 else Status.FAIL
        return status, Figure("clear_values_found", found, 0), evidence


_STRUCTURED = {
    PiiType.EMAIL,
    PiiType.CREDIT_CARD,
    PiiType.PHONE,
    PiiType.IBAN,
    PiiType.US_SSN,
}


@checks.register
class NoPersonalDataInLogs(Check):
    """Personal data sent to the API does not reach the audit log or log files.

    Sends requests carrying a fresh canary email and card number (as a customer id
    in a path and inside a rejected body), then searches every audit entry and
    every ``*.log`` file under the state directory for the canaries, and runs the
    PII detector over the audit log for structured identifiers.
    """

    name = "privacy.no_pii_in_logs"
    area = Area.PRIVACY
    title = "No personal data in the audit log or logs"
    requires = ("runtime", "base_url", "api_keys")

    def run(self, ctx: CheckContext) -> tuple[Status, Figure | None, str]:
        rt = ctx["runtime"]
        tag = secrets.token_hex(4)
        email = f"canary.{tag}@example.org"
        card = _luhn_card(int(tag, 16))
        headers = {"X-API-Key": ctx["api_keys"]["full"]}
        with httpx.Client(base_url=ctx["base_url"], timeout=30) as client:
            client.get(f"/v1/recommendations/{email}", headers=headers)
            client.post(
                "/v1/fraud/score",
                headers={**headers, "content-type": "application/json"},
                content=json.dumps({"card_number": card, "email": email}),
            )
        records = list(rt.audit.records())
        texts = [json.dumps(r.to_json(), default=str) for r in records]
        logs = [p.read_text("utf-8", "replace") for p in rt.home.rglob("*.log")]
        leaked = sum(email in t or card in t for t in [*texts, *logs])
        detector = PiiDetector()
        # The detector reads what people and callers wrote (principal, action, target,
        # findings, details), not the chain's hex hashes, ids and timestamps, whose digit
        # runs look like phone numbers to any detector.
        flagged = sum(
            any(e.type in _STRUCTURED for t in _free_text(r) for e in detector.detect(t))
            for r in records
        ) + sum(
            any(e.type in _STRUCTURED for e in detector.detect(line))
            for log in logs
            for line in log.splitlines()
        )
        evidence = (
            f"{len(texts)} audit entries and {len(logs)} log files searched: canaries found "
            f"in {leaked}; entries or log lines with a detected email/card/phone/IBAN/SSN: "
            f"{flagged}"
        )
        bad = leaked + flagged
        return (Status.PASS if bad == 0 else Status.FAIL), Figure("leaks", bad, 0), evidence


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, (list, tuple)):
        return [s for v in value for s in _strings(v)]
    return []


def _free_text(record: Any) -> list[str]:
    fields = [record.principal, record.action, record.target, list(record.findings)]
    return [s for s in _strings([*fields, record.details]) if s]


def _luhn_card(seed: int) -> str:
    body = "4" + f"{seed % 10**14:014d}"
    for d in "0123456789":
        if luhn_valid(body + d):
            return body + d
    raise AssertionError("unreachable")  # pragma: no cover


@checks.register
class DsarExportComplete(Check):
    """An access request returns every row held about the customer, in clear.

    Needs ``dsar_subject``: ``{"customer_id", "rows": {table: count}, "email"}`` taken
    from the shop's export before it was protected.
    """

    name = "privacy.dsar_export_complete"
    area = Area.PRIVACY
    title = "A data-subject export is complete"
    requires = ("runtime", "dsar_subject")

    def run(self, ctx: CheckContext) -> tuple[Status, Figure | None, str]:
        rt = ctx["runtime"]
        subject = ctx["dsar_subject"]
        export = export_subject(rt, tenant=DEFAULT_TENANT, customer_id=subject["customer_id"])
        missing = {
            table: (n, len(export["store"].get(table) or []))
            for table, n in subject["rows"].items()
            if len(export["store"].get(table) or []) != n
        }
        record = export.get("encrypted_personal_record") or {}
        email_ok = record.get("email") == subject["email"]
        values_ok = bool(export["pseudonymised_values"]) and all(
            v["value"] for v in export["pseudonymised_values"]
        )
        consent_n = len(export["consent_history"])
        ok = not missing and email_ok and values_ok
        evidence = (
            f"tables {sorted(subject['rows'])}: "
            + ("all row counts match" if not missing else f"mismatches {missing}")
            + f"; personal record decrypted: {email_ok}; tokenised values resolved: {values_ok}"
            + f"; consent events: {consent_n}"
        )
        return (Status.PASS if ok else Status.FAIL), None, evidence


@checks.register
class ErasureEffective(Check):
    """After an erasure request the customer is gone: API, store, keys, and backups.

    Needs ``erasure_subject`` (a customer id with data in the store). Takes a copy
    of the customer's encrypted row first (a "backup"), erases, then checks the
    API answers 404, nothing is exported, the backup copy no longer decrypts, and
    the models trained on the customer are flagged for retraining.
    """

    name = "privacy.erasure_effective"
    area = Area.PRIVACY
    title = "A data-subject erasure is effective (crypto-shredding reaches backups)"
    requires = ("runtime", "base_url", "api_keys", "erasure_subject")

    def run(self, ctx: CheckContext) -> tuple[Status, Figure | None, str]:
        rt = ctx["runtime"]
        cid = ctx["erasure_subject"]
        headers = {"X-API-Key": ctx["api_keys"]["full"]}
        table = EncryptedCustomers(rt.engine, FieldCipher(rt.engine, rt.keyring))
        c = table.table.c
        with rt.engine.connect() as conn:
            backup = conn.execute(
                sa.select(table.table).where(c.tenant == DEFAULT_TENANT, c.customer_id == cid)
            ).all()
        if not backup:
            return Status.ERROR, None, "the erasure subject has no encrypted record"
        table.read_rows(backup)  # readable before
        with httpx.Client(base_url=ctx["base_url"], timeout=30) as client:
            before = client.get(f"/v1/recommendations/{cid}", headers=headers).status_code
            req = erase_subject(rt, tenant=DEFAULT_TENANT, customer_id=cid, principal="scorecard")
            deadline = time.monotonic() + 5
            after = before
            while time.monotonic() < deadline:
                after = client.get(f"/v1/recommendations/{cid}", headers=headers).status_code
                if after == 404:
                    break
                time.sleep(0.25)
        try:
            export_subject(rt, tenant=DEFAULT_TENANT, customer_id=cid)
            exported = True
        except NotFoundError:
            exported = False
        try:
            FieldCipher(rt.engine, rt.keyring).forget(DEFAULT_TENANT, cid)
            EncryptedCustomers(rt.engine, FieldCipher(rt.engine, rt.keyring)).read_rows(backup)
            backup_readable = True
        except InvalidCiphertext:
            backup_readable = False
        except KeyRingError:
            backup_readable = False
        flagged: list[str] = next(
            (
                s.get("models", [])
                for s in req.steps
                if s["step"] == "models_flagged_for_retraining"
            ),
            [],
        )
        ok = (
            before == 200
            and after == 404
            and not exported
            and not backup_readable
            and bool(flagged)
        )
        evidence = (
            f"API before/after: {before}/{after}; export after erasure: "
            f"{'found data' if exported else 'nothing held'}; backup copy decrypts: "
            f"{backup_readable}; models flagged for retraining: {flagged}; request "
            f"{req.request_id} {req.status.value}, {len(req.steps)} steps audited"
        )
        return (Status.PASS if ok else Status.FAIL), None, evidence

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from shopguard.core import crypto
from shopguard.core.errors import DataValidationError, InvalidCiphertext, NotFoundError
from shopguard.core.keyring import KeyRing
from shopguard.core.runtime import Runtime
from shopguard.privacy.fields import (
    WRAP_PURPOSE,
    CustomerRecord,
    EncryptedCustomers,
    FieldCipher,
    FieldRef,
    SubjectKey,
    customers,
    subject_keys,
)


def _alice(cid: str = "C1", tenant: str = "t1") -> CustomerRecord:
    return CustomerRecord(
        tenant,
        cid,
        name=f"Alice {cid}",
        email=f"alice.{cid}@example.com",
        phone="+44 20 7946 0018",
        address="1 Canary Wharf, London",
        date_of_birth="1990-02-03",
        card_number="4111111111111111",
    )


@pytest.fixture
def store(runtime: Runtime) -> EncryptedCustomers:
    return EncryptedCustomers(runtime.engine, FieldCipher(runtime.engine, runtime.keyring))


def test_field_when_round_tripped_then_plaintext_back_and_not_in_token(runtime: Runtime) -> None:
    cipher = FieldCipher(runtime.engine, runtime.keyring)
    ref = FieldRef("orders", "note", "o-1")
    token = cipher.encrypt("t1", "C1", ref, b"alice@example.com")
    assert b"alice" not in token
    assert cipher.decrypt("t1", "C1", ref, token) == b"alice@example.com"


@pytest.mark.parametrize(
    ("tenant", "customer", "ref"),
    [
        ("t1", "C1", FieldRef("orders", "note", "o-2")),  # another row
        ("t1", "C1", FieldRef("orders", "memo", "o-1")),  # another column
        ("t1", "C1", FieldRef("returns", "note", "o-1")),  # another table
        ("t2", "C1", FieldRef("orders", "note", "o-1")),  # another tenant (other key)
        ("t1", "C2", FieldRef("orders", "note", "o-1")),  # another customer (other key)
    ],
)
def test_field_when_moved_elsewhere_then_invalid_ciphertext(
    runtime: Runtime, tenant: str, customer: str, ref: FieldRef
) -> None:
    cipher = FieldCipher(runtime.engine, runtime.keyring)
    cipher.active_key(tenant, customer)
    token = cipher.encrypt("t1", "C1", FieldRef("orders", "note", "o-1"), b"secret")
    with pytest.raises(InvalidCiphertext):
        cipher.decrypt(tenant, customer, ref, token)


def test_field_when_tampered_or_truncated_then_invalid_ciphertext(runtime: Runtime) -> None:
    cipher = FieldCipher(runtime.engine, runtime.keyring)
    ref = FieldRef("orders", "note", "o-1")
    token = cipher.encrypt("t1", "C1", ref, b"secret")
    for bad in (token[:-1] + bytes([token[-1] ^ 1]), token[:10], b"", b"\x02" + token[1:]):
        with pytest.raises(InvalidCiphertext):
            cipher.decrypt("t1", "C1", ref, bad)
    # A generation that does not exist: no key, same opaque error.
    with pytest.raises(InvalidCiphertext):
        cipher.decrypt("t1", "C1", ref, token[:1] + (9).to_bytes(4, "big") + token[5:])


def test_subject_key_when_created_then_stored_wrapped_and_id_has_no_customer_id(
    runtime: Runtime,
) -> None:
    cipher = FieldCipher(runtime.engine, runtime.keyring)
    key = cipher.active_key("t1", "CUSTOMER-42")
    assert "CUSTOMER-42" not in key.key_id and "secret" not in repr(key)
    with runtime.engine.connect() as conn:
        row = conn.execute(sa.select(subject_keys)).one()
    assert key.secret not in bytes(row.wrapped)
    other = FieldCipher(runtime.engine, KeyRing.open(runtime.engine, runtime.settings))
    assert other.active_key("t1", "CUSTOMER-42").secret == key.secret


def test_store_when_written_then_read_back_and_no_clear_text_in_table(
    runtime: Runtime, store: EncryptedCustomers
) -> None:
    store.write(_alice())
    assert store.read("t1", "C1") == _alice()
    with runtime.engine.connect() as conn:
        raw = conn.execute(sa.select(customers)).one()
    blob = b"".join(bytes(v) for v in raw if isinstance(v, bytes | memoryview))
    for value in _alice().personal().values():
        assert value is not None and value.encode() not in blob
    store.write(CustomerRecord("t1", "C1", name="Alice B"))
    assert store.read("t1", "C1") == CustomerRecord("t1", "C1", name="Alice B")
    with pytest.raises(NotFoundError):
        store.read("t1", "nobody")


def test_store_when_ciphertext_moved_to_other_row_or_column_then_invalid_ciphertext(
    runtime: Runtime, store: EncryptedCustomers
) -> None:
    store.write(_alice("C1"))
    store.write(_alice("C2"))
    c = customers.c
    with runtime.engine.begin() as conn:
        email1 = conn.execute(sa.select(c.email).where(c.customer_id == "C1")).scalar_one()
        conn.execute(customers.update().where(c.customer_id == "C2").values(email=email1))
        conn.execute(customers.update().where(c.customer_id == "C1").values(phone=email1))
    with pytest.raises(InvalidCiphertext):
        store.read("t1", "C2")
    with pytest.raises(InvalidCiphertext):
        store.read("t1", "C1")


def test_sealed_column_when_given_plaintext_then_refused(runtime: Runtime) -> None:
    with pytest.raises(sa.exc.StatementError) as info, runtime.engine.begin() as conn:
        conn.execute(
            customers.insert().values(
                tenant="t1", customer_id="C9", key_generation=1, row_version=1,
                updated_at="x", email=b"alice@example.com",
            )
        )  # fmt: skip
    assert isinstance(info.value.orig, DataValidationError)


def test_shred_when_done_then_table_and_backup_copies_unreadable_and_others_fine(
    runtime: Runtime, store: EncryptedCustomers
) -> None:
    store.write(_alice("C1"))
    store.write(_alice("C2"))
    with runtime.engine.connect() as conn:
        backup = conn.execute(sa.select(customers).order_by(customers.c.customer_id)).all()
    assert [r.customer_id for r in store.read_rows(backup)] == ["C1", "C2"]

    cipher = FieldCipher(runtime.engine, runtime.keyring)
    assert cipher.shred("t1", "C1") == 1
    with runtime.engine.connect() as conn:
        keys = conn.execute(sa.select(subject_keys).where(subject_keys.c.customer_id == "C1")).all()
    assert [(k.state, k.wrapped) for k in keys] == [("destroyed", None)]
    # A fresh worker, and the store's own (cached) cipher after its TTL, cannot read C1.
    fresh = EncryptedCustomers(runtime.engine, FieldCipher(runtime.engine, runtime.keyring))
    for reader in (fresh, store):
        if reader is store:
            store._cipher.forget("t1", "C1")
        with pytest.raises(InvalidCiphertext):
            reader.read("t1", "C1")
        with pytest.raises(InvalidCiphertext):
            reader.read_rows(backup[:1])
        assert reader.read("t1", "C2") == _alice("C2")
        assert reader.read_rows(backup[1:]) == [_alice("C2")]


def test_shred_when_other_worker_has_key_cached_then_unreadable_after_ttl(
    runtime: Runtime,
) -> None:
    now = [0.0]
    reader = FieldCipher(runtime.engine, runtime.keyring, cache_ttl=5, monotonic=lambda: now[0])
    ref = FieldRef("orders", "note", "o-1")
    token = reader.encrypt("t1", "C1", ref, b"x")
    FieldCipher(runtime.engine, runtime.keyring).shred("t1", "C1")
    now[0] = 6.0
    with pytest.raises(InvalidCiphertext):
        reader.decrypt("t1", "C1", ref, token)


def test_rotate_key_when_done_then_record_reencrypted_and_old_key_destroyed(
    runtime: Runtime, store: EncryptedCustomers
) -> None:
    store.write(_alice())
    with runtime.engine.connect() as conn:
        old = conn.execute(sa.select(customers)).one()
    new = store.rotate_key("t1", "C1")
    assert new.generation == 2
    assert store.read("t1", "C1") == _alice()
    with runtime.engine.connect() as conn:
        states = dict(
            conn.execute(sa.select(subject_keys.c.generation, subject_keys.c.state)).all()
        )
    assert states == {1: "destroyed", 2: "active"}
    fresh = EncryptedCustomers(runtime.engine, FieldCipher(runtime.engine, runtime.keyring))
    with pytest.raises(InvalidCiphertext):
        fresh.read_rows([old])


def test_rewrap_when_wrapping_key_and_master_key_rotated_then_all_readable(
    runtime: Runtime, store: EncryptedCustomers
) -> None:
    for i in range(7):
        store.write(_alice(f"C{i}"))
    cipher = FieldCipher(runtime.engine, runtime.keyring)
    assert cipher.rewrap_subject_keys(batch_size=3) == 7
    assert cipher.rewrap_subject_keys(batch_size=3, rotate=False) == 0
    new_kek = crypto.new_key()
    runtime.keyring.rewrap(new_kek)
    fresh = EncryptedCustomers(
        runtime.engine, FieldCipher(runtime.engine, KeyRing(runtime.engine, [new_kek]))
    )
    assert [fresh.read("t1", f"C{i}") for i in range(7)] == [_alice(f"C{i}") for i in range(7)]
    wrap_ids = {k for _, _, _, k in runtime.keyring.purposes() if k.startswith(WRAP_PURPOSE)}
    assert len(wrap_ids) == 2


def test_rotation_when_traffic_runs_concurrently_then_no_record_lost_or_unreadable(
    runtime: Runtime, store: EncryptedCustomers
) -> None:
    ids = [f"C{i}" for i in range(6)]
    for cid in ids:
        store.write(_alice(cid))
    stop = threading.Event()
    errors: list[BaseException] = []
    last: dict[str, CustomerRecord] = {}
    lock = threading.Lock()
    started = threading.Event()
    ops = [0]

    def traffic() -> None:
        n = 0
        try:
            while not stop.is_set():
                cid = ids[n % len(ids)]
                record = CustomerRecord("t1", cid, name=f"N{n}", email=f"e{n}@example.com")
                with lock:
                    store.write(record)
                    last[cid] = record
                store.read("t1", ids[(n + 3) % len(ids)])
                n += 1
                ops[0] = n
                started.set()
        except BaseException as exc:
            errors.append(exc)
            started.set()

    worker = threading.Thread(target=traffic)
    worker.start()
    new_kek = crypto.new_key()
    try:
        assert started.wait(timeout=30)
        before = ops[0]
        rotator = EncryptedCustomers(runtime.engine, FieldCipher(runtime.engine, runtime.keyring))
        for round_ in range(3):
            for cid in ids:
                rotator.rotate_key("t1", cid)
            rotator._cipher.rewrap_subject_keys(batch_size=2)
            if round_ == 1:
                runtime.keyring.rewrap(new_kek)
        during = ops[0] - before
    finally:
        stop.set()
        worker.join(timeout=60)
    assert not errors, errors
    assert during > 0  # traffic really ran while keys rotated
    # Only the new master key is needed now.
    fresh = EncryptedCustomers(
        runtime.engine, FieldCipher(runtime.engine, KeyRing(runtime.engine, [new_kek]))
    )
    for cid in ids:
        assert fresh.read("t1", cid) == last.get(cid, _alice(cid))
    with runtime.engine.connect() as conn:
        live = conn.execute(
            sa.select(subject_keys.c.customer_id, sa.func.count())
            .where(subject_keys.c.state != "destroyed")
            .group_by(subject_keys.c.customer_id)
        ).all()
    assert sorted(cid for cid, n in live if n == 1) == sorted(ids)
    with runtime.engine.connect() as conn:
        gens = conn.execute(sa.select(sa.func.min(customers.c.key_generation))).scalar_one()
    assert gens >= 4  # every customer went through three rotations


# Known answer: key bytes 0..31, nonce bytes 0..11, generation 1, ref
# (privacy_customers, email, row C1) in tenant t1. Pins the token layout and the
# context encoding (version || generation || crypto.seal(version || nonce || ct || tag)).
_KAT_TOKEN = bytes.fromhex(
    "010000000101000102030405060708090a0b266ebf78a0a5a763ec2ce7e7d4c71b02eebdaf149082d619e61f9b43e7f2125054"
)


def test_token_when_known_answer_vector_then_opens_and_any_other_context_fails() -> None:
    key = SubjectKey("sk_kat", "t1", "C1", 1, bytes(range(32)))
    ref = FieldRef("privacy_customers", "email", "C1")
    assert FieldCipher.decrypt_with(key, ref, _KAT_TOKEN) == b"alice@example.com"
    for other in (
        FieldRef("privacy_customers", "email", "C2"),
        FieldRef("privacy_customers", "phone", "C1"),
        FieldRef("privacy_customer", "semail", "C1"),  # same concatenation, other split
    ):
        with pytest.raises(InvalidCiphertext):
            FieldCipher.decrypt_with(key, other, _KAT_TOKEN)
    with pytest.raises(InvalidCiphertext):
        FieldCipher.decrypt_with(SubjectKey("sk_kat", "t2", "C1", 1, key.secret), ref, _KAT_TOKEN)


def test_rotation_when_process_dies_part_way_then_all_readable_and_rerun_finishes(
    runtime: Runtime, store: EncryptedCustomers, monkeypatch: pytest.MonkeyPatch
) -> None:
    for i in range(6):
        store.write(_alice(f"C{i}"))
    # Crash 1: a customer's new key exists but the record was not re-encrypted yet.
    FieldCipher(runtime.engine, runtime.keyring).rotate_subject_key("t1", "C0")
    # Crash 2: a re-wrap dies after its first batch.
    cipher = FieldCipher(runtime.engine, runtime.keyring)
    real = crypto.seal
    calls = {"n": 0}

    def dying_seal(*a: object, **kw: object) -> bytes:
        calls["n"] += 1
        if calls["n"] > 2:
            raise RuntimeError("process killed")
        return real(*a, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(crypto, "seal", dying_seal)
    with pytest.raises(RuntimeError):
        cipher.rewrap_subject_keys(batch_size=2)
    monkeypatch.setattr(crypto, "seal", real)
    # A new process reads everything: nothing is half-encrypted.
    fresh = EncryptedCustomers(runtime.engine, FieldCipher(runtime.engine, runtime.keyring))
    assert [fresh.read("t1", f"C{i}") for i in range(6)] == [_alice(f"C{i}") for i in range(6)]
    # And finishing the interrupted work leaves no old key behind.
    assert FieldCipher(runtime.engine, runtime.keyring).rewrap_subject_keys(rotate=False) > 0
    fresh.rotate_key("t1", "C0")
    with runtime.engine.connect() as conn:
        states = (
            conn.execute(sa.select(subject_keys.c.state).where(subject_keys.c.customer_id == "C0"))
            .scalars()
            .all()
        )
    assert sorted(states) == ["active", "destroyed", "destroyed"]
    assert fresh.read("t1", "C0") == _alice("C0")

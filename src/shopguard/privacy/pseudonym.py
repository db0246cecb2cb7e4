"""Pseudonymisation: keyed deterministic tokens, format-preserving tokens, masking,
and re-identification only through an audited call.

A token is an HMAC-SHA256 of the value under a key-ring key of its *purpose*
(``privacy.pseudonym.<purpose>``, first version, so tokens survive key
rotation): the same value gives the same token within a purpose, so joins keep
working, while tokens of two purposes cannot be linked without the keys.

Three shapes:

- ``opaque``: ``tk_`` and 24 hex characters;
- ``email``: ``u<16 hex>@pseudonym.invalid`` (or the original domain when the
  consumer needs it, at the cost of revealing it);
- ``card``: a 16-digit number that keeps the network digit and the last four
  digits, passes the Luhn check, and is otherwise keyed (for systems that
  validate card shape). Ten digits are keyed, so two cards sharing their first
  digit and last four collide with probability 1e-10 per pair; a collision
  within one call is refused rather than mapped to two values.

HMAC tokens are one-way. When a process may later need the value back (a
chargeback, a legal request), :meth:`Pseudonymiser.tokenise` also keeps the
value in the *token vault*, sealed under the customer's data key (so
crypto-shredding the customer destroys it too) and bound to its purpose and
token. :meth:`Pseudonymiser.reidentify` opens it only for a principal holding
the ``privacy:reidentify`` scope (the privacy officer) who gives a reason,
and writes an audit entry for every attempt, granted or not.

Masking (:func:`mask_email`, :func:`mask_card`) is for display: it is not a
pseudonym (it is neither unique nor keyed).

References
----------
GDPR art. 4(5) (pseudonymisation) and recital 26; ENISA, "Pseudonymisation
techniques and best practices" (2019), section 5 (keyed hashes, token vaults);
PCI DSS v4.0 req. 3.4.1 (first six / last four may be shown).
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Collection, Iterable
from datetime import UTC, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from shopguard.core.audit import AuditEvent, AuditLog
from shopguard.core.db import metadata
from shopguard.core.errors import (
    AuthorizationError,
    DataValidationError,
    InvalidCiphertext,
    NotFoundError,
)
from shopguard.core.keyring import KeyRing
from shopguard.privacy.fields import FieldCipher, FieldRef, SealedBytes
from shopguard.privacy.pii import luhn_valid

__all__ = [
    "REIDENTIFY_SCOPE",
    "Pseudonymiser",
    "TokenKind",
    "luhn_valid",
    "mask_card",
    "mask_email",
    "token_vault",
]

#: The scope a principal needs to turn a token back into its value.
REIDENTIFY_SCOPE = "privacy:reidentify"
_PURPOSE_RE = re.compile(r"^[a-z][a-z0-9_.-]{0,47}$")
_MIN_REASON = 10

token_vault = sa.Table(
    "privacy_token_vault",
    metadata,
    sa.Column("tenant", sa.String(64), nullable=False),
    sa.Column("purpose", sa.String(64), nullable=False),
    sa.Column("token", sa.String(128), nullable=False),
    sa.Column("customer_id", sa.String(64), nullable=False),
    sa.Column("sealed", SealedBytes, nullable=False),
    sa.Column("created_at", sa.String(40), nullable=False),
    sa.PrimaryKeyConstraint("tenant", "purpose", "token", name="pk_privacy_token_vault"),
)


class TokenKind(StrEnum):
    OPAQUE = "opaque"
    EMAIL = "email"
    CARD = "card"


def mask_email(value: str) -> str:
    """``jane.doe@example.com`` -> ``j*******@example.com`` (display only)."""
    local, at, domain = value.partition("@")
    if not at or not local:
        return "*" * len(value)
    return local[0] + "*" * (len(local) - 1) + "@" + domain


def mask_card(value: str) -> str:
    """Every digit but the last four replaced by ``*``; separators kept (display only)."""
    n_digits = sum(ch.isdigit() for ch in value)
    seen = 0
    out = []
    for ch in value:
        if ch.isdigit():
            seen += 1
            out.append(ch if seen > n_digits - 4 else "*")
        else:
            out.append(ch)
    return "".join(out)


def _card_token(digest: bytes, digits: str) -> str:
    """16 digits: the network digit, 10 keyed digits, a Luhn fix digit, the last four."""
    if len(digits) < 12 or not digits.isdigit():
        raise DataValidationError("a card token needs a card number of 12 to 19 digits")
    keyed = "".join(str(b % 10) for b in digest[:10])
    head = digits[0] + keyed
    tail = digits[-4:]
    for fix in "0123456789":
        candidate = head + fix + tail
        if luhn_valid(candidate):
            return candidate
    raise AssertionError("unreachable: one fix digit always satisfies Luhn")  # pragma: no cover


class Pseudonymiser:
    """Keyed tokens per purpose, a token vault and audited re-identification.

    Parameters
    ----------
    engine:
        The database holding the token vault.
    keyring:
        Where the per-purpose token keys live.
    cipher:
        Seals vault entries under the customer's data key. Defaults to a
        :class:`FieldCipher` over ``engine`` and ``keyring``.
    audit:
        Where re-identification attempts are recorded; required to re-identify.
    """

    def __init__(
        self,
        engine: Engine,
        keyring: KeyRing,
        *,
        cipher: FieldCipher | None = None,
        audit: AuditLog | None = None,
    ) -> None:
        self._engine = engine
        self._keyring = keyring
        self._cipher = cipher or FieldCipher(engine, keyring)
        self._audit = audit
        self._keys: dict[str, bytes] = {}

    def _key(self, purpose: str) -> bytes:
        key = self._keys.get(purpose)
        if key is None:
            if not _PURPOSE_RE.match(purpose):
                raise DataValidationError(
                    "a purpose is 1-48 lower-case letters, digits, '.', '_' or '-'"
                )
            # The first version of the purpose's key: tokens survive rotation.
            key = self._keyring.first(f"privacy.pseudonym.{purpose}").secret
            self._keys[purpose] = key
        return key

    def token(self, purpose: str, value: str, *, kind: TokenKind = TokenKind.OPAQUE,
              keep_domain: bool = False) -> str:  # fmt: skip
        """The deterministic token of ``value`` for ``purpose`` (no vault entry)."""
        if kind is TokenKind.CARD:
            # Spacing and dashes are presentation: the same card gives the same token.
            digits = "".join(ch for ch in value if ch.isdigit())
            digest = hmac.digest(self._key(purpose), digits.encode("ascii"), "sha256")
            return _card_token(digest, digits)
        digest = hmac.digest(self._key(purpose), value.encode("utf-8"), "sha256")
        if kind is TokenKind.OPAQUE:
            return "tk_" + digest[:12].hex()
        if kind is TokenKind.EMAIL:
            _, at, domain = value.rpartition("@")
            if not at:
                raise DataValidationError("an email token needs an address with '@'")
        return f"u{digest[:8].hex()}@{domain.lower() if keep_domain else 'pseudonym.invalid'}"

    def tokenise(
        self,
        purpose: str,
        values: Iterable[tuple[str, str]],
        *,
        tenant: str,
        kind: TokenKind = TokenKind.OPAQUE,
    ) -> list[str]:
        """Tokens of ``(customer_id, value)`` pairs, keeping each value in the vault.

        A value already in the vault is not stored twice. Returns the tokens in
        input order.

        Raises
        ------
        DataValidationError
            Two different values (or customers) got the same token (a card
            token collision): nothing of this call is kept.
        """
        pairs = list(values)
        tokens = [self.token(purpose, v, kind=kind) for _, v in pairs]
        fresh: dict[str, tuple[str, str]] = {}
        for tok, (cid, value) in zip(tokens, pairs, strict=True):
            seen = fresh.get(tok)
            if seen is None:
                fresh[tok] = (cid, value)
            elif seen[1] != value:
                raise DataValidationError(f"token collision in purpose {purpose}")
            # The same value used by several customers (a shared device) is kept once,
            # under the first of them.
        c = token_vault.c
        with self._engine.begin() as conn:
            existing: dict[str, str] = {}
            toks = list(fresh)
            for i in range(0, len(toks), 500):
                rows = conn.execute(
                    sa.select(c.token, c.customer_id).where(
                        c.tenant == tenant, c.purpose == purpose, c.token.in_(toks[i : i + 500])
                    )
                )
                existing.update({r.token: r.customer_id for r in rows})
            now = datetime.now(UTC).isoformat()
            new_rows = []
            for tok, (cid, value) in fresh.items():
                if tok in existing:
                    continue
                key = self._cipher.active_key(tenant, cid)
                sealed = self._cipher.encrypt_with(
                    key, FieldRef(token_vault.name, purpose, tok), value.encode("utf-8")
                )
                new_rows.append(
                    {
                        "tenant": tenant,
                        "purpose": purpose,
                        "token": tok,
                        "customer_id": cid,
                        "sealed": sealed,
                        "created_at": now,
                    }
                )
            for i in range(0, len(new_rows), 1000):
                conn.execute(token_vault.insert(), new_rows[i : i + 1000])
        return tokens

    def reidentify(
        self,
        token: str,
        *,
        purpose: str,
        tenant: str,
        principal: str,
        scopes: Collection[str],
        reason: str,
    ) -> str:
        """The value behind ``token``, for a privacy officer with a reason. Always audited.

        Raises
        ------
        AuthorizationError
            ``scopes`` lack ``privacy:reidentify`` (the attempt is audited as denied).
        DataValidationError
            No reason, or one shorter than 10 characters.
        NotFoundError
            No such token in the vault.
        InvalidCiphertext
            The customer was erased (their key shredded) or the entry was tampered with.
        """
        audit = self._audit
        if audit is None:
            raise AuthorizationError("re-identification needs an audit log")
        reason = reason.strip()
        target = f"token:{purpose}:{token}"

        def record(decision: str, finding: str | None = None) -> None:
            audit.append(
                AuditEvent(
                    action="privacy.reidentify",
                    decision=decision,
                    principal=principal,
                    target=target,
                    findings=(finding,) if finding else (),
                    details={"tenant": tenant, "reason": reason},
                )
            )

        if REIDENTIFY_SCOPE not in scopes and "*" not in scopes:
            record("deny", "missing_scope")
            raise AuthorizationError(f"missing scope {REIDENTIFY_SCOPE}")
        if len(reason) < _MIN_REASON:
            record("deny", "no_reason")
            raise DataValidationError(
                f"re-identification needs a reason of at least {_MIN_REASON} characters"
            )
        c = token_vault.c
        with self._engine.connect() as conn:
            row = conn.execute(
                sa.select(token_vault).where(
                    c.tenant == tenant, c.purpose == purpose, c.token == token
                )
            ).first()
        if row is None:
            record("deny", "unknown_token")
            raise NotFoundError("unknown token")
        try:
            plain = self._cipher.decrypt(
                tenant, row.customer_id, FieldRef(token_vault.name, purpose, token), row.sealed
            )
        except InvalidCiphertext:
            record("deny", "unreadable")
            raise
        record("allow")
        return plain.decode("utf-8")

    def value_of(
        self, tenant: str, purpose: str, token: str, *, cipher: FieldCipher | None = None
    ) -> str:
        """The value behind a token, for the customer's own access request.

        Not audited here: the caller (a data-subject export) audits the request
        as a whole. Anyone else goes through :meth:`reidentify`.
        """
        c = token_vault.c
        with self._engine.connect() as conn:
            row = conn.execute(
                sa.select(token_vault).where(
                    c.tenant == tenant, c.purpose == purpose, c.token == token
                )
            ).first()
        if row is None:
            raise NotFoundError("unknown token")
        plain = (cipher or self._cipher).decrypt(
            tenant, row.customer_id, FieldRef(token_vault.name, purpose, token), row.sealed
        )
        return plain.decode("utf-8")

    def forget_subject(self, tenant: str, customer_id: str) -> int:
        """Delete a customer's vault entries (after their key is shredded); returns how many."""
        c = token_vault.c
        with self._engine.begin() as conn:
            return int(
                conn.execute(
                    token_vault.delete().where(c.tenant == tenant, c.customer_id == customer_id)
                ).rowcount
            )

    def tokens_of(self, tenant: str, customer_id: str) -> list[tuple[str, str]]:
        """``(purpose, token)`` of every vault entry of a customer (for access requests)."""
        c = token_vault.c
        with self._engine.connect() as conn:
            rows = conn.execute(
                sa.select(c.purpose, c.token)
                .where(c.tenant == tenant, c.customer_id == customer_id)
                .order_by(c.purpose, c.token)
            )
            return [(r.purpose, r.token) for r in rows]

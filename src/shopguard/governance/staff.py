"""Staff accounts: argon2id passwords, TOTP multi-factor, lockout, sessions, break-glass.

Staff are people (the console and the CLI's operators), distinct from the
gateway's API keys. Each has one :class:`~shopguard.governance.roles.Role`.

- Passwords: argon2id, policy of :class:`~shopguard.governance.passwords.PasswordPolicy`
  (length, breached list).
- Multi-factor: TOTP (RFC 6238, pyotp) with the secret sealed under the key ring
  (purpose ``ops.totp``) and ten single-use recovery codes kept only as keyed
  digests. A code is accepted once: the time step it matched is remembered and a
  code from the same or an earlier step is refused as a replay. Every privileged
  role must have MFA before it can log in at all.
- Lockout: after ``ops_lockout_threshold`` failures in a row the account locks for
  ``ops_lockout_base_s`` seconds, doubling with each further failure (capped at a
  day). A wrong TOTP code counts as a failure.
- Sessions: opaque ``sgs_`` tokens stored as keyed digests, with an absolute and
  an idle expiry.
- Break-glass: a logged-in user may take admin scopes for at most
  ``ops_break_glass_max_s``; the grant is audited and raises a critical alert
  at start, and it ends by itself.
- The last enabled admin cannot be disabled or demoted. A locked-out last admin
  recovers with :meth:`StaffDirectory.recover_admin`, which needs host access to
  the state directory (the CLI's ``shopguard staff recover-admin``); it is audited
  and alerted like break-glass.

Every decision is appended to the audit log with the user name as principal and
never the password, code or token.

References
----------
RFC 6238, TOTP: Time-Based One-Time Password Algorithm, 2011.
NIST SP 800-63B sections 5.1.1 (memorised secrets), 5.1.4.2 (OTP replay), 5.2.2 (throttling).
"""

from __future__ import annotations

import base64
import hmac
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pyotp
import sqlalchemy as sa
from argon2 import PasswordHasher
from sqlalchemy.engine import Engine

from shopguard.core.audit import AuditEvent, AuditLog
from shopguard.core.errors import (
    AuthenticationError,
    AuthorizationError,
    DataValidationError,
    NotFoundError,
)
from shopguard.core.events import Alert, EventBus, Severity
from shopguard.core.keyring import KeyRing
from shopguard.core.settings import Settings
from shopguard.governance import ops_tables as t
from shopguard.governance.passwords import PasswordPolicy, hash_password, verify_password
from shopguard.governance.roles import PRIVILEGED, ROLE_SCOPES, Role

__all__ = ["MfaEnrolment", "StaffDirectory", "StaffMember", "StaffSession"]

Clock = Callable[[], datetime]

_USER_RE = re.compile(r"^[a-z][a-z0-9._-]{1,63}$")
_CODE_RE = re.compile(r"^\d{6}$")
_RECOVERY_CODES = 10
_MAX_LOCK = timedelta(days=1)
_TOTP_ISSUER = "shopguard"


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class StaffMember:
    username: str
    display_name: str
    role: Role
    manager: str | None
    mfa_enabled: bool
    locked_until: str | None
    last_login_at: str | None
    created_at: str
    disabled_at: str | None

    @property
    def scopes(self) -> frozenset[str]:
        return ROLE_SCOPES[self.role]

    @property
    def privileged(self) -> bool:
        return self.role in PRIVILEGED

    @property
    def active(self) -> bool:
        return self.disabled_at is None


@dataclass(frozen=True, repr=False)
class MfaEnrolment:
    """Shown once: the TOTP secret (for the authenticator app) and the recovery codes."""

    username: str
    secret: str
    provisioning_uri: str
    recovery_codes: tuple[str, ...]

    def __repr__(self) -> str:
        return f"MfaEnrolment(username={self.username!r})"


@dataclass(frozen=True, repr=False)
class StaffSession:
    token: str
    username: str
    role: Role
    scopes: frozenset[str]
    expires_at: datetime
    break_glass_until: datetime | None = None

    def __repr__(self) -> str:
        return f"StaffSession(username={self.username!r}, role={self.role.value!r})"


class StaffDirectory:
    """Create, authenticate and manage staff accounts (state in the database)."""

    def __init__(
        self,
        engine: Engine,
        keyring: KeyRing,
        audit: AuditLog,
        *,
        bus: EventBus | None = None,
        settings: Settings | None = None,
        clock: Clock | None = None,
        hasher: PasswordHasher | None = None,
    ) -> None:
        s = settings or Settings()
        self._engine = engine
        self._keyring = keyring
        self._audit = audit
        self._bus = bus
        self._clock = clock or _now
        self._hasher = hasher
        self._dummy: str | None = None
        self.policy = PasswordPolicy(min_length=s.ops_password_min_length)
        self.lockout_threshold = s.ops_lockout_threshold
        self.lockout_base = timedelta(seconds=s.ops_lockout_base_s)
        self.session_ttl = timedelta(seconds=s.ops_session_ttl_s)
        self.session_idle = timedelta(seconds=s.ops_session_idle_s)
        self.break_glass_max = timedelta(seconds=s.ops_break_glass_max_s)

    @classmethod
    def from_runtime(cls, rt: Any, **kwargs: Any) -> StaffDirectory:
        """Built from a :class:`~shopguard.core.runtime.Runtime`."""
        return cls(rt.engine, rt.keyring, rt.audit, bus=rt.bus, settings=rt.settings, **kwargs)

    # -- helpers --------------------------------------------------------------------
    def _iso(self, dt: datetime | None = None) -> str:
        return (dt or self._clock()).astimezone(UTC).isoformat()

    def _record(
        self,
        action: str,
        decision: str,
        username: str | None,
        *,
        actor: str | None = None,
        findings: tuple[str, ...] = (),
        details: dict[str, Any] | None = None,
    ) -> None:
        self._audit.append(
            AuditEvent(
                action=action,
                decision=decision,
                principal=f"staff:{actor or username}" if (actor or username) else None,
                target=f"staff:{username}" if username else None,
                findings=findings,
                details=details or {},
            )
        )

    def _alert(self, topic: str, severity: Severity, summary: str, **details: Any) -> None:
        if self._bus is not None:
            self._bus.publish(
                Alert(
                    topic=topic,
                    severity=severity,
                    source="governance.staff",
                    summary=summary,
                    details=details,
                )
            )

    def _row(self, username: str) -> sa.RowMapping:
        with self._engine.connect() as conn:
            row = (
                conn.execute(sa.select(t.staff).where(t.staff.c.username == username))
                .mappings()
                .first()
            )
        if row is None:
            raise NotFoundError(f"no staff member {username}")
        return row

    @staticmethod
    def _member(row: sa.RowMapping) -> StaffMember:
        return StaffMember(
            username=row["username"],
            display_name=row["display_name"],
            role=Role(row["role"]),
            manager=row["manager"],
            mfa_enabled=bool(row["mfa_enabled"]),
            locked_until=row["locked_until"],
            last_login_at=row["last_login_at"],
            created_at=row["created_at"],
            disabled_at=row["disabled_at"],
        )

    def _active_admins(self) -> list[str]:
        with self._engine.connect() as conn:
            return [
                str(u)
                for u in conn.execute(
                    sa.select(t.staff.c.username).where(
                        t.staff.c.role == Role.ADMIN.value, t.staff.c.disabled_at.is_(None)
                    )
                ).scalars()
            ]

    def _update(self, username: str, **values: Any) -> None:
        with self._engine.begin() as conn:
            conn.execute(t.staff.update().where(t.staff.c.username == username).values(**values))

    def _dummy_hash(self) -> str:
        # A real argon2id hash of a random string: unknown users cost the same verify time.
        if self._dummy is None:
            self._dummy = hash_password(
                base64.b64encode(os.urandom(18)).decode(), hasher=self._hasher
            )
        return self._dummy

    # -- accounts -------------------------------------------------------------------
    def add(
        self,
        username: str,
        *,
        display_name: str,
        role: Role,
        password: str,
        manager: str | None = None,
        actor: str = "cli",
    ) -> StaffMember:
        """Create an account. Privileged roles must enrol MFA before their first login."""
        if not _USER_RE.match(username):
            raise DataValidationError(
                "username must be 2-64 lower-case letters, digits, '.', '_' or '-'",
                column="username",
            )
        if not display_name.strip() or len(display_name) > 128:
            raise DataValidationError(
                "display name must be 1-128 characters", column="display_name"
            )
        self.policy.check(password, username=username)
        now = self._iso()
        with self._engine.begin() as conn:
            exists = conn.execute(
                sa.select(t.staff.c.username).where(t.staff.c.username == username)
            ).first()
            if exists is not None:
                raise DataValidationError(
                    f"staff member {username} already exists", column="username"
                )
            conn.execute(
                t.staff.insert().values(
                    username=username,
                    display_name=display_name.strip(),
                    role=role.value,
                    manager=manager,
                    password_hash=hash_password(password, hasher=self._hasher),
                    password_changed_at=now,
                    mfa_enabled=False,
                    failed_logins=0,
                    created_at=now,
                )
            )
        self._record("staff.add", "allow", username, actor=actor, details={"role": role.value})
        return self.get(username)

    def get(self, username: str) -> StaffMember:
        return self._member(self._row(username))

    def members(self) -> list[StaffMember]:
        with self._engine.connect() as conn:
            rows = conn.execute(sa.select(t.staff).order_by(t.staff.c.username)).mappings().all()
        return [self._member(r) for r in rows]

    def set_role(self, username: str, role: Role, *, actor: str = "cli") -> StaffMember:
        member = self.get(username)
        if member.role == Role.ADMIN and role != Role.ADMIN and self._active_admins() == [username]:
            self._record("staff.set_role", "deny", username, actor=actor, findings=("last_admin",))
            raise AuthorizationError("refused: this is the last enabled admin")
        self._update(username, role=role.value)
        self._revoke_sessions(username)
        self._record(
            "staff.set_role",
            "allow",
            username,
            actor=actor,
            details={"from": member.role.value, "to": role.value},
        )
        return self.get(username)

    def disable(self, username: str, *, actor: str = "cli") -> None:
        member = self.get(username)
        if member.role == Role.ADMIN and self._active_admins() == [username]:
            self._record("staff.disable", "deny", username, actor=actor, findings=("last_admin",))
            raise AuthorizationError("refused: this is the last enabled admin")
        self._update(username, disabled_at=self._iso())
        self._revoke_sessions(username)
        self._record("staff.disable", "allow", username, actor=actor)

    def enable(self, username: str, *, actor: str = "cli") -> None:
        self.get(username)
        self._update(username, disabled_at=None)
        self._record("staff.enable", "allow", username, actor=actor)

    def unlock(self, username: str, *, actor: str = "cli") -> None:
        self.get(username)
        self._update(username, failed_logins=0, locked_until=None)
        self._record("staff.unlock", "allow", username, actor=actor)

    def change_password(self, username: str, old: str, new: str) -> None:
        row = self._row(username)
        if not verify_password(row["password_hash"], old, hasher=self._hasher):
            self._record("staff.change_password", "deny", username, findings=("bad_password",))
            raise AuthenticationError("current password is wrong")
        self.policy.check(new, username=username)
        self._update(
            username,
            password_hash=hash_password(new, hasher=self._hasher),
            password_changed_at=self._iso(),
        )
        self._revoke_sessions(username)
        self._record("staff.change_password", "allow", username)

    def reset_password(self, username: str, new: str, *, actor: str = "cli") -> None:
        self.get(username)
        self.policy.check(new, username=username)
        self._update(
            username,
            password_hash=hash_password(new, hasher=self._hasher),
            password_changed_at=self._iso(),
        )
        self._revoke_sessions(username)
        self._record("staff.reset_password", "allow", username, actor=actor)

    # -- multi-factor ---------------------------------------------------------------
    def _context(self, username: str) -> bytes:
        return f"shopguard/ops/totp/{username}".encode()

    def _recovery_digest(self, username: str, code: str) -> str:
        normal = code.replace("-", "").replace(" ", "").upper()
        return self._keyring.pseudonym("ops.recovery", f"{username}:{normal}")

    def begin_mfa(self, username: str, *, actor: str = "cli") -> MfaEnrolment:
        """Start (or restart) enrolment: a new secret and recovery codes, active once confirmed."""
        member = self.get(username)
        secret = pyotp.random_base32()
        sealed = self._keyring.seal("ops.totp", secret.encode(), context=self._context(username))
        codes = tuple(self._new_recovery_code() for _ in range(_RECOVERY_CODES))
        # Digests before the transaction: the key ring may create its key (its own write).
        digests = [
            {"username": username, "digest": self._recovery_digest(username, c)} for c in codes
        ]
        with self._engine.begin() as conn:
            conn.execute(
                t.staff.update()
                .where(t.staff.c.username == username)
                .values(mfa_secret=sealed, mfa_enabled=False, mfa_last_step=None)
            )
            conn.execute(t.recovery_codes.delete().where(t.recovery_codes.c.username == username))
            conn.execute(
                t.recovery_codes.insert(),
                digests,
            )
        self._revoke_sessions(username)
        self._record("staff.mfa.begin", "allow", username, actor=actor)
        uri = pyotp.TOTP(secret).provisioning_uri(name=member.username, issuer_name=_TOTP_ISSUER)
        return MfaEnrolment(username, secret, uri, codes)

    @staticmethod
    def _new_recovery_code() -> str:
        raw = base64.b32encode(os.urandom(10)).decode()[:12]
        return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"

    def confirm_mfa(self, username: str, code: str) -> None:
        """Turn MFA on once the user proves the authenticator produces the right code."""
        row = self._row(username)
        if row["mfa_secret"] is None:
            raise DataValidationError("MFA enrolment was not started", column="code")
        step = self._match_totp(row, code)
        if step is None:
            self._record("staff.mfa.confirm", "deny", username, findings=("bad_totp",))
            raise AuthenticationError("wrong verification code")
        self._update(username, mfa_enabled=True, mfa_last_step=step)
        self._record("staff.mfa.confirm", "allow", username)

    def _match_totp(self, row: sa.RowMapping, code: str) -> int | None:
        """The time step ``code`` belongs to (now, or one step either side), else None."""
        if not _CODE_RE.match(code or ""):
            return None
        secret = self._keyring.open_(
            bytes(row["mfa_secret"]), context=self._context(row["username"])
        ).decode()
        totp = pyotp.TOTP(secret)
        now = self._clock()
        base = totp.timecode(now)
        found = None
        for offset in (-1, 0, 1):
            expected = totp.generate_otp(base + offset)
            # SECURITY: compare_digest; == leaks timing. Every candidate is compared.
            if hmac.compare_digest(expected, code):
                found = base + offset
        return found

    # -- login ----------------------------------------------------------------------
    def login(
        self,
        username: str,
        password: str,
        *,
        code: str | None = None,
        recovery_code: str | None = None,
    ) -> StaffSession:
        """Check password and second factor; return a new session or raise
        :class:`AuthenticationError` (locked accounts say when to retry, nothing else leaks)."""
        now = self._clock()
        with self._engine.connect() as conn:
            row = (
                conn.execute(sa.select(t.staff).where(t.staff.c.username == username))
                .mappings()
                .first()
            )
        if row is None:
            verify_password(
                self._dummy_hash(), password, hasher=self._hasher
            )  # same time as a user
            self._record("staff.login", "deny", username, findings=("unknown_user",))
            raise AuthenticationError("invalid user name or password")
        if row["disabled_at"] is not None:
            self._record("staff.login", "deny", username, findings=("disabled",))
            raise AuthenticationError("invalid user name or password")
        if row["locked_until"] and datetime.fromisoformat(row["locked_until"]) > now:
            wait = int((datetime.fromisoformat(row["locked_until"]) - now).total_seconds()) + 1
            self._record("staff.login", "deny", username, findings=("locked",))
            raise AuthenticationError(f"account locked after repeated failures; retry in {wait} s")
        if not verify_password(row["password_hash"], password, hasher=self._hasher):
            self._fail(row, "bad_password")
            raise AuthenticationError("invalid user name or password")
        role = Role(row["role"])
        if row["mfa_enabled"]:
            if recovery_code:
                if not self._use_recovery_code(username, recovery_code):
                    self._fail(row, "bad_recovery_code")
                    raise AuthenticationError("wrong recovery code")
            else:
                step = self._match_totp(row, code or "")
                if step is None:
                    self._fail(row, "bad_totp")
                    raise AuthenticationError("wrong or missing verification code")
                last = row["mfa_last_step"]
                if last is not None and step <= int(last):
                    self._fail(row, "replayed_totp")
                    raise AuthenticationError(
                        "verification code already used; wait for the next one"
                    )
                self._update(username, mfa_last_step=step)
        elif role in PRIVILEGED:
            self._record("staff.login", "deny", username, findings=("mfa_required",))
            raise AuthenticationError(
                f"role {role.value} requires multi-factor authentication; enrol with "
                f"'shopguard staff enable-mfa {username}'"
            )
        self._update(username, failed_logins=0, locked_until=None, last_login_at=self._iso(now))
        session = self._new_session(username, role, ROLE_SCOPES[role], now + self.session_ttl)
        self._record("staff.login", "allow", username, details={"mfa": bool(row["mfa_enabled"])})
        return session

    def _fail(self, row: sa.RowMapping, reason: str) -> None:
        username = row["username"]
        failures = int(row["failed_logins"] or 0) + 1
        values: dict[str, Any] = {"failed_logins": failures}
        locked = failures >= self.lockout_threshold
        if locked:
            lock = min(self.lockout_base * (2 ** (failures - self.lockout_threshold)), _MAX_LOCK)
            values["locked_until"] = self._iso(self._clock() + lock)
        self._update(username, **values)
        self._record(
            "staff.login", "deny", username, findings=(reason,), details={"failures": failures}
        )
        if locked:
            admin = row["role"] == Role.ADMIN.value
            self._alert(
                "ops.staff.lockout",
                Severity.HIGH if admin else Severity.WARNING,
                f"staff account locked after {failures} failed logins",
                username=username,
                failures=failures,
            )

    def _use_recovery_code(self, username: str, code: str) -> bool:
        digest = self._recovery_digest(username, code)
        with self._engine.begin() as conn:
            n = conn.execute(
                t.recovery_codes.update()
                .where(
                    t.recovery_codes.c.username == username,
                    t.recovery_codes.c.digest == digest,
                    t.recovery_codes.c.used_at.is_(None),
                )
                .values(used_at=self._iso())
            ).rowcount
        return n == 1

    def recovery_codes_left(self, username: str) -> int:
        with self._engine.connect() as conn:
            return int(
                conn.execute(
                    sa.select(sa.func.count())
                    .select_from(t.recovery_codes)
                    .where(
                        t.recovery_codes.c.username == username,
                        t.recovery_codes.c.used_at.is_(None),
                    )
                ).scalar_one()
            )

    # -- sessions -------------------------------------------------------------------
    def _session_digest(self, token: str) -> str:
        return self._keyring.pseudonym("ops.session", token)

    def _new_session(
        self, username: str, role: Role, scopes: frozenset[str], expires: datetime
    ) -> StaffSession:
        token = "sgs_" + base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")
        now = self._iso()
        with self._engine.begin() as conn:
            conn.execute(
                t.sessions.insert().values(
                    digest=self._session_digest(token),
                    username=username,
                    created_at=now,
                    expires_at=self._iso(expires),
                    last_seen_at=now,
                )
            )
        return StaffSession(token, username, role, scopes, expires)

    def authenticate(self, token: str) -> StaffSession:
        """The live session for ``token`` (with break-glass scopes while a grant lasts)."""
        if not token.startswith("sgs_") or not self._keyring.has("ops.session"):
            # No session was ever issued: refuse without creating the session key (a probe
            # with a forged token must leave the key ring as it was).
            raise AuthenticationError("invalid session")
        now = self._clock()
        digest = self._session_digest(token)
        with self._engine.connect() as conn:
            row = (
                conn.execute(sa.select(t.sessions).where(t.sessions.c.digest == digest))
                .mappings()
                .first()
            )
        if row is None or row["revoked_at"] is not None:
            raise AuthenticationError("invalid session")
        if datetime.fromisoformat(row["expires_at"]) <= now:
            raise AuthenticationError("session expired; log in again")
        if datetime.fromisoformat(row["last_seen_at"]) + self.session_idle <= now:
            raise AuthenticationError("session expired after inactivity; log in again")
        member = self.get(row["username"])
        if not member.active:
            raise AuthenticationError("invalid session")
        with self._engine.begin() as conn:
            conn.execute(
                t.sessions.update()
                .where(t.sessions.c.digest == digest)
                .values(last_seen_at=self._iso(now))
            )
        grant = self._active_break_glass(member.username)
        scopes = ROLE_SCOPES[Role.ADMIN] if grant is not None else member.scopes
        return StaffSession(
            token,
            member.username,
            member.role,
            scopes,
            datetime.fromisoformat(row["expires_at"]),
            grant,
        )

    def logout(self, token: str) -> None:
        with self._engine.begin() as conn:
            conn.execute(
                t.sessions.update()
                .where(
                    t.sessions.c.digest == self._session_digest(token),
                    t.sessions.c.revoked_at.is_(None),
                )
                .values(revoked_at=self._iso())
            )

    def _revoke_sessions(self, username: str) -> None:
        with self._engine.begin() as conn:
            conn.execute(
                t.sessions.update()
                .where(t.sessions.c.username == username, t.sessions.c.revoked_at.is_(None))
                .values(revoked_at=self._iso())
            )

    # -- break-glass ----------------------------------------------------------------
    def active_break_glass(self, username: str) -> datetime | None:
        """When the live break-glass grant of ``username`` ends (None: no grant)."""
        return self._active_break_glass(username)

    def _active_break_glass(self, username: str) -> datetime | None:
        now = self._clock()
        with self._engine.connect() as conn:
            rows = conn.execute(
                sa.select(t.break_glass.c.expires_at).where(
                    t.break_glass.c.username == username, t.break_glass.c.ended_at.is_(None)
                )
            ).scalars()
            ends = [datetime.fromisoformat(r) for r in rows]
        live = [e for e in ends if e > now]
        return max(live) if live else None

    def break_glass(self, token: str, *, reason: str, duration_s: int) -> StaffSession:
        """Elevate the caller's session to admin scopes for ``duration_s`` (time-boxed, alerted)."""
        session = self.authenticate(token)
        if session.role == Role.AUDITOR:
            self._record("staff.break_glass", "deny", session.username, findings=("auditor",))
            raise AuthorizationError("auditors cannot break glass")
        if len(reason.strip()) < 10:
            raise DataValidationError(
                "break-glass needs a reason of at least 10 characters", column="reason"
            )
        if not 60 <= duration_s <= self.break_glass_max.total_seconds():
            raise DataValidationError(
                f"break-glass lasts 60 to {int(self.break_glass_max.total_seconds())} seconds",
                column="duration",
            )
        now = self._clock()
        until = now + timedelta(seconds=duration_s)
        with self._engine.begin() as conn:
            conn.execute(
                t.break_glass.insert().values(
                    username=session.username,
                    reason=reason.strip()[:512],
                    started_at=self._iso(now),
                    expires_at=self._iso(until),
                )
            )
        self._record(
            "staff.break_glass",
            "allow",
            session.username,
            findings=("break_glass",),
            details={"until": self._iso(until), "reason": reason.strip()[:512]},
        )
        self._alert(
            "ops.break_glass",
            Severity.CRITICAL,
            f"break-glass: {session.username} holds admin scopes until {self._iso(until)}",
            username=session.username,
            until=self._iso(until),
        )
        return self.authenticate(token)

    def end_break_glass(self, username: str, *, actor: str = "cli") -> int:
        with self._engine.begin() as conn:
            n = conn.execute(
                t.break_glass.update()
                .where(t.break_glass.c.username == username, t.break_glass.c.ended_at.is_(None))
                .values(ended_at=self._iso())
            ).rowcount
        self._record("staff.break_glass.end", "allow", username, actor=actor, details={"grants": n})
        return int(n)

    # -- recovery of the last admin -------------------------------------------------
    def recover_admin(self, username: str, new_password: str, *, operator: str) -> MfaEnrolment:
        """Documented recovery path for a locked-out or MFA-less last admin.

        Needs host access to the state directory (master key and database), so
        only an operator of the machine can run it. Resets the password, unlocks,
        re-enables, restarts MFA enrolment (new secret and recovery codes), audits
        and raises a critical alert.
        """
        member = self.get(username)
        if member.role != Role.ADMIN:
            raise DataValidationError(f"{username} is not an admin", column="username")
        self.policy.check(new_password, username=username)
        self._update(
            username,
            password_hash=hash_password(new_password, hasher=self._hasher),
            password_changed_at=self._iso(),
            failed_logins=0,
            locked_until=None,
            disabled_at=None,
        )
        enrolment = self.begin_mfa(username, actor=operator)
        self._record(
            "staff.recover_admin", "allow", username, actor=operator, findings=("recovery",)
        )
        self._alert(
            "ops.staff.recover_admin",
            Severity.CRITICAL,
            f"admin account {username} recovered from the host by {operator}",
            username=username,
            operator=operator,
        )
        return enrolment

    def needs_mfa(self) -> list[StaffMember]:
        """Active privileged accounts without MFA (the scorecard wants none)."""
        return [m for m in self.members() if m.active and m.privileged and not m.mfa_enabled]

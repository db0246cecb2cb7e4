"""The one error tree of shopguard.

Library code raises these, never ``HTTPException`` or ``SystemExit``; the
gateway maps them to ``application/problem+json`` once, and the CLI maps them
to exit code 2 with one line. Messages name identifiers (a setting, a file, a
row, a column, a key id), never values (secrets, personal data, prompts).

::

    ShopguardError
    ├── ConfigError              bad or missing setting, unreadable key file
    ├── DataValidationError      input data does not fit its schema (file, row, column)
    ├── StorageError             the database cannot be reached or migrated
    ├── KeyRingError             key ring missing, locked or inconsistent
    │   └── InvalidCiphertext    any decrypt / verify failure (one opaque error)
    ├── AuditSinkError           an audit entry could not be made durable
    ├── ModelError               a model artifact is missing, corrupt or the wrong kind
    ├── PluginError              registry misuse (duplicate or unknown name)
    ├── AuthenticationError      -> 401
    ├── AuthorizationError       -> 403
    ├── NotFoundError            -> 404
    └── RateLimitedError         -> 429 with ``retry_after``
"""

from __future__ import annotations

__all__ = [
    "AuditSinkError",
    "AuthenticationError",
    "AuthorizationError",
    "ConfigError",
    "DataValidationError",
    "InvalidCiphertext",
    "KeyRingError",
    "ModelError",
    "NotFoundError",
    "PluginError",
    "RateLimitedError",
    "ShopguardError",
    "StorageError",
]


class ShopguardError(Exception):
    """Base of every error shopguard raises on purpose."""

    http_status: int = 400
    title: str = "Bad request"


class ConfigError(ShopguardError):
    """A setting is missing, malformed or unusable."""

    http_status = 500
    title = "Configuration error"


class DataValidationError(ShopguardError):
    """Input data does not fit its schema.

    Parameters
    ----------
    message:
        What is wrong, naming no values.
    file, row, column:
        Where, when known. ``row`` is 1-based over data rows (the header is not counted).
    """

    http_status = 422
    title = "Invalid data"

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        row: int | None = None,
        column: str | None = None,
    ) -> None:
        self.file = file
        self.row = row
        self.column = column
        where = []
        if file is not None:
            where.append(file)
        if row is not None:
            where.append(f"row {row}")
        if column is not None:
            where.append(f"column {column!r}")
        prefix = ", ".join(where)
        super().__init__(f"{prefix}: {message}" if prefix else message)


class StorageError(ShopguardError):
    """The database cannot be reached, opened or migrated."""

    http_status = 503
    title = "Storage unavailable"


class KeyRingError(ShopguardError):
    """The key ring is missing, locked or inconsistent."""

    http_status = 500
    title = "Key ring error"


class InvalidCiphertext(KeyRingError):
    """Decryption or verification failed. Deliberately says nothing about why."""

    def __init__(self, message: str = "ciphertext failed authentication") -> None:
        super().__init__(message)


class AuditSinkError(ShopguardError):
    """An audit entry could not be made durable; the decision it records must not stand."""

    http_status = 503
    title = "Audit log unavailable"


class ModelError(ShopguardError):
    """A model artifact is missing, corrupt, unsafe or of the wrong kind."""

    http_status = 503
    title = "Model unavailable"


class PluginError(ShopguardError):
    """A registry was misused: a duplicate or unknown plug-in name."""

    http_status = 500
    title = "Plug-in error"


class AuthenticationError(ShopguardError):
    """No or bad credentials."""

    http_status = 401
    title = "Unauthorized"


class AuthorizationError(ShopguardError):
    """Credentials are good but do not allow this."""

    http_status = 403
    title = "Forbidden"


class NotFoundError(ShopguardError):
    """The thing asked for does not exist (or is not visible to the caller)."""

    http_status = 404
    title = "Not found"


class RateLimitedError(ShopguardError):
    """Too many requests; retry after ``retry_after`` seconds."""

    http_status = 429
    title = "Too many requests"

    def __init__(self, message: str = "rate limit exceeded", *, retry_after: int = 1) -> None:
        self.retry_after = retry_after
        super().__init__(message)

"""doorward: embeddable identity and access.

Registration, argon2id passwords, JWT access tokens with rotating refresh
tokens, sessions and roles, in process::

    import doorward

    dw = doorward.Doorward(database_url="sqlite://app.db", jwt_secret="...")
    reg = dw.register_user("john", "john@example.com", "correct horse battery")
    principal = dw.verify_token(reg.tokens.access_token)
    dw.require(principal.user_id, doorward.Permission.READ_USERS)

``Doorward`` blocks (releasing the GIL); ``AsyncDoorward`` has the same
methods as awaitables. Failures raise :class:`DoorwardError` subclasses with
a stable ``code``. Web frameworks: :mod:`doorward.fastapi`,
:mod:`doorward.flask`, :mod:`doorward.django`.
"""

from __future__ import annotations

from doorward._native import (
    AsyncDoorward,
    AsyncLimits,
    AsyncRoles,
    AsyncSessions,
    AsyncUsers,
    ClientInfo,
    Decision,
    Doorward,
    Limits,
    Page,
    PasswordHasher,
    Principal,
    Registration,
    Role,
    Roles,
    Session,
    Sessions,
    TokenPair,
    User,
    Users,
    __version__,
    error_codes,
)
from doorward.errors import (
    AccountLockedError,
    ConfigError,
    DoorwardError,
    DuplicateEmailError,
    DuplicateUsernameError,
    ErrorCode,
    ForbiddenError,
    InternalError,
    InvalidCredentialsError,
    NotFoundError,
    RateLimitedError,
    StorageError,
    TokenExpiredError,
    TokenInvalidError,
    TokenReusedError,
    TokenRevokedError,
    UserDisabledError,
    ValidationError,
)
from doorward.permissions import Permission

__all__ = [
    "AccountLockedError",
    "AsyncDoorward",
    "AsyncLimits",
    "AsyncRoles",
    "AsyncSessions",
    "AsyncUsers",
    "ClientInfo",
    "ConfigError",
    "Decision",
    "Doorward",
    "DoorwardError",
    "DuplicateEmailError",
    "DuplicateUsernameError",
    "ErrorCode",
    "ForbiddenError",
    "InternalError",
    "InvalidCredentialsError",
    "Limits",
    "NotFoundError",
    "Page",
    "PasswordHasher",
    "Permission",
    "Principal",
    "RateLimitedError",
    "Registration",
    "Role",
    "Roles",
    "Session",
    "Sessions",
    "StorageError",
    "TokenExpiredError",
    "TokenInvalidError",
    "TokenPair",
    "TokenReusedError",
    "TokenRevokedError",
    "User",
    "UserDisabledError",
    "Users",
    "ValidationError",
    "__version__",
    "error_codes",
]

"""doorward: embeddable identity and access.

Registration, argon2id passwords, JWT access tokens with rotating refresh
tokens, sessions and roles, in process::

    import doorward

    dw = doorward.Doorward(database_url="sqlite://app.db", jwt_secret="...")
    reg = dw.register_user("john", "john@example.com", "correct horse battery")
    principal = dw.verify_token(reg.tokens.access_token)
    dw.require(principal.user_id, doorward.Permission.READ_USERS)
    result = dw.login("john", "correct horse battery")
    if isinstance(result, doorward.MfaChallenge):  # a second factor is enrolled
        result = dw.complete_mfa(result.flow_id, "totp", code_from_the_user)

``Doorward`` blocks (releasing the GIL); ``AsyncDoorward`` has the same
methods as awaitables. Failures raise :class:`DoorwardError` subclasses with
a stable ``code``. Beyond accounts: ``dw.files`` (objects in a folder,
memory or S3), ``dw.events`` (subscriptions and streams of domain events),
``dw.webhooks`` (signed HTTP delivery), ``dw.audit`` (the hash-chained
log), ``dw.mail`` (outgoing mail and the welcome mail), ``dw.mfa``
(TOTP authenticators and recovery codes), ``dw.passkeys`` (WebAuthn),
``dw.oauth`` (sign-in with OAuth 2.0 / OpenID Connect providers) and
``dw.metrics_text()`` (Prometheus text for a ``/metrics`` route). Web
frameworks: :mod:`doorward.fastapi`, :mod:`doorward.flask`,
:mod:`doorward.django`; the admin console, mounted in an ASGI app:
:mod:`doorward.console`.
"""

from __future__ import annotations

from doorward import errors as _errors
from doorward._native import (
    AsyncAudit,
    AsyncDoorward,
    AsyncEvents,
    AsyncFiles,
    AsyncLimits,
    AsyncMail,
    AsyncMfa,
    AsyncOAuth,
    AsyncPasskeys,
    AsyncRoles,
    AsyncSessions,
    AsyncUsers,
    AsyncWebhooks,
    Audit,
    AuditPage,
    AuditRecord,
    AuditVerification,
    AuthorizationStart,
    ClientInfo,
    Decision,
    DeliveryRecord,
    Doorward,
    Event,
    EventPage,
    Events,
    FileInfo,
    FilePage,
    Files,
    FlowStarted,
    Identity,
    ImportedUser,
    ImportFailure,
    ImportReport,
    Limits,
    Mail,
    Message,
    Mfa,
    MfaChallenge,
    MfaStatus,
    OAuth,
    OAuthCompletion,
    Page,
    PasskeyInfo,
    Passkeys,
    PasswordHasher,
    Principal,
    ProviderInfo,
    ProviderTokens,
    RecoveryCodes,
    Registration,
    Role,
    Roles,
    Session,
    Sessions,
    Subscription,
    TokenPair,
    TotpEnrolment,
    User,
    UserRowPage,
    Users,
    Webhook,
    Webhooks,
    WebhookTest,
    __version__,
    error_codes,
)
from doorward._streams import AsyncEventStream, EventStream
from doorward.errors import *  # noqa: F403 (the exception classes and ErrorCode: errors.__all__)
from doorward.permissions import Permission

__all__ = [
    "AsyncAudit",
    "AsyncDoorward",
    "AsyncEventStream",
    "AsyncEvents",
    "AsyncFiles",
    "AsyncLimits",
    "AsyncMail",
    "AsyncMfa",
    "AsyncOAuth",
    "AsyncPasskeys",
    "AsyncRoles",
    "AsyncSessions",
    "AsyncUsers",
    "AsyncWebhooks",
    "Audit",
    "AuditPage",
    "AuditRecord",
    "AuditVerification",
    "AuthorizationStart",
    "ClientInfo",
    "Decision",
    "DeliveryRecord",
    "Doorward",
    "Event",
    "EventPage",
    "EventStream",
    "Events",
    "FileInfo",
    "FilePage",
    "Files",
    "FlowStarted",
    "Identity",
    "ImportFailure",
    "ImportReport",
    "ImportedUser",
    "Limits",
    "Mail",
    "Message",
    "Mfa",
    "MfaChallenge",
    "MfaStatus",
    "OAuth",
    "OAuthCompletion",
    "Page",
    "PasskeyInfo",
    "Passkeys",
    "PasswordHasher",
    "Permission",
    "Principal",
    "ProviderInfo",
    "ProviderTokens",
    "RecoveryCodes",
    "Registration",
    "Role",
    "Roles",
    "Session",
    "Sessions",
    "Subscription",
    "TokenPair",
    "TotpEnrolment",
    "User",
    "UserRowPage",
    "Users",
    "Webhook",
    "WebhookTest",
    "Webhooks",
    "__version__",
    "error_codes",
]
# The exception classes, one per error code, are listed once: in doorward.errors.
__all__ += _errors.__all__

# Type stubs of the native module, checked against the built library by
# mypy.stubtest (scripts/test). Write the sync classes by hand; the Async*
# classes after the marker below are generated from them by
# python/tests/async_twins.py (tests/test_stubs.py fails until they are).

"""The native core of doorward, built from ``bindings/python`` (pyo3).

Import from :mod:`doorward`, which re-exports these names with the exception
classes. Besides the exceptions each method's ``Raises`` section names, any
method that reaches the store may raise :class:`~doorward.StorageError` (the
database, Redis or a mail server failed or could not be reached) and any
method :class:`~doorward.InternalError` (a bug in doorward, a caught panic
included). No message carries a password, a token, a hash, a key or an email
address.
"""

import builtins
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from os import PathLike
from typing import (
    Any,
    ClassVar,
    Final,
    Literal,
    Optional,
    TypedDict,
    Union,
    final,
    type_check_only,
)

from typing_extensions import NotRequired

from doorward._streams import AsyncEventStream, EventStream
from doorward.errors import ErrorCode

__version__: str
__all__ = [
    "AsyncAudit",
    "AsyncDoorward",
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
    "Console",
    "ConsoleResponse",
    "Decision",
    "DeliveryRecord",
    "Doorward",
    "Event",
    "EventPage",
    "Events",
    "FileInfo",
    "FilePage",
    "Files",
    "FlowStarted",
    "HttpErrorResponse",
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
    "_panic_for_tests",
    "error_codes",
    "http_error_response",
    "http_statuses",
]

_Config = Union[Mapping[str, Any], str, PathLike[str], None]
_Path = Union[str, PathLike[str]]
_Data = Union[bytes, bytearray, memoryview]
_Handler = Callable[[Event], object]

@type_check_only
class UserRow(TypedDict):
    """One account as ``users.import_users`` takes it and
    ``users.export_users`` gives it: a plain dict, of which only ``email``
    is required. For annotations only (it does not exist at run time):
    ``if TYPE_CHECKING: from doorward._native import UserRow``.
    """

    id: NotRequired[str]
    """A doorward id (a UUID) to keep, as when moving between doorward
    stores; a new one when absent."""
    username: NotRequired[str]
    """Made from the address's local part (with digits when taken) when absent."""
    email: str
    """The address: unique, validated as at registration."""
    password: NotRequired[str]
    """A password in clear, checked by the password rules and hashed with
    argon2id (slow: prefer ``password_hash``). Never exported."""
    password_hash: NotRequired[str]
    """The old system's hash (argon2, bcrypt, Django's hashers, passlib's
    PBKDF2 and scrypt, Firebase's scrypt), kept until the owner's next login replaces it with
    argon2id, or an unusable password (``!...``). With neither this nor
    ``password``, the account has no password until a reset sets one.
    Exported only with ``with_hashes``."""
    roles: NotRequired[builtins.list[str]]
    """Roles to grant; they must exist. Empty or absent: ``user``."""
    email_verified: NotRequired[bool]
    """Whether the address is known to be verified."""
    disabled: NotRequired[bool]
    """Whether the account starts disabled."""
    created_at: NotRequired[Union[datetime, str]]
    """When the account was created in the old system: an aware
    ``datetime`` or RFC 3339 text (exported as an aware ``datetime``); now
    when absent."""

def error_codes() -> builtins.list[str]:
    """Every stable error code, in the order of ``docs/errors.md``.

    The public contract the exception classes of :mod:`doorward.errors` and
    the ``ErrorCode`` literal are checked against.
    """

def http_statuses() -> builtins.list[tuple[str, int]]:
    """Each error code with the HTTP status that answers it.

    What :mod:`doorward.web` and the framework helpers answer with, read
    from the core so every language answers alike.
    """

def http_error_response(
    code: str,
    message: str,
    *,
    field: Optional[str] = None,
    retry_after: Optional[float] = None,
    missing_token: bool = False,
) -> HttpErrorResponse:
    """The HTTP answer to an error, computed by the core so every language
    answers alike: the status, ``WWW-Authenticate`` (RFC 6750) on a 401,
    ``Retry-After`` on a 429, and a body whose 5xx form keeps no details.

    Args:
        code: The stable error code (an unknown one answers 500).
        message: The error's message (dropped from a 5xx body).
        field: The field a ``validation_error`` names.
        retry_after: Seconds to wait, for ``rate_limited`` and
            ``account_locked``.
        missing_token: The request carried no bearer token, so the
            challenge names no ``invalid_token`` error.
    """

def _panic_for_tests(message: str, *, awaitable: bool = False) -> Any:
    """Panic inside the core on purpose, through the boundary every
    operation crosses: how the tests prove a panic arrives as an exception.

    Args:
        message: The panic message; nothing panics when it is empty.
        awaitable: Return an awaitable (the ``AsyncDoorward`` path) instead
            of blocking.

    Raises:
        InternalError: Whenever ``message`` is not empty.
    """

@final
class ClientInfo:
    """Where a request comes from, for the per-address rate limits, the
    lockout's trusted addresses, sessions and the audit log:
    ``ClientInfo(ip="203.0.113.7", user_agent="...")``.

    Compared and hashed by value.
    """

    ip: Final[Optional[str]]
    """The client's address (IPv4 or IPv6), as the host determined it."""
    user_agent: Final[Optional[str]]
    """The ``User-Agent`` header, stored with the session."""
    def __new__(cls, ip: Optional[str] = None, user_agent: Optional[str] = None) -> ClientInfo:
        """Describe a client; both parts are optional."""
    def __eq__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class User:
    """An account, never with its password hash.

    Frozen, compared and hashed by value. Its ``repr`` leaves the email
    address out, so logging a user does not log personal data.
    """

    id: Final[str]
    """UUIDv7, stable for the account's life."""
    username: Final[str]
    email: Final[str]
    disabled: Final[bool]
    """A disabled account cannot log in and has no live sessions."""
    created_at: Final[datetime]
    updated_at: Final[datetime]
    last_login_at: Final[Optional[datetime]]
    failed_logins: Final[int]
    """Wrong passwords since the last successful login."""
    locked_until: Final[Optional[datetime]]
    """When a lockout ends, while one is in force."""
    email_verified_at: Final[Optional[datetime]]
    """When the owner proved they read mail at ``email``; None until then."""
    def to_dict(self) -> dict[str, Any]:
        """The attributes as a dict, email included, for a JSON response."""
    def __eq__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class TokenPair:
    """An access token and the refresh token that renews it.

    Its ``repr`` hides both tokens; read them as attributes, or send
    :meth:`to_dict` as the token response.
    """

    mfa_required: Final[Literal[False]]
    """Always false: ``login`` signed the user in (an :class:`MfaChallenge`
    has it true), so ``if result.mfa_required:`` tells the two apart."""
    access_token: Final[str]
    """A signed JWT for ``Authorization: Bearer``; check it with ``verify_token``."""
    refresh_token: Final[str]
    """Opaque; trade it once with ``refresh_token`` for a new pair."""
    token_type: Final[str]
    """Always ``"Bearer"``."""
    expires_in: Final[int]
    """Seconds until the access token expires."""
    def to_dict(self) -> dict[str, Any]:
        """The OAuth 2.0 token response body (RFC 6749 section 5.1)."""
    def __eq__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class MfaChallenge:
    """What ``login`` and ``complete_sign_in`` answer when the password (or
    the mailed code) was right and the account has a second factor: ask the
    user for a code, then finish with ``complete_mfa(flow_id, method, code)``.

    Its ``repr`` hides ``flow_id``, which proves the first factor until it
    is used: keep it server-side or in an ``HttpOnly`` cookie, never in a
    page or a URL. Compared and hashed by value.
    """

    mfa_required: Final[Literal[True]]
    """Always true (a :class:`TokenPair` has it false); narrow the type with
    ``isinstance(result, doorward.MfaChallenge)``."""
    flow_id: Final[str]
    """Opaque: what ``complete_mfa`` takes back."""
    user_id: Final[str]
    """Whose login it is."""
    methods: Final[builtins.list[str]]
    """The factors that can complete it: ``totp``, ``recovery_code``, and
    ``passkey`` when the account has one."""
    enrolment_required: Final[bool]
    """The account has no factor yet but one of its roles is in
    ``mfa_required_for_roles``: enrol (``mfa.start_totp``,
    ``mfa.confirm_totp``) and complete with the code that confirmed it."""
    expires_in: Final[int]
    """Seconds until the pending login expires (``mfa_login_ttl``)."""
    def __eq__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class Registration:
    """A new account and the tokens of its first session, as
    ``register_user`` returns them."""

    user: Final[User]
    tokens: Final[TokenPair]
    def __eq__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class Principal:
    """Who a verified access token speaks for: what a request handler
    authorises with."""

    user_id: Final[str]
    username: Final[str]
    session_id: Final[str]
    """The session the token belongs to (``sessions.revoke`` ends it)."""
    roles: Final[builtins.list[str]]
    """Role names when the token was issued; decide with ``can``, which reads
    current grants."""
    expires_at: Final[datetime]
    """When the access token expires."""
    amr: Final[builtins.list[str]]
    """How the session was authenticated, as RFC 8176 values, sorted:
    ``pwd``, ``otp``, ``email``, a passkey's ``hwk`` (device-bound) or
    ``swk`` (synced) with ``user``, and ``mfa`` at level 2."""
    aal: Final[int]
    """Authenticator assurance level: 1, or 2 after a password and a second
    factor, or a passkey (``require_aal`` checks it)."""
    auth_time: Final[datetime]
    """When the user last proved who they are: the login, or the latest
    step-up (``require_recent_auth`` checks it)."""
    def to_dict(self) -> dict[str, Any]:
        """The attributes as a dict, for a JSON response."""
    def __eq__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class Session:
    """A live login session: one per login, renewed by each refresh."""

    id: Final[str]
    user_id: Final[str]
    created_at: Final[datetime]
    expires_at: Final[datetime]
    """When the session ends unless refreshed."""
    last_refreshed_at: Final[Optional[datetime]]
    ip: Final[Optional[str]]
    user_agent: Final[Optional[str]]
    def __eq__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class Role:
    """A named set of permissions (``posts:write``, ``admin:*``, ``*``)."""

    name: Final[str]
    description: Final[str]
    permissions: Final[builtins.list[str]]
    builtin: Final[bool]
    """Seeded at open (``admin``, ``moderator``, ``user``); cannot be deleted."""
    created_at: Final[datetime]
    def __eq__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class Page:
    """One page of users, in creation order; ``len(page)`` counts them."""

    items: Final[builtins.list[User]]
    next_cursor: Final[Optional[str]]
    """Pass it back as ``cursor`` for the next page; None on the last one."""
    def __len__(self) -> int:
        """How many items this page holds."""
    def __eq__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class UserRowPage:
    """One page of accounts as import rows, in creation order;
    ``len(page)`` counts them. Its ``repr`` shows neither addresses nor
    hashes."""

    @property
    def items(self) -> builtins.list[UserRow]:
        """The rows as plain dicts, new ones on each read, which
        ``users.import_users`` takes back as they are."""
    next_cursor: Final[Optional[str]]
    """Pass it back as ``cursor`` for the next page; None on the last one."""
    def __len__(self) -> int:
        """How many rows this page holds."""
    def __eq__(self, value: object, /) -> bool: ...

@final
class ImportedUser:
    """An account an import created (or, in a dry run, would create).

    Compared and hashed by value."""

    index: Final[int]
    """The row's position in the input, from 0."""
    id: Final[str]
    """Its id (in a dry run, the one it would have had)."""
    username: Final[str]
    """As given, or as made from the address."""
    def __eq__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class ImportFailure:
    """A row an import refused, and why: what registering it would have
    raised. The message never holds a password or a hash.

    Compared and hashed by value."""

    index: Final[int]
    """The row's position in the input, from 0."""
    code: Final[ErrorCode]
    """``validation_error``, ``duplicate_email``, ``duplicate_username``..."""
    field: Final[Optional[str]]
    """The key at fault, when one is (``email``, ``password_hash``, ``roles``...)."""
    message: Final[str]
    """Why, in words."""
    def __eq__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class ImportReport:
    """What ``users.import_users`` did (or, in a dry run, would do).

    Compared and hashed by value."""

    dry_run: Final[bool]
    """Whether nothing was written."""
    total: Final[int]
    """Rows given."""
    created: Final[builtins.list[ImportedUser]]
    """Accounts created (or that would be, in a dry run), by row."""
    failed: Final[builtins.list[ImportFailure]]
    """Rows refused, by row; in an atomic import, any here means nothing
    was written."""
    def __eq__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class FlowStarted:
    """What asking for an account mail answers: the flow's id, for the page
    where the user types the code, and how long the link and code work.
    The same for an address with no account."""

    flow_id: Final[str]
    """Posted back with the code (the mail's link carries it already)."""
    expires_in: Final[int]
    """Seconds until the link and the code stop working."""
    def __eq__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class Decision:
    """What a call admitted by ``limits.limit`` may still do."""

    remaining: Final[int]
    """Calls left in the burst."""
    reset_after: Final[float]
    """Seconds until the key is back to a full burst."""
    def __eq__(self, value: object, /) -> bool: ...

@final
class HttpErrorResponse:
    """The HTTP answer to an error: what a web helper sends as it is."""

    status: Final[int]
    """The HTTP status of the error's code."""
    headers: Final[builtins.list[tuple[str, str]]]
    """``WWW-Authenticate`` on a 401 and ``Retry-After`` on a 429."""
    body: Final[dict[str, Any]]
    """``{"error": {"code", "message"[, "field"]}}``; a 5xx keeps no details."""
    def __eq__(self, value: object, /) -> bool: ...

@final
class FileInfo:
    """What is known of a stored object."""

    key: Final[str]
    size: Final[int]
    """Bytes."""
    content_type: Final[Optional[str]]
    """As stored; None in ``list`` pages, which stores do not fill."""
    etag: Final[Optional[str]]
    """Changes whenever the object does."""
    created_at: Final[datetime]
    """When the object was last written."""
    def to_dict(self) -> dict[str, Any]:
        """The attributes as a dict, for a JSON response."""
    def __eq__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class FilePage:
    """One page of objects, in key order; ``len(page)`` counts them."""

    items: Final[builtins.list[FileInfo]]
    next_cursor: Final[Optional[str]]
    """Pass it back as ``cursor`` for the next page; None on the last one."""
    def __len__(self) -> int:
        """How many items this page holds."""
    def __eq__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class Event:
    """One change the core made, as recorded in the outbox: ids and names
    only, never a secret or an email address. Unique by ``id``."""

    @property
    def id(self) -> str:
        """UUIDv7: receivers deduplicate on it."""
    @property
    def seq(self) -> int:
        """Position in the outbox (commit order)."""
    @property
    def type(self) -> str:
        """``UserRegistered``, ``LoginSucceeded``, ... (the ``EventType`` literal)."""
    @property
    def version(self) -> int:
        """Version of the payload's shape for this type."""
    @property
    def occurred_at(self) -> datetime:
        """When the change was committed."""
    @property
    def actor(self) -> Optional[str]:
        """The user who made the change; None for the host acting as administrator."""
    @property
    def subject(self) -> Optional[str]:
        """What the change concerns: a user id, a role name or a file key."""
    @property
    def ip(self) -> Optional[str]:
        """The client address of the request that made the change, if given."""
    @property
    def user_agent(self) -> Optional[str]:
        """The client's ``User-Agent``, if given."""
    @property
    def payload(self) -> dict[str, Any]:
        """Type-specific details, as a new dict on every access."""
    def to_dict(self) -> dict[str, Any]:
        """The event as webhooks send it (``type``, not ``event_type``)."""
    def __eq__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class EventPage:
    """One page of the outbox, in commit order; ``len(page)`` counts them."""

    items: Final[builtins.list[Event]]
    next_cursor: Final[Optional[str]]
    """Pass it back as ``cursor`` for the next page; None on the last one."""
    def __len__(self) -> int:
        """How many items this page holds."""
    def __eq__(self, value: object, /) -> bool: ...

@final
class DeliveryRecord:
    """One event on its way to one webhook."""

    id: Final[int]
    """What ``events.replay`` takes."""
    webhook_id: Final[str]
    event_seq: Final[int]
    event_id: Final[str]
    event_type: Final[str]
    status: Final[str]
    """``pending``, ``delivered`` or ``dead``."""
    attempts: Final[int]
    next_attempt_at: Final[datetime]
    """When the next attempt is due (pending deliveries)."""
    last_error: Final[Optional[str]]
    """Why the last attempt failed (an HTTP status or a transport error)."""
    updated_at: Final[datetime]
    def to_dict(self) -> dict[str, Any]:
        """The attributes as a dict, for a JSON response."""
    def __eq__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class Subscription:
    """A live event subscription, as ``events.subscribe`` returns it.

    Close it (or leave its ``with`` block) to stop deliveries; a durable
    (named) subscriber's position stays stored for the next process.
    """

    @property
    def is_open(self) -> bool:
        """Whether it still receives events."""
    def close(self) -> None:
        """Stop delivering; idempotent."""
    def __enter__(self) -> Subscription:
        """The subscription itself, closed when the block is left."""
    def __exit__(self, *_args: object) -> bool:
        """Close the subscription; exceptions propagate."""

@final
class Webhook:
    """A webhook endpoint. Its ``repr`` hides the signing secret; read it as
    an attribute to hand it to the receiver."""

    id: Final[str]
    """``wh_`` followed by a UUIDv7."""
    url: Final[str]
    """Where events are POSTed."""
    secret: Final[str]
    """``whsec_...``: what the receiver verifies signatures with (Standard Webhooks)."""
    event_types: Final[builtins.list[str]]
    """The event types it receives (all when empty)."""
    created_at: Final[datetime]
    def __eq__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class WebhookTest:
    """How a test message went; true when the receiver answered 2xx."""

    ok: Final[bool]
    error: Final[Optional[str]]
    """Otherwise why not (``HTTP 500``, ``connection failed``, ``timeout``)."""
    def __bool__(self) -> bool:
        """``ok``."""
    def __eq__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class Message:
    """One plain-text mail message to one recipient. Its ``repr`` leaves the
    address and the body out."""

    from_: Final[str]
    """``Name <address>`` or a bare address (``from`` is a Python keyword)."""
    to: Final[str]
    """The recipient's address."""
    subject: Final[str]
    text: Final[str]
    """The body, plain text."""
    def __eq__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class TotpEnrolment:
    """What ``mfa.start_totp`` answers, to show the user once: the secret for
    typing into an authenticator app, the same as an ``otpauth://`` URI, and
    that URI as a QR code. Its ``repr`` shows none of them."""

    secret: Final[str]
    """Base32 (RFC 4648, no padding), for typing in by hand."""
    uri: Final[str]
    """``otpauth://totp/<issuer>:<username>?secret=...&issuer=...``."""
    qr_code: Final[str]
    """The URI as a QR code: a ``data:image/png;base64,...`` URI for an
    ``<img src>`` (the page's CSP must allow ``img-src data:``)."""
    def __eq__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class RecoveryCodes:
    """Ten single-use recovery codes, shown once (doorward keeps only keyed
    hashes of them). Its ``repr`` shows how many, never a code."""

    codes: Final[builtins.list[str]]
    """``xxxxx-xxxxx``; each completes one login or step-up as
    ``recovery_code``."""
    def __eq__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class MfaStatus:
    """An account's second factors, as ``mfa.status`` reports them."""

    totp: Final[bool]
    """A confirmed TOTP authenticator."""
    recovery_codes_left: Final[int]
    """Unused recovery codes."""
    enabled: Final[bool]
    """Whether logins ask for a second factor."""
    def __eq__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class PasskeyInfo:
    """A registered passkey, as ``passkeys.list`` and
    ``passkeys.finish_registration`` give it: nothing secret (the public key
    stays in the store). Compared and hashed by value."""

    id: Final[str]
    """The credential id (base64url): what ``rename`` and ``remove`` take."""
    name: Final[str]
    """The user's name for it (``laptop``, ``phone``)."""
    created_at: Final[datetime]
    """When it was registered."""
    last_used_at: Final[Optional[datetime]]
    """When it last signed in or proved a second factor; None until then."""
    backup_eligible: Final[bool]
    """It may be synced to the user's other devices (its sign-ins are
    ``amr`` ``swk``, else ``hwk``)."""
    backup_state: Final[bool]
    """It is backed up now."""
    sign_count: Final[int]
    """The authenticator's signature counter (0 when it keeps none)."""
    def __eq__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class ProviderInfo:
    """A provider users can sign in with, as ``oauth.providers()`` lists
    them: for a page's "Sign in with ..." buttons. Compared and hashed by
    value."""

    id: Final[str]
    """Its id in ``oauth_providers``: what ``authorization_url`` takes."""
    name: Final[str]
    """The name to show (``name``, else the kind's, else the id)."""
    kind: Final[str]
    """``oidc``, ``google``, ``microsoft``, ``apple`` or ``github``."""
    def __eq__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class AuthorizationStart:
    """What ``oauth.authorization_url`` and ``oauth.link`` answer: where to
    send the browser, and the state to keep in it. Its ``repr`` shows
    neither."""

    url: Final[str]
    """The provider's authorization URL: redirect the browser there (an
    app: open it in a browser tab)."""
    state: Final[str]
    """Keep it in an ``HttpOnly`` cookie (an app: in memory) and pass it to
    ``oauth.complete`` as ``expected_state``, so a callback started in
    another browser is refused."""
    expires_in: Final[int]
    """Seconds the authorization may take (the cookie's ``max_age``)."""
    def __eq__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class OAuthCompletion:
    """What ``oauth.complete`` did with a callback: the account signed in
    (or linked to), whether this sign-in made it or linked the identity,
    and the sign-in itself. Compared and hashed by value."""

    provider: Final[str]
    """The provider's id."""
    user_id: Final[str]
    """The account signed in, or linked to."""
    new_user: Final[bool]
    """The account was created by this sign-in."""
    linked: Final[bool]
    """The identity was linked to the account by this callback: a sign-up,
    a link by verified address, or a link the user asked for."""
    login: Final[Optional[Union[TokenPair, MfaChallenge]]]
    """The session's :class:`TokenPair` (``amr`` ``fed``, level 1), or an
    :class:`MfaChallenge` when the account has a second factor, as
    ``login`` answers; None for the callback of ``oauth.link``, which signs
    nobody in."""
    def __eq__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class ProviderTokens:
    """A provider's tokens, kept sealed for the host when the provider has
    ``store_provider_tokens``: for calling its API. Its ``repr`` hides the
    tokens."""

    access_token: Final[str]
    """The provider's access token, as of the identity's last sign-in."""
    refresh_token: Final[Optional[str]]
    """Its refresh token, if it gave one."""
    expires_at: Final[Optional[datetime]]
    """When the access token expires, if the provider said."""
    scopes: Final[builtins.list[str]]
    """The scopes granted, if the provider said."""
    def __eq__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class Identity:
    """An identity at an OAuth 2.0 / OpenID Connect provider that signs the
    account in, as ``users.identities`` lists them. Its ``repr`` leaves the
    email address and the subject (some providers' is an address) out.
    Compared and hashed by value."""

    provider: Final[str]
    """The provider's id in ``oauth_providers``."""
    subject: Final[str]
    """The provider's id of the user (``sub``)."""
    email: Final[Optional[str]]
    """The address the provider gave at the last sign-in."""
    email_verified: Final[bool]
    """Whether the provider said it verified that address."""
    created_at: Final[datetime]
    """When it was linked."""
    last_used_at: Final[Optional[datetime]]
    """When it last signed in; None until then."""
    def __eq__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class AuditRecord:
    """One row of the audit log, with its place in the hash chain. Unique by
    its hash."""

    @property
    def seq(self) -> int:
        """1, 2, 3, ... with no gaps."""
    @property
    def event_id(self) -> str:
        """The ``id`` of the event the row records."""
    @property
    def event_type(self) -> str:
        """The event's type name."""
    @property
    def occurred_at(self) -> datetime:
        """When the change was committed."""
    @property
    def actor(self) -> Optional[str]:
        """The user who made the change; None for the host acting as administrator."""
    @property
    def subject(self) -> Optional[str]:
        """What the change concerns: a user id, a role name or a file key."""
    @property
    def ip(self) -> Optional[str]:
        """The client address of the request that made the change, if given."""
    @property
    def user_agent(self) -> Optional[str]:
        """The client's ``User-Agent``, if given."""
    @property
    def outcome(self) -> str:
        """``success`` or ``failure``."""
    @property
    def details(self) -> dict[str, Any]:
        """The event's payload (the chain hashes its JSON text), as a new dict
        on every access."""
    @property
    def prev_hash(self) -> str:
        """The previous row's hash (64 zeros for the first)."""
    @property
    def hash(self) -> str:
        """Hex SHA-256 over ``prev_hash`` and this row's fields."""
    def to_dict(self) -> dict[str, Any]:
        """The attributes as a dict, for a JSON response or a SIEM."""
    def __eq__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class AuditPage:
    """One page of audit rows, oldest first; ``len(page)`` counts them."""

    items: Final[builtins.list[AuditRecord]]
    next_cursor: Final[Optional[str]]
    """Pass it back as ``cursor`` for the next page; None on the last one."""
    def __len__(self) -> int:
        """How many items this page holds."""
    def __eq__(self, value: object, /) -> bool: ...

@final
class AuditVerification:
    """What ``audit.verify()`` found; true when every row checks out."""

    ok: Final[bool]
    rows: Final[int]
    """Rows checked."""
    first_bad_seq: Final[Optional[int]]
    """The first row that does not check out, if any."""
    problem: Final[Optional[str]]
    """What is wrong with it."""
    head: Final[str]
    """The hash of the last good row: record it elsewhere to detect a
    truncated log later."""
    def __bool__(self) -> bool:
        """``ok``."""
    def __eq__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class PasswordHasher:
    """Argon2id hashing with the core's parameters and caps, for passwords
    kept outside doorward's own accounts.

    Its calls block while releasing the GIL, at most ``concurrency`` at once,
    so they suit threads and ``asyncio.to_thread`` alike.
    """

    memory_kib: Final[int]
    """Memory cost in KiB."""
    iterations: Final[int]
    """Passes over memory."""
    parallelism: Final[int]
    """Lanes."""
    def __new__(
        cls,
        memory_kib: Optional[int] = None,
        iterations: Optional[int] = None,
        parallelism: Optional[int] = None,
        concurrency: Optional[int] = None,
    ) -> PasswordHasher:
        """A hasher with OWASP's parameters unless given (m=19456 KiB, t=2, p=1).

        Args:
            memory_kib: Memory cost in KiB.
            iterations: Passes over memory.
            parallelism: Lanes.
            concurrency: Hashes at once; the number of cores by default.

        Raises:
            ConfigError: Parameters argon2 refuses, or over the caps (1 GiB,
                64 passes, 64 lanes).
        """
    def hash(self, password: str) -> str:
        """A PHC string (``$argon2id$v=19$m=...``) with a fresh random salt."""
    def verify(self, password: str, hash: str) -> bool:
        """Whether ``password`` matches the PHC string ``hash``.

        Raises:
            InternalError: ``hash`` cannot be parsed, or asks for more than
                the caps allow.
        """

@final
class Console:
    """The admin console under a path prefix, over a :class:`Doorward` or an
    :class:`AsyncDoorward`: the Rust router ``doorward console`` serves, for a
    host whose web layer is Python. :mod:`doorward.console` mounts it in an
    ASGI app; this class only carries one request in and its answer out.

    Sign-in, cookies, CSRF tokens, rights and pages are the router's own: a
    request it cannot read (an unknown method, a malformed path or header, a
    body over :attr:`MAX_BODY`) is answered 400 with an error code, never
    raised. The session cookies are ``Secure`` and ``__Host-`` prefixed
    unless the ``Host`` header is a loopback address over plain HTTP, so
    pass the headers as they came.
    """

    MAX_BODY: ClassVar[int]
    """The largest request body the console reads, in bytes (1 MiB)."""
    prefix: Final[str]
    """The path the console answers under (``""`` for the root)."""
    def __new__(cls, dw: Union[Doorward, AsyncDoorward], prefix: str = "") -> Console:
        """The console answering under ``prefix`` (``/admin``; ``""`` for the root).

        Raises:
            ValidationError: ``prefix`` is not a plain path such as ``/admin``.
            TypeError: ``dw`` is neither a ``Doorward`` nor an ``AsyncDoorward``.
        """
    def handle(
        self,
        method: str,
        path: str,
        headers: Sequence[tuple[str, str]],
        body: Optional[_Data] = None,
        client_ip: Optional[str] = None,
    ) -> Awaitable[ConsoleResponse]:
        """Answer one request, worked out off the event loop (GIL released).

        Args:
            method: ``GET``, ``POST``...
            path: The whole path asked for, the prefix and the query
                included (``/admin/api/users?q=ann``).
            headers: Every header as a (name, value) pair, a repeated one
                twice; ``Host`` and ``Cookie`` among them.
            body: The request body, at most :attr:`MAX_BODY` bytes.
            client_ip: The client's address, for the sign-in's
                per-address limits.
        """

@final
class ConsoleResponse:
    """What the console answers. Its ``repr`` shows the status alone: the
    headers carry the session cookies, and a sign-in's body its CSRF token."""

    status: Final[int]
    """The HTTP status."""
    headers: Final[builtins.list[tuple[str, str]]]
    """Every header as a (name, value) pair (``set-cookie`` may repeat), a
    fresh list on each read."""
    body: Final[bytes]
    """The body."""

@final
class Users:
    """Accounts: ``dw.users``."""

    def create(self, username: str, email: str, password: str) -> User:
        """Create an account without logging it in (an administrator's
        "add user"; ``register_user`` also starts a session).

        Raises:
            ValidationError: A username, email or password the rules refuse
                (``field`` says which).
            DuplicateUsernameError: The username is taken (case-insensitively).
            DuplicateEmailError: The address is taken (case-insensitively).
        """
    def get(self, user_id: str) -> User:
        """The account with this id.

        Raises:
            NotFoundError: There is none.
        """
    def get_by_email(self, email: str) -> User:
        """The account with this email address, case-insensitively.

        Raises:
            NotFoundError: There is none.
        """
    def get_by_username(self, username: str) -> User:
        """The account with this username, case-insensitively.

        Raises:
            NotFoundError: There is none.
        """
    def list(self, cursor: Optional[str] = None, limit: Optional[int] = None) -> Page:
        """Accounts in creation order, a page at a time.

        Args:
            cursor: The ``next_cursor`` of the previous page; None for the first.
            limit: The most accounts a page holds, 1 to 500; None for 50.

        Raises:
            ValidationError: A cursor this listing did not return, or a limit
                out of its range (``field`` says which).
        """
    def search(self, query: str, cursor: Optional[str] = None, limit: Optional[int] = None) -> Page:
        """Accounts whose email address or username starts with ``query``,
        ignoring case, in creation order, a page at a time: what an
        administrator's search box asks.

        Args:
            query: The start of an address or a username.
            cursor: The ``next_cursor`` of the previous page; None for the first.
            limit: The most accounts a page holds, 1 to 500; None for 50.

        Raises:
            ValidationError: An empty query (``field`` is ``query``), a cursor
                this listing did not return, or a limit out of its range.
        """
    def import_users(
        self, rows: Sequence[UserRow], *, dry_run: bool = False, atomic: bool = False
    ) -> ImportReport:
        """Import accounts from another system, one dict per account (a
        :class:`UserRow`): each row is checked as registration would check
        it, and all are checked before anything is written. Password hashes
        of the old system are kept as they are and replaced by argon2id at
        the owner's next login. Emits one ``UsersImported`` event, not a
        ``UserRegistered`` per account.

        Args:
            rows: The accounts; ``created_at`` as an aware ``datetime`` or
                RFC 3339 text.
            dry_run: Check and report, write nothing.
            atomic: All rows or none: one refused row writes nothing.

        Returns:
            The accounts created and the rows refused, each by its position:
            a refused row (a bad address, a taken username, a hash in no
            known format or with a hostile cost) is in ``failed``, not raised.

        Raises:
            ValidationError: A row that is not a dict of the ``UserRow`` keys
                and values (an unknown key, a value of the wrong type):
                ``field`` is ``rows`` and the message names the row and the
                key, never the value.
        """
    def export_users(
        self,
        cursor: Optional[str] = None,
        limit: Optional[int] = None,
        *,
        with_hashes: bool = False,
    ) -> UserRowPage:
        """Accounts as import rows, in creation order, a page at a time:
        what ``import_users`` takes back, into this instance or another.

        Args:
            cursor: The ``next_cursor`` of the previous page; None for the first.
            limit: The most rows a page holds, 1 to 500; None for 50.
            with_hashes: Include each account's password hash (never its
                password); treat such a page as a secret.

        Raises:
            ValidationError: A cursor this listing did not return, or a limit
                out of its range (``field`` says which).
        """
    def count(self) -> int:
        """How many accounts there are, disabled ones included: what an
        administrator's dashboard shows, without paging through ``list``."""
    def update(
        self, user_id: str, *, username: Optional[str] = None, email: Optional[str] = None
    ) -> User:
        """Change the username and/or the email address, validated and unique
        as at registration; what is not given stays.

        Raises:
            NotFoundError: No such user.
            ValidationError: A value the rules refuse.
            DuplicateUsernameError: The new username is taken.
            DuplicateEmailError: The new address is taken.
        """
    def change_password(
        self,
        user_id: str,
        old_password: str,
        new_password: str,
        keep_session: Optional[str] = None,
    ) -> None:
        """Change a password, proving the old one (the user's own "change
        password" form). Every session ends but ``keep_session``, the
        caller's own.

        Raises:
            InvalidCredentialsError: ``old_password`` is wrong.
            ValidationError: ``new_password`` breaks the password rules.
            NotFoundError: No such user.
        """
    def request_email_change(self, user_id: str, new_email: str, password: str) -> FlowStarted:
        """Ask to move an account to ``new_email``, proving the password: a
        link and code go to the new address, a notice to the old one, and
        the old address stays until :meth:`confirm_email_change`.

        Raises:
            InvalidCredentialsError: Wrong password (throttled like a login).
            DuplicateEmailError: Another account has the address.
            ValidationError: A malformed address, or the account's own.
            RateLimitedError: Too many mails to the address, or one too soon.
        """
    def confirm_email_change(self, flow_id: str, secret: str) -> User:
        """Confirm a change of address with the link's secret or the code
        mailed to the new address: the account at its new, verified address.

        Raises:
            FlowInvalidError: A wrong or used secret.
            FlowExpiredError: Past its lifetime or its attempts.
            DuplicateEmailError: Another account took the address meanwhile.
        """
    def mark_email_verified(self, user_id: str) -> User:
        """Mark an account's address verified without a mail
        (administrators).

        Raises:
            NotFoundError: No such user.
        """
    def set_password(self, user_id: str, new_password: str) -> None:
        """Set a password without the old one (administrators, a verified
        reset link). Every session ends.

        Raises:
            ValidationError: ``new_password`` breaks the password rules.
            NotFoundError: No such user.
        """
    def disable(self, user_id: str) -> None:
        """Disable an account: no more logins, and its sessions end now.

        Raises:
            NotFoundError: No such user.
        """
    def enable(self, user_id: str) -> None:
        """Enable a disabled account again.

        Raises:
            NotFoundError: No such user.
        """
    def unlock(self, user_id: str) -> bool:
        """Lift a lockout and forget failed logins (an administrator's
        answer to ``AccountLockedError``); whether there was anything to clear.

        Raises:
            NotFoundError: No such user.
        """
    def delete(self, user_id: str) -> None:
        """Delete an account with its sessions and grants.

        Raises:
            NotFoundError: No such user.
        """
    def identities(self, user_id: str) -> builtins.list[Identity]:
        """The account's identities at OAuth providers, oldest first, for a
        "connected accounts" page.

        Raises:
            NotFoundError: No such user.
        """

@final
class Roles:
    """Roles and grants: ``dw.roles``. Permissions are checked with
    ``can`` and ``require`` on the client."""

    def list(self) -> builtins.list[Role]:
        """Every role, by name."""
    def get(self, name: str) -> Role:
        """The role with this name.

        Raises:
            NotFoundError: There is none.
        """
    def create(self, name: str, permissions: builtins.list[str], description: str = "") -> Role:
        """Create a role with these permissions (``resource:action``, with
        ``*`` wildcards).

        Raises:
            ValidationError: A bad name, permission or description, or a role
                of that name exists.
        """
    def delete(self, name: str) -> None:
        """Delete a role and take it from everyone who had it.

        Raises:
            NotFoundError: No such role.
            ValidationError: A built-in role, which stays.
        """
    def grant(self, user_id: str, name: str) -> bool:
        """Give a user a role; whether it was new.

        Raises:
            NotFoundError: No such user or role.
        """
    def revoke(self, user_id: str, name: str) -> bool:
        """Take a role from a user; whether they had it.

        Raises:
            NotFoundError: No such user or role.
        """
    def of_user(self, user_id: str) -> builtins.list[str]:
        """The names of a user's roles.

        Raises:
            NotFoundError: No such user.
        """

@final
class Sessions:
    """Live sessions: ``dw.sessions``, for a "where you're logged in" page
    and for ending sessions from elsewhere."""

    def list(self, user_id: str) -> builtins.list[Session]:
        """A user's live sessions, newest first."""
    def revoke(self, session_id: str) -> None:
        """End one session now: its tokens stop working at once.

        Raises:
            NotFoundError: The session is not live.
        """
    def revoke_all(self, user_id: str) -> int:
        """End every session of a user ("log out everywhere"); how many
        were live."""

@final
class Limits:
    """Rate limits for the host's own endpoints: ``dw.limits``."""

    def limit(self, key: str, quota: str) -> Decision:
        """Admit one call under ``key``, or refuse it.

        Shared by every instance when Redis is configured.

        Args:
            key: What is limited, e.g. ``f"export:{user_id}"``.
            quota: ``"10/1m"``: a burst of 10, then one every 6 s.

        Raises:
            RateLimitedError: Over the quota; ``retry_after`` says when to retry.
            ValidationError: A quota that does not parse.
        """

@final
class Files:
    """Objects (avatars, attachments) in the store ``files_url`` names (a
    folder, memory or S3): ``dw.files``."""

    def put(self, key: str, data: _Data, content_type: Optional[str] = None) -> FileInfo:
        """Store ``data`` under ``key``, replacing what was there.

        Args:
            key: Segments separated by ``/``, without ``..``.
            data: The bytes; at most ``files_max_bytes``.
            content_type: Kept with the object and served with it.

        Raises:
            ValidationError: A bad key or content type, or ``data`` over
                ``files_max_bytes`` (nothing is written).
        """
    def put_file(self, key: str, path: _Path, content_type: Optional[str] = None) -> FileInfo:
        """Store the file at ``path`` under ``key``, streamed rather than read
        into memory (big uploads).

        Raises:
            ValidationError: A bad key, an unreadable ``path``, or a file over
                ``files_max_bytes``.
        """
    def get(self, key: str) -> tuple[FileInfo, bytes]:
        """The object under ``key`` and its bytes.

        Raises:
            NotFoundError: There is none.
        """
    def get_to_file(self, key: str, path: _Path) -> FileInfo:
        """Write the object under ``key`` to ``path``, streamed, through a
        temporary file renamed into place, so ``path`` is never half written.

        Raises:
            NotFoundError: There is none.
        """
    def head(self, key: str) -> FileInfo:
        """What is known of the object under ``key``, without its bytes.

        Raises:
            NotFoundError: There is none.
        """
    def delete(self, key: str) -> bool:
        """Delete the object under ``key``; whether there was one."""
    def list(
        self,
        prefix: Optional[str] = None,
        cursor: Optional[str] = None,
        limit: Optional[int] = None,
    ) -> FilePage:
        """Objects in key order, a page at a time.

        Args:
            prefix: Only keys under it (whole segments: ``avatars`` matches
                ``avatars/1.png``, not ``avatars2/``).
            cursor: The ``next_cursor`` of the previous page; None for the first.
            limit: The most objects a page holds.

        Raises:
            ValidationError: A bad prefix or cursor, or a limit out of range.
        """
    def presign_get(self, key: str, expires_in: float) -> str:
        """A URL that fetches the object for ``expires_in`` seconds without
        credentials, for a browser or a CDN.

        Raises:
            ConfigError: The store is not S3.
            ValidationError: ``expires_in`` outside 1 s to 7 days, or a bad key.
        """
    def presign_put(self, key: str, expires_in: float) -> str:
        """A URL that uploads an object under ``key`` with a PUT for
        ``expires_in`` seconds without credentials. S3 cannot cap the size,
        so ``files_max_bytes`` does not apply.

        Raises:
            ConfigError: The store is not S3.
            ValidationError: ``expires_in`` outside 1 s to 7 days, or a bad key.
        """

@final
class Events:
    """Domain events: ``dw.events``. Subscriptions and streams in this
    process, the outbox they are read from, and the webhook deliveries
    behind it."""

    def subscribe(
        self,
        handler: _Handler,
        types: Optional[Sequence[str]] = None,
        name: Optional[str] = None,
    ) -> Subscription:
        """Call ``handler(event)`` with every event committed from now on, in
        commit order, on a background thread.

        An exception is logged (logger ``doorward.events``) and the event is
        delivered again after a backoff, up to ``events_max_attempts`` times.
        The handler must not call ``flush``, which waits for it.

        Args:
            handler: A plain callable; a coroutine function is refused (use
                ``stream`` from async code).
            types: Event type names to receive; all when None.
            name: Makes the subscriber durable: events committed while the
                process was away are delivered when it subscribes again.

        Raises:
            ValidationError: An unknown event type or a bad name.
            ConfigError: ``events_dispatch`` is off, so nothing would deliver.
            TypeError: ``handler`` is not a plain callable.
        """
    def stream(
        self,
        types: Optional[Sequence[str]] = None,
        name: Optional[str] = None,
        timeout: Optional[float] = None,
    ) -> EventStream:
        """Iterate over the events committed from now on:
        ``for event in dw.events.stream(timeout=5): ...``.

        Args:
            types: Event type names to receive; all when None.
            name: Makes the subscriber durable, as for ``subscribe``.
            timeout: Seconds without an event after which iteration ends;
                without one it waits until the stream is closed (use it as a
                context manager, or ``close()`` it).

        Raises:
            ValidationError: An unknown event type or a bad name.
            ConfigError: ``events_dispatch`` is off.
        """
    def list(self, cursor: Optional[str] = None, limit: Optional[int] = None) -> EventPage:
        """The outbox in commit order, a page at a time: what an exporter or
        a test reads.

        Args:
            cursor: The ``next_cursor`` of the previous page; None for the start.
            limit: The most events a page holds.

        Raises:
            ValidationError: A cursor this listing did not return.
        """
    def flush(self) -> None:
        """Run the dispatcher until everything committed so far has reached
        every consumer that can take it now (deliveries waiting for a retry
        stay queued): for tests, scripts and shutdown.

        Raises:
            RuntimeError: Called from an event handler, which the dispatcher
                is waiting for.
        """
    def deliveries(
        self,
        status: Optional[str] = None,
        cursor: Optional[str] = None,
        limit: Optional[int] = None,
    ) -> builtins.list[DeliveryRecord]:
        """Webhook deliveries, oldest first.

        Args:
            status: ``pending``, ``delivered`` or ``dead``; all when None.
            cursor: The last delivery id of the previous page.
            limit: The most deliveries returned.

        Raises:
            ValidationError: An unknown status or a bad cursor.
        """
    def dead(self) -> builtins.list[DeliveryRecord]:
        """Dead-lettered webhook deliveries: they ran out of attempts, and
        wait for ``replay``."""
    def replay(self, delivery_id: int) -> None:
        """Queue a dead delivery again, due now (after fixing the receiver).

        Raises:
            NotFoundError: No such delivery, or it is not dead.
        """

@final
class Webhooks:
    """Webhook endpoints that receive events over HTTP, signed per Standard
    Webhooks: ``dw.webhooks``."""

    def add(self, url: str, types: Optional[Sequence[str]] = None) -> Webhook:
        """Register ``url`` (http or https) for the events committed from now
        on, signed with the new webhook's secret.

        Args:
            url: Where to POST; loopback and private addresses only with
                ``webhook_allow_private``.
            types: Event type names to send; all when None or empty.

        Raises:
            ValidationError: A bad URL or an unknown event type.
        """
    def list(self) -> builtins.list[Webhook]:
        """Every webhook, oldest first."""
    def remove(self, webhook_id: str) -> None:
        """Remove a webhook and its queued deliveries.

        Raises:
            NotFoundError: No such webhook.
        """
    def test(self, webhook_id: str) -> WebhookTest:
        """Send a signed ``doorward.test`` message now, outside the queue, and
        report how the receiver answered (a "send test" button).

        Raises:
            NotFoundError: No such webhook.
        """

@final
class Mail:
    """Outgoing mail: ``dw.mail``. Sending now through the configured
    mailer, and what the in-memory mailer holds (tests)."""

    def send(self, to: str, subject: str, text: str) -> None:
        """Send a plain-text message from ``mail_from`` now, through the
        mailer ``mail_url`` names.

        Raises:
            ConfigError: No mailer is configured.
            StorageError: The mail server refused or could not be reached.
        """
    def sent(self) -> builtins.list[Message]:
        """What the in-memory mailer (``mail_url="memory://"``) holds, oldest
        first: how tests read the welcome mail.

        Raises:
            ConfigError: Another mailer is in force.
        """

@final
class Mfa:
    """Second factors: ``dw.mfa``. A TOTP authenticator, enrolled in two
    steps so a mistyped secret locks nobody out, and ten recovery codes.
    Once an account has one, ``login`` answers with an :class:`MfaChallenge`.
    The keys come from ``mfa_encryption_key`` (else ``flow_key``, else
    ``jwt_secret``)."""

    def start_totp(self, user_id: str) -> TotpEnrolment:
        """Begin enrolling an authenticator app: a new secret, stored as
        pending, shown as text, URI and QR code. Logins do not change until
        :meth:`confirm_totp`; starting again replaces a pending secret.

        Raises:
            NotFoundError: No such user.
            ValidationError: An authenticator is already active (``field``
                is ``totp``): remove it first with :meth:`disable_totp`.
            ConfigError: No key to seal the secret with.
        """
    def confirm_totp(self, user_id: str, code: str) -> RecoveryCodes:
        """Activate the pending authenticator with a first code from it, and
        get the account's ten recovery codes, shown this once. From now on
        logins ask for a second factor.

        Raises:
            InvalidCredentialsError: A wrong code (counted towards the
                lockout like a wrong password).
            NotFoundError: No such user, or no pending enrolment.
            AccountLockedError: Too many wrong passwords or codes.
        """
    def disable_totp(self, access_token: str) -> None:
        """Remove the caller's authenticator and recovery codes; logins stop
        asking for a second factor.

        Args:
            access_token: The user's own token, authenticated within
                ``fresh_auth_max_age`` seconds.

        Raises:
            StepUpRequiredError: The authentication is older than
                ``fresh_auth_max_age``: ``step_up`` first.
            NotFoundError: There is no authenticator.
            TokenInvalidError: A malformed or forged token.
            TokenExpiredError: Past its lifetime.
            TokenRevokedError: Its session has ended.
        """
    def regenerate_recovery_codes(self, access_token: str) -> RecoveryCodes:
        """Replace the caller's recovery codes with a new set, shown this
        once; the old ones stop working at once.

        Raises:
            StepUpRequiredError: The authentication is older than
                ``fresh_auth_max_age``: ``step_up`` first.
            NotFoundError: The account has no second factor.
            TokenInvalidError: A malformed or forged token.
            TokenExpiredError: Past its lifetime.
            TokenRevokedError: Its session has ended.
        """
    def status(self, user_id: str) -> MfaStatus:
        """The account's second factors, for a security settings page.

        Raises:
            NotFoundError: No such user.
        """

@final
class Passkeys:
    """Passkeys (WebAuthn): ``dw.passkeys``. The host forwards JSON between
    the browser and doorward: the options of a ``start_*`` call are a dict
    to send as the response body, for
    ``PublicKeyCredential.parseCreationOptionsFromJSON(options.publicKey)``
    (or ``parseRequestOptionsFromJSON``), and the browser's
    ``credential.toJSON()`` comes back to a ``finish_*`` call as a dict (or
    its JSON text). Each ceremony works once, for five minutes, and its
    state stays in the store, so any process finishes what another started.

    The relying party is ``webauthn_rp_id`` (default: the host of
    ``app_url``) for the origins ``webauthn_origins`` (default: the origin
    of ``app_url``). A passkey verifies its user, so signing in with one is
    level 2 by itself; it is also a second factor for ``complete_mfa`` and
    ``step_up`` (method ``passkey``, the assertion's JSON text as proof).
    """

    def start_registration(self, user_id: str) -> dict[str, Any]:
        """Options for ``navigator.credentials.create()`` to add a passkey to
        the account: ``{"publicKey": {"rp": {"id", "name"}, "user": {"id",
        "name", "displayName"}, "challenge", ...}}``, preferring a
        discoverable credential and excluding the account's passkeys.

        Raises:
            NotFoundError: No such user.
            ConfigError: The WebAuthn settings do not describe a relying
                party (``webauthn_rp_id`` not a suffix of an origin's host),
                or no key to seal the ceremony with.
        """
    def finish_registration(
        self, user_id: str, response: Union[Mapping[str, Any], str], name: str
    ) -> PasskeyInfo:
        """Register the passkey the browser created for the options of
        :meth:`start_registration`.

        Args:
            user_id: The account that asked for the options.
            response: The browser's ``credential.toJSON()``, as a dict or as
                JSON text.
            name: The user's name for the passkey: 1 to 64 printable
                characters (trimmed).

        Raises:
            ValidationError: ``response`` is not a WebAuthn answer, or the
                relying party refuses it (another origin, no user
                verification, a passkey registered already): ``field`` is
                ``response``; or a bad ``name``.
            FlowInvalidError: No open ceremony of this account matches it
                (never started, or finished already).
            FlowExpiredError: The ceremony is older than five minutes.
            NotFoundError: No such user.
        """
    def start_authentication(self, username: Optional[str] = None) -> dict[str, Any]:
        """Options for ``navigator.credentials.get()``:
        ``{"publicKey": {"rpId", "challenge", "allowCredentials", ...}}``.

        Args:
            username: A username or an address: the options name that
                account's passkeys. Without one (and for an unknown name,
                or one with no passkey, alike) the browser offers any
                passkey it holds for the site.

        Raises:
            ValidationError: A ``username`` longer than 320 characters.
            ConfigError: No usable relying party, as for
                :meth:`start_registration`.
        """
    def finish_authentication(
        self, response: Union[Mapping[str, Any], str], client: Optional[ClientInfo] = None
    ) -> TokenPair:
        """Sign in with the browser's answer to :meth:`start_authentication`:
        the tokens of a session at level 2 (``amr`` ``hwk`` or ``swk``,
        ``user``, ``mfa``).

        Args:
            response: The browser's ``credential.toJSON()``, as a dict or as
                JSON text.
            client: Where the request comes from, for the session.

        Raises:
            InvalidCredentialsError: The assertion is refused (an unknown
                passkey, a bad signature, another origin, a counter that
                went back).
            FlowInvalidError: No open ceremony matches it (never started,
                or finished already: an assertion works once).
            FlowExpiredError: The ceremony is older than five minutes.
            ValidationError: ``response`` is not a WebAuthn answer.
            UserDisabledError: The account is disabled.
        """
    def list(self, user_id: str) -> builtins.list[PasskeyInfo]:
        """The account's passkeys, oldest first, for a security settings
        page.

        Raises:
            NotFoundError: No such user.
        """
    def rename(self, user_id: str, passkey_id: str, name: str) -> None:
        """Rename one of the account's passkeys.

        Raises:
            NotFoundError: The account has no passkey with this id.
            ValidationError: A ``name`` that is not 1 to 64 printable
                characters.
        """
    def remove(self, access_token: str, passkey_id: str) -> None:
        """Remove one of the caller's passkeys. The password (or a reset by
        mail) stays a way in, so no passkey is ever the last.

        Args:
            access_token: The user's own token, authenticated within
                ``fresh_auth_max_age`` seconds.

        Raises:
            StepUpRequiredError: The authentication is older than
                ``fresh_auth_max_age``: ``step_up`` first.
            NotFoundError: The account has no passkey with this id.
            TokenInvalidError: A malformed or forged token.
            TokenExpiredError: Past its lifetime.
            TokenRevokedError: Its session has ended.
        """

@final
class OAuth:
    """Sign-in with OAuth 2.0 / OpenID Connect providers: ``dw.oauth``.
    doorward is the relying party: it keeps each sign-in's state, PKCE
    verifier (S256) and nonce in the store for ten minutes, trades the code
    and checks the ID token; the host only redirects the browser and
    forwards the callback. The providers are ``oauth_providers``, a list of
    dicts (``id``, ``kind``, ``issuer``, ``client_id``, ``client_secret``,
    ``scopes``, ``trust_email``, ``allow_sign_up``, ``store_provider_tokens``
    ...).

    A web sign-in is two routes: one sends the browser to
    ``authorization_url(provider, callback_url).url`` with the ``state`` in
    an ``HttpOnly`` cookie, and the callback hands its URL and that cookie
    to :meth:`complete`. A sign-in is at level 1 (``amr`` ``fed``); an
    account with a second factor still answers an :class:`MfaChallenge`.
    """

    def providers(self) -> builtins.list[ProviderInfo]:
        """The configured providers, in id order, for sign-in buttons. Reads
        the configuration: no I/O, so it stays synchronous on
        :class:`AsyncOAuth` too."""
    def authorization_url(self, provider: str, redirect_uri: str) -> AuthorizationStart:
        """Start a sign-in with ``provider``: the URL to redirect the browser
        to, and the state to keep in it. The provider is discovered on
        first use.

        Args:
            provider: The provider's id in ``oauth_providers``.
            redirect_uri: Where the provider sends the browser back (this
                app's callback route, registered at the provider).

        Raises:
            ValidationError: No such provider (``field`` is ``provider``),
                or a ``redirect_uri`` over 2048 characters.
            OAuthProviderError: The provider's discovery failed
                (``oauth_error`` ``unreachable`` or ``invalid_response``).
            ConfigError: No key to seal the sign-in's state with.
        """
    def complete(
        self,
        callback: str,
        expected_state: Optional[str] = None,
        client: Optional[ClientInfo] = None,
    ) -> OAuthCompletion:
        """Finish what :meth:`authorization_url` or :meth:`link` started: the
        matched, linked or created account, signed in (or, for a link,
        linked). Each state works once.

        Args:
            callback: The callback's URL, its query string, or (Apple's form
                post) its body.
            expected_state: The ``state`` the browser kept (the cookie); a
                callback with another is refused.
            client: Where the request comes from, for the session.

        Raises:
            OAuthStateInvalidError: An unknown, used, expired or another
                browser's state.
            OAuthProviderError: The provider's ``error`` (``access_denied``
                when the user cancelled), or a refused code or ID token.
            AccountExistsError: An account has the identity or its address
                and may not be reached through it here (see
                :class:`AccountExistsError`).
            NotFoundError: The provider allows no sign-up and no account
                has the identity.
            UserDisabledError: The account is disabled.
        """
    def link(self, user_id: str, provider: str, redirect_uri: str) -> AuthorizationStart:
        """Start linking ``provider`` to the signed-in account ``user_id``:
        an authorization like :meth:`authorization_url`'s, whose callback
        links instead of signing in (``OAuthCompletion.login`` is None).

        Raises:
            NotFoundError: No such user.
            UserDisabledError: The account is disabled.
            ValidationError: No such provider.
        """
    def unlink(self, user_id: str, provider: str) -> None:
        """Unlink the account's identity at ``provider``.

        Raises:
            NotFoundError: No such user, or no identity at ``provider``.
            ValidationError: It is the account's last way to sign in (no
                password of its own, no passkey, no other identity):
                ``field`` is ``provider``.
        """
    def provider_tokens(self, user_id: str, provider: str) -> Optional[ProviderTokens]:
        """The provider's tokens kept for the account's identity at
        ``provider`` (a provider with ``store_provider_tokens``), as of its
        last sign-in; None when none are kept.

        Raises:
            NotFoundError: The account has no identity at ``provider``.
            ConfigError: The tokens were sealed under another key.
        """

@final
class Audit:
    """The hash-chained audit log: ``dw.audit``. Every event is a row whose
    hash covers the previous row's, so an edit or a deletion shows."""

    def list(
        self,
        user_id: Optional[str] = None,
        type: Optional[str] = None,
        since: Optional[datetime] = None,
        until: Optional[datetime] = None,
        cursor: Optional[str] = None,
        limit: Optional[int] = None,
    ) -> AuditPage:
        """Rows matching every filter given, oldest first, a page at a time.

        Args:
            user_id: Rows where this user is the actor or the subject.
            type: Rows of this event type.
            since: Rows at or after this aware datetime.
            until: Rows before this aware datetime.
            cursor: The ``next_cursor`` of the previous page; None for the first.
            limit: The most rows a page holds.

        Raises:
            ValidationError: An unknown event type or a bad cursor.
        """
    def export(self, since: Optional[datetime] = None) -> str:
        """Every row at or after ``since`` as JSON Lines, for a SIEM or cold
        storage."""
    def verify(self) -> AuditVerification:
        """Walk the whole chain and recompute every hash, under ``audit_key``
        when it is set: what a periodic integrity check runs.

        Raises:
            ConfigError: An ``audit_key`` that is not a usable HMAC key.
        """

@final
class Doorward:
    """An open doorward: registration, login, tokens and permissions, with the
    other services (users, roles, files, events...) as properties. Open one per
    process and share it: it holds the database pools, the cache and the event
    dispatcher.

    Its methods block, releasing the GIL while the core works: for Django,
    Flask, scripts and worker threads. :class:`AsyncDoorward` is the same API
    for asyncio.
    """

    def __new__(cls, config: _Config = None, **overrides: Any) -> Doorward:
        """Open the store the configuration names, migrating it and seeding
        the built-in roles.

        Args:
            config: The keys of the README's table, as a mapping or the path
                of a TOML file; defaults when None. The environment is not
                read: pass ``DOORWARD_*`` variables yourself if you use them.
            **overrides: Keys laid over ``config``.

        Raises:
            ConfigError: An unknown key, a bad value, a short secret, a
                mismatched key pair.
            StorageError: The database cannot be opened or migrated.
        """
    @property
    def users(self) -> Users:
        """Accounts."""
    @property
    def roles(self) -> Roles:
        """Roles and grants."""
    @property
    def sessions(self) -> Sessions:
        """Live sessions."""
    @property
    def limits(self) -> Limits:
        """Rate limits for the host's own endpoints."""
    @property
    def files(self) -> Files:
        """Objects in the store ``files_url`` names."""
    @property
    def events(self) -> Events:
        """Domain events: subscriptions, the outbox, webhook deliveries."""
    @property
    def webhooks(self) -> Webhooks:
        """Webhook endpoints that receive events, signed."""
    @property
    def audit(self) -> Audit:
        """The hash-chained audit log."""
    @property
    def mail(self) -> Mail:
        """Outgoing mail: sending now, and the in-memory mailer."""
    @property
    def mfa(self) -> Mfa:
        """Second factors: TOTP authenticators and recovery codes."""
    @property
    def passkeys(self) -> Passkeys:
        """Passkeys (WebAuthn): registration, sign-in, and management."""
    @property
    def oauth(self) -> OAuth:
        """Sign-in with OAuth 2.0 / OpenID Connect providers, and linking."""
    @property
    def backend(self) -> str:
        """The store in use: ``sqlite``, ``postgres`` or ``memory``."""
    def jwks(self) -> dict[str, Any]:
        """The public verification keys as a JWKS document, for a
        ``/.well-known/jwks.json`` route (empty for HS256, whose secret is
        never published).

        Raises:
            ConfigError: No signing key is configured.
        """
    def require_aal(self, principal: Principal, aal: int) -> None:
        """Refuse unless the principal's token was authenticated at level
        ``aal`` or above (2: a password with a second factor), before a
        sensitive action. Reads the principal alone: no I/O, so it stays
        synchronous on :class:`AsyncDoorward` too.

        Raises:
            StepUpRequiredError: A lower level (HTTP 401 with
                ``insufficient_user_authentication``): ``step_up`` first.
            OverflowError: ``aal`` outside 0 to 255.
        """
    def require_recent_auth(self, principal: Principal, max_age: int) -> None:
        """Refuse unless the principal's user proved who they are (a login,
        a second factor, a step-up) within the last ``max_age`` seconds:
        for sensitive actions such as changing an address. No I/O, so it
        stays synchronous on :class:`AsyncDoorward` too.

        Raises:
            StepUpRequiredError: An older authentication: ``step_up`` first.
            OverflowError: A negative ``max_age``.
        """
    def register_user(
        self, username: str, email: str, password: str, client: Optional[ClientInfo] = None
    ) -> Registration:
        """Validate, hash and store a new account, and log it in: a sign-up
        form's whole work.

        Args:
            client: Where the request comes from, for the per-address
                registration limit and the session.

        Raises:
            ValidationError: A username, email or password the rules refuse
                (``field`` says which).
            DuplicateUsernameError: The username is taken.
            DuplicateEmailError: The address is taken.
            RateLimitedError: Too many registrations from this address.
            ConfigError: No key to sign tokens with.
        """
    def login(
        self, login: str, password: str, client: Optional[ClientInfo] = None
    ) -> Union[TokenPair, MfaChallenge]:
        """Log in with a username or an email address and start a session:
        its :class:`TokenPair`, or, when the account has a second factor (or
        a role in ``mfa_required_for_roles``), an :class:`MfaChallenge` to
        finish with :meth:`complete_mfa`. ``result.mfa_required`` tells them
        apart; ``isinstance(result, doorward.MfaChallenge)`` narrows the type.

        Args:
            login: A username or an email address.
            client: Where the request comes from, for the per-address limits,
                the lockout's trusted addresses and the session.

        Raises:
            InvalidCredentialsError: An unknown login or a wrong password
                (deliberately the same answer).
            UserDisabledError: The account is disabled (told only to the
                right password).
            AccountLockedError: Too many wrong passwords; ``retry_after``
                says when the lock ends.
            RateLimitedError: Too many attempts for this account or address.
            ValidationError: An empty login or password.
        """
    def complete_mfa(
        self, flow_id: str, method: str, proof: str, client: Optional[ClientInfo] = None
    ) -> TokenPair:
        """Finish a login that answered an :class:`MfaChallenge`: the tokens
        of a session at level 2 (``amr`` ``mfa``, ``pwd`` and ``otp``, or a
        passkey's). A wrong code leaves the pending login usable for its
        remaining attempts.

        Args:
            flow_id: The challenge's ``flow_id``.
            method: ``totp`` (a code from the app), ``recovery_code`` or
                ``passkey``.
            proof: The code the user typed (spaces and dashes are ignored),
                or for ``passkey`` the JSON text of the browser's answer to
                ``passkeys.start_authentication`` (``json.dumps`` of the
                dict).
            client: Where the request comes from.

        Raises:
            InvalidCredentialsError: A wrong or already used code, or a
                refused assertion (counted towards the lockout).
            FlowInvalidError: An unknown, forged or used ``flow_id``, or an
                assertion that answers no open passkey ceremony.
            FlowExpiredError: Past ``mfa_login_ttl`` or its five attempts:
                log in again.
            ValidationError: An unknown ``method``, or a ``passkey`` proof
                that is not a WebAuthn answer (``field`` is ``proof``).
            AccountLockedError: Too many wrong passwords or codes.
            UserDisabledError: The account was disabled meanwhile.
        """
    def step_up(
        self, access_token: str, method: str, proof: str, client: Optional[ClientInfo] = None
    ) -> TokenPair:
        """Prove who you are again within a session, before a sensitive
        action: the tokens of a new session whose ``amr`` adds the method
        (level 2 with a password and a second factor) and whose
        ``auth_time`` is now. The old session ends, so a token stolen before
        gains nothing.

        Args:
            access_token: The caller's current access token.
            method: ``password``, ``totp``, ``recovery_code`` or ``passkey``.
            proof: The password, the code, or for ``passkey`` the JSON text
                of the browser's answer to ``passkeys.start_authentication``.
            client: Where the request comes from, for the new session.

        Raises:
            InvalidCredentialsError: A wrong proof (counted towards the
                lockout).
            FlowInvalidError: A passkey assertion that answers no open
                ceremony.
            ValidationError: An unknown ``method``, or a ``passkey`` proof
                that is not a WebAuthn answer.
            TokenInvalidError: A malformed or forged token.
            TokenExpiredError: Past its lifetime.
            TokenRevokedError: Its session has ended.
            AccountLockedError: Too many wrong passwords or codes.
        """
    def verify_token(self, access_token: str) -> Principal:
        """Who an access token speaks for: what each authenticated request
        asks. Fails at once after logout, revocation or disabling.

        Raises:
            TokenInvalidError: Malformed, forged or not for this issuer.
            TokenExpiredError: Past its lifetime.
            TokenRevokedError: Its session has ended.
        """
    def verify_token_sync(self, access_token: str) -> Principal:
        """``verify_token`` without waiting on I/O: the same checks and
        answer when none needs the database or Redis (``stateless_verify``,
        or a session this process caches, ``session_cache_ttl``).

        Raises:
            WouldBlockError: The answer needs the database or Redis: call
                ``verify_token``.
            TokenInvalidError: Malformed, forged or not for this issuer.
            TokenExpiredError: Past its lifetime.
            TokenRevokedError: Its session has ended.
        """
    def refresh_token(self, refresh_token: str) -> TokenPair:
        """A new token pair for a refresh token, which stops working.

        Raises:
            TokenInvalidError: Not a refresh token this store issued.
            TokenExpiredError: Its session expired.
            TokenRevokedError: Its session has ended.
            TokenReusedError: It was already used: its whole family (the
                session) is revoked, and the client must log in again.
        """
    def logout(self, access_token: str) -> None:
        """End the session an access token belongs to (an expired token
        still works here).

        Raises:
            TokenInvalidError: Malformed or forged.
        """
    def can(self, user_id: str, permission: str) -> bool:
        """Whether a user holds a permission (``users:write``; ``admin:*``
        and ``*`` grant by wildcard).

        Raises:
            ValidationError: A permission that is not ``resource:action``.
        """
    def can_sync(self, user_id: str, permission: str) -> bool:
        """``can`` without waiting on I/O: the answer when this process
        caches the user's permissions (the cache TTL bounds how stale).

        Raises:
            WouldBlockError: The permissions are not cached here: call ``can``.
            ValidationError: A permission that is not ``resource:action``.
        """
    def require(self, user_id: str, permission: str) -> None:
        """Like ``can``, but raise when the permission is missing: a guard at
        the top of a request handler.

        Raises:
            ForbiddenError: The user lacks the permission.
            ValidationError: A permission that is not ``resource:action``.
        """
    def issue_tokens(self, user_id: str, client: Optional[ClientInfo] = None) -> TokenPair:
        """Start a session without a password (administrators, a verified
        magic link, an OAuth login the host did itself).

        Raises:
            NotFoundError: No such user.
            UserDisabledError: The account is disabled.
            ConfigError: No key to sign tokens with.
        """
    def request_email_verification(self, user_id: str) -> FlowStarted:
        """Mail a verification link and code to the account's address. The
        mail leaves through the outbox: a mail server outage delays it and
        never fails this call.

        Raises:
            ValidationError: The address is verified already (``field`` is ``email``).
            NotFoundError: No such user.
            RateLimitedError: Too many mails to the address, or one too soon.
            ConfigError: No mailer, or no ``flow_key`` / ``jwt_secret``.
        """
    def verify_email(self, flow_id: str, secret: str) -> User:
        """Verify an address with the link's secret or the typed code: the
        account, verified. Call it from the POST of a confirm page, never
        from the GET a mail scanner may make.

        Raises:
            FlowInvalidError: A wrong or used secret (the message says how
                many attempts are left).
            FlowExpiredError: Past its lifetime or its five attempts.
        """
    def request_password_reset(
        self, email: str, client: Optional[ClientInfo] = None
    ) -> FlowStarted:
        """Mail a reset link and code to ``email``'s account. The answer,
        and the work behind it, are the same for an address with no account,
        which gets no mail.

        Raises:
            ValidationError: A malformed address.
            RateLimitedError: Too many mails to the address or from the
                client, or one too soon.
            ConfigError: No mailer, or no ``flow_key`` / ``jwt_secret``.
        """
    def reset_password(self, flow_id: str, secret: str, new_password: str) -> None:
        """Set a new password with the link's secret or the code. Every
        session ends, every other reset link dies, a lockout is lifted and
        the address counts as verified.

        Raises:
            ValidationError: ``new_password`` breaks the password rules
                (checked first: it costs no attempt).
            FlowInvalidError: A wrong or used secret.
            FlowExpiredError: Past its lifetime or its five attempts.
        """
    def request_sign_in(self, email: str, client: Optional[ClientInfo] = None) -> FlowStarted:
        """Mail a sign-in link and code to ``email``; the same answer for an
        address with no account (which gets no mail, unless
        ``sign_in_creates_users`` is on).

        Raises:
            ValidationError: A malformed address.
            RateLimitedError: Too many mails, or one too soon.
            ConfigError: No mailer, or no ``flow_key`` / ``jwt_secret``.
        """
    def complete_sign_in(
        self, flow_id: str, secret: str, client: Optional[ClientInfo] = None
    ) -> Union[TokenPair, MfaChallenge]:
        """Sign in with the link's secret or the code, and the address counts
        as verified: like :meth:`login`, a :class:`TokenPair`, or an
        :class:`MfaChallenge` when the account has a second factor.

        Raises:
            FlowInvalidError: A wrong or used secret.
            FlowExpiredError: Past its lifetime or its five attempts.
            UserDisabledError: The account is disabled.
        """
    def metrics_text(self) -> str:
        """This instance's counters, latency histograms and gauges (outbox
        backlog, active sessions) as Prometheus text, for a ``/metrics``
        route."""

# --- Generated from the classes above by python/tests/async_twins.py: do not edit. ---

@final
class AsyncUsers:
    """Accounts: ``dw.users``.

    The awaitable twin of :class:`Users`, for asyncio: each method returns an
    awaitable of what the method of the same name there returns.
    """

    def create(self, username: str, email: str, password: str) -> Awaitable[User]:
        """Create an account without logging it in (an administrator's
        "add user"; ``register_user`` also starts a session).

        Raises:
            ValidationError: A username, email or password the rules refuse
                (``field`` says which).
            DuplicateUsernameError: The username is taken (case-insensitively).
            DuplicateEmailError: The address is taken (case-insensitively).
        """
    def get(self, user_id: str) -> Awaitable[User]:
        """The account with this id.

        Raises:
            NotFoundError: There is none.
        """
    def get_by_email(self, email: str) -> Awaitable[User]:
        """The account with this email address, case-insensitively.

        Raises:
            NotFoundError: There is none.
        """
    def get_by_username(self, username: str) -> Awaitable[User]:
        """The account with this username, case-insensitively.

        Raises:
            NotFoundError: There is none.
        """
    def list(self, cursor: Optional[str] = None, limit: Optional[int] = None) -> Awaitable[Page]:
        """Accounts in creation order, a page at a time.

        Args:
            cursor: The ``next_cursor`` of the previous page; None for the first.
            limit: The most accounts a page holds, 1 to 500; None for 50.

        Raises:
            ValidationError: A cursor this listing did not return, or a limit
                out of its range (``field`` says which).
        """
    def search(
        self, query: str, cursor: Optional[str] = None, limit: Optional[int] = None
    ) -> Awaitable[Page]:
        """Accounts whose email address or username starts with ``query``,
        ignoring case, in creation order, a page at a time: what an
        administrator's search box asks.

        Args:
            query: The start of an address or a username.
            cursor: The ``next_cursor`` of the previous page; None for the first.
            limit: The most accounts a page holds, 1 to 500; None for 50.

        Raises:
            ValidationError: An empty query (``field`` is ``query``), a cursor
                this listing did not return, or a limit out of its range.
        """
    def import_users(
        self, rows: Sequence[UserRow], *, dry_run: bool = False, atomic: bool = False
    ) -> Awaitable[ImportReport]:
        """Import accounts from another system, one dict per account (a
        :class:`UserRow`): each row is checked as registration would check
        it, and all are checked before anything is written. Password hashes
        of the old system are kept as they are and replaced by argon2id at
        the owner's next login. Emits one ``UsersImported`` event, not a
        ``UserRegistered`` per account.

        Args:
            rows: The accounts; ``created_at`` as an aware ``datetime`` or
                RFC 3339 text.
            dry_run: Check and report, write nothing.
            atomic: All rows or none: one refused row writes nothing.

        Returns:
            The accounts created and the rows refused, each by its position:
            a refused row (a bad address, a taken username, a hash in no
            known format or with a hostile cost) is in ``failed``, not raised.

        Raises:
            ValidationError: A row that is not a dict of the ``UserRow`` keys
                and values (an unknown key, a value of the wrong type):
                ``field`` is ``rows`` and the message names the row and the
                key, never the value.
        """
    def export_users(
        self,
        cursor: Optional[str] = None,
        limit: Optional[int] = None,
        *,
        with_hashes: bool = False,
    ) -> Awaitable[UserRowPage]:
        """Accounts as import rows, in creation order, a page at a time:
        what ``import_users`` takes back, into this instance or another.

        Args:
            cursor: The ``next_cursor`` of the previous page; None for the first.
            limit: The most rows a page holds, 1 to 500; None for 50.
            with_hashes: Include each account's password hash (never its
                password); treat such a page as a secret.

        Raises:
            ValidationError: A cursor this listing did not return, or a limit
                out of its range (``field`` says which).
        """
    def count(self) -> Awaitable[int]:
        """How many accounts there are, disabled ones included: what an
        administrator's dashboard shows, without paging through ``list``."""
    def update(
        self, user_id: str, *, username: Optional[str] = None, email: Optional[str] = None
    ) -> Awaitable[User]:
        """Change the username and/or the email address, validated and unique
        as at registration; what is not given stays.

        Raises:
            NotFoundError: No such user.
            ValidationError: A value the rules refuse.
            DuplicateUsernameError: The new username is taken.
            DuplicateEmailError: The new address is taken.
        """
    def change_password(
        self, user_id: str, old_password: str, new_password: str, keep_session: Optional[str] = None
    ) -> Awaitable[None]:
        """Change a password, proving the old one (the user's own "change
        password" form). Every session ends but ``keep_session``, the
        caller's own.

        Raises:
            InvalidCredentialsError: ``old_password`` is wrong.
            ValidationError: ``new_password`` breaks the password rules.
            NotFoundError: No such user.
        """
    def request_email_change(
        self, user_id: str, new_email: str, password: str
    ) -> Awaitable[FlowStarted]:
        """Ask to move an account to ``new_email``, proving the password: a
        link and code go to the new address, a notice to the old one, and
        the old address stays until :meth:`confirm_email_change`.

        Raises:
            InvalidCredentialsError: Wrong password (throttled like a login).
            DuplicateEmailError: Another account has the address.
            ValidationError: A malformed address, or the account's own.
            RateLimitedError: Too many mails to the address, or one too soon.
        """
    def confirm_email_change(self, flow_id: str, secret: str) -> Awaitable[User]:
        """Confirm a change of address with the link's secret or the code
        mailed to the new address: the account at its new, verified address.

        Raises:
            FlowInvalidError: A wrong or used secret.
            FlowExpiredError: Past its lifetime or its attempts.
            DuplicateEmailError: Another account took the address meanwhile.
        """
    def mark_email_verified(self, user_id: str) -> Awaitable[User]:
        """Mark an account's address verified without a mail
        (administrators).

        Raises:
            NotFoundError: No such user.
        """
    def set_password(self, user_id: str, new_password: str) -> Awaitable[None]:
        """Set a password without the old one (administrators, a verified
        reset link). Every session ends.

        Raises:
            ValidationError: ``new_password`` breaks the password rules.
            NotFoundError: No such user.
        """
    def disable(self, user_id: str) -> Awaitable[None]:
        """Disable an account: no more logins, and its sessions end now.

        Raises:
            NotFoundError: No such user.
        """
    def enable(self, user_id: str) -> Awaitable[None]:
        """Enable a disabled account again.

        Raises:
            NotFoundError: No such user.
        """
    def unlock(self, user_id: str) -> Awaitable[bool]:
        """Lift a lockout and forget failed logins (an administrator's
        answer to ``AccountLockedError``); whether there was anything to clear.

        Raises:
            NotFoundError: No such user.
        """
    def delete(self, user_id: str) -> Awaitable[None]:
        """Delete an account with its sessions and grants.

        Raises:
            NotFoundError: No such user.
        """
    def identities(self, user_id: str) -> Awaitable[builtins.list[Identity]]:
        """The account's identities at OAuth providers, oldest first, for a
        "connected accounts" page.

        Raises:
            NotFoundError: No such user.
        """

@final
class AsyncRoles:
    """Roles and grants: ``dw.roles``. Permissions are checked with
    ``can`` and ``require`` on the client.

    The awaitable twin of :class:`Roles`, for asyncio: each method returns an
    awaitable of what the method of the same name there returns.
    """

    def list(self) -> Awaitable[builtins.list[Role]]:
        """Every role, by name."""
    def get(self, name: str) -> Awaitable[Role]:
        """The role with this name.

        Raises:
            NotFoundError: There is none.
        """
    def create(
        self, name: str, permissions: builtins.list[str], description: str = ""
    ) -> Awaitable[Role]:
        """Create a role with these permissions (``resource:action``, with
        ``*`` wildcards).

        Raises:
            ValidationError: A bad name, permission or description, or a role
                of that name exists.
        """
    def delete(self, name: str) -> Awaitable[None]:
        """Delete a role and take it from everyone who had it.

        Raises:
            NotFoundError: No such role.
            ValidationError: A built-in role, which stays.
        """
    def grant(self, user_id: str, name: str) -> Awaitable[bool]:
        """Give a user a role; whether it was new.

        Raises:
            NotFoundError: No such user or role.
        """
    def revoke(self, user_id: str, name: str) -> Awaitable[bool]:
        """Take a role from a user; whether they had it.

        Raises:
            NotFoundError: No such user or role.
        """
    def of_user(self, user_id: str) -> Awaitable[builtins.list[str]]:
        """The names of a user's roles.

        Raises:
            NotFoundError: No such user.
        """

@final
class AsyncSessions:
    """Live sessions: ``dw.sessions``, for a "where you're logged in" page
    and for ending sessions from elsewhere.

    The awaitable twin of :class:`Sessions`, for asyncio: each method returns an
    awaitable of what the method of the same name there returns.
    """

    def list(self, user_id: str) -> Awaitable[builtins.list[Session]]:
        """A user's live sessions, newest first."""
    def revoke(self, session_id: str) -> Awaitable[None]:
        """End one session now: its tokens stop working at once.

        Raises:
            NotFoundError: The session is not live.
        """
    def revoke_all(self, user_id: str) -> Awaitable[int]:
        """End every session of a user ("log out everywhere"); how many
        were live."""

@final
class AsyncLimits:
    """Rate limits for the host's own endpoints: ``dw.limits``.

    The awaitable twin of :class:`Limits`, for asyncio: each method returns an
    awaitable of what the method of the same name there returns.
    """

    def limit(self, key: str, quota: str) -> Awaitable[Decision]:
        """Admit one call under ``key``, or refuse it.

        Shared by every instance when Redis is configured.

        Args:
            key: What is limited, e.g. ``f"export:{user_id}"``.
            quota: ``"10/1m"``: a burst of 10, then one every 6 s.

        Raises:
            RateLimitedError: Over the quota; ``retry_after`` says when to retry.
            ValidationError: A quota that does not parse.
        """

@final
class AsyncFiles:
    """Objects (avatars, attachments) in the store ``files_url`` names (a
    folder, memory or S3): ``dw.files``.

    The awaitable twin of :class:`Files`, for asyncio: each method returns an
    awaitable of what the method of the same name there returns.
    """

    def put(self, key: str, data: _Data, content_type: Optional[str] = None) -> Awaitable[FileInfo]:
        """Store ``data`` under ``key``, replacing what was there.

        Args:
            key: Segments separated by ``/``, without ``..``.
            data: The bytes; at most ``files_max_bytes``.
            content_type: Kept with the object and served with it.

        Raises:
            ValidationError: A bad key or content type, or ``data`` over
                ``files_max_bytes`` (nothing is written).
        """
    def put_file(
        self, key: str, path: _Path, content_type: Optional[str] = None
    ) -> Awaitable[FileInfo]:
        """Store the file at ``path`` under ``key``, streamed rather than read
        into memory (big uploads).

        Raises:
            ValidationError: A bad key, an unreadable ``path``, or a file over
                ``files_max_bytes``.
        """
    def get(self, key: str) -> Awaitable[tuple[FileInfo, bytes]]:
        """The object under ``key`` and its bytes.

        Raises:
            NotFoundError: There is none.
        """
    def get_to_file(self, key: str, path: _Path) -> Awaitable[FileInfo]:
        """Write the object under ``key`` to ``path``, streamed, through a
        temporary file renamed into place, so ``path`` is never half written.

        Raises:
            NotFoundError: There is none.
        """
    def head(self, key: str) -> Awaitable[FileInfo]:
        """What is known of the object under ``key``, without its bytes.

        Raises:
            NotFoundError: There is none.
        """
    def delete(self, key: str) -> Awaitable[bool]:
        """Delete the object under ``key``; whether there was one."""
    def list(
        self,
        prefix: Optional[str] = None,
        cursor: Optional[str] = None,
        limit: Optional[int] = None,
    ) -> Awaitable[FilePage]:
        """Objects in key order, a page at a time.

        Args:
            prefix: Only keys under it (whole segments: ``avatars`` matches
                ``avatars/1.png``, not ``avatars2/``).
            cursor: The ``next_cursor`` of the previous page; None for the first.
            limit: The most objects a page holds.

        Raises:
            ValidationError: A bad prefix or cursor, or a limit out of range.
        """
    def presign_get(self, key: str, expires_in: float) -> Awaitable[str]:
        """A URL that fetches the object for ``expires_in`` seconds without
        credentials, for a browser or a CDN.

        Raises:
            ConfigError: The store is not S3.
            ValidationError: ``expires_in`` outside 1 s to 7 days, or a bad key.
        """
    def presign_put(self, key: str, expires_in: float) -> Awaitable[str]:
        """A URL that uploads an object under ``key`` with a PUT for
        ``expires_in`` seconds without credentials. S3 cannot cap the size,
        so ``files_max_bytes`` does not apply.

        Raises:
            ConfigError: The store is not S3.
            ValidationError: ``expires_in`` outside 1 s to 7 days, or a bad key.
        """

@final
class AsyncEvents:
    """Domain events: ``dw.events``. Subscriptions and streams in this
    process, the outbox they are read from, and the webhook deliveries
    behind it.

    The awaitable twin of :class:`Events`, for asyncio: each method returns an
    awaitable of what the method of the same name there returns. ``stream``
    returns an :class:`AsyncEventStream`, which subscribes on entering an
    ``async with`` block and has no ``timeout``.
    """

    def subscribe(
        self, handler: _Handler, types: Optional[Sequence[str]] = None, name: Optional[str] = None
    ) -> Awaitable[Subscription]:
        """Call ``handler(event)`` with every event committed from now on, in
        commit order, on a background thread.

        An exception is logged (logger ``doorward.events``) and the event is
        delivered again after a backoff, up to ``events_max_attempts`` times.
        The handler must not call ``flush``, which waits for it.

        Args:
            handler: A plain callable; a coroutine function is refused (use
                ``stream`` from async code).
            types: Event type names to receive; all when None.
            name: Makes the subscriber durable: events committed while the
                process was away are delivered when it subscribes again.

        Raises:
            ValidationError: An unknown event type or a bad name.
            ConfigError: ``events_dispatch`` is off, so nothing would deliver.
            TypeError: ``handler`` is not a plain callable.
        """
    def stream(
        self, types: Optional[Sequence[str]] = None, name: Optional[str] = None
    ) -> AsyncEventStream:
        """Events committed while an ``async with`` block is open, as an async
        iterator: ``async with dw.events.stream(types=["UserRegistered"]) as events:``
        and then ``async for event in events: ...``.

        Args:
            types: Event type names to receive; all when None.
            name: Makes the subscriber durable, as for ``subscribe``.

        Raises:
            ValidationError: An unknown event type or a bad name (on entering
                the block).
            ConfigError: ``events_dispatch`` is off.
        """
    def list(
        self, cursor: Optional[str] = None, limit: Optional[int] = None
    ) -> Awaitable[EventPage]:
        """The outbox in commit order, a page at a time: what an exporter or
        a test reads.

        Args:
            cursor: The ``next_cursor`` of the previous page; None for the start.
            limit: The most events a page holds.

        Raises:
            ValidationError: A cursor this listing did not return.
        """
    def flush(self) -> Awaitable[None]:
        """Run the dispatcher until everything committed so far has reached
        every consumer that can take it now (deliveries waiting for a retry
        stay queued): for tests, scripts and shutdown.

        Raises:
            RuntimeError: Called from an event handler, which the dispatcher
                is waiting for.
        """
    def deliveries(
        self,
        status: Optional[str] = None,
        cursor: Optional[str] = None,
        limit: Optional[int] = None,
    ) -> Awaitable[builtins.list[DeliveryRecord]]:
        """Webhook deliveries, oldest first.

        Args:
            status: ``pending``, ``delivered`` or ``dead``; all when None.
            cursor: The last delivery id of the previous page.
            limit: The most deliveries returned.

        Raises:
            ValidationError: An unknown status or a bad cursor.
        """
    def dead(self) -> Awaitable[builtins.list[DeliveryRecord]]:
        """Dead-lettered webhook deliveries: they ran out of attempts, and
        wait for ``replay``."""
    def replay(self, delivery_id: int) -> Awaitable[None]:
        """Queue a dead delivery again, due now (after fixing the receiver).

        Raises:
            NotFoundError: No such delivery, or it is not dead.
        """

@final
class AsyncWebhooks:
    """Webhook endpoints that receive events over HTTP, signed per Standard
    Webhooks: ``dw.webhooks``.

    The awaitable twin of :class:`Webhooks`, for asyncio: each method returns an
    awaitable of what the method of the same name there returns.
    """

    def add(self, url: str, types: Optional[Sequence[str]] = None) -> Awaitable[Webhook]:
        """Register ``url`` (http or https) for the events committed from now
        on, signed with the new webhook's secret.

        Args:
            url: Where to POST; loopback and private addresses only with
                ``webhook_allow_private``.
            types: Event type names to send; all when None or empty.

        Raises:
            ValidationError: A bad URL or an unknown event type.
        """
    def list(self) -> Awaitable[builtins.list[Webhook]]:
        """Every webhook, oldest first."""
    def remove(self, webhook_id: str) -> Awaitable[None]:
        """Remove a webhook and its queued deliveries.

        Raises:
            NotFoundError: No such webhook.
        """
    def test(self, webhook_id: str) -> Awaitable[WebhookTest]:
        """Send a signed ``doorward.test`` message now, outside the queue, and
        report how the receiver answered (a "send test" button).

        Raises:
            NotFoundError: No such webhook.
        """

@final
class AsyncMail:
    """Outgoing mail: ``dw.mail``. Sending now through the configured
    mailer, and what the in-memory mailer holds (tests).

    The awaitable twin of :class:`Mail`, for asyncio: each method returns an
    awaitable of what the method of the same name there returns. ``sent`` stays
    synchronous: it reads the in-memory mailer.
    """

    def send(self, to: str, subject: str, text: str) -> Awaitable[None]:
        """Send a plain-text message from ``mail_from`` now, through the
        mailer ``mail_url`` names.

        Raises:
            ConfigError: No mailer is configured.
            StorageError: The mail server refused or could not be reached.
        """
    def sent(self) -> builtins.list[Message]:
        """What the in-memory mailer (``mail_url="memory://"``) holds, oldest
        first: how tests read the welcome mail.

        Raises:
            ConfigError: Another mailer is in force.
        """

@final
class AsyncMfa:
    """Second factors: ``dw.mfa``. A TOTP authenticator, enrolled in two
    steps so a mistyped secret locks nobody out, and ten recovery codes.
    Once an account has one, ``login`` answers with an :class:`MfaChallenge`.
    The keys come from ``mfa_encryption_key`` (else ``flow_key``, else
    ``jwt_secret``).

    The awaitable twin of :class:`Mfa`, for asyncio: each method returns an
    awaitable of what the method of the same name there returns.
    """

    def start_totp(self, user_id: str) -> Awaitable[TotpEnrolment]:
        """Begin enrolling an authenticator app: a new secret, stored as
        pending, shown as text, URI and QR code. Logins do not change until
        :meth:`confirm_totp`; starting again replaces a pending secret.

        Raises:
            NotFoundError: No such user.
            ValidationError: An authenticator is already active (``field``
                is ``totp``): remove it first with :meth:`disable_totp`.
            ConfigError: No key to seal the secret with.
        """
    def confirm_totp(self, user_id: str, code: str) -> Awaitable[RecoveryCodes]:
        """Activate the pending authenticator with a first code from it, and
        get the account's ten recovery codes, shown this once. From now on
        logins ask for a second factor.

        Raises:
            InvalidCredentialsError: A wrong code (counted towards the
                lockout like a wrong password).
            NotFoundError: No such user, or no pending enrolment.
            AccountLockedError: Too many wrong passwords or codes.
        """
    def disable_totp(self, access_token: str) -> Awaitable[None]:
        """Remove the caller's authenticator and recovery codes; logins stop
        asking for a second factor.

        Args:
            access_token: The user's own token, authenticated within
                ``fresh_auth_max_age`` seconds.

        Raises:
            StepUpRequiredError: The authentication is older than
                ``fresh_auth_max_age``: ``step_up`` first.
            NotFoundError: There is no authenticator.
            TokenInvalidError: A malformed or forged token.
            TokenExpiredError: Past its lifetime.
            TokenRevokedError: Its session has ended.
        """
    def regenerate_recovery_codes(self, access_token: str) -> Awaitable[RecoveryCodes]:
        """Replace the caller's recovery codes with a new set, shown this
        once; the old ones stop working at once.

        Raises:
            StepUpRequiredError: The authentication is older than
                ``fresh_auth_max_age``: ``step_up`` first.
            NotFoundError: The account has no second factor.
            TokenInvalidError: A malformed or forged token.
            TokenExpiredError: Past its lifetime.
            TokenRevokedError: Its session has ended.
        """
    def status(self, user_id: str) -> Awaitable[MfaStatus]:
        """The account's second factors, for a security settings page.

        Raises:
            NotFoundError: No such user.
        """

@final
class AsyncPasskeys:
    """Passkeys (WebAuthn): ``dw.passkeys``. The host forwards JSON between
    the browser and doorward: the options of a ``start_*`` call are a dict
    to send as the response body, for
    ``PublicKeyCredential.parseCreationOptionsFromJSON(options.publicKey)``
    (or ``parseRequestOptionsFromJSON``), and the browser's
    ``credential.toJSON()`` comes back to a ``finish_*`` call as a dict (or
    its JSON text). Each ceremony works once, for five minutes, and its
    state stays in the store, so any process finishes what another started.

    The awaitable twin of :class:`Passkeys`, for asyncio: each method returns an
    awaitable of what the method of the same name there returns.
    """

    def start_registration(self, user_id: str) -> Awaitable[dict[str, Any]]:
        """Options for ``navigator.credentials.create()`` to add a passkey to
        the account: ``{"publicKey": {"rp": {"id", "name"}, "user": {"id",
        "name", "displayName"}, "challenge", ...}}``, preferring a
        discoverable credential and excluding the account's passkeys.

        Raises:
            NotFoundError: No such user.
            ConfigError: The WebAuthn settings do not describe a relying
                party (``webauthn_rp_id`` not a suffix of an origin's host),
                or no key to seal the ceremony with.
        """
    def finish_registration(
        self, user_id: str, response: Union[Mapping[str, Any], str], name: str
    ) -> Awaitable[PasskeyInfo]:
        """Register the passkey the browser created for the options of
        :meth:`start_registration`.

        Args:
            user_id: The account that asked for the options.
            response: The browser's ``credential.toJSON()``, as a dict or as
                JSON text.
            name: The user's name for the passkey: 1 to 64 printable
                characters (trimmed).

        Raises:
            ValidationError: ``response`` is not a WebAuthn answer, or the
                relying party refuses it (another origin, no user
                verification, a passkey registered already): ``field`` is
                ``response``; or a bad ``name``.
            FlowInvalidError: No open ceremony of this account matches it
                (never started, or finished already).
            FlowExpiredError: The ceremony is older than five minutes.
            NotFoundError: No such user.
        """
    def start_authentication(self, username: Optional[str] = None) -> Awaitable[dict[str, Any]]:
        """Options for ``navigator.credentials.get()``:
        ``{"publicKey": {"rpId", "challenge", "allowCredentials", ...}}``.

        Args:
            username: A username or an address: the options name that
                account's passkeys. Without one (and for an unknown name,
                or one with no passkey, alike) the browser offers any
                passkey it holds for the site.

        Raises:
            ValidationError: A ``username`` longer than 320 characters.
            ConfigError: No usable relying party, as for
                :meth:`start_registration`.
        """
    def finish_authentication(
        self, response: Union[Mapping[str, Any], str], client: Optional[ClientInfo] = None
    ) -> Awaitable[TokenPair]:
        """Sign in with the browser's answer to :meth:`start_authentication`:
        the tokens of a session at level 2 (``amr`` ``hwk`` or ``swk``,
        ``user``, ``mfa``).

        Args:
            response: The browser's ``credential.toJSON()``, as a dict or as
                JSON text.
            client: Where the request comes from, for the session.

        Raises:
            InvalidCredentialsError: The assertion is refused (an unknown
                passkey, a bad signature, another origin, a counter that
                went back).
            FlowInvalidError: No open ceremony matches it (never started,
                or finished already: an assertion works once).
            FlowExpiredError: The ceremony is older than five minutes.
            ValidationError: ``response`` is not a WebAuthn answer.
            UserDisabledError: The account is disabled.
        """
    def list(self, user_id: str) -> Awaitable[builtins.list[PasskeyInfo]]:
        """The account's passkeys, oldest first, for a security settings
        page.

        Raises:
            NotFoundError: No such user.
        """
    def rename(self, user_id: str, passkey_id: str, name: str) -> Awaitable[None]:
        """Rename one of the account's passkeys.

        Raises:
            NotFoundError: The account has no passkey with this id.
            ValidationError: A ``name`` that is not 1 to 64 printable
                characters.
        """
    def remove(self, access_token: str, passkey_id: str) -> Awaitable[None]:
        """Remove one of the caller's passkeys. The password (or a reset by
        mail) stays a way in, so no passkey is ever the last.

        Args:
            access_token: The user's own token, authenticated within
                ``fresh_auth_max_age`` seconds.

        Raises:
            StepUpRequiredError: The authentication is older than
                ``fresh_auth_max_age``: ``step_up`` first.
            NotFoundError: The account has no passkey with this id.
            TokenInvalidError: A malformed or forged token.
            TokenExpiredError: Past its lifetime.
            TokenRevokedError: Its session has ended.
        """

@final
class AsyncOAuth:
    """Sign-in with OAuth 2.0 / OpenID Connect providers: ``dw.oauth``.
    doorward is the relying party: it keeps each sign-in's state, PKCE
    verifier (S256) and nonce in the store for ten minutes, trades the code
    and checks the ID token; the host only redirects the browser and
    forwards the callback. The providers are ``oauth_providers``, a list of
    dicts (``id``, ``kind``, ``issuer``, ``client_id``, ``client_secret``,
    ``scopes``, ``trust_email``, ``allow_sign_up``, ``store_provider_tokens``
    ...).

    The awaitable twin of :class:`OAuth`, for asyncio: each method returns an
    awaitable of what the method of the same name there returns. ``providers``
    stays synchronous: it reads the configuration.
    """

    def providers(self) -> builtins.list[ProviderInfo]:
        """The configured providers, in id order, for sign-in buttons. Reads
        the configuration: no I/O, so it stays synchronous on
        :class:`AsyncOAuth` too."""
    def authorization_url(self, provider: str, redirect_uri: str) -> Awaitable[AuthorizationStart]:
        """Start a sign-in with ``provider``: the URL to redirect the browser
        to, and the state to keep in it. The provider is discovered on
        first use.

        Args:
            provider: The provider's id in ``oauth_providers``.
            redirect_uri: Where the provider sends the browser back (this
                app's callback route, registered at the provider).

        Raises:
            ValidationError: No such provider (``field`` is ``provider``),
                or a ``redirect_uri`` over 2048 characters.
            OAuthProviderError: The provider's discovery failed
                (``oauth_error`` ``unreachable`` or ``invalid_response``).
            ConfigError: No key to seal the sign-in's state with.
        """
    def complete(
        self,
        callback: str,
        expected_state: Optional[str] = None,
        client: Optional[ClientInfo] = None,
    ) -> Awaitable[OAuthCompletion]:
        """Finish what :meth:`authorization_url` or :meth:`link` started: the
        matched, linked or created account, signed in (or, for a link,
        linked). Each state works once.

        Args:
            callback: The callback's URL, its query string, or (Apple's form
                post) its body.
            expected_state: The ``state`` the browser kept (the cookie); a
                callback with another is refused.
            client: Where the request comes from, for the session.

        Raises:
            OAuthStateInvalidError: An unknown, used, expired or another
                browser's state.
            OAuthProviderError: The provider's ``error`` (``access_denied``
                when the user cancelled), or a refused code or ID token.
            AccountExistsError: An account has the identity or its address
                and may not be reached through it here (see
                :class:`AccountExistsError`).
            NotFoundError: The provider allows no sign-up and no account
                has the identity.
            UserDisabledError: The account is disabled.
        """
    def link(self, user_id: str, provider: str, redirect_uri: str) -> Awaitable[AuthorizationStart]:
        """Start linking ``provider`` to the signed-in account ``user_id``:
        an authorization like :meth:`authorization_url`'s, whose callback
        links instead of signing in (``OAuthCompletion.login`` is None).

        Raises:
            NotFoundError: No such user.
            UserDisabledError: The account is disabled.
            ValidationError: No such provider.
        """
    def unlink(self, user_id: str, provider: str) -> Awaitable[None]:
        """Unlink the account's identity at ``provider``.

        Raises:
            NotFoundError: No such user, or no identity at ``provider``.
            ValidationError: It is the account's last way to sign in (no
                password of its own, no passkey, no other identity):
                ``field`` is ``provider``.
        """
    def provider_tokens(self, user_id: str, provider: str) -> Awaitable[Optional[ProviderTokens]]:
        """The provider's tokens kept for the account's identity at
        ``provider`` (a provider with ``store_provider_tokens``), as of its
        last sign-in; None when none are kept.

        Raises:
            NotFoundError: The account has no identity at ``provider``.
            ConfigError: The tokens were sealed under another key.
        """

@final
class AsyncAudit:
    """The hash-chained audit log: ``dw.audit``. Every event is a row whose
    hash covers the previous row's, so an edit or a deletion shows.

    The awaitable twin of :class:`Audit`, for asyncio: each method returns an
    awaitable of what the method of the same name there returns.
    """

    def list(
        self,
        user_id: Optional[str] = None,
        type: Optional[str] = None,
        since: Optional[datetime] = None,
        until: Optional[datetime] = None,
        cursor: Optional[str] = None,
        limit: Optional[int] = None,
    ) -> Awaitable[AuditPage]:
        """Rows matching every filter given, oldest first, a page at a time.

        Args:
            user_id: Rows where this user is the actor or the subject.
            type: Rows of this event type.
            since: Rows at or after this aware datetime.
            until: Rows before this aware datetime.
            cursor: The ``next_cursor`` of the previous page; None for the first.
            limit: The most rows a page holds.

        Raises:
            ValidationError: An unknown event type or a bad cursor.
        """
    def export(self, since: Optional[datetime] = None) -> Awaitable[str]:
        """Every row at or after ``since`` as JSON Lines, for a SIEM or cold
        storage."""
    def verify(self) -> Awaitable[AuditVerification]:
        """Walk the whole chain and recompute every hash, under ``audit_key``
        when it is set: what a periodic integrity check runs.

        Raises:
            ConfigError: An ``audit_key`` that is not a usable HMAC key.
        """

@final
class AsyncDoorward:
    """An open doorward: registration, login, tokens and permissions, with the
    other services (users, roles, files, events...) as properties. Open one per
    process and share it: it holds the database pools, the cache and the event
    dispatcher.

    The awaitable twin of :class:`Doorward`, for asyncio: each method returns an
    awaitable of what the method of the same name there returns. ``jwks`` stays
    synchronous: it reads keys held in memory. ``require_aal`` stays
    synchronous: it reads the principal alone. ``verify_token_sync`` stays
    synchronous: it answers from memory or raises WouldBlockError. ``can_sync``
    stays synchronous: it answers from memory or raises WouldBlockError.
    ``require_recent_auth`` stays synchronous: it reads the principal alone.
    """

    def __new__(cls, config: _Config = None, **overrides: Any) -> AsyncDoorward:
        """Open the store the configuration names, migrating it and seeding
        the built-in roles.

        Args:
            config: The keys of the README's table, as a mapping or the path
                of a TOML file; defaults when None. The environment is not
                read: pass ``DOORWARD_*`` variables yourself if you use them.
            **overrides: Keys laid over ``config``.

        Raises:
            ConfigError: An unknown key, a bad value, a short secret, a
                mismatched key pair.
            StorageError: The database cannot be opened or migrated.
        """
    @property
    def users(self) -> AsyncUsers:
        """Accounts."""
    @property
    def roles(self) -> AsyncRoles:
        """Roles and grants."""
    @property
    def sessions(self) -> AsyncSessions:
        """Live sessions."""
    @property
    def limits(self) -> AsyncLimits:
        """Rate limits for the host's own endpoints."""
    @property
    def files(self) -> AsyncFiles:
        """Objects in the store ``files_url`` names."""
    @property
    def events(self) -> AsyncEvents:
        """Domain events: subscriptions, the outbox, webhook deliveries."""
    @property
    def webhooks(self) -> AsyncWebhooks:
        """Webhook endpoints that receive events, signed."""
    @property
    def audit(self) -> AsyncAudit:
        """The hash-chained audit log."""
    @property
    def mail(self) -> AsyncMail:
        """Outgoing mail: sending now, and the in-memory mailer."""
    @property
    def mfa(self) -> AsyncMfa:
        """Second factors: TOTP authenticators and recovery codes."""
    @property
    def passkeys(self) -> AsyncPasskeys:
        """Passkeys (WebAuthn): registration, sign-in, and management."""
    @property
    def oauth(self) -> AsyncOAuth:
        """Sign-in with OAuth 2.0 / OpenID Connect providers, and linking."""
    @property
    def backend(self) -> str:
        """The store in use: ``sqlite``, ``postgres`` or ``memory``."""
    def jwks(self) -> dict[str, Any]:
        """The public verification keys as a JWKS document, for a
        ``/.well-known/jwks.json`` route (empty for HS256, whose secret is
        never published).

        Raises:
            ConfigError: No signing key is configured.
        """
    def require_aal(self, principal: Principal, aal: int) -> None:
        """Refuse unless the principal's token was authenticated at level
        ``aal`` or above (2: a password with a second factor), before a
        sensitive action. Reads the principal alone: no I/O, so it stays
        synchronous on :class:`AsyncDoorward` too.

        Raises:
            StepUpRequiredError: A lower level (HTTP 401 with
                ``insufficient_user_authentication``): ``step_up`` first.
            OverflowError: ``aal`` outside 0 to 255.
        """
    def require_recent_auth(self, principal: Principal, max_age: int) -> None:
        """Refuse unless the principal's user proved who they are (a login,
        a second factor, a step-up) within the last ``max_age`` seconds:
        for sensitive actions such as changing an address. No I/O, so it
        stays synchronous on :class:`AsyncDoorward` too.

        Raises:
            StepUpRequiredError: An older authentication: ``step_up`` first.
            OverflowError: A negative ``max_age``.
        """
    def register_user(
        self, username: str, email: str, password: str, client: Optional[ClientInfo] = None
    ) -> Awaitable[Registration]:
        """Validate, hash and store a new account, and log it in: a sign-up
        form's whole work.

        Args:
            client: Where the request comes from, for the per-address
                registration limit and the session.

        Raises:
            ValidationError: A username, email or password the rules refuse
                (``field`` says which).
            DuplicateUsernameError: The username is taken.
            DuplicateEmailError: The address is taken.
            RateLimitedError: Too many registrations from this address.
            ConfigError: No key to sign tokens with.
        """
    def login(
        self, login: str, password: str, client: Optional[ClientInfo] = None
    ) -> Awaitable[Union[TokenPair, MfaChallenge]]:
        """Log in with a username or an email address and start a session:
        its :class:`TokenPair`, or, when the account has a second factor (or
        a role in ``mfa_required_for_roles``), an :class:`MfaChallenge` to
        finish with :meth:`complete_mfa`. ``result.mfa_required`` tells them
        apart; ``isinstance(result, doorward.MfaChallenge)`` narrows the type.

        Args:
            login: A username or an email address.
            client: Where the request comes from, for the per-address limits,
                the lockout's trusted addresses and the session.

        Raises:
            InvalidCredentialsError: An unknown login or a wrong password
                (deliberately the same answer).
            UserDisabledError: The account is disabled (told only to the
                right password).
            AccountLockedError: Too many wrong passwords; ``retry_after``
                says when the lock ends.
            RateLimitedError: Too many attempts for this account or address.
            ValidationError: An empty login or password.
        """
    def complete_mfa(
        self, flow_id: str, method: str, proof: str, client: Optional[ClientInfo] = None
    ) -> Awaitable[TokenPair]:
        """Finish a login that answered an :class:`MfaChallenge`: the tokens
        of a session at level 2 (``amr`` ``mfa``, ``pwd`` and ``otp``, or a
        passkey's). A wrong code leaves the pending login usable for its
        remaining attempts.

        Args:
            flow_id: The challenge's ``flow_id``.
            method: ``totp`` (a code from the app), ``recovery_code`` or
                ``passkey``.
            proof: The code the user typed (spaces and dashes are ignored),
                or for ``passkey`` the JSON text of the browser's answer to
                ``passkeys.start_authentication`` (``json.dumps`` of the
                dict).
            client: Where the request comes from.

        Raises:
            InvalidCredentialsError: A wrong or already used code, or a
                refused assertion (counted towards the lockout).
            FlowInvalidError: An unknown, forged or used ``flow_id``, or an
                assertion that answers no open passkey ceremony.
            FlowExpiredError: Past ``mfa_login_ttl`` or its five attempts:
                log in again.
            ValidationError: An unknown ``method``, or a ``passkey`` proof
                that is not a WebAuthn answer (``field`` is ``proof``).
            AccountLockedError: Too many wrong passwords or codes.
            UserDisabledError: The account was disabled meanwhile.
        """
    def step_up(
        self, access_token: str, method: str, proof: str, client: Optional[ClientInfo] = None
    ) -> Awaitable[TokenPair]:
        """Prove who you are again within a session, before a sensitive
        action: the tokens of a new session whose ``amr`` adds the method
        (level 2 with a password and a second factor) and whose
        ``auth_time`` is now. The old session ends, so a token stolen before
        gains nothing.

        Args:
            access_token: The caller's current access token.
            method: ``password``, ``totp``, ``recovery_code`` or ``passkey``.
            proof: The password, the code, or for ``passkey`` the JSON text
                of the browser's answer to ``passkeys.start_authentication``.
            client: Where the request comes from, for the new session.

        Raises:
            InvalidCredentialsError: A wrong proof (counted towards the
                lockout).
            FlowInvalidError: A passkey assertion that answers no open
                ceremony.
            ValidationError: An unknown ``method``, or a ``passkey`` proof
                that is not a WebAuthn answer.
            TokenInvalidError: A malformed or forged token.
            TokenExpiredError: Past its lifetime.
            TokenRevokedError: Its session has ended.
            AccountLockedError: Too many wrong passwords or codes.
        """
    def verify_token(self, access_token: str) -> Awaitable[Principal]:
        """Who an access token speaks for: what each authenticated request
        asks. Fails at once after logout, revocation or disabling.

        Raises:
            TokenInvalidError: Malformed, forged or not for this issuer.
            TokenExpiredError: Past its lifetime.
            TokenRevokedError: Its session has ended.
        """
    def verify_token_sync(self, access_token: str) -> Principal:
        """``verify_token`` without waiting on I/O: the same checks and
        answer when none needs the database or Redis (``stateless_verify``,
        or a session this process caches, ``session_cache_ttl``).

        Raises:
            WouldBlockError: The answer needs the database or Redis: call
                ``verify_token``.
            TokenInvalidError: Malformed, forged or not for this issuer.
            TokenExpiredError: Past its lifetime.
            TokenRevokedError: Its session has ended.
        """
    def refresh_token(self, refresh_token: str) -> Awaitable[TokenPair]:
        """A new token pair for a refresh token, which stops working.

        Raises:
            TokenInvalidError: Not a refresh token this store issued.
            TokenExpiredError: Its session expired.
            TokenRevokedError: Its session has ended.
            TokenReusedError: It was already used: its whole family (the
                session) is revoked, and the client must log in again.
        """
    def logout(self, access_token: str) -> Awaitable[None]:
        """End the session an access token belongs to (an expired token
        still works here).

        Raises:
            TokenInvalidError: Malformed or forged.
        """
    def can(self, user_id: str, permission: str) -> Awaitable[bool]:
        """Whether a user holds a permission (``users:write``; ``admin:*``
        and ``*`` grant by wildcard).

        Raises:
            ValidationError: A permission that is not ``resource:action``.
        """
    def can_sync(self, user_id: str, permission: str) -> bool:
        """``can`` without waiting on I/O: the answer when this process
        caches the user's permissions (the cache TTL bounds how stale).

        Raises:
            WouldBlockError: The permissions are not cached here: call ``can``.
            ValidationError: A permission that is not ``resource:action``.
        """
    def require(self, user_id: str, permission: str) -> Awaitable[None]:
        """Like ``can``, but raise when the permission is missing: a guard at
        the top of a request handler.

        Raises:
            ForbiddenError: The user lacks the permission.
            ValidationError: A permission that is not ``resource:action``.
        """
    def issue_tokens(
        self, user_id: str, client: Optional[ClientInfo] = None
    ) -> Awaitable[TokenPair]:
        """Start a session without a password (administrators, a verified
        magic link, an OAuth login the host did itself).

        Raises:
            NotFoundError: No such user.
            UserDisabledError: The account is disabled.
            ConfigError: No key to sign tokens with.
        """
    def request_email_verification(self, user_id: str) -> Awaitable[FlowStarted]:
        """Mail a verification link and code to the account's address. The
        mail leaves through the outbox: a mail server outage delays it and
        never fails this call.

        Raises:
            ValidationError: The address is verified already (``field`` is ``email``).
            NotFoundError: No such user.
            RateLimitedError: Too many mails to the address, or one too soon.
            ConfigError: No mailer, or no ``flow_key`` / ``jwt_secret``.
        """
    def verify_email(self, flow_id: str, secret: str) -> Awaitable[User]:
        """Verify an address with the link's secret or the typed code: the
        account, verified. Call it from the POST of a confirm page, never
        from the GET a mail scanner may make.

        Raises:
            FlowInvalidError: A wrong or used secret (the message says how
                many attempts are left).
            FlowExpiredError: Past its lifetime or its five attempts.
        """
    def request_password_reset(
        self, email: str, client: Optional[ClientInfo] = None
    ) -> Awaitable[FlowStarted]:
        """Mail a reset link and code to ``email``'s account. The answer,
        and the work behind it, are the same for an address with no account,
        which gets no mail.

        Raises:
            ValidationError: A malformed address.
            RateLimitedError: Too many mails to the address or from the
                client, or one too soon.
            ConfigError: No mailer, or no ``flow_key`` / ``jwt_secret``.
        """
    def reset_password(self, flow_id: str, secret: str, new_password: str) -> Awaitable[None]:
        """Set a new password with the link's secret or the code. Every
        session ends, every other reset link dies, a lockout is lifted and
        the address counts as verified.

        Raises:
            ValidationError: ``new_password`` breaks the password rules
                (checked first: it costs no attempt).
            FlowInvalidError: A wrong or used secret.
            FlowExpiredError: Past its lifetime or its five attempts.
        """
    def request_sign_in(
        self, email: str, client: Optional[ClientInfo] = None
    ) -> Awaitable[FlowStarted]:
        """Mail a sign-in link and code to ``email``; the same answer for an
        address with no account (which gets no mail, unless
        ``sign_in_creates_users`` is on).

        Raises:
            ValidationError: A malformed address.
            RateLimitedError: Too many mails, or one too soon.
            ConfigError: No mailer, or no ``flow_key`` / ``jwt_secret``.
        """
    def complete_sign_in(
        self, flow_id: str, secret: str, client: Optional[ClientInfo] = None
    ) -> Awaitable[Union[TokenPair, MfaChallenge]]:
        """Sign in with the link's secret or the code, and the address counts
        as verified: like :meth:`login`, a :class:`TokenPair`, or an
        :class:`MfaChallenge` when the account has a second factor.

        Raises:
            FlowInvalidError: A wrong or used secret.
            FlowExpiredError: Past its lifetime or its five attempts.
            UserDisabledError: The account is disabled.
        """
    def metrics_text(self) -> Awaitable[str]:
        """This instance's counters, latency histograms and gauges (outbox
        backlog, active sessions) as Prometheus text, for a ``/metrics``
        route."""

"""doorward's exceptions: one class per stable error code.

Every exception raised by doorward is a :class:`DoorwardError` whose
``code`` is one of :data:`ErrorCode`. Catch the subclass for the case you
handle (``DuplicateEmailError``), or ``DoorwardError`` and branch on
``.code``. Messages never contain a password, a token, a hash or an email
address.
"""

from __future__ import annotations

from typing import Literal, Optional

__all__ = [
    "AccountExistsError",
    "AccountLockedError",
    "ConfigError",
    "DoorwardError",
    "DuplicateEmailError",
    "DuplicateUsernameError",
    "EmailNotVerifiedError",
    "ErrorCode",
    "FlowExpiredError",
    "FlowInvalidError",
    "ForbiddenError",
    "InternalError",
    "InvalidCredentialsError",
    "NotFoundError",
    "OAuthProviderError",
    "OAuthStateInvalidError",
    "RateLimitedError",
    "StepUpRequiredError",
    "StorageError",
    "TokenExpiredError",
    "TokenInvalidError",
    "TokenReusedError",
    "TokenRevokedError",
    "UserDisabledError",
    "ValidationError",
    "WouldBlockError",
]

ErrorCode = Literal[
    "validation_error",
    "duplicate_email",
    "duplicate_username",
    "invalid_credentials",
    "user_disabled",
    "account_locked",
    "not_found",
    "token_invalid",
    "token_expired",
    "token_revoked",
    "token_reused",
    "flow_invalid",
    "flow_expired",
    "email_not_verified",
    "step_up_required",
    "oauth_state_invalid",
    "oauth_provider_error",
    "account_exists",
    "forbidden",
    "rate_limited",
    "would_block",
    "config_error",
    "storage_error",
    "internal",
]


class DoorwardError(Exception):
    """Any doorward failure. ``code`` is the stable machine code."""

    code: ErrorCode = "internal"

    def __init__(self, message: str, *, code: Optional[ErrorCode] = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, message={self.message!r})"


class ValidationError(DoorwardError, ValueError):
    """Bad input. ``field`` names it (``email``, ``password``, ``limit``...)."""

    code: ErrorCode = "validation_error"

    def __init__(self, message: str, *, field: Optional[str] = None) -> None:
        super().__init__(message)
        self.field = field


class DuplicateEmailError(DoorwardError):
    """Another account has this email address (case-insensitively)."""

    code: ErrorCode = "duplicate_email"


class DuplicateUsernameError(DoorwardError):
    """Another account has this username (case-insensitively)."""

    code: ErrorCode = "duplicate_username"


class InvalidCredentialsError(DoorwardError):
    """Unknown login or wrong password; which one is never told."""

    code: ErrorCode = "invalid_credentials"


class UserDisabledError(DoorwardError):
    """The account is disabled."""

    code: ErrorCode = "user_disabled"


class _TryLaterError(DoorwardError):
    """A refusal that ends by itself: ``retry_after`` is the wait in seconds."""

    def __init__(self, message: str, *, retry_after: Optional[float] = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class RateLimitedError(_TryLaterError):
    """Too many attempts. ``retry_after`` is the wait in seconds."""

    code: ErrorCode = "rate_limited"


class AccountLockedError(_TryLaterError):
    """Locked after repeated wrong passwords, for ``retry_after`` seconds."""

    code: ErrorCode = "account_locked"


class NotFoundError(DoorwardError, LookupError):
    """No such user, role or session."""

    code: ErrorCode = "not_found"


class TokenInvalidError(DoorwardError):
    """Malformed, forged or unacceptable token."""

    code: ErrorCode = "token_invalid"


class TokenExpiredError(DoorwardError):
    """The token's lifetime is over: refresh or log in again."""

    code: ErrorCode = "token_expired"


class TokenRevokedError(DoorwardError):
    """The session was ended (logout, revocation, disabling)."""

    code: ErrorCode = "token_revoked"


class TokenReusedError(DoorwardError):
    """A rotated refresh token came back: its whole family is revoked."""

    code: ErrorCode = "token_reused"


class FlowInvalidError(DoorwardError):
    """An account mail's link or code is wrong or was already used; the
    message says how many attempts are left when some are."""

    code: ErrorCode = "flow_invalid"


class FlowExpiredError(DoorwardError):
    """An account mail's link or code is past its lifetime or its five
    attempts: ask for a new mail."""

    code: ErrorCode = "flow_expired"


class EmailNotVerifiedError(DoorwardError):
    """The password was right, but the address is not verified and
    ``require_verified_email_for_login`` is on."""

    code: ErrorCode = "email_not_verified"


class StepUpRequiredError(DoorwardError):
    """The action needs a stronger or more recent authentication (RFC 9470's
    ``insufficient_user_authentication``): prove a factor again with
    ``step_up``, or log in again, and retry with the new tokens."""

    code: ErrorCode = "step_up_required"


class OAuthStateInvalidError(DoorwardError):
    """An OAuth callback whose ``state`` names no sign-in started here: an
    unknown one, one answered already, one older than ten minutes, or not
    the state this browser kept (``expected_state``). Start again."""

    code: ErrorCode = "oauth_state_invalid"


class OAuthProviderError(DoorwardError):
    """The provider did not sign the user in. ``provider`` is its id,
    ``oauth_error`` its OAuth ``error`` (``access_denied`` when the user
    cancelled, ``invalid_grant``...) or doorward's verdict on its answer
    (``invalid_id_token``, ``invalid_response``, ``unreachable``,
    ``email_required``), and ``description`` the provider's text, if any."""

    code: ErrorCode = "oauth_provider_error"

    def __init__(
        self,
        message: str,
        *,
        provider: Optional[str] = None,
        oauth_error: Optional[str] = None,
        description: Optional[str] = None,
    ) -> None:
        super().__init__(message)
        self.provider = provider
        self.oauth_error = oauth_error
        self.description = description


class AccountExistsError(DoorwardError):
    """An account already has this ``provider`` identity, or the address the
    provider gave, and may not be reached through it here: the user signs
    in another way (their password) and links the provider from there."""

    code: ErrorCode = "account_exists"

    def __init__(self, message: str, *, provider: Optional[str] = None) -> None:
        super().__init__(message)
        self.provider = provider


class ForbiddenError(DoorwardError, PermissionError):
    """The user lacks the permission."""

    code: ErrorCode = "forbidden"


class WouldBlockError(DoorwardError):
    """A ``_sync`` call (``verify_token_sync``, ``can_sync``) whose answer
    needs the database or Redis: make the ordinary call instead."""

    code: ErrorCode = "would_block"


class ConfigError(DoorwardError):
    """The configuration is wrong (an unknown key, a short secret...)."""

    code: ErrorCode = "config_error"


class StorageError(DoorwardError):
    """The database or Redis failed or could not be reached."""

    code: ErrorCode = "storage_error"


class InternalError(DoorwardError):
    """A bug in doorward (a panic included): please report it."""

    code: ErrorCode = "internal"


#: The class of each code, read from the classes in ``__all__`` rather than
#: listed again (tests check it against ``error_codes()``).
_BY_CODE: dict[str, type[DoorwardError]] = {
    cls.code: cls
    for cls in (globals()[name] for name in __all__)
    if isinstance(cls, type) and issubclass(cls, DoorwardError) and cls is not DoorwardError
}


#: An OAuth error's provider, its ``error`` and its description.
_OAuthDetails = tuple[str, Optional[str], Optional[str]]


def _from_native(
    code: str,
    message: str,
    field: Optional[str],
    retry_after: Optional[float],
    oauth: Optional[_OAuthDetails] = None,
) -> DoorwardError:
    """The exception for an error of the core (called by ``doorward._native``)."""
    cls = _BY_CODE.get(code)
    if cls is None:
        # A code newer than this file: still a DoorwardError with that code.
        err = DoorwardError(message)
        err.code = code  # type: ignore[assignment]
        return err
    if issubclass(cls, ValidationError):
        return cls(message, field=field)
    if issubclass(cls, _TryLaterError):
        return cls(message, retry_after=retry_after)
    provider, oauth_error, description = oauth or (None, None, None)
    if issubclass(cls, OAuthProviderError):
        return cls(message, provider=provider, oauth_error=oauth_error, description=description)
    if issubclass(cls, AccountExistsError):
        return cls(message, provider=provider)
    return cls(message)

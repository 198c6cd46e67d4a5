"""What every web framework integration shares: reading a bearer token and
answering a doorward error with the right HTTP status and body.

The framework modules (:mod:`doorward.fastapi`, :mod:`doorward.flask`,
:mod:`doorward.django`) are thin layers over these two functions.
"""

from __future__ import annotations

import math
from typing import Any, Optional

from doorward._native import http_statuses
from doorward.errors import AccountLockedError, DoorwardError, RateLimitedError, TokenInvalidError

__all__ = [
    "HTTP_STATUS",
    "MissingTokenError",
    "bearer_token",
    "error_body",
    "error_headers",
    "http_status",
]

#: The HTTP status that answers each error code (the core's table).
HTTP_STATUS: dict[str, int] = dict(http_statuses())


class MissingTokenError(TokenInvalidError):
    """No bearer token at all (code ``token_invalid``, like a bad one)."""


def bearer_token(authorization: Optional[str]) -> str:
    """The token of an ``Authorization: Bearer <token>`` header value.

    Raises :class:`MissingTokenError` (a :class:`TokenInvalidError`) when the
    header is missing or is not a bearer credential.
    """
    if authorization:
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            return token.strip()
    raise MissingTokenError("a bearer access token is required")


def http_status(err: DoorwardError) -> int:
    """The HTTP status for ``err`` (500 for a code this table does not know)."""
    return HTTP_STATUS.get(err.code, 500)


def error_body(err: DoorwardError) -> dict[str, Any]:
    """The JSON body for ``err``: ``{"error": {"code", "message", "field"}}``.

    Server-side failures (config, storage, internal) say no more than their
    code, so nothing about the deployment leaks to clients.
    """
    server_side = http_status(err) >= 500
    return {
        "error": {
            "code": err.code,
            "message": "the server could not complete the request" if server_side else str(err),
            "field": getattr(err, "field", None),
        }
    }


def error_headers(err: DoorwardError) -> dict[str, str]:
    """``WWW-Authenticate`` for 401s (RFC 6750: with ``error="invalid_token"``
    only when a token was sent and refused), ``Retry-After`` (whole seconds)
    for 429s."""
    headers: dict[str, str] = {}
    if http_status(err) == 401:
        refused = err.code.startswith("token_") and not isinstance(err, MissingTokenError)
        headers["WWW-Authenticate"] = 'Bearer error="invalid_token"' if refused else "Bearer"
    if isinstance(err, (RateLimitedError, AccountLockedError)) and err.retry_after is not None:
        headers["Retry-After"] = str(max(1, math.ceil(err.retry_after)))
    return headers

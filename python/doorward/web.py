"""What every web framework integration shares: reading a bearer token and
answering a doorward error with the right HTTP status and body.

The answer itself is the core's (:func:`error_response`), the same in every
language; the framework modules (:mod:`doorward.fastapi`,
:mod:`doorward.flask`, :mod:`doorward.django`) are thin layers over
:func:`bearer_token` and :func:`error_response`.
"""

from __future__ import annotations

from typing import Any, Optional

from doorward._native import HttpErrorResponse, http_error_response, http_statuses
from doorward.errors import DoorwardError, TokenInvalidError

__all__ = [
    "HTTP_STATUS",
    "MissingTokenError",
    "bearer_token",
    "error_body",
    "error_headers",
    "error_response",
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


def error_response(err: DoorwardError) -> HttpErrorResponse:
    """The HTTP answer to ``err``: ``.status``, ``.headers`` (name, value
    pairs) and ``.body`` (a dict for a JSON response).

    The core decides it, as for every binding: the code's status (500 for a
    code it does not know); ``WWW-Authenticate`` on a 401 (RFC 6750: with
    ``error="invalid_token"`` only when a token was sent and refused, so not
    for a :class:`MissingTokenError`); ``Retry-After`` in whole seconds on a
    429; and ``{"error": {"code", "message", "field"}}``, where a server-side
    failure (config, storage, internal) says no more than its code, so
    nothing about the deployment leaks to clients.
    """
    return http_error_response(
        err.code,
        str(err),
        field=getattr(err, "field", None),
        retry_after=getattr(err, "retry_after", None),
        missing_token=isinstance(err, MissingTokenError),
    )


def http_status(err: DoorwardError) -> int:
    """The HTTP status for ``err`` (500 for a code this table does not know)."""
    return error_response(err).status


def error_body(err: DoorwardError) -> dict[str, Any]:
    """The JSON body for ``err``: ``{"error": {"code", "message", "field"}}``.

    Server-side failures (config, storage, internal) say no more than their
    code, so nothing about the deployment leaks to clients.
    """
    return error_response(err).body


def error_headers(err: DoorwardError) -> dict[str, str]:
    """``WWW-Authenticate`` for 401s (RFC 6750: with ``error="invalid_token"``
    only when a token was sent and refused), ``Retry-After`` (whole seconds)
    for 429s."""
    return dict(error_response(err).headers)

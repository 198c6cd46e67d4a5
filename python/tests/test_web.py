"""doorward.web: bearer tokens read from a header, and the HTTP answer
(status, body, headers) to each error."""

import re
from pathlib import Path
from typing import Any, Optional, cast

import pytest

import doorward
from doorward import web


@pytest.mark.parametrize(
    "header",
    [
        "Bearer abc.def.ghi",
        "bearer abc.def.ghi",
        "BEARER abc.def.ghi",
        "BeArEr abc.def.ghi",
        "Bearer    abc.def.ghi",
        "  Bearer abc.def.ghi  ",
        "Bearer abc.def.ghi\t",
    ],
)
def test_bearer_token_reads_the_token(header: str) -> None:
    assert web.bearer_token(header) == "abc.def.ghi"


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "   ",
        "Bearer",
        "Bearer ",
        "Bearer    ",
        "Basic am9objpwdw==",
        "Token abc.def.ghi",
        "Bearerabc.def.ghi",
        "abc.def.ghi",
    ],
)
def test_bearer_token_refuses_a_missing_or_foreign_credential(header: Optional[str]) -> None:
    with pytest.raises(web.MissingTokenError) as caught:
        web.bearer_token(header)
    # Caught like a bad token, answered like one but without error="invalid_token".
    assert isinstance(caught.value, doorward.TokenInvalidError)
    assert caught.value.code == "token_invalid"
    assert web.http_status(caught.value) == 401
    assert web.error_headers(caught.value) == {"WWW-Authenticate": "Bearer"}


def test_http_status_covers_every_error_code() -> None:
    codes = doorward.error_codes()
    assert sorted(web.HTTP_STATUS) == sorted(codes)
    for code in codes:
        err = doorward.DoorwardError("x", code=cast(doorward.ErrorCode, code))
        assert web.http_status(err) == web.HTTP_STATUS[code]
        assert 400 <= web.http_status(err) < 600


@pytest.mark.parametrize(
    ("err", "status"),
    [
        (doorward.ValidationError("bad", field="email"), 422),
        (doorward.DuplicateEmailError("taken"), 409),
        (doorward.DuplicateUsernameError("taken"), 409),
        (doorward.InvalidCredentialsError("no"), 401),
        (doorward.UserDisabledError("off"), 403),
        (doorward.AccountLockedError("locked", retry_after=30.0), 429),
        (doorward.NotFoundError("none"), 404),
        (doorward.TokenInvalidError("bad"), 401),
        (web.MissingTokenError("none"), 401),
        (doorward.TokenExpiredError("old"), 401),
        (doorward.TokenRevokedError("ended"), 401),
        (doorward.TokenReusedError("replayed"), 401),
        (doorward.ForbiddenError("no"), 403),
        (doorward.RateLimitedError("slow down", retry_after=1.0), 429),
        (doorward.ConfigError("bad config"), 500),
        (doorward.StorageError("db down"), 503),
        (doorward.InternalError("bug"), 500),
    ],
)
def test_http_status_of_each_error_class(err: doorward.DoorwardError, status: int) -> None:
    assert web.http_status(err) == status


def test_http_status_matches_docs_errors_md() -> None:
    """The suggested statuses of docs/errors.md are the ones answered."""
    table = Path(__file__).resolve().parents[2] / "docs" / "errors.md"
    documented: dict[str, int] = {}
    for line in table.read_text().splitlines():
        match = re.match(r"\| `([a-z_]+)` \|.*\| (\d{3})\b[^|]*\|$", line)
        if match:
            documented[match[1]] = int(match[2])
    assert documented == web.HTTP_STATUS
    assert documented["account_locked"] == 429


def test_http_status_of_an_unknown_code_is_500() -> None:
    err = doorward.DoorwardError("from the future", code=cast(Any, "brand_new_code"))
    assert web.http_status(err) == 500
    assert web.error_body(err)["error"]["message"] == "the server could not complete the request"


def test_error_body_of_a_client_error_says_what_went_wrong() -> None:
    err = doorward.ValidationError("invalid email address", field="email")
    assert web.error_body(err) == {
        "error": {"code": "validation_error", "message": "invalid email address", "field": "email"}
    }
    assert web.error_body(doorward.ForbiddenError("permission denied: admin:*")) == {
        "error": {"code": "forbidden", "message": "permission denied: admin:*", "field": None}
    }


@pytest.mark.parametrize(
    "err",
    [
        doorward.ConfigError("jwt_secret of db.internal.example is too short"),
        doorward.StorageError("could not connect to postgres://db.internal.example:5432"),
        doorward.InternalError("panic at src/auth.rs:42"),
    ],
)
def test_error_body_hides_the_details_of_server_errors(err: doorward.DoorwardError) -> None:
    body = web.error_body(err)
    assert body["error"]["code"] == err.code
    assert body["error"]["message"] == "the server could not complete the request"
    assert body["error"]["field"] is None
    assert str(err) not in repr(body)


@pytest.mark.parametrize(
    "err",
    [
        doorward.TokenInvalidError("bad"),
        doorward.TokenExpiredError("old"),
        doorward.TokenRevokedError("ended"),
        doorward.TokenReusedError("replayed"),
        doorward.DoorwardError("bad", code="token_invalid"),
    ],
)
def test_error_headers_of_a_refused_token(err: doorward.DoorwardError) -> None:
    # RFC 6750 section 3.1: invalid_token when a token was sent and refused.
    assert web.error_headers(err) == {"WWW-Authenticate": 'Bearer error="invalid_token"'}


@pytest.mark.parametrize(
    "err",
    [
        web.MissingTokenError("a bearer access token is required"),
        doorward.InvalidCredentialsError("no"),  # a 401 of /login, not about a token
        doorward.DoorwardError("no", code="invalid_credentials"),
    ],
)
def test_error_headers_of_a_401_without_a_refused_token(err: doorward.DoorwardError) -> None:
    # RFC 6750 section 3.1: no error code when the request had no token.
    assert web.error_headers(err) == {"WWW-Authenticate": "Bearer"}


@pytest.mark.parametrize(
    ("retry_after", "header"),
    [(0.0, "1"), (0.001, "1"), (1.0, "1"), (1.2, "2"), (59.5, "60"), (3600.0, "3600")],
)
def test_error_headers_of_a_429_round_retry_after_up(retry_after: float, header: str) -> None:
    assert web.error_headers(doorward.RateLimitedError("slow", retry_after=retry_after)) == {
        "Retry-After": header
    }
    assert web.error_headers(doorward.AccountLockedError("locked", retry_after=retry_after)) == {
        "Retry-After": header
    }


def test_error_headers_otherwise_none() -> None:
    assert web.error_headers(doorward.RateLimitedError("slow")) == {}  # no retry_after known
    assert web.error_headers(doorward.ForbiddenError("no")) == {}
    assert web.error_headers(doorward.ValidationError("bad", field="email")) == {}
    assert web.error_headers(doorward.StorageError("down")) == {}

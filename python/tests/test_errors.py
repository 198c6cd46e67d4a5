"""Every exception class from a real failure, on both clients, and the
codes that tie them to the core."""

from __future__ import annotations

import asyncio
import time
import typing
from pathlib import Path

import jwt
import pytest
from conftest import CHEAP, PASSWORD, SECRET, Client, Opener, open_client, resolve, signed_in

import doorward
import doorward.errors


async def register(client: Client, name: str = "john") -> doorward.Registration:
    return await resolve(client.register_user(name, f"{name}@example.com", PASSWORD))


def check(err: doorward.DoorwardError, cls: type[doorward.DoorwardError], code: str) -> None:
    """`err` is exactly `cls`, and carries the stable `code`."""
    assert type(err) is cls
    assert err.code == code
    assert cls.code == code
    assert isinstance(err, doorward.DoorwardError)
    assert code in repr(err)


async def test_validation_error(client: Client) -> None:
    with pytest.raises(doorward.ValidationError) as info:
        await resolve(client.register_user("john", "not-an-email", PASSWORD))
    check(info.value, doorward.ValidationError, "validation_error")
    assert isinstance(info.value, ValueError)
    assert info.value.field == "email"
    with pytest.raises(ValueError) as as_value_error:
        await resolve(client.users.list(limit=0))
    assert isinstance(as_value_error.value, doorward.ValidationError)
    assert as_value_error.value.field == "limit"
    for name, field in [("x", "username"), ("john", "password")]:
        password = PASSWORD if field != "password" else "short"
        with pytest.raises(doorward.ValidationError) as other:
            await resolve(client.register_user(name, "john@example.com", password))
        assert other.value.field == field
    with pytest.raises(doorward.ValidationError) as cursor:
        await resolve(client.users.list(cursor="not-a-cursor"))
    assert cursor.value.field == "cursor"


async def test_duplicate_email_and_username(client: Client) -> None:
    await register(client)
    with pytest.raises(doorward.DuplicateEmailError) as email:
        await resolve(client.register_user("johnny", "JOHN@example.com", PASSWORD))
    check(email.value, doorward.DuplicateEmailError, "duplicate_email")
    assert "john@example.com" not in str(email.value).lower()  # messages hold no addresses
    with pytest.raises(doorward.DuplicateUsernameError) as name:
        await resolve(client.users.create("JOHN", "other@example.com", PASSWORD))
    check(name.value, doorward.DuplicateUsernameError, "duplicate_username")


async def test_invalid_credentials(client: Client) -> None:
    await register(client)
    with pytest.raises(doorward.InvalidCredentialsError) as wrong:
        await resolve(client.login("john", "not the password"))
    check(wrong.value, doorward.InvalidCredentialsError, "invalid_credentials")
    assert "not the password" not in str(wrong.value)
    with pytest.raises(doorward.InvalidCredentialsError) as unknown:
        await resolve(client.login("nobody", PASSWORD))
    assert str(unknown.value) == str(wrong.value)  # which one is never told


async def test_user_disabled(client: Client) -> None:
    reg = await register(client)
    await resolve(client.users.disable(reg.user.id))
    with pytest.raises(doorward.UserDisabledError) as info:
        await resolve(client.login("john", PASSWORD))
    check(info.value, doorward.UserDisabledError, "user_disabled")


async def test_account_locked(make: Opener) -> None:
    client = make(lockout_threshold=3, lockout_base_delay=120)
    await register(client)
    for _ in range(3):
        with pytest.raises(doorward.InvalidCredentialsError):
            await resolve(client.login("john", "not the password"))
    with pytest.raises(doorward.AccountLockedError) as info:
        await resolve(client.login("john", PASSWORD))  # even the right password
    check(info.value, doorward.AccountLockedError, "account_locked")
    assert info.value.retry_after is not None
    assert 0 < info.value.retry_after <= 120


async def test_not_found(client: Client) -> None:
    with pytest.raises(doorward.NotFoundError) as user:
        await resolve(client.users.get("no-such-user"))
    check(user.value, doorward.NotFoundError, "not_found")
    assert isinstance(user.value, LookupError)
    with pytest.raises(doorward.NotFoundError):
        await resolve(client.roles.get("no-such-role"))
    with pytest.raises(doorward.NotFoundError):
        await resolve(client.sessions.revoke("no-such-session"))


async def test_token_invalid(client: Client) -> None:
    reg = await register(client)
    with pytest.raises(doorward.TokenInvalidError) as garbage:
        await resolve(client.verify_token("not-a-token"))
    check(garbage.value, doorward.TokenInvalidError, "token_invalid")
    with pytest.raises(doorward.TokenInvalidError):
        await resolve(client.refresh_token("not-a-refresh-token"))
    # A token signed with another secret (same header and claims) is forged.
    header = jwt.get_unverified_header(reg.tokens.access_token)
    claims = jwt.decode(reg.tokens.access_token, options={"verify_signature": False})
    forged = jwt.encode(claims, "another-secret-of-at-least-32-bytes!!", "HS256", header)
    with pytest.raises(doorward.TokenInvalidError):
        await resolve(client.verify_token(forged))
    # A refresh token is not an access token, nor the other way round.
    with pytest.raises(doorward.TokenInvalidError):
        await resolve(client.verify_token(reg.tokens.refresh_token))
    with pytest.raises(doorward.TokenInvalidError):
        await resolve(client.refresh_token(reg.tokens.access_token))


async def test_token_expired() -> None:
    """Sessions (and refresh tokens) past refresh_ttl, on both clients with
    one wait. (access_ttl=1 alone is not enough: `exp` has 60 s leeway.)"""
    clients = [open_client(kind, refresh_ttl=1) for kind in ("sync", "async")]
    regs = [await register(c) for c in clients]
    await asyncio.sleep(2.1)
    for client, reg in zip(clients, regs):
        with pytest.raises(doorward.TokenExpiredError) as verify:
            await resolve(client.verify_token(reg.tokens.access_token))
        check(verify.value, doorward.TokenExpiredError, "token_expired")
        with pytest.raises(doorward.TokenExpiredError):
            await resolve(client.refresh_token(reg.tokens.refresh_token))
        assert await resolve(client.sessions.list(reg.user.id)) == []


async def test_token_expired_access_token(client: Client) -> None:
    """An access token whose `exp` is past (beyond the leeway), validly signed."""
    reg = await register(client)
    header = jwt.get_unverified_header(reg.tokens.access_token)
    claims = jwt.decode(reg.tokens.access_token, options={"verify_signature": False})
    now = int(time.time())
    claims.update(iat=now - 600, nbf=now - 600, exp=now - 300)
    expired = jwt.encode(claims, SECRET, "HS256", header)
    with pytest.raises(doorward.TokenExpiredError) as info:
        await resolve(client.verify_token(expired))
    check(info.value, doorward.TokenExpiredError, "token_expired")
    # Logout still works with an expired access token.
    await resolve(client.logout(expired))
    with pytest.raises(doorward.TokenRevokedError):
        await resolve(client.verify_token(reg.tokens.access_token))


async def test_token_revoked(client: Client) -> None:
    reg = await register(client)
    await resolve(client.logout(reg.tokens.access_token))
    with pytest.raises(doorward.TokenRevokedError) as info:
        await resolve(client.verify_token(reg.tokens.access_token))
    check(info.value, doorward.TokenRevokedError, "token_revoked")


async def test_token_reused_revokes_the_family(client: Client) -> None:
    reg = await register(client)
    newer = await resolve(client.refresh_token(reg.tokens.refresh_token))
    await resolve(client.verify_token(newer.access_token))
    with pytest.raises(doorward.TokenReusedError) as info:
        await resolve(client.refresh_token(reg.tokens.refresh_token))
    check(info.value, doorward.TokenReusedError, "token_reused")
    # The newer pair, of the same family, is revoked too.
    with pytest.raises(doorward.TokenRevokedError):
        await resolve(client.verify_token(newer.access_token))
    with pytest.raises(doorward.TokenRevokedError):
        await resolve(client.refresh_token(newer.refresh_token))
    with pytest.raises(doorward.TokenReusedError):
        await resolve(client.refresh_token(reg.tokens.refresh_token))


async def test_forbidden(client: Client) -> None:
    reg = await register(client)
    with pytest.raises(doorward.ForbiddenError) as info:
        await resolve(client.require(reg.user.id, "users:write"))
    check(info.value, doorward.ForbiddenError, "forbidden")
    assert isinstance(info.value, PermissionError)


async def test_rate_limited_by_limits(client: Client) -> None:
    for _ in range(2):
        await resolve(client.limits.limit("export:ann", "2/1m"))
    with pytest.raises(doorward.RateLimitedError) as info:
        await resolve(client.limits.limit("export:ann", "2/1m"))
    check(info.value, doorward.RateLimitedError, "rate_limited")
    assert info.value.retry_after is not None
    assert 0 < info.value.retry_after <= 60


async def test_rate_limited_login(make: Opener) -> None:
    client = make(rate_limit_login_account="2/1m")
    await register(client)
    for _ in range(2):
        with pytest.raises(doorward.InvalidCredentialsError):
            await resolve(client.login("john", "not the password"))
    # Throttled before any password work: the right password too.
    with pytest.raises(doorward.RateLimitedError) as info:
        await resolve(client.login("john", PASSWORD))
    check(info.value, doorward.RateLimitedError, "rate_limited")
    assert info.value.retry_after is not None and info.value.retry_after > 0
    # Counted per account, whatever name, case or spacing reaches it.
    with pytest.raises(doorward.RateLimitedError):
        await resolve(client.login("  JOHN ", PASSWORD))
    with pytest.raises(doorward.RateLimitedError):
        await resolve(client.login("john@example.com", PASSWORD))


@pytest.mark.parametrize("cls", [doorward.Doorward, doorward.AsyncDoorward])
def test_config_error(cls: type[Client]) -> None:
    with pytest.raises(doorward.ConfigError) as unknown:
        cls(CHEAP, jwt_isuer="typo")
    check(unknown.value, doorward.ConfigError, "config_error")
    assert "jwt_isuer" in str(unknown.value)
    with pytest.raises(doorward.ConfigError) as short:
        cls(CHEAP, jwt_secret="too-short")
    check(short.value, doorward.ConfigError, "config_error")
    assert "too-short" not in str(short.value)  # never the secret itself
    with pytest.raises(doorward.ConfigError):
        cls(CHEAP, access_ttl="soon")


async def test_config_error_without_keys(kind: str) -> None:
    client = open_client(kind, jwt_secret=None)
    with pytest.raises(doorward.ConfigError):
        await register(client)
    # Users can still be managed.
    user = await resolve(client.users.create("john", "john@example.com", PASSWORD))
    assert (await resolve(client.users.get(user.id))).username == "john"


@pytest.mark.parametrize("cls", [doorward.Doorward, doorward.AsyncDoorward])
def test_storage_error_sqlite(cls: type[Client], tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such" / "dir" / "auth.db"
    with pytest.raises(doorward.StorageError) as info:
        cls(CHEAP, database_url=f"sqlite://{missing}")
    check(info.value, doorward.StorageError, "storage_error")


def test_storage_error_postgres() -> None:
    started = time.monotonic()
    with pytest.raises(doorward.StorageError) as info:
        doorward.Doorward(
            CHEAP,
            database_url="postgres://postgres@127.0.0.1:1/test",
            database_acquire_timeout=1,
        )
    check(info.value, doorward.StorageError, "storage_error")
    assert time.monotonic() - started < 30


async def test_internal_error_from_a_panic_and_the_process_keeps_working() -> None:
    with pytest.raises(doorward.InternalError) as sync_panic:
        doorward._native._panic_for_tests("boom")
    check(sync_panic.value, doorward.InternalError, "internal")
    assert "boom" in str(sync_panic.value)
    with pytest.raises(doorward.InternalError) as async_panic:
        await doorward._native._panic_for_tests("boom", awaitable=True)
    check(async_panic.value, doorward.InternalError, "internal")
    # Nothing panics without a message, and everything still works.
    assert doorward._native._panic_for_tests("") is None
    for kind in ("sync", "async"):
        client = open_client(kind)
        reg = await register(client)
        pair = await signed_in(client.login("john", PASSWORD))
        principal = await resolve(client.verify_token(pair.access_token))
        assert principal.user_id == reg.user.id
    with pytest.raises(doorward.InternalError):
        doorward._native._panic_for_tests("boom again")


def test_error_codes_match_the_error_code_literal() -> None:
    native = doorward.error_codes()
    literal = list(typing.get_args(doorward.ErrorCode))
    assert native == literal, (
        "doorward.error_codes() (the core) and doorward.ErrorCode (errors.py) drifted apart: "
        f"only in the core {sorted(set(native) - set(literal))}, "
        f"only in the literal {sorted(set(literal) - set(native))}, "
        f"core order {native}"
    )


def test_every_code_has_its_class() -> None:
    by_code = doorward.errors._BY_CODE
    codes = doorward.error_codes()
    missing = [c for c in codes if c not in by_code]
    extra = [c for c in by_code if c not in codes]
    assert not missing and not extra, (
        f"doorward.errors._BY_CODE drifted from doorward.error_codes(): "
        f"codes without a class {missing}, classes for unknown codes {extra}"
    )
    for code in codes:
        cls = by_code[code]
        assert issubclass(cls, doorward.DoorwardError), f"{cls!r} is not a DoorwardError"
        assert cls.code == code, f"{cls.__name__}.code is {cls.code!r}, expected {code!r}"
        assert getattr(doorward, cls.__name__) is cls, f"doorward.{cls.__name__} is not exported"
    assert len(set(by_code.values())) == len(codes), "one class per code"


def test_web_answers_with_the_cores_http_response() -> None:
    """doorward.web keeps no table of its own: its answer is the core's."""
    from doorward import web
    from doorward._native import http_error_response

    limited = web.error_response(doorward.RateLimitedError("slow down", retry_after=1.2))
    assert limited == http_error_response("rate_limited", "slow down", retry_after=1.2)
    assert (limited.status, limited.headers) == (429, [("Retry-After", "2")])
    detail = {"code": "rate_limited", "message": "slow down", "field": None}
    assert limited.body == {"error": detail}
    assert limited.body is not limited.body, "a fresh dict on each read"
    assert repr(limited) == "HttpErrorResponse(status=429, code='rate_limited')"

    missing = web.error_response(web.MissingTokenError("a bearer access token is required"))
    assert missing == http_error_response(
        "token_invalid", "a bearer access token is required", missing_token=True
    )
    assert missing.headers == [("WWW-Authenticate", "Bearer")]

    for code in doorward.error_codes():
        err = doorward.errors._from_native(code, f"message of {code}", None, None)
        answer = web.error_response(err)
        assert answer.status == web.HTTP_STATUS[code] == web.http_status(err)
        assert answer.body == web.error_body(err)
        assert dict(answer.headers) == web.error_headers(err)

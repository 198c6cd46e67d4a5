"""The web framework helpers: doorward.web (bearer tokens, HTTP answers),
doorward.fastapi (with a sync and an async doorward), doorward.flask and
doorward.django (views through RequestFactory, DoorwardErrorMiddleware
through Django's test clients)."""

import asyncio
import inspect
import json
import re
import threading
import warnings
from collections.abc import AsyncIterator, Awaitable, Iterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Callable, ClassVar, NoReturn, Optional, TypeVar, Union, cast

import django
import pytest
from asgiref.sync import iscoroutinefunction as asgiref_iscoroutinefunction
from asgiref.sync import sync_to_async
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.test import AsyncClient as DjangoAsyncClient
from django.test import Client as DjangoClient
from django.test import RequestFactory, override_settings
from django.urls import path as django_path
from fastapi import Depends, FastAPI
from fastapi.concurrency import run_in_threadpool
from flask import Flask
from flask.testing import FlaskClient

import doorward
import doorward.django
import doorward.fastapi
import doorward.flask
from doorward import web

with warnings.catch_warnings():
    # Newer Starlette prefers httpx2 for its test client; httpx still works.
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

T = TypeVar("T")

SECRET = "test-secret-test-secret-test-secret!"
PASSWORD = "correct horse battery"


def config() -> dict[str, Any]:
    """An in-memory doorward with cheap password hashing."""
    return {
        "database_url": "sqlite::memory:",
        "jwt_secret": SECRET,
        "argon2_memory_kib": 64,
        "argon2_iterations": 1,
    }


def call(fn: Callable[..., Any], *args: Any) -> Any:
    """``fn(*args)`` from synchronous test code, for a Doorward's method or
    an AsyncDoorward's (which needs a running loop: one of its own here)."""

    async def run() -> Any:
        result = fn(*args)
        return await result if inspect.isawaitable(result) else result

    return asyncio.run(run())


class Users:
    """Two users of one doorward: ``plain`` (role user) and ``admin``."""

    def __init__(self, dw: Union[doorward.Doorward, doorward.AsyncDoorward]) -> None:
        plain: doorward.Registration = call(
            dw.register_user, "plain", "plain@example.com", PASSWORD
        )
        admin: doorward.Registration = call(dw.register_user, "boss", "boss@example.com", PASSWORD)
        assert call(dw.roles.grant, admin.user.id, "admin")
        self.plain = plain
        self.admin = admin

    @staticmethod
    def bearer(reg: doorward.Registration) -> dict[str, str]:
        return {"Authorization": f"Bearer {reg.tokens.access_token}"}


def assert_error(status: int, body: Any, expected_status: int, code: str) -> dict[str, Any]:
    assert status == expected_status, body
    error: dict[str, Any] = body["error"]
    assert error["code"] == code
    return error


# --------------------------------------------------------------------------
# doorward.web
# --------------------------------------------------------------------------


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


# --------------------------------------------------------------------------
# doorward.fastapi, with a sync Doorward (thread pool) and an AsyncDoorward
# --------------------------------------------------------------------------

FAILURES: dict[str, doorward.DoorwardError] = {
    "not_found": doorward.NotFoundError("no such user"),
    "storage": doorward.StorageError("could not connect to db.internal.example"),
    "rate_limited": doorward.RateLimitedError("too many attempts", retry_after=2.5),
}


def fastapi_app(dw: Union[doorward.Doorward, doorward.AsyncDoorward]) -> FastAPI:
    app = FastAPI()
    doorward.fastapi.install(app, dw)
    Token = Annotated[str, Depends(doorward.fastapi.access_token)]
    Current = Annotated[doorward.Principal, Depends(doorward.fastapi.current_principal)]
    admin_only: Callable[..., Awaitable[doorward.Principal]] = doorward.fastapi.require_permission(
        doorward.Permission.ADMIN
    )
    Admin = Annotated[doorward.Principal, Depends(admin_only)]

    @app.get("/me")
    async def me(principal: Current) -> dict[str, Any]:
        return {"user_id": principal.user_id, "username": principal.username}

    @app.get("/principal")
    async def principal_dict(principal: Current) -> dict[str, Any]:
        return principal.to_dict()

    @app.get("/token")
    async def token(token: Token) -> dict[str, str]:  # unchecked
        return {"token": token}

    @app.get("/token-and-me")
    async def token_and_me(token: Token, principal: Current) -> dict[str, str]:
        return {"token": token, "username": principal.username}

    @app.post("/logout", status_code=204)
    async def logout(token: Token) -> None:
        if isinstance(dw, doorward.AsyncDoorward):
            await dw.logout(token)
        else:
            await run_in_threadpool(dw.logout, token)

    @app.get("/admin")
    async def admin(principal: Admin) -> dict[str, Any]:
        return {"username": principal.username}

    @app.get(
        "/write",
        dependencies=[Depends(doorward.fastapi.require_permission("users:write"))],
    )
    def write() -> dict[str, bool]:  # a sync endpoint
        return {"ok": True}

    @app.get("/fail/{name}", response_model=None)
    async def fail(name: str) -> NoReturn:
        raise FAILURES[name]

    return app


@pytest.fixture(params=["sync", "async"])
def fastapi_dw(request: pytest.FixtureRequest) -> Union[doorward.Doorward, doorward.AsyncDoorward]:
    if request.param == "sync":
        return doorward.Doorward(config())
    return doorward.AsyncDoorward(config())


@pytest.fixture
def pool_calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, bool]]:
    """The doorward calls doorward.fastapi hands to the thread pool, each
    with whether it ran on a thread other than the event loop's."""
    calls: list[tuple[str, bool]] = []

    async def spy(func: Callable[..., T], *args: Any) -> T:
        loop_thread = threading.get_ident()

        def record() -> T:
            calls.append((func.__name__, threading.get_ident() != loop_thread))
            return func(*args)

        return await run_in_threadpool(record)

    monkeypatch.setattr(doorward.fastapi, "run_in_threadpool", spy)
    return calls


def test_fastapi_principal_and_permission(
    fastapi_dw: Union[doorward.Doorward, doorward.AsyncDoorward],
    pool_calls: list[tuple[str, bool]],
) -> None:
    users = Users(fastapi_dw)
    with TestClient(fastapi_app(fastapi_dw)) as client:
        r = client.get("/me", headers=users.bearer(users.plain))
        assert r.status_code == 200, r.text
        assert r.json() == {"user_id": users.plain.user.id, "username": "plain"}

        r = client.get("/admin", headers=users.bearer(users.plain))
        assert_error(r.status_code, r.json(), 403, "forbidden")
        r = client.get("/admin", headers=users.bearer(users.admin))
        assert r.status_code == 200, r.text
        assert r.json() == {"username": "boss"}

        r = client.get("/write")
        assert_error(r.status_code, r.json(), 401, "token_invalid")
        r = client.get("/write", headers=users.bearer(users.plain))
        assert_error(r.status_code, r.json(), 403, "forbidden")
        assert client.get("/write", headers=users.bearer(users.admin)).json() == {"ok": True}

    if isinstance(fastapi_dw, doorward.AsyncDoorward):
        assert pool_calls == []
    else:
        # Every call of a sync doorward ran in the thread pool, and the
        # principal was verified once per request even where both the
        # endpoint and require_permission depend on it.
        assert all(off_loop for _, off_loop in pool_calls)
        assert [name for name, _ in pool_calls] == [
            "verify_token",  # /me
            "verify_token",  # /admin (plain)
            "require",
            "verify_token",  # /admin (boss)
            "require",
            "verify_token",  # /write (plain)
            "require",
            "verify_token",  # /write (boss)
            "require",
        ]


#: Authorization headers without a usable bearer token, and the
#: WWW-Authenticate of their 401 (RFC 6750: error="invalid_token" only for a
#: token that was sent and refused).
NO_VALID_TOKEN = [
    ({}, "Bearer"),
    ({"Authorization": ""}, "Bearer"),
    ({"Authorization": "Bearer"}, "Bearer"),
    ({"Authorization": "Basic am9objpwdw=="}, "Bearer"),
    ({"Authorization": "Bearer not-a-jwt"}, 'Bearer error="invalid_token"'),
]


@pytest.mark.parametrize(("headers", "challenge"), NO_VALID_TOKEN)
def test_fastapi_401_without_a_valid_token(
    fastapi_dw: Union[doorward.Doorward, doorward.AsyncDoorward],
    headers: dict[str, str],
    challenge: str,
) -> None:
    with TestClient(fastapi_app(fastapi_dw)) as client:
        for path in ("/me", "/admin", "/write", "/principal"):
            r = client.get(path, headers=headers)
            assert_error(r.status_code, r.json(), 401, "token_invalid")
            assert r.headers["WWW-Authenticate"] == challenge


def test_fastapi_token_case_and_spacing(
    fastapi_dw: Union[doorward.Doorward, doorward.AsyncDoorward],
) -> None:
    users = Users(fastapi_dw)
    token = users.plain.tokens.access_token
    with TestClient(fastapi_app(fastapi_dw)) as client:
        for header in (f"bearer {token}", f"BEARER {token}", f"Bearer   {token}"):
            r = client.get("/me", headers={"Authorization": header})
            assert r.status_code == 200, (header, r.text)


def test_fastapi_revoked_token(
    fastapi_dw: Union[doorward.Doorward, doorward.AsyncDoorward],
) -> None:
    users = Users(fastapi_dw)
    # Awaited or not, a method without a result gives None.
    assert call(fastapi_dw.logout, users.plain.tokens.access_token) is None
    with TestClient(fastapi_app(fastapi_dw)) as client:
        r = client.get("/me", headers=users.bearer(users.plain))
        assert_error(r.status_code, r.json(), 401, "token_revoked")
        assert r.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'


def test_fastapi_principal_to_dict(
    fastapi_dw: Union[doorward.Doorward, doorward.AsyncDoorward],
) -> None:
    users = Users(fastapi_dw)
    principal: doorward.Principal = call(fastapi_dw.verify_token, users.admin.tokens.access_token)
    assert principal.to_dict() == {
        "user_id": principal.user_id,
        "username": "boss",
        "session_id": principal.session_id,
        "roles": principal.roles,
        "expires_at": principal.expires_at,
    }
    with TestClient(fastapi_app(fastapi_dw)) as client:
        r = client.get("/principal", headers=users.bearer(users.admin))
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["user_id"] == users.admin.user.id
        assert body["username"] == "boss"
        assert body["session_id"] == principal.session_id
        assert body["roles"] == principal.roles == ["user"]  # the token's, from registration
        assert datetime.fromisoformat(body["expires_at"]) == principal.expires_at


def test_fastapi_access_token(
    fastapi_dw: Union[doorward.Doorward, doorward.AsyncDoorward],
    pool_calls: list[tuple[str, bool]],
) -> None:
    users = Users(fastapi_dw)
    token = users.plain.tokens.access_token
    with TestClient(fastapi_app(fastapi_dw)) as client:
        # The raw token, read like current_principal reads it, and unchecked.
        for header in (f"Bearer {token}", f"bearer   {token}"):
            r = client.get("/token", headers={"Authorization": header})
            assert r.status_code == 200, r.text
            assert r.json() == {"token": token}
        r = client.get("/token", headers={"Authorization": "Bearer not-a-jwt"})
        assert r.json() == {"token": "not-a-jwt"}

        for headers, challenge in NO_VALID_TOKEN:
            if challenge != "Bearer":
                continue  # a token was sent: it is the endpoint's to check
            r = client.get("/token", headers=headers)
            assert_error(r.status_code, r.json(), 401, "token_invalid")
            assert r.headers["WWW-Authenticate"] == "Bearer"

        # Beside current_principal (which depends on it) in one endpoint.
        r = client.get("/token-and-me", headers=users.bearer(users.plain))
        assert r.json() == {"token": token, "username": "plain"}

        # The dependency logout needs.
        r = client.post("/logout", headers=users.bearer(users.plain))
        assert r.status_code == 204, r.text
        r = client.get("/me", headers=users.bearer(users.plain))
        assert_error(r.status_code, r.json(), 401, "token_revoked")
        r = client.post("/logout")
        assert_error(r.status_code, r.json(), 401, "token_invalid")
        assert r.headers["WWW-Authenticate"] == "Bearer"

        # OpenAPI shows the bearer scheme on endpoints that only read the token.
        openapi = client.get("/openapi.json").json()
        assert openapi["paths"]["/token"]["get"]["security"] == [{"HTTPBearer": []}]
        assert openapi["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"

    if isinstance(fastapi_dw, doorward.Doorward):
        # Reading the token alone asks doorward nothing: only /token-and-me and
        # /me verified one (the endpoint's own logout is not doorward.fastapi's).
        assert [name for name, _ in pool_calls] == ["verify_token", "verify_token"]


def test_fastapi_errors_raised_by_endpoints(
    fastapi_dw: Union[doorward.Doorward, doorward.AsyncDoorward],
) -> None:
    with TestClient(fastapi_app(fastapi_dw)) as client:
        r = client.get("/fail/not_found")
        assert_error(r.status_code, r.json(), 404, "not_found")
        assert "WWW-Authenticate" not in r.headers

        r = client.get("/fail/storage")
        assert_error(r.status_code, r.json(), 503, "storage_error")
        assert "db.internal.example" not in r.text

        r = client.get("/fail/rate_limited")
        assert_error(r.status_code, r.json(), 429, "rate_limited")
        assert r.headers["Retry-After"] == "3"


def test_fastapi_doorward_instance() -> None:
    dw = doorward.Doorward(config())
    app = fastapi_app(dw)
    assert app.state.doorward is dw

    bare = FastAPI()

    @bare.get("/me")
    async def me(
        principal: Annotated[doorward.Principal, Depends(doorward.fastapi.current_principal)],
    ) -> str:
        return principal.user_id

    with TestClient(bare) as client, pytest.raises(RuntimeError, match="install"):
        client.get("/me", headers={"Authorization": "Bearer x"})


def test_fastapi_install_refuses_a_started_app_in_a_lifespan() -> None:
    # Starlette fixes its exception handlers when it starts, so an install()
    # in a lifespan would leave doorward errors unanswered (500s).
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        doorward.fastapi.install(app, doorward.AsyncDoorward(config()))
        yield

    app = FastAPI(lifespan=lifespan)
    with pytest.raises(RuntimeError, match=r"before the app starts"), TestClient(app):
        pass
    assert getattr(app.state, "doorward", None) is None
    assert doorward.DoorwardError not in app.exception_handlers


def test_fastapi_install_refuses_an_app_that_served_a_request() -> None:
    app = FastAPI()

    @app.get("/")
    async def root() -> dict[str, bool]:
        return {"ok": True}

    with TestClient(app) as client:
        assert client.get("/").status_code == 200
        with pytest.raises(RuntimeError, match=r"install\(\) must run before the app starts"):
            doorward.fastapi.install(app, doorward.Doorward(config()))
    assert getattr(app.state, "doorward", None) is None
    assert doorward.DoorwardError not in app.exception_handlers


def test_fastapi_install_before_start() -> None:
    # Installed when made (the usual place), even with a lifespan: answered.
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield

    app = FastAPI(lifespan=lifespan)
    dw = doorward.AsyncDoorward(config())
    doorward.fastapi.install(app, dw)
    doorward.fastapi.install(app, dw)  # again, still before the start

    @app.get("/me")
    async def me(
        principal: Annotated[doorward.Principal, Depends(doorward.fastapi.current_principal)],
    ) -> str:
        return principal.user_id

    with TestClient(app) as client:
        r = client.get("/me")
        assert_error(r.status_code, r.json(), 401, "token_invalid")


# --------------------------------------------------------------------------
# doorward.flask
# --------------------------------------------------------------------------


def flask_app(dw: doorward.Doorward) -> Flask:
    app = Flask(__name__)
    app.testing = True
    doorward.flask.init_app(app, dw)
    current = doorward.flask.current_principal

    @app.get("/me")
    @doorward.flask.login_required
    def me() -> dict[str, Any]:
        principal = current()
        # Verified once per request: the decorator's principal is reused.
        return {"username": principal.username, "cached": principal is current()}

    @app.get("/admin")
    @doorward.flask.require_permission(doorward.Permission.ADMIN)
    def admin() -> dict[str, Any]:
        return {"username": current().username}

    @app.get("/items/<item_id>")
    @doorward.flask.require_permission("users:read")
    def item(item_id: str) -> dict[str, Any]:
        return {"item": item_id, "by": current().username}

    @app.get("/whoami")
    def whoami() -> dict[str, Any]:  # undecorated: current_principal() verifies
        return {"username": current().username}

    @app.get("/async/me")
    @doorward.flask.login_required
    async def async_me() -> dict[str, Any]:
        await asyncio.sleep(0)
        return {"username": current().username, "async": True}

    @app.get("/async/admin")
    @doorward.flask.require_permission(doorward.Permission.ADMIN)
    async def async_admin() -> dict[str, Any]:
        await asyncio.sleep(0)
        return {"username": current().username, "async": True}

    @app.get("/fail/<name>")
    def fail(name: str) -> NoReturn:
        raise FAILURES[name]

    return app


@pytest.fixture
def flask_dw() -> doorward.Doorward:
    return doorward.Doorward(config())


@pytest.fixture
def flask_client(flask_dw: doorward.Doorward) -> Iterator[FlaskClient]:
    with flask_app(flask_dw).test_client() as client:
        yield client


def test_flask_principal_and_permission(
    flask_dw: doorward.Doorward, flask_client: FlaskClient
) -> None:
    users = Users(flask_dw)
    r = flask_client.get("/me", headers=users.bearer(users.plain))
    assert r.status_code == 200, r.text
    assert r.get_json() == {"username": "plain", "cached": True}

    r = flask_client.get("/admin", headers=users.bearer(users.plain))
    assert_error(r.status_code, r.get_json(), 403, "forbidden")
    r = flask_client.get("/admin", headers=users.bearer(users.admin))
    assert r.status_code == 200, r.text
    assert r.get_json() == {"username": "boss"}

    r = flask_client.get("/items/42", headers=users.bearer(users.plain))
    assert r.get_json() == {"item": "42", "by": "plain"}

    r = flask_client.get(
        "/whoami", headers={"Authorization": f"bearer  {users.admin.tokens.access_token}"}
    )
    assert r.get_json() == {"username": "boss"}


@pytest.mark.parametrize(("headers", "challenge"), NO_VALID_TOKEN)
def test_flask_401_without_a_valid_token(
    flask_client: FlaskClient, headers: dict[str, str], challenge: str
) -> None:
    for path in ("/me", "/admin", "/items/1", "/whoami", "/async/me", "/async/admin"):
        r = flask_client.get(path, headers=headers)
        assert_error(r.status_code, r.get_json(), 401, "token_invalid")
        assert r.headers["WWW-Authenticate"] == challenge


def test_flask_revoked_token(flask_dw: doorward.Doorward, flask_client: FlaskClient) -> None:
    users = Users(flask_dw)
    flask_dw.logout(users.plain.tokens.access_token)
    r = flask_client.get("/me", headers=users.bearer(users.plain))
    assert_error(r.status_code, r.get_json(), 401, "token_revoked")
    assert r.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'


def test_flask_errors_raised_by_views(flask_client: FlaskClient) -> None:
    r = flask_client.get("/fail/not_found")
    assert_error(r.status_code, r.get_json(), 404, "not_found")
    r = flask_client.get("/fail/storage")
    assert_error(r.status_code, r.get_json(), 503, "storage_error")
    assert "db.internal.example" not in r.text
    r = flask_client.get("/fail/rate_limited")
    assert_error(r.status_code, r.get_json(), 429, "rate_limited")
    assert r.headers["Retry-After"] == "3"


def test_flask_decorators_keep_the_view_name() -> None:
    def report() -> str:
        return ""

    assert doorward.flask.login_required(report).__name__ == "report"
    assert doorward.flask.require_permission("users:read")(report).__name__ == "report"


def test_flask_doorward_instance(flask_dw: doorward.Doorward) -> None:
    app = flask_app(flask_dw)
    with app.app_context():
        assert doorward.flask.doorward_instance() is flask_dw

    bare = Flask(__name__)
    bare.testing = True

    @bare.get("/me")
    @doorward.flask.login_required
    def me() -> str:
        return ""

    with pytest.raises(RuntimeError, match="init_app"):
        bare.test_client().get("/me", headers={"Authorization": "Bearer x"})


def test_flask_decorators_keep_an_async_view_async() -> None:
    # Flask runs a view through app.ensure_sync(), which awaits it only if
    # it is a coroutine function.
    async def view() -> dict[str, Any]:
        return {}

    def sync_view() -> dict[str, Any]:
        return {}

    assert inspect.iscoroutinefunction(doorward.flask.login_required(view))
    assert inspect.iscoroutinefunction(doorward.flask.require_permission("users:read")(view))
    assert doorward.flask.login_required(view).__name__ == "view"
    assert not inspect.iscoroutinefunction(doorward.flask.login_required(sync_view))


def test_flask_async_views(flask_dw: doorward.Doorward, flask_client: FlaskClient) -> None:
    users = Users(flask_dw)
    r = flask_client.get("/async/me", headers=users.bearer(users.plain))
    assert r.status_code == 200, r.text
    assert r.get_json() == {"username": "plain", "async": True}

    r = flask_client.get("/async/admin", headers=users.bearer(users.plain))
    assert_error(r.status_code, r.get_json(), 403, "forbidden")
    r = flask_client.get("/async/admin", headers=users.bearer(users.admin))
    assert r.status_code == 200, r.text
    assert r.get_json() == {"username": "boss", "async": True}


# --------------------------------------------------------------------------
# doorward.django
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def django_settings() -> None:
    """Django configured once per process (unless something already did)."""
    if not settings.configured:
        settings.configure(
            DOORWARD=config(),
            ALLOWED_HOSTS=["testserver"],
        )
        django.setup()


@pytest.fixture
def rf(django_settings: None) -> RequestFactory:
    return RequestFactory()


def json_of(response: HttpResponse) -> Any:
    return json.loads(response.content)


class DjangoViews:
    """Views behind doorward.django's decorators, recording their calls."""

    def __init__(self) -> None:
        self.calls: list[tuple[HttpRequest, tuple[Any, ...], dict[str, Any]]] = []

        def record(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            self.calls.append((request, args, kwargs))
            principal: doorward.Principal = request.principal
            return JsonResponse({"username": principal.username, "args": list(args), **kwargs})

        self.me = doorward.django.login_required(record)
        self.admin = doorward.django.require_permission(doorward.Permission.ADMIN)(record)
        self.write = doorward.django.require_permission("users:write")(record)


def django_extra(headers: dict[str, str]) -> dict[str, str]:
    """``headers`` as RequestFactory's WSGI environ keys."""
    return {f"HTTP_{name.upper()}": value for name, value in headers.items()}


def test_django_401_without_a_valid_token(rf: RequestFactory) -> None:
    views = DjangoViews()
    with override_settings(DOORWARD=doorward.Doorward(config())):
        for headers, challenge in NO_VALID_TOKEN:
            for view in (views.me, views.admin):
                response = view(rf.get("/", **django_extra(headers)))
                assert_error(response.status_code, json_of(response), 401, "token_invalid")
                assert response["WWW-Authenticate"] == challenge
                assert response["Content-Type"] == "application/json"
    assert views.calls == []


def test_django_403_without_the_permission(rf: RequestFactory) -> None:
    views = DjangoViews()
    dw = doorward.Doorward(config())
    users = Users(dw)
    with override_settings(DOORWARD=dw):
        request = rf.get("/", HTTP_AUTHORIZATION=users.bearer(users.plain)["Authorization"])
        response = views.admin(request)
        assert_error(response.status_code, json_of(response), 403, "forbidden")
        response = views.write(request)
        assert_error(response.status_code, json_of(response), 403, "forbidden")
    assert views.calls == []


def test_django_200_with_the_permission(rf: RequestFactory) -> None:
    views = DjangoViews()
    dw = doorward.Doorward(config())
    users = Users(dw)
    with override_settings(DOORWARD=dw):
        request = rf.get("/", HTTP_AUTHORIZATION=f"bearer {users.admin.tokens.access_token}")
        response = views.admin(request, "7", kind="report")
        assert response.status_code == 200
        assert json_of(response) == {"username": "boss", "args": ["7"], "kind": "report"}
        assert views.calls == [(request, ("7",), {"kind": "report"})]
        principal = request.principal
        assert isinstance(principal, doorward.Principal)
        assert principal.user_id == users.admin.user.id
        assert principal.username == "boss"

        plain = rf.get("/", HTTP_AUTHORIZATION=users.bearer(users.plain)["Authorization"])
        assert views.me(plain).status_code == 200
        assert plain.principal.username == "plain"

        dw.logout(users.plain.tokens.access_token)
        response = views.me(
            rf.get("/", HTTP_AUTHORIZATION=users.bearer(users.plain)["Authorization"])
        )
        assert_error(response.status_code, json_of(response), 401, "token_revoked")
        assert response["WWW-Authenticate"] == 'Bearer error="invalid_token"'


def test_django_instance_setting_is_used_as_is(django_settings: None) -> None:
    dw = doorward.Doorward(config())
    with override_settings(DOORWARD=dw):
        assert doorward.django.doorward_instance() is dw


def test_django_dict_setting_is_opened_once_and_reused(rf: RequestFactory) -> None:
    views = DjangoViews()
    setting = config()
    with override_settings(DOORWARD=setting):
        dw = doorward.django.doorward_instance()
        assert isinstance(dw, doorward.Doorward)
        assert doorward.django.doorward_instance() is dw
        # The views see that same (in-memory) database.
        users = Users(dw)
        request = rf.get("/", HTTP_AUTHORIZATION=users.bearer(users.admin)["Authorization"])
        assert views.admin(request).status_code == 200
        assert doorward.django.doorward_instance() is dw

    # Another setting (even an equal dict) is another doorward.
    with override_settings(DOORWARD=config()):
        other = doorward.django.doorward_instance()
        assert other is not dw
        assert doorward.django.doorward_instance() is other
        request = rf.get("/", HTTP_AUTHORIZATION=users.bearer(users.admin)["Authorization"])
        assert views.admin(request).status_code == 401  # unknown to the new database


def test_django_path_setting(django_settings: None, tmp_path: Path) -> None:
    toml = tmp_path / "doorward.toml"
    database = tmp_path / "auth.db"
    toml.write_text(
        f'database_url = "sqlite://{database}"\n'
        f'jwt_secret = "{SECRET}"\n'
        "argon2_memory_kib = 64\nargon2_iterations = 1\n"
    )
    with override_settings(DOORWARD=str(toml)):
        dw = doorward.django.doorward_instance()
        assert dw is doorward.django.doorward_instance()
        assert dw.backend == "sqlite"
        dw.register_user("john", "john@example.com", PASSWORD)
    assert database.exists()


def test_django_missing_setting(django_settings: None) -> None:
    with override_settings(DOORWARD=None), pytest.raises(RuntimeError, match="DOORWARD"):
        doorward.django.doorward_instance()


def test_django_decorators_keep_an_async_view_async(django_settings: None) -> None:
    async def view(request: HttpRequest) -> HttpResponse:
        return JsonResponse({})

    def sync_view(request: HttpRequest) -> HttpResponse:
        return JsonResponse({})

    # Django asks asgiref (which also sees markcoroutinefunction's mark).
    for decorated in (
        doorward.django.login_required(view),
        doorward.django.require_permission("users:read")(view),
    ):
        assert asgiref_iscoroutinefunction(decorated)
        assert inspect.iscoroutinefunction(decorated)
        assert decorated.__name__ == "view"
    assert not asgiref_iscoroutinefunction(doorward.django.login_required(sync_view))


def test_django_async_views(rf: RequestFactory) -> None:
    calls: list[str] = []

    async def record(request: HttpRequest) -> HttpResponse:
        await asyncio.sleep(0)
        principal: doorward.Principal = request.principal
        calls.append(principal.username)
        return JsonResponse({"username": principal.username})

    me = doorward.django.login_required(record)
    admin = doorward.django.require_permission(doorward.Permission.ADMIN)(record)
    dw = doorward.Doorward(config())
    users = Users(dw)
    with override_settings(DOORWARD=dw):
        plain = users.bearer(users.plain)["Authorization"]
        boss = users.bearer(users.admin)["Authorization"]

        response = asyncio.run(me(rf.get("/", HTTP_AUTHORIZATION=plain)))
        assert response.status_code == 200
        assert json_of(response) == {"username": "plain"}
        response = asyncio.run(admin(rf.get("/", HTTP_AUTHORIZATION=boss)))
        assert json_of(response) == {"username": "boss"}
        assert calls == ["plain", "boss"]

        response = asyncio.run(admin(rf.get("/", HTTP_AUTHORIZATION=plain)))
        assert_error(response.status_code, json_of(response), 403, "forbidden")
        response = asyncio.run(me(rf.get("/")))
        assert_error(response.status_code, json_of(response), 401, "token_invalid")
        assert response["WWW-Authenticate"] == "Bearer"
        response = asyncio.run(me(rf.get("/", HTTP_AUTHORIZATION="Bearer x")))
        assert response["WWW-Authenticate"] == 'Bearer error="invalid_token"'
        assert calls == ["plain", "boss"]


# Views behind DoorwardErrorMiddleware, served by Django's own handlers.


@doorward.django.login_required
def django_user_view(request: HttpRequest, user_id: str) -> HttpResponse:
    user = doorward.django.doorward_instance().users.get(user_id)  # NotFoundError
    return JsonResponse({"username": user.username, "by": request.principal.username})


@doorward.django.login_required
async def django_async_user_view(request: HttpRequest, user_id: str) -> HttpResponse:
    dw = doorward.django.doorward_instance()
    user = await sync_to_async(dw.users.get)(user_id)
    return JsonResponse({"username": user.username, "by": request.principal.username})


def django_broken_view(request: HttpRequest) -> HttpResponse:
    raise ValueError("not a doorward error")


class DjangoUrls:
    """A ROOT_URLCONF (anything with ``urlpatterns`` will do)."""

    urlpatterns: ClassVar[list[Any]] = [
        django_path("users/<user_id>", django_user_view),
        django_path("async/users/<user_id>", django_async_user_view),
        django_path("broken", django_broken_view),
    ]


@pytest.fixture
def django_stack(django_settings: None) -> Iterator[tuple[doorward.Doorward, Users]]:
    """DoorwardErrorMiddleware installed, DjangoUrls routed, a doorward of
    two users set."""
    dw = doorward.Doorward(config())
    with override_settings(
        DOORWARD=dw,
        ROOT_URLCONF=DjangoUrls,
        MIDDLEWARE=["doorward.django.DoorwardErrorMiddleware"],
    ):
        yield dw, Users(dw)


def test_django_middleware_answers_doorward_errors_of_views(
    django_stack: tuple[doorward.Doorward, Users],
) -> None:
    _, users = django_stack
    client = DjangoClient()
    auth = users.bearer(users.plain)

    response = client.get("/users/no-such-user", headers=auth)
    assert_error(response.status_code, json_of(response), 404, "not_found")
    assert response["Content-Type"] == "application/json"
    assert "WWW-Authenticate" not in response

    response = client.get(f"/users/{users.admin.user.id}", headers=auth)
    assert response.status_code == 200
    assert json_of(response) == {"username": "boss", "by": "plain"}

    # The decorator still answers its own checks, before the view runs.
    response = client.get("/users/no-such-user")
    assert_error(response.status_code, json_of(response), 401, "token_invalid")
    assert response["WWW-Authenticate"] == "Bearer"

    # Without the middleware, the error is the view's to answer.
    with override_settings(MIDDLEWARE=[]), pytest.raises(doorward.NotFoundError):
        DjangoClient().get("/users/no-such-user", headers=auth)


async def test_django_middleware_answers_doorward_errors_of_async_views(
    django_stack: tuple[doorward.Doorward, Users],
) -> None:
    _, users = django_stack
    client = DjangoAsyncClient()
    auth = users.bearer(users.plain)

    response = await client.get("/async/users/no-such-user", headers=auth)
    assert_error(response.status_code, json_of(response), 404, "not_found")

    response = await client.get(f"/async/users/{users.admin.user.id}", headers=auth)
    assert response.status_code == 200
    assert json_of(response) == {"username": "boss", "by": "plain"}


def test_django_middleware_leaves_other_exceptions_alone(
    django_stack: tuple[doorward.Doorward, Users],
) -> None:
    with pytest.raises(ValueError, match="not a doorward error"):
        DjangoClient().get("/broken")
    response = DjangoClient(raise_request_exception=False).get("/broken")
    assert response.status_code == 500
    assert response.get("Content-Type") != "application/json"


def test_django_middleware_process_exception(rf: RequestFactory) -> None:
    def view(request: HttpRequest) -> HttpResponse:
        return JsonResponse({"ok": True})

    middleware = doorward.django.DoorwardErrorMiddleware(view)
    request = rf.get("/")
    assert json_of(middleware(request)) == {"ok": True}

    response = middleware.process_exception(request, doorward.NotFoundError("user not found"))
    assert response is not None
    assert_error(response.status_code, json_of(response), 404, "not_found")
    response = middleware.process_exception(
        request, doorward.RateLimitedError("slow down", retry_after=1.5)
    )
    assert response is not None
    assert_error(response.status_code, json_of(response), 429, "rate_limited")
    assert response["Retry-After"] == "2"
    response = middleware.process_exception(request, doorward.StorageError("db.internal down"))
    assert response is not None
    assert_error(response.status_code, json_of(response), 503, "storage_error")
    assert b"db.internal" not in response.content

    assert middleware.process_exception(request, ValueError("no")) is None
    assert middleware.process_exception(request, KeyError("no")) is None

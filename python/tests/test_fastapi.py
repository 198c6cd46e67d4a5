"""doorward.fastapi, with a sync Doorward (thread pool) and an AsyncDoorward."""

import threading
import warnings
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Annotated, Any, Callable, NoReturn, TypeVar, Union

import pytest
from fastapi import Depends, FastAPI
from fastapi.concurrency import run_in_threadpool
from frameworks import FAILURES, NO_VALID_TOKEN, Users, assert_error, call, config

import doorward
import doorward.fastapi

with warnings.catch_warnings():
    # Newer Starlette prefers httpx2 for its test client; httpx still works.
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient


T = TypeVar("T")


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
        "amr": ["pwd"],
        "aal": 1,
        "auth_time": principal.auth_time,
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

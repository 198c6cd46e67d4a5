"""doorward.console: the admin console (the Rust router) mounted at /admin in
a FastAPI app and served on its own, through its ASGI app, with a sync
Doorward and an AsyncDoorward. The console's rules are the router's and
tested with it; these tests check what the mount carries: the path under
the mount, the headers both ways (every set-cookie), the body, the client's
address, and the ASGI protocol around them."""

from __future__ import annotations

import asyncio
import json
import os
import re
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Optional, Union

import httpx
import pytest
from conftest import CHEAP, PASSWORD
from fastapi import FastAPI
from frameworks import call

import doorward
from doorward.console import MAX_BODY, Console, ConsoleApp, ConsoleResponse, asgi_app

with warnings.catch_warnings():
    # Newer Starlette prefers httpx2 for its test client; httpx still works.
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

Client = Union[doorward.Doorward, doorward.AsyncDoorward]
#: A loopback origin over plain HTTP: cookies without `Secure` or `__Host-`,
#: which the test client sends back over http.
LOCAL = "http://127.0.0.1"


@pytest.fixture(params=["sync", "async"])
def dw(request: pytest.FixtureRequest) -> Client:
    if request.param == "sync":
        return doorward.Doorward(CHEAP)
    return doorward.AsyncDoorward(CHEAP)


def accounts(dw: Client) -> tuple[str, str]:
    """An administrator (`admin`) and an account with no console rights
    (`plain`): their ids."""
    admin: doorward.User = call(dw.users.create, "admin", "admin@example.com", PASSWORD)
    assert call(dw.roles.grant, admin.id, "admin")
    plain: doorward.User = call(dw.users.create, "plain", "plain@example.com", PASSWORD)
    return admin.id, plain.id


def host_app(dw: Client) -> FastAPI:
    """A host with a route of its own and the console at /admin."""
    app = FastAPI()

    @app.get("/hello")
    async def hello() -> dict[str, str]:
        return {"hello": "world"}

    app.mount("/admin", asgi_app(dw))
    return app


@pytest.fixture
def browser(dw: Client) -> Iterator[TestClient]:
    with TestClient(host_app(dw), base_url=LOCAL) as client:
        yield client


def code(r: httpx.Response) -> str:
    """The error code of a console answer."""
    error: dict[str, Any] = r.json()["error"]
    return str(error["code"])


def sign_in(client: TestClient, login: str) -> httpx.Response:
    answer: httpx.Response = client.post(
        "/admin/api/session", json={"login": login, "password": PASSWORD}
    )
    return answer


def test_the_page_names_its_files_under_the_mount_and_they_are_cached_for_good(
    browser: TestClient,
) -> None:
    page = browser.get("/admin")  # Starlette redirects to /admin/
    assert page.status_code == 200, page.text
    assert page.url.path == "/admin/"
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["cache-control"] == "no-store"
    csp = page.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "unsafe-inline" not in csp
    files = re.findall(r'"(/admin/assets/[^"]+)"', page.text)
    assert len(files) >= 2, page.text
    for path in files:
        asset = browser.get(path)
        assert asset.status_code == 200, path
        assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert asset.headers["content-security-policy"] == csp
        assert asset.headers["x-content-type-options"] == "nosniff"
    assert browser.get("/admin/assets/app-000000000000.js").status_code == 404
    # The host's own routes are untouched.
    assert browser.get("/hello").json() == {"hello": "world"}


def test_an_admin_signs_in_and_lists_the_users(browser: TestClient, dw: Client) -> None:
    accounts(dw)
    assert code(browser.get("/admin/api/session")) == "token_invalid"
    r = sign_in(browser, "admin")
    assert r.status_code == 200, r.text
    assert r.json()["csrf_token"]
    cookies = r.headers.get_list("set-cookie")
    assert len(cookies) == 3, cookies  # each one kept, not folded into one
    for cookie in cookies:
        assert cookie.startswith("dw_console"), cookie  # loopback over http
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
        assert "Secure" not in cookie
    assert browser.get("/admin/api/session").json()["username"] == "admin"
    everyone = browser.get("/admin/api/users").json()["items"]
    assert sorted(u["username"] for u in everyone) == ["admin", "plain"]
    found = browser.get("/admin/api/users", params={"q": "PLA"}).json()["items"]
    assert [u["username"] for u in found] == ["plain"]


def test_a_change_needs_the_csrf_token(browser: TestClient, dw: Client) -> None:
    _, plain = accounts(dw)
    csrf = sign_in(browser, "admin").json()["csrf_token"]
    forged = browser.post(f"/admin/api/users/{plain}/disable", json={})
    assert (forged.status_code, code(forged)) == (403, "forbidden")
    wrong = browser.post(
        f"/admin/api/users/{plain}/disable", json={}, headers={"X-CSRF-Token": "not-it"}
    )
    assert wrong.status_code == 403
    user: doorward.User = call(dw.users.get, plain)
    assert not user.disabled
    done = browser.post(
        f"/admin/api/users/{plain}/disable", json={}, headers={"X-CSRF-Token": csrf}
    )
    assert done.status_code == 204, done.text
    user = call(dw.users.get, plain)
    assert user.disabled


def test_an_account_without_console_rights_is_refused(browser: TestClient, dw: Client) -> None:
    accounts(dw)
    r = sign_in(browser, "plain")
    assert (r.status_code, code(r)) == (403, "forbidden")
    assert "set-cookie" not in r.headers
    assert browser.get("/admin/api/users").status_code == 401


def test_bad_input_is_a_4xx_with_a_code(browser: TestClient, dw: Client) -> None:
    accounts(dw)
    garbled = browser.post(
        "/admin/api/session", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert garbled.status_code in (400, 422), garbled.text
    assert code(garbled) == "validation_error"
    assert garbled.json()["error"]["field"] == "body"
    wrong_type = browser.post("/admin/api/session", json={"login": 5})
    assert (wrong_type.status_code, code(wrong_type)) == (422, "validation_error")
    number = browser.post("/admin/api/session", json={"login": "admin", "password": 123456789})
    assert number.status_code == 422 and "123456789" not in number.text
    assert code(browser.get("/admin/api/nothing-here")) == "not_found"


def test_over_https_the_cookies_are_host_prefixed_and_secure(dw: Client) -> None:
    accounts(dw)
    with TestClient(host_app(dw), base_url="https://admin.example.com") as client:
        r = sign_in(client, "admin")
        assert r.status_code == 200, r.text
        for cookie in r.headers.get_list("set-cookie"):
            assert cookie.startswith("__Host-dw_console") and "Secure" in cookie, cookie
        assert client.get("/admin/api/users").status_code == 200
    # Behind a TLS-terminating proxy, a loopback host is no reason for less.
    with TestClient(host_app(dw), base_url=LOCAL) as client:
        r = client.post(
            "/admin/api/session",
            json={"login": "admin", "password": PASSWORD},
            headers={"X-Forwarded-Proto": "https"},
        )
        assert r.status_code == 200, r.text
        assert all("Secure" in c for c in r.headers.get_list("set-cookie"))


async def test_the_client_address_reaches_the_session() -> None:
    dw = doorward.AsyncDoorward(CHEAP)
    admin = await dw.users.create("admin", "admin@example.com", PASSWORD)
    await dw.roles.grant(admin.id, "admin")
    transport = httpx.ASGITransport(app=host_app(dw), client=("203.0.113.9", 4321))
    async with httpx.AsyncClient(transport=transport, base_url=LOCAL) as client:
        r = await client.post("/admin/api/session", json={"login": "admin", "password": PASSWORD})
        assert r.status_code == 200, r.text
    assert [s.ip for s in await dw.sessions.list(admin.id)] == ["203.0.113.9"]


async def test_on_its_own_the_console_answers_from_the_root() -> None:
    dw = doorward.AsyncDoorward(CHEAP)
    transport = httpx.ASGITransport(app=asgi_app(dw))
    async with httpx.AsyncClient(transport=transport, base_url=LOCAL) as client:
        page = await client.get("/")
        assert page.status_code == 200
        assert re.search(r'"/assets/app-[0-9a-f]+\.js"', page.text), page.text
        assert (await client.get("/api/session")).status_code == 401


# --- The ASGI protocol, driven by hand ---------------------------------------


class Exchange:
    """One ASGI call: the messages received (in order) and those sent."""

    def __init__(self, incoming: list[dict[str, Any]]) -> None:
        self.incoming = incoming
        self.reads = 0
        self.sent: list[dict[str, Any]] = []

    async def receive(self) -> dict[str, Any]:
        self.reads += 1
        return self.incoming.pop(0)

    async def send(self, message: Any) -> None:
        self.sent.append(dict(message))

    @property
    def status(self) -> int:
        return int(self.sent[0]["status"])

    @property
    def body(self) -> bytes:
        return b"".join(m.get("body", b"") for m in self.sent[1:])


def http_scope(
    path: str, root_path: str = "", method: str = "GET", headers: Optional[list[Any]] = None
) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": root_path,
        "query_string": b"",
        "headers": [(b"host", b"127.0.0.1"), *(headers or [])],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 80),
    }


async def call_app(
    app: ConsoleApp, scope: dict[str, Any], chunks: Optional[list[bytes]] = None
) -> Exchange:
    pieces = chunks or [b""]
    incoming = [
        {"type": "http.request", "body": c, "more_body": i < len(pieces) - 1}
        for i, c in enumerate(pieces)
    ]
    exchange = Exchange(incoming)
    await app(scope, exchange.receive, exchange.send)
    return exchange


async def test_the_whole_path_whichever_way_the_mount_gives_it() -> None:
    app = asgi_app(doorward.AsyncDoorward(CHEAP))
    # Starlette gives the path whole in its recent versions, without the
    # mount's prefix in older ones; both reach the same route.
    for path in ("/admin/api/session", "/api/session"):
        answer = await call_app(app, http_scope(path, "/admin"))
        assert answer.status == 401, path
    for path in ("/admin", "/admin/", "/"):
        answer = await call_app(app, http_scope(path, "/admin"))
        assert answer.status == 200, path
        assert b'"/admin/assets/' in answer.body
    # A percent-encoded segment arrives decoded and goes on encoded again.
    answer = await call_app(app, http_scope("/admin/api/users/not a user", "/admin"))
    assert answer.status == 401


async def test_a_body_over_the_limit_is_refused_without_reading_on() -> None:
    app = asgi_app(doorward.AsyncDoorward(CHEAP))
    half = b"x" * (MAX_BODY // 2)
    scope = http_scope("/admin/api/session", "/admin", "POST")
    answer = await call_app(app, scope, [half, half, half, half, half])
    assert answer.status == 413
    assert answer.reads == 3, "the request is refused at the chunk that passes the limit"
    assert json.loads(answer.body)["error"]["code"] == "validation_error"
    declared = http_scope(
        "/admin/api/session", "/admin", "POST", [(b"content-length", str(MAX_BODY + 1).encode())]
    )
    answer = await call_app(app, declared, [half])
    assert (answer.status, answer.reads) == (413, 0)


async def test_a_client_that_leaves_gets_no_answer() -> None:
    app = asgi_app(doorward.AsyncDoorward(CHEAP))
    exchange = Exchange([{"type": "http.disconnect"}])
    await app(http_scope("/api/session", method="POST"), exchange.receive, exchange.send)
    assert exchange.sent == []


async def test_lifespan_is_acknowledged_and_websockets_are_refused() -> None:
    app = asgi_app(doorward.AsyncDoorward(CHEAP))
    life = Exchange([{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}])
    await app({"type": "lifespan", "asgi": {"version": "3.0"}}, life.receive, life.send)
    assert [m["type"] for m in life.sent] == [
        "lifespan.startup.complete",
        "lifespan.shutdown.complete",
    ]
    socket = Exchange([{"type": "websocket.connect"}])
    await app({**http_scope("/admin/api"), "type": "websocket"}, socket.receive, socket.send)
    assert [m["type"] for m in socket.sent] == ["websocket.close"]


async def test_a_mount_path_the_console_cannot_live_under_is_a_config_error() -> None:
    app = asgi_app(doorward.AsyncDoorward(CHEAP))
    answer = await call_app(app, http_scope("/odd path/x", "/odd path"))
    assert answer.status == 500
    assert json.loads(answer.body)["error"]["code"] == "config_error"


def test_one_console_per_mount_path(dw: Client) -> None:
    app = ConsoleApp(dw)
    admin = app.console("/admin")
    assert app.console("/admin") is admin
    assert admin.prefix == "/admin"
    assert app.console("").prefix == ""
    for i in range(40):
        app.console(f"/tenant-{i}/admin")
    assert len(app._consoles) <= 16, "a parameterised mount keeps a bounded number"


def test_the_native_console_refuses_what_is_not_a_doorward_or_a_path(dw: Client) -> None:
    with pytest.raises(TypeError):
        Console("not a doorward")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        ConsoleApp("not a doorward")  # type: ignore[arg-type]
    with pytest.raises(doorward.ValidationError) as err:
        Console(dw, "/has space")
    assert err.value.field == "prefix"
    assert Console(dw, "/admin/").prefix == "/admin"


async def test_no_cookie_token_or_password_in_a_repr() -> None:
    dw = doorward.AsyncDoorward(CHEAP)
    admin = await dw.users.create("admin", "admin@example.com", PASSWORD)
    await dw.roles.grant(admin.id, "admin")
    console = Console(dw, "/admin")
    answer = await console.handle(
        "POST",
        "/admin/api/session",
        [("host", "127.0.0.1"), ("content-type", "application/json")],
        json.dumps({"login": "admin", "password": PASSWORD}).encode(),
        "127.0.0.1",
    )
    assert isinstance(answer, ConsoleResponse)
    assert answer.status == 200
    csrf = json.loads(answer.body)["csrf_token"]
    cookies = [v for n, v in answer.headers if n == "set-cookie"]
    assert len(cookies) == 3
    assert repr(answer) == "ConsoleResponse(status=200)"
    assert repr(console) == "Console(prefix='/admin')"
    shown = " ".join([repr(answer), repr(console), repr(ConsoleApp(dw)), str(answer)])
    for secret in [csrf, PASSWORD, *(c.split(";")[0].split("=", 1)[1] for c in cookies)]:
        assert secret not in shown


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork() is POSIX-only")
def test_a_console_made_before_fork_answers_in_the_child(tmp_path: Path) -> None:
    from test_fork import OK, run_in_child

    dw = doorward.Doorward(CHEAP, database_url=f"sqlite://{tmp_path / 'auth.db'}")
    accounts(dw)
    console = Console(dw, "/admin")
    sign_in_body = json.dumps({"login": "admin", "password": PASSWORD}).encode()
    headers = [("host", "127.0.0.1"), ("content-type", "application/json")]

    async def sign_in_here() -> int:
        answer = await console.handle("POST", "/admin/api/session", headers, sign_in_body)
        return answer.status

    assert asyncio.run(sign_in_here()) == 200
    assert run_in_child(lambda: asyncio.run(sign_in_here()) == 200) == OK
    assert asyncio.run(sign_in_here()) == 200

"""The admin console the FastAPI example mounts at /admin/: its page, an
administrator's sign-in and the users list, beside the example's own API."""

import re
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

import doorward

from .app import create_app

with warnings.catch_warnings():
    # Newer Starlette prefers httpx2 for its test client; httpx still works.
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

PASSWORD = "correct horse battery"


@pytest.fixture
def app(tmp_path: Path) -> FastAPI:
    return create_app(
        {
            "database_url": f"sqlite://{tmp_path / 'auth.db'}",
            "jwt_secret": "test-secret-test-secret-test-secret!",
            "argon2_memory_kib": 64,
            "argon2_iterations": 1,
        }
    )


@pytest.fixture
def browser(app: FastAPI) -> Iterator[TestClient]:
    # A loopback host over plain HTTP: the console's cookies are then plain
    # `dw_console*` ones, not `__Host-` and `Secure`, so the client sends
    # them back over http.
    with TestClient(app, base_url="http://127.0.0.1") as client:
        yield client


def register(client: TestClient, username: str) -> str:
    r = client.post(
        "/register",
        json={"username": username, "email": f"{username}@example.com", "password": PASSWORD},
    )
    assert r.status_code == 201, r.text
    user_id: str = r.json()["user"]["id"]
    return user_id


def test_the_console_page_is_served_at_admin(browser: TestClient) -> None:
    page = browser.get("/admin/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    files = re.findall(r'"(/admin/assets/[^"]+)"', page.text)
    assert files, page.text
    for path in files:
        r = browser.get(path)
        assert r.status_code == 200, path
        assert "immutable" in r.headers["cache-control"]


def test_an_administrator_signs_in_and_lists_the_accounts(
    app: FastAPI, browser: TestClient
) -> None:
    boss = register(browser, "boss")
    register(browser, "john")
    refused = browser.post("/admin/api/session", json={"login": "boss", "password": PASSWORD})
    assert refused.status_code == 403, "an account without console rights"

    dw: doorward.AsyncDoorward = app.state.doorward
    assert browser.portal is not None
    browser.portal.call(dw.roles.grant, boss, "admin")
    r = browser.post("/admin/api/session", json={"login": "boss", "password": PASSWORD})
    assert r.status_code == 200, r.text
    assert len(r.headers.get_list("set-cookie")) == 3
    listed: dict[str, Any] = browser.get("/admin/api/users").json()
    assert sorted(u["username"] for u in listed["items"]) == ["boss", "john"]

    # Changes carry the CSRF token the sign-in answered.
    john = next(u["id"] for u in listed["items"] if u["username"] == "john")
    assert browser.post(f"/admin/api/users/{john}/disable", json={}).status_code == 403
    csrf = r.json()["csrf_token"]
    r = browser.post(f"/admin/api/users/{john}/disable", json={}, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 204, r.text
    assert browser.post("/login", json={"login": "john", "password": PASSWORD}).status_code == 403

    # The example's own /admin/users (bearer token) is still the example's.
    assert browser.get("/admin/users").json()["error"]["code"] == "token_invalid"

"""The Flask example through its HTTP API (Flask's test client)."""

import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

import doorward
from doorward.flask import doorward_instance

from .app import config_from_env, create_app

PASSWORD = "correct horse battery"
SECRET = "test-secret-test-secret-test-secret!"
USER_AGENT = "doorward-example-tests/1.0"


@pytest.fixture
def config(tmp_path: Path) -> dict[str, Any]:
    return {
        "database_url": f"sqlite://{tmp_path / 'auth.db'}",
        "jwt_secret": SECRET,
        "argon2_memory_kib": 64,
        "argon2_iterations": 1,
    }


@pytest.fixture
def app(config: dict[str, Any]) -> Flask:
    app = create_app(config)
    app.testing = True
    return app


@pytest.fixture
def client(app: Flask) -> Iterator[FlaskClient]:
    with app.test_client() as client:
        client.environ_base["HTTP_USER_AGENT"] = USER_AGENT
        yield client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def register(client: FlaskClient, username: str) -> dict[str, Any]:
    r = client.post(
        "/register",
        json={"username": username, "email": f"{username}@example.com", "password": PASSWORD},
    )
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.get_json()
    return body


def login(client: FlaskClient, name: str) -> dict[str, Any]:
    r = client.post("/login", json={"login": name, "password": PASSWORD})
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.get_json()
    return body


def assert_error(r: TestResponse, status: int, code: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    error: dict[str, Any] = r.get_json()["error"]
    assert error["code"] == code
    return error


def dw(app: Flask) -> doorward.Doorward:
    """The app's own doorward instance."""
    with app.app_context():
        return doorward_instance()


def test_register_login_and_me(app: Flask, client: FlaskClient) -> None:
    reg = register(client, "john")
    assert reg["user"]["username"] == "john"
    assert reg["user"]["email"] == "john@example.com"
    assert "password" not in reg["user"]
    assert reg["tokens"]["token_type"] == "Bearer"
    assert reg["tokens"]["expires_in"] > 0

    # By username or by email.
    pair = login(client, "john")
    assert login(client, "JOHN@example.com")["access_token"] != pair["access_token"]

    r = client.get("/me", headers=bearer(pair["access_token"]))
    assert r.status_code == 200, r.text
    me = r.get_json()
    assert set(me["principal"]) == {
        *("user_id", "username", "session_id", "roles", "expires_at"),
        *("amr", "aal", "auth_time"),
    }
    assert datetime.fromisoformat(me["principal"]["expires_at"]).tzinfo is not None
    assert datetime.fromisoformat(me["principal"]["auth_time"]).tzinfo is not None
    assert (me["principal"]["amr"], me["principal"]["aal"]) == (["pwd"], 1)
    assert me["principal"]["user_id"] == reg["user"]["id"]
    assert me["principal"]["username"] == "john"
    assert me["principal"]["roles"] == ["user"]
    assert me["user"]["email"] == "john@example.com"
    assert me["user"]["last_login_at"] is not None
    assert "T" in me["user"]["created_at"]  # ISO 8601, not an HTTP date

    # The client's address and user agent reached the session.
    sessions = dw(app).sessions.list(reg["user"]["id"])
    login_session = next(s for s in sessions if s.id == me["principal"]["session_id"])
    assert login_session.user_agent == USER_AGENT
    assert login_session.ip == "127.0.0.1"


def test_wrong_password(client: FlaskClient) -> None:
    register(client, "john")
    r = client.post("/login", json={"login": "john", "password": "not the password"})
    assert_error(r, 401, "invalid_credentials")
    assert r.headers["WWW-Authenticate"] == "Bearer"  # no token was refused
    r = client.post("/login", json={"login": "nobody", "password": PASSWORD})
    assert_error(r, 401, "invalid_credentials")


def test_refresh_rotates_and_a_replay_revokes_the_family(client: FlaskClient) -> None:
    first = register(client, "john")["tokens"]
    r = client.post("/refresh", json={"refresh_token": first["refresh_token"]})
    assert r.status_code == 200, r.text
    second = r.get_json()
    assert second["refresh_token"] != first["refresh_token"]
    assert client.get("/me", headers=bearer(second["access_token"])).status_code == 200

    r = client.post("/refresh", json={"refresh_token": first["refresh_token"]})
    assert_error(r, 401, "token_reused")
    assert r.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'

    # The whole family is gone: the new pair too.
    assert_error(client.get("/me", headers=bearer(second["access_token"])), 401, "token_revoked")
    r = client.post("/refresh", json={"refresh_token": second["refresh_token"]})
    assert r.status_code == 401


def test_logout_ends_the_session(client: FlaskClient) -> None:
    register(client, "john")
    pair = login(client, "john")
    r = client.post("/logout", headers=bearer(pair["access_token"]))
    assert r.status_code == 204
    assert r.data == b""
    assert_error(client.get("/me", headers=bearer(pair["access_token"])), 401, "token_revoked")
    r = client.post("/refresh", json={"refresh_token": pair["refresh_token"]})
    assert r.status_code == 401
    r = client.post("/logout")
    assert_error(r, 401, "token_invalid")
    assert r.headers["WWW-Authenticate"] == "Bearer"
    r = client.post("/logout", headers=bearer("not.a.jwt"))
    assert_error(r, 401, "token_invalid")
    assert r.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'


def test_admin_route_needs_the_admin_permission(app: Flask, client: FlaskClient) -> None:
    john = register(client, "john")
    jane = register(client, "jane")
    john_token = john["tokens"]["access_token"]

    assert_error(client.get("/admin/users"), 401, "token_invalid")
    assert_error(client.get("/admin/users", headers=bearer(john_token)), 403, "forbidden")

    assert dw(app).roles.grant(john["user"]["id"], "admin")
    r = client.get("/admin/users", headers=bearer(john_token))
    assert r.status_code == 200, r.text
    listed = r.get_json()
    assert {u["username"] for u in listed["users"]} == {"john", "jane"}
    assert listed["next_cursor"] is None

    # Paging, and validation of the query.
    r = client.get("/admin/users?limit=1", headers=bearer(john_token))
    assert len(r.get_json()["users"]) == 1
    assert r.get_json()["next_cursor"]
    for limit in ("0", "many"):
        r = client.get(f"/admin/users?limit={limit}", headers=bearer(john_token))
        assert assert_error(r, 422, "validation_error")["field"] == "limit"

    # jane is still a plain user.
    jane_token = jane["tokens"]["access_token"]
    assert_error(client.get("/admin/users", headers=bearer(jane_token)), 403, "forbidden")


def test_duplicates_conflict(client: FlaskClient) -> None:
    register(client, "john")
    r = client.post(
        "/register",
        json={"username": "johnny", "email": "JOHN@example.com", "password": PASSWORD},
    )
    assert_error(r, 409, "duplicate_email")
    r = client.post(
        "/register",
        json={"username": "John", "email": "other@example.com", "password": PASSWORD},
    )
    assert_error(r, 409, "duplicate_username")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"username": "john", "email": "john@example.com"}, "password"),
        ({"username": "john", "email": "john@example.com", "password": 12345678}, "password"),
        ({"username": "john", "email": "john@example.com", "password": "short"}, "password"),
        ({"username": "john", "email": "not-an-email", "password": PASSWORD}, "email"),
        ({"username": "j", "email": "john@example.com", "password": PASSWORD}, "username"),
    ],
)
def test_bad_input_is_422(client: FlaskClient, body: dict[str, Any], field: str) -> None:
    r = client.post("/register", json=body)
    error = assert_error(r, 422, "validation_error")
    assert error["field"] == field
    assert "12345678" not in r.text  # the input is never echoed


@pytest.mark.parametrize("data", [b"{not json", b"[1, 2]"])
def test_malformed_json_is_422(client: FlaskClient, data: bytes) -> None:
    r = client.post("/login", data=data, headers={"Content-Type": "application/json"})
    assert_error(r, 422, "validation_error")


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Basic am9objpwdw=="}, {"Authorization": "Bearer"}],
)
def test_missing_bearer_is_401_with_www_authenticate(
    client: FlaskClient, headers: dict[str, str]
) -> None:
    # RFC 6750: no error code when the request carried no bearer token.
    r = client.get("/me", headers=headers)
    assert_error(r, 401, "token_invalid")
    assert r.headers["WWW-Authenticate"] == "Bearer"


def test_forged_token_is_401(client: FlaskClient) -> None:
    r = client.get("/me", headers=bearer("not.a.jwt"))
    assert_error(r, 401, "token_invalid")
    assert r.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'


def test_login_rate_limit_is_429_with_retry_after(config: dict[str, Any]) -> None:
    # Per address: the test client is one address, and one that has logged
    # in to the account (here, by registering) is not held to the
    # per-account limit.
    app = create_app({**config, "rate_limit_login_ip": "2/1m"})
    with app.test_client() as client:
        register(client, "john")
        for _ in range(2):
            r = client.post("/login", json={"login": "john", "password": "nope"})
            assert r.status_code == 401
        r = client.post("/login", json={"login": "john", "password": PASSWORD})
        assert_error(r, 429, "rate_limited")
        assert int(r.headers["Retry-After"]) >= 1


def test_config_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOORWARD_DATABASE_URL", "sqlite::memory:")
    monkeypatch.setenv("DOORWARD_JWT_SECRET", SECRET)
    monkeypatch.delenv("DOORWARD_REDIS_URL", raising=False)
    monkeypatch.delenv("DOORWARD_FILES_URL", raising=False)
    assert config_from_env() == {"database_url": "sqlite::memory:", "jwt_secret": SECRET}
    monkeypatch.delenv("DOORWARD_DATABASE_URL")
    monkeypatch.delenv("DOORWARD_JWT_SECRET")
    config = config_from_env()
    assert config["database_url"] == "sqlite://doorward-example.db"
    assert len(config["jwt_secret"]) >= 32  # a random one
    monkeypatch.setenv("DOORWARD_FILES_URL", "memory://")
    assert config_from_env()["files_url"] == "memory://"


PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(64))


def put_avatar(client: FlaskClient, token: str, body: bytes, content_type: str) -> Any:
    return client.put(
        "/me/avatar", data=body, headers={**bearer(token), "Content-Type": content_type}
    )


def test_avatar_upload_and_download(client: FlaskClient) -> None:
    john = register(client, "john")
    token = john["tokens"]["access_token"]
    user_id = john["user"]["id"]
    assert_error(client.get(f"/users/{user_id}/avatar"), 404, "not_found")

    r = put_avatar(client, token, PNG, "image/png")
    assert r.status_code == 200, r.text
    assert r.get_json() == {
        "key": f"avatars/{user_id}",
        "size": len(PNG),
        "content_type": "image/png",
    }

    # Anyone may fetch it, served with its type and never sniffed.
    r = client.get(f"/users/{user_id}/avatar")
    assert r.status_code == 200
    assert r.data == PNG
    assert r.headers["Content-Type"] == "image/png"
    assert r.headers["X-Content-Type-Options"] == "nosniff"

    # A new upload replaces it.
    r = put_avatar(client, token, b"GIF89a...", "image/gif; charset=binary")
    assert r.status_code == 200, r.text
    r = client.get(f"/users/{user_id}/avatar")
    assert (r.data, r.headers["Content-Type"]) == (b"GIF89a...", "image/gif")


def test_avatar_upload_is_checked(client: FlaskClient) -> None:
    token = register(client, "john")["tokens"]["access_token"]
    # Only signed-in callers.
    r = client.put("/me/avatar", data=PNG, headers={"Content-Type": "image/png"})
    assert_error(r, 401, "token_invalid")
    # Raster images only: an SVG or HTML page could run script on this origin.
    for content_type in ("image/svg+xml", "text/html", "application/octet-stream"):
        error = assert_error(put_avatar(client, token, PNG, content_type), 422, "validation_error")
        assert error["field"] == "content_type"
    # At most 1 MiB, and not empty.
    big = b"\0" * (1024 * 1024 + 1)
    error = assert_error(put_avatar(client, token, big, "image/png"), 422, "validation_error")
    assert error["field"] == "body"
    error = assert_error(put_avatar(client, token, b"", "image/png"), 422, "validation_error")
    assert error["field"] == "body"
    assert put_avatar(client, token, b"\0" * (1024 * 1024), "image/png").status_code == 200


def test_metrics_are_prometheus_text(client: FlaskClient) -> None:
    register(client, "john")
    r = client.get("/metrics")
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    assert "doorward_registrations_total 1" in r.get_data(as_text=True).splitlines()


def test_login_with_a_second_factor(app: Flask, client: FlaskClient) -> None:
    user_id = register(client, "john")["user"]["id"]
    enrolment = dw(app).mfa.start_totp(user_id)
    authenticator = pyotp.TOTP(enrolment.secret)
    at = time.time()
    codes = dw(app).mfa.confirm_totp(user_id, authenticator.at(at)).codes

    # The password alone: no tokens, and the pending login's id only in an
    # HttpOnly cookie for the code form.
    r = client.post("/login", json={"login": "john", "password": PASSWORD})
    assert r.status_code == 200, r.text
    assert r.get_json() == {
        "mfa_required": True,
        "methods": ["totp", "recovery_code"],
        "enrolment_required": False,
        "expires_in": 300,
    }
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "Path=/login/mfa" in cookie and "SameSite=Strict" in cookie
    pending = client.get_cookie("doorward_mfa", path="/login/mfa")
    assert pending is not None and pending.value not in r.text

    page = client.get("/login/mfa")
    assert page.status_code == 200 and "name='code'" in page.text
    r = client.post("/login/mfa", data={"method": "totp", "code": authenticator.at(at)})
    assert r.status_code == 401, r.text  # a replay of the confirming code
    r = client.post("/login/mfa", data={"method": "totp", "code": authenticator.at(at + 30)})
    assert r.status_code == 200, r.text
    tokens = r.get_json()
    me = client.get("/me", headers=bearer(tokens["access_token"])).get_json()["principal"]
    assert (me["aal"], me["amr"]) == (2, ["mfa", "otp", "pwd"])
    assert client.get_cookie("doorward_mfa", path="/login/mfa") is None

    # A recovery code completes one login.
    assert client.post("/login", json={"login": "john", "password": PASSWORD}).status_code == 200
    r = client.post("/login/mfa", data={"method": "recovery_code", "code": codes[0]})
    assert r.status_code == 200, r.text
    assert dw(app).mfa.status(user_id).recovery_codes_left == 9

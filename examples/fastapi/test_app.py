"""The FastAPI example through its HTTP API (``fastapi.testclient``)."""

import base64
import re
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyotp
import pytest
from fastapi import FastAPI

import doorward

from .app import config_from_env, create_app

with warnings.catch_warnings():
    # Newer Starlette prefers httpx2 for its test client; httpx still works.
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

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
def app(config: dict[str, Any]) -> FastAPI:
    return create_app(config)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, headers={"User-Agent": USER_AGENT}) as client:
        yield client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def register(client: TestClient, username: str, email: str = "") -> dict[str, Any]:
    email = email or f"{username}@example.com"
    r = client.post("/register", json={"username": username, "email": email, "password": PASSWORD})
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


def login(client: TestClient, name: str) -> dict[str, Any]:
    r = client.post("/login", json={"login": name, "password": PASSWORD})
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def assert_error(r: Any, status: int, code: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    error: dict[str, Any] = r.json()["error"]
    assert error["code"] == code
    return error


def grant(app: FastAPI, client: TestClient, user_id: str, role: str) -> None:
    """Grant ``role`` through the app's own doorward, on the app's event loop."""
    dw: doorward.AsyncDoorward = app.state.doorward
    assert client.portal is not None
    assert client.portal.call(dw.roles.grant, user_id, role)


def test_register_login_and_me(app: FastAPI, client: TestClient) -> None:
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
    me = r.json()
    assert me["principal"]["user_id"] == reg["user"]["id"]
    assert me["principal"]["username"] == "john"
    assert me["principal"]["roles"] == ["user"]
    assert me["user"]["email"] == "john@example.com"
    assert me["user"]["last_login_at"] is not None

    # The client's address and user agent reached the session.
    dw: doorward.AsyncDoorward = app.state.doorward
    assert client.portal is not None
    sessions = client.portal.call(dw.sessions.list, reg["user"]["id"])
    login_session = next(s for s in sessions if s.id == me["principal"]["session_id"])
    assert login_session.user_agent == USER_AGENT
    assert login_session.ip == "testclient"


def test_wrong_password(client: TestClient) -> None:
    register(client, "john")
    r = client.post("/login", json={"login": "john", "password": "not the password"})
    assert_error(r, 401, "invalid_credentials")
    assert r.headers["WWW-Authenticate"] == "Bearer"  # no token was refused
    r = client.post("/login", json={"login": "nobody", "password": PASSWORD})
    assert_error(r, 401, "invalid_credentials")


def test_refresh_rotates_and_a_replay_revokes_the_family(client: TestClient) -> None:
    first = register(client, "john")["tokens"]
    r = client.post("/refresh", json={"refresh_token": first["refresh_token"]})
    assert r.status_code == 200, r.text
    second = r.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert client.get("/me", headers=bearer(second["access_token"])).status_code == 200

    r = client.post("/refresh", json={"refresh_token": first["refresh_token"]})
    assert_error(r, 401, "token_reused")
    assert r.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'

    # The whole family is gone: the new pair too.
    assert_error(client.get("/me", headers=bearer(second["access_token"])), 401, "token_revoked")
    r = client.post("/refresh", json={"refresh_token": second["refresh_token"]})
    assert r.status_code == 401


def test_logout_ends_the_session(client: TestClient) -> None:
    register(client, "john")
    pair = login(client, "john")
    r = client.post("/logout", headers=bearer(pair["access_token"]))
    assert r.status_code == 204
    assert r.content == b""
    assert_error(client.get("/me", headers=bearer(pair["access_token"])), 401, "token_revoked")
    r = client.post("/refresh", json={"refresh_token": pair["refresh_token"]})
    assert r.status_code == 401
    r = client.post("/logout")
    assert_error(r, 401, "token_invalid")
    assert r.headers["WWW-Authenticate"] == "Bearer"
    r = client.post("/logout", headers=bearer("not.a.jwt"))
    assert_error(r, 401, "token_invalid")
    assert r.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'


def test_openapi_shows_the_bearer_scheme(client: TestClient) -> None:
    openapi = client.get("/openapi.json").json()
    bearer_only: list[dict[str, list[str]]] = [{"HTTPBearer": []}]
    assert openapi["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    # /logout reads the token with doorward.fastapi.access_token, so it is
    # documented (and tried from /docs) like the routes that verify it.
    assert openapi["paths"]["/logout"]["post"]["security"] == bearer_only
    assert openapi["paths"]["/me"]["get"]["security"] == bearer_only
    assert openapi["paths"]["/admin/users"]["get"]["security"] == bearer_only
    assert "security" not in openapi["paths"]["/login"]["post"]


def test_admin_route_needs_the_admin_permission(app: FastAPI, client: TestClient) -> None:
    john = register(client, "john")
    jane = register(client, "jane")
    john_token = john["tokens"]["access_token"]

    assert_error(client.get("/admin/users"), 401, "token_invalid")
    assert_error(client.get("/admin/users", headers=bearer(john_token)), 403, "forbidden")

    grant(app, client, john["user"]["id"], "admin")
    r = client.get("/admin/users", headers=bearer(john_token))
    assert r.status_code == 200, r.text
    listed = r.json()
    assert {u["username"] for u in listed["users"]} == {"john", "jane"}
    assert listed["next_cursor"] is None

    # Paging, and doorward's own validation of the query.
    r = client.get("/admin/users", params={"limit": 1}, headers=bearer(john_token))
    assert len(r.json()["users"]) == 1
    assert r.json()["next_cursor"]
    error = assert_error(
        client.get("/admin/users", params={"limit": 0}, headers=bearer(john_token)),
        422,
        "validation_error",
    )
    assert error["field"] == "limit"

    # jane is still a plain user.
    jane_token = jane["tokens"]["access_token"]
    assert_error(client.get("/admin/users", headers=bearer(jane_token)), 403, "forbidden")


def test_duplicates_conflict(client: TestClient) -> None:
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
def test_bad_input_is_422(client: TestClient, body: dict[str, Any], field: str) -> None:
    r = client.post("/register", json=body)
    error = assert_error(r, 422, "validation_error")
    assert error["field"] == field
    assert "12345678" not in r.text  # the input is never echoed


def test_malformed_json_is_422(client: TestClient) -> None:
    r = client.post("/login", content=b"{not json", headers={"Content-Type": "application/json"})
    assert_error(r, 422, "validation_error")


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Basic am9objpwdw=="}, {"Authorization": "Bearer"}],
)
def test_missing_bearer_is_401_with_www_authenticate(
    client: TestClient, headers: dict[str, str]
) -> None:
    # RFC 6750: no error code when the request carried no bearer token.
    r = client.get("/me", headers=headers)
    assert_error(r, 401, "token_invalid")
    assert r.headers["WWW-Authenticate"] == "Bearer"


def test_forged_token_is_401(client: TestClient) -> None:
    r = client.get("/me", headers=bearer("not.a.jwt"))
    assert_error(r, 401, "token_invalid")
    assert r.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'


def test_login_rate_limit_is_429_with_retry_after(config: dict[str, Any]) -> None:
    # Per address: the test client is one address, and one that has logged
    # in to the account (here, by registering) is not held to the
    # per-account limit.
    app = create_app({**config, "rate_limit_login_ip": "2/1m"})
    with TestClient(app) as client:
        register(client, "john")
        for _ in range(2):
            assert (
                client.post("/login", json={"login": "john", "password": "nope"}).status_code == 401
            )
        r = client.post("/login", json={"login": "john", "password": PASSWORD})
        assert_error(r, 429, "rate_limited")
        assert int(r.headers["Retry-After"]) >= 1


def test_config_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOORWARD_DATABASE_URL", "sqlite::memory:")
    monkeypatch.setenv("DOORWARD_JWT_SECRET", SECRET)
    for unset in ("REDIS_URL", "FILES_URL", "MAIL_URL", "APP_URL", "WEBAUTHN_ORIGINS"):
        monkeypatch.delenv(f"DOORWARD_{unset}", raising=False)
    assert config_from_env() == {
        "database_url": "sqlite::memory:",
        "jwt_secret": SECRET,
        "app_url": "http://localhost:8000",  # where uvicorn serves: passkeys work there
    }
    monkeypatch.delenv("DOORWARD_DATABASE_URL")
    monkeypatch.delenv("DOORWARD_JWT_SECRET")
    config = config_from_env()
    assert config["database_url"] == "sqlite://doorward-example.db"
    assert len(config["jwt_secret"]) >= 32  # a random one
    monkeypatch.setenv("DOORWARD_FILES_URL", "memory://")
    assert config_from_env()["files_url"] == "memory://"
    monkeypatch.setenv("DOORWARD_APP_URL", "https://app.example.com")
    monkeypatch.setenv("DOORWARD_WEBAUTHN_ORIGINS", "https://app.example.com,https://example.com")
    config = config_from_env()
    assert config["app_url"] == "https://app.example.com"
    assert config["webauthn_origins"] == "https://app.example.com,https://example.com"


PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(64))


def put_avatar(client: TestClient, token: str, body: bytes, content_type: str) -> Any:
    return client.put(
        "/me/avatar", content=body, headers={**bearer(token), "Content-Type": content_type}
    )


def test_avatar_upload_and_download(client: TestClient) -> None:
    john = register(client, "john")
    token = john["tokens"]["access_token"]
    user_id = john["user"]["id"]
    assert_error(client.get(f"/users/{user_id}/avatar"), 404, "not_found")

    r = put_avatar(client, token, PNG, "image/png")
    assert r.status_code == 200, r.text
    assert r.json() == {"key": f"avatars/{user_id}", "size": len(PNG), "content_type": "image/png"}

    # Anyone may fetch it, served with its type and never sniffed.
    r = client.get(f"/users/{user_id}/avatar")
    assert r.status_code == 200
    assert r.content == PNG
    assert r.headers["Content-Type"] == "image/png"
    assert r.headers["X-Content-Type-Options"] == "nosniff"

    # A new upload replaces it.
    r = put_avatar(client, token, b"GIF89a...", "image/gif; charset=binary")
    assert r.status_code == 200, r.text
    r = client.get(f"/users/{user_id}/avatar")
    assert (r.content, r.headers["Content-Type"]) == (b"GIF89a...", "image/gif")


def test_avatar_upload_is_checked(client: TestClient) -> None:
    token = register(client, "john")["tokens"]["access_token"]
    # Only signed-in callers.
    r = client.put("/me/avatar", content=PNG, headers={"Content-Type": "image/png"})
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


def test_metrics_are_prometheus_text(client: TestClient) -> None:
    register(client, "john")
    r = client.get("/metrics")
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    assert "doorward_registrations_total 1" in r.text.splitlines()


# Second factors.


def enrol(client: TestClient, token: str) -> tuple[pyotp.TOTP, float, list[str]]:
    """Enrol an authenticator from the enrolment page, as a user does: read
    the key off the page, confirm with the app's first code. The app, the
    moment of that code (its step is spent) and the recovery codes."""
    r = client.post("/me/mfa/totp", headers=bearer(token))
    assert r.status_code == 200, r.text
    key = re.search(r"<code>([A-Z2-7]{32})</code>", r.text)
    assert key, r.text
    authenticator = pyotp.TOTP(key.group(1))
    at = time.time()
    r = client.post(
        "/me/mfa/totp/confirm", json={"code": authenticator.at(at)}, headers=bearer(token)
    )
    assert r.status_code == 200, r.text
    assert r.headers["Cache-Control"] == "no-store"
    codes: list[str] = r.json()["codes"]
    return authenticator, at, codes


def test_enrolment_page_shows_the_qr_code_under_its_own_csp(client: TestClient) -> None:
    token = register(client, "john")["tokens"]["access_token"]
    assert_error(client.post("/me/mfa/totp"), 401, "token_invalid")
    r = client.post("/me/mfa/totp", headers=bearer(token))
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("text/html")
    assert r.headers["Cache-Control"] == "no-store"
    # The QR code is an inline data: image, which this page's CSP (and only
    # this page's) lets in.
    qr = re.search(r"<img src='(data:image/png;base64,[A-Za-z0-9+/=]+)'", r.text)
    assert qr, r.text
    assert base64.b64decode(qr.group(1).split(",", 1)[1]).startswith(b"\x89PNG")
    csp = r.headers["Content-Security-Policy"]
    assert "img-src 'self' data:" in csp
    assert "default-src 'none'" in csp
    assert "script-src" not in csp
    for other in ("/forgot", "/login/mfa", "/sign-in/email"):
        other_csp = client.get(other).headers["Content-Security-Policy"]
        assert "img-src" not in other_csp and "data:" not in other_csp, other
    key = re.search(r"<code>([A-Z2-7]{32})</code>", r.text)
    assert key, r.text

    # Nothing changes until a first code confirms the authenticator.
    assert "access_token" in login(client, "john")
    r = client.post("/me/mfa/totp/confirm", json={"code": "000000"}, headers=bearer(token))
    assert_error(r, 401, "invalid_credentials")
    code = pyotp.TOTP(key.group(1)).now()
    r = client.post("/me/mfa/totp/confirm", json={"code": code}, headers=bearer(token))
    assert r.status_code == 200, r.text
    assert len(r.json()["codes"]) == 10
    r = client.get("/me/mfa", headers=bearer(token))
    assert r.json() == {"totp": True, "recovery_codes_left": 10, "enabled": True}


def test_login_with_a_second_factor(client: TestClient) -> None:
    token = register(client, "john")["tokens"]["access_token"]
    authenticator, at, codes = enrol(client, token)

    # The password alone: no tokens, and the pending login's id only in an
    # HttpOnly cookie for the code form.
    r = client.post("/login", json={"login": "john", "password": PASSWORD})
    assert r.status_code == 200, r.text
    assert r.json() == {
        "mfa_required": True,
        "methods": ["totp", "recovery_code"],
        "enrolment_required": False,
        "expires_in": 300,
    }
    cookie = r.headers["Set-Cookie"]
    flow_id = client.cookies.get("doorward_mfa", path="/login/mfa")
    assert flow_id and flow_id not in r.text
    assert "HttpOnly" in cookie
    assert "Path=/login/mfa" in cookie
    assert "SameSite=strict" in cookie
    assert "Max-Age=300" in cookie

    # The code form, then a wrong code: the login stays pending.
    r = client.get("/login/mfa")
    assert r.status_code == 200
    assert "name='code'" in r.text and "recovery_code" in r.text
    assert flow_id not in r.text
    r = client.post("/login/mfa", data={"method": "totp", "code": authenticator.at(at)})  # a replay
    assert r.status_code == 401, r.text
    assert r.headers["Content-Type"].startswith("text/html")

    # The next step's code signs in, at level 2, and the cookie goes.
    r = client.post("/login/mfa", data={"method": "totp", "code": authenticator.at(at + 30)})
    assert r.status_code == 200, r.text
    assert r.headers["Cache-Control"] == "no-store"
    pair = r.json()
    assert pair["token_type"] == "Bearer"
    assert "doorward_mfa=" in r.headers["Set-Cookie"]
    assert client.cookies.get("doorward_mfa", path="/login/mfa") is None
    me = client.get("/me", headers=bearer(pair["access_token"])).json()["principal"]
    assert (me["aal"], me["amr"]) == (2, ["mfa", "otp", "pwd"])

    # Used once: without the cookie there is no pending login to finish.
    r = client.post("/login/mfa", data={"method": "totp", "code": authenticator.at(at + 30)})
    assert r.status_code == 400, r.text

    # A recovery code completes one login.
    assert client.post("/login", json={"login": "john", "password": PASSWORD}).status_code == 200
    r = client.post("/login/mfa", data={"method": "recovery_code", "code": codes[0]})
    assert r.status_code == 200, r.text
    status_now = client.get("/me/mfa", headers=bearer(r.json()["access_token"])).json()
    assert status_now["recovery_codes_left"] == 9


def test_step_up_and_removing_the_factor(config: dict[str, Any]) -> None:
    with TestClient(create_app({**config, "fresh_auth_max_age": 1})) as client:
        token = register(client, "john")["tokens"]["access_token"]
        authenticator, at, _ = enrol(client, token)
        time.sleep(2.1)
        # Too long since the user proved who they are: step up first.
        r = client.delete("/me/mfa/totp", headers=bearer(token))
        assert_error(r, 401, "step_up_required")
        assert r.headers["WWW-Authenticate"] == 'Bearer error="insufficient_user_authentication"'
        r = client.post(
            "/me/step-up",
            json={"method": "totp", "proof": authenticator.at(at + 30)},
            headers=bearer(token),
        )
        assert r.status_code == 200, r.text
        fresh = r.json()["access_token"]
        me = client.get("/me", headers=bearer(fresh)).json()["principal"]
        assert me["aal"] == 2
        # The old session ended with the step-up.
        assert_error(client.get("/me", headers=bearer(token)), 401, "token_revoked")
        assert client.delete("/me/mfa/totp", headers=bearer(fresh)).status_code == 204
        assert client.get("/me/mfa", headers=bearer(fresh)).json()["enabled"] is False
        assert "access_token" in login(client, "john")

"""The FastAPI example's sign-in with a provider, through the whole redirect
dance: a browser (``oidc_browser.Browser``) starts at ``/auth/corp``, signs
in on the test OpenID provider's page (a real server, ``tests/oidc``) and
follows the redirect back to the app's callback, which the test client
answers in process."""

import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

import doorward

from ..oidc_browser import Browser, issuer
from .app import OAUTH_COOKIE, create_app
from .test_app import SECRET, USER_AGENT, assert_error, bearer, enrol, register

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

APP = "http://testserver"
CALLBACK = f"{APP}/auth/corp/callback"


@pytest.fixture
def app(tmp_path: Path) -> FastAPI:
    issuer_url, _ = issuer(
        [{"client_id": "example", "client_secret": "a-client-secret", "redirect_uris": [CALLBACK]}]
    )
    return create_app(
        {
            "database_url": f"sqlite://{tmp_path / 'auth.db'}",
            "jwt_secret": SECRET,
            "argon2_memory_kib": 64,
            "argon2_iterations": 1,
            "verify_email_on_register": False,
            "oauth_providers": [
                {
                    "id": "corp",
                    "name": "Corp SSO",
                    "issuer": issuer_url,
                    "client_id": "example",
                    "client_secret": "a-client-secret",
                }
            ],
        }
    )


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, headers={"User-Agent": USER_AGENT}) as client:
        yield client


@pytest.fixture
def browser(client: TestClient) -> Iterator[Browser]:
    """A browser whose requests to the app go to the test client."""
    with Browser({"testserver": client}) as browser:
        yield browser


def sign_in(browser: Browser, account: str) -> Any:
    """The whole dance from ``/auth/corp``: the app's final response."""
    url, response = browser.browse(f"{APP}/auth/corp", account)
    assert response is not None
    assert url.startswith(f"{CALLBACK}?"), url
    return response


def test_the_providers_are_listed(client: TestClient) -> None:
    r = client.get("/auth")
    assert r.status_code == 200, r.text
    assert r.json() == [{"id": "corp", "name": "Corp SSO", "kind": "oidc"}]
    assert_error(client.get("/auth/nope", follow_redirects=False), 422, "validation_error")


def test_the_redirect_keeps_the_state_in_a_cookie(client: TestClient) -> None:
    r = client.get("/auth/corp", follow_redirects=False)
    assert r.status_code == 302, r.text
    assert r.headers["Location"].startswith("http://127.0.0.1:")
    assert "code_challenge_method=S256" in r.headers["Location"]
    cookie = r.headers["Set-Cookie"]
    assert cookie.startswith(f"{OAUTH_COOKIE}=")
    for attribute in ("HttpOnly", "Max-Age=600", "Path=/auth", "SameSite=lax"):
        assert attribute in cookie, cookie
    assert r.headers["Cache-Control"] == "no-store"


def test_a_new_user_signs_up_through_the_provider(
    app: FastAPI, client: TestClient, browser: Browser
) -> None:
    r = sign_in(browser, "newcomer@example.org")
    assert r.status_code == 200, r.text
    assert r.headers["Cache-Control"] == "no-store"
    pair = r.json()
    assert pair["token_type"] == "Bearer"
    assert browser.cookie(APP, OAUTH_COOKIE) is None, "the state cookie is cleared"

    r = client.get("/me", headers=bearer(pair["access_token"]))
    assert r.status_code == 200, r.text
    me = r.json()
    assert (me["principal"]["amr"], me["principal"]["aal"]) == (["fed"], 1)
    assert me["user"]["email"] == "newcomer@example.org"
    assert me["user"]["email_verified_at"] is not None
    r = client.get("/me/identities", headers=bearer(pair["access_token"]))
    assert r.status_code == 200, r.text
    [identity] = r.json()
    assert (identity["provider"], identity["subject"]) == ("corp", "newcomer@example.org")

    # Signing in again finds the same account.
    again = sign_in(browser, "newcomer@example.org").json()
    r = client.get("/me", headers=bearer(again["access_token"]))
    assert r.json()["user"]["id"] == me["user"]["id"]
    # An account made by a provider keeps its only way in.
    r = client.delete("/me/identities/corp", headers=bearer(pair["access_token"]))
    assert_error(r, 422, "validation_error")


def test_an_existing_account_answers_409_and_how_to_link(
    client: TestClient, browser: Browser
) -> None:
    # An address that is not verified is no proof: the provider may not
    # take the account over.
    register(client, "taken", "taken@example.org")
    r = sign_in(browser, "taken@example.org")
    error = assert_error(r, 409, "account_exists")
    assert "corp" in error["message"]
    assert "POST /auth/corp/link" in r.json()["hint"]
    assert browser.cookie(APP, OAUTH_COOKIE) is None


def test_a_signed_in_user_links_and_unlinks(client: TestClient, browser: Browser) -> None:
    reg = register(client, "alice")
    token = reg["tokens"]["access_token"]
    assert_error(client.post("/auth/corp/link"), 401, "token_invalid")
    _, r = browser.browse(
        f"{APP}/auth/corp/link", "alice-at-work@example.org", method="POST", headers=bearer(token)
    )
    assert r is not None and r.status_code == 200, r and r.text
    assert r.json() == {"linked": True, "provider": "corp", "user_id": reg["user"]["id"]}
    [identity] = client.get("/me/identities", headers=bearer(token)).json()
    assert identity["email"] == "alice-at-work@example.org"

    # The provider now signs alice in.
    pair = sign_in(browser, "alice-at-work@example.org").json()
    me = client.get("/me", headers=bearer(pair["access_token"])).json()
    assert me["user"]["id"] == reg["user"]["id"]

    r = client.delete("/me/identities/corp", headers=bearer(token))
    assert r.status_code == 204, r.text
    assert client.get("/me/identities", headers=bearer(token)).json() == []
    assert_error(client.delete("/me/identities/corp", headers=bearer(token)), 404, "not_found")


def test_an_account_with_a_second_factor_gets_the_code_step(
    client: TestClient, browser: Browser
) -> None:
    first = sign_in(browser, "careful@example.org").json()
    authenticator, confirmed_at, _ = enrol(client, first["access_token"])
    r = sign_in(browser, "careful@example.org")
    assert r.status_code == 200, r.text
    assert r.json()["mfa_required"] is True
    assert "access_token" not in r.json()
    # The pending login is in the code step's cookie: post the code there.
    code = authenticator.at(confirmed_at + 30)
    r = browser.request("POST", f"{APP}/login/mfa", {"method": "totp", "code": code})
    assert r.status_code == 200, r.text
    me = client.get("/me", headers=bearer(r.json()["access_token"])).json()
    assert sorted(me["principal"]["amr"]) == ["fed", "otp"]


def test_a_cancelled_sign_in_and_a_foreign_callback_are_refused(
    client: TestClient, browser: Browser
) -> None:
    _, r = browser.browse(f"{APP}/auth/corp", cancel=True)
    assert r is not None
    error = assert_error(r, 400, "oauth_provider_error")
    assert "access_denied" in error["message"]

    # A callback this browser did not start (another's, or a forged link):
    # it carries no state cookie here, and is refused.
    callback, none = browser.browse(f"{APP}/auth/corp", "victim@example.org", stop_at=CALLBACK)
    assert none is None
    with Browser({"testserver": client}) as other:
        _, r = other.browse(callback)
        assert r is not None
        assert_error(r, 400, "oauth_state_invalid")
    # The browser that started it still signs in, once.
    _, r = browser.browse(callback)
    assert r is not None and r.status_code == 200, r and r.text
    assert "access_token" in r.json()
    _, r = browser.browse(callback)
    assert r is not None
    assert_error(r, 400, "oauth_state_invalid")


def test_the_environment_configures_the_providers(monkeypatch: pytest.MonkeyPatch) -> None:
    from .app import config_from_env

    monkeypatch.setenv(
        "DOORWARD_OAUTH_PROVIDERS",
        '[{"id": "corp", "issuer": "https://login.example.com", "client_id": "x"}]',
    )
    config = config_from_env()
    assert config["oauth_providers"][0]["id"] == "corp"
    dw = doorward.Doorward({**config, "database_url": "memory://"})
    assert [p.id for p in dw.oauth.providers()] == ["corp"]


def test_a_form_post_callback(client: TestClient, browser: Browser) -> None:
    callback, none = browser.browse(f"{APP}/auth/corp", "poster@example.org", stop_at=CALLBACK)
    assert none is None
    # The parameters posted as a form, as Apple sends them (response_mode
    # form_post): a cross-site POST, which brings no SameSite=Lax cookie.
    client.cookies.clear()
    r = client.post(
        CALLBACK,
        content=callback.split("?", 1)[1],
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 200, r.text
    assert "access_token" in r.json()

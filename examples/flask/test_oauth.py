"""The Flask example's sign-in with a provider, through the whole redirect
dance over real HTTP: the app served by werkzeug on a free port, the test
OpenID provider (``tests/oidc``) on its own, and a browser
(``oidc_browser.Browser``) going from one to the other with cookies per
host and port."""

import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Callable, Optional

import httpx
import pyotp
import pytest
from flask import Flask
from werkzeug.serving import make_server

import doorward
from doorward.flask import doorward_instance

from ..oidc_browser import Browser, issuer
from .app import OAUTH_COOKIE, create_app
from .test_app import PASSWORD, SECRET, bearer

WsgiStart = Callable[..., Any]


class Later:
    """A WSGI application set after the server is bound: the app's callback
    URL (and so its provider's configuration) needs the server's port."""

    def __init__(self) -> None:
        self.app: Optional[Flask] = None

    def __call__(self, environ: dict[str, Any], start_response: WsgiStart) -> Iterable[bytes]:
        assert self.app is not None
        return self.app(environ, start_response)


class Served:
    """The app at ``url`` and its own doorward."""

    def __init__(self, url: str, app: Flask) -> None:
        self.url = url
        self.app = app
        self.callback = f"{url}/auth/corp/callback"

    @property
    def dw(self) -> doorward.Doorward:
        with self.app.app_context():
            return doorward_instance()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    later = Later()
    server = make_server("127.0.0.1", 0, later, threaded=True)
    try:
        url = f"http://127.0.0.1:{server.server_port}"
        callback = f"{url}/auth/corp/callback"
        issuer_url, _ = issuer(
            [{"client_id": "example", "client_secret": "a-secret", "redirect_uris": [callback]}]
        )
        later.app = create_app(
            {
                "database_url": f"sqlite://{tmp_path / 'auth.db'}",
                "jwt_secret": SECRET,
                "argon2_memory_kib": 64,
                "argon2_iterations": 1,
                "verify_email_on_register": False,
                "oauth_providers": [
                    {
                        "id": "corp",
                        "issuer": issuer_url,
                        "client_id": "example",
                        "client_secret": "a-secret",
                    }
                ],
            }
        )
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield Served(url, later.app)
        finally:
            server.shutdown()
            thread.join()
    finally:
        server.server_close()


@pytest.fixture
def browser() -> Iterator[Browser]:
    with Browser() as browser:
        yield browser


def dance(
    served: Served, browser: Browser, account: Optional[str] = None, cancel: bool = False
) -> httpx.Response:
    """From the app's ``/auth/corp`` through the provider's page and back to
    the app's callback: its answer."""
    url, response = browser.browse(f"{served.url}/auth/corp", account, cancel=cancel)
    assert response is not None
    assert url.startswith(f"{served.callback}?"), url
    return response


def error_of(r: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    error: dict[str, Any] = r.json()["error"]
    assert error["code"] == code
    return error


def me(served: Served, browser: Browser, token: str) -> dict[str, Any]:
    r = browser.request("GET", f"{served.url}/me", headers=bearer(token))
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def test_a_new_user_signs_up_through_the_provider(served: Served, browser: Browser) -> None:
    first = browser.request("GET", f"{served.url}/auth/corp")
    assert first.status_code == 302
    cookie = first.headers["Set-Cookie"]
    for attribute in ("HttpOnly", "Max-Age=600", "Path=/auth", "SameSite=Lax"):
        assert attribute in cookie, cookie

    r = dance(served, browser, "newcomer@example.org")
    assert r.status_code == 200, r.text
    assert r.headers["Cache-Control"] == "no-store"
    assert browser.cookie(served.url, OAUTH_COOKIE) is None, "the state cookie is cleared"
    pair = r.json()
    who = me(served, browser, pair["access_token"])
    assert (who["principal"]["amr"], who["principal"]["aal"]) == (["fed"], 1)
    assert who["user"]["email"] == "newcomer@example.org"
    r = browser.request("GET", f"{served.url}/me/identities", headers=bearer(pair["access_token"]))
    [identity] = r.json()
    assert (identity["provider"], identity["email_verified"]) == ("corp", True)
    assert "T" in identity["created_at"]
    assert browser.request("GET", f"{served.url}/auth").json() == [
        {"id": "corp", "name": "corp", "kind": "oidc"}
    ]


def test_an_existing_account_gets_a_409_page_saying_how_to_link(
    served: Served, browser: Browser
) -> None:
    served.dw.users.create("taken", "taken@example.org", PASSWORD)  # not verified
    r = dance(served, browser, "taken@example.org")
    assert r.status_code == 409, r.text
    assert r.headers["Content-Type"].startswith("text/html")
    assert "Sign in with your password" in r.text
    assert "POST /auth/corp/link" in r.text
    assert browser.cookie(served.url, OAUTH_COOKIE) is None


def test_a_signed_in_user_links_and_unlinks(served: Served, browser: Browser) -> None:
    user = served.dw.users.create("alice", "alice@example.com", PASSWORD)
    token = served.dw.issue_tokens(user.id).access_token
    _, r = browser.browse(
        f"{served.url}/auth/corp/link",
        "alice-at-work@example.org",
        method="POST",
        headers=bearer(token),
    )
    assert r is not None and r.status_code == 200, r and r.text
    assert r.json() == {"linked": True, "provider": "corp", "user_id": user.id}
    # The provider now signs alice in.
    pair = dance(served, browser, "alice-at-work@example.org").json()
    assert me(served, browser, pair["access_token"])["user"]["id"] == user.id

    r = browser.request("DELETE", f"{served.url}/me/identities/corp", headers=bearer(token))
    assert r.status_code == 204, r.text
    assert served.dw.users.identities(user.id) == []


def test_an_account_with_a_second_factor_gets_the_code_step(
    served: Served, browser: Browser
) -> None:
    first = dance(served, browser, "careful@example.org").json()
    user_id = me(served, browser, first["access_token"])["user"]["id"]
    authenticator = pyotp.TOTP(served.dw.mfa.start_totp(user_id).secret)
    confirmed_at = time.time()
    served.dw.mfa.confirm_totp(user_id, authenticator.at(confirmed_at))
    r = dance(served, browser, "careful@example.org")
    assert r.status_code == 200, r.text
    assert r.json()["mfa_required"] is True
    assert "access_token" not in r.json()
    # The pending login is in the code step's cookie: post the code there
    # (the next step's: the one that confirmed the app is spent).
    code = authenticator.at(confirmed_at + 30)
    r = browser.request("POST", f"{served.url}/login/mfa", {"method": "totp", "code": code})
    assert r.status_code == 200, r.text
    who = me(served, browser, r.json()["access_token"])
    assert sorted(who["principal"]["amr"]) == ["fed", "otp"]


def test_a_cancelled_sign_in_is_answered_by_the_error_handler(
    served: Served, browser: Browser
) -> None:
    r = dance(served, browser, cancel=True)
    error = error_of(r, 400, "oauth_provider_error")
    assert "access_denied" in error["message"]
    assert browser.cookie(served.url, OAUTH_COOKIE) is None, "cleared on errors too"


def test_a_form_post_callback_and_a_foreign_browser(served: Served, browser: Browser) -> None:
    callback, none = browser.browse(
        f"{served.url}/auth/corp", "poster@example.org", stop_at=served.callback
    )
    assert none is None
    # Another browser (no state cookie) is refused, and spends nothing.
    with Browser() as other:
        _, r = other.browse(callback)
        assert r is not None
        error_of(r, 400, "oauth_state_invalid")
    # The parameters posted as a form, as Apple sends them (response_mode
    # form_post): a cross-site POST, which brings no SameSite=Lax cookie.
    query = callback.split("?", 1)[1]
    r = httpx.post(
        served.callback,
        content=query,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 200, r.text
    assert "access_token" in r.json()
    # Spent.
    _, r = browser.browse(callback)
    assert r is not None
    error_of(r, 400, "oauth_state_invalid")

"""The FastAPI example's account pages over HTTP, with doorward's mails
going through SMTP to a local aiosmtpd server and read back from it."""

import time
import warnings
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pyotp
import pytest
from fastapi import FastAPI

import doorward

from ..smtp_inbox import APP_URL, Inbox, Mail, hidden
from .app import create_app

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

PASSWORD = "correct horse battery"
NEW_PASSWORD = "a brand new passphrase"


@pytest.fixture
def app(tmp_path: Path, smtp: tuple[Inbox, int]) -> FastAPI:
    return create_app(
        {
            "database_url": f"sqlite://{tmp_path / 'auth.db'}",
            "jwt_secret": "test-secret-test-secret-test-secret!",
            "argon2_memory_kib": 64,
            "argon2_iterations": 1,
            "mail_url": f"smtp://127.0.0.1:{smtp[1]}",
            "app_url": APP_URL,
            "welcome_mail": False,
            "events_poll_interval_ms": 20,
        }
    )


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as client:
        yield client


def receive(app: FastAPI, client: TestClient, inbox: Inbox, subject: str, to: str) -> EmailMessage:
    """The mail once doorward's outbox has sent it (flushed on the app's loop)."""
    dw: doorward.AsyncDoorward = app.state.doorward
    assert client.portal is not None
    deadline = time.monotonic() + 10
    while True:
        for message in inbox.messages:
            if message["Subject"] == subject and message["To"] == to:
                inbox.messages.remove(message)
                return message
        assert time.monotonic() < deadline, f"no {subject!r} for {to} within 10 s"
        client.portal.call(dw.events.flush)
        time.sleep(0.02)


def register(client: TestClient, name: str) -> dict[str, Any]:
    r = client.post(
        "/register",
        json={"username": name, "email": f"{name}@example.com", "password": PASSWORD},
    )
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


def test_a_scanner_opening_the_link_does_not_use_it_up(
    app: FastAPI, client: TestClient, smtp: tuple[Inbox, int]
) -> None:
    reg = register(client, "ann")
    mail = Mail(receive(app, client, smtp[0], "Confirm your email address", "ann@example.com"))
    # A mail scanner follows the link, twice; the user then opens it too.
    for _ in range(3):
        r = client.get(mail.link)
        assert r.status_code == 200
        assert "Confirm my address" in r.text
    # The link's page holds its secret: never cached, never sent on as a Referer.
    assert r.headers["Cache-Control"] == "no-store"
    assert r.headers["Referrer-Policy"] == "no-referrer"
    r = client.post(
        "/verify", data={"flow": hidden(r.text, "flow"), "secret": hidden(r.text, "secret")}
    )
    assert r.status_code == 200, r.text
    assert "Your email address is verified." in r.text
    me = client.get("/me", headers={"Authorization": f"Bearer {reg['tokens']['access_token']}"})
    assert me.json()["user"]["email_verified_at"] is not None
    # Used: posting it again is the core's flow_invalid, as a page.
    again = client.post("/verify", data={"flow": mail.flow_id, "code": mail.code})
    assert again.status_code == 400
    assert "already used" in again.text


def test_forgot_then_reset_with_the_code(
    app: FastAPI, client: TestClient, smtp: tuple[Inbox, int]
) -> None:
    register(client, "bob")
    smtp[0].messages.clear()
    page = client.post("/forgot", data={"email": "bob@example.com"})
    assert page.status_code == 200
    assert "If an account uses this address" in page.text
    mail = Mail(receive(app, client, smtp[0], "Reset your password", "bob@example.com"))
    assert hidden(page.text, "flow") == mail.flow_id
    wrong = client.post(
        "/reset", data={"flow": mail.flow_id, "code": "000000", "password": NEW_PASSWORD}
    )
    assert wrong.status_code == 400
    assert "4 attempts left" in wrong.text
    r = client.post(
        "/reset", data={"flow": mail.flow_id, "code": mail.code, "password": NEW_PASSWORD}
    )
    assert r.status_code == 200, r.text
    assert client.post("/login", json={"login": "bob", "password": NEW_PASSWORD}).status_code == 200
    assert client.post("/login", json={"login": "bob", "password": PASSWORD}).status_code == 401
    # An unknown address gets the same page, and no mail.
    other = client.post("/forgot", data={"email": "nobody@example.com"})
    assert other.status_code == 200
    assert other.text.replace(hidden(other.text, "flow"), "F") == page.text.replace(
        mail.flow_id, "F"
    )
    client.portal.call(app.state.doorward.events.flush)  # type: ignore[union-attr]
    assert all(m["To"] != "nobody@example.com" for m in smtp[0].messages)


def test_reset_by_the_link_page(app: FastAPI, client: TestClient, smtp: tuple[Inbox, int]) -> None:
    register(client, "cyd")
    client.post("/forgot", data={"email": "cyd@example.com"})
    mail = Mail(receive(app, client, smtp[0], "Reset your password", "cyd@example.com"))
    form = client.get(mail.link)
    assert form.status_code == 200 and "type='password'" in form.text
    r = client.post(
        "/reset",
        data={
            "flow": hidden(form.text, "flow"),
            "secret": hidden(form.text, "secret"),
            "password": NEW_PASSWORD,
        },
    )
    assert r.status_code == 200, r.text
    assert client.post("/login", json={"login": "cyd", "password": NEW_PASSWORD}).status_code == 200


def test_sign_in_by_email(app: FastAPI, client: TestClient, smtp: tuple[Inbox, int]) -> None:
    register(client, "dina")
    page = client.post("/sign-in/email", data={"email": "dina@example.com"})
    assert page.status_code == 200 and "name='code'" in page.text
    mail = Mail(receive(app, client, smtp[0], "Your sign-in link", "dina@example.com"))
    confirm = client.get(mail.link)  # a scanner, or the user: nothing is spent
    assert confirm.status_code == 200
    r = client.post(
        "/sign-in/email/complete",
        data={"flow": hidden(confirm.text, "flow"), "secret": hidden(confirm.text, "secret")},
    )
    assert r.status_code == 200, r.text
    me = client.get("/me", headers={"Authorization": f"Bearer {r.json()['access_token']}"})
    assert me.json()["user"]["username"] == "dina"


def test_sign_in_by_email_asks_for_the_second_factor(
    app: FastAPI, client: TestClient, smtp: tuple[Inbox, int]
) -> None:
    user_id = register(client, "fred")["user"]["id"]
    dw: doorward.AsyncDoorward = app.state.doorward
    assert client.portal is not None
    enrolment = client.portal.call(dw.mfa.start_totp, user_id)
    authenticator = pyotp.TOTP(enrolment.secret)
    confirmed_at = time.time()
    client.portal.call(dw.mfa.confirm_totp, user_id, authenticator.at(confirmed_at))

    client.post("/sign-in/email", data={"email": "fred@example.com"})
    mail = Mail(receive(app, client, smtp[0], "Your sign-in link", "fred@example.com"))
    r = client.post("/sign-in/email/complete", data={"flow": mail.flow_id, "code": mail.code})
    # The mailed code was right: the code form, and the pending login in a cookie.
    assert r.status_code == 200, r.text
    assert "name='code'" in r.text and "access_token" not in r.text
    assert "HttpOnly" in r.headers["Set-Cookie"]
    r = client.post(
        "/login/mfa", data={"method": "totp", "code": authenticator.at(confirmed_at + 30)}
    )
    assert r.status_code == 200, r.text
    me = client.get("/me", headers={"Authorization": f"Bearer {r.json()['access_token']}"})
    # A mailbox and a code: level 1 (NIST does not count email).
    assert (me.json()["principal"]["amr"], me.json()["principal"]["aal"]) == (["email", "otp"], 1)


def test_change_the_address(app: FastAPI, client: TestClient, smtp: tuple[Inbox, int]) -> None:
    reg = register(client, "eddy")
    auth = {"Authorization": f"Bearer {reg['tokens']['access_token']}"}
    r = client.post(
        "/me/email", json={"new_email": "eddy@new.example", "password": PASSWORD}, headers=auth
    )
    assert r.status_code == 202, r.text
    mail = Mail(receive(app, client, smtp[0], "Confirm your new email address", "eddy@new.example"))
    assert mail.flow_id == r.json()["flow_id"]
    receive(app, client, smtp[0], "Your email address is being changed", "eddy@example.com")
    done = client.post("/email-change", data={"flow": mail.flow_id, "code": mail.code})
    assert done.status_code == 200, done.text
    assert "eddy@new.example" in done.text
    assert client.get("/me", headers=auth).json()["user"]["email"] == "eddy@new.example"

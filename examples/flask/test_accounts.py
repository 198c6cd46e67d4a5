"""The Flask example's account pages over HTTP, with doorward's mails going
through SMTP to a local aiosmtpd server and read back from it."""

import time
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient

from doorward.flask import doorward_instance

from ..smtp_inbox import APP_URL, Inbox, Mail, hidden
from .app import create_app

PASSWORD = "correct horse battery"
NEW_PASSWORD = "a brand new passphrase"


@pytest.fixture
def app(tmp_path: Path, smtp: tuple[Inbox, int]) -> Flask:
    app = create_app(
        {
            "database_url": f"sqlite://{tmp_path / 'auth.db'}",
            "jwt_secret": "test-secret-test-secret-test-secret!",
            "argon2_memory_kib": 64,
            "argon2_iterations": 1,
            "mail_url": f"smtp://127.0.0.1:{smtp[1]}",
            "app_url": APP_URL,
            "welcome_mail": False,
        }
    )
    app.testing = True
    return app


@pytest.fixture
def client(app: Flask) -> Iterator[FlaskClient]:
    with app.test_client() as client:
        yield client


def receive(app: Flask, inbox: Inbox, subject: str, to: str) -> EmailMessage:
    """The mail once doorward's outbox has sent it."""
    deadline = time.monotonic() + 10
    while True:
        for message in inbox.messages:
            if message["Subject"] == subject and message["To"] == to:
                inbox.messages.remove(message)
                return message
        assert time.monotonic() < deadline, f"no {subject!r} for {to} within 10 s"
        with app.app_context():
            doorward_instance().events.flush()
        time.sleep(0.02)


def register(client: FlaskClient, name: str) -> dict[str, Any]:
    r = client.post(
        "/register",
        json={"username": name, "email": f"{name}@example.com", "password": PASSWORD},
    )
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.get_json()
    return body


def test_a_scanner_opening_the_link_does_not_use_it_up(
    app: Flask, client: FlaskClient, smtp: tuple[Inbox, int]
) -> None:
    reg = register(client, "ann")
    mail = Mail(receive(app, smtp[0], "Confirm your email address", "ann@example.com"))
    for _ in range(3):  # a scanner, twice, then the user
        r = client.get(mail.link)
        assert r.status_code == 200 and "Confirm my address" in r.text
    # The link's page holds its secret: never cached, never sent on as a Referer.
    assert r.headers["Cache-Control"] == "no-store"
    assert r.headers["Referrer-Policy"] == "no-referrer"
    r = client.post(
        "/verify", data={"flow": hidden(r.text, "flow"), "secret": hidden(r.text, "secret")}
    )
    assert r.status_code == 200, r.text
    assert "Your email address is verified." in r.text
    me = client.get("/me", headers={"Authorization": f"Bearer {reg['tokens']['access_token']}"})
    assert me.get_json()["user"]["email_verified_at"] is not None
    again = client.post("/verify", data={"flow": mail.flow_id, "code": mail.code})
    assert again.status_code == 400 and "already used" in again.text


def test_forgot_then_reset(app: Flask, client: FlaskClient, smtp: tuple[Inbox, int]) -> None:
    register(client, "bob")
    page = client.post("/forgot", data={"email": "bob@example.com"})
    assert page.status_code == 200
    mail = Mail(receive(app, smtp[0], "Reset your password", "bob@example.com"))
    assert hidden(page.text, "flow") == mail.flow_id
    wrong = client.post("/reset", data={"flow": mail.flow_id, "code": "000000", "password": "x"})
    assert wrong.status_code == 422, "a weak password is refused before the code is tried"
    form = client.get(mail.link)  # the link's page posts its secret
    assert "type='password'" in form.text
    r = client.post(
        "/reset",
        data={
            "flow": hidden(form.text, "flow"),
            "secret": hidden(form.text, "secret"),
            "password": NEW_PASSWORD,
        },
    )
    assert r.status_code == 200, r.text
    assert client.post("/login", json={"login": "bob", "password": NEW_PASSWORD}).status_code == 200
    # Asking again within a minute is the cooldown's 429.
    again = client.post("/forgot", data={"email": "bob@example.com"})
    assert again.status_code == 429, again.text
    # An unknown address gets the same page, and no mail.
    other = client.post("/forgot", data={"email": "nobody@example.com"})
    assert other.text.replace(hidden(other.text, "flow"), "F") == page.text.replace(
        mail.flow_id, "F"
    )
    with app.app_context():
        doorward_instance().events.flush()
    assert all(m["To"] != "nobody@example.com" for m in smtp[0].messages)


def test_sign_in_and_change_the_address(
    app: Flask, client: FlaskClient, smtp: tuple[Inbox, int]
) -> None:
    reg = register(client, "cyd")
    page = client.post("/sign-in/email", data={"email": "cyd@example.com"})
    assert "name='code'" in page.text
    mail = Mail(receive(app, smtp[0], "Your sign-in link", "cyd@example.com"))
    r = client.post("/sign-in/email/complete", data={"flow": mail.flow_id, "code": mail.code})
    assert r.status_code == 200, r.text
    assert r.get_json()["token_type"] == "Bearer"

    auth = {"Authorization": f"Bearer {reg['tokens']['access_token']}"}
    started = client.post(
        "/me/email", json={"new_email": "cyd@new.example", "password": PASSWORD}, headers=auth
    )
    assert started.status_code == 202, started.text
    change = Mail(receive(app, smtp[0], "Confirm your new email address", "cyd@new.example"))
    confirm = client.get(change.link)
    done = client.post(
        "/email-change",
        data={"flow": hidden(confirm.text, "flow"), "secret": hidden(confirm.text, "secret")},
    )
    assert done.status_code == 200 and "cyd@new.example" in done.text
    assert client.get("/me", headers=auth).get_json()["user"]["email"] == "cyd@new.example"


def test_sign_in_by_email_asks_for_the_second_factor(
    app: Flask, client: FlaskClient, smtp: tuple[Inbox, int]
) -> None:
    user_id = register(client, "fred")["user"]["id"]
    with app.app_context():
        enrolment = doorward_instance().mfa.start_totp(user_id)
        authenticator = pyotp.TOTP(enrolment.secret)
        confirmed_at = time.time()
        doorward_instance().mfa.confirm_totp(user_id, authenticator.at(confirmed_at))
    client.post("/sign-in/email", data={"email": "fred@example.com"})
    mail = Mail(receive(app, smtp[0], "Your sign-in link", "fred@example.com"))
    r = client.post("/sign-in/email/complete", data={"flow": mail.flow_id, "code": mail.code})
    # The mailed code was right: the code form, and the pending login in a cookie.
    assert r.status_code == 200, r.text
    assert "name='code'" in r.text and "access_token" not in r.text
    assert "HttpOnly" in r.headers["Set-Cookie"]
    code = authenticator.at(confirmed_at + 30)
    r = client.post("/login/mfa", data={"method": "totp", "code": code})
    assert r.status_code == 200, r.text
    assert r.get_json()["token_type"] == "Bearer"

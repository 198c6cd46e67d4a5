"""`dw.mail` on both clients: the in-memory mailer, the welcome mail, and
the welcome mail over SMTP to a local aiosmtpd server, also when that
server only comes up after the registration."""

from __future__ import annotations

import asyncio
import time
from email.message import EmailMessage
from typing import Any, Callable

import pytest
from conftest import PASSWORD, Client, Opener, resolve
from smtp_sink import Sink

import doorward

#: The welcome mail alone: registration's verification mail has its tests in
#: test_flows.py.
MEMORY: dict[str, Any] = {"mail_url": "memory://", "verify_email_on_register": False}
#: Retries due quickly, so a test only has to flush again.
FAST_RETRY: dict[str, Any] = {"events_retry_base_ms": 20, "events_retry_max_secs": 1}


async def flush_until(client: Client, done: Callable[[], bool]) -> None:
    """Flush until `done()`, for at most 10 s: `flush` does not wait for a
    retry's backoff, hence the short pause between rounds."""
    deadline = time.monotonic() + 10
    while not done():
        assert time.monotonic() < deadline, "no mail within 10 s"
        await resolve(client.events.flush())
        await asyncio.sleep(0.02)


async def test_registration_sends_the_welcome_mail(make: Opener) -> None:
    client = make(**MEMORY)
    await resolve(client.register_user("john", "john@example.com", PASSWORD))
    await resolve(client.events.flush())

    sent = client.mail.sent()
    assert len(sent) == 1
    message = sent[0]
    assert isinstance(message, doorward.Message)
    assert (message.to, message.subject) == ("john@example.com", "Welcome, john")
    assert "john" in message.text
    assert message.from_ == "doorward <noreply@localhost>"
    assert "john@example.com" not in repr(message)
    assert "Welcome, john" in repr(message)


async def test_the_welcome_subject_and_text_come_from_the_config(make: Opener) -> None:
    client = make(
        **MEMORY,
        mail_from="Example <hello@example.com>",
        welcome_subject="Hi {username}",
        welcome_text="Your id is {user_id}.",
    )
    reg = await resolve(client.register_user("jane", "jane@example.com", PASSWORD))
    await resolve(client.events.flush())

    [message] = client.mail.sent()
    assert (message.subject, message.text) == ("Hi jane", f"Your id is {reg.user.id}.")
    assert message.from_ == "Example <hello@example.com>"


async def test_no_welcome_mail_when_it_is_off(make: Opener) -> None:
    client = make(**MEMORY, welcome_mail=False)
    await resolve(client.register_user("john", "john@example.com", PASSWORD))
    await resolve(client.events.flush())
    assert client.mail.sent() == []


async def test_send_goes_through_the_mailer_now(make: Opener) -> None:
    client = make(**MEMORY)
    await resolve(client.mail.send("ann@example.com", "Report", "All good."))
    [message] = client.mail.sent()
    assert (message.to, message.subject, message.text) == (
        "ann@example.com",
        "Report",
        "All good.",
    )


async def test_send_without_a_mailer_is_a_config_error(client: Client) -> None:
    with pytest.raises(doorward.ConfigError) as raised:
        await resolve(client.mail.send("ann@example.com", "Report", "All good."))
    assert raised.value.code == "config_error"
    with pytest.raises(doorward.ConfigError):
        client.mail.sent()


# --- SMTP -------------------------------------------------------------------


def smtp_client(make: Opener, port: int) -> Client:
    return make(
        mail_url=f"smtp://127.0.0.1:{port}",
        mail_timeout_ms=2000,
        verify_email_on_register=False,
        **FAST_RETRY,
    )


def check_welcome(message: EmailMessage) -> None:
    assert message["To"] == "john@example.com"
    assert message["Subject"] == "Welcome, john"
    body = message.get_content()
    assert isinstance(body, str)
    assert "Hello john" in body
    assert "john@example.com" in body


async def test_the_welcome_mail_reaches_an_smtp_server(
    make: Opener, sink_port: int, start_sink: Callable[[], Sink]
) -> None:
    sink = start_sink()
    client = smtp_client(make, sink_port)
    await resolve(client.register_user("john", "john@example.com", PASSWORD))
    await flush_until(client, lambda: len(sink.messages) > 0)

    [message] = sink.messages
    check_welcome(message)
    with pytest.raises(doorward.ConfigError):
        client.mail.sent()


async def test_registration_succeeds_while_the_smtp_server_is_down(
    make: Opener, sink_port: int, start_sink: Callable[[], Sink]
) -> None:
    client = smtp_client(make, sink_port)
    reg = await resolve(client.register_user("john", "john@example.com", PASSWORD))
    assert reg.user.username == "john"
    # Nothing listens yet: the attempt fails and is retried later.
    await resolve(client.events.flush())

    sink = start_sink()
    await flush_until(client, lambda: len(sink.messages) > 0)
    [message] = sink.messages
    check_welcome(message)

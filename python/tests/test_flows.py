"""The account flows on both clients: verification, password reset,
sign-in by email and email change, with their mails read back (from the
in-memory mailer, and from a local aiosmtpd server over real SMTP), the
attempt cap, the same answer for an unknown address, and the login refusal
of an unverified account."""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any, Callable, Optional

import pytest
from conftest import PASSWORD, Client, Opener, resolve, signed_in
from smtp_sink import Sink

import doorward
from doorward.web import http_status

APP = "https://app.example.com"
#: Mails kept in memory, links under APP, and no cooldown: the tests ask again at once.
FLOWS: dict[str, Any] = {
    "mail_url": "memory://",
    "app_url": APP,
    "flow_resend_cooldown": 0,
    "welcome_mail": False,
    "events_poll_interval_ms": 20,
}
NEW_PASSWORD = "a brand new passphrase"


class Mailed:
    """What a user reads in an account mail: its link's flow id and secret,
    and its code."""

    def __init__(self, text: str) -> None:
        link = re.search(re.escape(APP) + r"(/[\w/-]*)\?flow=([\w-]+)&secret=([\w-]+)", text)
        code = re.search(r"\b(\d{6,8})\b", text)
        assert link and code, text
        self.path, self.flow_id, self.secret = link.groups()
        self.code = code.group(1)


async def mail_for(client: Client, flow_id: Optional[str], subject: str) -> Mailed:
    """The mail of `flow_id` (or the newest with `subject`), flushing the
    outbox until it is there."""
    deadline = time.monotonic() + 10

    def find() -> Optional[doorward.Message]:
        for message in reversed(client.mail.sent()):
            if message.subject == subject and (
                flow_id is None or f"flow={flow_id}&" in message.text
            ):
                return message
        return None

    while (found := find()) is None:
        assert time.monotonic() < deadline, f"no {subject!r} mail within 10 s"
        await resolve(client.events.flush())
        await asyncio.sleep(0.02)
    return Mailed(found.text)


async def test_registration_mails_a_verification_the_code_completes(make: Opener) -> None:
    client = make(**FLOWS)
    reg = await resolve(client.register_user("ann", "ann@example.com", PASSWORD))
    assert reg.user.email_verified_at is None
    mailed = await mail_for(client, None, "Confirm your email address")
    assert mailed.path == "/verify"
    user = await resolve(client.verify_email(mailed.flow_id, mailed.code))
    assert isinstance(user, doorward.User)
    assert user.email_verified_at is not None
    assert user.to_dict()["email_verified_at"] == user.email_verified_at
    # The link of the same mail is used up with it.
    with pytest.raises(doorward.FlowInvalidError) as raised:
        await resolve(client.verify_email(mailed.flow_id, mailed.secret))
    assert raised.value.code == "flow_invalid"
    with pytest.raises(doorward.ValidationError) as again:
        await resolve(client.request_email_verification(reg.user.id))
    assert again.value.field == "email"


async def test_a_reset_by_link_ends_every_session(make: Opener) -> None:
    client = make(**FLOWS, verify_email_on_register=False)
    reg = await resolve(client.register_user("bob", "bob@example.com", PASSWORD))
    started = await resolve(client.request_password_reset("bob@example.com"))
    assert isinstance(started, doorward.FlowStarted)
    assert started.expires_in == 3600
    assert repr(started) == f"FlowStarted(flow_id='{started.flow_id}', expires_in=3600)"
    mailed = await mail_for(client, started.flow_id, "Reset your password")
    assert mailed.path == "/reset"
    with pytest.raises(doorward.ValidationError):
        await resolve(client.reset_password(started.flow_id, mailed.secret, "bob"))
    await resolve(client.reset_password(started.flow_id, mailed.secret, NEW_PASSWORD))
    with pytest.raises(doorward.TokenRevokedError):
        await resolve(client.verify_token(reg.tokens.access_token))
    with pytest.raises(doorward.InvalidCredentialsError):
        await resolve(client.login("bob", PASSWORD))
    await resolve(client.login("bob", NEW_PASSWORD))
    assert (await resolve(client.users.get(reg.user.id))).email_verified_at is not None


async def test_sign_in_by_email_with_the_link(make: Opener) -> None:
    client = make(**FLOWS, verify_email_on_register=False)
    reg = await resolve(client.register_user("cyd", "cyd@example.com", PASSWORD))
    started = await resolve(
        client.request_sign_in("cyd@example.com", doorward.ClientInfo(ip="203.0.113.5"))
    )
    mailed = await mail_for(client, started.flow_id, "Your sign-in link")
    assert mailed.path == "/sign-in/email"
    tokens = await signed_in(client.complete_sign_in(started.flow_id, mailed.secret))
    assert isinstance(tokens, doorward.TokenPair)
    principal = await resolve(client.verify_token(tokens.access_token))
    assert principal.user_id == reg.user.id


async def test_an_email_change_is_confirmed_from_the_new_address(make: Opener) -> None:
    client = make(**FLOWS, verify_email_on_register=False)
    reg = await resolve(client.register_user("dina", "dina@example.com", PASSWORD))
    with pytest.raises(doorward.InvalidCredentialsError):
        await resolve(client.users.request_email_change(reg.user.id, "d@new.example", "nope nope"))
    started = await resolve(
        client.users.request_email_change(reg.user.id, "d@new.example", PASSWORD)
    )
    mailed = await mail_for(client, started.flow_id, "Confirm your new email address")
    notices = [m for m in client.mail.sent() if m.subject == "Your email address is being changed"]
    assert [m.to for m in notices] == ["dina@example.com"]
    assert (await resolve(client.users.get(reg.user.id))).email == "dina@example.com"
    user = await resolve(client.users.confirm_email_change(started.flow_id, mailed.code))
    assert (user.email, user.email_verified_at is not None) == ("d@new.example", True)


async def test_five_wrong_codes_end_a_flow(make: Opener) -> None:
    client = make(**FLOWS, verify_email_on_register=False)
    await resolve(client.register_user("eddy", "eddy@example.com", PASSWORD))
    started = await resolve(client.request_sign_in("eddy@example.com"))
    mailed = await mail_for(client, started.flow_id, "Your sign-in link")
    for left in (4, 3, 2, 1):
        with pytest.raises(doorward.FlowInvalidError) as raised:
            await resolve(client.complete_sign_in(started.flow_id, "000000"))
        assert f"{left} attempts left" in str(raised.value)
    with pytest.raises(doorward.FlowExpiredError) as dead:
        await resolve(client.complete_sign_in(started.flow_id, "000000"))
    assert dead.value.code == "flow_expired"
    with pytest.raises(doorward.FlowExpiredError):
        await resolve(client.complete_sign_in(started.flow_id, mailed.code))


async def test_an_unknown_address_gets_the_same_answer_and_no_mail(make: Opener) -> None:
    client = make(**FLOWS, verify_email_on_register=False)
    await resolve(client.register_user("fay", "fay@example.com", PASSWORD))
    known = await resolve(client.request_password_reset("fay@example.com"))
    unknown = await resolve(client.request_password_reset("nobody@example.com"))
    assert (known.expires_in, len(known.flow_id)) == (unknown.expires_in, len(unknown.flow_id))
    await mail_for(client, known.flow_id, "Reset your password")
    await resolve(client.events.flush())
    assert [m.to for m in client.mail.sent()] == ["fay@example.com"]
    for flow in (known, unknown):
        with pytest.raises(doorward.FlowInvalidError) as raised:
            await resolve(client.reset_password(flow.flow_id, "123123", NEW_PASSWORD))
        assert "4 attempts left" in str(raised.value)


async def test_an_unverified_account_may_be_refused_at_login(make: Opener) -> None:
    client = make(**FLOWS, verify_email_on_register=False, require_verified_email_for_login=True)
    reg = await resolve(client.register_user("gil", "gil@example.com", PASSWORD))
    with pytest.raises(doorward.InvalidCredentialsError):
        await resolve(client.login("gil", "not the password"))
    with pytest.raises(doorward.EmailNotVerifiedError) as raised:
        await resolve(client.login("gil", PASSWORD))
    assert http_status(raised.value) == 403
    user = await resolve(client.users.mark_email_verified(reg.user.id))
    assert user.email_verified_at is not None
    await resolve(client.login("gil", PASSWORD))


async def test_every_flow_over_smtp(
    make: Opener, sink_port: int, start_sink: Callable[[], Sink]
) -> None:
    """Through a real SMTP exchange: each mail is read back from the server,
    its quoted-printable body decoded, and completed with its link or code."""
    sink = start_sink()
    client = make(**{**FLOWS, "mail_url": f"smtp://127.0.0.1:{sink_port}", "mail_timeout_ms": 2000})

    async def received(subject: str, to: str) -> Mailed:
        deadline = time.monotonic() + 10
        while True:
            for message in sink.messages:
                if message["Subject"] == subject and message["To"] == to:
                    sink.messages.remove(message)
                    body = message.get_content()
                    assert isinstance(body, str)
                    return Mailed(body)
            assert time.monotonic() < deadline, f"no {subject!r} mail within 10 s"
            await resolve(client.events.flush())
            await asyncio.sleep(0.02)

    reg = await resolve(client.register_user("hugh", "hugh@example.com", PASSWORD))
    verify = await received("Confirm your email address", "hugh@example.com")
    await resolve(client.verify_email(verify.flow_id, verify.secret))
    await resolve(client.request_password_reset("hugh@example.com"))
    reset = await received("Reset your password", "hugh@example.com")
    await resolve(client.reset_password(reset.flow_id, reset.code, NEW_PASSWORD))
    await resolve(client.request_sign_in("hugh@example.com"))
    sign_in = await received("Your sign-in link", "hugh@example.com")
    tokens = await signed_in(client.complete_sign_in(sign_in.flow_id, sign_in.secret))
    assert (await resolve(client.verify_token(tokens.access_token))).user_id == reg.user.id
    await resolve(client.users.request_email_change(reg.user.id, "hugh@new.example", NEW_PASSWORD))
    change = await received("Confirm your new email address", "hugh@new.example")
    user = await resolve(client.users.confirm_email_change(change.flow_id, change.code))
    assert user.email == "hugh@new.example"

"""Second factors on both clients: TOTP enrolment and logins that wait for
a code, recovery codes, step-up, the assurance of a principal and the
checks on it, with every code computed by an independent implementation
(pyotp) from the secret doorward shows."""

from __future__ import annotations

import asyncio
import base64
import re
import time

import pyotp
import pytest
from conftest import PASSWORD, Client, Opener, resolve, signed_in
from test_flows import FLOWS, mail_for

import doorward
from doorward.web import error_response

#: A recovery code: two groups of five characters.
RECOVERY_CODE = re.compile(r"^[0-9a-z]{5}-[0-9a-z]{5}$")


def test_pyotp_matches_the_rfc_6238_sha1_vectors() -> None:
    # RFC 6238 Appendix B: the reference secret, eight digits, SHA-1.
    secret = base64.b32encode(b"12345678901234567890").decode()
    authenticator = pyotp.TOTP(secret, digits=8)
    for at, code in [
        (59, "94287082"),
        (1111111109, "07081804"),
        (1234567890, "89005924"),
        (20000000000, "65353130"),
    ]:
        assert authenticator.at(at) == code, f"T = {at}"


async def register(client: Client, name: str) -> doorward.Registration:
    return await resolve(client.register_user(name, f"{name}@example.com", PASSWORD))


async def challenge(client: Client, name: str) -> doorward.MfaChallenge:
    result = await resolve(client.login(name, PASSWORD))
    assert isinstance(result, doorward.MfaChallenge), f"{name} logged in without a code"
    assert result.mfa_required is True
    return result


async def enrol(client: Client, user_id: str) -> tuple[pyotp.TOTP, float, doorward.RecoveryCodes]:
    """Enrol an authenticator app for `user_id`: the app, the moment whose
    code confirmed it (that step is spent), and the recovery codes."""
    enrolment = await resolve(client.mfa.start_totp(user_id))
    authenticator = pyotp.TOTP(enrolment.secret)
    confirmed_at = time.time()
    codes = await resolve(client.mfa.confirm_totp(user_id, authenticator.at(confirmed_at)))
    return authenticator, confirmed_at, codes


async def test_totp_end_to_end(make: Opener) -> None:
    # Every login, code and step-up here spends the account's login quota.
    client = make(rate_limit_login_account="100/1m")
    reg = await register(client, "ann")
    user_id = reg.user.id

    # Enrolment shows the secret three ways.
    enrolment = await resolve(client.mfa.start_totp(user_id))
    assert isinstance(enrolment, doorward.TotpEnrolment)
    assert re.fullmatch(r"[A-Z2-7]{32}", enrolment.secret), "160 bits of base32"
    assert enrolment.uri.startswith("otpauth://totp/doorward:ann?")
    assert f"secret={enrolment.secret}" in enrolment.uri
    assert enrolment.qr_code.startswith("data:image/png;base64,")
    png = base64.b64decode(enrolment.qr_code.split(",", 1)[1])
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    # pyotp reads the URI as an authenticator app does.
    parsed = pyotp.parse_uri(enrolment.uri)
    assert isinstance(parsed, pyotp.TOTP)
    assert (parsed.secret, parsed.issuer, parsed.name) == (enrolment.secret, "doorward", "ann")

    # Pending until confirmed: logins do not change meanwhile.
    await signed_in(client.login("ann", PASSWORD))
    status = await resolve(client.mfa.status(user_id))
    assert (status.enabled, status.totp, status.recovery_codes_left) == (False, False, 0)
    with pytest.raises(doorward.InvalidCredentialsError):
        await resolve(client.mfa.confirm_totp(user_id, "000000"))

    # The first code activates it and brings ten recovery codes.
    authenticator = pyotp.TOTP(enrolment.secret)
    now = time.time()
    confirming = authenticator.at(now)
    recovery = await resolve(client.mfa.confirm_totp(user_id, confirming))
    assert isinstance(recovery, doorward.RecoveryCodes)
    assert len(recovery.codes) == len(set(recovery.codes)) == 10
    assert all(RECOVERY_CODE.match(code) for code in recovery.codes), recovery.codes
    status = await resolve(client.mfa.status(user_id))
    assert isinstance(status, doorward.MfaStatus)
    assert (status.enabled, status.totp, status.recovery_codes_left) == (True, True, 10)
    # A second authenticator waits for the first to be removed.
    with pytest.raises(doorward.ValidationError) as again:
        await resolve(client.mfa.start_totp(user_id))
    assert again.value.field == "totp"

    # Now the password alone gets a challenge, not tokens.
    pending = await challenge(client, "ann")
    assert pending.user_id == user_id
    assert pending.methods == ["totp", "recovery_code"]
    assert pending.enrolment_required is False
    assert pending.expires_in == 300
    # The confirming code's step is spent: the same code is a replay.
    with pytest.raises(doorward.InvalidCredentialsError):
        await resolve(client.complete_mfa(pending.flow_id, "totp", confirming))
    # The wrong code did not spend the login; the next step's code ends it.
    tokens = await resolve(client.complete_mfa(pending.flow_id, "totp", authenticator.at(now + 30)))
    assert isinstance(tokens, doorward.TokenPair)
    assert tokens.mfa_required is False
    principal = await resolve(client.verify_token(tokens.access_token))
    assert (principal.aal, principal.amr) == (2, ["mfa", "otp", "pwd"])
    assert client.require_aal(principal, 2) is None
    assert client.require_recent_auth(principal, 60) is None
    # A pending login is used once.
    with pytest.raises(doorward.FlowInvalidError):
        await resolve(client.complete_mfa(pending.flow_id, "totp", authenticator.at(now + 30)))

    # A recovery code completes one login, and never another.
    first = await challenge(client, "ann")
    by_code = await resolve(client.complete_mfa(first.flow_id, "recovery_code", recovery.codes[0]))
    assert (await resolve(client.verify_token(by_code.access_token))).aal == 2
    second = await challenge(client, "ann")
    with pytest.raises(doorward.InvalidCredentialsError):
        await resolve(client.complete_mfa(second.flow_id, "recovery_code", recovery.codes[0]))

    # A password login without a second factor is level 1: refused where
    # level 2 is required, with the HTTP answer RFC 9470 gives it.
    await register(client, "bob")
    plain = await signed_in(client.login("bob", PASSWORD))
    bob = await resolve(client.verify_token(plain.access_token))
    assert (bob.aal, bob.amr) == (1, ["pwd"])
    with pytest.raises(doorward.StepUpRequiredError) as refused:
        client.require_aal(bob, 2)
    assert refused.value.code == "step_up_required"
    answer = error_response(refused.value)
    assert answer.status == 401
    assert dict(answer.headers)["WWW-Authenticate"] == (
        'Bearer error="insufficient_user_authentication"'
    )
    assert client.require_aal(bob, 1) is None

    # A step-up with the password starts a new session and ends the old one.
    stepped = await resolve(client.step_up(tokens.access_token, "password", PASSWORD))
    assert isinstance(stepped, doorward.TokenPair)
    fresh = await resolve(client.verify_token(stepped.access_token))
    assert fresh.session_id != principal.session_id
    assert (fresh.aal, fresh.amr) == (2, ["mfa", "otp", "pwd"])
    assert fresh.auth_time >= principal.auth_time
    with pytest.raises(doorward.TokenRevokedError):
        await resolve(client.verify_token(tokens.access_token))

    status = await resolve(client.mfa.status(user_id))
    assert (status.enabled, status.totp, status.recovery_codes_left) == (True, True, 9)


async def test_results_hide_their_secrets(client: Client) -> None:
    reg = await register(client, "cyd")
    enrolment = await resolve(client.mfa.start_totp(reg.user.id))
    authenticator = pyotp.TOTP(enrolment.secret)
    recovery = await resolve(client.mfa.confirm_totp(reg.user.id, authenticator.now()))
    pending = await challenge(client, "cyd")
    for text in (repr(enrolment), str(enrolment), repr([enrolment])):
        assert enrolment.secret not in text
        assert enrolment.uri not in text and "otpauth" not in text
        assert enrolment.qr_code[:40] not in text
    for text in (repr(recovery), str(recovery)):
        assert not any(code in text for code in recovery.codes)
        assert "10" in text  # how many, only
    flow_secret = pending.flow_id.split(".", 1)[1]
    for text in (repr(pending), str(pending), repr([pending])):
        assert pending.flow_id not in text
        assert flow_secret not in text
        assert pending.user_id in text
    # Compared and hashed by value, like the other results.
    assert pending == pending and hash(pending) == hash(pending)
    assert len({recovery, recovery}) == 1


async def test_step_up_with_a_code_and_the_fresh_authentication_factor_changes_need(
    make: Opener,
) -> None:
    client = make(fresh_auth_max_age=1)
    reg = await register(client, "dee")
    plain = reg.tokens
    authenticator, confirmed_at, recovery = await enrol(client, reg.user.id)

    # Enrolled after logging in: a step-up with a code reaches level 2.
    with pytest.raises(doorward.ValidationError):
        await resolve(client.step_up(plain.access_token, "sms", "123456"))
    stepped = await resolve(
        client.step_up(plain.access_token, "totp", authenticator.at(confirmed_at + 30))
    )
    assert (await resolve(client.verify_token(stepped.access_token))).aal == 2

    # Once the authentication is older than fresh_auth_max_age, changing
    # factors needs another step-up.
    await asyncio.sleep(2.1)
    stale = await resolve(client.verify_token(stepped.access_token))
    with pytest.raises(doorward.StepUpRequiredError):
        client.require_recent_auth(stale, 1)
    with pytest.raises(doorward.StepUpRequiredError):
        await resolve(client.mfa.disable_totp(stepped.access_token))
    with pytest.raises(doorward.StepUpRequiredError):
        await resolve(client.mfa.regenerate_recovery_codes(stepped.access_token))

    renewed = await resolve(
        client.step_up(stepped.access_token, "recovery_code", recovery.codes[1])
    )
    regenerated = await resolve(client.mfa.regenerate_recovery_codes(renewed.access_token))
    assert len(regenerated.codes) == 10
    assert not set(regenerated.codes) & set(recovery.codes)
    pending = await challenge(client, "dee")
    with pytest.raises(doorward.InvalidCredentialsError):  # the old set is gone
        await resolve(client.complete_mfa(pending.flow_id, "recovery_code", recovery.codes[2]))

    await resolve(client.mfa.disable_totp(renewed.access_token))
    status = await resolve(client.mfa.status(reg.user.id))
    assert (status.enabled, status.totp, status.recovery_codes_left) == (False, False, 0)
    await signed_in(client.login("dee", PASSWORD))


async def test_bad_input_is_refused(client: Client) -> None:
    reg = await register(client, "eve")
    with pytest.raises(doorward.NotFoundError):
        await resolve(client.mfa.start_totp("no-such-user"))
    with pytest.raises(doorward.NotFoundError):  # nothing pending
        await resolve(client.mfa.confirm_totp(reg.user.id, "123456"))
    with pytest.raises(doorward.NotFoundError):  # nothing to remove
        await resolve(client.mfa.disable_totp(reg.tokens.access_token))
    authenticator, confirmed_at, _ = await enrol(client, reg.user.id)
    pending = await challenge(client, "eve")
    with pytest.raises(doorward.ValidationError) as method:
        await resolve(client.complete_mfa(pending.flow_id, "sms", "123456"))
    assert method.value.field == "method"
    with pytest.raises(doorward.FlowInvalidError):
        await resolve(
            client.complete_mfa("not-a-flow", "totp", authenticator.at(confirmed_at + 30))
        )
    forged = pending.flow_id.split(".", 1)[0] + ".forged"
    with pytest.raises(doorward.FlowInvalidError):
        await resolve(client.complete_mfa(forged, "totp", authenticator.at(confirmed_at + 30)))
    # The real one still works.
    await resolve(client.complete_mfa(pending.flow_id, "totp", authenticator.at(confirmed_at + 30)))
    with pytest.raises(OverflowError):
        client.require_aal(await resolve(client.verify_token(reg.tokens.access_token)), 256)


async def test_the_configuration_keys(make: Opener) -> None:
    client = make(
        mfa_issuer="Acme",
        mfa_login_ttl=120,
        mfa_required_for_roles=["admin"],
        mfa_encryption_key="an-mfa-key-of-at-least-thirty-two-bytes",
    )
    reg = await register(client, "fay")
    enrolment = await resolve(client.mfa.start_totp(reg.user.id))
    assert enrolment.uri.startswith("otpauth://totp/Acme:fay?")
    await resolve(client.mfa.confirm_totp(reg.user.id, pyotp.TOTP(enrolment.secret).now()))
    assert (await challenge(client, "fay")).expires_in == 120

    # A role that requires a second factor: the login asks to enrol, and the
    # code that confirms the new authenticator completes it.
    admin = await register(client, "gus")
    await signed_in(client.login("gus", PASSWORD))
    await resolve(client.roles.grant(admin.user.id, "admin"))
    pending = await challenge(client, "gus")
    assert (pending.enrolment_required, pending.methods) == (True, ["totp"])
    enrolment = await resolve(client.mfa.start_totp(pending.user_id))
    code = pyotp.TOTP(enrolment.secret).now()
    await resolve(client.mfa.confirm_totp(pending.user_id, code))
    tokens = await resolve(client.complete_mfa(pending.flow_id, "totp", code))
    assert (await resolve(client.verify_token(tokens.access_token))).aal == 2

    with pytest.raises(doorward.ConfigError):
        make(mfa_encryption_key="too short")


async def test_sign_in_by_email_asks_for_the_second_factor(make: Opener) -> None:
    client = make(**FLOWS)
    reg = await register(client, "hal")
    authenticator, confirmed_at, _ = await enrol(client, reg.user.id)
    started = await resolve(client.request_sign_in("hal@example.com"))
    mailed = await mail_for(client, started.flow_id, "Your sign-in link")
    pending = await resolve(client.complete_sign_in(started.flow_id, mailed.secret))
    assert isinstance(pending, doorward.MfaChallenge)
    tokens = await resolve(
        client.complete_mfa(pending.flow_id, "totp", authenticator.at(confirmed_at + 30))
    )
    principal = await resolve(client.verify_token(tokens.access_token))
    # A mailbox and a code: not level 2 (NIST does not count email).
    assert (principal.amr, principal.aal) == (["email", "otp"], 1)


async def test_second_factor_events(client: Client) -> None:
    reg = await register(client, "ivy")
    authenticator, _, recovery = await enrol(client, reg.user.id)
    pending = await challenge(client, "ivy")
    with pytest.raises(doorward.InvalidCredentialsError):
        await resolve(client.complete_mfa(pending.flow_id, "totp", "000000"))
    tokens = await resolve(client.complete_mfa(pending.flow_id, "recovery_code", recovery.codes[0]))
    regenerated = await resolve(client.mfa.regenerate_recovery_codes(tokens.access_token))
    await resolve(client.mfa.disable_totp(tokens.access_token))

    await resolve(client.events.flush())  # the audit log is written from the outbox
    page = await resolve(client.events.list(limit=100))
    types = [event.type for event in page.items]
    for kind in (
        "MfaEnrolled",
        "MfaChallenged",
        "MfaFailed",
        "RecoveryCodeUsed",
        "RecoveryCodesRegenerated",
        "MfaRemoved",
    ):
        assert kind in types, types
        # Each is a known event type to filter on.
        assert len((await resolve(client.audit.list(type=kind))).items) >= 1
    # No secret in any payload: not the flow's secret, a code or the TOTP secret.
    text = repr([event.to_dict() for event in page.items])
    assert pending.flow_id not in text
    assert not any(code in text for code in [*recovery.codes, *regenerated.codes])
    assert authenticator.secret not in text

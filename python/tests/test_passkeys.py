"""Passkeys on both clients: the options the browser gets, what doorward
answers to responses it cannot use, the configuration keys, and whole
ceremonies with a software passkey (``soft_passkey.py``, written from the
WebAuthn specification independently of the webauthn-rs doorward verifies
with): registration, sign-in with and without a username, a passkey as the
second factor of a password login and for a step-up, and management."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from conftest import PASSWORD, Client, Opener, resolve, signed_in
from soft_passkey import SoftPasskey, b64url
from test_mfa import challenge, enrol, register

import doorward

#: The site: app_url, so the relying party id is its host.
ORIGIN = "https://app.example.com"


@pytest.fixture
def site(make: Opener) -> Client:
    """A client of this test's kind serving ORIGIN."""
    return make(app_url=ORIGIN)


def assertion_for_no_ceremony() -> dict[str, Any]:
    """A well-formed assertion answering a challenge doorward never gave."""
    client_data = {"type": "webauthn.get", "challenge": b64url(b"c" * 32), "origin": ORIGIN}
    return {
        "id": b64url(b"k" * 16),
        "rawId": b64url(b"k" * 16),
        "type": "public-key",
        "response": {
            "clientDataJSON": b64url(json.dumps(client_data).encode()),
            "authenticatorData": b64url(b"a" * 37),
            "signature": b64url(b"s" * 64),
            "userHandle": None,
        },
        "clientExtensionResults": {},
    }


def registration_for_no_ceremony() -> dict[str, Any]:
    """A well-formed registration answering a challenge doorward never gave."""
    client_data = {"type": "webauthn.create", "challenge": b64url(b"c" * 32), "origin": ORIGIN}
    return {
        "id": b64url(b"k" * 16),
        "rawId": b64url(b"k" * 16),
        "type": "public-key",
        "response": {
            "clientDataJSON": b64url(json.dumps(client_data).encode()),
            "attestationObject": b64url(b"o" * 40),
        },
        "clientExtensionResults": {},
    }


async def with_passkey(
    client: Client, name: str, *, synced: bool = False
) -> tuple[str, SoftPasskey, doorward.PasskeyInfo]:
    """A new account holding one passkey, named ``laptop``."""
    user_id = (await register(client, name)).user.id
    device = SoftPasskey(synced=synced)
    options = await resolve(client.passkeys.start_registration(user_id))
    info = await resolve(
        client.passkeys.finish_registration(user_id, device.create(options, ORIGIN), "laptop")
    )
    return user_id, device, info


async def test_registration_options(site: Client) -> None:
    reg = await register(site, "ann")
    options = await resolve(site.passkeys.start_registration(reg.user.id))
    assert isinstance(options, dict)
    public_key = options["publicKey"]
    assert public_key["rp"] == {"id": "app.example.com", "name": "doorward"}
    assert public_key["user"]["name"] == "ann"
    assert public_key["user"]["displayName"] == "ann"
    assert isinstance(public_key["challenge"], str) and len(public_key["challenge"]) >= 43
    assert public_key["authenticatorSelection"]["userVerification"] == "required"
    assert public_key["authenticatorSelection"]["residentKey"] == "preferred"
    assert public_key["excludeCredentials"] == []
    # Each call is a new ceremony with a new challenge, and a new dict.
    again = await resolve(site.passkeys.start_registration(reg.user.id))
    assert again["publicKey"]["challenge"] != public_key["challenge"]
    with pytest.raises(doorward.NotFoundError):
        await resolve(site.passkeys.start_registration("no-such-user"))


async def test_authentication_options(site: Client) -> None:
    await register(site, "bob")
    for username in (None, "bob", "bob@example.com", "nobody"):
        # Without passkeys to name, every answer is the discoverable kind:
        # nothing tells whether the account exists.
        options = await resolve(site.passkeys.start_authentication(username))
        public_key = options["publicKey"]
        assert public_key["rpId"] == "app.example.com"
        assert public_key["userVerification"] == "required"
        assert not public_key.get("allowCredentials")
    options = await resolve(site.passkeys.start_authentication())
    assert options["publicKey"]["rpId"] == "app.example.com"
    with pytest.raises(doorward.ValidationError) as long:
        await resolve(site.passkeys.start_authentication("x" * 321))
    assert long.value.field == "username"


async def test_the_configuration_keys(make: Opener) -> None:
    client = make(
        app_url="https://app.example.com/base/",
        webauthn_rp_id="example.com",
        webauthn_rp_name="Acme",
        webauthn_origins=["https://app.example.com", "https://admin.example.com"],
    )
    reg = await register(client, "cat")
    options = await resolve(client.passkeys.start_registration(reg.user.id))
    assert options["publicKey"]["rp"] == {"id": "example.com", "name": "Acme"}
    options = await resolve(client.passkeys.start_authentication())
    assert options["publicKey"]["rpId"] == "example.com"
    # The second origin is served too: a passkey made there signs in here.
    device = SoftPasskey()
    options = await resolve(client.passkeys.start_registration(reg.user.id))
    response = device.create(options, "https://admin.example.com")
    await resolve(client.passkeys.finish_registration(reg.user.id, response, "phone"))
    options = await resolve(client.passkeys.start_authentication("cat"))
    await resolve(
        client.passkeys.finish_authentication(device.get(options, "https://app.example.com"))
    )

    # By default: the host of app_url.
    default = make()
    reg = await register(default, "dan")
    options = await resolve(default.passkeys.start_registration(reg.user.id))
    assert options["publicKey"]["rp"] == {"id": "localhost", "name": "doorward"}

    # A relying party id that is not the origin's host, or a suffix of it,
    # opens but cannot run ceremonies.
    foreign = make(app_url=ORIGIN, webauthn_rp_id="example.net")
    reg = await register(foreign, "eve")
    with pytest.raises(doorward.ConfigError):
        await resolve(foreign.passkeys.start_registration(reg.user.id))
    with pytest.raises(doorward.ConfigError):
        await resolve(make(webauthn_origins=["not an origin"]).passkeys.start_authentication())
    with pytest.raises(doorward.ConfigError):
        make(webauthn_rp_name=3)


@pytest.mark.parametrize(
    "garbage",
    [{}, {"id": 1}, {"id": "x", "rawId": "x", "type": "public-key"}, "not JSON", "{}", "[]"],
    ids=["empty", "badly typed", "no response", "text", "empty text", "a list"],
)
async def test_responses_that_are_not_webauthn_are_validation_errors(
    site: Client, garbage: Any
) -> None:
    reg = await register(site, "fay")
    await resolve(site.passkeys.start_registration(reg.user.id))
    with pytest.raises(doorward.ValidationError) as registration:
        await resolve(site.passkeys.finish_registration(reg.user.id, garbage, "laptop"))
    assert registration.value.field == "response"
    with pytest.raises(doorward.ValidationError) as authentication:
        await resolve(site.passkeys.finish_authentication(garbage))
    assert authentication.value.field == "response"


async def test_responses_to_no_ceremony_are_flow_invalid(site: Client) -> None:
    reg = await register(site, "gil")
    await resolve(site.passkeys.start_registration(reg.user.id))
    await resolve(site.passkeys.start_authentication())
    for response in (registration_for_no_ceremony(), json.dumps(registration_for_no_ceremony())):
        with pytest.raises(doorward.FlowInvalidError):
            await resolve(site.passkeys.finish_registration(reg.user.id, response, "laptop"))
    for response in (assertion_for_no_ceremony(), json.dumps(assertion_for_no_ceremony())):
        with pytest.raises(doorward.FlowInvalidError):
            await resolve(site.passkeys.finish_authentication(response))
    # A name is checked before the response.
    with pytest.raises(doorward.ValidationError) as name:
        await resolve(
            site.passkeys.finish_registration(reg.user.id, registration_for_no_ceremony(), " ")
        )
    assert name.value.field == "name"


async def test_management_of_an_account_without_passkeys(site: Client) -> None:
    reg = await register(site, "hal")
    assert await resolve(site.passkeys.list(reg.user.id)) == []
    with pytest.raises(doorward.NotFoundError):
        await resolve(site.passkeys.rename(reg.user.id, "no-such-passkey", "laptop"))
    with pytest.raises(doorward.NotFoundError):
        await resolve(site.passkeys.remove(reg.tokens.access_token, "no-such-passkey"))
    with pytest.raises(doorward.NotFoundError):
        await resolve(site.passkeys.list("no-such-user"))
    with pytest.raises(doorward.TokenInvalidError):
        await resolve(site.passkeys.remove("not a token", "no-such-passkey"))


async def test_a_passkey_proof_must_be_webauthn_json(site: Client) -> None:
    reg = await register(site, "ida")
    await enrol(site, reg.user.id)
    pending = await challenge(site, "ida")
    assert pending.methods == ["totp", "recovery_code"]  # no passkey yet
    with pytest.raises(doorward.ValidationError) as proof:
        await resolve(site.complete_mfa(pending.flow_id, "passkey", "not JSON"))
    assert proof.value.field == "proof"
    with pytest.raises(doorward.ValidationError) as proof:
        await resolve(site.step_up(reg.tokens.access_token, "passkey", "not JSON"))
    assert proof.value.field == "proof"
    with pytest.raises(doorward.ValidationError):  # JSON, but not an assertion
        await resolve(site.step_up(reg.tokens.access_token, "passkey", "{}"))
    # Valid JSON answering no ceremony.
    with pytest.raises(doorward.FlowInvalidError):
        await resolve(
            site.complete_mfa(pending.flow_id, "passkey", json.dumps(assertion_for_no_ceremony()))
        )


async def test_register_and_sign_in_with_a_passkey(site: Client) -> None:
    user_id = (await register(site, "jan")).user.id
    device = SoftPasskey()
    options = await resolve(site.passkeys.start_registration(user_id))
    response = device.create(options, ORIGIN)
    before = datetime.now(timezone.utc) - timedelta(seconds=1)
    info = await resolve(site.passkeys.finish_registration(user_id, response, " laptop "))
    assert isinstance(info, doorward.PasskeyInfo)
    assert (info.id, info.name) == (response["id"], "laptop")
    assert info.created_at.tzinfo is not None and info.created_at >= before
    assert info.last_used_at is None
    assert (info.backup_eligible, info.backup_state, info.sign_count) == (False, False, 0)
    assert repr(info) == (
        f"PasskeyInfo(id='{info.id}', name='laptop', backup_eligible=False, sign_count=0)"
    )
    with pytest.raises(AttributeError):
        info.name = "renamed"  # type: ignore[misc]
    # The ceremony is spent; another origin's answer is refused.
    with pytest.raises(doorward.FlowInvalidError):
        await resolve(site.passkeys.finish_registration(user_id, response, "again"))
    options = await resolve(site.passkeys.start_registration(user_id))
    assert options["publicKey"]["excludeCredentials"][0]["id"] == info.id
    phished = SoftPasskey().create(options, "https://app.example.org")
    with pytest.raises(doorward.ValidationError) as refused:
        await resolve(site.passkeys.finish_registration(user_id, phished, "evil"))
    assert refused.value.field == "response"

    # Signed in by name: the options name the passkey; level 2 at once.
    options = await resolve(site.passkeys.start_authentication("jan"))
    assert [c["id"] for c in options["publicKey"]["allowCredentials"]] == [info.id]
    assertion = device.get(options, ORIGIN)
    tokens = await resolve(site.passkeys.finish_authentication(assertion))
    assert isinstance(tokens, doorward.TokenPair)
    principal = await resolve(site.verify_token(tokens.access_token))
    assert principal.user_id == user_id
    assert (principal.aal, principal.amr) == (2, ["hwk", "mfa", "user"])
    # An assertion works once.
    with pytest.raises(doorward.FlowInvalidError):
        await resolve(site.passkeys.finish_authentication(assertion))

    # Signed in with no name (the browser offers the site's passkeys), the
    # assertion as JSON text this time.
    options = await resolve(site.passkeys.start_authentication())
    client = doorward.ClientInfo(ip="203.0.113.7", user_agent="browser")
    tokens = await resolve(
        site.passkeys.finish_authentication(json.dumps(device.get(options, ORIGIN)), client)
    )
    principal = await resolve(site.verify_token(tokens.access_token))
    assert principal.user_id == user_id
    [session] = [
        s for s in await resolve(site.sessions.list(user_id)) if s.id == principal.session_id
    ]
    assert session.ip == "203.0.113.7"

    # A phishing page's assertion is refused.
    options = await resolve(site.passkeys.start_authentication("jan"))
    with pytest.raises(doorward.InvalidCredentialsError):
        await resolve(
            site.passkeys.finish_authentication(device.get(options, "https://app.example.org"))
        )

    # Listed with its use; renamed.
    [listed] = await resolve(site.passkeys.list(user_id))
    assert listed.id == info.id
    assert listed.last_used_at is not None and listed.last_used_at.tzinfo is not None
    assert listed.sign_count == 2  # the refused assertion is not counted
    assert listed != info and listed == listed and hash(listed) == hash(listed)
    renaming: object = await resolve(site.passkeys.rename(user_id, info.id, "work laptop"))
    assert renaming is None
    [renamed] = await resolve(site.passkeys.list(user_id))
    assert renamed.name == "work laptop"
    with pytest.raises(doorward.ValidationError) as name:
        await resolve(site.passkeys.rename(user_id, info.id, "x" * 65))
    assert name.value.field == "name"


async def test_a_synced_passkey_signs_in_as_swk(site: Client) -> None:
    user_id, device, _ = await with_passkey(site, "kim", synced=True)
    options = await resolve(site.passkeys.start_authentication("kim"))
    tokens = await resolve(site.passkeys.finish_authentication(device.get(options, ORIGIN)))
    principal = await resolve(site.verify_token(tokens.access_token))
    assert principal.amr == ["mfa", "swk", "user"]
    [listed] = await resolve(site.passkeys.list(user_id))
    assert (listed.backup_eligible, listed.backup_state) == (True, False)


async def test_a_passkey_completes_a_password_login_and_steps_up(make: Opener) -> None:
    client = make(app_url=ORIGIN, fresh_auth_max_age=1, rate_limit_login_account="100/1m")
    user_id, device, info = await with_passkey(client, "lee")
    # A passkey alone does not make the password ask for more.
    plain = await signed_in(client.login("lee", PASSWORD))
    assert (await resolve(client.verify_token(plain.access_token))).aal == 1

    # A step-up with the passkey: a new session at level 2.
    options = await resolve(client.passkeys.start_authentication("lee"))
    proof = json.dumps(device.get(options, ORIGIN))
    stepped = await resolve(client.step_up(plain.access_token, "passkey", proof))
    fresh = await resolve(client.verify_token(stepped.access_token))
    assert fresh.aal == 2 and {"pwd", "hwk", "user", "mfa"} <= set(fresh.amr)
    with pytest.raises(doorward.TokenRevokedError):
        await resolve(client.verify_token(plain.access_token))

    # With a TOTP enrolled, the password asks for a second factor, and the
    # passkey is one of them.
    await enrol(client, user_id)
    pending = await challenge(client, "lee")
    assert pending.methods == ["totp", "recovery_code", "passkey"]
    _, other_device, other_info = await with_passkey(client, "max")
    options = await resolve(client.passkeys.start_authentication("max"))
    with pytest.raises(doorward.InvalidCredentialsError):  # another account's passkey
        await resolve(
            client.complete_mfa(
                pending.flow_id, "passkey", json.dumps(other_device.get(options, ORIGIN))
            )
        )
    options = await resolve(client.passkeys.start_authentication("lee"))
    proof = json.dumps(device.get(options, ORIGIN))
    tokens = await resolve(client.complete_mfa(pending.flow_id, "passkey", proof))
    principal = await resolve(client.verify_token(tokens.access_token))
    assert principal.aal == 2 and {"pwd", "hwk", "user"} <= set(principal.amr)

    # Removing needs a fresh authentication.
    await asyncio.sleep(2.1)
    with pytest.raises(doorward.StepUpRequiredError):
        await resolve(client.passkeys.remove(tokens.access_token, info.id))
    options = await resolve(client.passkeys.start_authentication("lee"))
    renewed = await resolve(
        client.step_up(tokens.access_token, "passkey", json.dumps(device.get(options, ORIGIN)))
    )
    with pytest.raises(doorward.NotFoundError):  # not the caller's passkey
        await resolve(client.passkeys.remove(renewed.access_token, other_info.id))
    removing: object = await resolve(client.passkeys.remove(renewed.access_token, info.id))
    assert removing is None
    assert await resolve(client.passkeys.list(user_id)) == []
    # Gone: the device's passkey no longer signs in.
    options = await resolve(client.passkeys.start_authentication())
    with pytest.raises(doorward.InvalidCredentialsError):
        await resolve(client.passkeys.finish_authentication(device.get(options, ORIGIN)))

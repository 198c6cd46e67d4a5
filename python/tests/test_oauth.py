"""Sign-in with an OpenID provider (``dw.oauth``), end to end against the
test provider (``tests/oidc``), on both clients: sign-up, linking by
verified address, ``account_exists``, replayed and foreign states, a
cancelled sign-in, linking and unlinking, a second factor, the provider's
tokens, a wrong nonce and a rotated key; then the configuration and the
result objects."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any, Optional

import pyotp
import pytest
from conftest import PASSWORD, SECRET, Client, open_client, resolve, tokens
from oidc import CALLBACK, corp_issuer, provider_config, rotate, sign_in_callback

import doorward


def corp(kind: str, **provider: Any) -> tuple[Client, str]:
    """A client of ``kind`` signing in with a fresh issuer as provider
    ``corp``, and the issuer's control id (skips when the provider is not
    running)."""
    issuer_url, issuer_id = corp_issuer()
    client = open_client(
        kind,
        oauth_providers=[provider_config(issuer_url, **provider)],
        verify_email_on_register=False,
    )
    return client, issuer_id


async def start(client: Client) -> doorward.AuthorizationStart:
    begun = await resolve(client.oauth.authorization_url("corp", CALLBACK))
    assert begun.url.startswith("http://127.0.0.1:")
    assert "code_challenge_method=S256" in begun.url
    assert "nonce=" in begun.url
    assert begun.expires_in == 600
    return begun


async def sign_in(
    client: Client, account: str, client_info: Optional[doorward.ClientInfo] = None
) -> doorward.OAuthCompletion:
    """Sign in through the provider's page as ``account`` and complete."""
    begun = await start(client)
    callback = sign_in_callback(begun.url, account)
    return await resolve(client.oauth.complete(callback, begun.state, client_info))


async def register(client: Client, name: str, email: str, verified: bool = False) -> str:
    reg = await resolve(client.register_user(name, email, PASSWORD))
    if verified:
        await resolve(client.users.mark_email_verified(reg.user.id))
    return reg.user.id


async def test_a_new_user_signs_up_and_signs_in_again(kind: str) -> None:
    client, _ = corp(kind)
    where = doorward.ClientInfo(ip="203.0.113.7", user_agent="tests")
    done = await sign_in(client, "newcomer@example.org", where)
    assert (done.provider, done.new_user, done.linked) == ("corp", True, True)
    pair = tokens(done.login)
    me = await resolve(client.verify_token(pair.access_token))
    assert me.user_id == done.user_id
    assert (me.amr, me.aal) == (["fed"], 1)
    user = await resolve(client.users.get(done.user_id))
    assert user.email == "newcomer@example.org"
    assert user.email_verified_at is not None, "the provider verified it"
    [identity] = await resolve(client.users.identities(done.user_id))
    assert isinstance(identity, doorward.Identity)
    assert (identity.provider, identity.subject) == ("corp", "newcomer@example.org")
    assert (identity.email, identity.email_verified) == ("newcomer@example.org", True)
    assert identity.created_at.tzinfo is not None
    [session] = await resolve(client.sessions.list(done.user_id))
    assert session.ip == "203.0.113.7"
    # No password of its own: a password login fails like a wrong one.
    with pytest.raises(doorward.InvalidCredentialsError):
        await resolve(client.login("newcomer@example.org", PASSWORD))
    # Again: the same account, no new link.
    again = await sign_in(client, "newcomer@example.org")
    assert (again.user_id, again.new_user, again.linked) == (done.user_id, False, False)
    [identity] = await resolve(client.users.identities(done.user_id))
    assert identity.last_used_at is not None
    # A registration, a link, and sign-ins by the provider.
    await resolve(client.events.flush())
    events = (await resolve(client.events.list(limit=100))).items
    types = [e.type for e in events]
    assert "UserRegistered" in types and "IdentityLinked" in types, types
    logins = [e for e in events if e.type == "LoginSucceeded"]
    assert logins and all(e.payload["method"] == "oauth:corp" for e in logins)
    metrics = await resolve(client.metrics_text())
    assert 'doorward_oauth_callbacks_total{provider="corp",outcome="success"} 2' in metrics


async def test_a_verified_address_links_and_an_unverified_one_does_not(kind: str) -> None:
    client, _ = corp(kind)
    # Both addresses verified: the provider's links the identity.
    user_id = await register(client, "verified", "verified@example.org", verified=True)
    done = await sign_in(client, "verified@example.org")
    assert (done.user_id, done.linked, done.new_user) == (user_id, True, False)
    # The account's address is not verified: no link.
    await register(client, "plain", "plain@example.org")
    with pytest.raises(doorward.AccountExistsError) as plain:
        await sign_in(client, "plain@example.org")
    assert (plain.value.code, plain.value.provider) == ("account_exists", "corp")
    assert "plain@example.org" not in str(plain.value)
    # Nor when the provider has not verified its address.
    victim = await register(client, "victim", "unverified-victim@example.org", verified=True)
    with pytest.raises(doorward.AccountExistsError):
        await sign_in(client, "unverified-victim@example.org")
    assert await resolve(client.users.identities(victim)) == []


async def test_states_are_single_use_and_bound_to_their_browser(kind: str) -> None:
    client, _ = corp(kind)
    begun = await start(client)
    callback = sign_in_callback(begun.url, "replay@example.org")
    # Another browser's state: refused, and the sign-in still works.
    with pytest.raises(doorward.OAuthStateInvalidError) as foreign:
        await resolve(client.oauth.complete(callback, "someone-else's"))
    assert foreign.value.code == "oauth_state_invalid"
    # The query string alone is a callback too.
    query = callback.split("?", 1)[1]
    done = await resolve(client.oauth.complete(query, expected_state=begun.state))
    assert done.new_user
    # Replayed: refused before the code reaches the provider.
    with pytest.raises(doorward.OAuthStateInvalidError):
        await resolve(client.oauth.complete(callback, begun.state))
    with pytest.raises(doorward.OAuthStateInvalidError):
        await resolve(client.oauth.complete("code=x&state=never-issued"))


async def test_a_cancelled_sign_in_reports_the_providers_error(kind: str) -> None:
    client, _ = corp(kind)
    begun = await start(client)
    callback = sign_in_callback(begun.url, "cancel@example.org", cancel=True)
    with pytest.raises(doorward.OAuthProviderError) as cancelled:
        await resolve(client.oauth.complete(callback, begun.state))
    err = cancelled.value
    assert (err.code, err.provider, err.oauth_error) == (
        "oauth_provider_error",
        "corp",
        "access_denied",
    )
    assert err.description == "End-User aborted interaction"
    assert "access_denied" in str(err)
    # The state is spent all the same.
    with pytest.raises(doorward.OAuthStateInvalidError):
        await resolve(client.oauth.complete(callback, begun.state))


async def test_a_signed_in_user_links_and_unlinks(kind: str) -> None:
    client, _ = corp(kind)
    user_id = await register(client, "linker", "linker@example.com")
    # Any address at the provider: the user asked for the link.
    begun = await resolve(client.oauth.link(user_id, "corp", CALLBACK))
    callback = sign_in_callback(begun.url, "elsewhere@example.org")
    done = await resolve(client.oauth.complete(callback, begun.state))
    assert (done.user_id, done.linked, done.new_user, done.login) == (user_id, True, False, None)
    # It now signs that account in.
    assert (await sign_in(client, "elsewhere@example.org")).user_id == user_id
    # Another account cannot take it.
    other = await register(client, "other", "other@example.com")
    begun = await resolve(client.oauth.link(other, "corp", CALLBACK))
    callback = sign_in_callback(begun.url, "elsewhere@example.org")
    with pytest.raises(doorward.AccountExistsError):
        await resolve(client.oauth.complete(callback, begun.state))
    # Unlinked (the account keeps its password), it signs in no more.
    await resolve(client.oauth.unlink(user_id, "corp"))
    assert await resolve(client.users.identities(user_id)) == []
    with pytest.raises(doorward.NotFoundError):
        await resolve(client.oauth.unlink(user_id, "corp"))
    # An account made by the provider keeps its only way in.
    made = await sign_in(client, "only@example.org")
    with pytest.raises(doorward.ValidationError) as last:
        await resolve(client.oauth.unlink(made.user_id, "corp"))
    assert last.value.field == "provider"
    assert len(await resolve(client.users.identities(made.user_id))) == 1
    # Nobody links to an account that does not exist.
    with pytest.raises(doorward.NotFoundError):
        await resolve(client.oauth.link("no-such-user", "corp", CALLBACK))


async def test_a_second_factor_still_applies(kind: str) -> None:
    client, _ = corp(kind)
    made = await sign_in(client, "mfa@example.org")
    enrolment = await resolve(client.mfa.start_totp(made.user_id))
    app = pyotp.TOTP(enrolment.secret)
    confirmed_at = time.time()
    await resolve(client.mfa.confirm_totp(made.user_id, app.at(confirmed_at)))
    done = await sign_in(client, "mfa@example.org")
    challenge = done.login
    assert isinstance(challenge, doorward.MfaChallenge), challenge
    assert challenge.methods == ["totp", "recovery_code"]
    assert challenge.flow_id not in repr(done)
    # The next step's code: the one that confirmed the app is spent.
    code = app.at(confirmed_at + 30)
    pair = await resolve(client.complete_mfa(challenge.flow_id, "totp", code))
    me = await resolve(client.verify_token(pair.access_token))
    # A provider's sign-in with a code stays level 1: the provider's own
    # checks are its business.
    assert (sorted(me.amr), me.aal) == (["fed", "otp"], 1)


async def test_provider_tokens_are_kept_only_when_asked(kind: str) -> None:
    client, _ = corp(kind, store_provider_tokens=True)
    done = await sign_in(client, "keeper@example.org")
    kept = await resolve(client.oauth.provider_tokens(done.user_id, "corp"))
    assert isinstance(kept, doorward.ProviderTokens)
    assert kept.access_token
    assert kept.access_token not in repr(kept)
    assert "openid" in kept.scopes
    assert kept == await resolve(client.oauth.provider_tokens(done.user_id, "corp"))
    with pytest.raises(doorward.NotFoundError):
        await resolve(client.oauth.provider_tokens(done.user_id, "elsewhere"))
    # Without store_provider_tokens, none are kept.
    plain, _ = corp(kind)
    done = await sign_in(plain, "plain@example.org")
    assert await resolve(plain.oauth.provider_tokens(done.user_id, "corp")) is None


async def test_a_wrong_nonce_is_refused(kind: str) -> None:
    client, _ = corp(kind)
    begun = await start(client)
    # The provider is asked for another nonce than the one doorward keeps:
    # its ID token carries that one.
    tampered = re.sub(r"nonce=[^&]*", "nonce=another-nonce", begun.url)
    callback = sign_in_callback(tampered, "nonce@example.org")
    with pytest.raises(doorward.OAuthProviderError) as refused:
        await resolve(client.oauth.complete(callback, begun.state))
    assert refused.value.oauth_error == "invalid_id_token"
    assert (await resolve(client.users.list())).items == []


async def test_a_rotated_signing_key_is_fetched(kind: str) -> None:
    client, issuer_id = corp(kind)
    await sign_in(client, "rotation@example.org")
    rotate(issuer_id)
    again = await sign_in(client, "rotation@example.org")
    assert not again.new_user
    tokens(again.login)


# --- the configuration and the objects ---------------------------------------

BASE = {"id": "corp", "issuer": "https://login.example.com", "client_id": "x"}


def test_providers_are_listed_synchronously_on_both_clients() -> None:
    providers = [
        {**BASE, "client_secret": "s3cret-of-the-client", "name": "Corp SSO"},
        {"id": "google", "kind": "google", "client_id": "1234.apps.googleusercontent.com"},
    ]
    for kind in ("sync", "async"):
        client = open_client(kind, oauth_providers=providers)
        listed = client.oauth.providers()  # no awaitable, on AsyncDoorward too
        assert all(isinstance(p, doorward.ProviderInfo) for p in listed)
        assert [(p.id, p.name, p.kind) for p in listed] == [
            ("corp", "Corp SSO", "oidc"),
            ("google", "Google", "google"),
        ]
        assert repr(listed[0]) == "ProviderInfo(id='corp', name='Corp SSO', kind='oidc')"
        assert len({*listed, *client.oauth.providers()}) == 2  # hashed by value
        assert "s3cret" not in repr(client)
        assert open_client(kind).oauth.providers() == []


@pytest.mark.parametrize("cls", [doorward.Doorward, doorward.AsyncDoorward])
def test_bad_providers_are_refused_at_open_without_their_secret(
    cls: type[Client],
) -> None:
    secret = {"client_secret": "s3cret-of-the-client"}
    cheap = {"database_url": "memory://", "jwt_secret": SECRET}
    cases: list[tuple[dict[str, Any], str]] = [
        ({**BASE, **secret, "issuer": None}, "issuer"),
        ({**BASE, **secret, "issuer": "http://login.example.com"}, "https"),
        ({**BASE, **secret, "id": "Corp!"}, "id"),
        ({**BASE, **secret, "kind": "microsoft", "issuer": None, "tenant": "common"}, "common"),
        ({**BASE, **secret, "unknown_key": 1}, "unknown_key"),
    ]
    for provider, why in cases:
        provider = {k: v for k, v in provider.items() if v is not None}
        with pytest.raises(doorward.ConfigError) as refused:
            cls(cheap, oauth_providers=[provider])
        assert why in str(refused.value), (provider, str(refused.value))
        assert "s3cret" not in str(refused.value)
    with pytest.raises(doorward.ConfigError, match="twice"):
        cls(cheap, oauth_providers=[BASE, BASE])


async def test_an_unknown_provider_is_a_validation_error(kind: str) -> None:
    client = open_client(kind, oauth_providers=[BASE])
    with pytest.raises(doorward.ValidationError) as unknown:
        await resolve(client.oauth.authorization_url("nope", CALLBACK))
    assert unknown.value.field == "provider"
    user_id = await register(client, "someone", "someone@example.com")
    with pytest.raises(doorward.ValidationError):
        await resolve(client.oauth.link(user_id, "nope", CALLBACK))


async def test_providers_from_a_toml_file(kind: str, tmp_path: Path) -> None:
    path = tmp_path / "doorward.toml"
    path.write_text(
        f'database_url = "memory://"\njwt_secret = "{SECRET}"\n\n'
        '[[oauth_providers]]\nid = "corp"\nissuer = "https://login.example.com"\n'
        'client_id = "x"\nscopes = ["openid", "email"]\n\n'
        '[[oauth_providers]]\nid = "github"\nkind = "github"\nclient_id = "Iv1.x"\n'
    )
    client = doorward.Doorward(path) if kind == "sync" else doorward.AsyncDoorward(path)
    assert [p.kind for p in client.oauth.providers()] == ["oidc", "github"]


async def test_the_objects_hide_what_they_must(kind: str) -> None:
    client, _ = corp(kind)
    begun = await start(client)
    assert repr(begun) == "AuthorizationStart(expires_in=600, url=<hidden>, state=<hidden>)"
    assert begun == begun and hash(begun) == hash(begun)
    done = await resolve(
        client.oauth.complete(sign_in_callback(begun.url, "shown@example.org"), begun.state)
    )
    pair = tokens(done.login)
    text = repr(done)
    assert text.startswith(f"OAuthCompletion(provider='corp', user_id='{done.user_id}',")
    assert "new_user=True, linked=True, login=TokenPair(" in text
    assert pair.access_token not in text and pair.refresh_token not in text
    assert done.login == done.login and hash(done) == hash(done)
    [identity] = await resolve(client.users.identities(done.user_id))
    assert repr(identity).startswith("Identity(provider='corp', email_verified=True,")
    assert "shown@example.org" not in repr(identity)


def test_the_oauth_errors_carry_their_fields() -> None:
    from doorward.errors import _from_native

    refused = _from_native(
        "oauth_provider_error", "corp did not", None, None, ("corp", "invalid_grant", "stale")
    )
    assert isinstance(refused, doorward.OAuthProviderError)
    assert (refused.provider, refused.oauth_error, refused.description) == (
        "corp",
        "invalid_grant",
        "stale",
    )
    exists = _from_native("account_exists", "exists", None, None, ("corp", None, None))
    assert isinstance(exists, doorward.AccountExistsError) and exists.provider == "corp"
    state = _from_native("oauth_state_invalid", "start again", None, None)
    assert type(state) is doorward.OAuthStateInvalidError
    # Raised by hand (a host's own check), the fields are optional.
    assert doorward.OAuthProviderError("no").provider is None
    assert doorward.AccountExistsError("no", provider="corp").provider == "corp"
    from doorward import web

    assert web.http_status(exists) == 409
    assert web.http_status(refused) == web.http_status(state) == 400

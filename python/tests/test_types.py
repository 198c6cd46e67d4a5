"""The result objects: typed attributes, equality, hashing, aware datetimes,
a repr without secrets, and to_dict()."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Optional

import pytest
from conftest import PASSWORD, Client, Opener, resolve, signed_in

import doorward


def aware(value: Optional[datetime]) -> None:
    assert isinstance(value, datetime), value
    assert value.tzinfo is not None, f"naive datetime {value!r}"
    assert value.utcoffset() == timedelta(0), value


def attrs(obj: object, types: dict[str, Any]) -> None:
    for name, expected in types.items():
        value = getattr(obj, name)
        assert isinstance(value, expected), f"{type(obj).__name__}.{name} = {value!r}"


async def test_user(make: Opener) -> None:
    client = make(lockout_threshold=1)
    reg = await resolve(client.register_user("john", "john@example.com", PASSWORD))
    await resolve(client.login("john", PASSWORD))
    user = await resolve(client.users.get(reg.user.id))
    attrs(
        user,
        {
            "id": str,
            "username": str,
            "email": str,
            "disabled": bool,
            "created_at": datetime,
            "updated_at": datetime,
            "last_login_at": datetime,
            "failed_logins": int,
        },
    )
    assert user.locked_until is None
    for value in (user.created_at, user.updated_at, user.last_login_at):
        aware(value)
    # Equality and hashing: two gets of the same user are one value.
    again = await resolve(client.users.get(reg.user.id))
    assert user == again and user is not again
    assert hash(user) == hash(again)
    assert len({user, again}) == 1
    assert user != reg.user  # last_login_at changed since registration
    assert user != "john"

    with pytest.raises(doorward.InvalidCredentialsError):
        await resolve(client.login("john", "not the password"))
    locked = await resolve(client.users.get(reg.user.id))
    aware(locked.locked_until)
    assert locked.failed_logins == 1

    # repr never shows the email address, nor its domain.
    for text in (repr(user), str(user), repr(reg), repr([user])):
        assert "john@example.com" not in text
        assert "example.com" not in text
    assert reg.user.id in repr(user)
    assert user.to_dict() == {
        "id": user.id,
        "username": "john",
        "email": "john@example.com",
        "disabled": False,
        "created_at": user.created_at,
        "updated_at": user.updated_at,
        "last_login_at": user.last_login_at,
        "failed_logins": 0,
        "locked_until": None,
        "email_verified_at": None,
    }
    for key in ("created_at", "updated_at", "last_login_at"):
        aware(user.to_dict()[key])


async def test_token_pair_and_registration(make: Opener) -> None:
    client = make(access_ttl=600)
    reg = await resolve(client.register_user("john", "john@example.com", PASSWORD))
    assert isinstance(reg.user, doorward.User)
    assert isinstance(reg.tokens, doorward.TokenPair)
    pair = reg.tokens
    attrs(pair, {"access_token": str, "refresh_token": str, "token_type": str, "expires_in": int})
    assert pair.token_type == "Bearer"
    assert pair.expires_in == 600
    assert pair.mfa_required is False
    assert pair.to_dict() == {
        "access_token": pair.access_token,
        "refresh_token": pair.refresh_token,
        "token_type": "Bearer",
        "expires_in": 600,
    }
    for text in (repr(pair), str(pair), repr(reg), str(reg), repr([reg])):
        assert pair.access_token not in text
        assert pair.refresh_token not in text
        # Not even a large piece of either.
        assert pair.access_token[-20:] not in text
        assert pair.refresh_token[-20:] not in text
    assert "Bearer" in repr(pair)
    # Equality and hashing.
    assert reg == reg
    assert hash(reg) == hash(reg)
    assert len({pair, pair}) == 1
    other = await signed_in(client.login("john", PASSWORD))
    assert other != pair
    assert len({pair, other}) == 2


async def test_principal(client: Client) -> None:
    reg = await resolve(client.register_user("john", "john@example.com", PASSWORD))
    principal = await resolve(client.verify_token(reg.tokens.access_token))
    attrs(
        principal,
        {
            "user_id": str,
            "username": str,
            "session_id": str,
            "roles": list,
            "expires_at": datetime,
            "amr": list,
            "aal": int,
            "auth_time": datetime,
        },
    )
    assert all(isinstance(role, str) for role in principal.roles)
    aware(principal.expires_at)
    aware(principal.auth_time)
    now = datetime.now(principal.expires_at.tzinfo)
    assert now < principal.expires_at <= now + timedelta(seconds=901)
    # A registration is a password login: level 1, authenticated just now.
    assert (principal.amr, principal.aal) == (["pwd"], 1)
    assert now - timedelta(seconds=60) < principal.auth_time <= now
    assert principal.to_dict() == {
        "user_id": principal.user_id,
        "username": "john",
        "session_id": principal.session_id,
        "roles": ["user"],
        "expires_at": principal.expires_at,
        "amr": ["pwd"],
        "aal": 1,
        "auth_time": principal.auth_time,
    }
    assert "aal=1" in repr(principal)
    again = await resolve(client.verify_token(reg.tokens.access_token))
    assert principal == again
    assert hash(principal) == hash(again)
    assert reg.tokens.access_token not in repr(principal)


async def test_session(client: Client) -> None:
    info = doorward.ClientInfo(ip="203.0.113.7", user_agent="UA/1")
    reg = await resolve(client.register_user("john", "john@example.com", PASSWORD, info))
    await resolve(client.refresh_token(reg.tokens.refresh_token))
    [session] = await resolve(client.sessions.list(reg.user.id))
    attrs(
        session,
        {
            "id": str,
            "user_id": str,
            "created_at": datetime,
            "expires_at": datetime,
            "last_refreshed_at": datetime,
            "ip": str,
            "user_agent": str,
        },
    )
    for value in (session.created_at, session.expires_at, session.last_refreshed_at):
        aware(value)
    assert session.created_at < session.expires_at
    [again] = await resolve(client.sessions.list(reg.user.id))
    assert session == again
    assert hash(session) == hash(again)
    assert reg.tokens.refresh_token not in repr(session)


async def test_role(client: Client) -> None:
    role = await resolve(client.roles.create("editor", ["posts:*"], "Writes posts"))
    attrs(
        role,
        {
            "name": str,
            "description": str,
            "permissions": list,
            "builtin": bool,
            "created_at": datetime,
        },
    )
    aware(role.created_at)
    for seeded in await resolve(client.roles.list()):
        aware(seeded.created_at)
    again = await resolve(client.roles.get("editor"))
    assert role == again
    assert hash(role) == hash(again)
    assert role != await resolve(client.roles.get("user"))


async def test_page(client: Client) -> None:
    for name in ("ann", "bob", "cyd"):
        await resolve(client.users.create(name, f"{name}@example.com", PASSWORD))
    page = await resolve(client.users.list(limit=2))
    attrs(page, {"items": list, "next_cursor": str})
    assert len(page) == 2 == len(page.items)
    assert all(isinstance(u, doorward.User) for u in page.items)
    again = await resolve(client.users.list(limit=2))
    assert page == again
    assert hash(page) == hash(again)
    assert page != await resolve(client.users.list(limit=3))
    assert "ann@example.com" not in repr(page)


async def test_decision(client: Client) -> None:
    decision = await resolve(client.limits.limit("k", "5/1m"))
    attrs(decision, {"remaining": int, "reset_after": float})
    assert decision.remaining == 4
    assert decision == decision
    assert decision != await resolve(client.limits.limit("k", "5/1m"))
    assert "remaining=4" in repr(decision)
    # Decision defines equality only: not hashable.
    with pytest.raises(TypeError):
        hash(decision)


def test_results_are_read_only() -> None:
    info = doorward.ClientInfo(ip="203.0.113.7")
    with pytest.raises(AttributeError):
        info.ip = "198.51.100.1"  # type: ignore[misc]


async def test_files_events_webhooks_and_audit_results(make: Opener) -> None:
    # The webhook below is on loopback.
    client = make(webhook_allow_private=True)
    info = await resolve(client.files.put("a/b.txt", b"abc", "text/plain"))
    attrs(info, {"key": str, "size": int, "content_type": str, "etag": (str, type(None))})
    aware(info.created_at)
    assert info == (await resolve(client.files.head("a/b.txt")))
    assert hash(info) == hash(await resolve(client.files.head("a/b.txt")))
    page = await resolve(client.files.list())
    assert page.items[0].key == "a/b.txt" and "1 files" in repr(page)

    # Nothing listens on the discard port: deliveries fail at once, locally.
    hook = await resolve(client.webhooks.add("http://127.0.0.1:9/hooks"))
    attrs(hook, {"id": str, "url": str, "secret": str, "event_types": list})
    aware(hook.created_at)
    assert hook.secret not in repr(hook) and hook.secret not in str(hook)

    await resolve(client.register_user("john", "john@example.com", PASSWORD))
    await resolve(client.events.flush())
    event = (await resolve(client.events.list())).items[0]
    attrs(event, {"id": str, "seq": int, "type": str, "version": int, "payload": dict})
    aware(event.occurred_at)
    assert set(event.to_dict()) == {
        "id", "seq", "type", "version", "occurred_at", "actor", "subject", "ip", "user_agent",
        "payload",
    }  # fmt: skip
    delivery = (await resolve(client.events.deliveries()))[0]
    attrs(delivery, {"id": int, "webhook_id": str, "status": str, "attempts": int})
    aware(delivery.next_attempt_at)
    aware(delivery.updated_at)

    row = (await resolve(client.audit.list())).items[0]
    attrs(row, {"seq": int, "event_type": str, "outcome": str, "details": dict, "hash": str})
    aware(row.occurred_at)
    verification = await resolve(client.audit.verify())
    attrs(verification, {"ok": bool, "rows": int, "head": str})

    for obj, name in (
        (info, "size"),
        (hook, "secret"),
        (event, "payload"),
        (delivery, "status"),
        (row, "details"),
        (verification, "ok"),
    ):
        with pytest.raises(AttributeError):
            setattr(obj, name, None)

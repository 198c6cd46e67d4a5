"""Every method of both clients (`Doorward` and `AsyncDoorward`, through
the parametrized `client` fixture) and of their sub-APIs."""

from __future__ import annotations

from functools import partial
from typing import Callable, Optional

import pytest
from conftest import PASSWORD, Client, Opener, resolve, signed_in

import doorward

NEW_PASSWORD = "another long passphrase"


async def register(client: Client, name: str = "john") -> doorward.Registration:
    return await resolve(client.register_user(name, f"{name}@example.com", PASSWORD))


async def test_backend_and_jwks(client: Client) -> None:
    assert client.backend == "memory"
    assert client.jwks() == {"keys": []}  # HS256: the secret is never published
    assert "memory" in repr(client)


async def test_register_login_verify(client: Client) -> None:
    reg = await register(client)
    assert isinstance(reg, doorward.Registration)
    assert (reg.user.username, reg.user.email) == ("john", "john@example.com")
    principal = await resolve(client.verify_token(reg.tokens.access_token))
    assert principal.user_id == reg.user.id
    assert principal.username == "john"
    assert principal.roles == ["user"]

    by_name = await signed_in(client.login("john", PASSWORD))
    by_email = await signed_in(client.login("JOHN@Example.com", PASSWORD))
    sessions = set()
    for pair in (by_name, by_email):
        assert isinstance(pair, doorward.TokenPair)
        p = await resolve(client.verify_token(pair.access_token))
        assert p.user_id == reg.user.id
        sessions.add(p.session_id)
    assert principal.session_id not in sessions
    assert len(sessions) == 2
    user = await resolve(client.users.get(reg.user.id))
    assert user.last_login_at is not None


async def test_refresh_rotates_the_pair(client: Client) -> None:
    reg = await register(client)
    first = await resolve(client.verify_token(reg.tokens.access_token))
    pair = await resolve(client.refresh_token(reg.tokens.refresh_token))
    assert pair.refresh_token != reg.tokens.refresh_token
    assert pair.access_token != reg.tokens.access_token
    second = await resolve(client.verify_token(pair.access_token))
    assert second.session_id == first.session_id
    # The new refresh token refreshes in turn.
    third = await resolve(client.refresh_token(pair.refresh_token))
    assert (await resolve(client.verify_token(third.access_token))).user_id == reg.user.id
    sessions = await resolve(client.sessions.list(reg.user.id))
    assert len(sessions) == 1
    assert sessions[0].last_refreshed_at is not None


async def test_logout_ends_the_session(client: Client) -> None:
    reg = await register(client)
    other = await signed_in(client.login("john", PASSWORD))
    await resolve(client.logout(reg.tokens.access_token))
    with pytest.raises(doorward.TokenRevokedError):
        await resolve(client.verify_token(reg.tokens.access_token))
    with pytest.raises(doorward.TokenRevokedError):
        await resolve(client.refresh_token(reg.tokens.refresh_token))
    # Ending an ended session again is not an error; other sessions live on.
    await resolve(client.logout(reg.tokens.access_token))
    assert (await resolve(client.verify_token(other.access_token))).user_id == reg.user.id


async def test_can_and_require(client: Client) -> None:
    reg = await register(client)
    uid = reg.user.id
    assert await resolve(client.can(uid, "users:read")) is True
    assert await resolve(client.can(uid, doorward.Permission.READ_USERS)) is True
    assert await resolve(client.can(uid, "users:write")) is False
    await resolve(client.require(uid, "users:read"))
    with pytest.raises(doorward.ForbiddenError) as info:
        await resolve(client.require(uid, "users:write"))
    assert "users:write" in str(info.value)
    assert await resolve(client.roles.grant(uid, "moderator")) is True
    assert await resolve(client.can(uid, "users:write")) is True
    await resolve(client.require(uid, doorward.Permission.WRITE_USERS))
    # Unknown users hold nothing.
    assert await resolve(client.can("no-such-user", "users:read")) is False


async def test_issue_tokens(client: Client) -> None:
    user = await resolve(client.users.create("ann", "ann@example.com", PASSWORD))
    info = doorward.ClientInfo(ip="198.51.100.4", user_agent="admin-cli")
    pair = await resolve(client.issue_tokens(user.id, info))
    principal = await resolve(client.verify_token(pair.access_token))
    assert principal.user_id == user.id
    plain = await resolve(client.issue_tokens(user.id))
    assert (await resolve(client.verify_token(plain.access_token))).session_id != (
        principal.session_id
    )
    sessions = {s.id: s for s in await resolve(client.sessions.list(user.id))}
    assert (sessions[principal.session_id].ip, sessions[principal.session_id].user_agent) == (
        "198.51.100.4",
        "admin-cli",
    )
    with pytest.raises(doorward.NotFoundError):
        await resolve(client.issue_tokens("no-such-user"))
    await resolve(client.users.disable(user.id))
    with pytest.raises(doorward.UserDisabledError):
        await resolve(client.issue_tokens(user.id))


async def test_users_create_and_lookups(client: Client) -> None:
    created = await resolve(client.users.create("Ann.Lee", "Ann.Lee@Example.COM", PASSWORD))
    assert isinstance(created, doorward.User)
    assert created.email == "Ann.Lee@example.com"  # domain lowercased, local part kept
    assert created.disabled is False
    assert created.failed_logins == 0
    assert created.last_login_at is None and created.locked_until is None
    # Created, not logged in.
    assert await resolve(client.sessions.list(created.id)) == []
    assert await resolve(client.users.get(created.id)) == created
    assert await resolve(client.users.get_by_email("ann.lee@EXAMPLE.com")) == created
    assert await resolve(client.users.get_by_username("ANN.LEE")) == created
    assert await resolve(client.roles.of_user(created.id)) == ["user"]
    with pytest.raises(doorward.NotFoundError):
        await resolve(client.users.get("no-such-user"))
    with pytest.raises(doorward.NotFoundError):
        await resolve(client.users.get_by_email("nobody@example.com"))
    with pytest.raises(doorward.NotFoundError):
        await resolve(client.users.get_by_username("nobody"))


async def test_users_list_pages_with_a_cursor(client: Client) -> None:
    names = [f"user{i}" for i in range(7)]
    ids = [(await resolve(client.users.create(n, f"{n}@example.com", PASSWORD))).id for n in names]
    seen: list[str] = []
    sizes: list[int] = []
    cursor: Optional[str] = None
    while True:
        page = await resolve(client.users.list(cursor, limit=3))
        assert isinstance(page, doorward.Page)
        sizes.append(len(page))
        seen.extend(u.id for u in page.items)
        cursor = page.next_cursor
        if cursor is None:
            break
        assert isinstance(cursor, str)
    assert sizes == [3, 3, 1]
    assert seen == ids  # creation order, each user once
    everyone = await resolve(client.users.list())
    assert [u.username for u in everyone.items] == names
    assert everyone.next_cursor is None
    exact = await resolve(client.users.list(limit=7))
    assert len(exact) == 7 and exact.next_cursor is None


async def test_users_update(client: Client) -> None:
    reg = await register(client)
    await register(client, "jane")
    updated = await resolve(client.users.update(reg.user.id, username="johnny"))
    assert updated.username == "johnny"
    assert updated.email == "john@example.com"
    assert updated.updated_at >= reg.user.updated_at
    updated = await resolve(client.users.update(reg.user.id, email="johnny@example.org"))
    assert (updated.username, updated.email) == ("johnny", "johnny@example.org")
    assert await resolve(client.users.get(reg.user.id)) == updated
    assert (await resolve(client.users.get_by_username("johnny"))).id == reg.user.id
    with pytest.raises(doorward.NotFoundError):
        await resolve(client.users.get_by_email("john@example.com"))
    with pytest.raises(doorward.DuplicateUsernameError):
        await resolve(client.users.update(reg.user.id, username="JANE"))
    with pytest.raises(doorward.DuplicateEmailError):
        await resolve(client.users.update(reg.user.id, email="jane@example.com"))
    with pytest.raises(doorward.ValidationError) as info:
        await resolve(client.users.update(reg.user.id, email="not-an-email"))
    assert info.value.field == "email"
    # The new name logs in.
    await resolve(client.login("johnny", PASSWORD))


async def test_users_change_password(client: Client) -> None:
    reg = await register(client)
    uid = reg.user.id
    mine = await resolve(client.verify_token(reg.tokens.access_token))
    other = await signed_in(client.login("john", PASSWORD))
    with pytest.raises(doorward.InvalidCredentialsError):
        await resolve(client.users.change_password(uid, "wrong password!", NEW_PASSWORD))
    await resolve(
        client.users.change_password(uid, PASSWORD, NEW_PASSWORD, keep_session=mine.session_id)
    )
    # The caller's own session stays, every other one ends.
    await resolve(client.verify_token(reg.tokens.access_token))
    with pytest.raises(doorward.TokenRevokedError):
        await resolve(client.verify_token(other.access_token))
    with pytest.raises(doorward.InvalidCredentialsError):
        await resolve(client.login("john", PASSWORD))
    await resolve(client.login("john", NEW_PASSWORD))
    # Without keep_session, every session ends.
    pair = await signed_in(client.login("john", NEW_PASSWORD))
    await resolve(client.users.change_password(uid, NEW_PASSWORD, PASSWORD))
    for token in (reg.tokens.access_token, pair.access_token):
        with pytest.raises(doorward.TokenRevokedError):
            await resolve(client.verify_token(token))
    with pytest.raises(doorward.ValidationError) as info:
        await resolve(client.users.change_password(uid, PASSWORD, "short"))
    assert info.value.field == "password"


async def test_users_set_password(client: Client) -> None:
    reg = await register(client)
    await resolve(client.users.set_password(reg.user.id, NEW_PASSWORD))
    with pytest.raises(doorward.TokenRevokedError):
        await resolve(client.verify_token(reg.tokens.access_token))
    with pytest.raises(doorward.InvalidCredentialsError):
        await resolve(client.login("john", PASSWORD))
    await resolve(client.login("john", NEW_PASSWORD))
    with pytest.raises(doorward.NotFoundError):
        await resolve(client.users.set_password("no-such-user", NEW_PASSWORD))


async def test_users_disable_and_enable(client: Client) -> None:
    reg = await register(client)
    uid = reg.user.id
    await resolve(client.users.disable(uid))
    assert (await resolve(client.users.get(uid))).disabled is True
    with pytest.raises(doorward.TokenRevokedError):
        await resolve(client.verify_token(reg.tokens.access_token))
    with pytest.raises(doorward.TokenRevokedError):
        await resolve(client.refresh_token(reg.tokens.refresh_token))
    with pytest.raises(doorward.UserDisabledError):
        await resolve(client.login("john", PASSWORD))
    assert await resolve(client.can(uid, "users:read")) is False
    await resolve(client.users.enable(uid))
    assert (await resolve(client.users.get(uid))).disabled is False
    pair = await signed_in(client.login("john", PASSWORD))
    await resolve(client.verify_token(pair.access_token))


async def test_users_unlock(make: Opener) -> None:
    client = make(lockout_threshold=2)
    reg = await register(client)
    uid = reg.user.id
    assert await resolve(client.users.unlock(uid)) is False  # nothing to clear
    for _ in range(2):
        with pytest.raises(doorward.InvalidCredentialsError):
            await resolve(client.login("john", "wrong password!"))
    locked = await resolve(client.users.get(uid))
    assert locked.failed_logins == 2
    assert locked.locked_until is not None
    with pytest.raises(doorward.AccountLockedError):
        await resolve(client.login("john", PASSWORD))
    assert await resolve(client.users.unlock(uid)) is True
    unlocked = await resolve(client.users.get(uid))
    assert (unlocked.failed_logins, unlocked.locked_until) == (0, None)
    await resolve(client.login("john", PASSWORD))


async def test_users_count(client: Client) -> None:
    assert await resolve(client.users.count()) == 0
    reg = await register(client)
    await register(client, "jane")
    await resolve(client.users.disable(reg.user.id))
    assert await resolve(client.users.count()) == 2  # disabled ones too
    await resolve(client.users.delete(reg.user.id))
    assert await resolve(client.users.count()) == 1


async def test_users_delete(client: Client) -> None:
    reg = await register(client)
    uid = reg.user.id
    await resolve(client.users.delete(uid))
    with pytest.raises(doorward.NotFoundError):
        await resolve(client.users.get(uid))
    with pytest.raises(doorward.TokenRevokedError):
        await resolve(client.verify_token(reg.tokens.access_token))
    with pytest.raises(doorward.InvalidCredentialsError):
        await resolve(client.login("john", PASSWORD))
    with pytest.raises(doorward.NotFoundError):
        await resolve(client.users.delete(uid))
    # The name is free again.
    await register(client)


async def test_roles(client: Client) -> None:
    roles = await resolve(client.roles.list())
    assert [r.name for r in roles] == ["admin", "moderator", "user"]
    assert all(isinstance(r, doorward.Role) and r.builtin for r in roles)
    user_role = await resolve(client.roles.get("user"))
    assert user_role.permissions == ["users:read"]
    assert user_role in roles

    editor = await resolve(client.roles.create("editor", ["posts:*", "*:read"], "Writes posts"))
    assert (editor.name, editor.permissions, editor.description, editor.builtin) == (
        "editor",
        ["posts:*", "*:read"],
        "Writes posts",
        False,
    )
    assert await resolve(client.roles.get("editor")) == editor
    plain = await resolve(client.roles.create("auditor", ["audit:read"]))
    assert plain.description == ""
    assert [r.name for r in await resolve(client.roles.list())] == [
        "admin",
        "auditor",
        "editor",
        "moderator",
        "user",
    ]

    reg = await register(client)
    uid = reg.user.id
    assert await resolve(client.roles.grant(uid, "editor")) is True
    assert await resolve(client.roles.grant(uid, "editor")) is False
    assert sorted(await resolve(client.roles.of_user(uid))) == ["editor", "user"]
    assert await resolve(client.can(uid, "posts:delete")) is True
    assert await resolve(client.can(uid, "billing:read")) is True
    assert await resolve(client.roles.revoke(uid, "editor")) is True
    assert await resolve(client.roles.revoke(uid, "editor")) is False
    assert await resolve(client.can(uid, "posts:delete")) is False
    assert await resolve(client.roles.of_user(uid)) == ["user"]

    # Deleting a role takes it from everyone; built-in roles stay.
    await resolve(client.roles.grant(uid, "editor"))
    await resolve(client.roles.delete("editor"))
    assert await resolve(client.roles.of_user(uid)) == ["user"]
    assert await resolve(client.can(uid, "posts:delete")) is False
    with pytest.raises(doorward.NotFoundError):
        await resolve(client.roles.get("editor"))
    with pytest.raises(doorward.NotFoundError):
        await resolve(client.roles.delete("editor"))
    with pytest.raises(doorward.ValidationError) as info:
        await resolve(client.roles.delete("admin"))
    assert info.value.field == "role"
    with pytest.raises(doorward.NotFoundError):
        await resolve(client.roles.grant(uid, "no-such-role"))
    with pytest.raises(doorward.NotFoundError):
        await resolve(client.roles.revoke("no-such-user", "user"))
    with pytest.raises(doorward.NotFoundError):
        await resolve(client.roles.of_user("no-such-user"))


async def test_sessions(client: Client) -> None:
    reg = await register(client)
    uid = reg.user.id
    second = await signed_in(client.login("john", PASSWORD))
    third = await signed_in(client.login("john", PASSWORD))
    sessions = await resolve(client.sessions.list(uid))
    assert all(isinstance(s, doorward.Session) and s.user_id == uid for s in sessions)
    newest = await resolve(client.verify_token(third.access_token))
    oldest = await resolve(client.verify_token(reg.tokens.access_token))
    assert len(sessions) == 3
    assert sessions[0].id == newest.session_id  # newest first
    assert sessions[-1].id == oldest.session_id

    await resolve(client.sessions.revoke(oldest.session_id))
    with pytest.raises(doorward.TokenRevokedError):
        await resolve(client.verify_token(reg.tokens.access_token))
    with pytest.raises(doorward.NotFoundError):
        await resolve(client.sessions.revoke(oldest.session_id))
    assert len(await resolve(client.sessions.list(uid))) == 2

    assert await resolve(client.sessions.revoke_all(uid)) == 2
    assert await resolve(client.sessions.list(uid)) == []
    for pair in (second, third):
        with pytest.raises(doorward.TokenRevokedError):
            await resolve(client.verify_token(pair.access_token))
    assert await resolve(client.sessions.revoke_all(uid)) == 0
    with pytest.raises(doorward.NotFoundError):
        await resolve(client.sessions.list("no-such-user"))
    with pytest.raises(doorward.NotFoundError):
        await resolve(client.sessions.revoke_all("no-such-user"))


async def test_sessions_carry_client_info(client: Client) -> None:
    """Requirement 9: the ClientInfo given at login (and registration) is on
    the session."""
    first = doorward.ClientInfo(ip="203.0.113.7", user_agent="Mozilla/5.0 (X11)")
    reg = await resolve(client.register_user("john", "john@example.com", PASSWORD, first))
    second = doorward.ClientInfo(ip="2001:db8::1", user_agent="curl/8.0")
    pair = await signed_in(client.login("john", PASSWORD, client=second))
    only_ip = await signed_in(client.login("john", PASSWORD, doorward.ClientInfo(ip="192.0.2.1")))
    bare = await signed_in(client.login("john", PASSWORD))
    by_session = {s.id: s for s in await resolve(client.sessions.list(reg.user.id))}
    expected = [
        (reg.tokens, ("203.0.113.7", "Mozilla/5.0 (X11)")),
        (pair, ("2001:db8::1", "curl/8.0")),
        (only_ip, ("192.0.2.1", None)),
        (bare, (None, None)),
    ]
    for tokens, (ip, agent) in expected:
        sid = (await resolve(client.verify_token(tokens.access_token))).session_id
        assert (by_session[sid].ip, by_session[sid].user_agent) == (ip, agent)


def test_client_info() -> None:
    info = doorward.ClientInfo(ip="203.0.113.7", user_agent="UA")
    assert (info.ip, info.user_agent) == ("203.0.113.7", "UA")
    assert info == doorward.ClientInfo("203.0.113.7", "UA")
    assert hash(info) == hash(doorward.ClientInfo("203.0.113.7", "UA"))
    assert info != doorward.ClientInfo(ip="203.0.113.7")
    empty = doorward.ClientInfo()
    assert (empty.ip, empty.user_agent) == (None, None)
    assert "203.0.113.7" in repr(info)


async def test_limits(client: Client) -> None:
    first = await resolve(client.limits.limit("api:ann", "2/1m"))
    assert isinstance(first, doorward.Decision)
    assert first.remaining == 1
    assert 0 < first.reset_after <= 60
    second = await resolve(client.limits.limit("api:ann", "2/1m"))
    assert second.remaining == 0
    with pytest.raises(doorward.RateLimitedError) as info:
        await resolve(client.limits.limit("api:ann", "2/1m"))
    assert info.value.retry_after is not None and 0 < info.value.retry_after <= 60
    # Keys are independent.
    assert (await resolve(client.limits.limit("api:bob", "2/1m"))).remaining == 1
    with pytest.raises(doorward.ValidationError) as bad:
        await resolve(client.limits.limit("api:ann", "lots"))
    assert bad.value.field == "quota"


async def test_methods_without_a_result_return_none(client: Client) -> None:
    """The stubs say `None` (`Awaitable[None]` for AsyncDoorward) for every
    method that has no result; both clients must give exactly None."""
    reg = await register(client)
    uid = reg.user.id
    other = await signed_in(client.login("john", PASSWORD))
    sid = (await resolve(client.verify_token(other.access_token))).session_id
    await resolve(client.roles.create("temp", ["temp:read"]))
    calls: list[tuple[str, Callable[[], object]]] = [
        ("require", partial(client.require, uid, "users:read")),
        ("sessions.revoke", partial(client.sessions.revoke, sid)),
        ("logout", partial(client.logout, reg.tokens.access_token)),
        ("users.change_password", partial(client.users.change_password, uid, PASSWORD, "x" * 20)),
        ("users.set_password", partial(client.users.set_password, uid, PASSWORD)),
        ("users.disable", partial(client.users.disable, uid)),
        ("users.enable", partial(client.users.enable, uid)),
        ("roles.delete", partial(client.roles.delete, "temp")),
        ("users.delete", partial(client.users.delete, uid)),
    ]
    results = {name: await resolve(call()) for name, call in calls}
    wrong = {name: value for name, value in results.items() if value is not None}
    assert not wrong, f"{type(client).__name__} methods returned non-None: {wrong!r}"


async def test_the_sync_answers_come_from_memory_or_would_block(make: Opener) -> None:
    client = make(session_cache_ttl=30)
    reg = await register(client)
    token = reg.tokens.access_token
    user_id = reg.user.id

    # Not looked up in this process yet: only the ordinary call may answer.
    with pytest.raises(doorward.WouldBlockError) as err:
        client.verify_token_sync(token)
    assert err.value.code == "would_block"
    assert (await resolve(client.verify_token(token))).user_id == user_id
    assert client.verify_token_sync(token).user_id == user_id
    with pytest.raises(doorward.TokenInvalidError):
        client.verify_token_sync("not.a.token")

    with pytest.raises(doorward.WouldBlockError):
        client.can_sync(user_id, "users:read")
    assert await resolve(client.can(user_id, "users:read"))
    assert client.can_sync(user_id, "users:read")
    assert not client.can_sync(user_id, "users:write")
    with pytest.raises(doorward.ValidationError):
        client.can_sync(user_id, "not a permission")

    # Answered from memory, the ordinary calls behave as before: a value, or
    # an error raised where the answer is taken (awaited, for AsyncDoorward).
    if isinstance(client, doorward.AsyncDoorward):
        answer = client.verify_token("not.a.token")
        with pytest.raises(doorward.TokenInvalidError):
            await answer
    with pytest.raises(doorward.ForbiddenError):
        await resolve(client.require(user_id, "users:write"))
    await resolve(client.require(user_id, "users:read"))

    # A logout drops the cached session: the sync call no longer knows.
    await resolve(client.logout(token))
    with pytest.raises(doorward.WouldBlockError):
        client.verify_token_sync(token)
    with pytest.raises(doorward.TokenRevokedError):
        await resolve(client.verify_token(token))


async def test_a_done_awaitable_is_awaited_once(make: Opener) -> None:
    client = make(stateless_verify=True)
    if not isinstance(client, doorward.AsyncDoorward):
        pytest.skip("AsyncDoorward only")
    reg = await register(client)
    answer = client.verify_token(reg.tokens.access_token)
    assert (await answer).username == "john"
    with pytest.raises(RuntimeError):
        await answer

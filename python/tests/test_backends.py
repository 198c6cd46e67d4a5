"""Every backend through the configuration alone: memory://, a SQLite file,
PostgreSQL (a fresh schema per test) and Redis (a prefix per test), and two
instances sharing a database and Redis."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import PASSWORD, Client, Opener, resolve, signed_in

import doorward


@pytest.fixture(params=["memory", "sqlite", "postgres", "sqlite+redis", "postgres+redis"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, dict[str, Any]]:
    """The store `backend` reports, and the configuration that selects it.
    Services are requested lazily, so only the cases that need one skip."""
    name = str(request.param)
    config: dict[str, Any] = {}
    if name.startswith("sqlite"):
        config["database_url"] = f"sqlite://{tmp_path / 'auth.db'}"
    if name.startswith("postgres"):
        config["database_url"] = request.getfixturevalue("postgres_url")
    if name.endswith("+redis"):
        config.update(request.getfixturevalue("redis_config"))
    return name.split("+")[0], config


async def test_representative_flow(backend: tuple[str, dict[str, Any]], make: Opener) -> None:
    store, config = backend
    client = make(**config)
    assert client.backend == store
    info = doorward.ClientInfo(ip="203.0.113.9", user_agent="flow/1.0")

    reg = await resolve(client.register_user("john", "john@example.com", PASSWORD, info))
    with pytest.raises(doorward.DuplicateEmailError):
        await resolve(client.register_user("other", "JOHN@example.com", PASSWORD))
    pair = await signed_in(client.login("John", PASSWORD, info))
    principal = await resolve(client.verify_token(pair.access_token))
    assert (principal.user_id, principal.username) == (reg.user.id, "john")
    sessions = await resolve(client.sessions.list(reg.user.id))
    assert len(sessions) == 2
    assert {(s.ip, s.user_agent) for s in sessions} == {("203.0.113.9", "flow/1.0")}

    # RBAC
    uid = reg.user.id
    assert await resolve(client.can(uid, "users:read")) is True
    with pytest.raises(doorward.ForbiddenError):
        await resolve(client.require(uid, "users:write"))
    assert await resolve(client.roles.grant(uid, "moderator")) is True
    await resolve(client.require(uid, "users:write"))
    await resolve(client.roles.create("editor", ["posts:*"]))
    await resolve(client.roles.grant(uid, "editor"))
    assert await resolve(client.can(uid, "posts:publish")) is True
    assert sorted(await resolve(client.roles.of_user(uid))) == ["editor", "moderator", "user"]
    assert await resolve(client.roles.revoke(uid, "moderator")) is True
    assert await resolve(client.can(uid, "users:write")) is False

    # Refresh, then reuse detection revokes the family.
    newer = await resolve(client.refresh_token(pair.refresh_token))
    assert (await resolve(client.verify_token(newer.access_token))).session_id == (
        principal.session_id
    )
    with pytest.raises(doorward.TokenReusedError):
        await resolve(client.refresh_token(pair.refresh_token))
    with pytest.raises(doorward.TokenRevokedError):
        await resolve(client.verify_token(newer.access_token))

    # Logout ends only its own session.
    await resolve(client.verify_token(reg.tokens.access_token))
    await resolve(client.logout(reg.tokens.access_token))
    with pytest.raises(doorward.TokenRevokedError):
        await resolve(client.verify_token(reg.tokens.access_token))
    assert await resolve(client.sessions.list(uid)) == []

    # Users: paging, lookups, lockout state.
    for i in range(4):
        await resolve(client.users.create(f"user{i}", f"user{i}@example.com", PASSWORD))
    first = await resolve(client.users.list(limit=3))
    rest = await resolve(client.users.list(first.next_cursor, limit=3))
    assert [u.username for u in first.items + rest.items] == [
        "john",
        "user0",
        "user1",
        "user2",
        "user3",
    ]
    assert rest.next_cursor is None
    assert await resolve(client.users.get_by_email("JOHN@example.com")) == await resolve(
        client.users.get(uid)
    )
    await resolve(client.users.delete(uid))
    with pytest.raises(doorward.NotFoundError):
        await resolve(client.users.get(uid))


async def test_sqlite_file_persists(make: Opener, tmp_path: Path) -> None:
    url = f"sqlite://{tmp_path / 'auth.db'}"
    reg = await resolve(make(database_url=url).register_user("john", "john@example.com", PASSWORD))
    reopened = make(database_url=url)
    assert (await resolve(reopened.users.get(reg.user.id))).username == "john"
    principal = await resolve(reopened.verify_token(reg.tokens.access_token))
    assert principal.user_id == reg.user.id


async def test_postgres_schemas_are_isolated(make: Opener, postgres_url: str) -> None:
    client = make(database_url=postgres_url)
    assert client.backend == "postgres"
    assert (await resolve(client.users.list())).items == []  # a fresh, empty schema
    user = await resolve(client.users.create("john", "john@example.com", PASSWORD))
    again = make(database_url=postgres_url)
    assert await resolve(again.users.get(user.id)) == user


@pytest.fixture
def pair(make: Opener, redis_config: dict[str, Any], tmp_path: Path) -> tuple[Client, Client]:
    """Two instances on one database (a SQLite file) and one Redis prefix."""
    config = {"database_url": f"sqlite://{tmp_path / 'shared.db'}", **redis_config}
    return make(**config), make(**config)


async def test_redis_a_logout_on_one_instance_is_refused_on_the_other(
    pair: tuple[Client, Client],
) -> None:
    a, b = pair
    reg = await resolve(a.register_user("ann", "ann@example.com", PASSWORD))
    on_b = await signed_in(b.login("ann", PASSWORD))
    # Each accepts the other's sessions.
    assert (await resolve(b.verify_token(reg.tokens.access_token))).user_id == reg.user.id
    assert (await resolve(a.verify_token(on_b.access_token))).user_id == reg.user.id
    # A logout on A is refused on B at once, with no waiting.
    await resolve(a.logout(reg.tokens.access_token))
    with pytest.raises(doorward.TokenRevokedError):
        await resolve(b.verify_token(reg.tokens.access_token))
    # ...and the other way round, for a revocation on B.
    sid = (await resolve(a.verify_token(on_b.access_token))).session_id
    await resolve(b.sessions.revoke(sid))
    with pytest.raises(doorward.TokenRevokedError):
        await resolve(a.verify_token(on_b.access_token))


async def test_redis_instances_share_rate_limits(pair: tuple[Client, Client]) -> None:
    a, b = pair
    assert (await resolve(a.limits.limit("export:ann", "2/1m"))).remaining == 1
    assert (await resolve(b.limits.limit("export:ann", "2/1m"))).remaining == 0
    with pytest.raises(doorward.RateLimitedError) as on_a:
        await resolve(a.limits.limit("export:ann", "2/1m"))
    with pytest.raises(doorward.RateLimitedError) as on_b:
        await resolve(b.limits.limit("export:ann", "2/1m"))
    for err in (on_a.value, on_b.value):
        assert err.retry_after is not None and err.retry_after > 0


async def test_without_redis_instances_limit_on_their_own(make: Opener, tmp_path: Path) -> None:
    """The control for the test above: no Redis, no sharing."""
    url = f"sqlite://{tmp_path / 'shared.db'}"
    a, b = make(database_url=url), make(database_url=url)
    for _ in range(2):
        await resolve(a.limits.limit("export:ann", "2/1m"))
    with pytest.raises(doorward.RateLimitedError):
        await resolve(a.limits.limit("export:ann", "2/1m"))
    assert (await resolve(b.limits.limit("export:ann", "2/1m"))).remaining == 1


async def test_redis_instances_share_login_throttling(
    make: Opener, redis_config: dict[str, Any], tmp_path: Path
) -> None:
    config = {
        "database_url": f"sqlite://{tmp_path / 'shared.db'}",
        "rate_limit_login_account": "2/1m",
        **redis_config,
    }
    a, b = make(**config), make(**config)
    await resolve(a.users.create("ann", "ann@example.com", PASSWORD))
    for client in (a, b):
        with pytest.raises(doorward.InvalidCredentialsError):
            await resolve(client.login("ann", "not the password"))
    with pytest.raises(doorward.RateLimitedError):
        await resolve(a.login("ann", PASSWORD))
    with pytest.raises(doorward.RateLimitedError):
        await resolve(b.login("ann", PASSWORD))


async def test_events_webhooks_and_audit(backend: tuple[str, dict[str, Any]], make: Opener) -> None:
    # The outbox, a durable subscriber, a webhook and the audit chain on
    # every store.
    from receiver import Receiver
    from standardwebhooks.webhooks import Webhook as StandardWebhook

    _, config = backend
    client = make(**config, webhook_allow_private=True)  # the receiver is on loopback
    seen: list[str] = []
    sub = await resolve(
        client.events.subscribe(
            lambda e: seen.append(e.payload["username"]), types=["UserRegistered"], name="py-test"
        )
    )
    with Receiver() as receiver:
        hook = await resolve(client.webhooks.add(receiver.url, ["UserRegistered"]))
        for name in ("ann", "bob"):
            await resolve(client.register_user(name, f"{name}@example.com", PASSWORD))
        await resolve(client.events.flush())
    sub.close()
    assert seen == ["ann", "bob"]
    bodies = [StandardWebhook(hook.secret).verify(r.body, r.headers) for r in receiver.requests]
    # Deliveries are sent concurrently: receivers order by the event's seq.
    bodies.sort(key=lambda b: b["data"]["seq"])
    assert [b["data"]["payload"]["username"] for b in bodies] == ["ann", "bob"]
    page = await resolve(client.events.list())
    # Adding the webhook is an event too, written with it.
    registered = ["UserRegistered", "LoginSucceeded"] * 2
    assert [e.type for e in page.items] == ["WebhookAdded", *registered]
    assert page.items[0].subject == hook.id
    verification = await resolve(client.audit.verify())
    assert (verification.ok, verification.rows) == (True, 5)
    assert len((await resolve(client.audit.list(type="LoginSucceeded"))).items) == 2

"""`dw.audit`: listing with filters and pages, the JSON Lines export, and
verification of the hash chain."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from conftest import PASSWORD, Client, resolve

import doorward


async def history(client: Client) -> tuple[doorward.User, doorward.User]:
    """Two users, a grant, a failed login; flushed into the audit log."""
    john = (await resolve(client.register_user("john", "john@example.com", PASSWORD))).user
    jane = await resolve(client.users.create("jane", "jane@example.com", PASSWORD))
    await resolve(client.roles.grant(jane.id, "moderator"))
    with pytest.raises(doorward.InvalidCredentialsError):
        await resolve(client.login("john", "not the password at all"))
    await resolve(client.events.flush())
    return john, jane


async def test_list_by_user_and_by_type(client: Client) -> None:
    john, jane = await history(client)

    everything = await resolve(client.audit.list())
    assert isinstance(everything, doorward.AuditPage)
    assert [r.event_type for r in everything.items] == [
        "UserRegistered",
        "LoginSucceeded",
        "UserRegistered",
        "RoleGranted",
        "LoginFailed",
    ]
    assert [r.seq for r in everything.items] == [1, 2, 3, 4, 5]
    assert everything.next_cursor is None

    johns = await resolve(client.audit.list(user_id=john.id))
    assert [r.event_type for r in johns.items] == [
        "UserRegistered",
        "LoginSucceeded",
        "LoginFailed",
    ]
    janes = await resolve(client.audit.list(user_id=jane.id))
    assert [r.event_type for r in janes.items] == ["UserRegistered", "RoleGranted"]

    failed = await resolve(client.audit.list(type="LoginFailed"))
    (row,) = failed.items
    assert isinstance(row, doorward.AuditRecord)
    assert (row.outcome, row.subject) == ("failure", john.id)
    assert row.details["reason"] == "wrong_password"
    assert row.to_dict()["details"] == row.details
    assert "LoginFailed" in repr(row)
    granted = (await resolve(client.audit.list(type="RoleGranted"))).items[0]
    assert granted.outcome == "success"
    assert granted.prev_hash == everything.items[2].hash

    with pytest.raises(doorward.ValidationError) as caught:
        await resolve(client.audit.list(type="NoSuchEvent"))
    assert caught.value.field == "event_type"


async def test_pages_and_time_windows(client: Client) -> None:
    await history(client)
    first = await resolve(client.audit.list(limit=2))
    assert len(first) == 2 and first.next_cursor is not None
    second = await resolve(client.audit.list(cursor=first.next_cursor, limit=2))
    third = await resolve(client.audit.list(cursor=second.next_cursor, limit=2))
    assert third.next_cursor is None
    assert [r.seq for r in first.items + second.items + third.items] == [1, 2, 3, 4, 5]

    now = datetime.now(timezone.utc)
    hour = timedelta(hours=1)
    assert len(await resolve(client.audit.list(since=now - hour, until=now + hour))) == 5
    assert len(await resolve(client.audit.list(since=now + hour))) == 0
    assert len(await resolve(client.audit.list(until=now - hour))) == 0
    with pytest.raises(TypeError):
        await resolve(client.audit.list(since=datetime.now()))  # naive: no zone


async def test_export_is_json_lines(client: Client) -> None:
    await history(client)
    lines = (await resolve(client.audit.export())).splitlines()
    rows = [json.loads(line) for line in lines]
    listed = (await resolve(client.audit.list())).items
    assert [r["seq"] for r in rows] == [r.seq for r in listed]
    assert [r["hash"] for r in rows] == [r.hash for r in listed]
    assert rows[0]["event_type"] == "UserRegistered"
    later = datetime.now(timezone.utc) + timedelta(hours=1)
    assert await resolve(client.audit.export(since=later)) == ""


async def test_verify(client: Client) -> None:
    empty = await resolve(client.audit.verify())
    assert (empty.ok, empty.rows, empty.first_bad_seq, empty.problem) == (True, 0, None, None)
    await history(client)
    result = await resolve(client.audit.verify())
    assert isinstance(result, doorward.AuditVerification)
    assert result and result.ok
    assert result.rows == 5
    assert result.head == (await resolve(client.audit.list())).items[-1].hash
    assert "ok=True" in repr(result)

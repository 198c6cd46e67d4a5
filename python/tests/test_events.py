"""`dw.events`: callables subscribed on both clients, the sync and async
streams, the outbox list, and what a handler may and may not do."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Callable

import pytest
from conftest import PASSWORD, Client, Opener, resolve

import doorward

#: Retries due at once, so a test only has to flush again.
FAST_RETRY: dict[str, Any] = {"events_retry_base_ms": 1, "events_retry_max_secs": 1}


async def register(client: Client, name: str) -> doorward.Registration:
    return await resolve(client.register_user(name, f"{name}@example.com", PASSWORD))


async def flush_until(client: Client, done: Callable[[], bool]) -> None:
    """Flush until `done()`, for at most 10 s. A retry is due a few
    milliseconds after a failure and `flush` does not wait for it, hence
    the short pause between rounds."""
    deadline = time.monotonic() + 10
    while not done():
        assert time.monotonic() < deadline, "not delivered within 10 s"
        await resolve(client.events.flush())
        await asyncio.sleep(0.005)


async def test_a_subscribed_callable_receives_user_registered(client: Client) -> None:
    seen: list[doorward.Event] = []
    sub = await resolve(client.events.subscribe(seen.append, types=["UserRegistered"]))
    assert isinstance(sub, doorward.Subscription)
    assert sub.is_open
    reg = await register(client, "john")
    await resolve(client.events.flush())

    assert [e.type for e in seen] == ["UserRegistered"]
    event = seen[0]
    assert isinstance(event, doorward.Event)
    assert (event.subject, event.actor) == (reg.user.id, reg.user.id)
    assert (event.payload["user_id"], event.payload["username"]) == (reg.user.id, "john")
    assert event.occurred_at.tzinfo is not None
    assert event.version == 1
    assert event.seq > 0
    d = event.to_dict()
    assert (d["type"], d["id"], d["payload"]) == ("UserRegistered", event.id, event.payload)
    assert "UserRegistered" in repr(event)
    assert "john@example.com" not in repr(event)
    # The payload is a copy: changing it leaves the event as it was.
    event.payload["username"] = "changed"
    assert event.payload["username"] == "john"

    sub.close()
    assert not sub.is_open
    sub.close()  # harmless
    await register(client, "jane")
    await resolve(client.events.flush())
    assert len(seen) == 1


async def test_all_types_without_a_filter_and_with_as_a_context_manager(client: Client) -> None:
    seen: list[str] = []
    with await resolve(client.events.subscribe(lambda e: seen.append(e.type))) as sub:
        await register(client, "john")
        await resolve(client.events.flush())
    assert not sub.is_open
    assert seen == ["UserRegistered", "LoginSucceeded"]


async def test_a_raising_handler_is_retried_and_logged(
    make: Opener, caplog: pytest.LogCaptureFixture
) -> None:
    client = make(**FAST_RETRY)
    calls: list[str] = []

    def flaky(event: doorward.Event) -> None:
        calls.append(event.id)
        if len(calls) == 1:
            raise ValueError("the receiving system is down")

    with caplog.at_level(logging.ERROR, logger="doorward.events"):
        sub = await resolve(client.events.subscribe(flaky, types=["UserRegistered"]))
        await register(client, "john")
        await flush_until(client, lambda: len(calls) >= 2)
    sub.close()

    assert len(calls) == 2
    assert calls[0] == calls[1], "the same event, again"
    failures = [r for r in caplog.records if r.name == "doorward.events"]
    assert len(failures) == 1
    assert "UserRegistered" in failures[0].getMessage()
    assert failures[0].exc_info is not None
    assert isinstance(failures[0].exc_info[1], ValueError)


async def test_a_handler_may_call_the_blocking_api(make: Opener) -> None:
    # The handler runs on a thread of its own: blocking calls work there,
    # whichever client subscribed it.
    sync = doorward.Doorward(database_url="memory://")
    client = make()
    names: list[str] = []

    def look_up(event: doorward.Event) -> None:
        names.append(sync.backend)
        names.append(event.payload["username"])

    sub = await resolve(client.events.subscribe(look_up, types=["UserRegistered"]))
    await register(client, "john")
    await resolve(client.events.flush())
    sub.close()
    assert names == ["memory", "john"]


def test_flush_from_a_handler_is_refused(caplog: pytest.LogCaptureFixture) -> None:
    # The dispatcher waits for the handler, so a flush there would wait for
    # itself: it raises instead, and the event is retried.
    dw = doorward.Doorward({"database_url": "memory://", **FAST_RETRY, "events_max_attempts": 1})
    errors: list[BaseException] = []

    def flushing(event: doorward.Event) -> None:
        try:
            dw.events.flush()
        except RuntimeError as err:
            errors.append(err)
            raise

    with (
        caplog.at_level(logging.ERROR, logger="doorward.events"),
        dw.events.subscribe(flushing, types=["RoleCreated"]),
    ):
        dw.roles.create("editor", ["posts:write"])
        dw.events.flush()
    assert len(errors) == 1
    assert "event handler" in str(errors[0])


async def test_handlers_must_be_plain_callables(client: Client) -> None:
    with pytest.raises(TypeError, match="callable"):
        await resolve(client.events.subscribe("not callable"))  # type: ignore[arg-type]

    async def coroutine(event: doorward.Event) -> None:
        pass

    with pytest.raises(TypeError, match="stream"):
        await resolve(client.events.subscribe(coroutine))


async def test_unknown_types_and_bad_names_are_validation_errors(client: Client) -> None:
    with pytest.raises(doorward.ValidationError) as caught:
        await resolve(client.events.subscribe(print, types=["UserRegistred"]))
    assert caught.value.field == "event_type"
    with pytest.raises(doorward.ValidationError) as caught:
        await resolve(client.events.subscribe(print, name="not a name!"))
    assert caught.value.field == "name"


async def test_subscribing_without_a_dispatcher_is_a_config_error(make: Opener) -> None:
    client = make(events_dispatch=False)
    with pytest.raises(doorward.ConfigError):
        await resolve(client.events.subscribe(print))


async def test_list_pages_through_the_outbox(client: Client) -> None:
    for name in ("ann", "bob", "cid"):
        await register(client, name)
    first = await resolve(client.events.list(limit=4))
    assert isinstance(first, doorward.EventPage)
    assert len(first) == 4
    assert first.next_cursor is not None
    rest = await resolve(client.events.list(cursor=first.next_cursor, limit=4))
    assert rest.next_cursor is None
    events = first.items + rest.items
    assert [e.type for e in events] == ["UserRegistered", "LoginSucceeded"] * 3
    seqs = [e.seq for e in events]
    assert seqs == sorted(seqs)
    assert len(set(events)) == 6  # hashable, unique by id
    assert [e.payload["username"] for e in events[::2]] == ["ann", "bob", "cid"]
    with pytest.raises(doorward.ValidationError) as caught:
        await resolve(client.events.list(cursor="not-a-cursor"))
    assert caught.value.field == "cursor"


async def test_the_async_stream_yields_events_in_order() -> None:
    dw = doorward.AsyncDoorward(database_url="memory://")
    async with dw.events.stream(types=["UserRegistered"]) as events:
        assert events.is_open
        for name in ("ann", "bob", "cid"):
            await dw.users.create(name, f"{name}@example.com", PASSWORD)
        await dw.events.flush()
        got: list[str] = []

        async def take_three() -> None:
            async for event in events:
                got.append(event.payload["username"])
                if len(got) == 3:
                    return

        await asyncio.wait_for(take_three(), timeout=10)
    assert got == ["ann", "bob", "cid"]
    assert not events.is_open
    # A closed stream ends its iteration.
    assert [e async for e in events] == []


async def test_closing_an_async_stream_wakes_its_reader() -> None:
    dw = doorward.AsyncDoorward(database_url="memory://")
    async with dw.events.stream() as events:

        async def read_all() -> list[doorward.Event]:
            return [e async for e in events]

        reader = asyncio.create_task(read_all())
        await asyncio.sleep(0)  # let it start waiting
        events.close()
        assert await asyncio.wait_for(reader, timeout=10) == []


async def test_an_async_stream_is_entered_before_use() -> None:
    dw = doorward.AsyncDoorward(database_url="memory://")
    stream = dw.events.stream()
    with pytest.raises(RuntimeError, match="async with"):
        await stream.__anext__()


def test_the_sync_stream_yields_events_in_order() -> None:
    dw = doorward.Doorward(database_url="memory://")
    with dw.events.stream(types=["UserRegistered"], timeout=10) as events:
        for name in ("ann", "bob", "cid"):
            dw.users.create(name, f"{name}@example.com", PASSWORD)
        dw.events.flush()
        got = [next(events).payload["username"] for _ in range(3)]
    assert got == ["ann", "bob", "cid"]
    assert not events.is_open
    assert list(events) == []

    # With a timeout, iteration ends when nothing comes for that long.
    with dw.events.stream(timeout=0.05) as quiet:
        assert list(quiet) == []


def test_an_async_stream_whose_loop_is_gone_closes_itself() -> None:
    dw = doorward.AsyncDoorward(database_url="memory://")
    stream = dw.events.stream(types=["RoleCreated"])

    async def enter_and_abandon() -> None:
        await stream.__aenter__()

    asyncio.run(enter_and_abandon())
    assert stream.is_open

    async def commit() -> None:
        await dw.roles.create("editor", ["posts:write"])
        await dw.events.flush()

    asyncio.run(commit())
    assert not stream.is_open

"""`dw.webhooks` and webhook delivery against a loopback receiver: the
signature checked with the independent `standardwebhooks` package, retries,
dead letters and replay."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest
from conftest import PASSWORD, Client, Opener, resolve
from receiver import Receiver
from standardwebhooks.webhooks import Webhook as StandardWebhook
from standardwebhooks.webhooks import WebhookVerificationError

import doorward

#: Retries due at once, so a test only has to flush again.
FAST_RETRY: dict[str, Any] = {"events_retry_base_ms": 1, "events_retry_max_secs": 1}
#: The receivers listen on loopback, which webhooks reach only when allowed.
LOCAL: dict[str, Any] = {"webhook_allow_private": True}


@pytest.fixture
def client(make: Opener) -> Client:
    return make(**LOCAL)


async def flush_until(client: Client, done: Any, what: str) -> None:
    """Flush until `done()`, for at most 10 s. A retry is due a few
    milliseconds after a failure and `flush` does not wait for it, hence
    the short pause between rounds."""
    deadline = time.monotonic() + 10
    while not await resolve(done()):
        assert time.monotonic() < deadline, f"{what} within 10 s"
        await resolve(client.events.flush())
        await asyncio.sleep(0.005)


async def test_add_list_remove(client: Client) -> None:
    hook = await resolve(client.webhooks.add("https://example.com/hooks", ["UserRegistered"]))
    assert isinstance(hook, doorward.Webhook)
    assert hook.id.startswith("wh_")
    assert hook.url == "https://example.com/hooks"
    assert hook.event_types == ["UserRegistered"]
    assert hook.secret.startswith("whsec_")
    assert hook.created_at.tzinfo is not None
    assert hook.secret not in repr(hook)
    assert "<hidden>" in repr(hook)
    everything = await resolve(client.webhooks.add("http://127.0.0.1:9/all"))
    assert everything.event_types == []

    assert await resolve(client.webhooks.list()) == [hook, everything]
    await resolve(client.webhooks.remove(hook.id))
    assert [h.id for h in await resolve(client.webhooks.list())] == [everything.id]
    with pytest.raises(doorward.NotFoundError):
        await resolve(client.webhooks.remove(hook.id))
    with pytest.raises(doorward.NotFoundError):
        await resolve(client.webhooks.test(hook.id))


async def test_bad_urls_and_types_are_validation_errors(client: Client) -> None:
    for url in ("not a url", "ftp://example.com/x"):
        with pytest.raises(doorward.ValidationError) as caught:
            await resolve(client.webhooks.add(url))
        assert caught.value.field == "url"
    with pytest.raises(doorward.ValidationError) as caught:
        await resolve(client.webhooks.add("https://example.com", ["NoSuchEvent"]))
    assert caught.value.field == "event_type"


async def test_private_targets_are_refused_unless_allowed(make: Opener) -> None:
    strict = make()
    for url in (
        "http://127.0.0.1:9/hook",
        "http://[::1]/hook",
        "http://[::ffff:10.0.0.1]/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://localhost:8080/hook",
    ):
        with pytest.raises(doorward.ValidationError) as caught:
            await resolve(strict.webhooks.add(url))
        assert caught.value.field == "url", url
    assert await resolve(strict.webhooks.list()) == []
    allowed = await resolve(make(**LOCAL).webhooks.add("http://127.0.0.1:9/hook"))
    assert allowed.url == "http://127.0.0.1:9/hook"


async def test_test_reports_how_the_receiver_answered(client: Client) -> None:
    with Receiver() as ok, Receiver(always_fail=True) as failing:
        good = await resolve(client.webhooks.add(ok.url))
        bad = await resolve(client.webhooks.add(failing.url))
        result = await resolve(client.webhooks.test(good.id))
        assert isinstance(result, doorward.WebhookTest)
        assert (result.ok, result.error, bool(result)) == (True, None, True)
        result = await resolve(client.webhooks.test(bad.id))
        assert not result.ok
        assert result.error is not None and "500" in result.error
    body = json.loads(ok.requests[0].body)
    assert body["type"] == "doorward.test"
    StandardWebhook(good.secret).verify(ok.requests[0].body, ok.requests[0].headers)


async def test_deliveries_are_signed_per_standard_webhooks(client: Client) -> None:
    with Receiver() as receiver:
        hook = await resolve(client.webhooks.add(receiver.url, ["UserRegistered"]))
        reg = await resolve(client.register_user("john", "john@example.com", PASSWORD))
        await resolve(client.events.flush())

    assert len(receiver.requests) == 1
    request = receiver.requests[0]
    message = StandardWebhook(hook.secret).verify(request.body, request.headers)
    assert message["type"] == "UserRegistered"
    assert message["data"]["subject"] == reg.user.id
    # Another secret, or a changed body, fails verification.
    other = await resolve(client.webhooks.add("https://example.com/other"))
    with pytest.raises(WebhookVerificationError):
        StandardWebhook(other.secret).verify(request.body, request.headers)
    with pytest.raises(WebhookVerificationError):
        StandardWebhook(hook.secret).verify(request.body.replace(b"john", b"jane"), request.headers)

    delivered = await resolve(client.events.deliveries(status="delivered"))
    assert [(d.webhook_id, d.event_type, d.attempts) for d in delivered] == [
        (hook.id, "UserRegistered", 1)
    ]
    assert delivered[0].to_dict()["status"] == "delivered"


async def test_a_receiver_that_fails_three_times_gets_the_event(make: Opener) -> None:
    client = make(**LOCAL, **FAST_RETRY)
    with Receiver(fail_first=3) as receiver:
        await resolve(client.webhooks.add(receiver.url, ["UserRegistered"]))
        await resolve(client.register_user("john", "john@example.com", PASSWORD))

        async def delivered() -> bool:
            return bool(receiver.delivered)

        await flush_until(client, delivered, "delivered after three failures")

    assert [r.answered for r in receiver.requests] == [500, 500, 500, 204]
    assert len({r.headers["webhook-id"] for r in receiver.requests}) == 1, "one message id"
    (record,) = await resolve(client.events.deliveries())
    assert (record.status, record.attempts) == ("delivered", 4)
    assert await resolve(client.events.dead()) == []


async def test_an_always_failing_receiver_is_dead_lettered_and_replayed(make: Opener) -> None:
    # No background dispatcher: the replayed delivery must still be pending
    # when it is listed, so the test alone drives delivery, with flush.
    client = make(events_max_attempts=2, events_dispatch=False, **LOCAL, **FAST_RETRY)
    with Receiver(always_fail=True) as failing, Receiver() as healthy:
        hook = await resolve(client.webhooks.add(failing.url, ["UserRegistered"]))
        await resolve(client.register_user("john", "john@example.com", PASSWORD))

        async def dead() -> bool:
            return bool(await resolve(client.events.dead()))

        await flush_until(client, dead, "dead-lettered")
        (record,) = await resolve(client.events.dead())
        assert isinstance(record, doorward.DeliveryRecord)
        assert (record.webhook_id, record.status, record.attempts) == (hook.id, "dead", 2)
        assert record.last_error is not None and "500" in record.last_error
        assert len(failing.requests) == 2
        assert await resolve(client.events.deliveries(status="dead")) == [record]

        # Replay queues it again, due now: it is tried afresh.
        await resolve(client.events.replay(record.id))
        (pending,) = await resolve(client.events.deliveries(status="pending"))
        assert (pending.id, pending.attempts) == (record.id, 0)
        assert await resolve(client.events.dead()) == []
        await resolve(client.events.flush())
        assert len(failing.requests) == 3
        with pytest.raises(doorward.NotFoundError):
            await resolve(client.events.replay(record.id))  # pending, not dead
        assert healthy.requests == []

    with pytest.raises(doorward.ValidationError) as caught:
        await resolve(client.events.deliveries(status="lost"))
    assert caught.value.field == "status"

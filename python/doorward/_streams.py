"""Event subscriptions as iterators: what ``events.stream()`` returns.

The core hands each event to a subscriber's handler on a background thread
and waits for it; these handlers only queue the event and return, so the
dispatcher moves on and the host takes events at its own pace. An event
counts as delivered once queued: a durable (named) stream that is closed
with events still queued does not see those again.
"""

from __future__ import annotations

import asyncio
import queue
from collections.abc import AsyncIterator, Iterator, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Optional, Union

if TYPE_CHECKING:
    from doorward._native import AsyncEvents, Event, Events, Subscription


class _Closed:
    """Queued when a stream is closed, so a waiting reader wakes up."""


_CLOSED = _Closed()


class EventStream(Iterator["Event"]):
    """Events of the given types committed from now on, as a blocking
    iterator: ``for event in dw.events.stream(timeout=5): ...``.

    Iteration ends when the stream is closed or, with a ``timeout`` in
    seconds, when no event arrives for that long. Closing (or leaving a
    ``with`` block) ends the subscription.
    """

    def __init__(
        self,
        events: Events,
        types: Optional[Sequence[str]] = None,
        name: Optional[str] = None,
        timeout: Optional[float] = None,
    ) -> None:
        self._queue: queue.SimpleQueue[Union[Event, _Closed]] = queue.SimpleQueue()
        self._timeout = timeout
        self._subscription: Subscription = events.subscribe(
            self._queue.put, types=None if types is None else list(types), name=name
        )

    @property
    def is_open(self) -> bool:
        return self._subscription.is_open

    def close(self) -> None:
        """Stop the subscription; a reader waiting for an event stops too."""
        if self._subscription.is_open:
            self._subscription.close()
            self._queue.put(_CLOSED)

    def __iter__(self) -> EventStream:
        return self

    def __next__(self) -> Event:
        try:
            item = self._queue.get(timeout=self._timeout)
        except queue.Empty:
            raise StopIteration from None
        if isinstance(item, _Closed):
            # Later readers stop too.
            self._queue.put(item)
            raise StopIteration
        return item

    def __enter__(self) -> EventStream:
        return self

    def __exit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self.close()


class AsyncEventStream(AsyncIterator["Event"]):
    """Events of the given types committed while the ``async with`` block
    runs, as an async iterator::

        async with dw.events.stream(types=["UserRegistered"]) as events:
            async for event in events:
                ...

    Events reach the block's event loop through ``call_soon_threadsafe``;
    leaving the block ends the subscription and the iteration.
    """

    def __init__(
        self,
        events: AsyncEvents,
        types: Optional[Sequence[str]] = None,
        name: Optional[str] = None,
    ) -> None:
        self._events = events
        self._types = None if types is None else list(types)
        self._name = name
        self._queue: Optional[asyncio.Queue[Union[Event, _Closed]]] = None
        self._subscription: Optional[Subscription] = None

    @property
    def is_open(self) -> bool:
        return self._subscription is not None and self._subscription.is_open

    async def __aenter__(self) -> AsyncEventStream:
        if self._subscription is not None:
            raise RuntimeError("an event stream is entered once")
        loop = asyncio.get_running_loop()
        events: asyncio.Queue[Union[Event, _Closed]] = asyncio.Queue()

        def hand_over(event: Event) -> None:
            if loop.is_closed():
                # The block was never left and its loop is gone: nobody
                # can read this stream any more.
                if self._subscription is not None:
                    self._subscription.close()
                return
            loop.call_soon_threadsafe(events.put_nowait, event)

        self._queue = events
        self._subscription = await self._events.subscribe(
            hand_over, types=self._types, name=self._name
        )
        return self

    async def __aexit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self.close()

    def close(self) -> None:
        """Stop the subscription; a reader waiting for an event stops too.
        Call it from the stream's event loop."""
        if self._subscription is not None and self._subscription.is_open:
            self._subscription.close()
            if self._queue is not None:
                self._queue.put_nowait(_CLOSED)

    def __aiter__(self) -> AsyncEventStream:
        return self

    async def __anext__(self) -> Event:
        if self._queue is None:
            raise RuntimeError("enter the stream first: `async with dw.events.stream() as events`")
        item = await self._queue.get()
        if isinstance(item, _Closed):
            # Later readers stop too.
            self._queue.put_nowait(item)
            raise StopAsyncIteration
        return item

"""The GIL is released while the core works, and the event loop is never
blocked. Real-ish hashing cost makes argon2 dominate each login; the checks
are on progress, never on times."""

from __future__ import annotations

import asyncio
import sys
import threading
import time
from typing import Any

from conftest import PASSWORD, tokens

import doorward

#: Enough argon2 work that a login is mostly hashing.
HASHING: dict[str, Any] = {
    "argon2_memory_kib": 8192,
    "argon2_iterations": 4,
    "hash_concurrency": 4,
    "rate_limit_login_account": "off",
}
THREADS = 4


def test_sync_logins_release_the_gil() -> None:
    dw = doorward.Doorward(database_url="memory://", jwt_secret="x" * 40, **HASHING)
    dw.register_user("john", "john@example.com", PASSWORD)
    # With a switch interval this long the interpreter never takes the GIL
    # from a thread; another thread can only run while this one has let go
    # of it. The counter sleeps between steps, so it gives the GIL back.
    ticks = 0
    stop = threading.Event()

    def count() -> None:
        nonlocal ticks
        while not stop.is_set():
            ticks += 1
            time.sleep(0)

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1000.0)
    counter = threading.Thread(target=count)
    try:
        counter.start()
        before = ticks
        dw.login("john", PASSWORD)
        during = ticks - before
    finally:
        stop.set()
        sys.setswitchinterval(interval)
        counter.join()
    assert during > 0, "another thread never ran during a login: is the GIL held?"


async def test_async_logins_do_not_block_the_event_loop() -> None:
    dw = doorward.AsyncDoorward(
        database_url="memory://",
        jwt_secret="x" * 40,
        **{**HASHING, "argon2_memory_kib": 16384},
    )
    await dw.register_user("john", "john@example.com", PASSWORD)
    await dw.login("john", PASSWORD)  # warm up

    ticks = 0
    stop = asyncio.Event()

    async def ticker() -> None:
        nonlocal ticks
        while not stop.is_set():
            ticks += 1
            await asyncio.sleep(0.001)

    task = asyncio.create_task(ticker())
    await asyncio.sleep(0)  # let it start
    ticks = 0
    pairs = await asyncio.gather(*(dw.login("john", PASSWORD) for _ in range(THREADS)))
    during = ticks
    stop.set()
    await task
    assert len({tokens(p).access_token for p in pairs}) == THREADS
    assert during > 5, f"the event loop ticked only {during} times during {THREADS} logins"

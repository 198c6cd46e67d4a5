"""A Doorward opened before fork() works in the child (the binding reopens
the store there), as under gunicorn --preload or multiprocessing."""

from __future__ import annotations

import asyncio
import os
import sys
import time
import warnings
from pathlib import Path
from typing import Callable

import pytest
from conftest import CHEAP, PASSWORD, tokens

import doorward

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="fork() is POSIX-only")

# Exit statuses the child reports.
OK, WRONG_USER, RAISED = 0, 3, 4


def run_in_child(child: Callable[[], bool], timeout: float = 30.0) -> int:
    """Fork; the child runs `child` and exits with OK, WRONG_USER (it
    returned False) or RAISED. Returns the child's exit status."""
    with warnings.catch_warnings():
        # Python 3.12+ warns about fork() in a process with threads (tokio's).
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:  # the child: never return into pytest
        status = RAISED
        try:
            status = OK if child() else WRONG_USER
        except BaseException as err:
            print(f"child failed: {err!r}", file=sys.stderr, flush=True)
        finally:
            os._exit(status)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done, wait_status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(wait_status)
        time.sleep(0.02)
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    pytest.fail(f"the forked child did not finish within {timeout} s")


def test_sync_client_works_in_a_forked_child(tmp_path: Path) -> None:
    dw = doorward.Doorward(CHEAP, database_url=f"sqlite://{tmp_path / 'auth.db'}")
    parent = dw.register_user("parent", "parent@example.com", PASSWORD)
    dw.verify_token(parent.tokens.access_token)

    def child() -> bool:
        reg = dw.register_user("child", "child@example.com", PASSWORD)
        pair = tokens(dw.login("child", PASSWORD))
        principal = dw.verify_token(pair.access_token)
        # The parent's session, in the shared file, is valid here too.
        theirs = dw.verify_token(parent.tokens.access_token)
        return principal.user_id == reg.user.id and theirs.user_id == parent.user.id

    assert run_in_child(child) == OK
    # The parent sees the child's user, and its own instance still works.
    user = dw.users.get_by_username("child")
    assert tokens(dw.login("child", PASSWORD)).token_type == "Bearer"
    assert [u.username for u in dw.users.list().items] == ["parent", "child"]
    assert user.email == "child@example.com"
    dw.verify_token(parent.tokens.access_token)


def test_async_client_works_in_a_forked_child(tmp_path: Path) -> None:
    dw = doorward.AsyncDoorward(CHEAP, database_url=f"sqlite://{tmp_path / 'auth.db'}")

    async def in_child() -> bool:
        reg = await dw.register_user("child", "child@example.com", PASSWORD)
        pair = tokens(await dw.login("child", PASSWORD))
        principal = await dw.verify_token(pair.access_token)
        return principal.user_id == reg.user.id

    assert run_in_child(lambda: asyncio.run(in_child())) == OK

    async def in_parent() -> str:
        pair = tokens(await dw.login("child", PASSWORD))
        return (await dw.verify_token(pair.access_token)).username

    assert asyncio.run(in_parent()) == "child"


def test_threads_in_a_forked_child_share_the_reopened_store(tmp_path: Path) -> None:
    # gunicorn --preload --threads: the child's first calls come from
    # several threads at once; one reopens the store while the others wait
    # for it without holding the GIL.
    dw = doorward.Doorward(CHEAP, database_url=f"sqlite://{tmp_path / 'auth.db'}")
    dw.users.create("ann", "ann@example.com", PASSWORD)

    def child() -> bool:
        import threading

        pages: list[int] = []
        threads = [
            threading.Thread(target=lambda: pages.append(len(dw.users.list().items)))
            for _ in range(4)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return pages == [1, 1, 1, 1]

    assert run_in_child(child) == OK


def test_fork_while_a_subscriber_is_handling_events(tmp_path: Path) -> None:
    # The fork hook waits for the dispatcher's pass, which may be inside a
    # Python handler waiting for the GIL: the hook lets go of the GIL, the
    # handler finishes, and the fork goes ahead. The parent's subscriber
    # keeps receiving afterwards; the child's copy of it is closed.
    dw = doorward.Doorward(CHEAP, database_url=f"sqlite://{tmp_path / 'auth.db'}")
    seen: list[str] = []

    def slow_handler(event: doorward.Event) -> None:
        time.sleep(0.005)  # long enough for the forks below to land mid-call
        seen.append(event.payload["username"])

    sub = dw.events.subscribe(slow_handler, types=["UserRegistered"])
    names = [f"user{n}" for n in range(40)]
    for name in names:
        dw.users.create(name, f"{name}@example.com", PASSWORD)

    def child() -> bool:
        return not sub.is_open and len(dw.users.list(limit=100).items) == len(names)

    for _ in range(5):  # while the background dispatcher hands events over
        assert run_in_child(child) == OK
    assert sub.is_open
    dw.events.flush()
    sub.close()
    assert seen == names


def test_fork_from_inside_an_event_handler(tmp_path: Path) -> None:
    # A handler is part of the dispatcher's pass: forking there must not
    # wait for that pass to end.
    dw = doorward.Doorward(CHEAP, database_url=f"sqlite://{tmp_path / 'auth.db'}")
    statuses: list[int] = []

    def forking_handler(event: doorward.Event) -> None:
        statuses.append(run_in_child(lambda: len(dw.users.list().items) == 1))

    with dw.events.subscribe(forking_handler, types=["UserRegistered"]):
        dw.users.create("ann", "ann@example.com", PASSWORD)
        dw.events.flush()
    assert statuses == [OK]

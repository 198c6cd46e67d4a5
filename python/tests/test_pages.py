"""Every paged listing keeps the core's one rule: no limit (None) is the
core's default page, 1 to the listing's largest page is used as given, and
anything else raises ValidationError on `limit`, never a clamped page."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any, Callable, Union

import pytest
from conftest import PASSWORD, Client, Opener, resolve

import doorward

#: The core's default page (doorward::PageRequest::DEFAULT_LIMIT).
DEFAULT = 50

Listing = Callable[[Client, Any], Union[Any, Awaitable[Any]]]

#: Each listing by its name, with its largest page.
LISTINGS: dict[str, tuple[int, Listing]] = {
    "users.list": (500, lambda c, n: c.users.list(limit=n)),
    "users.search": (500, lambda c, n: c.users.search("user", limit=n)),
    "users.export_users": (500, lambda c, n: c.users.export_users(limit=n)),
    "events.list": (1000, lambda c, n: c.events.list(limit=n)),
    "events.deliveries": (1000, lambda c, n: c.events.deliveries(limit=n)),
    "audit.list": (1000, lambda c, n: c.audit.list(limit=n)),
    "files.list": (1000, lambda c, n: c.files.list(limit=n)),
}


@pytest.mark.parametrize("name", LISTINGS)
async def test_a_limit_out_of_range_is_refused(make: Opener, name: str) -> None:
    largest, listing = LISTINGS[name]
    dw = make(files_url="memory://")
    for limit in (0, -1, largest + 1, 2**40):
        with pytest.raises(doorward.ValidationError) as caught:
            await resolve(listing(dw, limit))
        assert caught.value.field == "limit", f"{name}(limit={limit})"
    await resolve(listing(dw, largest))
    await resolve(listing(dw, None))


async def test_no_limit_is_the_default_page(make: Opener) -> None:
    dw = make(files_url="memory://")
    for i in range(DEFAULT + 1):
        await resolve(dw.users.create(f"user{i}", f"user{i}@example.com", PASSWORD))
        await resolve(dw.files.put(f"f/{i:03}", b"x"))
    users = await resolve(dw.users.list())
    assert len(users.items) == DEFAULT and users.next_cursor is not None
    files = await resolve(dw.files.list(prefix="f"))
    assert len(files.items) == DEFAULT and files.next_cursor == f"f/{DEFAULT - 1:03}"
    events = await resolve(dw.events.list())
    assert len(events.items) == DEFAULT and events.next_cursor is not None

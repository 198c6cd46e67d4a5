"""`dw.files` on both clients and every backend: memory, a local folder
(`file://`), and S3 on the loopback S3-compatible server when reachable."""

from __future__ import annotations

import http.client
import urllib.parse
from datetime import timezone
from pathlib import Path
from typing import Any

import pytest
from conftest import Client, Opener, resolve

import doorward


def request(method: str, url: str, body: bytes = b"") -> tuple[int, bytes]:
    """One plain request, as a browser or a device would make it."""
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.netloc, timeout=10)
    try:
        conn.request(method, f"{parts.path}?{parts.query}", body=body)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


@pytest.fixture(params=["memory", "file", "s3"])
def files_config(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, Any]:
    """The `files_*` keys of one backend."""
    if request.param == "memory":
        return {"files_url": "memory://"}
    if request.param == "file":
        return {"files_url": (tmp_path / "files").as_uri()}
    s3: dict[str, Any] = request.getfixturevalue("s3_config")
    return s3


async def test_round_trip(make: Opener, files_config: dict[str, Any], tmp_path: Path) -> None:
    dw = make(**files_config)
    info = await resolve(dw.files.put("avatars/42.png", b"\x89PNG...", "image/png"))
    assert isinstance(info, doorward.FileInfo)
    assert (info.key, info.size, info.content_type) == ("avatars/42.png", 7, "image/png")
    assert info.created_at.tzinfo is not None
    assert info.created_at.utcoffset() == timezone.utc.utcoffset(None)
    assert "avatars/42.png" in repr(info)
    assert info.to_dict()["size"] == 7

    got, data = await resolve(dw.files.get("avatars/42.png"))
    assert data == b"\x89PNG..."
    assert isinstance(data, bytes)
    assert (got.key, got.size, got.content_type) == ("avatars/42.png", 7, "image/png")
    head = await resolve(dw.files.head("avatars/42.png"))
    assert (head.size, head.content_type, head.etag) == (7, "image/png", got.etag)

    # Overwriting replaces, and bytearray / memoryview bodies are accepted.
    await resolve(dw.files.put("avatars/42.png", bytearray(b"second"), "image/png"))
    await resolve(dw.files.put("notes/a.txt", memoryview(b"hello"), "text/plain"))
    assert (await resolve(dw.files.get("avatars/42.png")))[1] == b"second"

    # To and from files on disk.
    source = tmp_path / "report.pdf"
    source.write_bytes(b"%PDF-1.7 body")
    put = await resolve(dw.files.put_file("reports/1.pdf", source, "application/pdf"))
    assert put.size == len(b"%PDF-1.7 body")
    target = tmp_path / "out" / "copy.pdf"
    target.parent.mkdir()
    written = await resolve(dw.files.get_to_file("reports/1.pdf", str(target)))
    assert written.key == "reports/1.pdf"
    assert target.read_bytes() == b"%PDF-1.7 body"

    assert await resolve(dw.files.delete("notes/a.txt")) is True
    assert await resolve(dw.files.delete("notes/a.txt")) is False
    with pytest.raises(doorward.NotFoundError):
        await resolve(dw.files.get("notes/a.txt"))
    with pytest.raises(doorward.NotFoundError):
        await resolve(dw.files.head("notes/a.txt"))


async def test_list_pages_in_key_order(make: Opener, files_config: dict[str, Any]) -> None:
    dw = make(**files_config)
    keys = [f"docs/{i:02}.txt" for i in range(5)]
    for key in reversed(keys):
        await resolve(dw.files.put(key, key.encode()))
    await resolve(dw.files.put("other/x.txt", b"x"))

    seen: list[str] = []
    cursor = None
    for _ in range(10):
        page = await resolve(dw.files.list(prefix="docs", cursor=cursor, limit=2))
        assert isinstance(page, doorward.FilePage)
        assert len(page) <= 2
        seen += [item.key for item in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == keys
    everything = await resolve(dw.files.list())
    assert [i.key for i in everything.items] == [*keys, "other/x.txt"]
    assert everything.items[0].size == len(keys[0])


async def test_bad_keys_and_limits_are_validation_errors(client: Client) -> None:
    for key in ("../escape", "", "/absolute", "a//b"):
        with pytest.raises(doorward.ValidationError) as caught:
            await resolve(client.files.put(key, b"x"))
        assert caught.value.code == "validation_error"
        assert caught.value.field == "key"
    with pytest.raises(doorward.ValidationError) as caught:
        await resolve(client.files.list(limit=0))
    assert caught.value.field == "limit"
    with pytest.raises(TypeError, match="bytes"):
        await resolve(client.files.put("a.txt", "text is not bytes"))  # type: ignore[arg-type]


async def test_size_cap(make: Opener) -> None:
    dw = make(files_url="memory://", files_max_bytes=4)
    await resolve(dw.files.put("small", b"1234"))
    with pytest.raises(doorward.ValidationError) as caught:
        await resolve(dw.files.put("big", b"12345"))
    assert caught.value.field == "data"


async def test_presign_needs_s3(client: Client) -> None:
    await resolve(client.files.put("a.txt", b"x"))
    with pytest.raises(doorward.ConfigError):
        await resolve(client.files.presign_get("a.txt", 60))


async def test_presigned_urls_on_s3(make: Opener, s3_config: dict[str, Any]) -> None:
    dw = make(**s3_config)
    with pytest.raises(doorward.ValidationError) as caught:
        await resolve(dw.files.presign_get("a.txt", 0.5))
    assert caught.value.field == "expires_in"

    put_url = await resolve(dw.files.presign_put("up/a.txt", 60))
    assert "test-secret-key" not in put_url
    assert request("PUT", put_url, b"uploaded")[0] == 200
    get_url = await resolve(dw.files.presign_get("up/a.txt", 60.0))
    assert request("GET", get_url) == (200, b"uploaded")
    assert (await resolve(dw.files.get("up/a.txt")))[1] == b"uploaded"

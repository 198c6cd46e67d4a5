"""The admin console as an ASGI 3 application, for FastAPI, Starlette or any
ASGI server::

    from fastapi import FastAPI
    import doorward
    from doorward.console import asgi_app

    dw = doorward.AsyncDoorward("doorward.toml")
    app = FastAPI()
    app.mount("/admin", asgi_app(dw))  # the console at /admin/

or on its own: ``uvicorn myapp:console`` with ``console = asgi_app(dw)``.

Everything the console does (its page and files, sign-in for accounts with
``console:read`` or ``console:write``, its cookies and CSRF tokens, the JSON
API) is the Rust router's, the same one ``doorward console`` serves; this
module only carries each request to it and its answer back. The mount path
comes from the ASGI ``root_path``, so the page names its files under it.

The session cookies are ``__Host-`` prefixed and ``Secure`` unless the
request's ``Host`` is a loopback address over plain HTTP; behind a
TLS-terminating proxy that sets ``X-Forwarded-Proto: https``, they are
secure whatever the host. Every header goes to the router as the server
received it, so a proxy in front must keep ``Host`` (or send that header).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, MutableMapping
from typing import Any, Callable, Optional, Union
from urllib.parse import quote

from doorward._native import AsyncDoorward, Console, ConsoleResponse, Doorward, http_error_response

__all__ = ["MAX_BODY", "Console", "ConsoleApp", "ConsoleResponse", "asgi_app"]

#: The largest request body the console reads, in bytes: a longer one is
#: answered 413 without reading the rest.
MAX_BODY: int = Console.MAX_BODY

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

#: The characters a path keeps as they are when it is handed over: the
#: ASGI ``path`` is percent-decoded, the console's router wants a URI.
_PATH_SAFE = "/:@!$&'()*+,;=-._~"

#: Consoles kept, one per mount path. A mount whose path has a parameter
#: (``/{tenant}/admin``) would otherwise keep one per value a client sends.
_CACHED = 16


class ConsoleApp:
    """The admin console over ``dw`` (a :class:`~doorward.Doorward` or an
    :class:`~doorward.AsyncDoorward`) as an ASGI 3 application. Mount it
    anywhere: it answers under the ``root_path`` the server or the
    framework's mount gives it."""

    def __init__(self, dw: Union[Doorward, AsyncDoorward]) -> None:
        if not isinstance(dw, (Doorward, AsyncDoorward)):
            raise TypeError(f"ConsoleApp needs a Doorward or an AsyncDoorward, not {type(dw)}")
        self._dw = dw
        self._consoles: dict[str, Console] = {}

    def __repr__(self) -> str:
        return f"ConsoleApp({self._dw!r})"

    def console(self, root_path: str = "") -> Console:
        """The native console answering under ``root_path``, made once
        (it holds the router, whose page names its files under that path).

        Raises:
            ValidationError: ``root_path`` is not a plain path.
        """
        console = self._consoles.get(root_path)
        if console is None:
            console = Console(self._dw, root_path)
            if len(self._consoles) >= _CACHED:
                self._consoles.pop(next(iter(self._consoles)))
            self._consoles[root_path] = console
        return console

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "lifespan":
            await _lifespan(receive, send)
        elif kind == "websocket":
            # The console has no socket: closing before accepting is a 403.
            await receive()
            await send({"type": "websocket.close", "code": 1008})
        else:
            raise RuntimeError(f"the console does not serve ASGI {kind!r} connections")

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = [
            (name.decode("latin-1"), value.decode("latin-1"))
            for name, value in scope.get("headers", ())
        ]
        declared = next((v for n, v in headers if n.lower() == "content-length"), "")
        if declared.strip().isdigit() and int(declared) > MAX_BODY:
            await _too_large(send)  # refused before reading a byte of it
            return
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            if len(body) > MAX_BODY:
                await _too_large(send)
                return
            if not message.get("more_body", False):
                break
        root_path = scope.get("root_path", "") or ""
        try:
            console = self.console(root_path.rstrip("/"))
        except ValueError as err:  # a mount path the console cannot live under
            await _error(send, 500, "config_error", str(err))
            return
        client = scope.get("client")
        answer = await console.handle(
            scope["method"],
            _whole_path(scope, root_path),
            headers,
            body,
            client[0] if client else None,
        )
        await send(
            {
                "type": "http.response.start",
                "status": answer.status,
                "headers": [
                    (name.encode("latin-1"), value.encode("latin-1"))
                    for name, value in answer.headers
                ],
            }
        )
        await send({"type": "http.response.body", "body": answer.body})


def asgi_app(dw: Union[Doorward, AsyncDoorward]) -> ConsoleApp:
    """The admin console over ``dw`` as an ASGI 3 application:
    ``app.mount("/admin", asgi_app(dw))`` in FastAPI or Starlette."""
    return ConsoleApp(dw)


def _whole_path(scope: Scope, root_path: str) -> str:
    """The path the client asked for, mount prefix and query included.

    Starlette's ``Mount`` gives ``path`` whole (the prefix in it) in its
    recent versions and without the prefix in older ones; a server's own
    ``--root-path`` gives it either way too. A path that is the prefix, or
    goes on below it, is whole; any other has the prefix put in front.
    """
    path: str = scope.get("path", "") or "/"
    root_path = root_path.rstrip("/")
    if root_path and not (path == root_path or path.startswith(root_path + "/")):
        path = root_path + path
    whole = quote(path, safe=_PATH_SAFE)
    query: bytes = scope.get("query_string", b"")
    return f"{whole}?{query.decode('latin-1')}" if query else whole


async def _lifespan(receive: Receive, send: Send) -> None:
    """Nothing to start or stop: the doorward it serves is the host's."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def _too_large(send: Send) -> None:
    await _error(send, 413, "validation_error", "the body is larger than the console reads", "body")


async def _error(
    send: Send, status: int, code: str, message: str, field: Optional[str] = None
) -> None:
    """An answer the console's router never saw, in its error shape."""
    body = json.dumps(http_error_response(code, message, field=field).body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"cache-control", b"no-store"),
                (b"x-content-type-options", b"nosniff"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})

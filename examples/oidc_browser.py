"""For the examples' tests: the repository's test OpenID provider
(``tests/oidc/server.mjs``, started by ``scripts/services`` on
127.0.0.1:9400) and a scripted user at a browser.

Each test makes an issuer of its own (own port, keys, clients) with
:func:`issuer`, which skips the test when the provider is not running (and
fails it under ``DOORWARD_REQUIRE_SERVICES=1``). :class:`Browser` follows
redirects across hosts (the app's, the provider's), keeps cookies per host
and port with their paths, and signs in on the provider's login form (or
cancels it)."""

from __future__ import annotations

import json
import os
import re
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any, NoReturn, Optional
from urllib.parse import urljoin, urlsplit

import httpx
import pytest

CONTROL_URL = os.environ.get("DOORWARD_TEST_OIDC_URL", "http://127.0.0.1:9400").rstrip("/")


def unavailable(why: str) -> NoReturn:
    message = f"the test OpenID provider is not reachable at {CONTROL_URL}: {why}"
    if os.environ.get("DOORWARD_REQUIRE_SERVICES") == "1":
        pytest.fail(f"required by DOORWARD_REQUIRE_SERVICES=1, but {message}", pytrace=False)
    pytest.skip(message)


def _control(method: str, path: str, body: Optional[Mapping[str, Any]] = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        f"{CONTROL_URL}{path}",
        data=data,
        method=method,
        headers={"Content-Type": "application/json"} if data is not None else {},
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.loads(answer.read())


def issuer(clients: list[dict[str, Any]]) -> tuple[str, str]:
    """A fresh issuer with ``clients`` (``client_id``, ``client_secret``
    unless public, ``redirect_uris``): its URL and its control id."""
    try:
        created = _control("POST", "/issuers", {"clients": clients})
    except urllib.error.HTTPError as err:
        raise AssertionError(f"the test OpenID provider refused: {err.read()!r}") from err
    except OSError as err:
        unavailable(f"{type(err).__name__}: {err}")
    return str(created["issuer"]), str(created["id"])


class Browser:
    """A user at a browser: cookies per host and port (with their paths),
    redirects followed by hand, the provider's login form filled in.

    ``apps`` maps a host (``testserver``) to a client that answers for it
    in process (a framework's test client); any other host is reached over
    HTTP.
    """

    def __init__(self, apps: Optional[Mapping[str, httpx.Client]] = None) -> None:
        self.http = httpx.Client(follow_redirects=False, timeout=15)
        self.apps = dict(apps or {})
        #: host:port -> name -> (value, path)
        self.jar: dict[str, dict[str, tuple[str, str]]] = {}

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def cookies_for(self, url: str) -> str:
        parts = urlsplit(url)
        path = parts.path or "/"
        found = self.jar.get(parts.netloc, {})
        return "; ".join(
            f"{name}={value}"
            for name, (value, scope) in found.items()
            if path == scope or path.startswith(scope.rstrip("/") + "/") or scope == "/"
        )

    def cookie(self, url: str, name: str) -> Optional[str]:
        """The value of a cookie the browser holds for ``url``'s host and port."""
        found = self.jar.get(urlsplit(url).netloc, {}).get(name)
        return found[0] if found else None

    def _keep(self, url: str, response: httpx.Response) -> None:
        parts = urlsplit(url)
        jar = self.jar.setdefault(parts.netloc, {})
        for header in response.headers.get_list("set-cookie"):
            pair, *attributes = (a.strip() for a in header.split(";"))
            name, _, value = pair.partition("=")
            path = "/"
            gone = not value
            for attribute in attributes:
                key, _, arg = attribute.partition("=")
                if key.lower() == "path" and arg:
                    path = arg
                elif key.lower() in ("max-age", "expires"):
                    # Flask, Starlette and oidc-provider delete a cookie
                    # with Max-Age=0 and an Expires in 1970.
                    gone = gone or arg == "0" or "1970" in arg
            if gone:
                jar.pop(name, None)
            else:
                jar[name] = (value, path)

    def request(
        self,
        method: str,
        url: str,
        form: Optional[Mapping[str, str]] = None,
        headers: Optional[Mapping[str, str]] = None,
    ) -> httpx.Response:
        """One request with this browser's cookies; the cookies it sets are kept."""
        parts = urlsplit(url)
        client = self.apps.get(parts.hostname or "", self.http)
        sent = dict(headers or {})
        cookies = self.cookies_for(url)
        if cookies:
            sent["Cookie"] = cookies
        client.cookies.clear()  # this jar, not the client's, decides
        response = client.request(method, url, data=form, headers=sent, follow_redirects=False)
        self._keep(url, response)
        return response

    def browse(
        self,
        url: str,
        account: Optional[str] = None,
        *,
        stop_at: Optional[str] = None,
        cancel: bool = False,
        method: str = "GET",
        headers: Optional[Mapping[str, str]] = None,
    ) -> tuple[str, Optional[httpx.Response]]:
        """Open ``url`` and follow the redirects, signing in as ``account``
        (or cancelling) on the provider's login form. A redirect to
        ``stop_at`` is not requested: its URL comes back with no response.
        Otherwise the final response (not a redirect, not a login form)
        comes back with its URL. ``headers`` go with the first request."""
        form: Optional[dict[str, str]] = None
        for _ in range(20):
            response = self.request(method, url, form, headers)
            form, headers, method = None, None, "GET"
            if response.is_redirect:
                url = urljoin(url, response.headers["location"])
                if stop_at is not None and url.startswith(stop_at):
                    return url, None
                continue
            page = response.text
            if 'name="login"' not in page:
                return url, response
            if cancel:
                url = urljoin(url, f"{urlsplit(url).path}/abort")
                continue
            if account is None:
                raise AssertionError(f"a login form at {url}, and no account to sign in with")
            action = re.search(r'action="([^"]+)"', page)
            assert action is not None, page
            url = urljoin(url, action.group(1))
            form = {"prompt": "login", "login": account, "password": "anything"}
            method = "POST"
        raise AssertionError(f"too many redirects, last at {url}")

"""The test OpenID provider (``tests/oidc/server.mjs``, started by
``scripts/services`` on 127.0.0.1:9400) and a scripted user at a browser.

Each test makes an issuer of its own (own port, keys, clients) with
:func:`issuer`, which skips the test when the provider is not running (and
fails it under ``DOORWARD_REQUIRE_SERVICES=1``). :class:`Browser` follows
redirects, keeps cookies per host and port with their paths, and signs in
on the provider's login form (or cancels it)."""

from __future__ import annotations

import json
import os
import re
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any, Optional
from urllib.parse import urljoin, urlsplit

import httpx
from conftest import unavailable

CONTROL_URL = os.environ.get("DOORWARD_TEST_OIDC_URL", "http://127.0.0.1:9400").rstrip("/")
#: The redirect URI of the direct tests: never requested (the browser stops
#: at it and hands its URL over as the callback).
CALLBACK = "http://127.0.0.1:1/callback"


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
        unavailable("the test OpenID provider", CONTROL_URL, f"{type(err).__name__}: {err}")
    return str(created["issuer"]), str(created["id"])


def rotate(issuer_id: str) -> str:
    """Give the issuer a new signing key (the old one leaves its key set);
    the new ``kid``."""
    return str(_control("POST", f"/issuers/{issuer_id}/rotate")["kid"])


def provider_config(issuer_url: str, **extra: Any) -> dict[str, Any]:
    """``oauth_providers`` entry ``corp`` for the confidential client that
    :func:`corp_issuer` registers."""
    return {
        "id": "corp",
        "issuer": issuer_url,
        "client_id": "doorward",
        "client_secret": "a-client-secret",
        **extra,
    }


def corp_issuer(redirect_uri: str = CALLBACK) -> tuple[str, str]:
    """An issuer with one confidential client ``doorward`` for ``redirect_uri``."""
    return issuer(
        [
            {
                "client_id": "doorward",
                "client_secret": "a-client-secret",
                "redirect_uris": [redirect_uri],
            }
        ]
    )


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

    def callback(
        self, url: str, account: str, stop_at: str = CALLBACK, cancel: bool = False
    ) -> str:
        """Sign in at the provider through ``url`` (an authorization URL) as
        ``account``, or cancel; the callback URL, not requested."""
        final, response = self.browse(url, account, stop_at=stop_at, cancel=cancel)
        assert response is None, f"no redirect to {stop_at}: {response.status_code} {final}"
        return final


def sign_in_callback(url: str, account: str, cancel: bool = False) -> str:
    """:meth:`Browser.callback` in a browser of its own."""
    with Browser() as browser:
        return browser.callback(url, account, cancel=cancel)

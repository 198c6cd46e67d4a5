"""The FastAPI example's passkey pages and their JSON routes: the pages and
their script under the pages' CSP, the options doorward makes, and the
errors a response it cannot use gets. A real ceremony needs a browser and
an authenticator: the Express example's browser test does one, and the
Python package's tests do one with a software passkey."""

import base64
import json
import re
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .app import STATIC, create_app
from .test_app import SECRET, USER_AGENT, assert_error, bearer, register

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

#: Where the pages are served: the relying party is its host.
APP_URL = "https://app.example.com"


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    app = create_app(
        {
            "database_url": f"sqlite://{tmp_path / 'auth.db'}",
            "jwt_secret": SECRET,
            "argon2_memory_kib": 64,
            "argon2_iterations": 1,
            "app_url": APP_URL,
        }
    )
    with TestClient(app, base_url=APP_URL, headers={"User-Agent": USER_AGENT}) as client:
        yield client


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def answer_to_no_ceremony(kind: str) -> dict[str, Any]:
    """A well-formed ``credential.toJSON()`` (``create`` or ``get``) for a
    challenge the server never gave."""
    client_data = {"type": f"webauthn.{kind}", "challenge": b64url(b"c" * 32), "origin": APP_URL}
    response: dict[str, Any] = {"clientDataJSON": b64url(json.dumps(client_data).encode())}
    if kind == "create":
        response["attestationObject"] = b64url(b"o" * 40)
    else:
        response |= {"authenticatorData": b64url(b"a" * 37), "signature": b64url(b"s" * 64)}
    return {
        "id": b64url(b"k" * 16),
        "rawId": b64url(b"k" * 16),
        "type": "public-key",
        "response": response,
        "clientExtensionResults": {},
    }


def assert_passkey_page(r: Any) -> None:
    """An HTML page that runs the static script and no inline script."""
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("text/html")
    csp = r.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert r.headers["Cache-Control"] == "no-store"
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", r.text, re.S)
    assert scripts == [(" src='/static/passkeys.js' defer", "")], scripts
    assert "id='passkey-status'" in r.text


def test_the_script_is_a_static_file(client: TestClient) -> None:
    r = client.get("/static/passkeys.js")
    assert r.status_code == 200
    assert r.headers["Content-Type"].split(";")[0] in ("text/javascript", "application/javascript")
    assert r.text == (STATIC / "passkeys.js").read_text(encoding="utf-8")
    for call in (
        "PublicKeyCredential.parseCreationOptionsFromJSON(options.publicKey)",
        "PublicKeyCredential.parseRequestOptionsFromJSON(options.publicKey)",
        "credential.toJSON()",
        "'/me/passkeys/options'",
        "'/login/passkey/options'",
        "'/login/passkey'",
    ):
        assert call in r.text, call


def test_the_enrolment_page_needs_the_bearer(client: TestClient) -> None:
    assert_error(client.get("/me/passkeys"), 401, "token_invalid")
    token = register(client, "john")["tokens"]["access_token"]
    r = client.get("/me/passkeys", headers=bearer(token))
    assert_passkey_page(r)
    assert "id='add-passkey'" in r.text and "Add a passkey" in r.text
    assert "No passkey yet." in r.text


def test_registration_options(client: TestClient) -> None:
    assert_error(client.post("/me/passkeys/options"), 401, "token_invalid")
    token = register(client, "john")["tokens"]["access_token"]
    r = client.post("/me/passkeys/options", headers=bearer(token))
    assert r.status_code == 200, r.text
    assert r.headers["Cache-Control"] == "no-store"
    public_key = r.json()["publicKey"]
    assert public_key["rp"] == {"id": "app.example.com", "name": "doorward"}
    assert public_key["user"]["name"] == "john"
    assert public_key["authenticatorSelection"]["userVerification"] == "required"
    assert public_key["challenge"]


def test_registration_errors(client: TestClient) -> None:
    token = register(client, "john")["tokens"]["access_token"]
    assert client.post("/me/passkeys/options", headers=bearer(token)).status_code == 200
    assert_error(client.post("/me/passkeys?name=laptop", json={}), 401, "token_invalid")
    # Not a WebAuthn response.
    r = client.post("/me/passkeys?name=laptop", json={}, headers=bearer(token))
    assert assert_error(r, 422, "validation_error")["field"] == "response"
    r = client.post(
        "/me/passkeys?name=laptop",
        content=b"not json",
        headers={**bearer(token), "Content-Type": "application/json"},
    )
    assert_error(r, 422, "validation_error")
    # An answer to no ceremony of this account.
    r = client.post(
        "/me/passkeys?name=laptop", json=answer_to_no_ceremony("create"), headers=bearer(token)
    )
    assert_error(r, 400, "flow_invalid")
    # The name is checked first.
    r = client.post("/me/passkeys", json=answer_to_no_ceremony("create"), headers=bearer(token))
    assert assert_error(r, 422, "validation_error")["field"] == "name"


def test_the_sign_in_page(client: TestClient) -> None:
    r = client.get("/login/passkey")
    assert_passkey_page(r)
    assert "id='sign-in-with-passkey'" in r.text
    assert "Sign in with a passkey" in r.text


@pytest.mark.parametrize(
    "body", [None, {}, {"username": None}, {"username": "john"}, {"username": "nobody"}]
)
def test_sign_in_options(client: TestClient, body: Any) -> None:
    register(client, "john")
    r = client.post("/login/passkey/options", json=body)
    assert r.status_code == 200, r.text
    assert r.headers["Cache-Control"] == "no-store"
    public_key = r.json()["publicKey"]
    assert public_key["rpId"] == "app.example.com"
    assert public_key["userVerification"] == "required"
    # No passkeys to name: the browser offers the site's (and an unknown
    # name looks the same).
    assert not public_key.get("allowCredentials")


def test_sign_in_errors(client: TestClient) -> None:
    assert client.post("/login/passkey/options").status_code == 200
    r = client.post("/login/passkey", json={})
    assert assert_error(r, 422, "validation_error")["field"] == "response"
    assert_error(
        client.post("/login/passkey", json=["not", "an", "object"]), 422, "validation_error"
    )
    r = client.post("/login/passkey", json=answer_to_no_ceremony("get"))
    assert_error(r, 400, "flow_invalid")
    r = client.post("/login/passkey/options", json={"username": "x" * 321})
    assert assert_error(r, 422, "validation_error")["field"] == "username"

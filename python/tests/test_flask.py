"""doorward.flask: decorators and the error handler of a Flask app."""

import asyncio
import inspect
from collections.abc import Iterator
from typing import Any, NoReturn

import pytest
from flask import Flask
from flask.testing import FlaskClient
from frameworks import FAILURES, NO_VALID_TOKEN, Users, assert_error, config

import doorward
import doorward.flask


def flask_app(dw: doorward.Doorward) -> Flask:
    app = Flask(__name__)
    app.testing = True
    doorward.flask.init_app(app, dw)
    current = doorward.flask.current_principal

    @app.get("/me")
    @doorward.flask.login_required
    def me() -> dict[str, Any]:
        principal = current()
        # Verified once per request: the decorator's principal is reused.
        return {"username": principal.username, "cached": principal is current()}

    @app.get("/admin")
    @doorward.flask.require_permission(doorward.Permission.ADMIN)
    def admin() -> dict[str, Any]:
        return {"username": current().username}

    @app.get("/items/<item_id>")
    @doorward.flask.require_permission("users:read")
    def item(item_id: str) -> dict[str, Any]:
        return {"item": item_id, "by": current().username}

    @app.get("/whoami")
    def whoami() -> dict[str, Any]:  # undecorated: current_principal() verifies
        return {"username": current().username}

    @app.get("/async/me")
    @doorward.flask.login_required
    async def async_me() -> dict[str, Any]:
        await asyncio.sleep(0)
        return {"username": current().username, "async": True}

    @app.get("/async/admin")
    @doorward.flask.require_permission(doorward.Permission.ADMIN)
    async def async_admin() -> dict[str, Any]:
        await asyncio.sleep(0)
        return {"username": current().username, "async": True}

    @app.get("/fail/<name>")
    def fail(name: str) -> NoReturn:
        raise FAILURES[name]

    return app


@pytest.fixture
def flask_dw() -> doorward.Doorward:
    return doorward.Doorward(config())


@pytest.fixture
def flask_client(flask_dw: doorward.Doorward) -> Iterator[FlaskClient]:
    with flask_app(flask_dw).test_client() as client:
        yield client


def test_flask_principal_and_permission(
    flask_dw: doorward.Doorward, flask_client: FlaskClient
) -> None:
    users = Users(flask_dw)
    r = flask_client.get("/me", headers=users.bearer(users.plain))
    assert r.status_code == 200, r.text
    assert r.get_json() == {"username": "plain", "cached": True}

    r = flask_client.get("/admin", headers=users.bearer(users.plain))
    assert_error(r.status_code, r.get_json(), 403, "forbidden")
    r = flask_client.get("/admin", headers=users.bearer(users.admin))
    assert r.status_code == 200, r.text
    assert r.get_json() == {"username": "boss"}

    r = flask_client.get("/items/42", headers=users.bearer(users.plain))
    assert r.get_json() == {"item": "42", "by": "plain"}

    r = flask_client.get(
        "/whoami", headers={"Authorization": f"bearer  {users.admin.tokens.access_token}"}
    )
    assert r.get_json() == {"username": "boss"}


@pytest.mark.parametrize(("headers", "challenge"), NO_VALID_TOKEN)
def test_flask_401_without_a_valid_token(
    flask_client: FlaskClient, headers: dict[str, str], challenge: str
) -> None:
    for path in ("/me", "/admin", "/items/1", "/whoami", "/async/me", "/async/admin"):
        r = flask_client.get(path, headers=headers)
        assert_error(r.status_code, r.get_json(), 401, "token_invalid")
        assert r.headers["WWW-Authenticate"] == challenge


def test_flask_revoked_token(flask_dw: doorward.Doorward, flask_client: FlaskClient) -> None:
    users = Users(flask_dw)
    flask_dw.logout(users.plain.tokens.access_token)
    r = flask_client.get("/me", headers=users.bearer(users.plain))
    assert_error(r.status_code, r.get_json(), 401, "token_revoked")
    assert r.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'


def test_flask_errors_raised_by_views(flask_client: FlaskClient) -> None:
    r = flask_client.get("/fail/not_found")
    assert_error(r.status_code, r.get_json(), 404, "not_found")
    r = flask_client.get("/fail/storage")
    assert_error(r.status_code, r.get_json(), 503, "storage_error")
    assert "db.internal.example" not in r.text
    r = flask_client.get("/fail/rate_limited")
    assert_error(r.status_code, r.get_json(), 429, "rate_limited")
    assert r.headers["Retry-After"] == "3"


def test_flask_decorators_keep_the_view_name() -> None:
    def report() -> str:
        return ""

    assert doorward.flask.login_required(report).__name__ == "report"
    assert doorward.flask.require_permission("users:read")(report).__name__ == "report"


def test_flask_doorward_instance(flask_dw: doorward.Doorward) -> None:
    app = flask_app(flask_dw)
    with app.app_context():
        assert doorward.flask.doorward_instance() is flask_dw

    bare = Flask(__name__)
    bare.testing = True

    @bare.get("/me")
    @doorward.flask.login_required
    def me() -> str:
        return ""

    with pytest.raises(RuntimeError, match="init_app"):
        bare.test_client().get("/me", headers={"Authorization": "Bearer x"})


def test_flask_decorators_keep_an_async_view_async() -> None:
    # Flask runs a view through app.ensure_sync(), which awaits it only if
    # it is a coroutine function.
    async def view() -> dict[str, Any]:
        return {}

    def sync_view() -> dict[str, Any]:
        return {}

    assert inspect.iscoroutinefunction(doorward.flask.login_required(view))
    assert inspect.iscoroutinefunction(doorward.flask.require_permission("users:read")(view))
    assert doorward.flask.login_required(view).__name__ == "view"
    assert not inspect.iscoroutinefunction(doorward.flask.login_required(sync_view))


def test_flask_async_views(flask_dw: doorward.Doorward, flask_client: FlaskClient) -> None:
    users = Users(flask_dw)
    r = flask_client.get("/async/me", headers=users.bearer(users.plain))
    assert r.status_code == 200, r.text
    assert r.get_json() == {"username": "plain", "async": True}

    r = flask_client.get("/async/admin", headers=users.bearer(users.plain))
    assert_error(r.status_code, r.get_json(), 403, "forbidden")
    r = flask_client.get("/async/admin", headers=users.bearer(users.admin))
    assert r.status_code == 200, r.text
    assert r.get_json() == {"username": "boss", "async": True}

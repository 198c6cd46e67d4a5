"""doorward.django: views through RequestFactory, DoorwardErrorMiddleware
through Django's test clients."""

import asyncio
import inspect
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
from asgiref.sync import iscoroutinefunction as asgiref_iscoroutinefunction
from asgiref.sync import sync_to_async
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.test import AsyncClient as DjangoAsyncClient
from django.test import Client as DjangoClient
from django.test import RequestFactory, override_settings
from django.urls import path as django_path
from frameworks import (
    NO_VALID_TOKEN,
    PASSWORD,
    SECRET,
    Users,
    assert_error,
    config,
    configure_django,
)

import doorward
import doorward.django


@pytest.fixture(scope="module")
def django_settings() -> None:
    """Django configured once per process (unless something already did)."""
    configure_django()


@pytest.fixture
def rf(django_settings: None) -> RequestFactory:
    return RequestFactory()


def json_of(response: HttpResponse) -> Any:
    return json.loads(response.content)


class DjangoViews:
    """Views behind doorward.django's decorators, recording their calls."""

    def __init__(self) -> None:
        self.calls: list[tuple[HttpRequest, tuple[Any, ...], dict[str, Any]]] = []

        def record(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            self.calls.append((request, args, kwargs))
            principal: doorward.Principal = request.principal
            return JsonResponse({"username": principal.username, "args": list(args), **kwargs})

        self.me = doorward.django.login_required(record)
        self.admin = doorward.django.require_permission(doorward.Permission.ADMIN)(record)
        self.write = doorward.django.require_permission("users:write")(record)


def django_extra(headers: dict[str, str]) -> dict[str, str]:
    """``headers`` as RequestFactory's WSGI environ keys."""
    return {f"HTTP_{name.upper()}": value for name, value in headers.items()}


def test_django_401_without_a_valid_token(rf: RequestFactory) -> None:
    views = DjangoViews()
    with override_settings(DOORWARD=doorward.Doorward(config())):
        for headers, challenge in NO_VALID_TOKEN:
            for view in (views.me, views.admin):
                response = view(rf.get("/", **django_extra(headers)))
                assert_error(response.status_code, json_of(response), 401, "token_invalid")
                assert response["WWW-Authenticate"] == challenge
                assert response["Content-Type"] == "application/json"
    assert views.calls == []


def test_django_403_without_the_permission(rf: RequestFactory) -> None:
    views = DjangoViews()
    dw = doorward.Doorward(config())
    users = Users(dw)
    with override_settings(DOORWARD=dw):
        request = rf.get("/", HTTP_AUTHORIZATION=users.bearer(users.plain)["Authorization"])
        response = views.admin(request)
        assert_error(response.status_code, json_of(response), 403, "forbidden")
        response = views.write(request)
        assert_error(response.status_code, json_of(response), 403, "forbidden")
    assert views.calls == []


def test_django_200_with_the_permission(rf: RequestFactory) -> None:
    views = DjangoViews()
    dw = doorward.Doorward(config())
    users = Users(dw)
    with override_settings(DOORWARD=dw):
        request = rf.get("/", HTTP_AUTHORIZATION=f"bearer {users.admin.tokens.access_token}")
        response = views.admin(request, "7", kind="report")
        assert response.status_code == 200
        assert json_of(response) == {"username": "boss", "args": ["7"], "kind": "report"}
        assert views.calls == [(request, ("7",), {"kind": "report"})]
        principal = request.principal
        assert isinstance(principal, doorward.Principal)
        assert principal.user_id == users.admin.user.id
        assert principal.username == "boss"

        plain = rf.get("/", HTTP_AUTHORIZATION=users.bearer(users.plain)["Authorization"])
        assert views.me(plain).status_code == 200
        assert plain.principal.username == "plain"

        dw.logout(users.plain.tokens.access_token)
        response = views.me(
            rf.get("/", HTTP_AUTHORIZATION=users.bearer(users.plain)["Authorization"])
        )
        assert_error(response.status_code, json_of(response), 401, "token_revoked")
        assert response["WWW-Authenticate"] == 'Bearer error="invalid_token"'


def test_django_instance_setting_is_used_as_is(django_settings: None) -> None:
    dw = doorward.Doorward(config())
    with override_settings(DOORWARD=dw):
        assert doorward.django.doorward_instance() is dw


def test_django_dict_setting_is_opened_once_and_reused(rf: RequestFactory) -> None:
    views = DjangoViews()
    setting = config()
    with override_settings(DOORWARD=setting):
        dw = doorward.django.doorward_instance()
        assert isinstance(dw, doorward.Doorward)
        assert doorward.django.doorward_instance() is dw
        # The views see that same (in-memory) database.
        users = Users(dw)
        request = rf.get("/", HTTP_AUTHORIZATION=users.bearer(users.admin)["Authorization"])
        assert views.admin(request).status_code == 200
        assert doorward.django.doorward_instance() is dw

    # Another setting (even an equal dict) is another doorward.
    with override_settings(DOORWARD=config()):
        other = doorward.django.doorward_instance()
        assert other is not dw
        assert doorward.django.doorward_instance() is other
        request = rf.get("/", HTTP_AUTHORIZATION=users.bearer(users.admin)["Authorization"])
        assert views.admin(request).status_code == 401  # unknown to the new database


def test_django_path_setting(django_settings: None, tmp_path: Path) -> None:
    toml = tmp_path / "doorward.toml"
    database = tmp_path / "auth.db"
    toml.write_text(
        f'database_url = "sqlite://{database}"\n'
        f'jwt_secret = "{SECRET}"\n'
        "argon2_memory_kib = 64\nargon2_iterations = 1\n"
    )
    with override_settings(DOORWARD=str(toml)):
        dw = doorward.django.doorward_instance()
        assert dw is doorward.django.doorward_instance()
        assert dw.backend == "sqlite"
        dw.register_user("john", "john@example.com", PASSWORD)
    assert database.exists()


def test_django_missing_setting(django_settings: None) -> None:
    with override_settings(DOORWARD=None), pytest.raises(RuntimeError, match="DOORWARD"):
        doorward.django.doorward_instance()


def test_django_decorators_keep_an_async_view_async(django_settings: None) -> None:
    async def view(request: HttpRequest) -> HttpResponse:
        return JsonResponse({})

    def sync_view(request: HttpRequest) -> HttpResponse:
        return JsonResponse({})

    # Django asks asgiref (which also sees markcoroutinefunction's mark).
    for decorated in (
        doorward.django.login_required(view),
        doorward.django.require_permission("users:read")(view),
    ):
        assert asgiref_iscoroutinefunction(decorated)
        assert inspect.iscoroutinefunction(decorated)
        assert decorated.__name__ == "view"
    assert not asgiref_iscoroutinefunction(doorward.django.login_required(sync_view))


def test_django_async_views(rf: RequestFactory) -> None:
    calls: list[str] = []

    async def record(request: HttpRequest) -> HttpResponse:
        await asyncio.sleep(0)
        principal: doorward.Principal = request.principal
        calls.append(principal.username)
        return JsonResponse({"username": principal.username})

    me = doorward.django.login_required(record)
    admin = doorward.django.require_permission(doorward.Permission.ADMIN)(record)
    dw = doorward.Doorward(config())
    users = Users(dw)
    with override_settings(DOORWARD=dw):
        plain = users.bearer(users.plain)["Authorization"]
        boss = users.bearer(users.admin)["Authorization"]

        response = asyncio.run(me(rf.get("/", HTTP_AUTHORIZATION=plain)))
        assert response.status_code == 200
        assert json_of(response) == {"username": "plain"}
        response = asyncio.run(admin(rf.get("/", HTTP_AUTHORIZATION=boss)))
        assert json_of(response) == {"username": "boss"}
        assert calls == ["plain", "boss"]

        response = asyncio.run(admin(rf.get("/", HTTP_AUTHORIZATION=plain)))
        assert_error(response.status_code, json_of(response), 403, "forbidden")
        response = asyncio.run(me(rf.get("/")))
        assert_error(response.status_code, json_of(response), 401, "token_invalid")
        assert response["WWW-Authenticate"] == "Bearer"
        response = asyncio.run(me(rf.get("/", HTTP_AUTHORIZATION="Bearer x")))
        assert response["WWW-Authenticate"] == 'Bearer error="invalid_token"'
        assert calls == ["plain", "boss"]


# Views behind DoorwardErrorMiddleware, served by Django's own handlers.


@doorward.django.login_required
def django_user_view(request: HttpRequest, user_id: str) -> HttpResponse:
    user = doorward.django.doorward_instance().users.get(user_id)  # NotFoundError
    return JsonResponse({"username": user.username, "by": request.principal.username})


@doorward.django.login_required
async def django_async_user_view(request: HttpRequest, user_id: str) -> HttpResponse:
    dw = doorward.django.doorward_instance()
    user = await sync_to_async(dw.users.get)(user_id)
    return JsonResponse({"username": user.username, "by": request.principal.username})


def django_broken_view(request: HttpRequest) -> HttpResponse:
    raise ValueError("not a doorward error")


class DjangoUrls:
    """A ROOT_URLCONF (anything with ``urlpatterns`` will do)."""

    urlpatterns: ClassVar[list[Any]] = [
        django_path("users/<user_id>", django_user_view),
        django_path("async/users/<user_id>", django_async_user_view),
        django_path("broken", django_broken_view),
    ]


@pytest.fixture
def django_stack(django_settings: None) -> Iterator[tuple[doorward.Doorward, Users]]:
    """DoorwardErrorMiddleware installed, DjangoUrls routed, a doorward of
    two users set."""
    dw = doorward.Doorward(config())
    with override_settings(
        DOORWARD=dw,
        ROOT_URLCONF=DjangoUrls,
        MIDDLEWARE=["doorward.django.DoorwardErrorMiddleware"],
    ):
        yield dw, Users(dw)


def test_django_middleware_answers_doorward_errors_of_views(
    django_stack: tuple[doorward.Doorward, Users],
) -> None:
    _, users = django_stack
    client = DjangoClient()
    auth = users.bearer(users.plain)

    response = client.get("/users/no-such-user", headers=auth)
    assert_error(response.status_code, json_of(response), 404, "not_found")
    assert response["Content-Type"] == "application/json"
    assert "WWW-Authenticate" not in response

    response = client.get(f"/users/{users.admin.user.id}", headers=auth)
    assert response.status_code == 200
    assert json_of(response) == {"username": "boss", "by": "plain"}

    # The decorator still answers its own checks, before the view runs.
    response = client.get("/users/no-such-user")
    assert_error(response.status_code, json_of(response), 401, "token_invalid")
    assert response["WWW-Authenticate"] == "Bearer"

    # Without the middleware, the error is the view's to answer.
    with override_settings(MIDDLEWARE=[]), pytest.raises(doorward.NotFoundError):
        DjangoClient().get("/users/no-such-user", headers=auth)


async def test_django_middleware_answers_doorward_errors_of_async_views(
    django_stack: tuple[doorward.Doorward, Users],
) -> None:
    _, users = django_stack
    client = DjangoAsyncClient()
    auth = users.bearer(users.plain)

    response = await client.get("/async/users/no-such-user", headers=auth)
    assert_error(response.status_code, json_of(response), 404, "not_found")

    response = await client.get(f"/async/users/{users.admin.user.id}", headers=auth)
    assert response.status_code == 200
    assert json_of(response) == {"username": "boss", "by": "plain"}


def test_django_middleware_leaves_other_exceptions_alone(
    django_stack: tuple[doorward.Doorward, Users],
) -> None:
    with pytest.raises(ValueError, match="not a doorward error"):
        DjangoClient().get("/broken")
    response = DjangoClient(raise_request_exception=False).get("/broken")
    assert response.status_code == 500
    assert response.get("Content-Type") != "application/json"


def test_django_middleware_process_exception(rf: RequestFactory) -> None:
    def view(request: HttpRequest) -> HttpResponse:
        return JsonResponse({"ok": True})

    middleware = doorward.django.DoorwardErrorMiddleware(view)
    request = rf.get("/")
    assert json_of(middleware(request)) == {"ok": True}

    response = middleware.process_exception(request, doorward.NotFoundError("user not found"))
    assert response is not None
    assert_error(response.status_code, json_of(response), 404, "not_found")
    response = middleware.process_exception(
        request, doorward.RateLimitedError("slow down", retry_after=1.5)
    )
    assert response is not None
    assert_error(response.status_code, json_of(response), 429, "rate_limited")
    assert response["Retry-After"] == "2"
    response = middleware.process_exception(request, doorward.StorageError("db.internal down"))
    assert response is not None
    assert_error(response.status_code, json_of(response), 503, "storage_error")
    assert b"db.internal" not in response.content

    assert middleware.process_exception(request, ValueError("no")) is None
    assert middleware.process_exception(request, KeyError("no")) is None

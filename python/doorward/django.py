"""Django integration: the seed's ``@require_permission(...)`` decorator and
``@login_required`` for views, with JSON answers for doorward errors.

The instance comes from the ``DOORWARD`` setting: a :class:`doorward.Doorward`,
or its configuration (a dict or a TOML file path), opened on first use.
:class:`DoorwardErrorMiddleware` answers doorward errors raised inside views
(a ``NotFoundError`` from ``users.get``) as the decorators do::

    # settings.py
    DOORWARD = {"database_url": "sqlite://auth.db", "jwt_secret": env("JWT_SECRET")}
    MIDDLEWARE = [..., "doorward.django.DoorwardErrorMiddleware"]

    # views.py
    from doorward.django import require_permission

    @require_permission("users:write")
    def delete_user(request, user_id):
        ...  # request.principal is the caller

Async views work too: their checks run in a worker thread.
"""

from __future__ import annotations

import functools
import inspect
import threading
from typing import Any, Callable, Optional, TypeVar, cast

from asgiref.sync import markcoroutinefunction, sync_to_async
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

from doorward._native import Doorward
from doorward.errors import DoorwardError
from doorward.web import bearer_token, error_response

__all__ = [
    "DoorwardErrorMiddleware",
    "doorward_instance",
    "login_required",
    "require_permission",
]

F = TypeVar("F", bound=Callable[..., Any])

_lock = threading.Lock()
_opened: Optional[tuple[object, Doorward]] = None


def doorward_instance() -> Doorward:
    """The doorward the ``DOORWARD`` setting names (opened once per setting)."""
    global _opened
    configured = getattr(settings, "DOORWARD", None)
    if isinstance(configured, Doorward):
        return configured
    if configured is None:
        raise RuntimeError("set DOORWARD in the Django settings")
    with _lock:
        if _opened is None or _opened[0] is not configured:
            _opened = (configured, Doorward(configured))
        return _opened[1]


def _answer(err: DoorwardError) -> HttpResponse:
    answer = error_response(err)
    response = JsonResponse(answer.body, status=answer.status)
    for name, value in answer.headers:
        response[name] = value
    return response


def _check(request: HttpRequest, permission: Optional[str]) -> None:
    dw = doorward_instance()
    principal = dw.verify_token(bearer_token(request.headers.get("Authorization")))
    if permission is not None:
        dw.require(principal.user_id, str(permission))
    request.principal = principal


def _guard(permission: Optional[str]) -> Callable[[F], F]:
    def decorate(view: F) -> F:
        if inspect.iscoroutinefunction(view):

            @functools.wraps(view)
            async def async_wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
                try:
                    await sync_to_async(_check)(request, permission)
                except DoorwardError as err:
                    return _answer(err)
                return await view(request, *args, **kwargs)

            return cast(F, markcoroutinefunction(async_wrapper))

        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            try:
                _check(request, permission)
            except DoorwardError as err:
                return _answer(err)
            return view(request, *args, **kwargs)

        return cast(F, wrapper)

    return decorate


class DoorwardErrorMiddleware:
    """Answers a :class:`DoorwardError` raised by a view with its HTTP status
    and JSON body, as the decorators answer their own checks."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(
        self, request: HttpRequest, exception: Exception
    ) -> Optional[HttpResponse]:
        if isinstance(exception, DoorwardError):
            return _answer(exception)
        return None


def login_required(view: F) -> F:
    """Run the view only for a valid bearer token (401 otherwise)."""
    return _guard(None)(view)


def require_permission(permission: str) -> Callable[[F], F]:
    """Run the view only if the token's user holds ``permission``: 401
    without a valid token, 403 without the permission."""
    return _guard(permission)

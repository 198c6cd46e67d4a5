"""Django integration: the seed's ``@require_permission(...)`` decorator and
``@login_required`` for views, with JSON answers for doorward errors.

The instance comes from the ``DOORWARD`` setting: a :class:`doorward.Doorward`,
or its configuration (a dict or a TOML file path), opened on first use::

    # settings.py
    DOORWARD = {"database_url": "sqlite://auth.db", "jwt_secret": env("JWT_SECRET")}

    # views.py
    from doorward.django import require_permission

    @require_permission("users:write")
    def delete_user(request, user_id):
        ...  # request.principal is the caller
"""

from __future__ import annotations

import functools
import threading
from typing import Any, Callable, Optional, TypeVar, cast

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

from doorward._native import Doorward
from doorward.errors import DoorwardError
from doorward.web import bearer_token, error_body, error_headers, http_status

__all__ = ["doorward_instance", "login_required", "require_permission"]

F = TypeVar("F", bound=Callable[..., HttpResponse])

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
    response = JsonResponse(error_body(err), status=http_status(err))
    for name, value in error_headers(err).items():
        response[name] = value
    return response


def _guard(permission: Optional[str]) -> Callable[[F], F]:
    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            dw = doorward_instance()
            try:
                principal = dw.verify_token(bearer_token(request.headers.get("Authorization")))
                if permission is not None:
                    dw.require(principal.user_id, str(permission))
            except DoorwardError as err:
                return _answer(err)
            request.principal = principal
            return view(request, *args, **kwargs)

        return cast(F, wrapper)

    return decorate


def login_required(view: F) -> F:
    """Run the view only for a valid bearer token (401 otherwise)."""
    return _guard(None)(view)


def require_permission(permission: str) -> Callable[[F], F]:
    """Run the view only if the token's user holds ``permission``: 401
    without a valid token, 403 without the permission."""
    return _guard(permission)

"""Flask integration: the seed's ``@require_permission(...)`` decorator,
``@login_required``, and JSON answers for doorward errors.

::

    from flask import Flask
    import doorward
    from doorward.flask import current_principal, init_app, require_permission

    app = Flask(__name__)
    init_app(app, doorward.Doorward("doorward.toml"))

    @app.delete("/users/<user_id>")
    @require_permission(doorward.Permission.WRITE_USERS)
    def delete_user(user_id):
        ...
        return {"deleted": user_id, "by": current_principal().user_id}
"""

from __future__ import annotations

import functools
import inspect
from typing import Any, Callable, Optional, TypeVar, cast

from flask import Flask, Response, current_app, g, jsonify, request

from doorward._native import Doorward, Principal
from doorward.errors import DoorwardError
from doorward.web import bearer_token, error_response

__all__ = [
    "current_principal",
    "doorward_instance",
    "init_app",
    "login_required",
    "require_permission",
]

F = TypeVar("F", bound=Callable[..., Any])

_EXTENSION = "doorward"


def init_app(app: Flask, dw: Doorward) -> None:
    """Make ``dw`` the app's doorward and answer every
    :class:`DoorwardError` with its HTTP status and a JSON body."""
    app.extensions[_EXTENSION] = dw
    app.register_error_handler(DoorwardError, _handle)


def _handle(err: DoorwardError) -> Response:
    answer = error_response(err)
    response = jsonify(answer.body)
    response.status_code = answer.status
    response.headers.update(dict(answer.headers))
    return response


def doorward_instance() -> Doorward:
    """The current app's doorward, as :func:`init_app` set it."""
    dw = current_app.extensions.get(_EXTENSION)
    if not isinstance(dw, Doorward):
        raise RuntimeError("call doorward.flask.init_app(app, dw) first")
    return dw


def current_principal() -> Principal:
    """The principal of the current request's bearer token, verified once
    per request (raises :class:`DoorwardError`, answered as 401, without a
    valid one)."""
    principal: Optional[Principal] = g.get("doorward_principal")
    if principal is None:
        principal = doorward_instance().verify_token(
            bearer_token(request.headers.get("Authorization"))
        )
        g.doorward_principal = principal
    return principal


def _check(permission: Optional[str]) -> None:
    principal = current_principal()
    if permission is not None:
        doorward_instance().require(principal.user_id, str(permission))


def _guard(permission: Optional[str]) -> Callable[[F], F]:
    def decorate(view: F) -> F:
        if inspect.iscoroutinefunction(view):

            @functools.wraps(view)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                _check(permission)
                return await view(*args, **kwargs)

            return cast(F, async_wrapper)

        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            _check(permission)
            return view(*args, **kwargs)

        return cast(F, wrapper)

    return decorate


def login_required(view: F) -> F:
    """Run the view only for a valid bearer token (401 otherwise)."""
    return _guard(None)(view)


def require_permission(permission: str) -> Callable[[F], F]:
    """Run the view only if the token's user holds ``permission``: 401
    without a valid token, 403 without the permission."""
    return _guard(permission)

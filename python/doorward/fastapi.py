"""FastAPI integration: dependencies for the access token, the current
principal and a permission, and an exception handler for doorward errors.

::

    from fastapi import Depends, FastAPI
    import doorward
    from doorward.fastapi import current_principal, install, require_permission

    app = FastAPI()
    install(app, doorward.AsyncDoorward("doorward.toml"))

    @app.get("/me")
    async def me(principal: doorward.Principal = Depends(current_principal)):
        return principal.to_dict()

    @app.delete("/users/{user_id}")
    async def delete_user(user_id: str, _=Depends(require_permission("users:write"))):
        ...

Call :func:`install` when the app is made, not in a lifespan function:
Starlette fixes its exception handlers when it starts, so a handler added
later is never used (:func:`install` refuses to run then). A synchronous
:class:`doorward.Doorward` works too; its calls then run in FastAPI's
thread pool.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any, Callable, Optional, Union

from fastapi import Depends, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from doorward._native import AsyncDoorward, Doorward, Principal
from doorward.errors import DoorwardError
from doorward.web import bearer_token, error_response

__all__ = [
    "access_token",
    "current_principal",
    "doorward_instance",
    "install",
    "require_permission",
]

_bearer = HTTPBearer(auto_error=False, description="A doorward access token.")


def install(app: FastAPI, dw: Union[Doorward, AsyncDoorward]) -> None:
    """Make ``dw`` the app's doorward (``app.state.doorward``) and answer
    every :class:`DoorwardError` with its HTTP status and a JSON body."""
    if app.middleware_stack is not None:
        raise RuntimeError(
            "doorward.fastapi.install() must run before the app starts (not in a lifespan)"
        )
    app.state.doorward = dw
    app.add_exception_handler(DoorwardError, _handle)  # type: ignore[arg-type]


async def _handle(request: Request, err: DoorwardError) -> JSONResponse:
    answer = error_response(err)
    return JSONResponse(answer.body, status_code=answer.status, headers=dict(answer.headers))


def doorward_instance(request: Request) -> Union[Doorward, AsyncDoorward]:
    """The app's doorward, as :func:`install` set it."""
    dw = getattr(request.app.state, "doorward", None)
    if not isinstance(dw, (Doorward, AsyncDoorward)):
        raise RuntimeError("call doorward.fastapi.install(app, dw) before serving requests")
    return dw


async def _call(dw: Union[Doorward, AsyncDoorward], method: str, *args: Any) -> Any:
    if isinstance(dw, AsyncDoorward):
        return await getattr(dw, method)(*args)
    return await run_in_threadpool(getattr(dw, method), *args)


def access_token(
    credentials: Optional[HTTPAuthorizationCredentials] = Depends(_bearer),  # noqa: B008
) -> str:
    """The request's bearer token, unchecked (for ``logout``); 401 without one."""
    return bearer_token(f"Bearer {credentials.credentials}" if credentials else None)


async def current_principal(
    request: Request,
    token: str = Depends(access_token),
) -> Principal:
    """The principal of the request's bearer token; 401 without a valid one."""
    principal: Principal = await _call(doorward_instance(request), "verify_token", token)
    return principal


def require_permission(permission: str) -> Callable[..., Awaitable[Principal]]:
    """A dependency that admits only principals holding ``permission``
    (403 otherwise) and gives the principal to the endpoint."""

    async def dependency(
        request: Request,
        principal: Principal = Depends(current_principal),  # noqa: B008
    ) -> Principal:
        await _call(doorward_instance(request), "require", principal.user_id, str(permission))
        return principal

    return dependency

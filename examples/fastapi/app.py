"""A small FastAPI service on doorward: registration, login, token refresh,
logout, the caller's profile and avatar, an admin-only user listing, and
Prometheus metrics at ``/metrics``.

``uvicorn app:app`` serves the module-level ``app``, configured from the
environment (see README.md); tests build their own with :func:`create_app`.
"""

import logging
import os
import secrets
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any, Optional

from fastapi import APIRouter, Depends, FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict

import doorward
from doorward.fastapi import (
    access_token,
    current_principal,
    doorward_instance,
    install,
    require_permission,
)
from doorward.web import error_body, http_status

log = logging.getLogger(__name__)


# Request bodies. doorward validates the values (username rules, email
# syntax, password length...); these models only require the fields.


class RegisterIn(BaseModel):
    username: str
    email: str
    password: str


class LoginIn(BaseModel):
    login: str  # username or email
    password: str


class RefreshIn(BaseModel):
    refresh_token: str


# Responses, read straight from doorward's objects' attributes.


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class UserOut(Out):
    id: str
    username: str
    email: str
    disabled: bool
    created_at: datetime
    last_login_at: Optional[datetime]


class TokensOut(Out):
    access_token: str
    refresh_token: str
    token_type: str
    expires_in: int


class RegisteredOut(Out):
    user: UserOut
    tokens: TokensOut


class PrincipalOut(Out):
    user_id: str
    username: str
    session_id: str
    roles: list[str]
    expires_at: datetime


class MeOut(Out):
    principal: PrincipalOut
    user: UserOut


class AvatarOut(Out):
    key: str
    size: int
    content_type: Optional[str]


class UserListOut(Out):
    users: list[UserOut]
    next_cursor: Optional[str]


# Dependencies.


def get_doorward(request: Request) -> doorward.AsyncDoorward:
    """The app's doorward (``install`` also accepts a sync one: narrow it)."""
    dw = doorward_instance(request)
    if not isinstance(dw, doorward.AsyncDoorward):
        raise TypeError("this app runs on a doorward.AsyncDoorward")
    return dw


def client_info(request: Request) -> doorward.ClientInfo:
    """The caller's address and user agent, for rate limits and sessions."""
    return doorward.ClientInfo(
        ip=request.client.host if request.client else None,
        user_agent=request.headers.get("user-agent"),
    )


Dw = Annotated[doorward.AsyncDoorward, Depends(get_doorward)]
Client = Annotated[doorward.ClientInfo, Depends(client_info)]
AccessToken = Annotated[str, Depends(access_token)]  # the raw bearer token, unchecked
CurrentPrincipal = Annotated[doorward.Principal, Depends(current_principal)]
Admin = Annotated[doorward.Principal, Depends(require_permission(doorward.Permission.ADMIN))]


# Routes.

router = APIRouter()


@router.post("/register", status_code=status.HTTP_201_CREATED)
async def register(body: RegisterIn, dw: Dw, client: Client) -> RegisteredOut:
    reg = await dw.register_user(body.username, body.email, body.password, client)
    return RegisteredOut.model_validate(reg)


@router.post("/login")
async def login(body: LoginIn, dw: Dw, client: Client) -> TokensOut:
    return TokensOut.model_validate(await dw.login(body.login, body.password, client))


@router.post("/refresh")
async def refresh(body: RefreshIn, dw: Dw) -> TokensOut:
    return TokensOut.model_validate(await dw.refresh_token(body.refresh_token))


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(token: AccessToken, dw: Dw) -> None:
    # Ends the token's session: its access token and refresh token stop working.
    # access_token reads the token without verifying it (an expired one may
    # still log out) and answers 401 only when there is none.
    await dw.logout(token)


@router.get("/me")
async def me(principal: CurrentPrincipal, dw: Dw) -> MeOut:
    user = await dw.users.get(principal.user_id)
    return MeOut(
        principal=PrincipalOut.model_validate(principal), user=UserOut.model_validate(user)
    )


#: Avatars: raster images only (an SVG or HTML "avatar" served from this
#: origin could run script), at most 1 MiB.
AVATAR_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
AVATAR_MAX_BYTES = 1024 * 1024


def avatar_key(user_id: str) -> str:
    return f"avatars/{user_id}"


@router.put("/me/avatar")
async def put_avatar(request: Request, principal: CurrentPrincipal, dw: Dw) -> AvatarOut:
    """Store the request body as the caller's avatar, with its content type."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in AVATAR_TYPES:
        raise doorward.ValidationError(
            f"must be one of {', '.join(sorted(AVATAR_TYPES))}", field="content_type"
        )
    too_big = doorward.ValidationError(
        f"the avatar is larger than {AVATAR_MAX_BYTES} bytes", field="body"
    )
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > AVATAR_MAX_BYTES:
        raise too_big  # refused before reading a byte of it
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > AVATAR_MAX_BYTES:
            raise too_big
    if not body:
        raise doorward.ValidationError("the avatar is empty", field="body")
    info = await dw.files.put(avatar_key(principal.user_id), body, content_type)
    return AvatarOut.model_validate(info)


@router.get("/users/{user_id}/avatar")
async def get_avatar(user_id: str, dw: Dw) -> Response:
    """Anyone's avatar (404 ``not_found`` when they have none)."""
    info, data = await dw.files.get(avatar_key(user_id))
    return Response(
        data,
        media_type=info.content_type,
        headers={
            # Served as stored, never sniffed into something else.
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'",
            **({"ETag": info.etag} if info.etag else {}),
        },
    )


@router.get("/admin/users")
async def list_users(
    _: Admin, dw: Dw, cursor: Optional[str] = None, limit: int = 50
) -> UserListOut:
    page = await dw.users.list(cursor, limit)
    return UserListOut(
        users=[UserOut.model_validate(user) for user in page.items],
        next_cursor=page.next_cursor,
    )


#: The Prometheus text exposition format.
METRICS_TYPE = "text/plain; version=0.0.4; charset=utf-8"


@router.get("/metrics")
async def metrics(dw: Dw) -> Response:
    """doorward's counters, latencies and gauges as Prometheus text. Open to
    anyone here; in production keep it off the public internet (an internal
    port, or a network rule that lets only the scraper in)."""
    return Response(await dw.metrics_text(), media_type=METRICS_TYPE)


# The application.


def config_from_env() -> dict[str, Any]:
    """doorward's configuration from ``DOORWARD_DATABASE_URL`` (default: the
    SQLite file ``doorward-example.db``), ``DOORWARD_JWT_SECRET``,
    ``DOORWARD_REDIS_URL`` and ``DOORWARD_FILES_URL`` (default: the folder
    ``doorward-files`` beside the SQLite file)."""
    secret = os.environ.get("DOORWARD_JWT_SECRET")
    if not secret:
        log.warning("DOORWARD_JWT_SECRET is not set: tokens will not outlive this process")
        secret = secrets.token_urlsafe(32)
    config: dict[str, Any] = {
        "database_url": os.environ.get("DOORWARD_DATABASE_URL", "sqlite://doorward-example.db"),
        "jwt_secret": secret,
    }
    redis_url = os.environ.get("DOORWARD_REDIS_URL")
    if redis_url:
        config["redis_url"] = redis_url
    files_url = os.environ.get("DOORWARD_FILES_URL")
    if files_url:
        config["files_url"] = files_url
    return config


def create_app(config: Optional[Mapping[str, Any]] = None) -> FastAPI:
    """The application on a doorward opened with ``config`` (a dict of
    doorward's keys; :func:`config_from_env` when omitted)."""
    app = FastAPI(title="doorward FastAPI example")
    # Here, as the app is made: Starlette fixes its exception handlers when it
    # starts, so install() refuses to run later (in a lifespan function, say).
    install(app, doorward.AsyncDoorward(config_from_env() if config is None else config))

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        # A malformed body gets the same error shape as doorward's own
        # validation errors (and, unlike FastAPI's default, never echoes the
        # input, which may be a password).
        first = exc.errors()[0]
        where = [part for part in first.get("loc", ())[1:] if isinstance(part, str)]
        err = doorward.ValidationError(
            first.get("msg", "invalid request"), field=".".join(where) or None
        )
        return JSONResponse(error_body(err), status_code=http_status(err))

    app.include_router(router)
    return app


app = create_app()

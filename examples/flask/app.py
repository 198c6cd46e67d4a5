"""A small Flask service on doorward: registration, login, token refresh,
logout, the caller's profile and avatar, an admin-only user listing, and
Prometheus metrics at ``/metrics``.

``flask --app app run`` finds :func:`create_app` and calls it without
arguments, so the configuration comes from the environment (see README.md);
tests pass their own.
"""

import logging
import os
import secrets
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Optional

from flask import Blueprint, Flask, Response, request

import doorward
from doorward.flask import (
    current_principal,
    doorward_instance,
    init_app,
    login_required,
    require_permission,
)
from doorward.web import bearer_token

log = logging.getLogger(__name__)

bp = Blueprint("auth", __name__)


# Requests: doorward validates the values (username rules, email syntax,
# password length...); this only requires a JSON object of strings.


def fields(*names: str) -> list[str]:
    """The named string fields of the JSON body, or a 422 naming the first
    one missing (a doorward.ValidationError, answered like doorward's own)."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise doorward.ValidationError("the body must be a JSON object")
    values = []
    for name in names:
        value = body.get(name)
        if not isinstance(value, str):
            raise doorward.ValidationError(f"{name} is required (a string)", field=name)
        values.append(value)
    return values


def client_info() -> doorward.ClientInfo:
    """The caller's address and user agent, for rate limits and sessions."""
    return doorward.ClientInfo(ip=request.remote_addr, user_agent=request.headers.get("User-Agent"))


# Responses. Flask would write datetimes as HTTP dates: use ISO 8601, as
# the FastAPI example does.


def iso(value: Optional[datetime]) -> Optional[str]:
    return value.isoformat() if value is not None else None


def user_json(user: doorward.User) -> dict[str, Any]:
    return {
        "id": user.id,
        "username": user.username,
        "email": user.email,
        "disabled": user.disabled,
        "created_at": iso(user.created_at),
        "last_login_at": iso(user.last_login_at),
    }


def principal_json(principal: doorward.Principal) -> dict[str, Any]:
    return {**principal.to_dict(), "expires_at": iso(principal.expires_at)}


# Routes.


@bp.post("/register")
def register() -> tuple[dict[str, Any], int]:
    username, email, password = fields("username", "email", "password")
    reg = doorward_instance().register_user(username, email, password, client_info())
    return {"user": user_json(reg.user), "tokens": reg.tokens.to_dict()}, 201


@bp.post("/login")
def login() -> dict[str, Any]:
    name, password = fields("login", "password")  # username or email
    return doorward_instance().login(name, password, client_info()).to_dict()


@bp.post("/refresh")
def refresh() -> dict[str, Any]:
    (refresh_token,) = fields("refresh_token")
    return doorward_instance().refresh_token(refresh_token).to_dict()


@bp.post("/logout")
def logout() -> tuple[str, int]:
    # Ends the token's session: its access token and refresh token stop working.
    # The token is read, not verified (an expired one may still log out):
    # bearer_token answers 401 only when there is none.
    doorward_instance().logout(bearer_token(request.headers.get("Authorization")))
    return "", 204


@bp.get("/me")
@login_required
def me() -> dict[str, Any]:
    principal = current_principal()
    return {
        "principal": principal_json(principal),
        "user": user_json(doorward_instance().users.get(principal.user_id)),
    }


#: Avatars: raster images only (an SVG or HTML "avatar" served from this
#: origin could run script), at most 1 MiB.
AVATAR_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
AVATAR_MAX_BYTES = 1024 * 1024


def avatar_key(user_id: str) -> str:
    return f"avatars/{user_id}"


@bp.put("/me/avatar")
@login_required
def put_avatar() -> dict[str, Any]:
    """Store the request body as the caller's avatar, with its content type."""
    content_type = (request.mimetype or "").lower()
    if content_type not in AVATAR_TYPES:
        raise doorward.ValidationError(
            f"must be one of {', '.join(sorted(AVATAR_TYPES))}", field="content_type"
        )
    too_big = doorward.ValidationError(
        f"the avatar is larger than {AVATAR_MAX_BYTES} bytes", field="body"
    )
    if (request.content_length or 0) > AVATAR_MAX_BYTES:
        raise too_big  # refused before reading a byte of it
    body = request.stream.read(AVATAR_MAX_BYTES + 1)
    if len(body) > AVATAR_MAX_BYTES:
        raise too_big
    if not body:
        raise doorward.ValidationError("the avatar is empty", field="body")
    key = avatar_key(current_principal().user_id)
    info = doorward_instance().files.put(key, body, content_type)
    return {"key": info.key, "size": info.size, "content_type": info.content_type}


@bp.get("/users/<user_id>/avatar")
def get_avatar(user_id: str) -> Response:
    """Anyone's avatar (404 ``not_found`` when they have none)."""
    info, data = doorward_instance().files.get(avatar_key(user_id))
    response = Response(data, content_type=info.content_type)
    # Served as stored, never sniffed into something else.
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'"
    if info.etag:
        response.headers["ETag"] = info.etag
    return response


@bp.get("/admin/users")
@require_permission(doorward.Permission.ADMIN)
def list_users() -> dict[str, Any]:
    limit = request.args.get("limit", "50")
    if not limit.isdigit():
        raise doorward.ValidationError("limit must be a whole number", field="limit")
    page = doorward_instance().users.list(request.args.get("cursor"), int(limit))
    return {"users": [user_json(user) for user in page.items], "next_cursor": page.next_cursor}


#: The Prometheus text exposition format.
METRICS_TYPE = "text/plain; version=0.0.4; charset=utf-8"


@bp.get("/metrics")
def metrics() -> Response:
    """doorward's counters, latencies and gauges as Prometheus text. Open to
    anyone here; in production keep it off the public internet (an internal
    port, or a network rule that lets only the scraper in)."""
    return Response(doorward_instance().metrics_text(), content_type=METRICS_TYPE)


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


def create_app(config: Optional[Mapping[str, Any]] = None) -> Flask:
    """The application on a doorward opened with ``config`` (a dict of
    doorward's keys; :func:`config_from_env` when omitted)."""
    app = Flask(__name__)
    init_app(app, doorward.Doorward(config_from_env() if config is None else config))
    app.register_blueprint(bp)
    return app

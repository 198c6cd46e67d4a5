"""A small Flask service on doorward: registration, login (with the code
step of an account that has a second factor), token refresh, logout, the
caller's profile and avatar, an admin-only user listing, Prometheus metrics
at ``/metrics``, the account pages (verify an address, forgot and reset
a password, sign in by email, change the address), and sign-in with OAuth
2.0 / OpenID Connect providers (the redirect, the callback, linking and
unlinking).

``flask --app app run`` finds :func:`create_app` and calls it without
arguments, so the configuration comes from the environment (see README.md);
tests pass their own.
"""

import json
import logging
import os
import secrets
from collections.abc import Mapping
from datetime import datetime
from html import escape
from typing import Any, Optional

from flask import (
    Blueprint,
    Flask,
    Response,
    after_this_request,
    make_response,
    redirect,
    request,
    url_for,
)
from werkzeug.wrappers import Response as BaseResponse

import doorward
from doorward.flask import (
    current_principal,
    doorward_instance,
    init_app,
    login_required,
    require_permission,
)
from doorward.web import bearer_token, http_status

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
        "email_verified_at": iso(user.email_verified_at),
    }


def principal_json(principal: doorward.Principal) -> dict[str, Any]:
    return {
        **principal.to_dict(),
        "expires_at": iso(principal.expires_at),
        "auth_time": iso(principal.auth_time),
    }


# Routes.


@bp.post("/register")
def register() -> tuple[dict[str, Any], int]:
    username, email, password = fields("username", "email", "password")
    reg = doorward_instance().register_user(username, email, password, client_info())
    return {"user": user_json(reg.user), "tokens": reg.tokens.to_dict()}, 201


@bp.post("/login")
def login() -> Response:
    name, password = fields("login", "password")  # username or email
    result = doorward_instance().login(name, password, client_info())
    if isinstance(result, doorward.MfaChallenge):
        # The password was right; the code form at /login/mfa finishes it.
        response = make_response(
            {
                "mfa_required": True,
                "methods": result.methods,
                "enrolment_required": result.enrolment_required,
                "expires_in": result.expires_in,
            }
        )
        return keep_pending_login(response, result)
    return make_response(result.to_dict())


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


# Account pages: verify an address, forgot and reset a password, sign in by
# email, change the address. doorward makes the links and codes, mails them
# and checks them; these routes only render forms and forward what is
# posted. A link from a mail is never consumed by a GET: the GET shows a
# button whose POST does it, so a mail scanner that opens every link
# (Outlook Safe Links) cannot use it up before the user does. They answer
# HTML, and doorward's errors as a page with the status the core gives.

accounts = Blueprint("accounts", __name__)

#: An HTML page, its status and its headers.
Page = tuple[str, int, dict[str, str]]


#: Every account page: never cached (a link's page holds its secret), no
#: Referer carrying a link's query elsewhere, no script, forms posting here.
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'none'; form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
}


def page(title: str, body: str, status: int = 200) -> Page:
    head = f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(title)}</title>"
    return f"{head}</head><body><h1>{escape(title)}</h1>{body}</body></html>", status, PAGE_HEADERS


def form(action: str, hidden: dict[str, str], inputs: list[tuple[str, str]], button: str) -> str:
    """A POST form: hidden values, then labelled inputs (name, type)."""
    html = "".join(
        f"<input type='hidden' name='{escape(k)}' value='{escape(v)}'>" for k, v in hidden.items()
    )
    html += "".join(
        f"<label>{escape(name)} <input name='{escape(name)}' type='{kind}' required></label>"
        for name, kind in inputs
    )
    action = escape(action)
    return f"<form method='post' action='{action}'>{html}<button>{escape(button)}</button></form>"


def failed(err: doorward.DoorwardError) -> Page:
    return page("That did not work", f"<p>{escape(err.message)}</p>", http_status(err))


def posted(name: str) -> str:
    return request.form.get(name, "")


def secret_posted() -> str:
    """The link's secret, or the code the user typed."""
    return posted("secret") or posted("code")


def confirm_or_code(action: str, button: str) -> str:
    """The GET of a mailed link: a button that posts its secret, or (no
    secret: the user came to type the code) a code field."""
    flow, secret = request.args.get("flow", ""), request.args.get("secret")
    if secret:
        return form(action, {"flow": flow, "secret": secret}, [], button)
    return form(action, {"flow": flow}, [("code", "text")], button)


@accounts.get("/verify")
def verify_page() -> Page:
    return page("Confirm your address", confirm_or_code("/verify", "Confirm my address"))


@accounts.post("/verify")
def verify() -> Page:
    try:
        doorward_instance().verify_email(posted("flow"), secret_posted())
    except doorward.DoorwardError as err:
        return failed(err)
    return page("Verified", "<p>Your email address is verified.</p>")


@accounts.get("/forgot")
def forgot_page() -> Page:
    return page("Forgot your password?", form("/forgot", {}, [("email", "email")], "Send a link"))


@accounts.post("/forgot")
def forgot() -> Page:
    try:
        flow = doorward_instance().request_password_reset(posted("email"), client_info())
    except doorward.DoorwardError as err:
        return failed(err)
    # The same page whether the address has an account or not.
    code_form = form(
        "/reset", {"flow": flow.flow_id}, [("code", "text"), ("password", "password")], "Reset"
    )
    return page(
        "Check your mail",
        f"<p>If an account uses this address, a mail is on its way.</p>{code_form}",
    )


@accounts.get("/reset")
def reset_page() -> Page:
    hidden = {"flow": request.args.get("flow", ""), "secret": request.args.get("secret", "")}
    return page(
        "Choose a new password",
        form("/reset", hidden, [("password", "password")], "Set password"),
    )


@accounts.post("/reset")
def reset() -> Page:
    try:
        doorward_instance().reset_password(posted("flow"), secret_posted(), posted("password"))
    except doorward.DoorwardError as err:
        return failed(err)
    return page("Password changed", "<p>Your password is changed. Sign in with it.</p>")


@accounts.get("/sign-in/email")
def sign_in_page() -> Page:
    if request.args.get("flow"):
        return page("Sign in", confirm_or_code("/sign-in/email/complete", "Sign me in"))
    return page("Sign in by email", form("/sign-in/email", {}, [("email", "email")], "Mail me"))


@accounts.post("/sign-in/email")
def request_sign_in() -> Page:
    try:
        flow = doorward_instance().request_sign_in(posted("email"), client_info())
    except doorward.DoorwardError as err:
        return failed(err)
    code_form = form(
        "/sign-in/email/complete", {"flow": flow.flow_id}, [("code", "text")], "Sign in"
    )
    return page("Check your mail", f"<p>We sent a link and a code.</p>{code_form}")


@accounts.post("/sign-in/email/complete")
def complete_sign_in() -> Any:
    try:
        result = doorward_instance().complete_sign_in(
            posted("flow"), secret_posted(), client_info()
        )
    except doorward.DoorwardError as err:
        return failed(err)
    if isinstance(result, doorward.MfaChallenge):
        return keep_pending_login(make_response(code_page()), result)
    return result.to_dict()


# The second step of a login whose account has a second factor. The pending
# login's id proves the password: it travels in an HttpOnly cookie sent only
# to the code form's POST, never in a page, a body or a URL.

MFA_COOKIE = "doorward_mfa"
MFA_PATH = "/login/mfa"


def keep_pending_login(response: Response, challenge: doorward.MfaChallenge) -> Response:
    response.set_cookie(
        MFA_COOKIE,
        challenge.flow_id,
        max_age=challenge.expires_in,
        path=MFA_PATH,
        secure=request.is_secure,
        httponly=True,
        samesite="Strict",
    )
    return response


def code_page() -> Page:
    totp = form(MFA_PATH, {"method": "totp"}, [("code", "text")], "Sign in")
    recovery = form(MFA_PATH, {"method": "recovery_code"}, [("code", "text")], "Use it")
    return page(
        "Enter your code",
        f"<p>Type the code your authenticator app shows.</p>{totp}"
        f"<p>Lost your phone? Use one of your recovery codes.</p>{recovery}",
    )


@accounts.get(MFA_PATH)
def login_code_page() -> Page:
    return code_page()


@accounts.post(MFA_PATH)
def complete_login() -> Any:
    try:
        tokens = doorward_instance().complete_mfa(
            request.cookies.get(MFA_COOKIE, ""), posted("method"), posted("code"), client_info()
        )
    except doorward.DoorwardError as err:
        return failed(err)  # a wrong code leaves the login pending
    response = make_response(tokens.to_dict())
    response.headers["Cache-Control"] = "no-store"
    response.delete_cookie(MFA_COOKIE, path=MFA_PATH)
    return response


@accounts.post("/me/email")
@login_required
def request_email_change() -> tuple[dict[str, Any], int]:
    new_email, password = fields("new_email", "password")
    flow = doorward_instance().users.request_email_change(
        current_principal().user_id, new_email, password
    )
    return {"flow_id": flow.flow_id, "expires_in": flow.expires_in}, 202


@accounts.get("/email-change")
def email_change_page() -> Page:
    return page("Confirm your new address", confirm_or_code("/email-change", "Use this address"))


@accounts.post("/email-change")
def confirm_email_change() -> Page:
    try:
        user = doorward_instance().users.confirm_email_change(posted("flow"), secret_posted())
    except doorward.DoorwardError as err:
        return failed(err)
    return page("Address changed", f"<p>Your address is now {escape(user.email)}.</p>")


# Sign in with a provider (OAuth 2.0 / OpenID Connect). doorward keeps
# each sign-in's state, PKCE verifier and nonce, trades the code and checks
# the ID token; these routes only redirect the browser and hand the
# callback over. GET /auth/<provider> sends the browser to the provider
# with the sign-in's state in an HttpOnly cookie; the provider sends it
# back to GET /auth/<provider>/callback (register that URL at the
# provider), which answers like /login: the token pair, or the code step.
# A signed-in user links a provider with POST /auth/<provider>/link and the
# same callback. The providers are configured with DOORWARD_OAUTH_PROVIDERS
# (see config_from_env).

oauth = Blueprint("oauth", __name__)

#: The cookie holding a sign-in's state from the redirect to its callback:
#: HttpOnly, SameSite=Lax (the callback is a top-level navigation from the
#: provider's site, which Strict would leave without it), under /auth only.
OAUTH_COOKIE = "doorward_oauth_state"
OAUTH_PATH = "/auth"


def oauth_callback_url(provider: str) -> str:
    """This app's callback for ``provider``, as an absolute URL."""
    return url_for("oauth.callback", provider=provider, _external=True)


def to_provider(start: doorward.AuthorizationStart, status: int = 302) -> BaseResponse:
    """Send the browser to the provider, keeping the sign-in's state in it."""
    response = redirect(start.url, status)
    response.headers["Cache-Control"] = "no-store"
    response.set_cookie(
        OAUTH_COOKIE,
        start.state,
        max_age=start.expires_in,
        path=OAUTH_PATH,
        secure=request.is_secure,
        httponly=True,
        samesite="Lax",
    )
    return response


@oauth.get("/auth")
def providers() -> list[dict[str, str]]:
    """The providers to offer, for "Sign in with ..." buttons."""
    found = doorward_instance().oauth.providers()
    return [{"id": p.id, "name": p.name, "kind": p.kind} for p in found]


@oauth.get("/auth/<provider>")
def sign_in(provider: str) -> BaseResponse:
    start = doorward_instance().oauth.authorization_url(provider, oauth_callback_url(provider))
    return to_provider(start)


@oauth.post("/auth/<provider>/link")
@login_required
def link(provider: str) -> BaseResponse:
    """Link ``provider`` to the caller's account: the same dance, whose
    callback links instead of signing in."""
    user_id = current_principal().user_id
    start = doorward_instance().oauth.link(user_id, provider, oauth_callback_url(provider))
    return to_provider(start, 303)


@oauth.route("/auth/<provider>/callback", methods=["GET", "POST"])
def callback(provider: str) -> Any:
    @after_this_request
    def forget_state(response: Response) -> Response:
        # Spent or refused, the state is of no more use. This runs on
        # errors' answers too (init_app's handler makes them).
        response.headers["Cache-Control"] = "no-store"
        response.delete_cookie(OAUTH_COOKIE, path=OAUTH_PATH)
        return response

    expected: Optional[str]
    if request.method == "POST":
        # Apple posts its callback as a form (response_mode=form_post): the
        # body is the callback. That cross-site POST carries no SameSite=Lax
        # cookie, so its state (single-use, ten minutes) is checked alone.
        received = request.get_data(as_text=True)
        expected = request.cookies.get(OAUTH_COOKIE)
    else:
        received = request.url
        # No cookie, no sign-in: a callback this browser did not start
        # (login CSRF) is refused.
        expected = request.cookies.get(OAUTH_COOKIE, "")
    try:
        done = doorward_instance().oauth.complete(received, expected, client_info())
    except doorward.AccountExistsError as err:
        # The address (or identity) is an account's that may not be reached
        # this way: sign in with its password, then link from there.
        name = escape(err.provider or provider)
        return page(
            "Sign in with your password",
            f"<p>{escape(err.message)}</p><p>Sign in with your password, then link {name}"
            f" to your account (<code>POST /auth/{name}/link</code>).</p>",
            409,
        )
    if done.login is None:  # the callback of a link
        return {"linked": done.linked, "provider": done.provider, "user_id": done.user_id}
    if isinstance(done.login, doorward.MfaChallenge):
        # As /login: the code form at /login/mfa finishes it.
        challenge = done.login
        response = make_response(
            {
                "mfa_required": True,
                "methods": challenge.methods,
                "enrolment_required": challenge.enrolment_required,
                "expires_in": challenge.expires_in,
            }
        )
        return keep_pending_login(response, challenge)
    return done.login.to_dict()


@oauth.get("/me/identities")
@login_required
def identities() -> list[dict[str, Any]]:
    """The providers linked to the caller's account."""
    return [
        {
            "provider": i.provider,
            "subject": i.subject,
            "email": i.email,
            "email_verified": i.email_verified,
            "created_at": iso(i.created_at),
            "last_used_at": iso(i.last_used_at),
        }
        for i in doorward_instance().users.identities(current_principal().user_id)
    ]


@oauth.delete("/me/identities/<provider>")
@login_required
def unlink(provider: str) -> tuple[str, int]:
    """Unlink a provider (422 when it is the account's last way in)."""
    doorward_instance().oauth.unlink(current_principal().user_id, provider)
    return "", 204


# The application.


def config_from_env() -> dict[str, Any]:
    """doorward's configuration from ``DOORWARD_DATABASE_URL`` (default: the
    SQLite file ``doorward-example.db``), ``DOORWARD_JWT_SECRET``,
    ``DOORWARD_REDIS_URL``, ``DOORWARD_FILES_URL`` (default: the folder
    ``doorward-files`` beside the SQLite file), ``DOORWARD_MAIL_URL``,
    ``DOORWARD_APP_URL`` and ``DOORWARD_OAUTH_PROVIDERS`` (a JSON array of
    provider tables: ``[{"id": "google", "kind": "google", "client_id":
    "...", "client_secret": "..."}]``)."""
    secret = os.environ.get("DOORWARD_JWT_SECRET")
    if not secret:
        log.warning("DOORWARD_JWT_SECRET is not set: tokens will not outlive this process")
        secret = secrets.token_urlsafe(32)
    config: dict[str, Any] = {
        "database_url": os.environ.get("DOORWARD_DATABASE_URL", "sqlite://doorward-example.db"),
        "jwt_secret": secret,
    }
    # Where account mails go (smtp://host:port) and the public URL their
    # links point at.
    for key in ("redis_url", "files_url", "mail_url", "app_url"):
        value = os.environ.get(f"DOORWARD_{key.upper()}")
        if value:
            config[key] = value
    # The providers to sign in with: a list of tables, which doorward reads
    # from no environment variable of its own.
    providers = os.environ.get("DOORWARD_OAUTH_PROVIDERS")
    if providers:
        config["oauth_providers"] = json.loads(providers)
    return config


def create_app(config: Optional[Mapping[str, Any]] = None) -> Flask:
    """The application on a doorward opened with ``config`` (a dict of
    doorward's keys; :func:`config_from_env` when omitted)."""
    app = Flask(__name__)
    init_app(app, doorward.Doorward(config_from_env() if config is None else config))
    app.register_blueprint(bp)
    app.register_blueprint(accounts)
    app.register_blueprint(oauth)
    return app

"""A small FastAPI service on doorward: registration, login (with a second
factor when the account has one), token refresh, logout, the caller's
profile and avatar, an admin-only user listing, Prometheus metrics at
``/metrics``, the account pages (verify an address, forgot and reset a
password, sign in by email, change the address), second factors (an
enrolment page with a QR code, the code step of a login, step-up),
passkeys (an enrolment page and a sign-in page, whose browser half is the
static file ``static/passkeys.js``), sign-in with OAuth 2.0 / OpenID
Connect providers (the redirect, the callback, linking and unlinking) and
the admin console at ``/admin/`` (:mod:`doorward.console`).

``uvicorn app:app`` serves the module-level ``app``, configured from the
environment (see README.md); tests build their own with :func:`create_app`.
"""

import json
import logging
import os
import secrets
from collections.abc import Mapping
from datetime import datetime
from html import escape
from pathlib import Path
from typing import Annotated, Any, Optional, Union
from urllib.parse import parse_qs

from fastapi import APIRouter, Body, Depends, FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict

import doorward
from doorward.console import asgi_app
from doorward.fastapi import (
    access_token,
    current_principal,
    doorward_instance,
    install,
    require_permission,
)
from doorward.web import error_body, error_response, http_status

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


class CodeIn(BaseModel):
    code: str


class StepUpIn(BaseModel):
    method: str  # password, totp, recovery_code or passkey
    proof: str  # the password, the code, or a passkey assertion's JSON text


class PasskeyOptionsIn(BaseModel):
    username: Optional[str] = None  # none: the browser offers the site's passkeys


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
    email_verified_at: Optional[datetime]


class TokensOut(Out):
    access_token: str
    refresh_token: str
    token_type: str
    expires_in: int


class MfaRequiredOut(Out):
    """A login whose password was right, waiting for a code. The pending
    login's id travels in an HttpOnly cookie, never in this body."""

    mfa_required: bool  # always True: TokensOut has no such field
    methods: list[str]
    enrolment_required: bool
    expires_in: int


class RecoveryCodesOut(Out):
    codes: list[str]


class MfaStatusOut(Out):
    totp: bool
    recovery_codes_left: int
    enabled: bool


class PasskeyOut(Out):
    id: str
    name: str
    created_at: datetime
    last_used_at: Optional[datetime]
    backup_eligible: bool  # may be synced to the user's other devices
    backup_state: bool
    sign_count: int


class RegisteredOut(Out):
    user: UserOut
    tokens: TokensOut


class PrincipalOut(Out):
    user_id: str
    username: str
    session_id: str
    roles: list[str]
    expires_at: datetime
    amr: list[str]  # how the session was authenticated: pwd, otp, mfa...
    aal: int  # 2 after a password and a second factor
    auth_time: datetime


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
async def login(
    body: LoginIn, request: Request, response: Response, dw: Dw, client: Client
) -> Union[TokensOut, MfaRequiredOut]:
    result = await dw.login(body.login, body.password, client)
    if isinstance(result, doorward.MfaChallenge):
        # The password was right; the code form at /login/mfa finishes it.
        keep_pending_login(request, response, result)
        return MfaRequiredOut.model_validate(result)
    return TokensOut.model_validate(result)


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


# Account pages: verify an address, forgot and reset a password, sign in by
# email, change the address. doorward makes the links and codes, mails them
# and checks them; these routes only render forms and forward what is
# posted. A link from a mail is never consumed by a GET: the GET shows a
# button whose POST does it, so a mail scanner that opens every link
# (Outlook Safe Links) cannot use it up before the user does. They answer
# HTML, and doorward's errors as a page with the status the core gives.

accounts = APIRouter()


#: Every account page: never cached (a link's page holds its secret), no
#: Referer carrying a link's query elsewhere, no script, forms posting here.
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'none'; form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
}


def page(
    title: str, body: str, status_code: int = 200, headers: Mapping[str, str] = PAGE_HEADERS
) -> HTMLResponse:
    html = (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{escape(title)}</title></head><body><h1>{escape(title)}</h1>{body}</body></html>"
    )
    return HTMLResponse(html, status_code=status_code, headers=dict(headers))


def form(action: str, hidden: dict[str, str], fields: list[tuple[str, str]], button: str) -> str:
    """A POST form: hidden values, then labelled inputs (name, type)."""
    inputs = "".join(
        f"<input type='hidden' name='{escape(k)}' value='{escape(v)}'>" for k, v in hidden.items()
    )
    inputs += "".join(
        f"<label>{escape(name)} <input name='{escape(name)}' type='{kind}' required></label>"
        for name, kind in fields
    )
    action = escape(action)
    return f"<form method='post' action='{action}'>{inputs}<button>{escape(button)}</button></form>"


def failed(err: doorward.DoorwardError) -> HTMLResponse:
    """doorward's error, with the status the core gives its code."""
    return page("That did not work", f"<p>{escape(err.message)}</p>", http_status(err))


async def posted(request: Request) -> dict[str, str]:
    """A url-encoded form body (parsed here, so the example needs no
    multipart package)."""
    body = (await request.body()).decode("utf-8", "replace")
    return {k: v[0] for k, v in parse_qs(body).items()}


def secret_of(data: dict[str, str]) -> str:
    """The link's secret, or the code the user typed."""
    return data.get("secret") or data.get("code", "")


def confirm_or_code(action: str, flow: str, secret: Optional[str], button: str) -> str:
    """The GET of a mailed link: a button that posts the secret, or (no
    secret: the user came to type the code) a code field."""
    if secret:
        return form(action, {"flow": flow, "secret": secret}, [], button)
    return form(action, {"flow": flow}, [("code", "text")], button)


# Verify an address.


@accounts.get("/verify")
async def verify_page(flow: str, secret: Optional[str] = None) -> HTMLResponse:
    return page(
        "Confirm your address", confirm_or_code("/verify", flow, secret, "Confirm my address")
    )


@accounts.post("/verify")
async def verify(request: Request, dw: Dw) -> HTMLResponse:
    data = await posted(request)
    try:
        await dw.verify_email(data.get("flow", ""), secret_of(data))
    except doorward.DoorwardError as err:
        return failed(err)
    return page("Verified", "<p>Your email address is verified.</p>")


# Forgot and reset a password.


@accounts.get("/forgot")
async def forgot_page() -> HTMLResponse:
    return page(
        "Forgot your password?", form("/forgot", {}, [("email", "email")], "Send me a link")
    )


@accounts.post("/forgot")
async def forgot(request: Request, dw: Dw) -> HTMLResponse:
    data = await posted(request)
    try:
        flow = await dw.request_password_reset(data.get("email", ""), client_info(request))
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
async def reset_page(flow: str, secret: str) -> HTMLResponse:
    fields = [("password", "password")]
    return page(
        "Choose a new password",
        form("/reset", {"flow": flow, "secret": secret}, fields, "Set password"),
    )


@accounts.post("/reset")
async def reset(request: Request, dw: Dw) -> HTMLResponse:
    data = await posted(request)
    try:
        await dw.reset_password(data.get("flow", ""), secret_of(data), data.get("password", ""))
    except doorward.DoorwardError as err:
        return failed(err)
    return page("Password changed", "<p>Your password is changed. Sign in with it.</p>")


# Sign in by email.


@accounts.get("/sign-in/email")
async def sign_in_page(flow: Optional[str] = None, secret: Optional[str] = None) -> HTMLResponse:
    if flow:
        return page(
            "Sign in", confirm_or_code("/sign-in/email/complete", flow, secret, "Sign me in")
        )
    return page("Sign in by email", form("/sign-in/email", {}, [("email", "email")], "Mail me"))


@accounts.post("/sign-in/email")
async def request_sign_in(request: Request, dw: Dw) -> HTMLResponse:
    data = await posted(request)
    try:
        flow = await dw.request_sign_in(data.get("email", ""), client_info(request))
    except doorward.DoorwardError as err:
        return failed(err)
    code_form = form(
        "/sign-in/email/complete", {"flow": flow.flow_id}, [("code", "text")], "Sign in"
    )
    return page("Check your mail", f"<p>We sent a link and a code.</p>{code_form}")


@accounts.post("/sign-in/email/complete", response_model=None)
async def complete_sign_in(request: Request, dw: Dw) -> JSONResponse | HTMLResponse:
    data = await posted(request)
    try:
        result = await dw.complete_sign_in(
            data.get("flow", ""), secret_of(data), client_info(request)
        )
    except doorward.DoorwardError as err:
        return failed(err)
    if isinstance(result, doorward.MfaChallenge):
        response = code_page()
        keep_pending_login(request, response, result)
        return response
    return JSONResponse(result.to_dict())


# Change the address.


class EmailChangeIn(BaseModel):
    new_email: str
    password: str


@accounts.post("/me/email", status_code=status.HTTP_202_ACCEPTED)
async def request_email_change(
    body: EmailChangeIn, principal: CurrentPrincipal, dw: Dw
) -> dict[str, Any]:
    flow = await dw.users.request_email_change(principal.user_id, body.new_email, body.password)
    return {"flow_id": flow.flow_id, "expires_in": flow.expires_in}


@accounts.get("/email-change")
async def email_change_page(flow: str, secret: Optional[str] = None) -> HTMLResponse:
    return page(
        "Confirm your new address",
        confirm_or_code("/email-change", flow, secret, "Use this address"),
    )


@accounts.post("/email-change")
async def confirm_email_change(request: Request, dw: Dw) -> HTMLResponse:
    data = await posted(request)
    try:
        user = await dw.users.confirm_email_change(data.get("flow", ""), secret_of(data))
    except doorward.DoorwardError as err:
        return failed(err)
    return page("Address changed", f"<p>Your address is now {escape(user.email)}.</p>")


# Second factors: an authenticator app (TOTP) and recovery codes. A login of
# an account that has one answers MfaRequiredOut and sets an HttpOnly cookie
# holding the pending login's id (it proves the password, so it never
# appears in a page, a body or a URL); the code form at /login/mfa posts
# the code, and the cookie comes with it.

mfa = APIRouter()

#: The cookie of a pending login, sent only to the code form's POST.
MFA_COOKIE = "doorward_mfa"
MFA_PATH = "/login/mfa"

#: The enrolment page shows its QR code as an inline ``data:`` image: the
#: only page whose CSP lets an image in.
ENROLMENT_HEADERS = {
    **PAGE_HEADERS,
    "Content-Security-Policy": (
        "default-src 'none'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'"
    ),
}


def keep_pending_login(
    request: Request, response: Response, challenge: doorward.MfaChallenge
) -> None:
    """Hand the pending login's id to the browser in an HttpOnly cookie that
    only the code form's POST receives, for as long as the login waits."""
    response.set_cookie(
        MFA_COOKIE,
        challenge.flow_id,
        max_age=challenge.expires_in,
        path=MFA_PATH,
        secure=request.url.scheme == "https",
        httponly=True,
        samesite="strict",
    )


def code_page() -> HTMLResponse:
    """The second step of a login: a code from the app, or a recovery code."""
    totp = form(MFA_PATH, {"method": "totp"}, [("code", "text")], "Sign in")
    recovery = form(MFA_PATH, {"method": "recovery_code"}, [("code", "text")], "Use it")
    return page(
        "Enter your code",
        f"<p>Type the code your authenticator app shows.</p>{totp}"
        f"<p>Lost your phone? Use one of your recovery codes.</p>{recovery}",
    )


@mfa.get(MFA_PATH)
async def login_code_page() -> HTMLResponse:
    return code_page()


@mfa.post(MFA_PATH, response_model=None)
async def complete_login(request: Request, dw: Dw) -> JSONResponse | HTMLResponse:
    data = await posted(request)
    try:
        tokens = await dw.complete_mfa(
            request.cookies.get(MFA_COOKIE, ""),
            data.get("method", ""),
            data.get("code", ""),
            client_info(request),
        )
    except doorward.DoorwardError as err:
        # A wrong code leaves the login pending: the cookie stays for a retry.
        return failed(err)
    response = JSONResponse(tokens.to_dict(), headers={"Cache-Control": "no-store"})
    response.delete_cookie(MFA_COOKIE, path=MFA_PATH)
    return response


@mfa.post("/me/mfa/totp", response_model=None)
async def start_totp(principal: CurrentPrincipal, dw: Dw) -> HTMLResponse:
    """The enrolment page: the QR code and the key of a new authenticator,
    pending until a first code confirms it."""
    enrolment = await dw.mfa.start_totp(principal.user_id)
    body = (
        "<p>Scan this QR code with your authenticator app, or type the key.</p>"
        f"<img src='{escape(enrolment.qr_code)}' alt='QR code of your key' width='240'>"
        f"<p>Key: <code>{escape(enrolment.secret)}</code></p>"
        "<p>Then send the first code the app shows to <code>POST /me/mfa/totp/confirm</code>;"
        " it answers your recovery codes, shown once.</p>"
    )
    return page("Set up your authenticator app", body, headers=ENROLMENT_HEADERS)


@mfa.post("/me/mfa/totp/confirm")
async def confirm_totp(
    body: CodeIn, principal: CurrentPrincipal, response: Response, dw: Dw
) -> RecoveryCodesOut:
    codes = await dw.mfa.confirm_totp(principal.user_id, body.code)
    response.headers["Cache-Control"] = "no-store"
    return RecoveryCodesOut.model_validate(codes)


@mfa.get("/me/mfa")
async def mfa_status(principal: CurrentPrincipal, dw: Dw) -> MfaStatusOut:
    return MfaStatusOut.model_validate(await dw.mfa.status(principal.user_id))


@mfa.delete("/me/mfa/totp", status_code=status.HTTP_204_NO_CONTENT)
async def disable_totp(token: AccessToken, dw: Dw) -> None:
    # Needs an authentication within fresh_auth_max_age: otherwise 401
    # step_up_required, answered by POST /me/step-up.
    await dw.mfa.disable_totp(token)


@mfa.post("/me/step-up")
async def step_up(body: StepUpIn, token: AccessToken, dw: Dw, client: Client) -> TokensOut:
    # A new session's tokens; the old session ends.
    return TokensOut.model_validate(await dw.step_up(token, body.method, body.proof, client))


# Passkeys (WebAuthn). doorward makes the options and checks what the
# browser answers; these routes forward JSON both ways. The pages' browser
# half, navigator.credentials.create() and .get(), is the static file
# static/passkeys.js: the pages' Content-Security-Policy runs script from
# this origin only, never inline script. The relying party is the host of
# app_url, and the pages work at the origins webauthn_origins names
# (default: app_url's), so serve them there (see config_from_env).

passkeys = APIRouter()

#: Where static/passkeys.js is.
STATIC = Path(__file__).resolve().parent / "static"

#: The passkey pages: script and fetch() from this origin only (so no
#: inline script, no other site's), no plugins, forms posting here.
PASSKEY_HEADERS = {
    **PAGE_HEADERS,
    "Content-Security-Policy": (
        "default-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self';"
        " frame-ancestors 'none'"
    ),
}

#: A browser's ``credential.toJSON()``, as posted by static/passkeys.js.
Credential = Annotated[dict[str, Any], Body()]


def passkey_page(title: str, body: str) -> HTMLResponse:
    """A passkey page: its controls, a line for what happened, the script."""
    return page(
        title,
        f"{body}<p id='passkey-status' role='status'></p>"
        "<script src='/static/passkeys.js' defer></script>",
        headers=PASSKEY_HEADERS,
    )


@passkeys.get("/me/passkeys")
async def passkeys_page(principal: CurrentPrincipal, dw: Dw) -> HTMLResponse:
    """The caller's passkeys, and a button that adds one."""
    keys = await dw.passkeys.list(principal.user_id)
    items = "".join(
        f"<li>{escape(key.name)}, added {key.created_at:%Y-%m-%d}"
        + (f", last used {key.last_used_at:%Y-%m-%d}" if key.last_used_at else "")
        + "</li>"
        for key in keys
    )
    body = (
        f"<ul id='passkey-list'>{items or '<li>No passkey yet.</li>'}</ul>"
        "<label>Name <input id='passkey-name' value='Passkey' maxlength='64' required></label>"
        "<button type='button' id='add-passkey'>Add a passkey</button>"
    )
    return passkey_page("Your passkeys", body)


@passkeys.post("/me/passkeys/options")
async def passkey_creation_options(
    principal: CurrentPrincipal, response: Response, dw: Dw
) -> dict[str, Any]:
    """``{"publicKey": ...}`` for ``PublicKeyCredential.parseCreationOptionsFromJSON``."""
    response.headers["Cache-Control"] = "no-store"
    return await dw.passkeys.start_registration(principal.user_id)


@passkeys.post("/me/passkeys", status_code=status.HTTP_201_CREATED)
async def add_passkey(
    credential: Credential, principal: CurrentPrincipal, dw: Dw, name: str = ""
) -> PasskeyOut:
    """Register what ``navigator.credentials.create()`` made, as ``?name=``."""
    info = await dw.passkeys.finish_registration(principal.user_id, credential, name)
    return PasskeyOut.model_validate(info)


@passkeys.get("/login/passkey")
async def passkey_sign_in_page() -> HTMLResponse:
    body = (
        "<label>Username (optional) <input id='passkey-username'"
        " autocomplete='username webauthn'></label>"
        "<button type='button' id='sign-in-with-passkey'>Sign in with a passkey</button>"
    )
    return passkey_page("Sign in", body)


@passkeys.post("/login/passkey/options")
async def passkey_request_options(
    response: Response, dw: Dw, body: Optional[PasskeyOptionsIn] = None
) -> dict[str, Any]:
    """``{"publicKey": ...}`` for ``PublicKeyCredential.parseRequestOptionsFromJSON``:
    for a username's passkeys, or with none for any of the site's."""
    response.headers["Cache-Control"] = "no-store"
    return await dw.passkeys.start_authentication(body.username if body else None)


@passkeys.post("/login/passkey")
async def passkey_sign_in(
    credential: Credential, response: Response, dw: Dw, client: Client
) -> TokensOut:
    """What ``navigator.credentials.get()`` answered, for a token pair like
    ``/login``'s (a passkey is level 2 by itself: no code step)."""
    tokens = await dw.passkeys.finish_authentication(credential, client)
    response.headers["Cache-Control"] = "no-store"
    return TokensOut.model_validate(tokens)


# Sign in with a provider (OAuth 2.0 / OpenID Connect). doorward keeps
# each sign-in's state, PKCE verifier and nonce, trades the code and checks
# the ID token; these routes only redirect the browser and hand the
# callback over. GET /auth/{provider} sends the browser to the provider
# with the sign-in's state in an HttpOnly cookie; the provider sends it
# back to GET /auth/{provider}/callback (register that URL at the
# provider), which answers like /login: the token pair, or the code step.
# A signed-in user links a provider with POST /auth/{provider}/link and the
# same callback. The providers are configured with DOORWARD_OAUTH_PROVIDERS
# (see config_from_env).

oauth = APIRouter()

#: The cookie holding a sign-in's state from the redirect to its callback:
#: HttpOnly, SameSite=Lax (the callback is a top-level navigation from the
#: provider's site, which Strict would leave without it), under /auth only.
OAUTH_COOKIE = "doorward_oauth_state"
OAUTH_PATH = "/auth"


class ProviderOut(Out):
    id: str
    name: str  # for a "Sign in with ..." button
    kind: str


class IdentityOut(Out):
    provider: str
    subject: str
    email: Optional[str]
    email_verified: bool
    created_at: datetime
    last_used_at: Optional[datetime]


def oauth_callback_url(request: Request, provider: str) -> str:
    """This app's callback for ``provider``, as an absolute URL."""
    return str(request.url_for("oauth_callback", provider=provider))


def to_provider(
    request: Request, start: doorward.AuthorizationStart, status_code: int = 302
) -> RedirectResponse:
    """Send the browser to the provider, keeping the sign-in's state in it."""
    response = RedirectResponse(
        start.url, status_code=status_code, headers={"Cache-Control": "no-store"}
    )
    response.set_cookie(
        OAUTH_COOKIE,
        start.state,
        max_age=start.expires_in,
        path=OAUTH_PATH,
        secure=request.url.scheme == "https",
        httponly=True,
        samesite="lax",
    )
    return response


def error_json(err: doorward.DoorwardError) -> JSONResponse:
    """doorward's error as install() answers it: the core's status,
    headers and body."""
    answer = error_response(err)
    return JSONResponse(answer.body, status_code=answer.status, headers=dict(answer.headers))


@oauth.get("/auth")
async def oauth_providers(dw: Dw) -> list[ProviderOut]:
    """The providers to offer (reading the configuration: not awaited)."""
    return [ProviderOut.model_validate(p) for p in dw.oauth.providers()]


@oauth.get("/auth/{provider}")
async def oauth_sign_in(provider: str, request: Request, dw: Dw) -> RedirectResponse:
    start = await dw.oauth.authorization_url(provider, oauth_callback_url(request, provider))
    return to_provider(request, start)


@oauth.post("/auth/{provider}/link")
async def oauth_link(
    provider: str, request: Request, principal: CurrentPrincipal, dw: Dw
) -> RedirectResponse:
    """Link ``provider`` to the caller's account: the same dance, whose
    callback links instead of signing in."""
    start = await dw.oauth.link(principal.user_id, provider, oauth_callback_url(request, provider))
    return to_provider(request, start, status.HTTP_303_SEE_OTHER)


@oauth.get("/auth/{provider}/callback", name="oauth_callback", response_model=None)
async def oauth_callback(provider: str, request: Request, dw: Dw) -> Response:
    # No cookie, no sign-in: a callback this browser did not start (login
    # CSRF) is refused.
    expected = request.cookies.get(OAUTH_COOKIE, "")
    return await finish_oauth(provider, str(request.url), expected, request, dw)


@oauth.post("/auth/{provider}/callback", response_model=None)
async def oauth_form_post_callback(provider: str, request: Request, dw: Dw) -> Response:
    """Apple posts its callback as a form (``response_mode=form_post``): the
    body is the callback. That cross-site POST carries no SameSite=Lax
    cookie, so its state (single-use, ten minutes) is checked alone."""
    callback = (await request.body()).decode("utf-8", "replace")
    expected = request.cookies.get(OAUTH_COOKIE)
    return await finish_oauth(provider, callback, expected, request, dw)


async def finish_oauth(
    provider: str, callback: str, expected: Optional[str], request: Request, dw: Dw
) -> Response:
    """Hand the callback to doorward, and answer like /login (or, for a
    link, with what was linked); the state cookie goes either way."""
    response: Response
    try:
        done = await dw.oauth.complete(callback, expected, client_info(request))
    except doorward.AccountExistsError as err:
        # The address (or identity) is an account's that may not be reached
        # this way: sign in with its password, then link from there.
        body = error_response(err).body
        body["hint"] = (
            f"Sign in with your password, then link {err.provider or provider} to your account"
            f" (POST /auth/{err.provider or provider}/link)."
        )
        response = JSONResponse(body, status_code=status.HTTP_409_CONFLICT)
    except doorward.DoorwardError as err:
        response = error_json(err)
    else:
        if done.login is None:  # the callback of a link
            response = JSONResponse(
                {"linked": done.linked, "provider": done.provider, "user_id": done.user_id}
            )
        elif isinstance(done.login, doorward.MfaChallenge):
            # As /login: the code form at /login/mfa finishes it.
            response = JSONResponse(MfaRequiredOut.model_validate(done.login).model_dump())
            keep_pending_login(request, response, done.login)
        else:
            response = JSONResponse(done.login.to_dict())
    response.headers["Cache-Control"] = "no-store"
    response.delete_cookie(OAUTH_COOKIE, path=OAUTH_PATH)
    return response


@oauth.get("/me/identities")
async def identities(principal: CurrentPrincipal, dw: Dw) -> list[IdentityOut]:
    """The providers linked to the caller's account."""
    found = await dw.users.identities(principal.user_id)
    return [IdentityOut.model_validate(i) for i in found]


@oauth.delete("/me/identities/{provider}", status_code=status.HTTP_204_NO_CONTENT)
async def unlink(provider: str, principal: CurrentPrincipal, dw: Dw) -> None:
    """Unlink a provider (422 when it is the account's last way in)."""
    await dw.oauth.unlink(principal.user_id, provider)


# The application.


def config_from_env() -> dict[str, Any]:
    """doorward's configuration from ``DOORWARD_DATABASE_URL`` (default: the
    SQLite file ``doorward-example.db``), ``DOORWARD_JWT_SECRET``,
    ``DOORWARD_REDIS_URL``, ``DOORWARD_FILES_URL`` (default: the folder
    ``doorward-files`` beside the SQLite file), ``DOORWARD_MAIL_URL``,
    ``DOORWARD_APP_URL`` (default: ``http://localhost:8000``, where
    ``uvicorn`` serves), ``DOORWARD_WEBAUTHN_RP_ID``,
    ``DOORWARD_WEBAUTHN_ORIGINS`` (comma-separated) and
    ``DOORWARD_OAUTH_PROVIDERS`` (a JSON array of provider tables:
    ``[{"id": "google", "kind": "google", "client_id": "...",
    "client_secret": "..."}]``)."""
    secret = os.environ.get("DOORWARD_JWT_SECRET")
    if not secret:
        log.warning("DOORWARD_JWT_SECRET is not set: tokens will not outlive this process")
        secret = secrets.token_urlsafe(32)
    config: dict[str, Any] = {
        "database_url": os.environ.get("DOORWARD_DATABASE_URL", "sqlite://doorward-example.db"),
        "jwt_secret": secret,
        # The public URL: mails' links point at it, and passkeys belong to
        # its host (the relying party) and work at its origin.
        "app_url": os.environ.get("DOORWARD_APP_URL") or "http://localhost:8000",
    }
    # Where account mails go (smtp://host:port); the passkeys' relying
    # party and origins when app_url's do not suit.
    for key in ("redis_url", "files_url", "mail_url", "webauthn_rp_id", "webauthn_origins"):
        value = os.environ.get(f"DOORWARD_{key.upper()}")
        if value:
            config[key] = value
    # The providers to sign in with: a list of tables, which doorward reads
    # from no environment variable of its own.
    providers = os.environ.get("DOORWARD_OAUTH_PROVIDERS")
    if providers:
        config["oauth_providers"] = json.loads(providers)
    return config


def create_app(config: Optional[Mapping[str, Any]] = None) -> FastAPI:
    """The application on a doorward opened with ``config`` (a dict of
    doorward's keys; :func:`config_from_env` when omitted)."""
    app = FastAPI(title="doorward FastAPI example")
    # Here, as the app is made: Starlette fixes its exception handlers when it
    # starts, so install() refuses to run later (in a lifespan function, say).
    dw = doorward.AsyncDoorward(config_from_env() if config is None else config)
    install(app, dw)

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
    app.include_router(accounts)
    app.include_router(mfa)
    app.include_router(passkeys)
    app.include_router(oauth)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    # The admin console at /admin/: the same Rust router `doorward console`
    # serves, with its own sign-in (accounts granted console:read,
    # console:write or admin), cookies and CSRF tokens. Mounted after the
    # routers, so the API's own /admin/users stays theirs.
    app.mount("/admin", asgi_app(dw), name="console")
    return app


app = create_app()

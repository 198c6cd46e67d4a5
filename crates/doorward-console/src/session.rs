//! Signing in to the console, and who is asking.
//!
//! The session is doorward's own: the login (and its second factor) gives
//! an access and a refresh token, kept in `HttpOnly`, `SameSite=Strict`
//! cookies the page's script never reads. Every request verifies the
//! access token (so a revoked session or a disabled admin is out at
//! once) and asks the core whether the account may read or change
//! things. State-changing requests must echo the CSRF token the session
//! answer gave in `X-CSRF-Token` (a double submit against a third
//! `HttpOnly` cookie); a cross-site page can neither read it nor set it.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Json;
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::header::{HOST, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use cookie::{Cookie, SameSite};
use doorward::{ClientInfo, LoginResult, Principal, TokenPair};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq as _;

use crate::Console;
use crate::error::{ApiError, ApiResult, Body};

const ACCESS: &str = "dw_console";
const REFRESH: &str = "dw_console_refresh";
const CSRF: &str = "dw_console_csrf";
/// The header a state-changing request echoes the CSRF token in.
pub(crate) const CSRF_HEADER: &str = "x-csrf-token";

const NOT_SIGNED_IN: ApiError = ApiError(doorward::Error::TokenInvalid {
    reason: "not signed in to the console",
});

/// What the console reads with and what it changes with.
pub(crate) const READ: &str = "console:read";
pub(crate) const WRITE: &str = "console:write";
/// What an administrator of everything holds (`admin:*`, `*`).
const ADMIN: &str = "admin:console";

/// Whether cookies can be `Secure` and `__Host-`: everywhere but plain
/// HTTP on loopback, where browsers would refuse them (a console behind a
/// TLS-terminating proxy says so with `X-Forwarded-Proto: https`).
fn secure(headers: &HeaderMap) -> bool {
    let forwarded_https = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("https"));
    let host = headers
        .get(HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let name = match host.rsplit_once(':') {
        Some((name, port)) if port.chars().all(|c| c.is_ascii_digit()) => name,
        _ => host,
    };
    let loopback = matches!(name, "127.0.0.1" | "localhost" | "[::1]");
    forwarded_https || !loopback
}

fn cookie_name(base: &str, secure: bool) -> String {
    if secure {
        format!("__Host-{base}")
    } else {
        base.to_string()
    }
}

/// A cookie of this request, under either name.
fn read_cookie(headers: &HeaderMap, base: &str) -> Option<String> {
    let secure_name = format!("__Host-{base}");
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| Cookie::split_parse(v.to_string()))
        .filter_map(Result::ok)
        .find(|c| c.name() == secure_name || c.name() == base)
        .map(|c| c.value().to_string())
}

fn set_cookie(response: &mut Response, name: String, value: String, secure: bool, remove: bool) {
    let mut cookie = Cookie::build((name, value))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(secure)
        .build();
    if remove {
        cookie.make_removal();
    }
    if let Ok(value) = HeaderValue::from_str(&cookie.to_string()) {
        response.headers_mut().append(SET_COOKIE, value);
    }
}

/// A signed-in account that may use the console.
#[derive(Debug, Clone)]
pub(crate) struct Admin {
    pub principal: Principal,
    pub can_write: bool,
}

impl Admin {
    /// Refuses an account that may only read.
    pub fn require_write(&self) -> ApiResult<()> {
        if self.can_write {
            Ok(())
        } else {
            Err(ApiError::forbidden(WRITE))
        }
    }
}

/// Whether the account may read, and whether it may change things.
async fn rights(console: &Console, user_id: &str) -> ApiResult<(bool, bool)> {
    let auth = console.dw.auth();
    let admin = auth.can(user_id, ADMIN).await?;
    let write = admin || auth.can(user_id, WRITE).await?;
    let read = write || auth.can(user_id, READ).await?;
    Ok((read, write))
}

impl FromRequestParts<Arc<Console>> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        console: &Arc<Console>,
    ) -> Result<Self, Self::Rejection> {
        // Already resolved for this request by `act_as_admin`.
        if let Some(admin) = parts.extensions.remove::<Admin>() {
            return Ok(admin);
        }
        let token = read_cookie(&parts.headers, ACCESS).ok_or(NOT_SIGNED_IN)?;
        let principal = console.dw.auth().verify_token(&token).await?;
        let (read, write) = rights(console, &principal.user_id).await?;
        if !read {
            return Err(ApiError::forbidden(READ));
        }
        if !matches!(parts.method, Method::GET | Method::HEAD) {
            check_csrf(&parts.headers)?;
        }
        Ok(Admin {
            principal,
            can_write: write,
        })
    }
}

/// Runs every change an administrator makes inside
/// [`doorward::events::acting_as`] that administrator, so the events it
/// causes, and so the audit log, name who made it. A request that is not
/// a signed-in administrator's goes on unchanged, to be refused (or
/// signed in) by its handler.
pub(crate) async fn act_as_admin(
    State(console): State<Arc<Console>>,
    request: Request,
    next: Next,
) -> Response {
    if matches!(*request.method(), Method::GET | Method::HEAD) {
        return next.run(request).await;
    }
    let (mut parts, body) = request.into_parts();
    let Ok(admin) = Admin::from_request_parts(&mut parts, &console).await else {
        return next.run(Request::from_parts(parts, body)).await;
    };
    let actor = admin.principal.user_id.clone();
    let client = client(&parts);
    parts.extensions.insert(admin);
    let request = Request::from_parts(parts, body);
    doorward::events::acting_as(&actor, Some(client), next.run(request)).await
}

fn check_csrf(headers: &HeaderMap) -> ApiResult<()> {
    let expected = read_cookie(headers, CSRF);
    let given = headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
    match (expected, given) {
        (Some(expected), Some(given))
            if !expected.is_empty() && bool::from(expected.as_bytes().ct_eq(given.as_bytes())) =>
        {
            Ok(())
        }
        _ => Err(ApiError::forbidden("a valid X-CSRF-Token header")),
    }
}

/// Who is signed in: what the app shows and the token it must echo.
#[derive(Debug, Serialize)]
pub(crate) struct SessionInfo {
    user_id: String,
    username: String,
    can_write: bool,
    aal: u8,
    csrf_token: String,
}

/// GET `api/session`.
pub(crate) async fn current(admin: Admin, headers: HeaderMap) -> ApiResult<Json<SessionInfo>> {
    let csrf_token = read_cookie(&headers, CSRF).unwrap_or_default();
    Ok(Json(SessionInfo {
        user_id: admin.principal.user_id,
        username: admin.principal.username,
        can_write: admin.can_write,
        aal: admin.principal.aal,
        csrf_token,
    }))
}

#[derive(Deserialize)]
pub(crate) struct Login {
    login: String,
    password: String,
}

#[derive(Deserialize)]
pub(crate) struct SecondFactor {
    flow_id: String,
    method: String,
    code: String,
}

#[derive(Serialize)]
struct MfaNeeded {
    mfa_required: bool,
    flow_id: String,
    methods: Vec<String>,
}

fn client(parts: &Parts) -> ClientInfo {
    ClientInfo {
        ip: parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip().to_string()),
        user_agent: parts
            .headers
            .get(axum::http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
    }
}

/// The request's client, for the core's per-address limits.
pub(crate) struct Client(ClientInfo, HeaderMap);

impl<S: Send + Sync> FromRequestParts<S> for Client {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Client(client(parts), parts.headers.clone()))
    }
}

/// POST `api/session`: the password (and, when the account has one, a
/// second step at `api/session/mfa`).
pub(crate) async fn sign_in(
    State(console): State<Arc<Console>>,
    Client(client, headers): Client,
    Body(login): Body<Login>,
) -> ApiResult<Response> {
    let result = console
        .dw
        .auth()
        .login(&login.login, &login.password, Some(client))
        .await?;
    match result {
        LoginResult::Tokens(pair) => started(&console, &headers, pair).await,
        LoginResult::MfaRequired(challenge) => Ok(Json(MfaNeeded {
            mfa_required: true,
            flow_id: challenge.flow_id,
            methods: challenge.methods,
        })
        .into_response()),
    }
}

/// POST `api/session/mfa`.
pub(crate) async fn second_factor(
    State(console): State<Arc<Console>>,
    Client(client, headers): Client,
    Body(step): Body<SecondFactor>,
) -> ApiResult<Response> {
    let pair = console
        .dw
        .auth()
        .complete_mfa(&step.flow_id, &step.method, &step.code, Some(client))
        .await?;
    started(&console, &headers, pair).await
}

/// The account a new token pair is for, if the console admits it (and
/// whether it may change things); otherwise the session just made is
/// ended, not kept, and the answer is `forbidden`.
async fn admitted(console: &Console, pair: &TokenPair) -> ApiResult<(Principal, bool)> {
    let principal = console.dw.auth().verify_token(&pair.access_token).await?;
    let (read, write) = rights(console, &principal.user_id).await?;
    if !read {
        console.dw.auth().logout(&pair.access_token).await?;
        return Err(ApiError::forbidden(READ));
    }
    Ok((principal, write))
}

/// The cookies of a token pair (and of a CSRF token, when new).
fn keep(response: &mut Response, headers: &HeaderMap, pair: TokenPair, csrf: Option<String>) {
    let secure = secure(headers);
    let values = [
        (ACCESS, Some(pair.access_token)),
        (REFRESH, Some(pair.refresh_token)),
        (CSRF, csrf),
    ];
    for (base, value) in values {
        if let Some(value) = value {
            set_cookie(response, cookie_name(base, secure), value, secure, false);
        }
    }
}

/// A login went through: the session, for an account the console admits.
async fn started(console: &Console, headers: &HeaderMap, pair: TokenPair) -> ApiResult<Response> {
    let (principal, write) = admitted(console, &pair).await?;
    let csrf_token = hex::encode(rand::random::<[u8; 32]>());
    let info = SessionInfo {
        user_id: principal.user_id,
        username: principal.username,
        can_write: write,
        aal: principal.aal,
        csrf_token: csrf_token.clone(),
    };
    let mut response = Json(info).into_response();
    keep(&mut response, headers, pair, Some(csrf_token));
    Ok(response)
}

/// POST `api/session/refresh`: a new access token for the session (the
/// app asks when one expires), the refresh token rotated.
pub(crate) async fn refresh(
    State(console): State<Arc<Console>>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    check_csrf(&headers)?;
    let token = read_cookie(&headers, REFRESH).ok_or(NOT_SIGNED_IN)?;
    let pair = console.dw.auth().refresh_token(&token).await?;
    admitted(&console, &pair).await?;
    let mut response = axum::http::StatusCode::NO_CONTENT.into_response();
    keep(&mut response, &headers, pair, None);
    Ok(response)
}

/// DELETE `api/session`: sign out (the session ends in the store too).
pub(crate) async fn sign_out(
    State(console): State<Arc<Console>>,
    admin: Admin,
    headers: HeaderMap,
) -> ApiResult<Response> {
    drop(admin);
    if let Some(token) = read_cookie(&headers, ACCESS) {
        console.dw.auth().logout(&token).await?;
    }
    let secure = secure(&headers);
    let mut response = axum::http::StatusCode::NO_CONTENT.into_response();
    for base in [ACCESS, REFRESH, CSRF] {
        set_cookie(
            &mut response,
            cookie_name(base, secure),
            String::new(),
            secure,
            true,
        );
    }
    Ok(response)
}

//! The Users page: search, an account's detail, and what an administrator
//! does to it.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use doorward::mfa::MfaStatus;
use doorward::passkeys::PasskeyInfo;
use doorward::store::AuditFilter;
use doorward::{Identity, Page, Session, User};
use serde::{Deserialize, Serialize};

use crate::Console;
use crate::error::{ApiError, ApiResult, Body, Params};
use crate::session::Admin;

#[derive(Deserialize)]
pub(crate) struct Search {
    /// The start of an email address or username; every account when absent.
    q: Option<String>,
    cursor: Option<String>,
    limit: Option<u32>,
}

/// GET `api/users`.
pub(crate) async fn list(
    State(console): State<Arc<Console>>,
    _admin: Admin,
    Params(search): Params<Search>,
) -> ApiResult<Json<Page<User>>> {
    let users = console.dw.users();
    let page = match search.q.as_deref().map(str::trim) {
        Some(q) if !q.is_empty() => {
            users
                .search(q, search.cursor.as_deref(), search.limit)
                .await?
        }
        _ => users.list(search.cursor.as_deref(), search.limit).await?,
    };
    Ok(Json(page))
}

#[derive(Serialize)]
pub(crate) struct Detail {
    user: User,
    roles: Vec<String>,
    sessions: Vec<Session>,
    /// Second factors: TOTP and recovery codes left, then passkeys.
    mfa: MfaStatus,
    passkeys: Vec<PasskeyInfo>,
    /// Identities at OAuth providers that sign the account in.
    identities: Vec<Identity>,
    /// The account's latest audit entries, newest last.
    audit: Vec<doorward::store::AuditRecord>,
}

/// GET `api/users/{id}`.
pub(crate) async fn detail(
    State(console): State<Arc<Console>>,
    _admin: Admin,
    Path(id): Path<String>,
) -> ApiResult<Json<Detail>> {
    let dw = &console.dw;
    let user = dw.users().get(&id).await?;
    let filter = AuditFilter {
        user_id: Some(user.id.clone()),
        ..AuditFilter::default()
    };
    // The newest entries: page to the end, keeping the last 50.
    let mut audit = Vec::new();
    let mut cursor = None;
    loop {
        let page = dw.audit().list(&filter, cursor.as_deref(), 500).await?;
        audit.extend(page.items);
        let keep = audit.len().saturating_sub(50);
        audit.drain(..keep);
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    Ok(Json(Detail {
        roles: dw.roles().of_user(&user.id).await?,
        sessions: dw.sessions().list(&user.id).await?,
        mfa: dw.mfa().status(&user.id).await?,
        passkeys: dw.passkeys().list(&user.id).await?,
        identities: dw.users().identities(&user.id).await?,
        user,
        audit,
    }))
}

#[derive(Deserialize)]
pub(crate) struct RoleName {
    role: String,
}

#[derive(Serialize)]
pub(crate) struct Changed {
    changed: bool,
}

/// POST `api/users/{id}/roles` `{role}`.
pub(crate) async fn grant(
    State(console): State<Arc<Console>>,
    admin: Admin,
    Path(id): Path<String>,
    Body(body): Body<RoleName>,
) -> ApiResult<Json<Changed>> {
    admin.require_write()?;
    let changed = console.dw.roles().grant(&id, &body.role).await?;
    Ok(Json(Changed { changed }))
}

/// DELETE `api/users/{id}/roles/{role}`.
pub(crate) async fn revoke(
    State(console): State<Arc<Console>>,
    admin: Admin,
    Path((id, role)): Path<(String, String)>,
) -> ApiResult<Json<Changed>> {
    admin.require_write()?;
    let changed = console.dw.roles().revoke(&id, &role).await?;
    Ok(Json(Changed { changed }))
}

/// DELETE `api/users/{id}/sessions/{session}`: one session of this account.
pub(crate) async fn end_session(
    State(console): State<Arc<Console>>,
    admin: Admin,
    Path((id, session)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    admin.require_write()?;
    let sessions = console.dw.sessions();
    if !sessions.list(&id).await?.iter().any(|s| s.id == session) {
        return Err(ApiError(doorward::Error::NotFound { what: "session" }));
    }
    sessions.revoke(&session).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize)]
pub(crate) struct Ended {
    ended: u64,
}

/// DELETE `api/users/{id}/sessions`: every session of this account.
pub(crate) async fn end_sessions(
    State(console): State<Arc<Console>>,
    admin: Admin,
    Path(id): Path<String>,
) -> ApiResult<Json<Ended>> {
    admin.require_write()?;
    console.dw.users().get(&id).await?;
    let ended = console.dw.sessions().revoke_all(&id).await?;
    Ok(Json(Ended { ended }))
}

/// POST `api/users/{id}/unlock`.
pub(crate) async fn unlock(
    State(console): State<Arc<Console>>,
    admin: Admin,
    Path(id): Path<String>,
) -> ApiResult<Json<Changed>> {
    admin.require_write()?;
    let changed = console.dw.users().unlock(&id).await?;
    Ok(Json(Changed { changed }))
}

/// POST `api/users/{id}/disable`.
pub(crate) async fn disable(
    State(console): State<Arc<Console>>,
    admin: Admin,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    admin.require_write()?;
    if id == admin.principal.user_id {
        return Err(ApiError::invalid(
            "id",
            "you cannot disable your own account here",
        ));
    }
    console.dw.users().disable(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// POST `api/users/{id}/enable`.
pub(crate) async fn enable(
    State(console): State<Arc<Console>>,
    admin: Admin,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    admin.require_write()?;
    console.dw.users().enable(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
pub(crate) struct Confirm {
    /// The account's username, typed again.
    confirm: String,
}

/// DELETE `api/users/{id}` `{confirm: username}`.
pub(crate) async fn remove(
    State(console): State<Arc<Console>>,
    admin: Admin,
    Path(id): Path<String>,
    Body(body): Body<Confirm>,
) -> ApiResult<StatusCode> {
    admin.require_write()?;
    if id == admin.principal.user_id {
        return Err(ApiError::invalid(
            "id",
            "you cannot delete your own account here",
        ));
    }
    let user = console.dw.users().get(&id).await?;
    if !body.confirm.eq_ignore_ascii_case(&user.username) {
        return Err(ApiError::invalid(
            "confirm",
            "type the account's username to delete it",
        ));
    }
    console.dw.users().delete(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
pub(crate) struct NewPassword {
    password: String,
}

/// POST `api/users/{id}/password` `{password}`: every session ends.
pub(crate) async fn set_password(
    State(console): State<Arc<Console>>,
    admin: Admin,
    Path(id): Path<String>,
    Body(body): Body<NewPassword>,
) -> ApiResult<StatusCode> {
    admin.require_write()?;
    console.dw.users().set_password(&id, &body.password).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize)]
pub(crate) struct ResetQueued {
    expires_in: u64,
}

/// POST `api/users/{id}/reset`: a reset mail to the account's address.
pub(crate) async fn send_reset(
    State(console): State<Arc<Console>>,
    admin: Admin,
    Path(id): Path<String>,
) -> ApiResult<Json<ResetQueued>> {
    admin.require_write()?;
    let user = console.dw.users().get(&id).await?;
    let flow = console
        .dw
        .auth()
        .request_password_reset(&user.email, None)
        .await?;
    Ok(Json(ResetQueued {
        expires_in: flow.expires_in,
    }))
}

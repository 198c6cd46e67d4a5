//! The Dashboard and Sessions pages: the store's numbers, and every
//! account's live sessions.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use doorward::{Dashboard, Page, Session};

use super::Paging;
use crate::Console;
use crate::error::{ApiResult, Params};
use crate::session::Admin;

/// GET `api/dashboard`.
pub(crate) async fn dashboard(
    State(console): State<Arc<Console>>,
    _admin: Admin,
) -> ApiResult<Json<Dashboard>> {
    Ok(Json(console.dw.stats().dashboard().await?))
}

/// GET `api/sessions`: live sessions of every account, oldest first.
pub(crate) async fn sessions(
    State(console): State<Arc<Console>>,
    _admin: Admin,
    Params(paging): Params<Paging>,
) -> ApiResult<Json<Page<Session>>> {
    let page = console
        .dw
        .sessions()
        .list_all(paging.cursor.as_deref(), paging.limit)
        .await?;
    Ok(Json(page))
}

/// DELETE `api/sessions/{id}`.
pub(crate) async fn revoke(
    State(console): State<Arc<Console>>,
    admin: Admin,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    admin.require_write()?;
    console.dw.sessions().revoke(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}

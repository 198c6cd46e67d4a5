//! The Audit log page: filtered pages, the chain verified, and the whole
//! log as JSON Lines.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::IntoResponse;
use chrono::{DateTime, Utc};
use doorward::events::{AuditPage, AuditVerification};
use doorward::store::AuditFilter;
use serde::Deserialize;

use crate::Console;
use crate::error::{ApiError, ApiResult, Params};
use crate::session::Admin;

#[derive(Deserialize)]
pub(crate) struct Filter {
    user_id: Option<String>,
    #[serde(rename = "type")]
    event_type: Option<String>,
    since: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
    cursor: Option<String>,
    limit: Option<u32>,
}

/// GET `api/audit?user_id=&type=&since=&until=`.
pub(crate) async fn list(
    State(console): State<Arc<Console>>,
    _admin: Admin,
    Params(f): Params<Filter>,
) -> ApiResult<Json<AuditPage>> {
    let event_type = match f.event_type.as_deref().filter(|t| !t.is_empty()) {
        Some(name) => Some(
            name.parse()
                .map_err(|_| ApiError::invalid("type", "not an event type"))?,
        ),
        None => None,
    };
    let filter = AuditFilter {
        user_id: f.user_id.filter(|u| !u.is_empty()),
        event_type,
        since: f.since,
        until: f.until,
    };
    let page = console
        .dw
        .audit()
        .list(&filter, f.cursor.as_deref(), f.limit)
        .await?;
    Ok(Json(page))
}

/// GET `api/audit/verify`: the hash chain recomputed.
pub(crate) async fn verify(
    State(console): State<Arc<Console>>,
    _admin: Admin,
) -> ApiResult<Json<AuditVerification>> {
    Ok(Json(console.dw.audit().verify().await?))
}

/// GET `api/audit/export`: every row, JSON Lines, as a download.
pub(crate) async fn export(
    State(console): State<Arc<Console>>,
    _admin: Admin,
) -> ApiResult<impl IntoResponse> {
    let lines = console.dw.audit().export(None).await?;
    Ok((
        [
            (CONTENT_TYPE, "application/x-ndjson"),
            (CONTENT_DISPOSITION, "attachment; filename=\"audit.jsonl\""),
        ],
        lines,
    ))
}

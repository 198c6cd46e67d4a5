//! The Webhooks and events page: endpoints (add, remove, send a test),
//! recent deliveries, and dead letters with replay.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use doorward::events::{EventType, WebhookTest, parse_types};
use doorward::store::{DeliveryRecord, DeliveryStatus};
use doorward::{Webhook, config::redact_url};
use serde::{Deserialize, Serialize};

use crate::Console;
use crate::error::{ApiError, ApiResult, Body, Params};
use crate::session::Admin;

/// A webhook as the list shows it: its URL redacted (a query may carry a
/// receiver's token) and without its signing secret, which only the
/// answer that created it shows.
#[derive(Serialize)]
pub(crate) struct Endpoint {
    id: String,
    url: String,
    event_types: Vec<EventType>,
    created_at: DateTime<Utc>,
}

impl From<Webhook> for Endpoint {
    fn from(hook: Webhook) -> Self {
        Endpoint {
            url: redact_url(&hook.url).into_owned(),
            id: hook.id,
            event_types: hook.event_types,
            created_at: hook.created_at,
        }
    }
}

/// GET `api/webhooks`.
pub(crate) async fn list(
    State(console): State<Arc<Console>>,
    _admin: Admin,
) -> ApiResult<Json<Vec<Endpoint>>> {
    let hooks = console.dw.webhooks().list().await?;
    Ok(Json(hooks.into_iter().map(Endpoint::from).collect()))
}

#[derive(Deserialize)]
pub(crate) struct NewWebhook {
    url: String,
    #[serde(default)]
    event_types: Vec<String>,
}

/// POST `api/webhooks` `{url, event_types}`: the new webhook with its
/// secret, shown this once.
pub(crate) async fn add(
    State(console): State<Arc<Console>>,
    admin: Admin,
    Body(hook): Body<NewWebhook>,
) -> ApiResult<(StatusCode, Json<Webhook>)> {
    admin.require_write()?;
    let types = parse_types(&hook.event_types)?;
    let added = console.dw.webhooks().add(&hook.url, &types).await?;
    Ok((StatusCode::CREATED, Json(added)))
}

/// DELETE `api/webhooks/{id}`.
pub(crate) async fn remove(
    State(console): State<Arc<Console>>,
    admin: Admin,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    admin.require_write()?;
    console.dw.webhooks().remove(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// POST `api/webhooks/{id}/test`: a signed test message, sent now.
pub(crate) async fn test(
    State(console): State<Arc<Console>>,
    admin: Admin,
    Path(id): Path<String>,
) -> ApiResult<Json<WebhookTest>> {
    admin.require_write()?;
    Ok(Json(console.dw.webhooks().test(&id).await?))
}

#[derive(Deserialize)]
pub(crate) struct DeliveryQuery {
    status: Option<String>,
    cursor: Option<String>,
    limit: Option<u32>,
}

/// A page of deliveries.
#[derive(Serialize)]
pub(crate) struct Deliveries {
    items: Vec<DeliveryRecord>,
    next_cursor: Option<String>,
}

/// GET `api/deliveries?status=pending|delivered|dead&cursor=&limit=`:
/// oldest first; the cursor is the last id of the page before.
pub(crate) async fn deliveries(
    State(console): State<Arc<Console>>,
    _admin: Admin,
    Params(query): Params<DeliveryQuery>,
) -> ApiResult<Json<Deliveries>> {
    let status = match query.status.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some("pending") => Some(DeliveryStatus::Pending),
        Some("delivered") => Some(DeliveryStatus::Delivered),
        Some("dead") => Some(DeliveryStatus::Dead),
        Some(_) => {
            return Err(ApiError::invalid(
                "status",
                "must be pending, delivered or dead",
            ));
        }
    };
    let limit = query.limit.unwrap_or(50);
    let items = console
        .dw
        .events()
        .deliveries(status, query.cursor.as_deref(), limit)
        .await?;
    let next_cursor = (items.len() == limit as usize)
        .then(|| items.last().map(|d| d.id.to_string()))
        .flatten();
    Ok(Json(Deliveries { items, next_cursor }))
}

/// POST `api/deliveries/{id}/replay`: a dead delivery queued again.
pub(crate) async fn replay(
    State(console): State<Arc<Console>>,
    admin: Admin,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    admin.require_write()?;
    let id = id
        .parse()
        .map_err(|_| ApiError::invalid("id", "is not a delivery id"))?;
    console.dw.events().replay(id).await?;
    Ok(StatusCode::NO_CONTENT)
}

//! The Configuration page: the configuration the instance runs with,
//! read-only, every secret redacted, each key with where it came from.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use doorward::config::ConfigEntry;

use crate::Console;
use crate::error::ApiResult;
use crate::session::Admin;

/// GET `api/config`.
pub(crate) async fn show(
    State(console): State<Arc<Console>>,
    _admin: Admin,
) -> ApiResult<Json<Vec<ConfigEntry>>> {
    Ok(Json(console.dw.describe_config()))
}

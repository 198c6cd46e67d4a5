//! The Roles page: every role with its permissions; create and delete
//! (the seeded roles cannot be deleted: the core refuses).

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use doorward::Role;
use serde::Deserialize;

use crate::Console;
use crate::error::{ApiResult, Body};
use crate::session::Admin;

/// GET `api/roles`.
pub(crate) async fn list(
    State(console): State<Arc<Console>>,
    _admin: Admin,
) -> ApiResult<Json<Vec<Role>>> {
    Ok(Json(console.dw.roles().list().await?))
}

#[derive(Deserialize)]
pub(crate) struct NewRole {
    name: String,
    #[serde(default)]
    permissions: Vec<String>,
    #[serde(default)]
    description: String,
}

/// POST `api/roles` `{name, permissions, description}`.
pub(crate) async fn create(
    State(console): State<Arc<Console>>,
    admin: Admin,
    Body(role): Body<NewRole>,
) -> ApiResult<(StatusCode, Json<Role>)> {
    admin.require_write()?;
    let permissions: Vec<&str> = role.permissions.iter().map(String::as_str).collect();
    let created = console
        .dw
        .roles()
        .create(&role.name, &permissions, &role.description)
        .await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// DELETE `api/roles/{name}`.
pub(crate) async fn remove(
    State(console): State<Arc<Console>>,
    admin: Admin,
    Path(name): Path<String>,
) -> ApiResult<StatusCode> {
    admin.require_write()?;
    console.dw.roles().delete(&name).await?;
    Ok(StatusCode::NO_CONTENT)
}

//! The Roles page: every role with its permissions and who holds it;
//! create and delete (the seeded roles cannot be deleted: the core
//! refuses).

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use doorward::{Page, Role, User};
use serde::Deserialize;

use super::Paging;
use crate::Console;
use crate::error::{ApiResult, Body, Params};
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

/// GET `api/roles/{name}/holders?cursor=&limit=`: who holds the role.
pub(crate) async fn holders(
    State(console): State<Arc<Console>>,
    _admin: Admin,
    Path(name): Path<String>,
    Params(paging): Params<Paging>,
) -> ApiResult<Json<Page<User>>> {
    let page = console
        .dw
        .roles()
        .holders(&name, paging.cursor.as_deref(), paging.limit)
        .await?;
    Ok(Json(page))
}

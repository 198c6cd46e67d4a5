//! The JSON admin API the app calls, one module per page. Every route
//! takes an [`Admin`](crate::session::Admin): reads need `console:read`,
//! changes `console:write` and the CSRF token, and run as that
//! administrator (see [`session::act_as_admin`]).

use std::sync::Arc;

use axum::Router;
use axum::routing::{any, delete, get, post};

use crate::Console;
use crate::session;

mod audit;
mod monitoring;
mod overview;
mod roles;
mod settings;
mod users;
mod webhooks;

/// `?cursor=&limit=` of a paged list.
#[derive(serde::Deserialize)]
pub(crate) struct Paging {
    pub cursor: Option<String>,
    pub limit: Option<u32>,
}

pub(crate) fn routes() -> Router<Arc<Console>> {
    Router::new()
        .route(
            "/session",
            get(session::current)
                .post(session::sign_in)
                .delete(session::sign_out),
        )
        .route("/session/mfa", post(session::second_factor))
        .route("/session/refresh", post(session::refresh))
        .route("/dashboard", get(overview::dashboard))
        .route("/sessions", get(overview::sessions))
        .route("/sessions/{id}", delete(overview::revoke))
        .route("/users", get(users::list))
        .route("/users/{id}", get(users::detail).delete(users::remove))
        .route("/users/{id}/roles", post(users::grant))
        .route("/users/{id}/roles/{role}", delete(users::revoke))
        .route("/users/{id}/sessions", delete(users::end_sessions))
        .route("/users/{id}/sessions/{session}", delete(users::end_session))
        .route("/users/{id}/unlock", post(users::unlock))
        .route("/users/{id}/disable", post(users::disable))
        .route("/users/{id}/enable", post(users::enable))
        .route("/users/{id}/password", post(users::set_password))
        .route("/users/{id}/reset", post(users::send_reset))
        .route("/roles", get(roles::list).post(roles::create))
        .route("/roles/{name}", delete(roles::remove))
        .route("/roles/{name}/holders", get(roles::holders))
        .route("/audit", get(audit::list))
        .route("/audit/verify", get(audit::verify))
        .route("/audit/export", get(audit::export))
        .route("/webhooks", get(webhooks::list).post(webhooks::add))
        .route("/webhooks/{id}", delete(webhooks::remove))
        .route("/webhooks/{id}/test", post(webhooks::test))
        .route("/deliveries", get(webhooks::deliveries))
        .route("/deliveries/{id}/replay", post(webhooks::replay))
        .route("/config", get(settings::show))
        .route("/metrics", get(monitoring::show))
        // A route, not a fallback: a fallback does not survive the host
        // nesting this router in its own.
        .route("/{*rest}", any(not_found))
        .method_not_allowed_fallback(wrong_method)
}

/// A method the route does not take.
async fn wrong_method() -> crate::ApiError {
    crate::ApiError::invalid("method", "this route does not take this method")
}

/// An API path that does not exist: the same JSON error as the rest.
async fn not_found() -> crate::ApiError {
    crate::ApiError(doorward::Error::NotFound { what: "route" })
}

//! The doorward admin console: an axum [`Router`] over a [`Doorward`],
//! serving a JSON admin API under `api/` and a small single-page app
//! whose files are embedded in the binary, so it runs with no network, no
//! CDN and no separate deployment.
//!
//! Run it on its own origin with `doorward console --listen
//! 127.0.0.1:7700`, or mount it in a Rust host under a path; Python and
//! Node hosts mount the same router through their bindings.
//!
//! Only accounts whose roles grant `console:read` (reading) or
//! `console:write` (changing), or `admin:console` (so `admin:*` and `*`
//! too), sign in, with doorward's own login and its second factor.
//! The session is a pair of `HttpOnly`, `SameSite=Strict` cookies
//! (`__Host-` prefixed and `Secure` except on loopback over plain HTTP);
//! every state-changing request carries the CSRF token the session
//! answer gave, and is recorded in the audit log with the administrator
//! as its actor; every page is served under a strict Content Security
//! Policy with no inline script or style.
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let dw = doorward::Doorward::open_in_memory_for_docs().await;
//! let app = axum::Router::new().nest("/admin", doorward_console::router(dw));
//! # let _ = app;
//! # });
//! ```

#![forbid(unsafe_code)]

use std::sync::Arc;

use axum::Router;
use doorward::Doorward;

mod api;
mod assets;
mod error;
mod mount;
mod session;

pub use assets::{CSP, asset_paths};
pub use error::ApiError;
pub use mount::{MAX_BODY, Mount, MountRequest, MountResponse};

/// What the handlers share.
#[derive(Debug)]
pub(crate) struct Console {
    pub dw: Doorward,
}

/// The console's router: the app at `/`, its files under `assets/`, the
/// JSON API under `api/`. Mount it with [`Router::nest`] under any path.
pub fn router(dw: Doorward) -> Router {
    let console = Arc::new(Console { dw });
    Router::new()
        .merge(assets::routes())
        .nest(
            "/api",
            api::routes().layer(axum::middleware::from_fn_with_state(
                console.clone(),
                session::act_as_admin,
            )),
        )
        .layer(axum::middleware::map_response(assets::harden))
        .with_state(console)
}

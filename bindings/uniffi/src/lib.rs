//! doorward for Kotlin and Swift, through uniffi's proc-macros.
//!
//! Every rule lives in the `doorward` crate; this crate converts records,
//! errors and callbacks (the app's `TokenStore` and `EventHandler`). Every async export goes through [`export!`], which
//! names the tokio runtime, so the core (sqlx, Redis) always runs inside
//! one; a panic anywhere in the core becomes `DoorwardError.Internal`.

#![forbid(unsafe_code)]

uniffi::setup_scaffolding!();

/// `#[uniffi::export(async_runtime = "tokio")]` on each item: the one way
/// this crate exports, so no async export can miss the runtime. uniffi
/// refuses the runtime on items without an async fn; those are marked
/// `sync` at the call site.
macro_rules! export {
    (sync $($item:item)*) => {
        $(
            #[uniffi::export]
            $item
        )*
    };
    ($($item:item)*) => {
        $(
            #[uniffi::export(async_runtime = "tokio")]
            $item
        )*
    };
}

mod audit;
mod client;
mod config;
mod device;
mod error;
mod events;
mod files;
mod limits;
mod mail;
mod mfa;
mod oauth;
mod offline;
mod passkeys;
mod roles;
mod sessions;
mod types;
mod users;
mod webhooks;

pub use audit::{Audit, AuditPage, AuditRecord, AuditVerification};
pub use client::Doorward;
pub use config::{Config, OAuthProviderConfig, PreviousKey};
pub use device::{DeviceLogin, DeviceSession, TokenStore};
pub use error::{DoorwardError, HttpErrorResponse};
pub use events::{
    DeliveryRecord, Event, EventHandler, EventHandlerError, EventPage, Events, Subscription,
};
pub use files::{FileContent, FileInfo, FilePage, Files};
pub use limits::Limits;
pub use mail::{Mail, Message};
pub use mfa::{Mfa, MfaStatus, RecoveryCodes, TotpEnrolment};
pub use oauth::{AuthorizationStart, OAuth, OAuthCompletion, ProviderInfo, ProviderTokens};
pub use offline::TokenVerifier;
pub use passkeys::{PasskeyInfo, Passkeys};
pub use roles::Roles;
pub use sessions::Sessions;
pub use types::{
    ClientInfo, Decision, FlowStarted, LoginResult, MfaChallenge, Page, Principal, Registration,
    Role, Session, TokenPair, User, UserRow, UserRowPage,
};
pub use users::{Identity, ImportFailure, ImportReport, ImportedUser, Users};
pub use webhooks::{Webhook, WebhookTest, Webhooks};

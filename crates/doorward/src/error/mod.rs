//! Errors with stable machine codes.
//!
//! Two layers, as hosts need them: [`Error`] carries what went wrong for
//! people and logs, [`ErrorCode`] is the public contract that bindings map to
//! exception classes and that callers branch on. A message never contains a
//! password, token, hash, key or email address.
//!
//! The codes are one table (`codes.rs`, [`error_code_table!`](crate::error_code_table)),
//! and the HTTP answer to an error is one function ([`Error::http_response`],
//! `http.rs`), so no binding keeps a copy of either.

use std::time::Duration;

mod codes;
mod http;

pub use codes::ErrorCode;
pub use http::{ErrorBody, ErrorBodyDetail, ErrorParts, HttpErrorResponse};

/// Shorthand used across the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything doorward can fail with.
///
/// Branch on [`Error::code`], not on the message: messages may be reworded,
/// codes never are.
///
/// ```
/// use doorward::{Error, ErrorCode};
/// let err = Error::validation("email", "must contain exactly one @");
/// assert_eq!(err.code(), ErrorCode::ValidationError);
/// assert_eq!(err.code().as_str(), "validation_error");
/// assert_eq!(err.field(), Some("email"));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Input was rejected before anything was written.
    #[error("invalid {field}: {message}")]
    Validation {
        /// Which input was wrong (`"email"`, `"password"`, `"cursor"`, ...).
        field: String,
        /// Why, in words a user can act on.
        message: String,
    },
    /// Another account already uses this email address.
    #[error("an account with this email address already exists")]
    DuplicateEmail,
    /// Another account already uses this username.
    #[error("an account with this username already exists")]
    DuplicateUsername,
    /// Unknown login or wrong password; deliberately does not say which.
    #[error("invalid login or password")]
    InvalidCredentials,
    /// The account exists but has been disabled by an administrator.
    #[error("this account is disabled")]
    UserDisabled,
    /// Too many failed logins: the account is locked for a while.
    #[error("this account is locked; retry in {}s", retry_after.as_secs())]
    AccountLocked {
        /// How long until a login may be tried again.
        retry_after: Duration,
    },
    /// The thing asked for does not exist.
    #[error("{what} not found")]
    NotFound {
        /// What kind of thing (`"user"`, `"role"`, `"session"`).
        what: &'static str,
    },
    /// A token that is malformed, forged, for someone else, or otherwise unusable.
    #[error("invalid token: {reason}")]
    TokenInvalid {
        /// Which check failed (never the token itself).
        reason: &'static str,
    },
    /// A well-formed token past its lifetime.
    #[error("token expired")]
    TokenExpired,
    /// A token whose session was ended (logout, revocation, disabled account).
    #[error("token revoked")]
    TokenRevoked,
    /// A refresh token presented after it was already rotated: its whole
    /// family (session) has been revoked.
    #[error("refresh token was already used; its session has been revoked")]
    TokenReused,
    /// An account flow's secret is wrong (`attempts_left` more may be
    /// tried) or was already used (`None`).
    #[error("this link or code is wrong or already used{}", attempts_left.map(|n| format!("; {n} attempts left")).unwrap_or_default())]
    FlowInvalid { attempts_left: Option<u32> },
    /// An account flow past its lifetime or its attempts.
    #[error("this link or code has expired; ask for a new one")]
    FlowExpired,
    /// The action needs a stronger or more recent authentication: a
    /// step-up (`auth().step_up`) at level `aal`, within `max_age`
    /// seconds when given.
    #[error("this action needs a fresh authentication at level {aal}{}", max_age.map(|s| format!(" within {s}s")).unwrap_or_default())]
    StepUpRequired {
        /// The assurance level needed.
        aal: u8,
        /// How recent the authentication must be, in seconds.
        max_age: Option<u64>,
    },
    /// Login refused to the right password of an unverified address.
    #[error("this account's email address is not verified")]
    EmailNotVerified,
    /// An OAuth callback that answers no authorization this instance
    /// started: an unknown, used or expired `state`, or one the browser
    /// did not start.
    #[error("this sign-in was not started here, was used already or has expired; start again")]
    OAuthStateInvalid,
    /// The provider refused or failed: its `error` (`access_denied` when
    /// the user cancelled, `invalid_grant`, ...) or doorward's verdict on
    /// its answer (`invalid_id_token`, `invalid_response`, `unreachable`,
    /// `email_required`).
    #[error("{provider} did not sign the user in: {error}{}", description.as_ref().map(|d| format!(" ({d})")).unwrap_or_default())]
    OAuthProviderError {
        /// The provider's id in the configuration.
        provider: String,
        /// The OAuth `error` code.
        error: String,
        /// The provider's description, when it gave one (bounded).
        description: Option<String>,
    },
    /// The provider's identity belongs to, or its address matches, an
    /// account it may not sign in by itself: the user signs in another way
    /// and links the provider from there.
    #[error(
        "an account with this {provider} identity or address exists; sign in to it and link {provider} there"
    )]
    AccountExists {
        /// The provider's id in the configuration.
        provider: String,
    },
    /// The user lacks the permission asked for.
    #[error("permission denied: {permission}")]
    Forbidden {
        /// The permission that was required.
        permission: String,
    },
    /// A rate limit was hit.
    #[error("rate limited; retry in {}s", retry_after.as_secs())]
    RateLimited {
        /// How long until the call may be retried.
        retry_after: Duration,
    },
    /// A `_sync` call whose answer needs I/O (the store or Redis); the
    /// async call answers it.
    #[error("this answer needs the store or Redis: make the async call")]
    WouldBlock,
    /// The configuration cannot work (missing key, bad URL, unknown option).
    #[error("configuration error: {0}")]
    Config(String),
    /// The store failed (connection lost, disk full, ...).
    #[error("storage error: {0}")]
    Storage(String),
    /// A bug or an unexpected state; also what a caught panic becomes.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// A [`Error::Validation`] for `field`.
    pub fn validation(field: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Validation {
            field: field.into(),
            message: message.into(),
        }
    }

    /// The stable code of this error.
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::Validation { .. } => ErrorCode::ValidationError,
            Error::DuplicateEmail => ErrorCode::DuplicateEmail,
            Error::DuplicateUsername => ErrorCode::DuplicateUsername,
            Error::InvalidCredentials => ErrorCode::InvalidCredentials,
            Error::UserDisabled => ErrorCode::UserDisabled,
            Error::AccountLocked { .. } => ErrorCode::AccountLocked,
            Error::NotFound { .. } => ErrorCode::NotFound,
            Error::TokenInvalid { .. } => ErrorCode::TokenInvalid,
            Error::TokenExpired => ErrorCode::TokenExpired,
            Error::TokenRevoked => ErrorCode::TokenRevoked,
            Error::TokenReused => ErrorCode::TokenReused,
            Error::FlowInvalid { .. } => ErrorCode::FlowInvalid,
            Error::FlowExpired => ErrorCode::FlowExpired,
            Error::EmailNotVerified => ErrorCode::EmailNotVerified,
            Error::StepUpRequired { .. } => ErrorCode::StepUpRequired,
            Error::OAuthStateInvalid => ErrorCode::OAuthStateInvalid,
            Error::OAuthProviderError { .. } => ErrorCode::OAuthProviderError,
            Error::AccountExists { .. } => ErrorCode::AccountExists,
            Error::Forbidden { .. } => ErrorCode::Forbidden,
            Error::RateLimited { .. } => ErrorCode::RateLimited,
            Error::WouldBlock => ErrorCode::WouldBlock,
            Error::Config(_) => ErrorCode::ConfigError,
            Error::Storage(_) => ErrorCode::StorageError,
            Error::Internal(_) => ErrorCode::Internal,
        }
    }

    /// The input field a validation error is about.
    pub fn field(&self) -> Option<&str> {
        match self {
            Error::Validation { field, .. } => Some(field),
            _ => None,
        }
    }

    /// How long to wait before retrying, for `rate_limited` and `account_locked`.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::RateLimited { retry_after } | Error::AccountLocked { retry_after } => {
                Some(*retry_after)
            }
            _ => None,
        }
    }

    pub(crate) fn not_found(what: &'static str) -> Self {
        Error::NotFound { what }
    }

    pub(crate) fn token_invalid(reason: &'static str) -> Self {
        Error::TokenInvalid { reason }
    }
}

#[cfg(any(feature = "sqlite", feature = "postgres"))]
impl From<sqlx::Error> for Error {
    fn from(err: sqlx::Error) -> Self {
        // sqlx messages carry SQL and driver text, never bound values, so they
        // are safe to keep for the operator.
        Error::Storage(err.to_string())
    }
}

#[cfg(any(feature = "sqlite", feature = "postgres"))]
impl From<sqlx::migrate::MigrateError> for Error {
    fn from(err: sqlx::migrate::MigrateError) -> Self {
        Error::Storage(format!("migration failed: {err}"))
    }
}

#[cfg(feature = "files")]
impl From<object_store::Error> for Error {
    fn from(err: object_store::Error) -> Self {
        match err {
            object_store::Error::NotFound { .. } => Error::not_found("file"),
            // Messages name the store, the key and the server's answer;
            // requests are signed in headers, so no credential is in them
            // (the files service scrubs configured ones all the same).
            other => Error::Storage(format!("files: {other}")),
        }
    }
}

/// Runs `fut`, turning a panic inside it into [`Error::Internal`]: what every
/// binding wraps around a core call, so a panic reaches a host as the
/// `internal` error instead of unwinding into it.
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let err = doorward::error::catch_panics(async {
///     if true { panic!("boom") }
///     Ok(())
/// }).await.unwrap_err();
/// assert_eq!(err.code(), doorward::ErrorCode::Internal);
/// assert!(err.to_string().contains("boom"));
/// # });
/// ```
pub async fn catch_panics<T>(fut: impl std::future::Future<Output = Result<T>>) -> Result<T> {
    use futures_util::FutureExt as _;
    std::panic::AssertUnwindSafe(fut)
        .catch_unwind()
        .await
        .unwrap_or_else(|panic| Err(panicked(panic)))
}

/// [`catch_panics`] for a synchronous call (the `_sync` operations).
///
/// ```
/// let err = doorward::error::catch_panics_sync(|| -> doorward::Result<()> { panic!("boom") })
///     .unwrap_err();
/// assert_eq!(err.code(), doorward::ErrorCode::Internal);
/// ```
pub fn catch_panics_sync<T>(call: impl FnOnce() -> Result<T>) -> Result<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(call))
        .unwrap_or_else(|panic| Err(panicked(panic)))
}

fn panicked(panic: Box<dyn std::any::Any + Send>) -> Error {
    let detail = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "no message".into());
    Error::Internal(format!("doorward panicked: {detail}"))
}

impl From<tokio::task::JoinError> for Error {
    fn from(err: tokio::task::JoinError) -> Self {
        if err.is_panic() {
            Error::Internal("a worker task panicked".into())
        } else {
            Error::Internal("a worker task was cancelled".into())
        }
    }
}

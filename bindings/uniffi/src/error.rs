//! The error every operation may throw: `DoorwardException` in Kotlin,
//! `DoorwardError` in Swift, one case per stable code.

use std::future::Future;

/// A doorward failure. `code()` is the stable machine code; `reason` never
/// contains a password, token, hash, key or email address.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum DoorwardError {
    /// Bad input; `field` names it (`email`, `password`, `limit`...).
    #[error("{reason}")]
    Validation { field: String, reason: String },
    #[error("{reason}")]
    DuplicateEmail { reason: String },
    #[error("{reason}")]
    DuplicateUsername { reason: String },
    /// Unknown login or wrong password; which one is never told.
    #[error("{reason}")]
    InvalidCredentials { reason: String },
    #[error("{reason}")]
    UserDisabled { reason: String },
    /// Locked after wrong passwords, for `retry_after_ms`.
    #[error("{reason}")]
    AccountLocked { retry_after_ms: u64, reason: String },
    #[error("{reason}")]
    NotFound { reason: String },
    #[error("{reason}")]
    TokenInvalid { reason: String },
    #[error("{reason}")]
    TokenExpired { reason: String },
    #[error("{reason}")]
    TokenRevoked { reason: String },
    /// A rotated refresh token came back: its whole family is revoked.
    #[error("{reason}")]
    TokenReused { reason: String },
    #[error("{reason}")]
    Forbidden { reason: String },
    /// Too many attempts; retry after `retry_after_ms`.
    #[error("{reason}")]
    RateLimited { retry_after_ms: u64, reason: String },
    #[error("{reason}")]
    Config { reason: String },
    #[error("{reason}")]
    Storage { reason: String },
    /// A bug in doorward (a caught panic included).
    #[error("{reason}")]
    Internal { reason: String },
}

export! {
    sync impl DoorwardError {
    /// The stable machine code (`duplicate_email`, ...), as in every other
    /// language.
    pub fn code(&self) -> String {
        let code = match self {
            DoorwardError::Validation { .. } => doorward::ErrorCode::ValidationError,
            DoorwardError::DuplicateEmail { .. } => doorward::ErrorCode::DuplicateEmail,
            DoorwardError::DuplicateUsername { .. } => doorward::ErrorCode::DuplicateUsername,
            DoorwardError::InvalidCredentials { .. } => doorward::ErrorCode::InvalidCredentials,
            DoorwardError::UserDisabled { .. } => doorward::ErrorCode::UserDisabled,
            DoorwardError::AccountLocked { .. } => doorward::ErrorCode::AccountLocked,
            DoorwardError::NotFound { .. } => doorward::ErrorCode::NotFound,
            DoorwardError::TokenInvalid { .. } => doorward::ErrorCode::TokenInvalid,
            DoorwardError::TokenExpired { .. } => doorward::ErrorCode::TokenExpired,
            DoorwardError::TokenRevoked { .. } => doorward::ErrorCode::TokenRevoked,
            DoorwardError::TokenReused { .. } => doorward::ErrorCode::TokenReused,
            DoorwardError::Forbidden { .. } => doorward::ErrorCode::Forbidden,
            DoorwardError::RateLimited { .. } => doorward::ErrorCode::RateLimited,
            DoorwardError::Config { .. } => doorward::ErrorCode::ConfigError,
            DoorwardError::Storage { .. } => doorward::ErrorCode::StorageError,
            DoorwardError::Internal { .. } => doorward::ErrorCode::Internal,
        };
        code.as_str().to_string()
    }
}
}

fn millis(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

impl From<doorward::Error> for DoorwardError {
    fn from(err: doorward::Error) -> Self {
        use doorward::ErrorCode as C;
        let reason = err.to_string();
        let wait = millis(err.retry_after().unwrap_or_default());
        match err.code() {
            C::ValidationError => DoorwardError::Validation {
                field: err.field().unwrap_or_default().to_string(),
                reason,
            },
            C::DuplicateEmail => DoorwardError::DuplicateEmail { reason },
            C::DuplicateUsername => DoorwardError::DuplicateUsername { reason },
            C::InvalidCredentials => DoorwardError::InvalidCredentials { reason },
            C::UserDisabled => DoorwardError::UserDisabled { reason },
            C::AccountLocked => DoorwardError::AccountLocked {
                retry_after_ms: wait,
                reason,
            },
            C::NotFound => DoorwardError::NotFound { reason },
            C::TokenInvalid => DoorwardError::TokenInvalid { reason },
            C::TokenExpired => DoorwardError::TokenExpired { reason },
            C::TokenRevoked => DoorwardError::TokenRevoked { reason },
            C::TokenReused => DoorwardError::TokenReused { reason },
            C::Forbidden => DoorwardError::Forbidden { reason },
            C::RateLimited => DoorwardError::RateLimited {
                retry_after_ms: wait,
                reason,
            },
            C::ConfigError => DoorwardError::Config { reason },
            C::StorageError => DoorwardError::Storage { reason },
            _ => DoorwardError::Internal { reason },
        }
    }
}

/// A core call, its error converted and a panic caught as `Internal`.
pub(crate) async fn call<T>(
    fut: impl Future<Output = doorward::Result<T>>,
) -> Result<T, DoorwardError> {
    doorward::error::catch_panics(fut).await.map_err(Into::into)
}

export! {
    sync
    /// Every stable error code, in documentation order.
    pub fn error_codes() -> Vec<String> {
        doorward::ErrorCode::ALL
            .iter()
            .map(|c| c.as_str().to_string())
            .collect()
    }
}

export! {
    /// Panics inside the core on purpose, through the same boundary as
    /// every operation: how the tests prove a panic arrives as `Internal`.
    pub async fn panic_for_tests(message: String) -> Result<(), DoorwardError> {
        call(async move {
            if !message.is_empty() {
                panic!("{message}");
            }
            Ok(())
        })
        .await
    }
}

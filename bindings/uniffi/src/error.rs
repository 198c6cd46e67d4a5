//! The error every operation may throw: `DoorwardException` in Kotlin,
//! `DoorwardError` in Swift, one case per stable code.
//!
//! The cases are built from the core's error-code table
//! (`doorward::error_code_table!`), so a new code reaches Kotlin and Swift
//! without an edit here; only a code whose case carries more than its
//! `reason` (a field, a wait, the provider of an OAuth failure) or is
//! named apart from its code needs a line in `doorward_error!`.

use std::collections::HashMap;
use std::future::Future;

use doorward::error::ErrorParts;

/// `DoorwardError` from the table's rows: each row is first given its case
/// (name and the fields before `reason`), then the enum, its code and the
/// conversion from `doorward::Error` are written from the shaped rows.
macro_rules! doorward_error {
    (@shape [$(($name:ident, $code:ident, [$($docs:tt)*], [$($field:ident: $ty:ty = $get:ident),*]))*]) => {
        /// A doorward failure. `code()` is the stable machine code; `reason`
        /// never contains a password, token, hash, key or email address.
        #[derive(Debug, thiserror::Error, uniffi::Error)]
        pub enum DoorwardError {
            $(
                $($docs)*
                #[error("{reason}")]
                $name { $($field: $ty,)* reason: String },
            )*
        }

        impl DoorwardError {
            fn error_code(&self) -> doorward::ErrorCode {
                match self {
                    $(DoorwardError::$name { .. } => doorward::ErrorCode::$code,)*
                }
            }

            fn reason(&self) -> &str {
                match self {
                    $(DoorwardError::$name { reason, .. } => reason,)*
                }
            }
        }

        impl From<doorward::Error> for DoorwardError {
            fn from(err: doorward::Error) -> Self {
                let reason = err.to_string();
                match err.code() {
                    $(doorward::ErrorCode::$code => DoorwardError::$name { $($field: $get(&err),)* reason },)*
                    _ => DoorwardError::Internal { reason },
                }
            }
        }
    };
    (@shape [$($done:tt)*] $(#[doc = $doc:literal])* ValidationError($($spec:tt)*), $($rest:tt)*) => {
        doorward_error!(@shape [$($done)* (Validation, ValidationError, [$(#[doc = $doc])*], [field: String = field_of])] $($rest)*);
    };
    (@shape [$($done:tt)*] $(#[doc = $doc:literal])* AccountLocked($($spec:tt)*), $($rest:tt)*) => {
        doorward_error!(@shape [$($done)* (AccountLocked, AccountLocked, [$(#[doc = $doc])*], [retry_after_ms: u64 = retry_after_ms])] $($rest)*);
    };
    (@shape [$($done:tt)*] $(#[doc = $doc:literal])* RateLimited($($spec:tt)*), $($rest:tt)*) => {
        doorward_error!(@shape [$($done)* (RateLimited, RateLimited, [$(#[doc = $doc])*], [retry_after_ms: u64 = retry_after_ms])] $($rest)*);
    };
    (@shape [$($done:tt)*] $(#[doc = $doc:literal])* OAuthProviderError($($spec:tt)*), $($rest:tt)*) => {
        doorward_error!(@shape [$($done)* (OAuthProvider, OAuthProviderError, [$(#[doc = $doc])*], [provider: String = provider_of, oauth_error: String = oauth_error_of, description: Option<String> = description_of])] $($rest)*);
    };
    (@shape [$($done:tt)*] $(#[doc = $doc:literal])* AccountExists($($spec:tt)*), $($rest:tt)*) => {
        doorward_error!(@shape [$($done)* (AccountExists, AccountExists, [$(#[doc = $doc])*], [provider: String = provider_of])] $($rest)*);
    };
    (@shape [$($done:tt)*] $(#[doc = $doc:literal])* ConfigError($($spec:tt)*), $($rest:tt)*) => {
        doorward_error!(@shape [$($done)* (Config, ConfigError, [$(#[doc = $doc])*], [])] $($rest)*);
    };
    (@shape [$($done:tt)*] $(#[doc = $doc:literal])* StorageError($($spec:tt)*), $($rest:tt)*) => {
        doorward_error!(@shape [$($done)* (Storage, StorageError, [$(#[doc = $doc])*], [])] $($rest)*);
    };
    (@shape [$($done:tt)*] $(#[doc = $doc:literal])* $code:ident($($spec:tt)*), $($rest:tt)*) => {
        doorward_error!(@shape [$($done)* ($code, $code, [$(#[doc = $doc])*], [])] $($rest)*);
    };
    ($($rows:tt)*) => {
        doorward_error!(@shape [] $($rows)*);
    };
}

doorward::error_code_table!(doorward_error);

impl DoorwardError {
    fn field(&self) -> Option<&str> {
        match self {
            DoorwardError::Validation { field, .. } => Some(field),
            _ => None,
        }
    }

    /// In seconds, as the core's `ErrorParts` takes it.
    fn retry_after(&self) -> Option<f64> {
        match self {
            DoorwardError::AccountLocked { retry_after_ms, .. }
            | DoorwardError::RateLimited { retry_after_ms, .. } => {
                Some(*retry_after_ms as f64 / 1000.0)
            }
            _ => None,
        }
    }
}

fn field_of(err: &doorward::Error) -> String {
    err.field().unwrap_or_default().to_string()
}

/// The provider's id, for `OAuthProvider` and `AccountExists`.
fn provider_of(err: &doorward::Error) -> String {
    match err {
        doorward::Error::OAuthProviderError { provider, .. }
        | doorward::Error::AccountExists { provider } => provider.clone(),
        _ => String::new(),
    }
}

/// The provider's OAuth `error` (`access_denied`, `invalid_grant`, ...)
/// or doorward's verdict on its answer (`invalid_id_token`, ...).
fn oauth_error_of(err: &doorward::Error) -> String {
    match err {
        doorward::Error::OAuthProviderError { error, .. } => error.clone(),
        _ => String::new(),
    }
}

/// The provider's `error_description`, when it gave one.
fn description_of(err: &doorward::Error) -> Option<String> {
    match err {
        doorward::Error::OAuthProviderError { description, .. } => description.clone(),
        _ => None,
    }
}

fn retry_after_ms(err: &doorward::Error) -> u64 {
    let wait = err.retry_after().unwrap_or_default();
    u64::try_from(wait.as_millis()).unwrap_or(u64::MAX)
}

export! {
    sync impl DoorwardError {
    /// The stable machine code (`duplicate_email`, ...), as in every other
    /// language.
    pub fn code(&self) -> String {
        self.error_code().as_str().to_string()
    }

    /// The HTTP answer to this error for a Kotlin or Swift server, the one
    /// the Python and Node web helpers give: the code's status,
    /// `WWW-Authenticate` on a 401, `Retry-After` on a 429, and a JSON body
    /// that says no more than the code on a 5xx. `missing_token`: the
    /// request had no bearer token at all (RFC 6750 §3.1: the challenge then
    /// names no error).
    #[uniffi::method(default(missing_token = false))]
    pub fn http_response(&self, missing_token: bool) -> HttpErrorResponse {
        let answer = doorward::error::HttpErrorResponse::from_parts(&ErrorParts {
            code: self.error_code().as_str(),
            message: self.reason(),
            field: self.field(),
            retry_after: self.retry_after(),
            missing_token,
        });
        HttpErrorResponse {
            status: answer.status,
            body: answer.body_json(),
            headers: answer.header_map(),
        }
    }
}
}

/// What a server answers a [`DoorwardError`] with
/// (`DoorwardError.httpResponse()`).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct HttpErrorResponse {
    pub status: u16,
    /// `WWW-Authenticate` on a 401, `Retry-After` on a 429.
    pub headers: HashMap<String, String>,
    /// `{"error":{"code","message","field"}}`, as JSON text.
    pub body: String,
}

/// A core call, its error converted and a panic caught as `Internal`.
///
/// The call goes to the heap at once, so the futures around it (the
/// export's, uniffi's) hold a pointer rather than a copy of it: an
/// unoptimised build otherwise copies a large core future (the OAuth
/// callback's) through every layer's stack frame, past the 1 MiB stack of
/// the JVM thread that polls it.
pub(crate) fn call<T>(
    fut: impl Future<Output = doorward::Result<T>> + Send,
) -> impl Future<Output = Result<T, DoorwardError>> + Send {
    let fut = Box::pin(doorward::error::catch_panics(fut));
    async move { fut.await.map_err(Into::into) }
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

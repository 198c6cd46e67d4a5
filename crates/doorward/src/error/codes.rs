//! The error-code table: each stable code written once.
//!
//! A code's enum variant, its string, its HTTP status, its RFC 6750 bearer
//! error and its meaning are one row of [`error_code_table!`]; everything
//! else (`ErrorCode`, `ALL`, `as_str`, `FromStr`, `http_status`, and the
//! uniffi binding's error enum) is generated from those rows, so a new code
//! cannot be half-added.

use std::fmt;

/// Hands the error-code table to `$callback!`, one row per stable code in
/// documentation order:
///
/// ```text
/// /// What the code means (becomes the variant's documentation).
/// Variant("snake_case_code", http_status),
/// /// A code that refuses a presented token also names its RFC 6750 error.
/// Variant("snake_case_code", http_status, bearer = "invalid_token"),
/// ```
///
/// The core builds [`ErrorCode`] from it; a binding whose host needs a type
/// per code (the uniffi error enum) builds that from the same rows, so it
/// gains a new code without an edit.
///
/// ```
/// macro_rules! codes {
///     ($($(#[doc = $doc:literal])* $variant:ident($code:literal, $status:literal $(, bearer = $bearer:literal)?),)*) => {
///         [$(($code, $status)),*]
///     };
/// }
/// let rows = doorward::error_code_table!(codes);
/// assert_eq!(rows.len(), doorward::ErrorCode::ALL.len());
/// assert_eq!(rows[0], ("validation_error", 422));
/// ```
#[macro_export]
macro_rules! error_code_table {
    ($callback:ident) => {
        $callback! {
            /// Input was rejected before anything was written; the error
            /// names the input field.
            ValidationError("validation_error", 422),
            /// Another account already uses this email address.
            DuplicateEmail("duplicate_email", 409),
            /// Another account already uses this username.
            DuplicateUsername("duplicate_username", 409),
            /// Unknown login or wrong password; deliberately does not say which.
            InvalidCredentials("invalid_credentials", 401),
            /// The account exists but has been disabled by an administrator.
            UserDisabled("user_disabled", 403),
            /// Too many failed logins: the account is locked for a while
            /// (the error says how long).
            AccountLocked("account_locked", 429),
            /// The user, role, session or file asked for does not exist.
            NotFound("not_found", 404),
            /// A token that is malformed, forged, for someone else, or
            /// otherwise unusable.
            TokenInvalid("token_invalid", 401, bearer = "invalid_token"),
            /// A well-formed token past its lifetime.
            TokenExpired("token_expired", 401, bearer = "invalid_token"),
            /// A token whose session was ended (logout, revocation, disabled
            /// account).
            TokenRevoked("token_revoked", 401, bearer = "invalid_token"),
            /// A refresh token presented after it was already rotated: its
            /// whole family (session) has been revoked.
            TokenReused("token_reused", 401, bearer = "invalid_token"),
            /// An account flow's link or code is wrong, or was already
            /// used; the message says how many attempts are left when
            /// there are some.
            FlowInvalid("flow_invalid", 400),
            /// An account flow's link or code is past its lifetime or had
            /// too many wrong attempts: ask for a new one.
            FlowExpired("flow_expired", 410),
            /// The password was right, but the account's email address is
            /// not verified and `require_verified_email_for_login` is on.
            EmailNotVerified("email_not_verified", 403),
            /// The action needs a stronger or more recent authentication
            /// (RFC 9470's `insufficient_user_authentication`): step up.
            StepUpRequired("step_up_required", 401, bearer = "insufficient_user_authentication"),
            /// An OAuth callback whose `state` names no sign-in started
            /// here (unknown, used once already, expired, or started by
            /// another browser): start again.
            OAuthStateInvalid("oauth_state_invalid", 400),
            /// The OAuth provider refused or failed (the user cancelled,
            /// the code was refused, the ID token did not verify); the
            /// error carries the provider's `error`.
            OAuthProviderError("oauth_provider_error", 400),
            /// An account already has this provider identity or its
            /// address, and may not be signed in (or linked) through it
            /// here: sign in another way and link the provider there.
            AccountExists("account_exists", 409),
            /// The user lacks the permission asked for.
            Forbidden("forbidden", 403),
            /// A rate limit was hit (the error says when to retry).
            RateLimited("rate_limited", 429),
            /// A `_sync` call (`verify_token_sync`, `can_sync`) whose
            /// answer needs the store or Redis: nothing was decided; ask
            /// the async call, which will.
            WouldBlock("would_block", 500),
            /// The configuration cannot work (missing key, bad URL, unknown
            /// option).
            ConfigError("config_error", 500),
            /// The store failed (connection lost, disk full, ...).
            StorageError("storage_error", 503),
            /// A bug or an unexpected state; also what a caught panic becomes.
            Internal("internal", 500),
        }
    };
}

/// `Some(literal)` for a row that names a bearer error, `None` otherwise.
macro_rules! optional {
    () => {
        None
    };
    ($value:literal) => {
        Some($value)
    };
}

macro_rules! define_error_codes {
    ($($(#[doc = $doc:literal])* $variant:ident($code:literal, $status:literal $(, bearer = $bearer:literal)?),)*) => {
        /// The stable, public error codes. Their string forms are the
        /// contract every binding exposes (`err.code` in Python and Node,
        /// the error enum in Kotlin/Swift).
        ///
        /// ```
        /// use doorward::ErrorCode;
        /// assert_eq!(ErrorCode::TokenReused.as_str(), "token_reused");
        /// assert_eq!("token_reused".parse::<ErrorCode>(), Ok(ErrorCode::TokenReused));
        /// assert!(ErrorCode::ALL.len() >= 16);
        /// ```
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum ErrorCode {
            $(
                $(#[doc = $doc])*
                ///
                #[doc = concat!("Code `", $code, "`, answered with HTTP ", stringify!($status), ".")]
                $variant,
            )*
        }

        impl ErrorCode {
            /// Every code, in documentation order.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant),*];

            /// The snake_case string form.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $code,)*
                }
            }

            /// The HTTP status a web host answers this code with, as every
            /// binding's web helpers do (the table in `docs/errors.md`).
            ///
            /// ```
            /// use doorward::ErrorCode;
            /// assert_eq!(ErrorCode::DuplicateEmail.http_status(), 409);
            /// assert_eq!(ErrorCode::AccountLocked.http_status(), 429);
            /// ```
            pub const fn http_status(self) -> u16 {
                match self {
                    $(ErrorCode::$variant => $status,)*
                }
            }

            /// The RFC 6750 `error` of the bearer challenge when this code
            /// refuses a token the request presented.
            pub(crate) const fn bearer_error(self) -> Option<&'static str> {
                match self {
                    $(ErrorCode::$variant => optional!($($bearer)?),)*
                }
            }
        }

        impl std::str::FromStr for ErrorCode {
            type Err = ();

            fn from_str(s: &str) -> std::result::Result<Self, ()> {
                match s {
                    $($code => Ok(ErrorCode::$variant),)*
                    _ => Err(()),
                }
            }
        }
    };
}

crate::error_code_table!(define_error_codes);

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// As its string form, the way every binding and the CLI print it.
impl serde::Serialize for ErrorCode {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

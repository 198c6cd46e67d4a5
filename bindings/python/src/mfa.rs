//! `dw.mfa`: second factors (a TOTP authenticator and recovery codes).

use pyo3::prelude::*;

use crate::types::{Done, py_bool};

sub_api!(
    /// Second factors: `dw.mfa`.
    Mfa,
    AsyncMfa
);

/// What a TOTP enrolment shows the user: the secret, the `otpauth://` URI
/// and its QR code as a `data:image/png;base64,…` URI. The `repr` shows
/// none of them.
#[pyclass(frozen, eq, hash, get_all, module = "doorward")]
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct TotpEnrolment {
    secret: String,
    uri: String,
    qr_code: String,
}

#[pymethods]
impl TotpEnrolment {
    fn __repr__(&self) -> String {
        "TotpEnrolment(secret=<hidden>, uri=<hidden>, qr_code=<hidden>)".into()
    }
}

impl From<doorward::TotpEnrolment> for TotpEnrolment {
    fn from(e: doorward::TotpEnrolment) -> Self {
        TotpEnrolment {
            secret: e.secret,
            uri: e.uri,
            qr_code: e.qr_code,
        }
    }
}

/// A new set of recovery codes, shown once. The `repr` shows only how many.
#[pyclass(frozen, eq, hash, get_all, module = "doorward")]
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct RecoveryCodes {
    codes: Vec<String>,
}

#[pymethods]
impl RecoveryCodes {
    fn __repr__(&self) -> String {
        format!("RecoveryCodes(codes=<{} hidden>)", self.codes.len())
    }
}

impl From<doorward::RecoveryCodes> for RecoveryCodes {
    fn from(r: doorward::RecoveryCodes) -> Self {
        RecoveryCodes { codes: r.codes }
    }
}

/// An account's second factors.
#[pyclass(frozen, eq, hash, get_all, module = "doorward")]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MfaStatus {
    totp: bool,
    recovery_codes_left: u32,
    enabled: bool,
}

#[pymethods]
impl MfaStatus {
    fn __repr__(&self) -> String {
        format!(
            "MfaStatus(totp={}, recovery_codes_left={}, enabled={})",
            py_bool(self.totp),
            self.recovery_codes_left,
            py_bool(self.enabled)
        )
    }
}

impl From<doorward::MfaStatus> for MfaStatus {
    fn from(s: doorward::MfaStatus) -> Self {
        MfaStatus {
            totp: s.totp,
            recovery_codes_left: s.recovery_codes_left,
            enabled: s.enabled,
        }
    }
}

twins! {
    Mfa, AsyncMfa;

    /// Begin enrolling a TOTP authenticator: a pending secret, shown as
    /// text, URI and QR code.
    fn start_totp(dw, user_id: String) -> TotpEnrolment {
        dw.mfa().start_totp(&user_id).await
    }

    /// Activate the pending authenticator with a first code; the ten
    /// recovery codes, shown once.
    fn confirm_totp(dw, user_id: String, code: String) -> RecoveryCodes {
        dw.mfa().confirm_totp(&user_id, &code).await
    }

    /// Remove the TOTP authenticator and the recovery codes (needs a fresh
    /// authentication).
    fn disable_totp(dw, access_token: String) -> Done {
        dw.mfa().disable_totp(&access_token).await
    }

    /// Replace the recovery codes with a new set, shown once (needs a fresh
    /// authentication).
    fn regenerate_recovery_codes(dw, access_token: String) -> RecoveryCodes {
        dw.mfa().regenerate_recovery_codes(&access_token).await
    }

    /// The account's second factors.
    fn status(dw, user_id: String) -> MfaStatus {
        dw.mfa().status(&user_id).await
    }
}

//! Second factors: `doorward.mfa()`. A TOTP authenticator, enrolled in two
//! steps, and ten single-use recovery codes; logins then answer
//! `LoginResult.MfaRequired` until `completeMfa`.
//!
//! The records that carry secrets print none of them (`toString()` in
//! Kotlin, `description` in Swift): read the fields to show them once.

use crate::error::{DoorwardError, call};

/// What a TOTP enrolment shows the user: the secret for typing into an
/// authenticator app, the same as an `otpauth://` URI, and that URI as a QR
/// code. Printing it shows none of them.
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
#[uniffi::export(Debug, Display)]
pub struct TotpEnrolment {
    /// Base32 (RFC 4648, no padding), for typing in by hand.
    pub secret: String,
    /// `otpauth://totp/<issuer>:<username>?secret=…&issuer=…`.
    pub uri: String,
    /// The URI as a QR code: a `data:image/png;base64,…` URI.
    pub qr_code: String,
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

impl std::fmt::Debug for TotpEnrolment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpEnrolment([redacted])")
    }
}

impl std::fmt::Display for TotpEnrolment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpEnrolment(secret, uri and qrCode hidden)")
    }
}

/// A new set of recovery codes, to show the user once. Printing it shows
/// only how many there are.
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
#[uniffi::export(Debug, Display)]
pub struct RecoveryCodes {
    /// Ten single-use codes, `xxxxx-xxxxx`.
    pub codes: Vec<String>,
}

impl From<doorward::RecoveryCodes> for RecoveryCodes {
    fn from(r: doorward::RecoveryCodes) -> Self {
        RecoveryCodes { codes: r.codes }
    }
}

impl std::fmt::Debug for RecoveryCodes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RecoveryCodes([{} redacted])", self.codes.len())
    }
}

impl std::fmt::Display for RecoveryCodes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RecoveryCodes({} codes hidden)", self.codes.len())
    }
}

/// An account's second factors.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct MfaStatus {
    /// A confirmed TOTP authenticator.
    pub totp: bool,
    /// Unused recovery codes.
    pub recovery_codes_left: u32,
    /// Whether logins ask for a second factor.
    pub enabled: bool,
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

/// Second factors: `doorward.mfa()`.
#[derive(Debug, uniffi::Object)]
pub struct Mfa {
    pub(crate) dw: doorward::Doorward,
}

export! {
    impl Mfa {
        /// Begin enrolling a TOTP authenticator: a new secret, pending
        /// until `confirmTotp` (starting again replaces a pending one).
        /// `Validation` on `totp` while one is active.
        pub async fn start_totp(&self, user_id: String) -> Result<TotpEnrolment, DoorwardError> {
            call(self.dw.mfa().start_totp(&user_id)).await.map(TotpEnrolment::from)
        }

        /// Activate the pending authenticator with a first code from it:
        /// the ten recovery codes, shown this once. A wrong code is
        /// `InvalidCredentials` (counted like a wrong password); no pending
        /// authenticator, `NotFound`.
        pub async fn confirm_totp(&self, user_id: String, code: String) -> Result<RecoveryCodes, DoorwardError> {
            call(self.dw.mfa().confirm_totp(&user_id, &code)).await.map(RecoveryCodes::from)
        }

        /// Remove the authenticator and the recovery codes of the user
        /// behind `access_token`, authenticated within
        /// `fresh_auth_max_age` (else `StepUpRequired`).
        pub async fn disable_totp(&self, access_token: String) -> Result<(), DoorwardError> {
            call(self.dw.mfa().disable_totp(&access_token)).await
        }

        /// A new set of recovery codes (the old ones stop working), shown
        /// this once; needs a fresh authentication like `disableTotp`.
        pub async fn regenerate_recovery_codes(&self, access_token: String) -> Result<RecoveryCodes, DoorwardError> {
            call(self.dw.mfa().regenerate_recovery_codes(&access_token)).await.map(RecoveryCodes::from)
        }

        /// The account's second factors.
        pub async fn status(&self, user_id: String) -> Result<MfaStatus, DoorwardError> {
            call(self.dw.mfa().status(&user_id)).await.map(MfaStatus::from)
        }
    }
}

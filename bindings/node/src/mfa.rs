//! `dw.mfa`: second factors, a TOTP authenticator and recovery codes. The
//! package keeps the enrolment's secret, URI and QR code and the recovery
//! codes out of `util.inspect` and `JSON.stringify`.

use napi_derive::napi;

use crate::error::guarded;

/// What a TOTP enrolment shows the user, once: the secret to type into an
/// app, the same as an `otpauth://` URI, and that URI as a QR code.
#[napi(object)]
pub struct TotpEnrolment {
    /// Base32 (RFC 4648, no padding), for typing in by hand.
    pub secret: String,
    /// `otpauth://totp/<issuer>:<username>?secret=…&issuer=…`.
    pub uri: String,
    /// The URI as a QR code: a `data:image/png;base64,…` URI for an
    /// `<img src>` (a page's CSP needs `img-src data:`).
    pub qr_code: String,
}

impl std::fmt::Debug for TotpEnrolment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpEnrolment([redacted])")
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

/// A new set of single-use recovery codes, shown this once.
#[napi(object)]
pub struct RecoveryCodes {
    /// Ten codes, `xxxxx-xxxxx`.
    pub codes: Vec<String>,
}

impl std::fmt::Debug for RecoveryCodes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RecoveryCodes([{} redacted])", self.codes.len())
    }
}

impl From<doorward::RecoveryCodes> for RecoveryCodes {
    fn from(r: doorward::RecoveryCodes) -> Self {
        RecoveryCodes { codes: r.codes }
    }
}

/// An account's second factors.
#[napi(object)]
#[derive(Debug)]
pub struct MfaStatus {
    /// A confirmed TOTP authenticator.
    pub totp: bool,
    /// Unused recovery codes.
    pub recovery_codes_left: u32,
    /// Whether logins ask for a second factor (the account has one).
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

/// Second factors: `dw.mfa`.
#[napi]
#[derive(Debug)]
pub struct Mfa {
    pub(crate) dw: doorward::Doorward,
}

#[napi]
impl Mfa {
    /// Begin enrolling a TOTP authenticator: a new secret, pending until
    /// `confirmTotp`; starting again replaces a pending one. An active
    /// authenticator must be removed first (`validation_error` on `totp`).
    #[napi]
    pub async fn start_totp(&self, user_id: String) -> napi::Result<TotpEnrolment> {
        guarded(self.dw.mfa().start_totp(&user_id))
            .await
            .map(TotpEnrolment::from)
    }

    /// Activate the pending authenticator with a first code from it: the
    /// account's ten recovery codes, shown this once. From then on logins
    /// answer an `MfaChallenge`. A wrong code is `invalid_credentials`
    /// (counted towards the lockout); no pending enrolment is `not_found`.
    #[napi]
    pub async fn confirm_totp(&self, user_id: String, code: String) -> napi::Result<RecoveryCodes> {
        guarded(self.dw.mfa().confirm_totp(&user_id, &code))
            .await
            .map(RecoveryCodes::from)
    }

    /// Remove the authenticator and the recovery codes of the user behind
    /// `accessToken`, authenticated within `freshAuthMaxAge` (otherwise
    /// `step_up_required`: see `stepUp`); `not_found` when there is none.
    #[napi]
    pub async fn disable_totp(&self, access_token: String) -> napi::Result<()> {
        guarded(self.dw.mfa().disable_totp(&access_token)).await
    }

    /// Replace the recovery codes with a new set, shown this once; the old
    /// ones stop working. Needs a fresh authentication, as `disableTotp`
    /// does, and an active factor (`not_found`).
    #[napi]
    pub async fn regenerate_recovery_codes(
        &self,
        access_token: String,
    ) -> napi::Result<RecoveryCodes> {
        guarded(self.dw.mfa().regenerate_recovery_codes(&access_token))
            .await
            .map(RecoveryCodes::from)
    }

    /// The account's second factors.
    #[napi]
    pub async fn status(&self, user_id: String) -> napi::Result<MfaStatus> {
        guarded(self.dw.mfa().status(&user_id))
            .await
            .map(MfaStatus::from)
    }
}

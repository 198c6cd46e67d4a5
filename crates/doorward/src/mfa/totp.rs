//! RFC 6238 codes through `totp-rs`: 160-bit secrets, HMAC-SHA-1, six
//! digits, 30-second steps, one step of skew either side: what every
//! authenticator app reads from an `otpauth://` URI.
//!
//! The crate answers which time step a code matched and leaves replay to
//! the caller (RFC 6238 §5.2): the store accepts each step once, see
//! [`crate::store::MfaStore::use_totp_step`].

use rand::RngCore;
use totp_rs::{Algorithm, Builder, Totp};

use crate::error::{Error, Result};

/// Bytes of a new secret (RFC 4226 §4 recommends 160 bits).
pub(crate) const SECRET_BYTES: usize = 20;
const DIGITS: u8 = 6;
const STEP_SECS: u64 = 30;
const SKEW_STEPS: u16 = 1;

/// A fresh random secret.
pub(crate) fn new_secret() -> Vec<u8> {
    let mut secret = vec![0u8; SECRET_BYTES];
    rand::thread_rng().fill_bytes(&mut secret);
    secret
}

/// The generator of `secret`, labelled `issuer:account` for the URI.
pub(crate) fn generator(secret: Vec<u8>, issuer: &str, account: &str) -> Result<Totp> {
    // The label's separator is ':', which neither part may hold.
    let account = account.replace(':', "_");
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(DIGITS)
        .with_skew(SKEW_STEPS)
        .with_step_duration(STEP_SECS)
        .with_secret(secret)
        .with_issuer(Some(issuer.replace(':', "_")))
        .with_account_name(account)
        .build()
        .map_err(|e| Error::Internal(format!("cannot build a TOTP generator: {e}")))
}

/// The time step `code` matched at `unix_secs` (this one or one either
/// side), or `None`. Spaces and dashes users type are ignored; anything
/// but six digits matches nothing.
pub(crate) fn matched_step(totp: &Totp, code: &str, unix_secs: u64) -> Option<u64> {
    let code: String = code.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    if code.len() != usize::from(DIGITS) || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    totp.check(&code, unix_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 Appendix B, SHA-1 rows: the reference secret and 8 digits.
    #[test]
    fn rfc_6238_appendix_b_sha1_vectors() {
        let totp = Builder::new()
            .with_algorithm(Algorithm::SHA1)
            .with_digits(8)
            .with_skew(0)
            .with_step_duration(30)
            .with_secret(b"12345678901234567890".to_vec())
            .build()
            .unwrap();
        for (time, code) in [
            (59, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ] {
            assert_eq!(totp.generate(time).to_string(), code, "T = {time}");
            assert_eq!(totp.check(code, time), Some(time / 30));
        }
    }

    #[test]
    fn a_code_matches_its_step_and_the_ones_beside_it_only() {
        let totp = generator(new_secret(), "doorward", "ann").unwrap();
        let t = 1_700_000_000;
        let code = totp.generate(t).to_string();
        assert_eq!(matched_step(&totp, &code, t), Some(t / 30));
        assert_eq!(matched_step(&totp, &code, t + 30), Some(t / 30));
        assert_eq!(matched_step(&totp, &code, t - 30), Some(t / 30));
        assert_eq!(matched_step(&totp, &code, t + 90), None);
        let spaced = format!("{} {}", &code[..3], &code[3..]);
        assert_eq!(matched_step(&totp, &spaced, t), Some(t / 30));
        for bad in ["", "12345", "1234567", "abcdef", "１２３４５６"] {
            assert_eq!(matched_step(&totp, bad, t), None, "{bad}");
        }
    }

    #[test]
    fn the_uri_names_the_issuer_and_account() {
        let totp = generator(vec![0u8; 20], "Acme: Inc", "ann:x@example.com").unwrap();
        let uri = totp.to_url().unwrap();
        assert!(
            uri.starts_with("otpauth://totp/Acme_%20Inc:ann_x%40example.com?secret=AAAA"),
            "{uri}"
        );
        assert!(uri.contains("issuer=Acme_%20Inc"), "{uri}");
    }
}

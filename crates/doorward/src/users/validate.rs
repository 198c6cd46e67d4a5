//! What a valid username, email address and password are.
//!
//! Usernames: NFKC-normalised (so full-width `ｊｏｈｎ` is `john`), then 3 to
//! 64 characters of ASCII letters, digits, `_`, `.` and `-`, starting with a
//! letter or digit. ASCII only, because look-alike letters from other scripts
//! make one name pose as another. Unique regardless of case.
//!
//! Email addresses: trimmed, at most 254 bytes, one `@`, a local part of at
//! most 64 bytes without spaces, quotes or control characters, and a domain of
//! dot-separated DNS labels (punycode for international names). Invisible
//! characters are refused: controls, format characters (Unicode Cf:
//! zero-width characters, the soft hyphen, bidirectional controls such as
//! U+202E), private-use and unassigned code points. The domain is
//! lowercased; the local part is kept as typed, but uniqueness ignores case
//! and compatibility forms: the key is NFKC and lowercase, so full-width
//! `ａｄｍｉｎ@example.com` is `admin@example.com`, and the key must pass
//! the same checks.
//!
//! Passwords (NIST SP 800-63B §5.1.1.2): at least `password_min_length`
//! characters, at most 1024 bytes, any characters but NUL, no composition
//! rules, not among the 10,000 most common passwords, and not the username or
//! the email address. They are NFKC-normalised before hashing so the same
//! password typed on two keyboards matches.

use std::collections::HashSet;
use std::sync::LazyLock;

use unicode_normalization::UnicodeNormalization;
use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};

use crate::error::{Error, Result};

/// Longest password accepted, in bytes: bounds hashing input.
pub const MAX_PASSWORD_BYTES: usize = 1024;

static COMMON_PASSWORDS: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    include_str!("../../data/common-passwords.txt")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect()
});

/// A username in display form and in the form uniqueness is decided on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Username {
    pub display: String,
    pub key: String,
}

/// An email address as stored and as compared.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Email {
    pub display: String,
    pub key: String,
}

impl std::fmt::Debug for Email {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Email([redacted])")
    }
}

fn reject_controls(field: &str, value: &str) -> Result<()> {
    if value.contains('\0') {
        return Err(Error::validation(field, "must not contain NUL bytes"));
    }
    if value.chars().any(char::is_control) {
        return Err(Error::validation(
            field,
            "must not contain control characters",
        ));
    }
    Ok(())
}

/// Characters no email address may hold, because two addresses that look
/// alike could then be two accounts: controls (Unicode category Cc), format
/// characters (Cf: zero-width spaces and joiners, the soft hyphen, the byte
/// order mark, and every bidirectional control such as U+202E
/// RIGHT-TO-LEFT OVERRIDE and the U+2066..U+2069 isolates), private-use
/// (Co) and unassigned code points (Cn), whose meaning may change.
fn is_hidden(c: char) -> bool {
    matches!(
        c.general_category(),
        GeneralCategory::Control
            | GeneralCategory::Format
            | GeneralCategory::PrivateUse
            | GeneralCategory::Unassigned
    )
}

pub(crate) fn username(raw: &str) -> Result<Username> {
    if raw.len() > 256 {
        return Err(Error::validation("username", "must be 3 to 64 characters"));
    }
    reject_controls("username", raw)?;
    let display: String = raw.trim().nfkc().collect();
    let count = display.chars().count();
    if !(3..=64).contains(&count) {
        return Err(Error::validation("username", "must be 3 to 64 characters"));
    }
    if !display
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
    {
        return Err(Error::validation(
            "username",
            "may contain only letters a-z, digits, '_', '.' and '-'",
        ));
    }
    if !display.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return Err(Error::validation(
            "username",
            "must start with a letter or a digit",
        ));
    }
    let key = username_key(&display);
    Ok(Username { display, key })
}

pub(crate) fn email(raw: &str) -> Result<Email> {
    let value = raw.trim();
    if value.is_empty() {
        return Err(Error::validation("email", "is required"));
    }
    if value.len() > 254 {
        return Err(Error::validation("email", "must be at most 254 bytes"));
    }
    reject_controls("email", value)?;
    if value.chars().any(is_hidden) {
        return Err(Error::validation(
            "email",
            "must not contain invisible, formatting or direction characters",
        ));
    }
    let value: String = value.nfc().collect();
    let (local, domain) = email_parts(&value)?;
    let display = format!("{local}@{domain}");
    let key = email_key(&display);
    // The key is what uniqueness and login decide on: it obeys the same rules
    // (full-width dots must not make `a..b`, a ligature not overflow 64 bytes).
    email_parts(&key)?;
    Ok(Email { display, key })
}

/// The local part as given and the domain lowercased, if `value` is a
/// well-formed address.
fn email_parts(value: &str) -> Result<(&str, String)> {
    let (local, domain) = match value.split_once('@') {
        Some((l, d)) if !d.contains('@') => (l, d),
        _ => return Err(Error::validation("email", "must contain exactly one @")),
    };
    if local.is_empty() || local.len() > 64 {
        return Err(Error::validation(
            "email",
            "the part before @ must be 1 to 64 bytes",
        ));
    }
    if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
        return Err(Error::validation(
            "email",
            "the part before @ has a misplaced dot",
        ));
    }
    if local.chars().any(|c| {
        c.is_whitespace()
            || matches!(
                c,
                '"' | '(' | ')' | ',' | ':' | ';' | '<' | '>' | '[' | '\\' | ']'
            )
    }) {
        return Err(Error::validation(
            "email",
            "the part before @ contains a character not allowed",
        ));
    }
    let domain = domain.to_ascii_lowercase();
    let labels: Vec<&str> = domain.split('.').collect();
    let label_ok = |l: &&str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    };
    if labels.len() < 2 || !labels.iter().all(label_ok) {
        return Err(Error::validation(
            "email",
            "the domain must be a DNS name such as example.com",
        ));
    }
    Ok((local, domain))
}

/// What username uniqueness is decided on; also how `login` looks one up.
pub(crate) fn username_key(raw: &str) -> String {
    raw.trim().nfkc().collect::<String>().to_ascii_lowercase()
}

/// What email uniqueness is decided on; also how `login` looks one up:
/// NFKC (compatibility forms such as full-width letters fold to their plain
/// letters) and lowercase.
pub(crate) fn email_key(raw: &str) -> String {
    raw.trim().nfkc().collect::<String>().to_lowercase()
}

/// Normalises a password and checks it against the policy.
///
/// `identities` are the username and email it must not equal.
pub(crate) fn password(raw: &str, min_chars: usize, identities: &[&str]) -> Result<String> {
    if raw.is_empty() {
        return Err(Error::validation("password", "is required"));
    }
    if raw.len() > MAX_PASSWORD_BYTES {
        return Err(Error::validation(
            "password",
            format!("must be at most {MAX_PASSWORD_BYTES} bytes"),
        ));
    }
    if raw.contains('\0') {
        return Err(Error::validation("password", "must not contain NUL bytes"));
    }
    let normalized = normalize_password(raw);
    if normalized.chars().count() < min_chars {
        return Err(Error::validation(
            "password",
            format!("must be at least {min_chars} characters"),
        ));
    }
    let lowered = normalized.to_lowercase();
    if COMMON_PASSWORDS.contains(lowered.as_str()) {
        return Err(Error::validation(
            "password",
            "is among the most commonly used passwords; choose another",
        ));
    }
    if identities
        .iter()
        .any(|id| !id.is_empty() && id.to_lowercase() == lowered)
    {
        return Err(Error::validation(
            "password",
            "must not be the username or the email address",
        ));
    }
    Ok(normalized)
}

/// The form a password is hashed in (NFKC), also used at login.
pub(crate) fn normalize_password(raw: &str) -> String {
    if raw.is_ascii() {
        raw.to_owned()
    } else {
        raw.nfkc().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_normalise_and_compare_without_case() {
        let u = username("ＪｏｈｎＤｏｅ").unwrap();
        assert_eq!(u.display, "JohnDoe");
        assert_eq!(u.key, "johndoe");
        for bad in [
            "jo",
            "",
            "a b c",
            "-john",
            "jöhn",
            "john\0",
            &"x".repeat(65),
        ] {
            assert_eq!(
                username(bad).unwrap_err().field(),
                Some("username"),
                "{bad:?}"
            );
        }
        assert!(username(&"x".repeat(64)).is_ok());
    }

    #[test]
    fn emails_lowercase_domain_and_key() {
        let e = email("  John.Doe@Example.COM ").unwrap();
        assert_eq!(e.display, "John.Doe@example.com");
        assert_eq!(e.key, "john.doe@example.com");
        for bad in [
            "",
            "john",
            "a@b",
            "a@@b.com",
            "a b@c.com",
            ".a@b.com",
            "a..b@c.com",
            "a@-b.com",
            "a@b..com",
            "a\0@b.com",
            "a@b_c.com",
        ] {
            assert_eq!(email(bad).unwrap_err().field(), Some("email"), "{bad:?}");
        }
        assert!(email(&format!("{}@example.com", "a".repeat(65))).is_err());
        assert!(email("user+tag@xn--bcher-kva.example").is_ok());
    }

    #[test]
    fn emails_refuse_invisible_and_format_characters() {
        for bad in [
            "admin\u{200b}@example.com", // zero width space
            "ad\u{200d}min@example.com", // zero width joiner
            "admin\u{202e}@example.com", // right-to-left override
            "\u{2066}admin@example.com", // left-to-right isolate
            "admin\u{00ad}@example.com", // soft hyphen
            "admin\u{feff}@example.com", // byte order mark
            "admin@example.com\u{200e}", // left-to-right mark
        ] {
            assert_eq!(email(bad).unwrap_err().field(), Some("email"), "{bad:?}");
        }
    }

    #[test]
    fn email_keys_fold_compatibility_characters() {
        let wide = email("ａｄｍｉｎ@example.com").unwrap();
        assert_eq!(wide.key, email("admin@example.com").unwrap().key);
        assert_eq!(wide.display, "ａｄｍｉｎ@example.com", "shown as typed");
        assert_eq!(email_key("ＡＤＭＩＮ@Example.com"), "admin@example.com");
        // The key obeys the same rules as the address: full-width dots
        // cannot make `a..b`.
        assert!(email("a\u{ff0e}\u{ff0e}b@example.com").is_err());
    }

    #[test]
    fn passwords_follow_nist() {
        assert!(password("correct horse battery staple", 8, &[]).is_ok());
        assert!(password("short", 8, &[]).is_err());
        assert!(password("password1", 8, &[]).is_err(), "common");
        assert!(password("PASSWORD1", 8, &[]).is_err(), "common, any case");
        assert!(password("johnsmith99", 8, &["JohnSmith99"]).is_err());
        assert!(
            password(&"é".repeat(513), 8, &[]).is_err(),
            "over 1024 bytes"
        );
        assert!(password("abc\0defghij", 8, &[]).is_err());
        assert!(
            password("only lowercase letters", 8, &[]).is_ok(),
            "no composition rules"
        );
        assert_eq!(COMMON_PASSWORDS.len(), 10_000);
    }
}

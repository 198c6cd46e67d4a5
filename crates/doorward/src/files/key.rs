//! Which object keys are accepted.
//!
//! Keys come from hosts that often build them from user input (an upload's
//! file name), and the local backend turns them into paths on disk, so the
//! rules are strict and the same on every backend: a key valid on `memory://`
//! in a test is valid on S3 in production, and no key can name a file outside
//! the folder.

use crate::error::{Error, Result};

/// Longest key in bytes (S3's own limit).
pub const MAX_KEY_BYTES: usize = 1024;

/// First segment reserved for doorward's own metadata (content types on the
/// local backend), refused as a key everywhere so keys stay portable. In any
/// case: on a case-insensitive file system (macOS, Windows) `.DOORWARD` is
/// the same folder.
pub(crate) const RESERVED: &str = ".doorward";

/// Checks `key` and returns it as an object path.
pub(crate) fn check_key(key: &str) -> Result<object_store::path::Path> {
    check(key, "key")
}

/// Checks a listing prefix: a key, or the start of one ending at a `/`.
/// `None` and `""` list everything.
pub(crate) fn check_prefix(prefix: Option<&str>) -> Result<Option<object_store::path::Path>> {
    match prefix {
        None | Some("") => Ok(None),
        Some(p) => check(p.strip_suffix('/').unwrap_or(p), "prefix").map(Some),
    }
}

fn check(key: &str, field: &str) -> Result<object_store::path::Path> {
    let bad = |message: &str| Err(Error::validation(field, message));
    if key.is_empty() {
        return bad("must not be empty");
    }
    if key.len() > MAX_KEY_BYTES {
        return bad("must be at most 1024 bytes");
    }
    if key.chars().any(char::is_control) {
        return bad("must not contain control characters");
    }
    if key.contains('\\') {
        return bad("must not contain a backslash");
    }
    if key.starts_with('/') {
        return bad("must be relative (no leading /)");
    }
    for segment in key.split('/') {
        match segment {
            "" => return bad("must not contain an empty segment (// or a trailing /)"),
            "." | ".." => return bad("must not contain . or .. segments"),
            _ if is_temporary_name(segment) => {
                return bad("a segment must not end in # and digits (reserved for uploads)");
            }
            _ => {}
        }
    }
    if key.split('/').next().is_some_and(is_reserved) {
        return bad("must not start with .doorward/ (reserved)");
    }
    object_store::path::Path::parse(key).map_err(|_| Error::validation(field, "is not a valid key"))
}

/// Whether a first segment names the reserved folder, in any case.
pub(crate) fn is_reserved(segment: &str) -> bool {
    segment.to_lowercase() == RESERVED
}

/// The local backend writes uploads to `name#N` before renaming them, and
/// hides such names from listings; a key shaped like that would vanish.
fn is_temporary_name(segment: &str) -> bool {
    match segment.rsplit_once('#') {
        Some((_, digits)) => !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn good_keys_pass() {
        for key in [
            "a",
            "avatars/42.png",
            "deep/er/path/file.tar.gz",
            "ünïcode/ファイル",
            ".hidden",
            "a..b",
            "x#y",
            "with space",
        ] {
            assert_eq!(check_key(key).unwrap().as_ref(), key);
        }
        assert!(check_key(&"k".repeat(1024)).is_ok());
    }

    #[test]
    fn bad_keys_fail_on_the_key_field() {
        for key in [
            "",
            "/abs",
            "a//b",
            "a/",
            "../up",
            "a/../b",
            "./a",
            "a/.",
            "tab\there",
            "nul\0",
            "del\u{7f}",
            "c1\u{85}",
            "back\\slash",
            "upload#12",
            ".doorward/x",
            ".doorward",
            ".DOORWARD/x",
            ".Doorward/x",
            ".DoorWard",
        ] {
            let err = check_key(key).unwrap_err();
            assert_eq!(err.field(), Some("key"), "{key:?}");
        }
        assert!(check_key(&"k".repeat(1025)).is_err());
        // 1024 bytes, not characters.
        assert!(check_key(&"é".repeat(513)).is_err());
    }

    #[test]
    fn the_reserved_folder_is_refused_in_any_case() {
        // A case-insensitive file system (macOS, Windows) would put
        // `.DOORWARD/x` in the metadata folder.
        for key in [".DOORWARD/x", ".Doorward/x", ".dOORWARD/a/b"] {
            assert_eq!(check_key(key).unwrap_err().field(), Some("key"), "{key}");
        }
        assert_eq!(
            check_prefix(Some(".DOORWARD/")).unwrap_err().field(),
            Some("prefix")
        );
        assert!(check_key(".doorwardx/y").is_ok());
        assert!(check_key("a/.DOORWARD/x").is_ok());
    }

    #[test]
    fn prefixes() {
        assert!(check_prefix(None).unwrap().is_none());
        assert!(check_prefix(Some("")).unwrap().is_none());
        assert_eq!(check_prefix(Some("a/b/")).unwrap().unwrap().as_ref(), "a/b");
        assert_eq!(
            check_prefix(Some("../x")).unwrap_err().field(),
            Some("prefix")
        );
    }
}

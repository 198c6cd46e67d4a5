//! Recovery codes: ten single-use codes shown once when a factor is
//! activated, for the day the authenticator is lost.
//!
//! Each is 10 characters of a 32-letter alphabet without look-alikes
//! (50 bits), shown as `xxxxx-xxxxx`; case, spaces and dashes do not
//! matter when typed. The store keeps HMAC-SHA-256 of each under the MFA
//! key, bound to the account: high-entropy codes need no slow hash, and a
//! copy of the database alone cannot test guesses.

use rand::Rng;

use crate::sealing::Keys;

/// Codes in a set.
pub(crate) const COUNT: usize = 10;
const LENGTH: usize = 10;
/// Crockford's base32 digits, lower case: no i, l, o or u.
const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";

/// A new set, as shown to the user.
pub(crate) fn generate() -> Vec<String> {
    let mut rng = rand::thread_rng();
    (0..COUNT)
        .map(|_| {
            let raw: String = (0..LENGTH)
                .map(|_| char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())]))
                .collect();
            format!("{}-{}", &raw[..LENGTH / 2], &raw[LENGTH / 2..])
        })
        .collect()
}

/// A new set for `user_id`: the codes to show, and what the store keeps.
pub(crate) fn new_set(keys: &Keys, user_id: &str) -> (Vec<String>, Vec<String>) {
    let codes = generate();
    let hashes = codes
        .iter()
        .filter_map(|c| hash(keys, user_id, c))
        .collect();
    (codes, hashes)
}

/// What the store keeps of `code` for `user_id`; `None` for text that
/// cannot be a code (so it is refused without a lookup).
pub(crate) fn hash(keys: &Keys, user_id: &str, code: &str) -> Option<String> {
    let code: String = code
        .chars()
        .filter(|c| !matches!(c, ' ' | '-'))
        .map(|c| c.to_ascii_lowercase())
        .collect();
    if code.len() != LENGTH || !code.bytes().all(|b| ALPHABET.contains(&b)) {
        return None;
    }
    Some(keys.mac(&["recovery_code", user_id, &code]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_distinct_and_hash_as_typed() {
        let keys = Keys::derive(b"root", b"mfa");
        let codes = generate();
        assert_eq!(codes.len(), COUNT);
        let mut unique = codes.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), COUNT);
        let code = &codes[0];
        assert_eq!(code.len(), LENGTH + 1);
        let stored = hash(&keys, "u1", code).unwrap();
        let typed = code.to_uppercase().replace('-', " ");
        assert_eq!(hash(&keys, "u1", &typed).unwrap(), stored);
        assert_ne!(hash(&keys, "u2", code).unwrap(), stored);
        assert_eq!(hash(&keys, "u1", "not-a-code"), None);
        assert_eq!(hash(&keys, "u1", "iiiii-iiiii"), None);
    }
}

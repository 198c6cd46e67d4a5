//! Hashes made by the systems people migrate from.
//!
//! An imported account keeps the hash its old system stored until its owner
//! next logs in: the password is checked against that hash once, then
//! replaced by an argon2id hash under the configured parameters (what
//! Django and Kratos do), so nobody has to reset a password to move.
//!
//! Like argon2's, every format's cost is read from the stored string, so it
//! is capped before any work: a hostile row cannot make a login spin for
//! minutes or allocate gigabytes.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;

use super::MAX_MEMORY_KIB;

/// Highest bcrypt cost accepted (2^16 rounds, about four seconds).
pub const MAX_BCRYPT_COST: u32 = 16;
/// Most PBKDF2 iterations accepted (Django 5.2 uses 1,000,000).
pub const MAX_PBKDF2_ITERATIONS: u32 = 10_000_000;
/// Most scrypt lanes accepted; memory is capped like argon2's.
pub const MAX_SCRYPT_PARALLELISM: u32 = 16;

/// A parsed hash in one of the formats doorward verifies but does not make.
#[derive(Clone)]
pub(crate) enum Legacy {
    /// `$2a$`, `$2b$`, `$2y$` (OpenBSD, Python's `bcrypt`, PHP); Django's
    /// `bcrypt$…` and `bcrypt_sha256$…`, which hashes the password's
    /// SHA-256 hex digest first.
    Bcrypt { hash: String, sha256_first: bool },
    /// Django's `pbkdf2_sha256$…`/`pbkdf2_sha1$…` and passlib's
    /// `$pbkdf2-sha256$…`.
    Pbkdf2 {
        sha1: bool,
        iterations: u32,
        salt: Vec<u8>,
        hash: Vec<u8>,
    },
    /// The `$scrypt$ln=…,r=…,p=…$salt$hash` string (passlib, RustCrypto)
    /// and Django's `scrypt$N$salt$r$p$hash`.
    Scrypt {
        log_n: u8,
        r: u32,
        p: u32,
        salt: Vec<u8>,
        hash: Vec<u8>,
    },
    /// Firebase Authentication's modified scrypt, written as
    /// `$fbscrypt$v=1,n=<mem_cost>,r=<rounds>,p=1,ss=<salt separator>,
    /// sk=<signer key>$<salt>$<hash>` (the string Supabase's importer
    /// takes; every value base64 as Firebase exports it). The password's
    /// scrypt key, over the salt and the separator, encrypts the project's
    /// signer key with AES-256-CTR; the result is the stored hash.
    FirebaseScrypt {
        log_n: u8,
        r: u32,
        p: u32,
        salt: Vec<u8>,
        signer_key: Vec<u8>,
        hash: Vec<u8>,
    },
}

impl Legacy {
    /// Parse and bound a stored hash; the error says what is wrong with it,
    /// never what it holds.
    pub(crate) fn parse(stored: &str) -> Result<Legacy, String> {
        if let Some(rest) = stored.strip_prefix("bcrypt_sha256$") {
            return bcrypt(rest, true);
        }
        if let Some(rest) = stored.strip_prefix("bcrypt$") {
            return bcrypt(rest, false);
        }
        if stored.starts_with("$2") {
            return bcrypt(stored, false);
        }
        if let Some(rest) = stored.strip_prefix("pbkdf2_sha256$") {
            return django_pbkdf2(rest, false);
        }
        if let Some(rest) = stored.strip_prefix("pbkdf2_sha1$") {
            return django_pbkdf2(rest, true);
        }
        if let Some(rest) = stored.strip_prefix("$pbkdf2-sha256$") {
            return passlib_pbkdf2(rest);
        }
        if let Some(rest) = stored.strip_prefix("$scrypt$") {
            return phc_scrypt(rest);
        }
        if let Some(rest) = stored.strip_prefix("scrypt$") {
            return django_scrypt(rest);
        }
        if let Some(rest) = stored.strip_prefix("$fbscrypt$") {
            return firebase_scrypt(rest);
        }
        Err("not a format doorward knows (argon2, bcrypt, PBKDF2, scrypt, Firebase scrypt)".into())
    }

    /// Whether `password` is the one this hash was made from. CPU-bound:
    /// call it where argon2 runs, off the async threads.
    pub(crate) fn verify(&self, password: &str) -> bool {
        match self {
            Legacy::Bcrypt { hash, sha256_first } => {
                let result = if *sha256_first {
                    bcrypt::verify(hex::encode(Sha256::digest(password.as_bytes())), hash)
                } else {
                    bcrypt::verify(password, hash)
                };
                result.unwrap_or(false)
            }
            Legacy::Pbkdf2 {
                sha1,
                iterations,
                salt,
                hash,
            } => {
                let mut out = vec![0u8; hash.len()];
                if *sha1 {
                    pbkdf2::pbkdf2_hmac::<sha1::Sha1>(
                        password.as_bytes(),
                        salt,
                        *iterations,
                        &mut out,
                    );
                } else {
                    pbkdf2::pbkdf2_hmac::<Sha256>(password.as_bytes(), salt, *iterations, &mut out);
                }
                out.ct_eq(hash).into()
            }
            Legacy::Scrypt {
                log_n,
                r,
                p,
                salt,
                hash,
            } => {
                let Ok(params) = scrypt::Params::new(*log_n, *r, *p, hash.len()) else {
                    return false;
                };
                let mut out = vec![0u8; hash.len()];
                scrypt::scrypt(password.as_bytes(), salt, &params, &mut out).is_ok()
                    && bool::from(out.ct_eq(hash))
            }
            Legacy::FirebaseScrypt {
                log_n,
                r,
                p,
                salt,
                signer_key,
                hash,
            } => {
                use aes::cipher::{KeyIvInit as _, StreamCipher as _};
                let Ok(params) = scrypt::Params::new(*log_n, *r, *p, 32) else {
                    return false;
                };
                let mut key = [0u8; 32];
                if scrypt::scrypt(password.as_bytes(), salt, &params, &mut key).is_err() {
                    return false;
                }
                let mut out = signer_key.clone();
                let mut cipher = ctr::Ctr128BE::<aes::Aes256>::new(&key.into(), &[0u8; 16].into());
                cipher.apply_keystream(&mut out);
                out.ct_eq(hash).into()
            }
        }
    }
}

fn bcrypt(hash: &str, sha256_first: bool) -> Result<Legacy, String> {
    let bytes = hash.as_bytes();
    if hash.len() != 60
        || !hash.is_ascii()
        || bytes[0] != b'$'
        || bytes[3] != b'$'
        || bytes[6] != b'$'
    {
        return Err("a bcrypt hash is 60 characters: $2b$NN$ and 53 of salt and hash".into());
    }
    // `$2x$` marks hashes of a known-broken implementation: refused.
    if !matches!(&hash[1..3], "2a" | "2b" | "2y") {
        return Err("a bcrypt hash starts $2a$, $2b$ or $2y$".into());
    }
    let cost: u32 = hash[4..6]
        .parse()
        .map_err(|_| "a bcrypt cost is two digits".to_string())?;
    if !(4..=MAX_BCRYPT_COST).contains(&cost) {
        return Err(format!(
            "bcrypt cost {cost} is outside 4 to {MAX_BCRYPT_COST}"
        ));
    }
    Ok(Legacy::Bcrypt {
        hash: hash.to_owned(),
        sha256_first,
    })
}

fn iterations(raw: &str) -> Result<u32, String> {
    let n: u32 = raw
        .parse()
        .map_err(|_| "the iteration count is not a number".to_string())?;
    if !(1..=MAX_PBKDF2_ITERATIONS).contains(&n) {
        return Err(format!(
            "PBKDF2 iterations must be 1 to {MAX_PBKDF2_ITERATIONS}"
        ));
    }
    Ok(n)
}

/// Django: `pbkdf2_sha256$<iterations>$<salt, used as text>$<base64 of the
/// digest-sized key>`.
fn django_pbkdf2(rest: &str, sha1: bool) -> Result<Legacy, String> {
    let [count, salt, hash] = fields::<3>(rest)?;
    let hash = STANDARD
        .decode(hash)
        .map_err(|_| "the PBKDF2 hash is not base64".to_string())?;
    let expected = if sha1 { 20 } else { 32 };
    if hash.len() != expected || salt.is_empty() {
        return Err("the PBKDF2 salt or hash has the wrong length".into());
    }
    Ok(Legacy::Pbkdf2 {
        sha1,
        iterations: iterations(count)?,
        salt: salt.as_bytes().to_vec(),
        hash,
    })
}

/// passlib: `$pbkdf2-sha256$<rounds>$<ab64 salt>$<ab64 key>`.
fn passlib_pbkdf2(rest: &str) -> Result<Legacy, String> {
    let [count, salt, hash] = fields::<3>(rest)?;
    let salt = ab64(salt).ok_or("the PBKDF2 salt is not base64")?;
    let hash = ab64(hash).ok_or("the PBKDF2 hash is not base64")?;
    if hash.len() != 32 || salt.is_empty() {
        return Err("the PBKDF2 salt or hash has the wrong length".into());
    }
    Ok(Legacy::Pbkdf2 {
        sha1: false,
        iterations: iterations(count)?,
        salt,
        hash,
    })
}

/// `$scrypt$ln=<log2 N>,r=<r>,p=<p>$<salt>$<key>`, base64 with `+` or `.`.
fn phc_scrypt(rest: &str) -> Result<Legacy, String> {
    let [params, salt, hash] = fields::<3>(rest)?;
    let (mut log_n, mut r, mut p) = (None, None, None);
    for pair in params.split(',') {
        let (name, value) = pair
            .split_once('=')
            .ok_or("scrypt parameters are name=value pairs")?;
        let value: u32 = value
            .parse()
            .map_err(|_| format!("scrypt `{name}` is not a number"))?;
        match name {
            "ln" => log_n = Some(value),
            "r" => r = Some(value),
            "p" => p = Some(value),
            _ => return Err(format!("unknown scrypt parameter `{name}`")),
        }
    }
    let (Some(log_n), Some(r), Some(p)) = (log_n, r, p) else {
        return Err("scrypt needs ln, r and p".into());
    };
    let salt = ab64(salt).ok_or("the scrypt salt is not base64")?;
    let hash = ab64(hash).ok_or("the scrypt hash is not base64")?;
    scrypt_bounded(log_n, r, p, salt, hash)
}

/// Django: `scrypt$<N>$<salt, used as text>$<r>$<p>$<base64 of 64 bytes>`.
fn django_scrypt(rest: &str) -> Result<Legacy, String> {
    let [n, salt, r, p, hash] = fields::<5>(rest)?;
    let number = |raw: &str| {
        raw.parse::<u32>()
            .map_err(|_| "a scrypt parameter is not a number".to_string())
    };
    let n = number(n)?;
    if !n.is_power_of_two() || n < 2 {
        return Err("scrypt N must be a power of two".into());
    }
    let hash = STANDARD
        .decode(hash)
        .map_err(|_| "the scrypt hash is not base64".to_string())?;
    scrypt_bounded(
        n.trailing_zeros(),
        number(r)?,
        number(p)?,
        salt.as_bytes().to_vec(),
        hash,
    )
}

fn scrypt_bounded(
    log_n: u32,
    r: u32,
    p: u32,
    salt: Vec<u8>,
    hash: Vec<u8>,
) -> Result<Legacy, String> {
    if !(16..=64).contains(&hash.len()) {
        return Err("the scrypt salt or hash has an unusual length".into());
    }
    let log_n = scrypt_cost(log_n, r, p, &salt, hash.len())?;
    Ok(Legacy::Scrypt {
        log_n,
        r,
        p,
        salt,
        hash,
    })
}

/// The bounds every scrypt variant shares, checked before any work:
/// memory (128·r·N bytes) capped like argon2's, lanes (time grows with
/// them), the salt's length; `log_n` as scrypt takes it.
fn scrypt_cost(log_n: u32, r: u32, p: u32, salt: &[u8], key_len: usize) -> Result<u8, String> {
    let memory_kib = 128u64
        .checked_shl(log_n)
        .and_then(|bytes| bytes.checked_mul(u64::from(r)))
        .map(|bytes| bytes / 1024);
    let within = matches!(memory_kib, Some(kib) if kib <= u64::from(MAX_MEMORY_KIB));
    if log_n == 0 || log_n >= 32 || r == 0 || !within {
        return Err(format!(
            "scrypt memory (128·r·N) must be at most {MAX_MEMORY_KIB} KiB"
        ));
    }
    if !(1..=MAX_SCRYPT_PARALLELISM).contains(&p) {
        return Err(format!("scrypt p must be 1 to {MAX_SCRYPT_PARALLELISM}"));
    }
    if salt.is_empty() || salt.len() > 64 {
        return Err("the scrypt salt or hash has an unusual length".into());
    }
    let log_n = u8::try_from(log_n).map_err(|_| "scrypt N is too large".to_string())?;
    scrypt::Params::new(log_n, r, p, key_len)
        .map_err(|_| "scrypt parameters out of range".to_string())?;
    Ok(log_n)
}

/// `v=1,n=<log2 N>,r=<r>,p=<p>,ss=<separator>,sk=<signer key>$<salt>$<hash>`.
fn firebase_scrypt(rest: &str) -> Result<Legacy, String> {
    let [params, salt, hash] = fields::<3>(rest)?;
    let (mut version, mut log_n, mut r, mut p, mut separator, mut signer_key) =
        (None, None, None, None, None, None);
    for pair in params.split(',') {
        let (name, value) = pair
            .split_once('=')
            .ok_or("Firebase scrypt parameters are name=value pairs")?;
        let number = || {
            value
                .parse::<u32>()
                .map_err(|_| format!("Firebase scrypt `{name}` is not a number"))
        };
        match name {
            "v" => version = Some(number()?),
            "n" => log_n = Some(number()?),
            "r" => r = Some(number()?),
            "p" => p = Some(number()?),
            "ss" => separator = Some(value),
            "sk" => signer_key = Some(value),
            _ => return Err(format!("unknown Firebase scrypt parameter `{name}`")),
        }
    }
    if version != Some(1) {
        return Err("Firebase scrypt needs v=1".into());
    }
    let (Some(log_n), Some(r), Some(p), Some(separator), Some(signer_key)) =
        (log_n, r, p, separator, signer_key)
    else {
        return Err("Firebase scrypt needs n, r, p, ss and sk".into());
    };
    let decode = |raw: &str, what: &str| {
        ab64(raw).ok_or_else(|| format!("the Firebase scrypt {what} is not base64"))
    };
    let mut salted = decode(salt, "salt")?;
    salted.extend(decode(separator, "salt separator")?);
    let signer_key = decode(signer_key, "signer key")?;
    let hash = decode(hash, "hash")?;
    if hash.len() != signer_key.len() || !(16..=128).contains(&hash.len()) {
        return Err("the Firebase scrypt signer key or hash has an unusual length".into());
    }
    // The same bounds as plain scrypt, for the 32-byte key it derives.
    let log_n = scrypt_cost(log_n, r, p, &salted, 32)?;
    Ok(Legacy::FirebaseScrypt {
        log_n,
        r,
        p,
        salt: salted,
        signer_key,
        hash,
    })
}

/// Exactly `N` `$`-separated fields.
fn fields<const N: usize>(rest: &str) -> Result<[&str; N], String> {
    let parts: Vec<&str> = rest.split('$').collect();
    parts
        .try_into()
        .map_err(|_| format!("expected {N} fields after the prefix"))
}

/// Base64 as passlib writes it (`.` for `+`, no padding), or the standard
/// alphabet with or without padding.
fn ab64(raw: &str) -> Option<Vec<u8>> {
    let standard = raw.replace('.', "+");
    STANDARD_NO_PAD.decode(standard.trim_end_matches('=')).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    // Made by the real libraries (Python bcrypt 4, Django 5.2's hashers,
    // passlib 1.7 and hashlib.scrypt), for the password
    // "correct horse battery staple".
    const PASSWORD: &str = "correct horse battery staple";

    fn check(stored: &str) {
        let legacy = Legacy::parse(stored).unwrap_or_else(|e| panic!("{stored}: {e}"));
        assert!(legacy.verify(PASSWORD), "{stored}");
        assert!(!legacy.verify("correct horse battery stapl"), "{stored}");
    }

    #[test]
    fn library_hashes_verify() {
        for stored in VECTORS {
            check(stored);
        }
    }

    #[test]
    fn hostile_costs_are_refused_before_any_work() {
        for stored in [
            "$2b$31$abcdefghijklmnopqrstuu5Zq3dS6nCwDbJ0gGm3Wq9V6k6gU1Q1a",
            "$2x$10$abcdefghijklmnopqrstuu5Zq3dS6nCwDbJ0gGm3Wq9V6k6gU1Q1a",
            "pbkdf2_sha256$4000000000$salt$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
            "pbkdf2_sha256$0$salt$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
            "$scrypt$ln=24,r=128,p=1$c2FsdHNhbHQ$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            "$scrypt$ln=14,r=8,p=4096$c2FsdHNhbHQ$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            "$scrypt$ln=40,r=8,p=1$c2FsdHNhbHQ$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            "scrypt$3$salt$8$1$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
            "scrypt$1099511627776$salt$8$1$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
            "md5$salt$0123456789abcdef0123456789abcdef",
            "$2b$10$short",
            "pbkdf2_sha256$100$salt",
            "",
        ] {
            assert!(Legacy::parse(stored).is_err(), "{stored}");
        }
    }

    /// The example of Firebase's own scrypt tool (github.com/firebase/scrypt):
    /// its project parameters, an exported account's salt and hash, and the
    /// password that made them.
    const FIREBASE: &str = "$fbscrypt$v=1,n=14,r=8,p=1,ss=Bw==,\
        sk=jxspr8Ki0RYycVU8zykbdLGjFQ3McFUH0uiiTvC8pVMXAn210wjLNmdZJzxUECKbm0QsEmYUSDzZvpjeJ9WmXA==\
        $42xEC+ixf3L2lw==\
        $lSrfV15cpx95/sZS2W9c9Kp6i/LVgQNDNC/qzrCnh1SAyZvqmZqAjTdn3aoItz+VHjoZilo78198JAdRuid5lQ==";

    #[test]
    fn firebase_scrypt_verifies_firebases_own_example() {
        let legacy = Legacy::parse(FIREBASE).unwrap();
        assert!(legacy.verify("user1password"));
        assert!(!legacy.verify("user1passwore"));
        for hostile in [
            // 16 GiB of memory, 4096 lanes, no version, a short hash.
            FIREBASE.replace("n=14", "n=24"),
            FIREBASE.replace("r=8", "r=100000"),
            FIREBASE.replace("p=1", "p=4096"),
            FIREBASE.replace("v=1,", ""),
            FIREBASE.replace("v=1", "v=2"),
            FIREBASE.replace("$lSrfV15cpx95", "$lSrf"),
            FIREBASE.replace(",ss=Bw==", ""),
            FIREBASE.replace("sk=", "sk=!!"),
        ] {
            let why = Legacy::parse(&hostile)
                .err()
                .unwrap_or_else(|| panic!("{hostile}"));
            assert!(!why.contains("jxspr8"), "{why}");
        }
    }

    #[test]
    fn errors_never_echo_the_hash() {
        let stored = "pbkdf2_sha256$99999999999$secret-salt$secret-hash";
        let why = Legacy::parse(stored).err().unwrap();
        assert!(!why.contains("secret"), "{why}");
    }

    const VECTORS: &[&str] = &[
        "$2b$04$k9ZjAYBBMvfJb7dgSVm28.NvLGnpgYSwrgT725t6elraRmTzCVvNS",
        "$2a$05$nZpweQgJ/oJ0NCcI57Ye3.tRZVOhWcXgVgCMdVruDi6nyxIYA5ov6",
        "$2y$04$M94lRz.ivUBIsTSt6ROKvuQGZspaRAhuvKf53IcDEm6JJsPzJ79Gu",
        "pbkdf2_sha256$1000000$Z6UiN484FtQUmb8JyMQul8$ka1npXBBNElwAjmBmpFlLbwnt9/fkUCxFeXrKKJEi0A=",
        "pbkdf2_sha1$1000000$p1XLE37ekdCwqZQzaH10Hv$l+T1o31BMoA+XIPzrLnK1kmdqzs=",
        "bcrypt_sha256$$2b$12$Ny34IyB9Bbjr95e2MlEow.YuipjqqM44QFxWJHi93TrqAvobu.I.S",
        "bcrypt$$2b$12$eduSRpKXH2ne1YmRMDvQ3OMgar6f8TnBV4fxmrQRAUtHvyyCB4qKS",
        "scrypt$16384$fF3y3z9ZNjfOGVWpJqjMNb$8$5$KJE7QWIDYnDlYH9119IjuRntRdR5y0QVFv7339p4CTr37NhFsuAulYvWUbIeIusCLzszHpfhLsL8WppJQa4njQ==",
        "$pbkdf2-sha256$1000$JaTUek8pxXgPoZRSypkzhg$.PCntaFjYzdL0seYhJCrw2q7IAnvQv7V9/2EZgQwKOE",
        "$scrypt$ln=10,r=8,p=1$QYiRUuq9N4ZwrhXifK/1fg$NfQtQ8DwWRzpX/pD7V5dD3uyqcaEl7xt/oYBDO5ROMw",
        "$scrypt$ln=10,r=8,p=1$wEE3AnvwycOxPwndGbXspw$72A6oTHNqaHNI90aVR2ZQzLnWLwPFBSNB5kpb3p31uI",
    ];
}

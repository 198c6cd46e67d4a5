//! Stored password hashes: argon2 PHC strings made here with fixed salts,
//! each legacy format doorward imports (the hashes of the libraries'
//! own tools), and hostile strings that must be refused before any work.

use argon2::password_hash::{PasswordHasher as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use doorward::password::{HashParams, Hasher, Verdict};
use doorward::{ImportOptions, UserRow};
use serde_json::json;

use crate::{open, signing, verdict, write};

const PASSWORD: &str = "correct horse battery staple";

fn argon2(alg: Algorithm, version: Version, m: u32, t: u32, p: u32, salt: &str) -> String {
    let params = Params::new(m, t, p, None).unwrap();
    let salt = SaltString::from_b64(salt).unwrap();
    Argon2::new(alg, version, params)
        .hash_password(PASSWORD.as_bytes(), &salt)
        .unwrap()
        .to_string()
}

/// `hash`, what to verify against it, and what it must give: `true`,
/// `false`, or an error code.
fn cases() -> Vec<(&'static str, String, &'static str, &'static str)> {
    let id = argon2(
        Algorithm::Argon2id,
        Version::V0x13,
        64,
        1,
        1,
        "c2FsdHNhbHRzYWx0",
    );
    let default = argon2(
        Algorithm::Argon2id,
        Version::V0x13,
        19_456,
        2,
        1,
        "ZG9vcndhcmR2ZWN0b3I",
    );
    let i = argon2(
        Algorithm::Argon2i,
        Version::V0x13,
        64,
        2,
        1,
        "c2FsdHNhbHRzYWx0",
    );
    let d = argon2(
        Algorithm::Argon2d,
        Version::V0x13,
        64,
        1,
        1,
        "c2FsdHNhbHRzYWx0",
    );
    let v16 = argon2(
        Algorithm::Argon2id,
        Version::V0x10,
        64,
        1,
        1,
        "c2FsdHNhbHRzYWx0",
    );
    let lanes = argon2(
        Algorithm::Argon2id,
        Version::V0x13,
        256,
        1,
        4,
        "c2FsdHNhbHRzYWx0",
    );
    vec![
        ("argon2id_right", id.clone(), PASSWORD, "true"),
        ("argon2id_wrong", id.clone(), "correct horse battery stapl", "false"),
        ("argon2id_empty_password", id.clone(), "", "false"),
        ("argon2id_case_changed", id.clone(), "Correct horse battery staple", "false"),
        ("argon2id_owasp_default_right", default.clone(), PASSWORD, "true"),
        ("argon2id_owasp_default_wrong", default, "wrong", "false"),
        ("argon2i_right", i, PASSWORD, "true"),
        ("argon2d_right", d, PASSWORD, "true"),
        ("argon2id_version_16_right", v16, PASSWORD, "true"),
        ("argon2id_four_lanes_right", lanes, PASSWORD, "true"),
        ("django_argon2_right", format!("argon2{id}"), PASSWORD, "true"),
        // Legacy formats, from their libraries (see password/legacy.rs).
        ("bcrypt_2b_right", "$2b$04$k9ZjAYBBMvfJb7dgSVm28.NvLGnpgYSwrgT725t6elraRmTzCVvNS".into(), PASSWORD, "true"),
        ("bcrypt_2b_wrong", "$2b$04$k9ZjAYBBMvfJb7dgSVm28.NvLGnpgYSwrgT725t6elraRmTzCVvNS".into(), "correct horse battery stapl", "false"),
        ("bcrypt_2a_right", "$2a$05$nZpweQgJ/oJ0NCcI57Ye3.tRZVOhWcXgVgCMdVruDi6nyxIYA5ov6".into(), PASSWORD, "true"),
        ("bcrypt_2y_right", "$2y$04$M94lRz.ivUBIsTSt6ROKvuQGZspaRAhuvKf53IcDEm6JJsPzJ79Gu".into(), PASSWORD, "true"),
        ("django_pbkdf2_sha256_right", "pbkdf2_sha256$1000000$Z6UiN484FtQUmb8JyMQul8$ka1npXBBNElwAjmBmpFlLbwnt9/fkUCxFeXrKKJEi0A=".into(), PASSWORD, "true"),
        ("django_pbkdf2_sha256_wrong", "pbkdf2_sha256$1000000$Z6UiN484FtQUmb8JyMQul8$ka1npXBBNElwAjmBmpFlLbwnt9/fkUCxFeXrKKJEi0A=".into(), "x", "false"),
        ("django_pbkdf2_sha1_right", "pbkdf2_sha1$1000000$p1XLE37ekdCwqZQzaH10Hv$l+T1o31BMoA+XIPzrLnK1kmdqzs=".into(), PASSWORD, "true"),
        ("django_bcrypt_sha256_right", "bcrypt_sha256$$2b$12$Ny34IyB9Bbjr95e2MlEow.YuipjqqM44QFxWJHi93TrqAvobu.I.S".into(), PASSWORD, "true"),
        ("django_bcrypt_right", "bcrypt$$2b$12$eduSRpKXH2ne1YmRMDvQ3OMgar6f8TnBV4fxmrQRAUtHvyyCB4qKS".into(), PASSWORD, "true"),
        ("django_scrypt_right", "scrypt$16384$fF3y3z9ZNjfOGVWpJqjMNb$8$5$KJE7QWIDYnDlYH9119IjuRntRdR5y0QVFv7339p4CTr37NhFsuAulYvWUbIeIusCLzszHpfhLsL8WppJQa4njQ==".into(), PASSWORD, "true"),
        ("passlib_pbkdf2_sha256_right", "$pbkdf2-sha256$1000$JaTUek8pxXgPoZRSypkzhg$.PCntaFjYzdL0seYhJCrw2q7IAnvQv7V9/2EZgQwKOE".into(), PASSWORD, "true"),
        ("passlib_scrypt_right", "$scrypt$ln=10,r=8,p=1$QYiRUuq9N4ZwrhXifK/1fg$NfQtQ8DwWRzpX/pD7V5dD3uyqcaEl7xt/oYBDO5ROMw".into(), PASSWORD, "true"),
        ("passlib_scrypt_wrong", "$scrypt$ln=10,r=8,p=1$QYiRUuq9N4ZwrhXifK/1fg$NfQtQ8DwWRzpX/pD7V5dD3uyqcaEl7xt/oYBDO5ROMw".into(), "wrong", "false"),
        ("firebase_scrypt_right", FIREBASE.into(), "user1password", "true"),
        ("firebase_scrypt_wrong", FIREBASE.into(), "user1passwore", "false"),
        // Hostile: refused before any work.
        ("argon2_memory_over_the_cap", id.replace("m=64", "m=4194304"), PASSWORD, "internal"),
        ("argon2_passes_over_the_cap", id.replace("t=1", "t=1000"), PASSWORD, "internal"),
        ("argon2_lanes_over_the_cap", id.replace("p=1", "p=255"), PASSWORD, "internal"),
        ("argon2_truncated", id[..id.len() - 8].to_string(), PASSWORD, "internal"),
        ("argon2_no_salt", "$argon2id$v=19$m=64,t=1,p=1$$aGFzaA".into(), PASSWORD, "internal"),
        ("argon2_unknown_variant", id.replace("$argon2id$", "$argon2x$"), PASSWORD, "internal"),
        ("argon2_bad_base64", id.replace("$c2Fs", "$!!Fs"), PASSWORD, "internal"),
        ("bcrypt_cost_31", "$2b$31$abcdefghijklmnopqrstuu5Zq3dS6nCwDbJ0gGm3Wq9V6k6gU1Q1a".into(), PASSWORD, "internal"),
        ("bcrypt_unknown_prefix_2x", "$2x$10$abcdefghijklmnopqrstuu5Zq3dS6nCwDbJ0gGm3Wq9V6k6gU1Q1a".into(), PASSWORD, "internal"),
        ("bcrypt_short", "$2b$10$short".into(), PASSWORD, "internal"),
        ("pbkdf2_iterations_huge", "pbkdf2_sha256$4000000000$salt$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=".into(), PASSWORD, "internal"),
        ("pbkdf2_iterations_zero", "pbkdf2_sha256$0$salt$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=".into(), PASSWORD, "internal"),
        ("pbkdf2_no_hash", "pbkdf2_sha256$100$salt".into(), PASSWORD, "internal"),
        ("scrypt_memory_huge", "$scrypt$ln=24,r=128,p=1$c2FsdHNhbHQ$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA".into(), PASSWORD, "internal"),
        ("scrypt_lanes_huge", "$scrypt$ln=14,r=8,p=4096$c2FsdHNhbHQ$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA".into(), PASSWORD, "internal"),
        ("scrypt_log_n_40", "$scrypt$ln=40,r=8,p=1$c2FsdHNhbHQ$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA".into(), PASSWORD, "internal"),
        ("django_scrypt_n_not_a_power_of_two", "scrypt$3$salt$8$1$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=".into(), PASSWORD, "internal"),
        ("firebase_scrypt_memory_huge", FIREBASE.replace("n=14", "n=24"), PASSWORD, "internal"),
        ("firebase_scrypt_no_version", FIREBASE.replace("v=1,", ""), PASSWORD, "internal"),
        ("md5_unsupported", "md5$salt$3a0e2a8d0a6fbdf1a4c3a5b6e2f1c7d8".into(), PASSWORD, "internal"),
        ("plain_text", PASSWORD.into(), PASSWORD, "internal"),
        ("empty_hash", String::new(), PASSWORD, "internal"),
        ("unusable_marker", "!unusable".into(), PASSWORD, "false"),
    ]
}

/// The example of Firebase's own scrypt tool (github.com/firebase/scrypt).
const FIREBASE: &str = "$fbscrypt$v=1,n=14,r=8,p=1,ss=Bw==,sk=jxspr8Ki0RYycVU8zykbdLGjFQ3McFUH0uiiTvC8pVMXAn210wjLNmdZJzxUECKbm0QsEmYUSDzZvpjeJ9WmXA==$42xEC+ixf3L2lw==$lSrfV15cpx95/sZS2W9c9Kp6i/LVgQNDNC/qzrCnh1SAyZvqmZqAjTdn3aoItz+VHjoZilo78198JAdRuid5lQ==";

/// The verdict through an account: the import's refusal, or the login's.
async fn import_and_login(hash: &str, password: &str) -> String {
    let dw = open(&signing()).await.unwrap();
    let row = UserRow {
        email: "vector@example.com".into(),
        username: Some("vector".into()),
        password_hash: Some(hash.into()),
        ..UserRow::default()
    };
    let report = dw
        .users()
        .import_users(vec![row], ImportOptions::default())
        .await
        .unwrap();
    if let Some(failure) = report.failed.first() {
        return failure.code.as_str().to_string();
    }
    verdict(&dw.auth().login("vector", password, None).await)
}

pub async fn write_corpus() {
    // The verdict does not depend on the hasher's own parameters: those
    // only decide whether a match asks for a rehash.
    let hasher = Hasher::new(
        HashParams {
            memory_kib: 64,
            iterations: 1,
            parallelism: 1,
        },
        1,
    )
    .unwrap();
    let mut out = Vec::new();
    let mut wrong = Vec::new();
    for (name, hash, password, expect) in cases() {
        let got = match hasher.verify(password, &hash).await {
            Ok(Verdict::Valid | Verdict::ValidNeedsRehash) => "true".to_string(),
            Ok(Verdict::Invalid) => "false".to_string(),
            Err(e) => e.code().as_str().to_string(),
        };
        if got != expect {
            wrong.push(format!("{name}: expected {expect}, got {got}"));
        }
        let login = import_and_login(&hash, password).await;
        out.push(json!({
            "name": name,
            "hash": hash,
            "password": password,
            "expect": got,
            "login": login,
        }));
    }
    assert!(wrong.is_empty(), "password verdicts:\n{}", wrong.join("\n"));
    write(
        "passwords",
        "Stored password hashes. With a PasswordHasher (any parameters): verify(case.password, case.hash); expect is \"true\" (it matches), \"false\", or the error code. Through accounts: open a fresh doorward with base_config and then config, import_users one row {email: \"vector@example.com\", username: \"vector\", password_hash: case.hash}; login is the code of the row's failure if the import refuses it, else the verdict of login(\"vector\", case.password): \"ok\" or the error code.",
        json!({"config": signing(), "cases": out}),
    );
}

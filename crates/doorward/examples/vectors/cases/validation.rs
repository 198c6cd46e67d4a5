//! Registration input: usernames, email addresses and passwords, plain and
//! hostile (look-alike letters, invisible characters, NUL, over-long).
//! Each case registers on a fresh instance, so cases do not collide.

use serde_json::json;

use crate::{open, signing, verdict, write};

const NAME: &str = "ann";
const EMAIL: &str = "ann@example.com";
const PASSWORD: &str = "correct horse battery staple";

fn cases() -> Vec<(&'static str, String, String, String)> {
    let s = |v: &str| v.to_string();
    let user = |name: &'static str, username: String| (name, username, s(EMAIL), s(PASSWORD));
    let mail = |name: &'static str, email: String| (name, s(NAME), email, s(PASSWORD));
    let pass = |name: &'static str, password: String| (name, s(NAME), s(EMAIL), password);
    vec![
        (("plain"), s(NAME), s(EMAIL), s(PASSWORD)),
        // Usernames.
        user("username_three_characters", s("abc")),
        user("username_two_characters", s("ab")),
        user("username_64_characters", "a".repeat(64)),
        user("username_65_characters", "a".repeat(65)),
        user("username_dots_dashes_underscores", s("a.b-c_d")),
        user("username_leading_dot", s(".ann")),
        user("username_leading_dash", s("-ann")),
        user("username_space", s("ann smith")),
        user("username_at_sign", s("ann@home")),
        user("username_full_width", s("ｊｏｈｎ")),
        user("username_cyrillic_a_look_alike", s("\u{0430}nn")),
        user("username_greek_omicron_look_alike", s("b\u{03bf}b")),
        user("username_zero_width_space", s("an\u{200b}n")),
        user("username_right_to_left_override", s("ann\u{202e}nimda")),
        user("username_nul", s("ann\0")),
        user("username_newline", s("ann\n")),
        user("username_empty", s("")),
        user("username_emoji", s("ann😀")),
        user("username_combining_accent", s("anne\u{0301}")),
        user("username_upper_case", s("ANN")),
        user("username_very_long", "a".repeat(10_000)),
        // Email addresses.
        mail("email_plus_tag", s("ann+tag@example.com")),
        mail("email_upper_case_domain", s("ann@EXAMPLE.COM")),
        mail("email_surrounding_spaces", s("  ann@example.com  ")),
        mail("email_no_at", s("ann.example.com")),
        mail("email_two_ats", s("ann@x@example.com")),
        mail("email_empty_local_part", s("@example.com")),
        mail("email_empty_domain", s("ann@")),
        mail("email_space_in_local_part", s("a nn@example.com")),
        mail("email_quoted_local_part", s("\"ann\"@example.com")),
        mail("email_display_name", s("Ann <ann@example.com>")),
        mail("email_domain_dot_dot", s("ann@example..com")),
        mail("email_domain_leading_dash", s("ann@-example.com")),
        mail("email_idn_unicode_domain", s("ann@bücher.example")),
        mail("email_idn_punycode_domain", s("ann@xn--bcher-kva.example")),
        mail(
            "email_local_part_64_bytes",
            format!("{}@example.com", "a".repeat(64)),
        ),
        mail(
            "email_local_part_65_bytes",
            format!("{}@example.com", "a".repeat(65)),
        ),
        mail("email_255_bytes", format!("a@{}.com", "b".repeat(249))),
        mail("email_zero_width_joiner", s("ann\u{200d}@example.com")),
        mail("email_soft_hyphen", s("an\u{00ad}n@example.com")),
        mail("email_nul", s("ann\0@example.com")),
        mail(
            "email_newline_header_injection",
            s("ann@example.com\nBcc: eve@example.com"),
        ),
        mail("email_full_width", s("ａｎｎ@example.com")),
        mail("email_cyrillic_local_part", s("\u{0430}nn@example.com")),
        mail("email_private_use", s("ann\u{e000}@example.com")),
        // Passwords.
        pass("password_eight_characters", s("zq8#kp2!")),
        pass("password_seven_characters", s("zq8#kp2")),
        pass("password_eight_emoji", "😀".repeat(8)),
        pass("password_common", s("password123")),
        pass("password_common_upper_case", s("PASSWORD123")),
        pass("password_equals_username", s("ann-the-user")),
        pass("password_equals_email", s(EMAIL)),
        pass("password_1024_bytes", "z".repeat(1024)),
        pass("password_1025_bytes", "z".repeat(1025)),
        pass("password_nul", s("correct horse\0battery")),
        pass("password_only_spaces", " ".repeat(12)),
        pass("password_full_width", s("ｃｏｒｒｅｃｔ ｈｏｒｓｅ")),
        pass("password_empty", s("")),
    ]
}

pub async fn write_corpus() {
    let mut out = Vec::new();
    let mut codes = std::collections::BTreeSet::new();
    for (name, username, email, password) in cases() {
        // A password case named for the username registers that name.
        let username = if name == "password_equals_username" {
            "ann-the-user".to_string()
        } else {
            username
        };
        let dw = open(&signing()).await.unwrap();
        let result = dw
            .auth()
            .register_user(&username, &email, &password, None)
            .await;
        let got = verdict(&result);
        codes.insert(got.clone());
        out.push(json!({
            "name": name,
            "username": username,
            "email": email,
            "password": password,
            "expect": got,
        }));
    }
    assert!(
        codes.contains("ok") && codes.len() > 1,
        "{codes:?}: {}",
        out.iter()
            .map(|c| format!("{} {}", c["name"], c["expect"]))
            .collect::<Vec<_>>()
            .join(", ")
    );
    assert_eq!(out[0]["expect"], "ok", "the plain registration must pass");
    write(
        "validation",
        "Registration: open a fresh doorward with base_config and then config for each case and call register_user(case.username, case.email, case.password); expect is \"ok\" or the error code.",
        json!({"config": signing(), "cases": out}),
    );
}

//! The error-code table and the HTTP answer to an error: what every
//! binding's web helpers answer, checked once here (the Python, Node and
//! Kotlin suites check that they call it).

use std::collections::HashSet;
use std::time::Duration;

use doorward::error::{ErrorParts, HttpErrorResponse};
use doorward::{Error, ErrorCode};

#[test]
fn every_code_round_trips_through_its_string() {
    let mut seen = HashSet::new();
    for &code in ErrorCode::ALL {
        assert!(seen.insert(code.as_str()), "{code} listed twice");
        assert_eq!(code.as_str().parse::<ErrorCode>(), Ok(code));
        assert_eq!(code.to_string(), code.as_str());
        assert!((400..600).contains(&code.http_status()), "{code}");
    }
    assert_eq!("brand_new_code".parse::<ErrorCode>(), Err(()));
    assert_eq!("Token_Reused".parse::<ErrorCode>(), Err(()));
}

#[test]
fn docs_errors_md_lists_every_code_in_order_with_its_status() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/errors.md");
    let docs = std::fs::read_to_string(path).unwrap();
    let documented: Vec<(String, u16)> = docs
        .lines()
        .filter_map(|line| {
            let code = line.strip_prefix("| `")?.split('`').next()?;
            let status = line.trim_end_matches('|').rsplit('|').next()?.trim();
            Some((code.to_string(), status.get(..3)?.parse().ok()?))
        })
        .collect();
    let table: Vec<(String, u16)> = ErrorCode::ALL
        .iter()
        .map(|c| (c.as_str().to_string(), c.http_status()))
        .collect();
    assert_eq!(documented, table, "docs/errors.md against ErrorCode");
}

fn parts(code: &str) -> ErrorParts<'_> {
    ErrorParts {
        code,
        message: "the message",
        ..ErrorParts::default()
    }
}

#[test]
fn each_code_is_answered_with_its_status_and_challenge() {
    for &code in ErrorCode::ALL {
        let answer = HttpErrorResponse::from_parts(&parts(code.as_str()));
        assert_eq!(answer.status, code.http_status(), "{code}");
        assert_eq!(answer.body.error.code, code.as_str());
        let challenge = answer.header("www-authenticate");
        match (answer.status, code.as_str()) {
            (401, "step_up_required") => assert_eq!(
                challenge,
                Some(r#"Bearer error="insufficient_user_authentication""#),
                "{code}: RFC 9470"
            ),
            (401, c) if c.starts_with("token_") => {
                assert_eq!(challenge, Some(r#"Bearer error="invalid_token""#), "{code}")
            }
            (401, _) => assert_eq!(challenge, Some("Bearer"), "{code}"),
            _ => assert_eq!(challenge, None, "{code}"),
        }
        assert_eq!(
            answer.header("Retry-After"),
            None,
            "{code}: no retry_after given"
        );
    }
}

#[test]
fn a_missing_token_is_challenged_without_an_error() {
    // RFC 6750 §3.1: `error="invalid_token"` only for a token that was sent.
    let answer = HttpErrorResponse::from_parts(&ErrorParts {
        missing_token: true,
        ..parts("token_invalid")
    });
    assert_eq!(answer.status, 401);
    assert_eq!(
        answer.headers,
        vec![("WWW-Authenticate", "Bearer".to_string())]
    );
    let login = HttpErrorResponse::from_parts(&parts("invalid_credentials"));
    assert_eq!(
        login.headers,
        vec![("WWW-Authenticate", "Bearer".to_string())]
    );
}

#[test]
fn retry_after_is_whole_seconds_rounded_up_and_at_least_one() {
    let cases = [
        (0.0, "1"),
        (0.001, "1"),
        (1.0, "1"),
        (1.2, "2"),
        (59.5, "60"),
        (3600.0, "3600"),
        (-5.0, "1"),
        (f64::NAN, "1"),
    ];
    for code in ["rate_limited", "account_locked"] {
        for (seconds, header) in cases {
            let answer = HttpErrorResponse::from_parts(&ErrorParts {
                retry_after: Some(seconds),
                ..parts(code)
            });
            assert_eq!(answer.status, 429);
            assert_eq!(
                answer.headers,
                vec![("Retry-After", header.to_string())],
                "{code} {seconds}"
            );
        }
        // Without a known wait, no header.
        assert!(
            HttpErrorResponse::from_parts(&parts(code))
                .headers
                .is_empty()
        );
    }
    // Only a 429 carries it.
    let storage = HttpErrorResponse::from_parts(&ErrorParts {
        retry_after: Some(3.0),
        ..parts("storage_error")
    });
    assert!(storage.headers.is_empty());
}

#[test]
fn server_errors_say_no_more_than_their_code() {
    for (code, status) in [
        ("config_error", 500),
        ("storage_error", 503),
        ("internal", 500),
    ] {
        let answer = HttpErrorResponse::from_parts(&ErrorParts {
            message: "could not connect to postgres://db.internal.example:5432",
            ..parts(code)
        });
        assert_eq!(answer.status, status);
        assert_eq!(answer.body.error.code, code);
        assert_eq!(
            answer.body.error.message,
            HttpErrorResponse::SERVER_ERROR_MESSAGE
        );
        assert!(
            !answer.body_json().contains("internal.example"),
            "{}",
            answer.body_json()
        );
    }
}

#[test]
fn an_unknown_code_is_a_500_that_keeps_its_code() {
    let answer = HttpErrorResponse::from_parts(&parts("brand_new_code"));
    assert_eq!(answer.status, 500);
    assert!(answer.headers.is_empty());
    assert_eq!(
        answer.body_json(),
        r#"{"error":{"code":"brand_new_code","message":"the server could not complete the request","field":null}}"#
    );
}

#[test]
fn the_body_names_code_message_and_field_in_that_order() {
    let answer = Error::validation("email", "must contain exactly one @").http_response();
    assert_eq!(answer.status, 422);
    assert!(answer.headers.is_empty());
    assert_eq!(
        answer.body_json(),
        r#"{"error":{"code":"validation_error","message":"invalid email: must contain exactly one @","field":"email"}}"#
    );
    let forbidden = Error::Forbidden {
        permission: "admin:*".into(),
    }
    .http_response();
    assert_eq!(forbidden.status, 403);
    assert!(forbidden.headers.is_empty());
    assert_eq!(forbidden.body.error.message, "permission denied: admin:*");
    assert_eq!(forbidden.body.error.field, None);
}

#[test]
fn core_errors_are_answered_from_their_own_parts() {
    for (err, wait) in [
        (
            Error::AccountLocked {
                retry_after: Duration::from_secs(90),
            },
            "90",
        ),
        (
            Error::RateLimited {
                retry_after: Duration::from_millis(1200),
            },
            "2",
        ),
    ] {
        let answer = err.http_response();
        assert_eq!(
            (answer.status, answer.header("Retry-After")),
            (429, Some(wait))
        );
    }
    for refused in [Error::TokenExpired, Error::TokenRevoked, Error::TokenReused] {
        let answer = refused.http_response();
        assert_eq!(answer.status, 401);
        assert_eq!(
            answer.header("WWW-Authenticate"),
            Some(r#"Bearer error="invalid_token""#)
        );
    }
    let panic = Error::Internal("doorward panicked: at src/auth.rs:42".into()).http_response();
    assert_eq!(panic.status, 500);
    assert_eq!(
        panic.body.error.message,
        HttpErrorResponse::SERVER_ERROR_MESSAGE
    );
}

//! Sign-in with an OpenID provider, end to end against a real one (npm's
//! `oidc-provider`, see `tests/oidc/`), driven through its login page:
//! sign-up, linking by verified address, `account_exists`, a replayed
//! state, a wrong nonce, a rotated signing key, a cancelled sign-in,
//! linking and unlinking, on every backend.
#![cfg(feature = "oauth")]

mod common;

use common::oidc::{browse, issuer, rotate};
use common::{PASSWORD, backends};
use doorward::config::OAuthProviderConfig;
use doorward::{Config, Doorward, Error, ErrorCode, LoginResult, OAuthCompletion};
use serde_json::json;

const CALLBACK: &str = "http://127.0.0.1:1/callback";

/// An issuer with one confidential client, and a doorward for `url` that
/// signs in with it as provider `corp`; `None` when the provider is not
/// running.
async fn setup(url: &str) -> Option<(Doorward, String)> {
    let (issuer_url, id) = issuer(json!([{
        "client_id": "doorward",
        "client_secret": "a-client-secret",
        "redirect_uris": [CALLBACK],
    }]))
    .await?;
    let provider = OAuthProviderConfig {
        id: "corp".into(),
        issuer: Some(issuer_url),
        client_id: "doorward".into(),
        client_secret: Some("a-client-secret".into()),
        ..OAuthProviderConfig::default()
    };
    let config = Config {
        oauth_providers: vec![provider],
        verify_email_on_register: false,
        ..common::config(url)
    };
    Some((Doorward::open(config).await.unwrap(), id))
}

/// Sign in through the provider's page as `account`; the callback.
async fn sign_in(dw: &Doorward, account: &str) -> (String, String) {
    let start = dw
        .oauth()
        .authorization_url("corp", CALLBACK)
        .await
        .unwrap();
    assert!(
        start.url.contains("code_challenge_method=S256"),
        "{}",
        start.url
    );
    assert!(start.url.contains("nonce="));
    (
        browse(&start.url, account, CALLBACK, false).await,
        start.state,
    )
}

async fn complete(dw: &Doorward, callback: &str, state: &str) -> Result<OAuthCompletion, Error> {
    dw.oauth().complete(callback, Some(state), None).await
}

fn tokens(done: &OAuthCompletion) -> doorward::TokenPair {
    match done.login.clone() {
        Some(LoginResult::Tokens(tokens)) => tokens,
        other => panic!("expected tokens, got {other:?}"),
    }
}

#[tokio::test]
async fn a_new_user_signs_up_and_signs_in_again() {
    for url in backends().await {
        let Some((dw, _)) = setup(&url).await else {
            return;
        };
        let (callback, state) = sign_in(&dw, "newcomer@example.org").await;
        let done = complete(&dw, &callback, &state).await.unwrap();
        assert!(done.new_user && done.linked, "{url}");
        let me = dw
            .auth()
            .verify_token(&tokens(&done).access_token)
            .await
            .unwrap();
        assert_eq!(me.user_id, done.user_id);
        assert_eq!(me.amr, ["fed"]);
        assert_eq!(me.aal, 1);
        let user = dw.users().get(&done.user_id).await.unwrap();
        assert_eq!(user.email, "newcomer@example.org");
        assert!(user.email_verified_at.is_some(), "the provider verified it");
        let identities = dw.users().identities(&done.user_id).await.unwrap();
        assert_eq!(identities.len(), 1);
        assert_eq!(identities[0].provider, "corp");
        assert_eq!(identities[0].subject, "newcomer@example.org");
        // No password of its own: a password login fails like a wrong one.
        let err = dw
            .auth()
            .login("newcomer@example.org", PASSWORD, None)
            .await
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidCredentials);
        // Again: the same account, no new link.
        let (callback, state) = sign_in(&dw, "newcomer@example.org").await;
        let again = complete(&dw, &callback, &state).await.unwrap();
        assert_eq!(again.user_id, done.user_id);
        assert!(!again.new_user && !again.linked);
        // The events: a registration, a link, and a sign-in by the provider.
        dw.events().flush().await.unwrap();
        let events = dw.events().list(None, 100).await.unwrap().items;
        let names: Vec<&str> = events.iter().map(|e| e.event_type.as_str()).collect();
        assert!(
            names.contains(&"UserRegistered") && names.contains(&"IdentityLinked"),
            "{names:?}"
        );
        let login = events
            .iter()
            .find(|e| e.event_type.as_str() == "LoginSucceeded")
            .unwrap();
        assert_eq!(login.payload["method"], "oauth:corp", "{}", login.payload);
        let text = dw.metrics_text().await.unwrap();
        assert!(
            text.contains(
                "doorward_oauth_callbacks_total{provider=\"corp\",outcome=\"success\"} 2"
            ),
            "{text}"
        );
    }
}

#[tokio::test]
async fn a_verified_address_links_and_an_unverified_one_does_not() {
    for url in backends().await {
        let Some((dw, _)) = setup(&url).await else {
            return;
        };
        // The account's address is verified: the provider's verified
        // address links the identity to it.
        let reg = dw
            .auth()
            .register_user("verified", "verified@example.org", PASSWORD, None)
            .await
            .unwrap();
        dw.users().mark_email_verified(&reg.user.id).await.unwrap();
        let (callback, state) = sign_in(&dw, "verified@example.org").await;
        let done = complete(&dw, &callback, &state).await.unwrap();
        assert_eq!(done.user_id, reg.user.id, "{url}");
        assert!(done.linked && !done.new_user);
        // The account's address is not verified: no link.
        dw.auth()
            .register_user("unverified", "plain@example.org", PASSWORD, None)
            .await
            .unwrap();
        let (callback, state) = sign_in(&dw, "plain@example.org").await;
        let err = complete(&dw, &callback, &state).await.unwrap_err();
        assert_eq!(err.code(), ErrorCode::AccountExists, "{url}: {err}");
        // Nor when the provider has not verified its address.
        let reg = dw
            .auth()
            .register_user("victim", "unverified-victim@example.org", PASSWORD, None)
            .await
            .unwrap();
        dw.users().mark_email_verified(&reg.user.id).await.unwrap();
        let (callback, state) = sign_in(&dw, "unverified-victim@example.org").await;
        let err = complete(&dw, &callback, &state).await.unwrap_err();
        assert_eq!(err.code(), ErrorCode::AccountExists);
        assert!(
            dw.users()
                .identities(&reg.user.id)
                .await
                .unwrap()
                .is_empty()
        );
    }
}

#[tokio::test]
async fn states_are_single_use_and_bound_to_their_browser() {
    for url in backends().await {
        let Some((dw, _)) = setup(&url).await else {
            return;
        };
        let (callback, state) = sign_in(&dw, "replay@example.org").await;
        // Another browser's state: refused, and the sign-in still works.
        let err = complete(&dw, &callback, "someone-else's")
            .await
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::OAuthStateInvalid);
        complete(&dw, &callback, &state).await.unwrap();
        // Replayed: refused before the code reaches the provider.
        let err = complete(&dw, &callback, &state).await.unwrap_err();
        assert_eq!(err.code(), ErrorCode::OAuthStateInvalid, "{url}");
        let err = dw
            .oauth()
            .complete("code=x&state=never-issued", None, None)
            .await
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::OAuthStateInvalid);
    }
}

#[tokio::test]
async fn a_wrong_nonce_is_refused() {
    let Some((dw, _)) = setup("memory://").await else {
        return;
    };
    let start = dw
        .oauth()
        .authorization_url("corp", CALLBACK)
        .await
        .unwrap();
    // The provider is asked for another nonce than the one doorward keeps:
    // its ID token then carries that one.
    let (head, tail) = start.url.split_once("nonce=").unwrap();
    let rest = tail
        .split_once('&')
        .map(|(_, r)| format!("&{r}"))
        .unwrap_or_default();
    let tampered = format!("{head}nonce=another-nonce{rest}");
    let callback = browse(&tampered, "nonce@example.org", CALLBACK, false).await;
    let err = complete(&dw, &callback, &start.state).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::OAuthProviderError);
    let Error::OAuthProviderError { error, .. } = &err else {
        unreachable!()
    };
    assert_eq!(error, "invalid_id_token", "{err}");
    assert_eq!(dw.users().list(None, None).await.unwrap().items.len(), 0);
}

#[tokio::test]
async fn a_rotated_signing_key_is_fetched() {
    let Some((dw, id)) = setup("memory://").await else {
        return;
    };
    let (callback, state) = sign_in(&dw, "rotation@example.org").await;
    complete(&dw, &callback, &state).await.unwrap();
    // The provider signs with a new key now, and its key set no longer
    // holds the one doorward cached.
    rotate(&id).await;
    let (callback, state) = sign_in(&dw, "rotation@example.org").await;
    let done = complete(&dw, &callback, &state).await.unwrap();
    assert!(!done.new_user);
    tokens(&done);
}

#[tokio::test]
async fn a_cancelled_sign_in_reports_the_providers_error() {
    let Some((dw, _)) = setup("memory://").await else {
        return;
    };
    let start = dw
        .oauth()
        .authorization_url("corp", CALLBACK)
        .await
        .unwrap();
    let callback = browse(&start.url, "cancel@example.org", CALLBACK, true).await;
    let err = complete(&dw, &callback, &start.state).await.unwrap_err();
    let Error::OAuthProviderError {
        provider, error, ..
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!(
        (provider.as_str(), error.as_str()),
        ("corp", "access_denied")
    );
    // The state is spent all the same.
    let err = complete(&dw, &callback, &start.state).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::OAuthStateInvalid);
}

#[tokio::test]
async fn a_signed_in_user_links_and_unlinks() {
    for url in backends().await {
        let Some((dw, _)) = setup(&url).await else {
            return;
        };
        let reg = dw
            .auth()
            .register_user("linker", "linker@example.com", PASSWORD, None)
            .await
            .unwrap();
        // Any address at the provider: the user asked for the link.
        let start = dw
            .oauth()
            .link(&reg.user.id, "corp", CALLBACK)
            .await
            .unwrap();
        let callback = browse(&start.url, "elsewhere@example.org", CALLBACK, false).await;
        let done = complete(&dw, &callback, &start.state).await.unwrap();
        assert!(done.linked && done.login.is_none(), "{url}");
        assert_eq!(done.user_id, reg.user.id);
        // It now signs that account in.
        let (callback, state) = sign_in(&dw, "elsewhere@example.org").await;
        assert_eq!(
            complete(&dw, &callback, &state).await.unwrap().user_id,
            reg.user.id
        );
        // Another account cannot take it.
        let other = dw
            .auth()
            .register_user("other", "other@example.com", PASSWORD, None)
            .await
            .unwrap();
        let start = dw
            .oauth()
            .link(&other.user.id, "corp", CALLBACK)
            .await
            .unwrap();
        let callback = browse(&start.url, "elsewhere@example.org", CALLBACK, false).await;
        let err = complete(&dw, &callback, &start.state).await.unwrap_err();
        assert_eq!(err.code(), ErrorCode::AccountExists);
        // Unlinked (the account keeps its password), it signs in no more.
        dw.oauth().unlink(&reg.user.id, "corp").await.unwrap();
        assert!(
            dw.users()
                .identities(&reg.user.id)
                .await
                .unwrap()
                .is_empty()
        );
        let err = dw.oauth().unlink(&reg.user.id, "corp").await.unwrap_err();
        assert_eq!(err.code(), ErrorCode::NotFound);
        // An account made by the provider keeps its only way in.
        let (callback, state) = sign_in(&dw, "only@example.org").await;
        let made = complete(&dw, &callback, &state).await.unwrap();
        let err = dw.oauth().unlink(&made.user_id, "corp").await.unwrap_err();
        assert_eq!(err.code(), ErrorCode::ValidationError, "{err}");
        assert_eq!(dw.users().identities(&made.user_id).await.unwrap().len(), 1);
    }
}

#[tokio::test]
async fn a_second_factor_still_applies() {
    let Some((dw, _)) = setup("memory://").await else {
        return;
    };
    let (callback, state) = sign_in(&dw, "mfa@example.org").await;
    let made = complete(&dw, &callback, &state).await.unwrap();
    let enrolment = dw.mfa().start_totp(&made.user_id).await.unwrap();
    let bytes = totp_rs::Secret::try_from_base32(&enrolment.secret)
        .unwrap()
        .as_bytes()
        .to_vec();
    let app = totp_rs::Builder::new()
        .with_algorithm(totp_rs::Algorithm::SHA1)
        .with_secret(bytes)
        .build()
        .unwrap();
    let code = app
        .generate(chrono::Utc::now().timestamp() as u64)
        .to_string();
    dw.mfa().confirm_totp(&made.user_id, &code).await.unwrap();
    let (callback, state) = sign_in(&dw, "mfa@example.org").await;
    let done = complete(&dw, &callback, &state).await.unwrap();
    let Some(LoginResult::MfaRequired(challenge)) = done.login else {
        panic!("{:?}", done.login)
    };
    assert_eq!(challenge.methods, ["totp", "recovery_code"]);
}

#[tokio::test]
async fn provider_tokens_are_kept_sealed_only_when_asked() {
    let Some((issuer_url, _)) = issuer(json!([{
        "client_id": "keeper",
        "client_secret": "a-client-secret",
        "redirect_uris": [CALLBACK],
    }]))
    .await
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("tokens.db");
    let config = Config {
        oauth_providers: vec![OAuthProviderConfig {
            id: "corp".into(),
            issuer: Some(issuer_url),
            client_id: "keeper".into(),
            client_secret: Some("a-client-secret".into()),
            store_provider_tokens: true,
            ..OAuthProviderConfig::default()
        }],
        ..common::config(&format!("sqlite://{}", db.display()))
    };
    let dw = Doorward::open(config).await.unwrap();
    let (callback, state) = sign_in(&dw, "keeper@example.org").await;
    let done = complete(&dw, &callback, &state).await.unwrap();
    let kept = dw
        .oauth()
        .provider_tokens(&done.user_id, "corp")
        .await
        .unwrap()
        .unwrap();
    assert!(!kept.access_token.is_empty());
    assert!(!format!("{kept:?}").contains(&kept.access_token));
    drop(dw);
    let file = std::fs::read(&db).unwrap();
    let needle = kept.access_token.as_bytes();
    assert!(
        !file.windows(needle.len()).any(|w| w == needle),
        "the access token is in the database file"
    );
}

#[tokio::test]
async fn configuration_is_checked_at_open() {
    let bad = |provider: OAuthProviderConfig| async move {
        let config = Config {
            oauth_providers: vec![provider],
            ..common::config("memory://")
        };
        Doorward::open(config).await.unwrap_err().to_string()
    };
    let base = OAuthProviderConfig {
        id: "corp".into(),
        issuer: Some("https://login.example.com".into()),
        client_id: "x".into(),
        ..OAuthProviderConfig::default()
    };
    assert!(
        bad(OAuthProviderConfig {
            issuer: None,
            ..base.clone()
        })
        .await
        .contains("issuer")
    );
    assert!(
        bad(OAuthProviderConfig {
            issuer: Some("http://login.example.com".into()),
            ..base.clone()
        })
        .await
        .contains("https")
    );
    assert!(
        bad(OAuthProviderConfig {
            id: "Corp!".into(),
            ..base.clone()
        })
        .await
        .contains("id")
    );
    let microsoft = OAuthProviderConfig {
        kind: doorward::config::ProviderKind::Microsoft,
        issuer: None,
        tenant: Some("common".into()),
        ..base.clone()
    };
    assert!(bad(microsoft).await.contains("common"));
    let twice = Config {
        oauth_providers: vec![base.clone(), base.clone()],
        ..common::config("memory://")
    };
    assert!(
        Doorward::open(twice)
            .await
            .unwrap_err()
            .to_string()
            .contains("twice")
    );
    // Unknown providers are a validation error, not a panic.
    let dw = Doorward::open(Config {
        oauth_providers: vec![base],
        ..common::config("memory://")
    })
    .await
    .unwrap();
    let err = dw
        .oauth()
        .authorization_url("nope", CALLBACK)
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::ValidationError);
}

/// A GitHub provider whose endpoints are the stand-in at `base`.
async fn github_doorward(base: &str) -> Doorward {
    let config = Config {
        oauth_providers: vec![OAuthProviderConfig {
            id: "github".into(),
            kind: doorward::config::ProviderKind::Github,
            client_id: "Iv1.client".into(),
            client_secret: Some("gh-secret".into()),
            authorization_endpoint: Some(format!("{base}/login/oauth/authorize")),
            token_endpoint: Some(format!("{base}/login/oauth/access_token")),
            api_url: Some(base.to_string()),
            ..OAuthProviderConfig::default()
        }],
        ..common::config("memory://")
    };
    Doorward::open(config).await.unwrap()
}

/// The callback GitHub would send for `start` with `code`.
fn github_callback(start: &doorward::AuthorizationStart, code: &str) -> String {
    format!("{CALLBACK}?code={code}&state={}", start.state)
}

#[tokio::test]
async fn github_signs_in_with_its_primary_verified_address() {
    let emails = json!([
        {"email": "old@example.org", "primary": false, "verified": true},
        {"email": "octocat@example.org", "primary": true, "verified": true},
    ]);
    let (base, seen) = common::github::github(emails).await;
    let dw = github_doorward(&base).await;
    let start = dw
        .oauth()
        .authorization_url("github", CALLBACK)
        .await
        .unwrap();
    assert!(
        start
            .url
            .starts_with(&format!("{base}/login/oauth/authorize?"))
    );
    assert!(
        start.url.contains("scope=read%3Auser+user%3Aemail"),
        "{}",
        start.url
    );
    assert!(start.url.contains("code_challenge_method=S256"));
    let done = complete(&dw, &github_callback(&start, "good-code"), &start.state)
        .await
        .unwrap();
    assert!(done.new_user);
    let user = dw.users().get(&done.user_id).await.unwrap();
    assert_eq!(
        (user.username.as_str(), user.email.as_str()),
        ("octocat", "octocat@example.org")
    );
    assert!(user.email_verified_at.is_some());
    let identity = &dw.users().identities(&done.user_id).await.unwrap()[0];
    assert_eq!(
        (identity.provider.as_str(), identity.subject.as_str()),
        ("github", "583231")
    );
    // The code went with the PKCE verifier and the redirect URI.
    let request = seen.lock().unwrap().token_requests[0].clone();
    assert!(request.contains("code_verifier="), "{request}");
    assert!(request.contains("redirect_uri="), "{request}");
    // GitHub refuses a code with a 200 and an error body.
    let start = dw
        .oauth()
        .authorization_url("github", CALLBACK)
        .await
        .unwrap();
    let err = complete(&dw, &github_callback(&start, "stale"), &start.state)
        .await
        .unwrap_err();
    let Error::OAuthProviderError { error, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(error, "bad_verification_code");
}

#[tokio::test]
async fn github_without_a_verified_address_cannot_link() {
    let emails = json!([{"email": "taken@example.org", "primary": true, "verified": false}]);
    let (base, _) = common::github::github(emails).await;
    let dw = github_doorward(&base).await;
    let reg = dw
        .auth()
        .register_user("taken", "taken@example.org", PASSWORD, None)
        .await
        .unwrap();
    dw.users().mark_email_verified(&reg.user.id).await.unwrap();
    let start = dw
        .oauth()
        .authorization_url("github", CALLBACK)
        .await
        .unwrap();
    let err = complete(&dw, &github_callback(&start, "good-code"), &start.state)
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::AccountExists);
}

//! The test OpenID provider (`tests/oidc/server.mjs`, npm's `oidc-provider`,
//! started by `scripts/services` on 127.0.0.1:9400) and a scripted user at
//! a browser: each test makes its own issuer (own port, keys, clients).
#![allow(dead_code)]

use std::collections::BTreeMap;

use serde_json::{Value, json};

/// Where the control server listens (`DOORWARD_TEST_OIDC_URL`).
pub fn control_url() -> String {
    std::env::var("DOORWARD_TEST_OIDC_URL").unwrap_or_else(|_| "http://127.0.0.1:9400".into())
}

/// A fresh issuer with `clients` (`client_id`, `client_secret` unless
/// public, `redirect_uris`): its URL and control id, or `None` (a skip)
/// when the provider is not running.
pub async fn issuer(clients: Value) -> Option<(String, String)> {
    let control = control_url();
    let client = reqwest::Client::new();
    let answer = match client
        .post(format!("{control}/issuers"))
        .header("content-type", "application/json")
        .body(json!({ "clients": clients }).to_string())
        .send()
        .await
    {
        Ok(answer) => answer,
        Err(_) => return super::services::unreachable("the test OpenID provider", &control),
    };
    let status = answer.status();
    let text = answer.text().await.unwrap();
    assert!(status.is_success(), "{text}");
    let body: Value = serde_json::from_str(&text).unwrap();
    Some((
        body["issuer"].as_str().unwrap().to_string(),
        body["id"]
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| body["id"].to_string()),
    ))
}

/// Replace the issuer's signing key by a new one (the old one leaves its
/// key set); the new `kid`.
pub async fn rotate(id: &str) -> String {
    let text = reqwest::Client::new()
        .post(format!("{}/issuers/{id}/rotate", control_url()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let body: Value = serde_json::from_str(&text).unwrap();
    body["kid"].as_str().unwrap().to_string()
}

/// A user at a browser: open `url`, follow redirects keeping cookies, sign
/// in as `account` on the provider's login form (or cancel it), and
/// return the URL of the redirect to `stop_at` without requesting it.
pub async fn browse(url: &str, account: &str, stop_at: &str, cancel: bool) -> String {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut jar: BTreeMap<String, String> = BTreeMap::new();
    let mut next = reqwest::Url::parse(url).unwrap();
    let mut form: Option<Vec<(&str, String)>> = None;
    for _ in 0..20 {
        let cookies = jar
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        let request = match form.take() {
            Some(fields) => client
                .post(next.clone())
                .header("content-type", "application/x-www-form-urlencoded")
                .body(
                    url::form_urlencoded::Serializer::new(String::new())
                        .extend_pairs(fields)
                        .finish(),
                ),
            None => client.get(next.clone()),
        };
        let answer = request.header("cookie", cookies).send().await.unwrap();
        for set in answer.headers().get_all("set-cookie") {
            let pair = set.to_str().unwrap().split(';').next().unwrap();
            if let Some((name, value)) = pair.split_once('=') {
                if value.is_empty() {
                    jar.remove(name);
                } else {
                    jar.insert(name.to_string(), value.to_string());
                }
            }
        }
        if answer.status().is_redirection() {
            let location = answer.headers()["location"].to_str().unwrap();
            let target = next.join(location).unwrap();
            if target.as_str().starts_with(stop_at) {
                return target.to_string();
            }
            next = target;
            continue;
        }
        let page = answer.text().await.unwrap();
        assert!(page.contains("name=\"login\""), "not a login page: {page}");
        if cancel {
            next = next.join(&format!("{}/abort", next.path())).unwrap();
            continue;
        }
        let action = page
            .split("action=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap();
        next = next.join(action).unwrap();
        form = Some(vec![
            ("prompt", "login".into()),
            ("login", account.into()),
            ("password", "anything".into()),
        ]);
    }
    panic!("no redirect to {stop_at}");
}

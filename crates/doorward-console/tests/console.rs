//! The console's routes, called with `tower::ServiceExt::oneshot`: the page
//! and its files, signing in (and being refused), cookies, CSRF, the
//! read-only variant, every users/roles/audit route, bad input as 4xx.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::{Browser, PASSWORD, open, user};
use serde_json::json;
use tower::ServiceExt as _;

#[tokio::test]
async fn the_page_and_its_files_are_self_contained_and_hardened() {
    let dw = open().await;
    let mut browser = Browser::new(&dw, "127.0.0.1:7700");
    let page = browser.get("").await;
    assert_eq!(page.status, StatusCode::OK);
    let csp = page.headers[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap();
    assert!(
        csp.contains("default-src 'self'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    assert_eq!(page.headers[header::CACHE_CONTROL], "no-store");
    let assets = doorward_console::asset_paths();
    assert!(assets.len() >= 2, "{assets:?}");
    for asset in &assets {
        assert!(
            page.text.contains(&format!("\"/admin/{asset}\"")),
            "the page names {asset}"
        );
        let file = browser.get(asset).await;
        assert_eq!(file.status, StatusCode::OK, "{asset}");
        assert_eq!(
            file.headers[header::CACHE_CONTROL],
            "public, max-age=31536000, immutable"
        );
        assert!(
            file.headers[header::CONTENT_SECURITY_POLICY]
                .to_str()
                .is_ok()
        );
    }
    for text in std::iter::once(page.text.clone()).chain(asset_texts(&mut browser, &assets).await) {
        for external in ["http://", "https://", "//cdn", "src=\"//", "url(//"] {
            assert!(
                !text.contains(external),
                "an external reference: {external}"
            );
        }
        assert!(!text.contains(" style=\""), "no inline style");
        assert!(!text.contains("<script>"), "no inline script");
    }
    assert_eq!(
        browser.get("assets/app-000000000000.js").await.status,
        StatusCode::NOT_FOUND
    );
    // On its own origin the same page names its files from the root.
    let alone = doorward_console::router(dw.clone())
        .oneshot(Request::get("/").body(Body::empty()).unwrap())
        .await
        .unwrap();
    let bytes = axum::body::to_bytes(alone.into_body(), 1 << 20)
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&bytes);
    assert!(
        text.contains("content=\"/\"") && text.contains("\"/assets/app-"),
        "{text}"
    );
}

async fn asset_texts(browser: &mut Browser, assets: &[String]) -> Vec<String> {
    let mut texts = Vec::new();
    for asset in assets {
        texts.push(browser.get(asset).await.text);
    }
    texts
}

#[tokio::test]
async fn only_console_accounts_sign_in_with_strict_cookies() {
    let dw = open().await;
    user(&dw, "admin", Some("admin")).await;
    let plain = user(&dw, "plain", None).await;

    let mut outsider = Browser::new(&dw, "127.0.0.1:7700");
    let refused = outsider.sign_in("plain").await;
    assert_eq!(
        (refused.status, refused.code()),
        (StatusCode::FORBIDDEN, "forbidden".into())
    );
    assert!(outsider.cookies.is_empty());
    // The session the login made is ended, not left behind.
    assert!(dw.sessions().list(&plain).await.unwrap().is_empty());
    assert_eq!(
        outsider.get("api/users").await.status,
        StatusCode::UNAUTHORIZED
    );

    let mut wrong = Browser::new(&dw, "127.0.0.1:7700");
    let answer = wrong
        .send(
            "POST",
            "api/session",
            Some(json!({"login": "admin", "password": "nope nope nope"})),
            false,
        )
        .await;
    assert_eq!(answer.code(), "invalid_credentials");

    // Loopback over plain HTTP: no `Secure`, so no `__Host-` prefix.
    let mut local = Browser::new(&dw, "127.0.0.1:7700");
    let answer = local.sign_in("admin").await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    let set: Vec<String> = answer
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect();
    assert_eq!(set.len(), 3);
    for cookie in &set {
        assert!(
            cookie.contains("HttpOnly")
                && cookie.contains("SameSite=Strict")
                && cookie.contains("Path=/"),
            "{cookie}"
        );
        assert!(
            !cookie.contains("Secure") && cookie.starts_with("dw_console"),
            "{cookie}"
        );
    }
    assert!(!answer.text.contains("access_token") && !answer.text.contains("refresh_token"));
    let me = local.get("api/session").await.json();
    assert_eq!(
        (me["username"].as_str(), me["can_write"].as_bool()),
        (Some("admin"), Some(true))
    );

    // Anywhere else: `__Host-` and `Secure`.
    let mut remote = Browser::new(&dw, "admin.example.com");
    let answer = remote.sign_in("admin").await;
    for cookie in answer.headers.get_all(header::SET_COOKIE) {
        let cookie = cookie.to_str().unwrap();
        assert!(
            cookie.starts_with("__Host-dw_console") && cookie.contains("Secure"),
            "{cookie}"
        );
    }
    assert_eq!(remote.get("api/users").await.status, StatusCode::OK);

    // Signing out ends the session in the store.
    let out = local.send("DELETE", "api/session", None, true).await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    assert_eq!(
        local.get("api/users").await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn changes_need_the_csrf_token_and_write_permission() {
    let dw = open().await;
    user(&dw, "admin", Some("admin")).await;
    dw.roles()
        .create("auditor", &["console:read"], "")
        .await
        .unwrap();
    user(&dw, "reader", Some("auditor")).await;
    let target = user(&dw, "target", None).await;

    let mut admin = Browser::new(&dw, "127.0.0.1");
    admin.sign_in("admin").await;
    let forged = admin
        .send(
            "POST",
            &format!("api/users/{target}/disable"),
            Some(json!({})),
            false,
        )
        .await;
    assert_eq!(
        (forged.status, forged.code()),
        (StatusCode::FORBIDDEN, "forbidden".into())
    );
    admin.csrf = Some("not-the-token".into());
    let wrong = admin
        .post(&format!("api/users/{target}/disable"), json!({}))
        .await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    assert!(!dw.users().get(&target).await.unwrap().disabled);

    // A refresh rotates the tokens, with the CSRF token only.
    admin.csrf = None;
    let bare = admin.send("POST", "api/session/refresh", None, false).await;
    assert_eq!(bare.status, StatusCode::FORBIDDEN);
    let mut again = Browser::new(&dw, "127.0.0.1");
    again.sign_in("admin").await;
    let before = again.cookies.clone();
    let refreshed = again.send("POST", "api/session/refresh", None, true).await;
    assert_eq!(
        refreshed.status,
        StatusCode::NO_CONTENT,
        "{}",
        refreshed.text
    );
    assert_ne!(again.cookies, before);
    assert_eq!(again.get("api/users").await.status, StatusCode::OK);

    let mut reader = Browser::new(&dw, "127.0.0.1");
    assert_eq!(reader.sign_in("reader").await.json()["can_write"], false);
    assert_eq!(reader.get("api/users").await.status, StatusCode::OK);
    assert_eq!(
        reader.get(&format!("api/users/{target}")).await.status,
        StatusCode::OK
    );
    let refused = reader
        .post(&format!("api/users/{target}/disable"), json!({}))
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(refused.text.contains("console:write"), "{}", refused.text);
    assert!(!dw.users().get(&target).await.unwrap().disabled);
}

#[tokio::test]
async fn users_roles_and_sessions_are_managed() {
    let dw = open().await;
    let admin_id = user(&dw, "admin", Some("admin")).await;
    let ann = user(&dw, "ann", None).await;
    user(&dw, "annie", None).await;
    user(&dw, "bob", None).await;
    let login = dw.auth().login("ann", PASSWORD, None).await.unwrap();
    let mut b = Browser::new(&dw, "127.0.0.1");
    b.sign_in("admin").await;

    let found = b.get("api/users?q=ANN&limit=1").await.json();
    assert_eq!(found["items"][0]["username"], "ann");
    let cursor = found["next_cursor"].as_str().unwrap().to_string();
    let rest = b
        .get(&format!("api/users?q=ann&cursor={cursor}"))
        .await
        .json();
    assert_eq!(rest["items"][0]["username"], "annie");
    assert_eq!(
        b.get("api/users").await.json()["items"]
            .as_array()
            .unwrap()
            .len(),
        4
    );

    let detail = b.get(&format!("api/users/{ann}")).await.json();
    assert_eq!(detail["roles"], json!(["user"]));
    let session = detail["sessions"][0]["id"].as_str().unwrap().to_string();
    assert!(!detail.to_string().contains(PASSWORD));

    assert_eq!(
        b.post(
            &format!("api/users/{ann}/roles"),
            json!({"role": "moderator"})
        )
        .await
        .json()["changed"],
        true
    );
    assert_eq!(
        dw.roles().of_user(&ann).await.unwrap(),
        ["moderator", "user"]
    );
    let revoked = b
        .send(
            "DELETE",
            &format!("api/users/{ann}/roles/moderator"),
            None,
            true,
        )
        .await;
    assert_eq!(revoked.json()["changed"], true);
    assert_eq!(
        b.post(&format!("api/users/{ann}/roles"), json!({"role": "nope"}))
            .await
            .code(),
        "not_found"
    );

    let ended = b
        .send(
            "DELETE",
            &format!("api/users/{ann}/sessions/{session}"),
            None,
            true,
        )
        .await;
    assert_eq!(ended.status, StatusCode::NO_CONTENT);
    let token = login.tokens().unwrap().access_token.clone();
    assert_eq!(
        dw.auth()
            .verify_token(&token)
            .await
            .unwrap_err()
            .code()
            .as_str(),
        "token_revoked"
    );
    let other = b
        .send(
            "DELETE",
            &format!("api/users/{admin_id}/sessions/{session}"),
            None,
            true,
        )
        .await;
    assert_eq!(
        other.code(),
        "not_found",
        "a session is revoked through its own account"
    );

    assert_eq!(
        b.post(&format!("api/users/{ann}/disable"), json!({}))
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert!(dw.users().get(&ann).await.unwrap().disabled);
    assert_eq!(
        b.post(&format!("api/users/{ann}/enable"), json!({}))
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        b.post(&format!("api/users/{admin_id}/disable"), json!({}))
            .await
            .code(),
        "validation_error"
    );
    assert_eq!(
        b.post(&format!("api/users/{ann}/unlock"), json!({}))
            .await
            .json()["changed"],
        false
    );
    assert_eq!(
        b.post(
            &format!("api/users/{ann}/password"),
            json!({"password": "short"})
        )
        .await
        .json()["error"]["field"],
        "password"
    );
    assert_eq!(
        b.post(
            &format!("api/users/{ann}/password"),
            json!({"password": "a brand new passphrase"})
        )
        .await
        .status,
        StatusCode::NO_CONTENT
    );
    dw.auth()
        .login("ann", "a brand new passphrase", None)
        .await
        .unwrap();

    let unconfirmed = b
        .send(
            "DELETE",
            &format!("api/users/{ann}"),
            Some(json!({"confirm": "bob"})),
            true,
        )
        .await;
    assert_eq!(unconfirmed.json()["error"]["field"], "confirm");
    let deleted = b
        .send(
            "DELETE",
            &format!("api/users/{ann}"),
            Some(json!({"confirm": "ann"})),
            true,
        )
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert_eq!(b.get(&format!("api/users/{ann}")).await.code(), "not_found");

    let created = b
        .post(
            "api/roles",
            json!({"name": "editor", "permissions": ["posts:*"]}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    assert!(
        b.get("api/roles")
            .await
            .json()
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["name"] == "editor")
    );
    assert_eq!(
        b.send("DELETE", "api/roles/editor", None, true)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert!(
        b.send("DELETE", "api/roles/admin", None, true)
            .await
            .status
            .is_client_error()
    );
    assert_eq!(
        b.post("api/roles", json!({"name": "x y", "permissions": []}))
            .await
            .code(),
        "validation_error"
    );
}

#[tokio::test]
async fn the_dashboard_sessions_and_audit_log() {
    let dw = open().await;
    let admin = user(&dw, "admin", Some("admin")).await;
    user(&dw, "ann", None).await;
    let mut b = Browser::new(&dw, "127.0.0.1");
    b.sign_in("admin").await;
    dw.events().flush().await.unwrap();

    let d = b.get("api/dashboard").await.json();
    assert_eq!(
        (d["users_total"].as_u64(), d["active_sessions"].as_u64()),
        (Some(2), Some(1))
    );
    assert_eq!(d["users_per_day"].as_array().unwrap().len(), 30);
    assert_eq!(d["users_per_day"][29]["count"], 2);
    let hours = d["logins_per_hour"].as_array().unwrap();
    assert_eq!(hours.len(), 24);
    assert_eq!(hours[23]["succeeded"], 1);
    let sessions = b.get("api/sessions").await.json();
    let mine = sessions["items"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(sessions["items"][0]["user_id"], admin.as_str());
    assert_eq!(
        b.get("api/sessions?limit=0").await.code(),
        "validation_error"
    );

    let all = b.get("api/audit").await.json();
    assert!(all["items"].as_array().unwrap().len() >= 3, "{all}");
    let logins = b
        .get(&format!("api/audit?type=LoginSucceeded&user_id={admin}"))
        .await
        .json();
    assert_eq!(logins["items"].as_array().unwrap().len(), 1);
    assert_eq!(
        b.get("api/audit?type=Nonsense").await.json()["error"]["field"],
        "type"
    );
    assert_eq!(
        b.get("api/audit?since=yesterday").await.json()["error"]["field"],
        "query"
    );
    let verified = b.get("api/audit/verify").await.json();
    assert_eq!(verified["ok"], true);
    let export = b.get("api/audit/export").await;
    assert_eq!(export.headers[header::CONTENT_TYPE], "application/x-ndjson");
    assert_eq!(
        export.text.lines().count(),
        all["items"].as_array().unwrap().len()
    );
    // Revoking a session from the list: here the admin's own, which ends
    // this console session too.
    let revoked = b
        .send("DELETE", &format!("api/sessions/{mine}"), None, true)
        .await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT);
    assert_eq!(
        b.get("api/dashboard").await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn bad_input_is_a_4xx_with_a_code_never_a_500() {
    let dw = open().await;
    user(&dw, "admin", Some("admin")).await;
    let mut b = Browser::new(&dw, "127.0.0.1");
    let raw = b
        .send("POST", "api/session", Some(json!({"login": 5})), false)
        .await;
    assert_eq!(
        (raw.status, raw.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "validation_error".into())
    );
    b.sign_in("admin").await;
    for (method, path, body) in [
        ("GET", "api/nothing-here", None),
        ("PUT", "api/users", None),
        ("PATCH", "api/session", None),
        ("GET", "api/users/not-a-user", None),
        ("GET", "api/users?limit=100000", None),
        ("GET", "api/users?limit=minus-one", None),
        ("GET", "api/users?cursor=garbage", None),
        ("POST", "api/users/x/roles", Some(json!({"role": 7}))),
        (
            "POST",
            "api/users/x/roles",
            Some(json!(["not", "an", "object"])),
        ),
        ("POST", "api/roles", Some(json!({"permissions": ["a:b"]}))),
        ("DELETE", "api/users/x", None),
    ] {
        let answer = b.send(method, path, body, true).await;
        assert!(
            answer.status.is_client_error(),
            "{method} {path}: {} {}",
            answer.status,
            answer.text
        );
        assert!(
            !answer.code().is_empty(),
            "{method} {path}: {}",
            answer.text
        );
    }
    let text = b
        .app
        .clone()
        .oneshot(
            Request::post("/admin/api/session")
                .header(header::HOST, "127.0.0.1")
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(
                    "{\"login\": \"admin\", \"password\": 123456789}",
                ))
                .unwrap(),
        )
        .await
        .unwrap();
    let bytes = axum::body::to_bytes(text.into_body(), 1 << 20)
        .await
        .unwrap();
    assert!(
        !String::from_utf8_lossy(&bytes).contains("123456789"),
        "no value echoed"
    );
}

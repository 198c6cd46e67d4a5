//! The Webhooks, Configuration and Monitoring pages' routes, the audit
//! entries that name the administrator who acted, and the console mounted
//! for a host whose web layer is not Rust ([`doorward_console::Mount`]).

mod common;

use axum::http::StatusCode;
use common::{Browser, PASSWORD, user};
use doorward::{Config, Doorward};
use doorward_console::{Mount, MountRequest};
use serde_json::json;

const SECRET: &str = "pages-test-secret-of-32-bytes-long";

async fn open_with_webhooks() -> Doorward {
    Doorward::open(Config {
        database_url: "memory://".into(),
        jwt_secret: Some(SECRET.into()),
        argon2_memory_kib: 64,
        argon2_iterations: 1,
        webhook_allow_private: true,
        webhook_timeout_ms: 500,
        events_max_attempts: 1,
        events_dispatch: false,
        mail_url: Some("smtp://127.0.0.1:2525".into()),
        mail_username: Some("relay".into()),
        mail_password: Some("hunter2-mail".into()),
        database_read_urls: Vec::new(),
        redis_url: None,
        files_s3_endpoint: Some("https://ops:hunter2-s3@s3.example.com".into()),
        ..Config::default()
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn webhooks_deliveries_and_replay() {
    let dw = open_with_webhooks().await;
    let admin = user(&dw, "admin", Some("admin")).await;
    let mut b = Browser::new(&dw, "127.0.0.1");
    b.sign_in("admin").await;

    // Nothing listens on port 9 here: every delivery fails, and with one
    // attempt allowed, goes dead.
    let added = b
        .post(
            "api/webhooks",
            json!({"url": "http://127.0.0.1:9/hook?token=hunter2-hook", "event_types": ["RoleGranted"]}),
        )
        .await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.text);
    let hook = added.json();
    let id = hook["id"].as_str().unwrap().to_string();
    assert!(hook["secret"].as_str().unwrap().starts_with("whsec_"));
    let listed = b.get("api/webhooks").await;
    assert!(!listed.text.contains("whsec_"), "the list shows no secret");
    assert!(!listed.text.contains("hunter2-hook"), "{}", listed.text);
    assert_eq!(listed.json()[0]["event_types"], json!(["RoleGranted"]));

    let tested = b.post(&format!("api/webhooks/{id}/test"), json!({})).await;
    assert_eq!(tested.json()["ok"], false, "{}", tested.text);

    user(&dw, "ann", Some("user")).await;
    dw.events().flush().await.unwrap();
    let dead = b.get("api/deliveries?status=dead").await.json();
    let items = dead["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{dead}");
    assert_eq!(items[0]["event_type"], "RoleGranted");
    let delivery = items[0]["id"].as_u64().unwrap();
    let replayed = b
        .post(&format!("api/deliveries/{delivery}/replay"), json!({}))
        .await;
    assert_eq!(replayed.status, StatusCode::NO_CONTENT, "{}", replayed.text);
    let pending = b.get("api/deliveries?status=pending").await.json();
    assert_eq!(pending["items"][0]["id"].as_u64(), Some(delivery));
    assert_eq!(
        b.post(&format!("api/deliveries/{delivery}/replay"), json!({}))
            .await
            .code(),
        "not_found",
        "only a dead delivery is replayed"
    );
    for bad in ["api/deliveries?status=lost", "api/deliveries?limit=0"] {
        let answer = b.get(bad).await;
        assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
    assert_eq!(
        b.post("api/deliveries/seven/replay", json!({}))
            .await
            .code(),
        "validation_error"
    );
    assert_eq!(
        b.post("api/webhooks", json!({"url": "ftp://x", "event_types": []}))
            .await
            .code(),
        "validation_error"
    );
    assert_eq!(
        b.post(
            "api/webhooks",
            json!({"url": "http://127.0.0.1:9/", "event_types": ["Nope"]})
        )
        .await
        .code(),
        "validation_error"
    );
    let removed = b
        .send("DELETE", &format!("api/webhooks/{id}"), None, true)
        .await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT);
    assert_eq!(b.get("api/webhooks").await.json(), json!([]));

    // Each of those changes is in the audit log, made by the admin.
    dw.events().flush().await.unwrap();
    for kind in ["WebhookAdded", "DeliveryReplayed", "WebhookRemoved"] {
        let page = b.get(&format!("api/audit?type={kind}")).await.json();
        assert_eq!(page["items"][0]["actor"], admin.as_str(), "{kind}: {page}");
    }
}

#[tokio::test]
async fn every_change_is_audited_with_the_admin_as_actor() {
    let dw = open_with_webhooks().await;
    let admin = user(&dw, "admin", Some("admin")).await;
    let ann = user(&dw, "ann", None).await;
    let mut b = Browser::new(&dw, "127.0.0.1");
    b.sign_in("admin").await;
    for (path, body) in [
        (
            "api/roles",
            json!({"name": "editor", "permissions": ["posts:write"]}),
        ),
        (&format!("api/users/{ann}/roles"), json!({"role": "editor"})),
        (&format!("api/users/{ann}/disable"), json!({})),
    ] {
        let answer = b.post(path, body).await;
        assert!(answer.status.is_success(), "{path}: {}", answer.text);
    }
    // The same operation called by the host outside the console names no one.
    dw.roles().revoke(&ann, "editor").await.unwrap();
    dw.events().flush().await.unwrap();
    let actor_of = |page: serde_json::Value| page["items"][0]["actor"].clone();
    for (kind, about) in [
        ("RoleGranted", ann.as_str()),
        ("UserDisabled", ann.as_str()),
        ("RoleCreated", ""),
    ] {
        let page = b
            .get(&format!("api/audit?type={kind}&user_id={about}"))
            .await
            .json();
        assert_eq!(actor_of(page.clone()), admin.as_str(), "{kind}: {page}");
        assert_eq!(page["items"][0]["ip"], serde_json::Value::Null);
    }
    let revoked = b
        .get(&format!("api/audit?type=RoleRevoked&user_id={ann}"))
        .await
        .json();
    assert_eq!(actor_of(revoked), serde_json::Value::Null);
}

#[tokio::test]
async fn configuration_is_shown_with_sources_and_no_secret() {
    let dw = open_with_webhooks().await;
    user(&dw, "admin", Some("admin")).await;
    let mut b = Browser::new(&dw, "127.0.0.1");
    b.sign_in("admin").await;
    let answer = b.get("api/config").await;
    assert_eq!(answer.status, StatusCode::OK);
    assert!(!answer.text.contains(SECRET), "the JWT secret is not shown");
    assert!(!answer.text.contains("hunter2"), "{}", answer.text);
    let entries = answer.json();
    let entry = |key: &str| {
        entries
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["key"] == key)
            .unwrap_or_else(|| panic!("{key} listed"))
            .clone()
    };
    assert_eq!(
        entry("jwt_secret"),
        json!({"key": "jwt_secret", "value": "[redacted]", "secret": true, "source": "host"})
    );
    assert_eq!(entry("mail_password")["value"], "[redacted]");
    assert_eq!(
        entry("files_s3_endpoint")["value"],
        "https://ops:[redacted]@s3.example.com"
    );
    assert_eq!(entry("access_ttl")["source"], "default");
    assert_eq!(entry("webhook_allow_private")["source"], "host");
    assert_eq!(
        entry("mfa_encryption_key")["value"],
        serde_json::Value::Null
    );
}

#[tokio::test]
async fn monitoring_reads_the_metrics() {
    let dw = open_with_webhooks().await;
    user(&dw, "admin", Some("admin")).await;
    let mut b = Browser::new(&dw, "127.0.0.1");
    b.sign_in("admin").await;
    let wrong = b
        .send(
            "POST",
            "api/session",
            Some(json!({"login": "admin", "password": "not the password"})),
            false,
        )
        .await;
    assert_eq!(wrong.code(), "invalid_credentials");
    let m = b.get("api/metrics").await.json();
    let login = m["operations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["operation"] == "auth.login")
        .unwrap_or_else(|| panic!("auth.login timed: {m}"))
        .clone();
    assert_eq!(
        (login["calls"].as_f64(), login["errors"].as_f64()),
        (Some(2.0), Some(1.0))
    );
    assert!(login["p50_ms"].as_f64().unwrap() > 0.0, "{login}");
    let logins: f64 = m["series"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["name"] == "doorward_logins_total")
        .map(|s| s["value"].as_f64().unwrap())
        .sum();
    assert_eq!(logins, 2.0);
}

#[tokio::test]
async fn a_mount_answers_under_its_prefix() {
    let dw = open_with_webhooks().await;
    user(&dw, "admin", Some("admin")).await;
    let mount = Mount::new(dw.clone(), "/admin/").unwrap();
    let request = |method: &str, path: &str| MountRequest {
        method: method.into(),
        path: path.into(),
        headers: vec![("host".into(), "127.0.0.1:8000".into())],
        client_ip: Some("::ffff:10.1.2.3".into()),
        ..MountRequest::default()
    };
    let page = mount.handle(request("GET", "/admin/")).await;
    assert_eq!(page.status, 200);
    let html = String::from_utf8(page.body).unwrap();
    assert!(html.contains("/admin/assets/app-"), "{html}");
    assert!(
        page.headers
            .iter()
            .any(|(k, v)| k == "content-security-policy" && v.contains("default-src 'self'"))
    );

    let mut sign_in = request("POST", "/admin/api/session");
    sign_in
        .headers
        .push(("content-type".into(), "application/json".into()));
    sign_in.body = json!({"login": "admin", "password": PASSWORD})
        .to_string()
        .into_bytes();
    let signed = mount.handle(sign_in).await;
    assert_eq!(signed.status, 200);
    let cookies: Vec<String> = signed
        .headers
        .iter()
        .filter(|(k, _)| k == "set-cookie")
        .map(|(_, v)| v.split(';').next().unwrap().to_string())
        .collect();
    assert_eq!(cookies.len(), 3, "access, refresh and CSRF cookies");
    let mut users = request("GET", "/admin/api/users?q=adm");
    users.headers.push(("cookie".into(), cookies.join("; ")));
    let listed = mount.handle(users).await;
    assert_eq!(listed.status, 200);
    let listed: serde_json::Value = serde_json::from_slice(&listed.body).unwrap();
    assert_eq!(listed["items"][0]["username"], "admin");
    let sessions = dw.sessions().list_all(None, None).await.unwrap();
    assert_eq!(sessions.items[0].ip.as_deref(), Some("10.1.2.3"));

    // What a host cannot parse is a 4xx with a code, never a panic.
    for (method, path) in [
        ("GE T", "/admin/"),
        ("GET", "admin"),
        ("GET", "/admin/\u{7f}"),
    ] {
        let answer = mount.handle(request(method, path)).await;
        assert_eq!(answer.status, 422, "{method} {path}");
    }
    let mut huge = request("POST", "/admin/api/session");
    huge.body = vec![b' '; doorward_console::MAX_BODY + 1];
    assert_eq!(mount.handle(huge).await.status, 422);
    let mut bad_header = request("GET", "/admin/");
    bad_header.headers.push(("bad name".into(), "x".into()));
    assert_eq!(mount.handle(bad_header).await.status, 422);
    assert_eq!(mount.handle(request("GET", "/elsewhere")).await.status, 404);
    for prefix in ["admin", "/ad min", "/a/../b", "//x"] {
        assert!(Mount::new(dw.clone(), prefix).is_err(), "{prefix}");
    }
    assert_eq!(
        Mount::new(dw.clone(), "")
            .unwrap()
            .handle(request("GET", "/api/session"))
            .await
            .status,
        401
    );
}

#[tokio::test]
async fn role_holders_and_an_accounts_factors() {
    let dw = open_with_webhooks().await;
    let admin = user(&dw, "admin", Some("admin")).await;
    let ann = user(&dw, "ann", None).await;
    let mut b = Browser::new(&dw, "127.0.0.1");
    b.sign_in("admin").await;
    let holders = b.get("api/roles/admin/holders").await.json();
    assert_eq!(holders["items"][0]["id"], admin.as_str());
    assert_eq!(holders["items"].as_array().unwrap().len(), 1);
    assert_eq!(b.get("api/roles/nobody/holders").await.code(), "not_found");
    assert_eq!(
        b.get("api/roles/admin/holders?limit=0").await.code(),
        "validation_error"
    );
    let detail = b.get(&format!("api/users/{ann}")).await.json();
    assert_eq!(
        detail["mfa"],
        json!({"totp": false, "recovery_codes_left": 0, "enabled": false})
    );
    assert_eq!(detail["passkeys"], json!([]));
    assert_eq!(detail["identities"], json!([]));
}

/// An authenticator app's code for `secret` (base32), `ahead` steps of 30
/// seconds from now (a code once accepted is spent for its step).
fn totp_code(secret: &str, ahead: i64) -> String {
    let bytes = totp_rs::Secret::try_from_base32(secret)
        .unwrap()
        .as_bytes()
        .to_vec();
    let totp = totp_rs::Builder::new()
        .with_algorithm(totp_rs::Algorithm::SHA1)
        .with_secret(bytes)
        .build()
        .unwrap();
    totp.generate((chrono::Utc::now().timestamp() + ahead * 30) as u64)
        .to_string()
}

#[tokio::test]
async fn an_admin_with_a_second_factor_signs_in_with_it() {
    let dw = Doorward::open(Config {
        mfa_encryption_key: Some("an-mfa-key-of-at-least-thirty-two-bytes".into()),
        ..common::open_config()
    })
    .await
    .unwrap();
    let admin = user(&dw, "admin", Some("admin")).await;
    let enrolment = dw.mfa().start_totp(&admin).await.unwrap();
    dw.mfa()
        .confirm_totp(&admin, &totp_code(&enrolment.secret, 0))
        .await
        .unwrap();
    let mut b = Browser::new(&dw, "127.0.0.1");
    let first = b.sign_in("admin").await;
    assert_eq!(first.status, StatusCode::OK);
    let challenge = first.json();
    assert_eq!(challenge["mfa_required"], true, "{challenge}");
    assert!(b.cookies.is_empty(), "no session before the second factor");
    assert_eq!(
        b.get("api/dashboard").await.status,
        StatusCode::UNAUTHORIZED
    );
    let flow_id = challenge["flow_id"].as_str().unwrap().to_string();
    let wrong = b
        .send(
            "POST",
            "api/session/mfa",
            Some(json!({"flow_id": flow_id, "method": "totp", "code": "000000"})),
            false,
        )
        .await;
    assert!(wrong.status.is_client_error(), "{}", wrong.text);
    // A fresh login, a fresh flow; the code of the next step (this one's
    // was spent by the enrolment).
    let again = b.sign_in("admin").await.json();
    let flow_id = again["flow_id"].as_str().unwrap().to_string();
    let right = b
        .send(
            "POST",
            "api/session/mfa",
            Some(json!({"flow_id": flow_id, "method": "totp", "code": totp_code(&enrolment.secret, 1)})),
            false,
        )
        .await;
    assert_eq!(right.status, StatusCode::OK, "{}", right.text);
    b.csrf = right.json()["csrf_token"].as_str().map(str::to_owned);
    assert_eq!(right.json()["aal"], 2);
    assert_eq!(b.get("api/dashboard").await.status, StatusCode::OK);
}

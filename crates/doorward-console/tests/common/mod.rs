//! What the console's route tests share: an instance, accounts, and a
//! browser of one origin that keeps its cookies and CSRF token.

#![allow(dead_code)]

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use doorward::{Config, Doorward};
use serde_json::{Value, json};
use tower::ServiceExt as _;

pub const PASSWORD: &str = "correct horse battery staple";

pub async fn open() -> Doorward {
    Doorward::open(open_config()).await.unwrap()
}

/// An in-memory store with cheap hashing: the tests are about the routes.
pub fn open_config() -> Config {
    Config {
        database_url: "memory://".into(),
        jwt_secret: Some("console-test-secret-of-32-bytes-ok".into()),
        argon2_memory_kib: 64,
        argon2_iterations: 1,
        ..Config::default()
    }
}

/// A browser of one origin: its cookies, and the CSRF token it was given.
pub struct Browser {
    pub app: Router,
    pub host: &'static str,
    pub cookies: Vec<(String, String)>,
    pub csrf: Option<String>,
}

pub struct Answer {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub text: String,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("{e}: {}", self.text))
    }
    pub fn code(&self) -> String {
        serde_json::from_str::<Value>(&self.text)
            .ok()
            .and_then(|v| v["error"]["code"].as_str().map(str::to_owned))
            .unwrap_or_default()
    }
}

impl Browser {
    pub fn new(dw: &Doorward, host: &'static str) -> Self {
        Browser {
            app: Router::new().nest("/admin", doorward_console::router(dw.clone())),
            host,
            cookies: Vec::new(),
            csrf: None,
        }
    }

    pub async fn send(
        &mut self,
        method: &str,
        path: &str,
        body: Option<Value>,
        csrf: bool,
    ) -> Answer {
        let mut request = Request::builder()
            .method(method)
            .uri(if path.is_empty() {
                "/admin".to_string()
            } else {
                format!("/admin/{path}")
            })
            .header(header::HOST, self.host);
        if !self.cookies.is_empty() {
            let jar: Vec<String> = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            request = request.header(header::COOKIE, jar.join("; "));
        }
        if csrf && let Some(token) = &self.csrf {
            request = request.header("x-csrf-token", token);
        }
        let body = match body {
            Some(value) => {
                request = request.header(header::CONTENT_TYPE, "application/json");
                Body::from(value.to_string())
            }
            None => Body::empty(),
        };
        let response = self
            .app
            .clone()
            .oneshot(request.body(body).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        for set in headers.get_all(header::SET_COOKIE) {
            let cookie = cookie::Cookie::parse(set.to_str().unwrap().to_string()).unwrap();
            self.cookies.retain(|(k, _)| k != cookie.name());
            if !cookie.value().is_empty() {
                self.cookies
                    .push((cookie.name().to_string(), cookie.value().to_string()));
            }
        }
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 24)
            .await
            .unwrap();
        Answer {
            status,
            headers,
            text: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    pub async fn get(&mut self, path: &str) -> Answer {
        self.send("GET", path, None, false).await
    }

    pub async fn post(&mut self, path: &str, body: Value) -> Answer {
        self.send("POST", path, Some(body), true).await
    }

    pub async fn sign_in(&mut self, login: &str) -> Answer {
        let answer = self
            .send(
                "POST",
                "api/session",
                Some(json!({"login": login, "password": PASSWORD})),
                false,
            )
            .await;
        if answer.status == StatusCode::OK {
            self.csrf = answer.json()["csrf_token"].as_str().map(str::to_owned);
        }
        answer
    }
}

pub async fn user(dw: &Doorward, name: &str, role: Option<&str>) -> String {
    let user = dw
        .users()
        .create(name, &format!("{name}@example.com"), PASSWORD)
        .await
        .unwrap();
    if let Some(role) = role {
        dw.roles().grant(&user.id, role).await.unwrap();
    }
    user.id
}

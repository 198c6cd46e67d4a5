//! A stand-in for GitHub's OAuth and REST endpoints, on loopback: GitHub
//! issues no ID token, so its preset is tested against the shape of its
//! answers (the token endpoint's JSON, including its 200-with-an-error,
//! `/user` and `/user/emails`), which no local server offers.

use std::sync::{Arc, Mutex};

use tokio::io::AsyncWriteExt;

/// What the stand-in saw: the token requests' form bodies.
#[derive(Default)]
pub struct Seen {
    pub token_requests: Vec<String>,
}

/// Serve GitHub's endpoints under the returned base URL: `/login/oauth/
/// access_token` trades the code `good-code` (any other code gets GitHub's
/// 200 with `bad_verification_code`), `/user` and `/user/emails` answer
/// for the token it gave, with `emails` as the address list.
pub async fn github(emails: serde_json::Value) -> (String, Arc<Mutex<Seen>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Seen::default()));
    let s = seen.clone();
    tokio::spawn(async move {
        loop {
            let (mut socket, _) = listener.accept().await.unwrap();
            let (s, emails) = (s.clone(), emails.clone());
            tokio::spawn(async move {
                let Some((head, body)) = super::receiver::read_request(&mut socket).await else {
                    return;
                };
                let path = head.split_whitespace().nth(1).unwrap_or("/").to_string();
                let authorized = head
                    .to_lowercase()
                    .contains("authorization: bearer gho_token");
                let (status, answer) = match path.as_str() {
                    "/login/oauth/access_token" => {
                        s.lock().unwrap().token_requests.push(body.clone());
                        if body.contains("code=good-code") {
                            (
                                200,
                                serde_json::json!({"access_token": "gho_token", "token_type": "bearer", "scope": "read:user,user:email"}),
                            )
                        } else {
                            (
                                200,
                                serde_json::json!({"error": "bad_verification_code", "error_description": "The code passed is incorrect or expired."}),
                            )
                        }
                    }
                    "/user" if authorized => (
                        200,
                        serde_json::json!({"id": 583231, "login": "octocat", "name": "The Octocat", "email": null}),
                    ),
                    "/user/emails" if authorized => (200, emails),
                    _ => (401, serde_json::json!({"message": "Bad credentials"})),
                };
                let text = answer.to_string();
                let response = format!(
                    "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{text}",
                    text.len()
                );
                let _ = socket.write_all(response.as_bytes()).await;
            });
        }
    });
    (base, seen)
}

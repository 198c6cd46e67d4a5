//! A minimal HTTP/1.1 webhook receiver on loopback, for the event tests and
//! the events benchmark.

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// What a local webhook receiver saw.
#[derive(Default)]
pub struct Received {
    /// (webhook-id, webhook-timestamp, webhook-signature, body)
    pub requests: Vec<(String, String, String, String)>,
    /// Requests left unanswered (status 0), not in `requests`.
    pub hung: usize,
}

/// A minimal HTTP/1.1 receiver on loopback: answers each request with the
/// next status from `statuses` (200 once they run out); a 0 never answers,
/// holding the connection open as a hung receiver would.
pub async fn receiver(statuses: Vec<u16>) -> (String, Arc<Mutex<Received>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let received = Arc::new(Mutex::new(Received::default()));
    let statuses = Arc::new(Mutex::new(statuses.into_iter()));
    let r = received.clone();
    tokio::spawn(async move {
        loop {
            let (mut socket, _) = listener.accept().await.unwrap();
            let r = r.clone();
            let statuses = statuses.clone();
            tokio::spawn(async move {
                let Some((head, body)) = read_request(&mut socket).await else {
                    return;
                };
                let header = |name: &str| {
                    head.lines()
                        .find_map(|l| {
                            let (k, v) = l.split_once(':')?;
                            k.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
                        })
                        .unwrap_or_default()
                };
                let status = statuses.lock().unwrap().next().unwrap_or(200);
                if status == 0 {
                    r.lock().unwrap().hung += 1;
                    std::future::pending::<()>().await;
                }
                r.lock().unwrap().requests.push((
                    header("webhook-id"),
                    header("webhook-timestamp"),
                    header("webhook-signature"),
                    body,
                ));
                let response = format!(
                    "HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                );
                let _ = socket.write_all(response.as_bytes()).await;
            });
        }
    });
    (url, received)
}

/// One HTTP/1.1 request read from `socket`: its head (request line and
/// headers) and its body, or `None` if the peer closed early.
pub async fn read_request(socket: &mut tokio::net::TcpStream) -> Option<(String, String)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let (head_len, content_length) = loop {
        let n = socket.read(&mut chunk).await.unwrap_or(0);
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_lowercase();
            let len = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .map_or(0, |v| v.trim().parse().unwrap());
            break (end + 4, len);
        }
    };
    while buf.len() < head_len + content_length {
        let n = socket.read(&mut chunk).await.unwrap_or(0);
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let head = String::from_utf8_lossy(&buf[..head_len]).to_string();
    let body = String::from_utf8_lossy(&buf[head_len..head_len + content_length]).to_string();
    Some((head, body))
}

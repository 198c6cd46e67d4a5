//! A process killed (SIGKILL) after committing a change, while its webhook
//! delivery is in flight, has the event delivered after a restart: by the
//! next process, once the dead one's lease runs out.
#![cfg(all(feature = "sqlite", feature = "webhooks", unix))]

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::PASSWORD;
use common::receiver::receiver;
use doorward::events::EventType;
use doorward::store::DeliveryStatus;
use doorward::{Config, Doorward};

const CHILD_DB: &str = "DOORWARD_TEST_CHILD_DATABASE";

fn config(database_url: &str) -> Config {
    Config {
        events_poll_interval_ms: 20,
        events_lease_secs: 1,
        events_retry_base_ms: 10,
        webhook_timeout_ms: 600_000,
        // The receiver listens on loopback.
        webhook_allow_private: true,
        ..common::config(database_url)
    }
}

/// The child's part: register a user, say so, and wait to be killed while
/// the dispatcher's webhook request hangs. Run only by the test below.
#[tokio::test]
#[ignore = "run as a child process by the_event_of_a_killed_process_is_delivered_after_restart"]
async fn child_commits_and_waits_to_be_killed() {
    let Ok(url) = std::env::var(CHILD_DB) else {
        return;
    };
    let dw = Doorward::open(config(&url)).await.unwrap();
    let reg = dw
        .auth()
        .register_user("john", "john@example.com", PASSWORD, None)
        .await
        .unwrap();
    println!("committed {}", reg.user.id);
    tokio::time::sleep(Duration::from_secs(600)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_event_of_a_killed_process_is_delivered_after_restart() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("auth.db").display());
    // The first request hangs (the child is killed during it); later ones
    // are answered.
    let (hook_url, received) = receiver(vec![0]).await;
    {
        let dw = Doorward::open(Config {
            events_dispatch: false,
            ..config(&url)
        })
        .await
        .unwrap();
        dw.webhooks()
            .add(&hook_url, &[EventType::UserRegistered])
            .await
            .unwrap();
    }

    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_commits_and_waits_to_be_killed",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_DB, &url)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let user_id = stdout
        .lines()
        .map_while(Result::ok)
        // After libtest's "test <name> ... " on the same line.
        .find_map(|l| {
            l.split_once("committed ")
                .map(|(_, id)| id.trim().to_string())
        })
        .expect("the child committed a registration");
    let deadline = Instant::now() + Duration::from_secs(30);
    while received.lock().unwrap().hung == 0 {
        assert!(
            Instant::now() < deadline,
            "the child never tried to deliver"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    child.kill().unwrap(); // SIGKILL: no destructor, no graceful shutdown
    child.wait().unwrap();
    assert!(received.lock().unwrap().requests.is_empty());

    // The restart: another process on the same database.
    let dw = Doorward::open(config(&url)).await.unwrap();
    common::flush_until(&dw, "the delivery after restart", || {
        !received.lock().unwrap().requests.is_empty()
    })
    .await;
    let (_, _, _, body) = received.lock().unwrap().requests[0].clone();
    let event: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(event["type"], "UserRegistered");
    assert_eq!(event["data"]["subject"], user_id.as_str());
    let delivered = dw
        .events()
        .deliveries(Some(DeliveryStatus::Delivered), None, 10)
        .await
        .unwrap();
    assert_eq!(delivered.len(), 1);
    // Exactly one answered delivery: the restart did not send it twice.
    dw.events().flush().await.unwrap();
    assert_eq!(received.lock().unwrap().requests.len(), 1);
}

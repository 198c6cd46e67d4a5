//! PostgreSQL with a real streaming replica (`scripts/pg-replica`, named by
//! `DOORWARD_TEST_PG_REPLICA_URL`): with replay paused on the replica, every
//! read that decides something still sees a write just made, because it
//! goes to the primary, while a listing, which may lag, does not; and a
//! replica that stops answering is skipped, with a warning, for the
//! primary.
//!
//! Skipped without the variable unless `DOORWARD_REQUIRE_REPLICA=1`, which
//! `scripts/test` sets when it runs this.
#![cfg(feature = "postgres")]

mod common;

use std::time::Duration;

use common::capture::Capture;
use common::{PASSWORD, SignedIn as _, flush_until, services};
use doorward::{Config, Doorward, ErrorCode};
use sqlx::Connection as _;

async fn replica_url() -> Option<String> {
    match std::env::var("DOORWARD_TEST_PG_REPLICA_URL") {
        Ok(url) => Some(url),
        Err(_) if std::env::var("DOORWARD_REQUIRE_REPLICA").as_deref() == Ok("1") => {
            panic!("DOORWARD_REQUIRE_REPLICA=1 but DOORWARD_TEST_PG_REPLICA_URL is not set")
        }
        Err(_) => {
            eprintln!(
                "skipped: DOORWARD_TEST_PG_REPLICA_URL is not set (scripts/pg-replica start)"
            );
            None
        }
    }
}

/// Run `sql` on the replica (`pg_wal_replay_pause()` and friends).
async fn on_replica(url: &str, sql: &str) {
    let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
    sqlx::query(sql).execute(&mut conn).await.unwrap();
}

/// Poll for up to 10 s.
async fn eventually<F, Fut>(what: &str, check: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..200 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{what}: not within 10 s");
}

fn replica_script(arg: &str) {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/pg-replica");
    let status = std::process::Command::new(script)
        .arg(arg)
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "scripts/pg-replica {arg} failed");
}

// One test, in steps: pausing or stopping the one replica would disturb
// any other test running beside it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deciding_reads_go_to_the_primary_and_a_lost_replica_is_skipped() {
    let Some(replica) = replica_url().await else {
        return;
    };
    let Some(primary) = services::postgres_url().await else {
        return;
    };
    // The same schema on the replica: the search_path option of the
    // primary's test URL.
    let options = primary.split_once('?').unwrap().1;
    let sep = if replica.contains('?') { '&' } else { '?' };
    let replica_schema = format!("{replica}{sep}{options}");

    let capture = Capture::default();
    let writer = capture.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::INFO)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_global_default(subscriber);

    let config = Config {
        database_read_urls: vec![replica_schema.clone()],
        mail_url: Some("memory://".into()),
        app_url: "https://app.example.com".into(),
        events_poll_interval_ms: 20,
        lockout_threshold: 3,
        ..common::config(&primary)
    };
    let dw = Doorward::open(config).await.unwrap();
    // The replica has the schema doorward just made before replay stops.
    eventually("the replica has the migrated schema", || async {
        dw.users().list(None, 10).await.is_ok()
    })
    .await;

    on_replica(&replica, "SELECT pg_wal_replay_pause()").await;

    // A user registered on the primary logs in at once, by name and by
    // email, and locks out at once.
    let reg = dw
        .auth()
        .register_user("rita", "rita@example.com", PASSWORD, None)
        .await
        .unwrap();
    let pair = dw
        .auth()
        .login("rita", PASSWORD, None)
        .await
        .signed_in()
        .unwrap();
    dw.auth()
        .login("rita@example.com", PASSWORD, None)
        .await
        .signed_in()
        .unwrap();
    // The listing, which may lag, does not show her yet.
    let listed = dw.users().list(None, 100).await.unwrap();
    assert!(
        listed.items.iter().all(|u| u.username != "rita"),
        "the listing did not come from the paused replica"
    );

    // Refresh rotation and reuse detection: the rotated token is refused
    // as reused at once.
    let rotated = dw.auth().refresh_token(&pair.refresh_token).await.unwrap();
    assert_eq!(
        dw.auth()
            .refresh_token(&pair.refresh_token)
            .await
            .unwrap_err()
            .code(),
        ErrorCode::TokenReused
    );
    // Reuse ended the session: refused at once, and so is the rotated pair.
    assert_eq!(
        dw.auth()
            .verify_token(&rotated.access_token)
            .await
            .unwrap_err()
            .code(),
        ErrorCode::TokenRevoked
    );

    // A revoked session is refused at once.
    let live = dw
        .auth()
        .login("rita", PASSWORD, None)
        .await
        .signed_in()
        .unwrap();
    dw.auth().verify_token(&live.access_token).await.unwrap();
    dw.auth().logout(&live.access_token).await.unwrap();
    assert_eq!(
        dw.auth()
            .verify_token(&live.access_token)
            .await
            .unwrap_err()
            .code(),
        ErrorCode::TokenRevoked
    );
    assert!(dw.auth().refresh_token(&live.refresh_token).await.is_err());

    // A one-time secret made on the primary is spent on it at once, and
    // only once.
    let started = dw
        .auth()
        .request_password_reset("rita@example.com", None)
        .await
        .unwrap();
    let needle = format!("flow={}&", started.flow_id);
    let find = || {
        dw.mail()
            .sent()
            .unwrap()
            .into_iter()
            .find(|m| m.text.contains(&needle))
    };
    flush_until(&dw, "the reset mail", || find().is_some()).await;
    let text = find().unwrap().text;
    let secret = text
        .split_whitespace()
        .find_map(|w| w.split_once("secret="))
        .map(|(_, rest)| rest.split('&').next().unwrap().to_string())
        .unwrap();
    dw.auth()
        .reset_password(&started.flow_id, &secret, "a brand new passphrase")
        .await
        .unwrap();
    assert!(
        dw.auth()
            .reset_password(&started.flow_id, &secret, "another new passphrase")
            .await
            .is_err()
    );
    dw.auth()
        .login("rita", "a brand new passphrase", None)
        .await
        .signed_in()
        .unwrap();

    // Lockout counts on the primary: the threshold holds at once.
    for _ in 0..3 {
        let _ = dw.auth().login("rita", "wrong password here", None).await;
    }
    assert_eq!(
        dw.auth()
            .login("rita", "a brand new passphrase", None)
            .await
            .signed_in()
            .unwrap_err()
            .code(),
        ErrorCode::AccountLocked
    );
    assert_eq!(reg.user.username, "rita");

    // Replay resumes: the listing catches up.
    on_replica(&replica, "SELECT pg_wal_replay_resume()").await;
    eventually("the listing catches up", || async {
        let page = dw.users().list(None, 100).await.unwrap();
        page.items.iter().any(|u| u.username == "rita")
    })
    .await;

    // The replica stops: after at most a probe (1 s) its reads go to the
    // primary, with a warning, and a listing shows what the primary has.
    replica_script("stop");
    dw.auth()
        .register_user("sam", "sam@example.com", PASSWORD, None)
        .await
        .unwrap();
    eventually("the lost replica is skipped", || async {
        capture
            .text()
            .contains("a database read replica does not answer")
    })
    .await;
    let page = dw.users().list(None, 100).await.unwrap();
    assert!(page.items.iter().any(|u| u.username == "sam"));

    // And it is used again once it answers.
    replica_script("start");
    eventually("the replica is used again", || async {
        capture
            .text()
            .contains("a database read replica answers again")
    })
    .await;
}

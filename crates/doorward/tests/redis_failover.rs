//! A Redis Cluster primary killed (`SIGKILL`) while two instances log in,
//! verify, refresh and log out: every call either answers correctly or
//! fails with `storage_error`, no revoked session gets a token or passes
//! a check once its revocation is acknowledged and the cluster has healed,
//! every acknowledged session still verifies and refreshes after the
//! replica is promoted, and nothing needs a restart.
//!
//! Needs the local cluster of `scripts/redis-cluster` (`DOORWARD_TEST_REDIS_URL`
//! a `redis+cluster://` URL); skipped on a single server unless
//! `DOORWARD_REQUIRE_CLUSTER=1`, which `scripts/test` sets when it runs this.
//! The killed node is started again at the end (it rejoins as a replica).
#![cfg(feature = "redis")]

mod common;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use common::{PASSWORD, redis_conn, services};
use doorward::{Config, Doorward, ErrorCode, TokenPair};

const USERS: usize = 24;

struct Account {
    tokens: TokenPair,
    session_id: String,
    revoked: bool,
    /// Revoked before the kill: its tombstone was on a replica.
    before_kill: bool,
}

async fn cluster_url() -> Option<String> {
    let url = services::redis_url().await?;
    if services::is_cluster(&url) {
        return Some(url);
    }
    if std::env::var("DOORWARD_REQUIRE_CLUSTER").as_deref() == Ok("1") {
        panic!("DOORWARD_REQUIRE_CLUSTER=1 but DOORWARD_TEST_REDIS_URL names no cluster: {url}");
    }
    eprintln!("skipped: DOORWARD_TEST_REDIS_URL names no Redis Cluster");
    None
}

/// One failover at a time: each test kills a node.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The process id of the node on `port`.
async fn pid_of(port: u16) -> u32 {
    let mut node = redis::Client::open(format!("redis://127.0.0.1:{port}"))
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let info: String = redis::cmd("INFO")
        .arg("server")
        .query_async(&mut node)
        .await
        .unwrap();
    info.lines()
        .find_map(|l| l.strip_prefix("process_id:"))
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

/// The port of the replica of the primary on `primary_port`.
async fn replica_of(conn: &mut redis_conn::RedisConn, primary_port: u16) -> u16 {
    let nodes: String = redis::cmd("CLUSTER")
        .arg("NODES")
        .query_async(conn)
        .await
        .unwrap();
    let port_of = |fields: &[&str]| -> u16 {
        let address = fields[1].split('@').next().unwrap();
        address.rsplit_once(':').unwrap().1.parse().unwrap()
    };
    let lines: Vec<Vec<&str>> = nodes
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    let primary_id = lines
        .iter()
        .find(|f| port_of(f) == primary_port)
        .map(|f| f[0])
        .unwrap();
    lines
        .iter()
        .find(|f| f[2].contains("slave") && f[3] == primary_id)
        .map(|f| port_of(f))
        .expect("the primary has a replica")
}

fn signal(signal: &str, pid: u32) {
    let status = std::process::Command::new("kill")
        .args([signal, &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success(), "kill {signal} {pid}");
}

/// Puts a killed node back (it rejoins as a replica) and thaws a frozen
/// one when dropped, so that a failing test still leaves the next one a
/// whole cluster.
struct Revive {
    port: u16,
    frozen: Option<u32>,
}

impl Drop for Revive {
    fn drop(&mut self) {
        if let Some(pid) = self.frozen {
            let _ = std::process::Command::new("kill")
                .args(["-CONT", &pid.to_string()])
                .status();
        }
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/redis-cluster");
        let restarted = std::process::Command::new(script)
            .args(["restart-node", &self.port.to_string()])
            .status()
            .is_ok_and(|s| s.success());
        if !restarted && !std::thread::panicking() {
            panic!("scripts/redis-cluster restart-node {} failed", self.port);
        }
    }
}

/// Two instances on the cluster and a shared database.
async fn instances(url: &str, dir: &tempfile::TempDir) -> (Doorward, Doorward, String) {
    let db = match services::postgres_url().await {
        Some(url) => url,
        None => format!("sqlite://{}", dir.path().join("shared.db").display()),
    };
    let prefix = format!("dwfail:{}:", uuid::Uuid::new_v4().simple());
    let config = Config {
        redis_url: Some(url.to_string()),
        redis_prefix: prefix.clone(),
        redis_timeout_ms: 300,
        ..common::config(&db)
    };
    let a = Doorward::open(config.clone()).await.unwrap();
    let b = Doorward::open(config).await.unwrap();
    (a, b, prefix)
}

/// The port of the primary serving `key`, and its process id.
async fn primary_of(conn: &mut redis_conn::RedisConn, key: &str) -> (u16, u32) {
    let slot: u16 = redis::cmd("CLUSTER")
        .arg("KEYSLOT")
        .arg(key)
        .query_async(conn)
        .await
        .unwrap();
    let nodes: String = redis::cmd("CLUSTER")
        .arg("NODES")
        .query_async(conn)
        .await
        .unwrap();
    let port = nodes
        .lines()
        .filter(|line| line.contains("master") && !line.contains("fail"))
        .find_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let serves = fields[8..].iter().any(|range| {
                let (lo, hi) = range.split_once('-').unwrap_or((range, range));
                match (lo.parse::<u16>(), hi.parse::<u16>()) {
                    (Ok(lo), Ok(hi)) => (lo..=hi).contains(&slot),
                    _ => false,
                }
            });
            serves.then(|| {
                let address = fields[1].split('@').next().unwrap();
                address.rsplit_once(':').unwrap().1.parse::<u16>().unwrap()
            })
        })
        .expect("a primary serves the slot");
    (port, pid_of(port).await)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_primary_killed_mid_traffic_loses_no_acknowledged_session() {
    let Some(url) = cluster_url().await else {
        return;
    };
    let _serial = SERIAL.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let (a, b, prefix) = instances(&url, &dir).await;

    let mut accounts = Vec::new();
    for i in 0..USERS {
        let reg = a
            .auth()
            .register_user(
                &format!("fo{i}"),
                &format!("fo{i}@example.com"),
                PASSWORD,
                None,
            )
            .await
            .unwrap();
        let session_id = b
            .auth()
            .verify_token(&reg.tokens.access_token)
            .await
            .unwrap()
            .session_id;
        accounts.push(Account {
            tokens: reg.tokens,
            session_id,
            revoked: false,
            before_kill: false,
        });
    }
    // Half are revoked before the kill: their tombstones must survive it.
    for account in accounts.iter_mut().step_by(2) {
        a.auth().logout(&account.tokens.access_token).await.unwrap();
        account.revoked = true;
        account.before_kill = true;
    }

    let mut admin = redis_conn::connect(&url).await;
    let victim_key = format!("{prefix}session:{}", accounts[0].session_id);
    let (port, pid) = primary_of(&mut admin, &victim_key).await;
    let on_victim: HashSet<usize> = {
        let mut set = HashSet::new();
        for (i, account) in accounts.iter().enumerate() {
            let key = format!("{prefix}session:{}", account.session_id);
            if primary_of(&mut admin, &key).await.0 == port {
                set.insert(i);
            }
        }
        set
    };
    eprintln!(
        "killing the primary on port {port} (pid {pid}), which holds {} of {USERS} sessions",
        on_victim.len()
    );

    let killed_at = Instant::now();
    let _revive = Revive { port, frozen: None };
    signal("-KILL", pid);

    // Traffic through the failover: verify everything on both instances,
    // refresh the live sessions every third round, log one more out every
    // fifth.
    let mut failures = 0u64;
    let mut calls = 0u64;
    let mut stale = 0u64;
    let mut healed_at: Option<Duration> = None;
    let mut round = 0;
    while killed_at.elapsed() < Duration::from_secs(30) {
        round += 1;
        let mut healthy = true;
        for (i, account) in accounts.iter_mut().enumerate() {
            for (revoker, dw) in [(true, &a), (false, &b)] {
                let verified = dw.auth().verify_token(&account.tokens.access_token).await;
                calls += 1;
                match verified {
                    Ok(_) if account.revoked && (revoker || account.before_kill) => panic!(
                        "a session revoked {} was accepted by the {} instance",
                        if account.before_kill {
                            "before the kill"
                        } else {
                            "during the failover"
                        },
                        if revoker { "revoking" } else { "other" },
                    ),
                    // The other instance learns of a revocation made during
                    // the failover when the revoking one writes its
                    // tombstone again (at the latest 5 s after Redis heals).
                    Ok(_) if account.revoked => stale += 1,
                    Ok(_) => {}
                    Err(e) if e.code() == ErrorCode::StorageError => {
                        failures += 1;
                        healthy = false;
                    }
                    Err(e) if e.code() == ErrorCode::TokenRevoked && account.revoked => {}
                    Err(e) => panic!("verify failed with {:?}: {e}", e.code()),
                }
            }
            if account.revoked {
                let refreshed = b.auth().refresh_token(&account.tokens.refresh_token).await;
                calls += 1;
                assert!(refreshed.is_err(), "a revoked session was given tokens");
            } else if round % 3 == 0 {
                let refreshed = a.auth().refresh_token(&account.tokens.refresh_token).await;
                calls += 1;
                match refreshed {
                    Ok(pair) => account.tokens = pair,
                    Err(e) if e.code() == ErrorCode::StorageError => {
                        failures += 1;
                        healthy = false;
                    }
                    Err(e) => panic!("refresh failed with {:?}: {e}", e.code()),
                }
            } else if round % 5 == 0 && i == round % USERS {
                calls += 1;
                match a.auth().logout(&account.tokens.access_token).await {
                    Ok(()) => account.revoked = true,
                    Err(e) if e.code() == ErrorCode::StorageError => failures += 1,
                    Err(e) => panic!("logout failed with {:?}: {e}", e.code()),
                }
            }
        }
        if healthy && failures > 0 && healed_at.is_none() {
            healed_at = Some(killed_at.elapsed());
        }
        if let Some(at) = healed_at
            && killed_at.elapsed() > at + Duration::from_secs(6)
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let healed = healed_at.expect("no failure seen, or the cluster did not heal within 30 s");
    eprintln!(
        "failover: every call answered again {:.1} s after the kill; {failures} of {calls} calls failed with storage_error meanwhile; {stale} checks by the other instance passed a session revoked during the failover before its tombstone was written again",
        healed.as_secs_f64()
    );

    // After the failover, and with the revoking instance's tombstones
    // replayed: every acknowledged session verifies and refreshes on both
    // instances, every revoked one is refused by both.
    for account in &mut accounts {
        for dw in [&a, &b] {
            let verified = dw.auth().verify_token(&account.tokens.access_token).await;
            if account.revoked {
                assert_eq!(
                    verified.err().map(|e| e.code()),
                    Some(ErrorCode::TokenRevoked)
                );
            } else {
                verified.unwrap();
            }
        }
        let refreshed = b.auth().refresh_token(&account.tokens.refresh_token).await;
        if account.revoked {
            assert!(refreshed.is_err());
        } else {
            account.tokens = refreshed.unwrap();
        }
    }
    let revoked_on_victim = accounts
        .iter()
        .enumerate()
        .filter(|(i, acc)| acc.revoked && on_victim.contains(i))
        .count();
    eprintln!(
        "{revoked_on_victim} revoked sessions lived on the killed primary; all still refused"
    );
}

/// The loss a failover can cause, forced: the primary's replica is frozen
/// (`SIGSTOP`), so a revocation's tombstone reaches the primary only; then
/// the primary dies and the frozen replica, which still holds the session
/// as live, is promoted. Without `WAIT` the revocation would count as
/// written and be lost, and both instances would accept the session until
/// it expired; with it, the revocation is kept, refused by the revoking
/// instance meanwhile, and written again once the cluster heals.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revocation_a_failover_would_lose_is_written_again() {
    let Some(url) = cluster_url().await else {
        return;
    };
    let _serial = SERIAL.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let (a, b, prefix) = instances(&url, &dir).await;
    let reg = a
        .auth()
        .register_user("lag", "lag@example.com", PASSWORD, None)
        .await
        .unwrap();
    let token = reg.tokens.access_token;
    let session_id = b.auth().verify_token(&token).await.unwrap().session_id;

    let mut admin = redis_conn::connect(&url).await;
    let key = format!("{prefix}session:{session_id}");
    let (primary, primary_pid) = primary_of(&mut admin, &key).await;
    let replica = replica_of(&mut admin, primary).await;
    let replica_pid = pid_of(replica).await;

    let _revive = Revive {
        port: primary,
        frozen: Some(replica_pid),
    };
    signal("-STOP", replica_pid);
    a.auth().logout(&token).await.unwrap();
    signal("-KILL", primary_pid);
    signal("-CONT", replica_pid);
    let killed_at = Instant::now();

    assert_eq!(
        a.auth().verify_token(&token).await.err().map(|e| e.code()),
        Some(ErrorCode::TokenRevoked),
        "the revoking instance keeps refusing the session"
    );
    // Once the replica is promoted and the tombstone written again, the
    // other instance refuses it too.
    let mut refused_at = None;
    while killed_at.elapsed() < Duration::from_secs(30) {
        match b.auth().verify_token(&token).await {
            Err(e) if e.code() == ErrorCode::TokenRevoked => {
                refused_at = Some(killed_at.elapsed());
                break;
            }
            Err(e) if e.code() == ErrorCode::StorageError => {}
            Err(e) => panic!("verify failed with {:?}: {e}", e.code()),
            Ok(_) => {}
        }
        assert_eq!(
            a.auth().verify_token(&token).await.err().map(|e| e.code()),
            Some(ErrorCode::TokenRevoked)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let refused_at =
        refused_at.expect("the other instance still accepts the revoked session after 30 s");
    eprintln!(
        "a revocation the failover lost was written again and refused everywhere {:.1} s after the kill",
        refused_at.as_secs_f64()
    );
}

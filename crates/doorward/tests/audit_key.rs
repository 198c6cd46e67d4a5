//! The keyed audit chain: someone who can write to the database but does
//! not hold `audit_key` cannot rewrite history and recompute the chain.
#![cfg(any(feature = "sqlite", feature = "postgres"))]

mod common;

use common::PASSWORD;
use doorward::{Config, Doorward};
use sha2::{Digest, Sha256};

const AUDIT_KEY: &str = "an audit key of at least thirty-two bytes";

fn keyed(url: &str) -> Config {
    Config {
        audit_key: Some(AUDIT_KEY.into()),
        events_dispatch: false,
        events_lease_secs: 1,
        ..common::config(url)
    }
}

/// An audit row as stored: seq, event_id, event_type, occurred_at (µs),
/// actor, subject, ip, user_agent, outcome, details.
#[allow(clippy::type_complexity)]
type Row = (
    i64,
    String,
    String,
    i64,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
    String,
);

/// What someone with write access does: edit a row, then recompute every
/// hash as an unkeyed SHA-256 chain (or with `prefix`, a keyed-looking one
/// under a key of their own). Returns `(seq, prev_hash, hash)` to store.
fn forge(rows: &[Row], mac_key: Option<&[u8]>) -> Vec<(i64, String, String)> {
    let mut prev = "0".repeat(64);
    let mut out = Vec::new();
    for r in rows {
        let fields = serde_json::json!([r.0, r.1, r.2, r.3, r.4, r.5, r.6, r.7, r.8, r.9]);
        let message = format!("{prev}\n{fields}");
        let hash = match mac_key {
            None => hex::encode(Sha256::digest(message.as_bytes())),
            Some(key) => {
                use hmac::Mac as _;
                let mut mac = hmac::Hmac::<Sha256>::new_from_slice(key).unwrap();
                mac.update(message.as_bytes());
                format!(
                    "hmac-sha256:0123456789abcdef:{}",
                    hex::encode(mac.finalize().into_bytes())
                )
            }
        };
        out.push((r.0, prev.clone(), hash.clone()));
        prev = hash;
    }
    out
}

const SELECT: &str = "SELECT seq, event_id, event_type, occurred_at, actor, subject, ip, \
     user_agent, outcome, details FROM audit_log ORDER BY seq";
const EDIT: &str = "UPDATE audit_log SET ip = '198.51.100.1' WHERE seq = 2";
const STORE: &str = "UPDATE audit_log SET prev_hash = $1, hash = $2 WHERE seq = $3";

/// Edit row 2 and recompute the chain over the whole table.
async fn rewrite(url: &str, mac_key: Option<&[u8]>) {
    use sqlx::Connection as _;
    #[cfg(feature = "sqlite")]
    if url.starts_with("sqlite:") {
        let mut conn = sqlx::SqliteConnection::connect(url).await.unwrap();
        sqlx::query(EDIT).execute(&mut conn).await.unwrap();
        let rows: Vec<Row> = sqlx::query_as(SELECT).fetch_all(&mut conn).await.unwrap();
        for (seq, prev, hash) in forge(&rows, mac_key) {
            let q = sqlx::query(STORE).bind(prev).bind(hash).bind(seq);
            q.execute(&mut conn).await.unwrap();
        }
    }
    #[cfg(feature = "postgres")]
    if url.starts_with("postgres") {
        let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
        sqlx::query(EDIT).execute(&mut conn).await.unwrap();
        let rows: Vec<Row> = sqlx::query_as(SELECT).fetch_all(&mut conn).await.unwrap();
        for (seq, prev, hash) in forge(&rows, mac_key) {
            let q = sqlx::query(STORE).bind(prev).bind(hash).bind(seq);
            q.execute(&mut conn).await.unwrap();
        }
    }
}

async fn sql_backends() -> Vec<String> {
    let mut urls = common::backends().await;
    urls.retain(|u| !u.starts_with("memory"));
    urls
}

#[tokio::test]
async fn a_rewritten_history_fails_verification_under_the_key() {
    for forger_key in [
        None,
        Some(b"the forger's own key, 32+ bytes long".as_slice()),
    ] {
        for url in sql_backends().await {
            let dw = Doorward::open(keyed(&url)).await.unwrap();
            let reg = dw
                .auth()
                .register_user("john", "john@example.com", PASSWORD, None)
                .await
                .unwrap();
            dw.users().disable(&reg.user.id).await.unwrap();
            dw.events().flush().await.unwrap();
            let before = dw.audit().verify().await.unwrap();
            assert!(before.ok && before.rows == 3, "{url}: {before:?}");
            assert!(before.head.starts_with("hmac-sha256:"), "{url}");

            // Without the key the chain cannot be checked, only refused.
            let keyless = Doorward::open(Config {
                events_dispatch: false,
                ..common::config(&url)
            })
            .await
            .unwrap();
            let unchecked = keyless.audit().verify().await.unwrap();
            assert_eq!((unchecked.ok, unchecked.first_bad_seq), (false, Some(1)));
            assert!(unchecked.problem.unwrap().contains("audit_key"), "{url}");

            rewrite(&url, forger_key).await;
            let after = dw.audit().verify().await.unwrap();
            assert!(!after.ok, "{url}: a recomputed chain passed: {after:?}");
            assert_eq!(after.first_bad_seq, Some(1), "{url}");
        }
    }
}

#[tokio::test]
async fn a_short_audit_key_is_a_config_error() {
    let result = Doorward::open(Config {
        audit_key: Some("too short".into()),
        ..common::config("memory://")
    })
    .await;
    assert_eq!(
        result.err().map(|e| e.code()),
        Some(doorward::ErrorCode::ConfigError)
    );
}

const NEW_KEY: &str = "the audit key that replaced the first one";

/// The id a chain names a key by.
fn kid(key: &str) -> String {
    use hmac::Mac as _;
    let mut mac = hmac::Hmac::<Sha256>::new_from_slice(key.as_bytes()).unwrap();
    mac.update(b"doorward audit key id");
    hex::encode(&mac.finalize().into_bytes()[..8])
}

/// A change of key is recorded where it happened: rows under the old key
/// verify with it among `audit_previous_keys`, and someone holding only
/// the old key cannot rewrite a row written after the change.
#[tokio::test]
async fn a_change_of_key_verifies_with_the_old_key_and_the_old_key_cannot_write_after_it() {
    for url in sql_backends().await {
        let first = Doorward::open(keyed(&url)).await.unwrap();
        first
            .auth()
            .register_user("ann", "ann@example.com", PASSWORD, None)
            .await
            .unwrap();
        first.events().flush().await.unwrap();
        drop(first);
        // The first instance's lease on the audit consumer runs out.
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        let rotated = |previous: Vec<&str>| Config {
            audit_key: Some(NEW_KEY.into()),
            audit_previous_keys: previous.into_iter().map(Into::into).collect(),
            events_dispatch: false,
            events_lease_secs: 1,
            ..common::config(&url)
        };
        let dw = Doorward::open(rotated(vec![AUDIT_KEY])).await.unwrap();
        dw.auth()
            .register_user("bob", "bob@example.com", PASSWORD, None)
            .await
            .unwrap();
        dw.events().flush().await.unwrap();
        let ok = dw.audit().verify().await.unwrap();
        assert!(ok.ok && ok.rows == 4, "{url}: {ok:?}");
        assert!(ok.head.contains(&kid(NEW_KEY)), "{url}");

        let forgetful = Doorward::open(rotated(vec![])).await.unwrap();
        let bad = forgetful.audit().verify().await.unwrap();
        assert_eq!((bad.ok, bad.first_bad_seq), (false, Some(1)), "{url}");

        // Someone with the old key rewrites the newest row under it.
        let rows = sql_rows(&url).await;
        let last = rows.last().unwrap().clone();
        let prev = ok_prev_hash(&dw, last.0).await;
        let fields = serde_json::json!([
            last.0, last.1, last.2, last.3, last.4, last.5, last.6, last.7, last.8, last.9
        ]);
        let hash = {
            use hmac::Mac as _;
            let mut mac = hmac::Hmac::<Sha256>::new_from_slice(AUDIT_KEY.as_bytes()).unwrap();
            mac.update(format!("{prev}\n{fields}").as_bytes());
            format!(
                "hmac-sha256:{}:{}",
                kid(AUDIT_KEY),
                hex::encode(mac.finalize().into_bytes())
            )
        };
        set_hash(&url, last.0, &hash).await;
        let forged = dw.audit().verify().await.unwrap();
        assert_eq!(
            (forged.ok, forged.first_bad_seq),
            (false, Some(last.0 as u64)),
            "{url}"
        );
        assert!(forged.problem.unwrap().contains("moved on"), "{url}");
    }
}

async fn ok_prev_hash(dw: &Doorward, seq: i64) -> String {
    let page = dw
        .audit()
        .list(&doorward::store::AuditFilter::default(), None, 100)
        .await
        .unwrap();
    page.items
        .iter()
        .find(|r| r.seq == seq as u64)
        .unwrap()
        .prev_hash
        .clone()
}

async fn sql_rows(url: &str) -> Vec<Row> {
    use sqlx::Connection as _;
    #[cfg(feature = "sqlite")]
    if url.starts_with("sqlite:") {
        let mut conn = sqlx::SqliteConnection::connect(url).await.unwrap();
        return sqlx::query_as(SELECT).fetch_all(&mut conn).await.unwrap();
    }
    #[cfg(feature = "postgres")]
    if url.starts_with("postgres") {
        let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
        return sqlx::query_as(SELECT).fetch_all(&mut conn).await.unwrap();
    }
    unreachable!("a SQL backend")
}

async fn set_hash(url: &str, seq: i64, hash: &str) {
    use sqlx::Connection as _;
    let sql = "UPDATE audit_log SET hash = $1 WHERE seq = $2";
    #[cfg(feature = "sqlite")]
    if url.starts_with("sqlite:") {
        let mut conn = sqlx::SqliteConnection::connect(url).await.unwrap();
        let q = sqlx::query(sql).bind(hash).bind(seq);
        q.execute(&mut conn).await.unwrap();
    }
    #[cfg(feature = "postgres")]
    if url.starts_with("postgres") {
        let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
        let q = sqlx::query(sql).bind(hash).bind(seq);
        q.execute(&mut conn).await.unwrap();
    }
}

//! Races that could undo a revocation, made to happen rather than hoped for:
//! a login whose argon2 work outlasts a disable or a password change from a
//! second instance, a rehash racing a password change, and refreshes whose
//! store write is held back (a SQLite write lock, a PostgreSQL row lock)
//! while the session ends or the user goes.

mod common;

use common::SignedIn as _;
use std::time::Duration;

use common::{ErrCode as _, PASSWORD, backends, config};
use doorward::{Config, Doorward, ErrorCode};

const NEW_PASSWORD: &str = "a different long passphrase";

/// The slow argon2 (64 MiB, 4 passes): a verify takes long enough
/// that a change from another instance lands inside it.
fn slow(url: &str) -> Config {
    Config {
        argon2_memory_kib: 65536,
        argon2_iterations: 4,
        ..config(url)
    }
}

/// Two instances on one database; on `memory://`, which one process
/// cannot share, `b` twice.
async fn pair(url: &str, a: Config, b: Config) -> (Doorward, Doorward) {
    let b = Doorward::open(b).await.unwrap();
    let a = if url.starts_with("memory") {
        b.clone()
    } else {
        Doorward::open(a).await.unwrap()
    };
    (a, b)
}

/// A login's outcome after a change that ends its sessions committed
/// during it: refused with `refused`, or a pair whose session is dead.
async fn assert_refused_or_dead(
    dw: &Doorward,
    outcome: doorward::Result<doorward::TokenPair>,
    refused: ErrorCode,
    url: &str,
) {
    match outcome {
        Err(e) => assert_eq!(e.code(), refused, "{url}"),
        Ok(pair) => {
            assert_eq!(
                dw.auth().verify_token(&pair.access_token).await.err_code(),
                ErrorCode::TokenRevoked,
                "{url}: the login outlived the change"
            );
            assert_eq!(
                dw.auth()
                    .refresh_token(&pair.refresh_token)
                    .await
                    .err_code(),
                ErrorCode::TokenRevoked,
                "{url}: the login's refresh token outlived the change"
            );
        }
    }
}

/// Start `login` on `b`, let it read the account and enter argon2, run
/// `change` on `a`, and check the change finished while the login was
/// still hashing: the race really happened.
async fn login_during<F, Fut>(
    b: &Doorward,
    login: &str,
    password: &str,
    change: F,
) -> doorward::Result<doorward::TokenPair>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let task = {
        let b = b.clone();
        let (login, password) = (login.to_string(), password.to_string());
        tokio::spawn(async move { b.auth().login(&login, &password, None).await.signed_in() })
    };
    tokio::time::sleep(Duration::from_millis(30)).await;
    change().await;
    if task.is_finished() {
        panic!(
            "the login finished before the change, argon2 too fast to race here: {:?}",
            task.await.unwrap()
        );
    }
    task.await.unwrap()
}

/// `a` cheap, `b` with the slow parameters; the account registered through
/// `b`, so its stored hash is the slow one and every login verify is long.
async fn racing_pair(url: &str) -> (Doorward, Doorward, doorward::User) {
    let (a, b) = pair(url, config(url), slow(url)).await;
    let user = b
        .auth()
        .register_user("racer", "racer@example.com", PASSWORD, None)
        .await
        .unwrap()
        .user;
    (a, b, user)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_login_in_flight_does_not_survive_a_disable() {
    for url in backends().await {
        let (a, b, user) = racing_pair(&url).await;
        let outcome = login_during(&b, "racer", PASSWORD, || async {
            a.users().disable(&user.id).await.unwrap();
        })
        .await;
        assert_refused_or_dead(&a, outcome, ErrorCode::UserDisabled, &url).await;
        assert!(
            a.sessions().list(&user.id).await.unwrap().is_empty(),
            "{url}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_login_in_flight_does_not_survive_a_password_change() {
    for url in backends().await {
        if url.starts_with("memory") {
            // One instance, one set of parameters: setting the password
            // hashes as long as the login verifies, so it cannot land
            // inside it. The store check covers memory.
            continue;
        }
        let (a, b, user) = racing_pair(&url).await;
        let outcome = login_during(&b, "racer", PASSWORD, || async {
            a.users()
                .set_password(&user.id, NEW_PASSWORD)
                .await
                .unwrap();
        })
        .await;
        assert_refused_or_dead(&a, outcome, ErrorCode::InvalidCredentials, &url).await;
        assert!(
            a.sessions().list(&user.id).await.unwrap().is_empty(),
            "{url}"
        );
        a.auth()
            .login("racer", NEW_PASSWORD, None)
            .await
            .signed_in()
            .unwrap();
    }
}

/// B logs in with the old password under dearer parameters, so it rehashes;
/// A sets a new password while B's rehash runs. A's password must stay.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_rehash_never_puts_an_old_password_back() {
    for url in backends().await {
        if url.starts_with("memory") {
            continue; // one process, one set of parameters: nothing to rehash
        }
        let (a, b) = pair(&url, config(&url), slow(&url)).await;
        let user = a
            .auth()
            .register_user("racer", "racer@example.com", PASSWORD, None)
            .await
            .unwrap()
            .user;
        let outcome = login_during(&b, "racer", PASSWORD, || async {
            a.users()
                .set_password(&user.id, NEW_PASSWORD)
                .await
                .unwrap();
        })
        .await;
        assert_refused_or_dead(&a, outcome, ErrorCode::InvalidCredentials, &url).await;
        a.auth()
            .login("racer", NEW_PASSWORD, None)
            .await
            .signed_in()
            .unwrap();
        assert_eq!(
            a.auth()
                .login("racer", PASSWORD, None)
                .await
                .signed_in()
                .err_code(),
            ErrorCode::InvalidCredentials,
            "{url}: the old password came back"
        );
    }
}

/// Refreshes held back at their write while the session ends or the user
/// goes: needs a second connection, so a SQL backend.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod held {
    use super::*;

    /// A plain connection to the store's database, beside the instance's own
    /// pool, to hold its next write back and change rows meanwhile.
    enum Raw {
        #[cfg(feature = "sqlite")]
        Sqlite(sqlx::SqliteConnection),
        #[cfg(feature = "postgres")]
        Postgres(sqlx::PgConnection),
    }

    impl Raw {
        /// None for `memory://`, which has no second connection.
        async fn connect(url: &str) -> Option<Raw> {
            use sqlx::Connection as _;
            let _ = url;
            #[cfg(feature = "sqlite")]
            if url.starts_with("sqlite:") {
                return Some(Raw::Sqlite(
                    sqlx::SqliteConnection::connect(url).await.unwrap(),
                ));
            }
            #[cfg(feature = "postgres")]
            if url.starts_with("postgres") {
                return Some(Raw::Postgres(
                    sqlx::PgConnection::connect(url).await.unwrap(),
                ));
            }
            None
        }

        /// One statement with one text argument (`$1`), in each dialect.
        async fn exec(&mut self, sqlite: &str, postgres: &str, arg: &str) {
            match self {
                #[cfg(feature = "sqlite")]
                Raw::Sqlite(conn) => {
                    let _ = postgres;
                    sqlx::query(sqlite).bind(arg).execute(conn).await.unwrap();
                }
                #[cfg(feature = "postgres")]
                Raw::Postgres(conn) => {
                    let _ = sqlite;
                    sqlx::query(postgres).bind(arg).execute(conn).await.unwrap();
                }
            }
        }

        /// Begin a transaction that holds back the store's next write: SQLite's
        /// write lock, or a PostgreSQL row lock (`pg_lock`, over `arg`).
        async fn hold(&mut self, pg_lock: &str, arg: &str) {
            self.exec("BEGIN IMMEDIATE", "BEGIN", "").await;
            #[cfg(feature = "postgres")]
            if let Raw::Postgres(conn) = self {
                sqlx::query(pg_lock).bind(arg).execute(conn).await.unwrap();
            }
            let _ = (pg_lock, arg);
        }
    }

    /// An instance with one registered account, and a second connection
    /// to its database; None on `memory://`.
    async fn registered(url: &str) -> Option<(Doorward, Raw, doorward::Registration)> {
        let dw = Doorward::open(config(url)).await.unwrap();
        let raw = Raw::connect(url).await?;
        let reg = dw
            .auth()
            .register_user("racer", "racer@example.com", PASSWORD, None)
            .await
            .unwrap();
        Some((dw, raw, reg))
    }

    /// Start a refresh, wait until it is held back at its write, run `change`
    /// in the holding transaction and commit it; the refresh's outcome.
    async fn refresh_held_back(
        dw: &Doorward,
        raw: &mut Raw,
        token: &str,
        (pg_lock, lock_arg): (&str, &str),
        (sqlite, postgres, arg): (&str, &str, &str),
    ) -> doorward::Result<doorward::TokenPair> {
        raw.hold(pg_lock, lock_arg).await;
        let task = {
            let (dw, token) = (dw.clone(), token.to_string());
            tokio::spawn(async move { dw.auth().refresh_token(&token).await })
        };
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(!task.is_finished(), "the refresh was not held back");
        raw.exec(sqlite, postgres, arg).await;
        raw.exec("COMMIT", "COMMIT", "").await;
        task.await.unwrap()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn a_refresh_racing_a_logout_hands_out_nothing() {
        for url in backends().await {
            let Some((dw, mut raw, reg)) = registered(&url).await else {
                continue;
            };
            let sid = dw
                .auth()
                .verify_token(&reg.tokens.access_token)
                .await
                .unwrap()
                .session_id;
            // Both schemas keep times as BIGINT microseconds.
            let logout =
                "UPDATE sessions SET revoked_at = 1, revoked_reason = 'logout' WHERE id = $1";
            let outcome = refresh_held_back(
                &dw,
                &mut raw,
                &reg.tokens.refresh_token,
                ("SELECT 1 FROM sessions WHERE id = $1 FOR UPDATE", &sid),
                (logout, logout, &sid),
            )
            .await;
            assert_eq!(outcome.err_code(), ErrorCode::TokenRevoked, "{url}");
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn a_refresh_whose_user_is_deleted_meanwhile_is_revoked_not_reused() {
        for url in backends().await {
            let Some((dw, mut raw, reg)) = registered(&url).await else {
                continue;
            };
            let id = reg.user.id.as_str();
            let delete = "DELETE FROM users WHERE id = $1";
            let outcome = refresh_held_back(
                &dw,
                &mut raw,
                &reg.tokens.refresh_token,
                ("SELECT 1 FROM users WHERE id = $1 FOR UPDATE", id),
                (delete, delete, id),
            )
            .await;
            assert_eq!(
                outcome.err_code(),
                ErrorCode::TokenRevoked,
                "{url}: a deleted user is no theft"
            );
        }
    }

    /// A store failure after the rotation committed would leave the client
    /// without its new token and its old one spent: a retry would be taken
    /// for theft. Everything that can fail comes before the commit.
    #[tokio::test]
    async fn a_failed_refresh_can_be_retried() {
        for url in backends().await {
            let Some((dw, mut raw, reg)) = registered(&url).await else {
                continue;
            };
            let away = "ALTER TABLE user_roles RENAME TO user_roles_away";
            raw.exec(away, away, "").await;
            assert_eq!(
                dw.auth()
                    .refresh_token(&reg.tokens.refresh_token)
                    .await
                    .err_code(),
                ErrorCode::StorageError,
                "{url}"
            );
            let back = "ALTER TABLE user_roles_away RENAME TO user_roles";
            raw.exec(back, back, "").await;
            let pair = dw
                .auth()
                .refresh_token(&reg.tokens.refresh_token)
                .await
                .unwrap();
            dw.auth().verify_token(&pair.access_token).await.unwrap();
        }
    }
}

/// A password change proven with the old password, whose argon2 work
/// outlasts an administrator setting another password from a second
/// instance, must not overwrite it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_proven_password_change_does_not_overwrite_one_made_meanwhile() {
    for url in backends().await {
        if url.starts_with("memory") {
            continue; // one set of parameters: see the login race above
        }
        let (a, b, user) = racing_pair(&url).await;
        let task = {
            let (b, id) = (b.clone(), user.id.clone());
            tokio::spawn(async move {
                b.users()
                    .change_password(&id, PASSWORD, "the changer's passphrase", None)
                    .await
            })
        };
        tokio::time::sleep(Duration::from_millis(30)).await;
        a.users()
            .set_password(&user.id, NEW_PASSWORD)
            .await
            .unwrap();
        assert!(!task.is_finished(), "the change finished before the set");
        assert_eq!(
            task.await.unwrap().err_code(),
            ErrorCode::InvalidCredentials,
            "{url}"
        );
        a.auth()
            .login("racer", NEW_PASSWORD, None)
            .await
            .signed_in()
            .unwrap();
    }
}

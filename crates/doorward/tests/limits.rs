//! Login and registration throttling, lockout, and host rate limits, on the
//! embedded backends (the Redis variants are in `redis.rs`).

mod common;

use common::SignedIn as _;
use std::time::Duration;

use common::{ErrCode, PASSWORD};
use doorward::{ClientInfo, Config, Doorward, ErrorCode, Quota};

async fn open_with(tweak: impl Fn(&mut Config)) -> Doorward {
    let mut config = common::config("memory://");
    tweak(&mut config);
    Doorward::open(config).await.unwrap()
}

fn from(ip: &str) -> Option<ClientInfo> {
    Some(ClientInfo {
        ip: Some(ip.into()),
        user_agent: None,
    })
}

#[tokio::test]
async fn login_is_throttled_per_account_before_any_hashing() {
    let dw = open_with(|c| {
        c.rate_limit_login_account = "3/1m".into();
        c.lockout_threshold = 0;
    })
    .await;
    dw.auth()
        .register_user("ann", "ann@example.com", PASSWORD, None)
        .await
        .unwrap();
    for attempt in ["ann", "ANN", " ann "] {
        assert_eq!(
            dw.auth()
                .login(attempt, "wrong password!", None)
                .await
                .signed_in()
                .err_code(),
            ErrorCode::InvalidCredentials
        );
    }
    let hashes = dw.hash_operations();
    // Name spellings share one limit; even the right password waits.
    let err = dw
        .auth()
        .login("Ann", PASSWORD, None)
        .await
        .signed_in()
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::RateLimited);
    let retry = err.retry_after().unwrap();
    assert!(
        retry > Duration::from_secs(15) && retry <= Duration::from_secs(20),
        "{retry:?}"
    );
    assert_eq!(dw.hash_operations(), hashes, "refused before argon2");
    // Unknown names are limited alike, and other accounts are untouched.
    for _ in 0..3 {
        dw.auth()
            .login("nobody", "wrong password!", None)
            .await
            .signed_in()
            .ok();
    }
    assert_eq!(
        dw.auth()
            .login("nobody", "wrong password!", None)
            .await
            .signed_in()
            .err_code(),
        ErrorCode::RateLimited
    );
    dw.auth()
        .register_user("bob", "bob@example.com", PASSWORD, None)
        .await
        .unwrap();
    dw.auth()
        .login("bob", PASSWORD, None)
        .await
        .signed_in()
        .unwrap();
}

#[tokio::test]
async fn login_and_registration_are_throttled_per_address() {
    let dw = open_with(|c| {
        c.rate_limit_login_ip = "2/1h".into();
        c.rate_limit_register_ip = "2/1h".into();
    })
    .await;
    for name in ["cyd", "dee"] {
        dw.auth()
            .register_user(
                name,
                &format!("{name}@example.com"),
                PASSWORD,
                from("10.0.0.1"),
            )
            .await
            .unwrap();
    }
    let err = dw
        .auth()
        .register_user("eve", "eve@example.com", PASSWORD, from("10.0.0.1"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::RateLimited);
    assert!(err.retry_after().unwrap() > Duration::from_secs(1700));
    // Nothing was written for the refused registration.
    assert_eq!(
        dw.users().get_by_username("eve").await.err_code(),
        ErrorCode::NotFound
    );
    // Another address, or none, is not affected.
    dw.auth()
        .register_user("eve", "eve@example.com", PASSWORD, from("10.0.0.2"))
        .await
        .unwrap();
    dw.auth()
        .login("cyd", PASSWORD, from("10.0.0.9"))
        .await
        .signed_in()
        .unwrap();
    dw.auth()
        .login("dee", PASSWORD, from("10.0.0.9"))
        .await
        .signed_in()
        .unwrap();
    assert_eq!(
        dw.auth()
            .login("eve", PASSWORD, from("10.0.0.9"))
            .await
            .signed_in()
            .err_code(),
        ErrorCode::RateLimited
    );
    dw.auth()
        .login("eve", PASSWORD, None)
        .await
        .signed_in()
        .unwrap();
}

#[tokio::test]
async fn repeated_failures_lock_the_account_with_a_growing_delay() {
    let dw = open_with(|c| {
        c.rate_limit_login_account = "off".into();
        c.lockout_threshold = 3;
        c.lockout_base_delay = 60;
        c.lockout_max_delay = 600;
    })
    .await;
    let reg = dw
        .auth()
        .register_user("fay", "fay@example.com", PASSWORD, None)
        .await
        .unwrap();
    let id = reg.user.id;
    for _ in 0..3 {
        assert_eq!(
            dw.auth()
                .login("fay", "wrong password!", None)
                .await
                .signed_in()
                .err_code(),
            ErrorCode::InvalidCredentials
        );
    }
    // Visible to administrators.
    let user = dw.users().get(&id).await.unwrap();
    assert_eq!(user.failed_logins, 3);
    let locked_until = user.locked_until.expect("locked");
    let first_lock = locked_until - chrono::Utc::now();
    assert!(
        first_lock > chrono::Duration::seconds(55) && first_lock <= chrono::Duration::seconds(60)
    );
    // Locked: even the right password is refused, without argon2 work.
    let hashes = dw.hash_operations();
    let err = dw
        .auth()
        .login("fay", PASSWORD, None)
        .await
        .signed_in()
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::AccountLocked);
    assert!(err.retry_after().unwrap() > Duration::from_secs(55));
    assert_eq!(dw.hash_operations(), hashes);

    // An administrator unlocks; the next failures lock again, and each
    // failure past the threshold doubles the delay.
    assert!(dw.users().unlock(&id).await.unwrap());
    assert!(
        !dw.users().unlock(&id).await.unwrap(),
        "nothing left to clear"
    );
    assert_eq!(dw.users().get(&id).await.unwrap().locked_until, None);
    dw.auth()
        .login("fay", PASSWORD, None)
        .await
        .signed_in()
        .unwrap();
    assert_eq!(dw.users().get(&id).await.unwrap().failed_logins, 0);
}

#[tokio::test]
async fn lock_delay_doubles_with_each_failure_past_the_threshold() {
    let dw = open_with(|c| {
        c.rate_limit_login_account = "off".into();
        c.lockout_threshold = 2;
        c.lockout_base_delay = 1;
        c.lockout_max_delay = 3600;
    })
    .await;
    let reg = dw
        .auth()
        .register_user("gus", "gus@example.com", PASSWORD, None)
        .await
        .unwrap();
    let locked_for = || async {
        let user = dw.users().get(&reg.user.id).await.unwrap();
        let until = user.locked_until.expect("locked");
        (
            user.failed_logins,
            (until - chrono::Utc::now()).num_milliseconds(),
        )
    };
    for _ in 0..2 {
        dw.auth()
            .login("gus", "wrong password!", None)
            .await
            .signed_in()
            .ok();
    }
    let (failures, ms) = locked_for().await;
    assert_eq!(failures, 2);
    assert!(ms > 0 && ms <= 1000, "{ms}");
    // While locked, attempts are refused and not counted.
    assert_eq!(
        dw.auth()
            .login("gus", "wrong password!", None)
            .await
            .signed_in()
            .err_code(),
        ErrorCode::AccountLocked
    );
    // Once the lock runs out, the next failure locks for twice as long.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(
        dw.auth()
            .login("gus", "wrong password!", None)
            .await
            .signed_in()
            .err_code(),
        ErrorCode::InvalidCredentials
    );
    let (failures, ms) = locked_for().await;
    assert_eq!(failures, 3);
    assert!(ms > 1000 && ms <= 2000, "{ms}");
}

#[tokio::test]
async fn host_limits_are_namespaced_and_validated() {
    let dw = open_with(|c| c.rate_limit_login_account = "1/1h".into()).await;
    let quota: Quota = "1/1h".parse().unwrap();
    // A host key that looks like a built-in one does not touch it.
    dw.limits()
        .limit("login:account:hal", &quota)
        .await
        .unwrap();
    dw.auth()
        .register_user("hal", "hal@example.com", PASSWORD, None)
        .await
        .unwrap();
    dw.auth()
        .login("hal", PASSWORD, None)
        .await
        .signed_in()
        .unwrap();
    assert_eq!(
        dw.limits().limit("", &quota).await.err_code(),
        ErrorCode::ValidationError
    );
    assert_eq!(
        dw.limits().limit(&"k".repeat(513), &quota).await.err_code(),
        ErrorCode::ValidationError
    );
}

#[tokio::test]
async fn bad_quota_settings_are_refused_at_open() {
    for (key, value) in [
        ("rate_limit_login_account", "ten per minute"),
        ("rate_limit_login_ip", "0/1m"),
        ("rate_limit_register_ip", "5/2d"),
    ] {
        let config = common::config("memory://")
            .with_overrides([(key, value.to_string())])
            .unwrap();
        assert_eq!(
            Doorward::open(config).await.err_code(),
            ErrorCode::ConfigError,
            "{key} = {value}"
        );
    }
}

#[tokio::test]
async fn per_address_limits_group_ipv6_networks_and_unmap_ipv4() {
    let dw = open_with(|c| {
        c.rate_limit_login_ip = "2/1h".into();
        c.rate_limit_login_account = "off".into();
        c.rate_limit_register_ip = "1/1h".into();
    })
    .await;
    dw.auth()
        .register_user("ivy", "ivy@example.com", PASSWORD, from("2001:db8::a"))
        .await
        .unwrap();
    // One /64 is one client, however many addresses it rotates through.
    assert_eq!(
        dw.auth()
            .register_user("jim", "jim@example.com", PASSWORD, from("2001:db8::b"))
            .await
            .err_code(),
        ErrorCode::RateLimited
    );
    let login = |ip: &'static str| {
        let dw = dw.clone();
        async move { dw.auth().login("ivy", PASSWORD, from(ip)).await.signed_in() }
    };
    login("2001:db8::1").await.unwrap();
    login("2001:db8::2").await.unwrap();
    assert_eq!(
        login("2001:db8::3").await.err_code(),
        ErrorCode::RateLimited
    );
    // Other spellings of that network share its limit.
    for ip in ["2001:DB8::4", "2001:0db8:0000:0000::5", " 2001:db8::6 "] {
        assert_eq!(login(ip).await.err_code(), ErrorCode::RateLimited, "{ip}");
    }
    // Another /64 has a limit of its own.
    login("2001:db8:0:1::1").await.unwrap();
    // An IPv4-mapped IPv6 address is that IPv4 address.
    login("::ffff:10.0.0.1").await.unwrap();
    login("10.0.0.1").await.unwrap();
    assert_eq!(
        login("::FFFF:10.0.0.1").await.err_code(),
        ErrorCode::RateLimited
    );
    // A zone (`%eth0`) is not part of the client.
    login("fe80::1%eth0").await.unwrap();
    login("fe80::2%eth1").await.unwrap();
    assert_eq!(login("FE80::3").await.err_code(), ErrorCode::RateLimited);
}

#[tokio::test]
async fn the_ipv6_prefix_is_configurable() {
    let dw = open_with(|c| {
        c.rate_limit_login_ip = "2/1h".into();
        c.rate_limit_ipv6_prefix = 128;
    })
    .await;
    dw.auth()
        .register_user("kim", "kim@example.com", PASSWORD, None)
        .await
        .unwrap();
    // Each address is a client of its own.
    for ip in ["2001:db8::1", "2001:db8::2", "2001:db8::3"] {
        dw.auth()
            .login("kim", PASSWORD, from(ip))
            .await
            .signed_in()
            .unwrap();
    }
    let dw = open_with(|c| {
        c.rate_limit_login_ip = "2/1h".into();
        c.rate_limit_ipv6_prefix = 48;
    })
    .await;
    dw.auth()
        .register_user("kim", "kim@example.com", PASSWORD, None)
        .await
        .unwrap();
    for ip in ["2001:db8:0:1::1", "2001:db8:0:2::1"] {
        dw.auth()
            .login("kim", PASSWORD, from(ip))
            .await
            .signed_in()
            .unwrap();
    }
    assert_eq!(
        dw.auth()
            .login("kim", PASSWORD, from("2001:db8:0:3::1"))
            .await
            .signed_in()
            .err_code(),
        ErrorCode::RateLimited
    );
    for bad in ["0", "129", "-1", "x"] {
        let err = common::config("memory://")
            .with_overrides([("rate_limit_ipv6_prefix", bad.to_string())])
            .map(Doorward::open);
        let code = match err {
            Ok(open) => open.await.err_code(),
            Err(e) => e.code(),
        };
        assert_eq!(code, ErrorCode::ConfigError, "{bad}");
    }
}

/// Failures from one address lock that address out of the account, not
/// the owner logging in from another; the whole account locks only far
/// above, and then not for a client that has logged in before.
#[tokio::test]
async fn failures_from_one_address_do_not_lock_the_owner_out_elsewhere() {
    for url in common::backends().await {
        let dw = Doorward::open(Config {
            rate_limit_login_account: "off".into(),
            lockout_threshold: 3,
            lockout_account_threshold: 7,
            ..common::config(&url)
        })
        .await
        .unwrap();
        let reg = dw
            .auth()
            .register_user("ivy", "ivy@example.com", PASSWORD, from("198.51.100.7"))
            .await
            .unwrap();
        for _ in 0..3 {
            assert_eq!(
                dw.auth()
                    .login("ivy", "wrong password!", from("203.0.113.1"))
                    .await
                    .signed_in()
                    .err_code(),
                ErrorCode::InvalidCredentials,
                "{url}"
            );
        }
        // The guessing address is locked out, even with the right password.
        assert_eq!(
            dw.auth()
                .login("ivy", PASSWORD, from("203.0.113.1"))
                .await
                .signed_in()
                .err_code(),
            ErrorCode::AccountLocked,
            "{url}"
        );
        // The owner, from another address, is not.
        dw.auth()
            .login("ivy", PASSWORD, from("203.0.113.2"))
            .await
            .signed_in()
            .unwrap();
        // Failures from many addresses add up to the account's lock ...
        for n in 10..17 {
            dw.auth()
                .login("ivy", "wrong password!", from(&format!("192.0.2.{n}")))
                .await
                .signed_in()
                .ok();
        }
        assert!(
            dw.users()
                .get(&reg.user.id)
                .await
                .unwrap()
                .locked_until
                .is_some()
        );
        assert_eq!(
            dw.auth()
                .login("ivy", PASSWORD, from("192.0.2.99"))
                .await
                .signed_in()
                .err_code(),
            ErrorCode::AccountLocked,
            "{url}: a new address waits out the account's lock"
        );
        // ... which a client that has logged in before gets through.
        dw.auth()
            .login("ivy", PASSWORD, from("198.51.100.7"))
            .await
            .signed_in()
            .unwrap();
        dw.auth()
            .login("ivy", PASSWORD, from("203.0.113.2"))
            .await
            .signed_in()
            .unwrap();
        // An administrator's unlock clears the addresses' locks too.
        dw.users().unlock(&reg.user.id).await.unwrap();
        dw.auth()
            .login("ivy", PASSWORD, from("203.0.113.1"))
            .await
            .signed_in()
            .unwrap();
    }
}

/// The per-account limit counts the account, however it is named.
#[tokio::test]
async fn username_and_email_share_the_account_limit() {
    let dw = open_with(|c| {
        c.rate_limit_login_account = "2/1h".into();
        c.lockout_threshold = 0;
    })
    .await;
    dw.auth()
        .register_user("jay", "jay@example.com", PASSWORD, None)
        .await
        .unwrap();
    for login in ["jay", "JAY@example.com"] {
        assert_eq!(
            dw.auth()
                .login(login, "wrong password!", from("203.0.113.5"))
                .await
                .signed_in()
                .err_code(),
            ErrorCode::InvalidCredentials
        );
    }
    assert_eq!(
        dw.auth()
            .login("jay", PASSWORD, from("203.0.113.5"))
            .await
            .signed_in()
            .err_code(),
        ErrorCode::RateLimited
    );
}

/// Proving the old password to change it is throttled and counted like a
/// login: a stolen session cannot guess it at leisure.
#[tokio::test]
async fn the_old_password_check_is_counted_like_a_login() {
    let dw = open_with(|c| {
        c.rate_limit_login_account = "off".into();
        c.lockout_threshold = 3;
    })
    .await;
    let reg = dw
        .auth()
        .register_user("kim", "kim@example.com", PASSWORD, None)
        .await
        .unwrap();
    let id = reg.user.id;
    for _ in 0..3 {
        assert_eq!(
            dw.users()
                .change_password(&id, "wrong password!", "a new long passphrase", None)
                .await
                .err_code(),
            ErrorCode::InvalidCredentials
        );
    }
    let hashes = dw.hash_operations();
    assert_eq!(
        dw.users()
            .change_password(&id, PASSWORD, "a new long passphrase", None)
            .await
            .err_code(),
        ErrorCode::AccountLocked
    );
    assert_eq!(dw.hash_operations(), hashes, "refused before argon2");
}

//! Webhooks cannot be pointed into the server's own network: non-public
//! addresses are refused when a webhook is added, and again when a
//! delivery (or `webhooks().test`) connects, so DNS answers that change
//! after `add` and webhooks stored earlier are caught as well.
//! `webhook_allow_private` lets a developer's loopback receiver through.
#![cfg(all(feature = "sqlite", feature = "webhooks"))]

mod common;

use common::receiver::receiver;
use doorward::events::EventType;
use doorward::{Config, Doorward, Error};

fn config(database_url: &str) -> Config {
    Config {
        events_poll_interval_ms: 20,
        events_retry_base_ms: 10,
        events_retry_max_secs: 1,
        ..common::config(database_url)
    }
}

fn allowing_private(config: Config) -> Config {
    Config {
        webhook_allow_private: true,
        ..config
    }
}

/// Each kind of address that reaches this host or its network, written
/// the ways a URL can write it.
const REFUSED: &[(&str, &str)] = &[
    ("loopback", "http://127.0.0.1:8080/hook"),
    ("loopback, elsewhere in 127/8", "http://127.1.2.3/hook"),
    ("loopback as a decimal number", "http://2130706433/hook"),
    ("loopback in hex", "http://0x7f000001/hook"),
    ("loopback, short form", "http://127.1/hook"),
    ("RFC 1918 10/8", "http://10.0.0.1/hook"),
    ("RFC 1918 172.16/12", "http://172.16.0.1/hook"),
    ("RFC 1918 172.16/12, top", "https://172.31.255.254/hook"),
    ("RFC 1918 192.168/16", "http://192.168.1.1/hook"),
    (
        "link-local: cloud metadata",
        "http://169.254.169.254/latest/meta-data/",
    ),
    ("unspecified", "http://0.0.0.0:22/"),
    ("this network 0/8", "http://0.1.2.3/"),
    ("CGNAT 100.64/10", "http://100.64.0.1/hook"),
    ("CGNAT 100.64/10, top", "http://100.127.255.254/hook"),
    ("multicast", "http://224.0.0.1/hook"),
    ("broadcast", "http://255.255.255.255/hook"),
    ("reserved 240/4", "http://240.0.0.1/hook"),
    ("benchmarking 198.18/15", "http://198.18.0.1/hook"),
    ("IPv6 loopback", "http://[::1]:8080/hook"),
    ("IPv6 unspecified", "http://[::]/hook"),
    ("IPv6 unique local", "http://[fc00::1]/hook"),
    ("IPv6 unique local fd00::/8", "http://[fd12:3456::1]/hook"),
    ("IPv6 link-local", "http://[fe80::1]/hook"),
    ("IPv6 multicast", "http://[ff02::1]/hook"),
    ("IPv4-mapped loopback", "http://[::ffff:127.0.0.1]/hook"),
    (
        "IPv4-mapped metadata",
        "http://[::ffff:169.254.169.254]/hook",
    ),
    ("IPv4-mapped private", "http://[::ffff:10.0.0.1]/hook"),
    ("IPv4-compatible loopback", "http://[::127.0.0.1]/hook"),
    (
        "NAT64 of a private address",
        "http://[64:ff9b::10.0.0.1]/hook",
    ),
    ("6to4 of loopback", "http://[2002:7f00:1::1]/hook"),
    ("IPv6 documentation", "http://[2001:db8::1]/hook"),
    ("localhost by name", "http://localhost:3000/hook"),
    (
        "localhost, upper case and a final dot",
        "http://LOCALHOST./hook",
    ),
    ("a .localhost name", "http://api.localhost/hook"),
];

#[tokio::test]
async fn private_and_local_targets_are_refused_at_add() {
    let dw = Doorward::open(config("memory://")).await.unwrap();
    for (what, url) in REFUSED {
        match dw.webhooks().add(url, &[]).await {
            Err(Error::Validation { field, .. }) => assert_eq!(field, "url", "{what}"),
            other => panic!("{what} ({url}): {other:?}"),
        }
    }
    assert!(dw.webhooks().list().await.unwrap().is_empty());
}

/// Public addresses and names are accepted. Names are not resolved at
/// `add` (the answer could change before any delivery); each delivery
/// checks the address it connects to instead.
#[tokio::test]
async fn public_targets_are_accepted_at_add() {
    let dw = Doorward::open(config("memory://")).await.unwrap();
    for url in [
        "http://93.184.216.34/hook",
        "https://8.8.8.8/hook",
        "https://172.32.0.1/hook",
        "https://100.128.0.1/hook",
        "https://[2606:2800:220:1:248:1893:25c8:1946]/hook",
        "https://[::ffff:93.184.216.34]/hook",
        "https://[64:ff9b::93.184.216.34]/hook",
        "https://hooks.example.com/doorward",
        "https://localhost.example.com/hook",
    ] {
        let added = dw.webhooks().add(url, &[]).await;
        assert!(added.is_ok(), "{url}: {added:?}");
    }
}

/// With `webhook_allow_private`, a loopback receiver is accepted,
/// tested and delivered to.
#[tokio::test]
async fn allow_private_lets_a_loopback_receiver_through() {
    let dw = Doorward::open(allowing_private(config("memory://")))
        .await
        .unwrap();
    let (url, received) = receiver(vec![]).await;
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    let hook = dw.webhooks().add(&url, &[]).await.unwrap();
    dw.webhooks()
        .add("http://localhost:9/hook", &[])
        .await
        .unwrap();
    dw.webhooks().add("http://[::1]:9/hook", &[]).await.unwrap();
    let test = dw.webhooks().test(&hook.id).await.unwrap();
    assert!(test.ok, "{test:?}");
    dw.roles().create("editor", &["posts:*"], "").await.unwrap();
    common::flush_until(&dw, "the delivery", || {
        received.lock().unwrap().requests.len() == 2
    })
    .await;
}

/// Webhooks to loopback stored by an instance that allowed them (or
/// before this check existed) are not sent by one that does not: neither
/// through the queue, where they end dead-lettered, nor by `test`, which
/// would otherwise tell which local ports answer. `localhost` goes through
/// name resolution like any name whose DNS answer changed after `add`:
/// the resolver drops non-public addresses, so nothing is left to connect
/// to.
#[tokio::test]
async fn stored_private_targets_are_refused_at_delivery() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("hooks.db").display());
    let (url, received) = receiver(vec![]).await;
    let by_name = url.replace("127.0.0.1", "localhost");
    let hooks = {
        let lenient = Doorward::open(Config {
            events_dispatch: false,
            ..allowing_private(config(&db))
        })
        .await
        .unwrap();
        let mut hooks = Vec::new();
        for url in [&url, &by_name] {
            let hook = lenient
                .webhooks()
                .add(url, &[EventType::RoleCreated])
                .await
                .unwrap();
            hooks.push(hook);
        }
        hooks
    };
    let strict = Doorward::open(Config {
        events_dispatch: false,
        events_max_attempts: 1,
        ..config(&db)
    })
    .await
    .unwrap();
    for hook in &hooks {
        let test = strict.webhooks().test(&hook.id).await.unwrap();
        assert!(!test.ok, "{}: {test:?}", hook.url);
        assert_eq!(test.error.as_deref(), Some("address not allowed"));
    }
    strict
        .roles()
        .create("editor", &["posts:*"], "")
        .await
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let dead = loop {
        strict.events().flush().await.unwrap();
        let dead = strict.events().dead().await.unwrap();
        if dead.len() == 2 {
            break dead;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "dead-lettered: {dead:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    };
    for delivery in &dead {
        assert_eq!(delivery.last_error.as_deref(), Some("address not allowed"));
    }
    assert!(received.lock().unwrap().requests.is_empty());
}

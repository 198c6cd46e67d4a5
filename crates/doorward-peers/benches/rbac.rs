//! `cargo bench -p doorward-peers --bench rbac`: doorward's `can` beside
//! casbin-rs's `enforce`, in one run, on the same population: `users`
//! accounts (10, 10,000, 100,000) each holding three of 1,000 roles, each
//! role granting `res{r}:read` and `res{r}:write`. Each iteration asks
//! about the next account, a permission it holds (`hit`) or one it does
//! not (`miss`).
//!
//! Requests come from 64 of the accounts in turn (the ones active at that
//! moment, whose data stays in the CPU caches); the `cold` runs ask each
//! account of the population in turn instead, so each lookup starts in
//! DRAM, and `memory_floor` measures one such access alone.
//!
//! doorward answers from its permission cache (every account's set loaded
//! beforehand), sync (`can_sync`) and through the async `can`, with no
//! tracing subscriber and with an INFO one (telemetry off and on). casbin
//! uses the RBAC model of its documentation with the same roles as
//! policies and the same grants as groupings, in memory.

use casbin::prelude::*;
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use doorward::{Config, Doorward, ImportOptions, UserRow};
use tokio::runtime::Runtime;

const ROLES: usize = 1_000;

const CASBIN_MODEL: &str = "
[request_definition]
r = sub, obj, act

[policy_definition]
p = sub, obj, act

[role_definition]
g = _, _

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = g(r.sub, p.sub) && r.obj == p.obj && r.act == p.act
";

/// The three roles account `i` holds.
fn roles_of(i: usize) -> impl Iterator<Item = usize> {
    (0..3).map(move |k| (i * 7 + k * 331) % ROLES)
}

fn base() -> Config {
    Config {
        database_url: "memory://".into(),
        jwt_secret: Some("benchmark-secret-of-at-least-32-bytes".into()),
        ..Config::default()
    }
}

/// An instance holding `users` accounts, every account's permissions
/// cached; their ids in a shuffled order, with the index of each account.
fn populated(rt: &Runtime, users: usize) -> (Doorward, Vec<(String, usize)>) {
    rt.block_on(async {
        let dw = Doorward::open(Config {
            cache_max_entries: 2 * users as u64 + 1_000,
            ..base()
        })
        .await
        .unwrap();
        for r in 0..ROLES {
            let (read, write) = (format!("res{r}:read"), format!("res{r}:write"));
            dw.roles()
                .create(&format!("role{r}"), &[&read, &write], "")
                .await
                .unwrap();
        }
        let mut ids = Vec::with_capacity(users);
        for chunk in (0..users).collect::<Vec<_>>().chunks(5_000) {
            let rows = chunk
                .iter()
                .map(|&i| UserRow {
                    email: format!("user{i}@example.com"),
                    username: Some(format!("user{i}")),
                    roles: roles_of(i).map(|r| format!("role{r}")).collect(),
                    ..UserRow::default()
                })
                .collect();
            let report = dw
                .users()
                .import_users(rows, ImportOptions::default())
                .await
                .unwrap();
            assert!(report.failed.is_empty(), "{:?}", report.failed.first());
            ids.extend(
                report
                    .created
                    .into_iter()
                    .zip(chunk)
                    .map(|(u, &i)| (u.id, i)),
            );
        }
        for (id, _) in &ids {
            dw.auth().can(id, "res0:read").await.unwrap();
        }
        // A fixed shuffle: neighbours in the cycle are far apart in memory.
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        for i in (1..ids.len()).rev() {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            ids.swap(i, (state % (i as u64 + 1)) as usize);
        }
        (dw, ids)
    })
}

/// casbin's enforcer over the same roles and grants.
fn casbin(rt: &Runtime, users: usize) -> Enforcer {
    rt.block_on(async {
        let model = DefaultModel::from_str(CASBIN_MODEL).await.unwrap();
        let mut enforcer = Enforcer::new(model, MemoryAdapter::default())
            .await
            .unwrap();
        let policies = (0..ROLES)
            .flat_map(|r| {
                ["read", "write"].map(|act| vec![format!("role{r}"), format!("res{r}"), act.into()])
            })
            .collect();
        enforcer.add_policies(policies).await.unwrap();
        let groupings = (0..users)
            .flat_map(|i| roles_of(i).map(move |r| vec![format!("u{i}"), format!("role{r}")]))
            .collect();
        enforcer.add_grouping_policies(groupings).await.unwrap();
        enforcer
    })
}

/// A resource account `i` may write (`hit`) and one it may not (`miss`).
fn resources(i: usize) -> (usize, usize) {
    let held = roles_of(i).next().unwrap_or_default();
    let mut other = (held + 1) % ROLES;
    while roles_of(i).any(|r| r == other) {
        other = (other + 1) % ROLES;
    }
    (held, other)
}

/// The accounts of a request stream: the next of `asks` each time.
fn cycle<'a, T>(asks: &'a [T]) -> impl FnMut() -> &'a T + 'a {
    let mut i = 0;
    move || {
        i = (i + 1) % asks.len();
        &asks[i]
    }
}

/// What one access to memory the caches do not hold costs here: a chase
/// through a random cycle over `users` KiB-sized nodes, each step's address
/// read from the step before, as a lookup's chain of pointers is. A cold
/// `can` follows several such links (index slot, key, value, permission
/// table, permission text), so this bounds it from below.
fn memory_floor(users: usize) -> Vec<usize> {
    const STRIDE: usize = 128; // usizes per node: 1 KiB
    let mut order: Vec<usize> = (0..users).collect();
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    for i in (1..order.len()).rev() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        order.swap(i, (state % (i as u64 + 1)) as usize);
    }
    let mut nodes = vec![0usize; users * STRIDE];
    for w in 0..users {
        nodes[order[w] * STRIDE] = order[(w + 1) % users] * STRIDE;
    }
    nodes
}

fn can(c: &mut Criterion) {
    let rt = Runtime::new().unwrap();
    let single = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let mut group = c.benchmark_group("can");
    // `cargo test --bench rbac` runs each benchmark once, unoptimised, to
    // prove it works: the small population is enough for that.
    let populations: &[usize] = if std::env::args().any(|a| a == "--bench") {
        &[10, 10_000, 100_000]
    } else {
        &[10]
    };
    for &users in populations {
        let (dw, ids) = populated(&rt, users);
        // Each account's question, built beforehand: the loop times the check.
        let asks: Vec<(String, String, String, String)> = ids
            .iter()
            .map(|(id, i)| {
                let (hit, miss) = resources(*i);
                (
                    id.clone(),
                    format!("u{i}"),
                    format!("res{hit}"),
                    format!("res{miss}"),
                )
            })
            .collect();
        let doorward_asks: Vec<(&str, String, String)> = asks
            .iter()
            .map(|(id, _, hit, miss)| {
                (id.as_str(), format!("{hit}:write"), format!("{miss}:write"))
            })
            .collect();
        // The accounts active at one moment: a few dozen, whose data the
        // CPU caches hold, out of a population of `users`. The cold runs
        // ask each of all `users` in turn, so most lookups start in DRAM.
        let hot = &doorward_asks[..doorward_asks.len().min(64)];
        for (outcome, want) in [("hit", true), ("miss", false)] {
            let pick = |asks: &[(&str, String, String)]| -> Vec<(String, String)> {
                asks.iter()
                    .map(|(id, hit, miss)| (id.to_string(), if want { hit } else { miss }.clone()))
                    .collect()
            };
            let hot_asks = pick(hot);
            let cold_asks = pick(&doorward_asks);
            let mut next = cycle(&hot_asks);
            group.bench_function(
                BenchmarkId::new(format!("doorward_sync_{outcome}"), users),
                |b| {
                    b.iter(|| {
                        let (id, permission) = next();
                        assert_eq!(dw.auth().can_sync(id, permission).unwrap(), want);
                    })
                },
            );
            let subscriber = tracing_subscriber::fmt()
                .with_max_level(tracing::Level::INFO)
                .with_writer(std::io::sink)
                .finish();
            tracing::subscriber::with_default(subscriber, || {
                group.bench_function(
                    BenchmarkId::new(format!("doorward_sync_telemetry_on_{outcome}"), users),
                    |b| {
                        b.iter(|| {
                            let (id, permission) = next();
                            assert_eq!(dw.auth().can_sync(id, permission).unwrap(), want);
                        })
                    },
                );
                group.bench_function(
                    BenchmarkId::new(format!("doorward_async_telemetry_on_{outcome}"), users),
                    |b| {
                        b.iter(|| {
                            let (id, permission) = next();
                            assert_eq!(
                                single.block_on(dw.auth().can(id, permission)).unwrap(),
                                want
                            );
                        })
                    },
                );
            });
            let mut next_cold = cycle(&cold_asks);
            group.bench_function(
                BenchmarkId::new(format!("doorward_sync_cold_{outcome}"), users),
                |b| {
                    b.iter(|| {
                        let (id, permission) = next_cold();
                        assert_eq!(dw.auth().can_sync(id, permission).unwrap(), want);
                    })
                },
            );
        }
        drop(dw);
        let nodes = memory_floor(users);
        let mut at = 0;
        group.bench_function(BenchmarkId::new("memory_floor", users), |b| {
            b.iter(|| {
                at = nodes[at];
                at
            })
        });
        let enforcer = casbin(&rt, users);
        let casbin_hot = &asks[..asks.len().min(64)];
        for (outcome, want) in [("hit", true), ("miss", false)] {
            let mut next = cycle(casbin_hot);
            group.bench_function(BenchmarkId::new(format!("casbin_{outcome}"), users), |b| {
                b.iter(|| {
                    let (_, sub, hit, miss) = next();
                    let obj = if want { hit } else { miss };
                    assert_eq!(
                        enforcer
                            .enforce((sub.as_str(), obj.as_str(), "write"))
                            .unwrap(),
                        want
                    );
                })
            });
        }
    }
    group.finish();
}

criterion_group!(benches, can);
criterion_main!(benches);

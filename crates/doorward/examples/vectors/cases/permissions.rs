//! `can` over a role table with wildcards: 500 queries drawn by a seeded
//! generator over users holding no role, one, or several, plus malformed
//! permissions (an error, not a `false`).

use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng as _};
use serde_json::{Value, json};

use crate::{open, verdict, write};

const QUERIES: usize = 500;

fn roles() -> Value {
    json!([
        {"name": "owner", "permissions": ["*"]},
        {"name": "editor", "permissions": ["posts:*", "comments:write", "media.images:upload"]},
        {"name": "viewer", "permissions": ["posts:read", "comments:read"]},
        {"name": "auditor", "permissions": ["*:read", "audit:export"]},
        {"name": "billing", "permissions": ["invoices:read", "invoices:write", "payments:refund"]},
        {"name": "support", "permissions": ["users:read", "tickets:*", "users:reset-password"]},
        {"name": "ops", "permissions": ["servers:restart", "logs:read", "deploy_v2:run"]},
        {"name": "empty", "permissions": []},
    ])
}

/// Each user and the roles granted to them.
fn users() -> Vec<(&'static str, Vec<&'static str>)> {
    vec![
        ("root", vec!["owner"]),
        ("eddie", vec!["editor"]),
        ("vivian", vec!["viewer"]),
        ("audrey", vec!["auditor"]),
        ("bill", vec!["billing", "viewer"]),
        ("sue", vec!["support", "ops"]),
        ("mix", vec!["editor", "auditor", "billing"]),
        ("nobody", vec![]),
        ("hollow", vec!["empty"]),
    ]
}

const RESOURCES: &[&str] = &[
    "posts",
    "comments",
    "invoices",
    "payments",
    "users",
    "tickets",
    "servers",
    "logs",
    "audit",
    "media.images",
    "deploy_v2",
    "secrets",
    "Posts",
    "*",
];
const ACTIONS: &[&str] = &[
    "read",
    "write",
    "delete",
    "refund",
    "restart",
    "export",
    "upload",
    "run",
    "reset-password",
    "READ",
    "*",
];
/// Not permissions at all: `can` refuses them.
const MALFORMED: &[&str] = &[
    "",
    "posts",
    "posts:",
    ":read",
    "posts:read:extra",
    "po sts:read",
    "posts:re*d",
    "pö:read",
    "posts:read\0",
    "*:*:*",
];

pub async fn write_corpus() {
    let dw = open(&json!({})).await.unwrap();
    let table = roles();
    for role in table.as_array().unwrap() {
        let permissions: Vec<&str> = role["permissions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_str().unwrap())
            .collect();
        dw.roles()
            .create(role["name"].as_str().unwrap(), &permissions, "")
            .await
            .unwrap();
    }
    let mut ids = std::collections::HashMap::new();
    for (name, granted) in users() {
        let user = dw
            .users()
            .create(
                name,
                &format!("{name}@example.com"),
                "correct horse battery staple",
            )
            .await
            .unwrap();
        for role in granted {
            dw.roles().grant(&user.id, role).await.unwrap();
        }
        ids.insert(name, user.id);
    }

    let mut rng = StdRng::seed_from_u64(0x646f_6f72);
    let users = users();
    let mut out = Vec::new();
    let (mut allowed, mut refused, mut errors) = (0, 0, 0);
    for n in 0..QUERIES {
        let (user, _) = users[rng.gen_range(0..users.len())];
        let permission = if n % 25 == 0 {
            MALFORMED[(n / 25) % MALFORMED.len()].to_string()
        } else if n % 3 == 1 {
            // A permission of the table, its wildcards filled in: the
            // near misses and hits a random pair rarely gives.
            let role = &table[rng.gen_range(0..table.as_array().unwrap().len())];
            let granted = role["permissions"].as_array().unwrap();
            if granted.is_empty() {
                "posts:read".to_string()
            } else {
                let p = granted[rng.gen_range(0..granted.len())].as_str().unwrap();
                match p.split_once(':') {
                    None => format!(
                        "{}:{}",
                        RESOURCES[rng.gen_range(0..RESOURCES.len())],
                        ACTIONS[rng.gen_range(0..ACTIONS.len())]
                    ),
                    Some((r, a)) => format!(
                        "{}:{}",
                        if r == "*" {
                            RESOURCES[rng.gen_range(0..RESOURCES.len())]
                        } else {
                            r
                        },
                        if a == "*" {
                            ACTIONS[rng.gen_range(0..ACTIONS.len())]
                        } else {
                            a
                        }
                    ),
                }
            }
        } else {
            format!(
                "{}:{}",
                RESOURCES[rng.gen_range(0..RESOURCES.len())],
                ACTIONS[rng.gen_range(0..ACTIONS.len())]
            )
        };
        let result = dw.auth().can(&ids[user], &permission).await;
        let expect = match &result {
            Ok(true) => {
                allowed += 1;
                "true".to_string()
            }
            Ok(false) => {
                refused += 1;
                "false".to_string()
            }
            Err(_) => {
                errors += 1;
                verdict(&result)
            }
        };
        out.push(json!({
            "name": format!("can_{n:03}"),
            "user": user,
            "permission": permission,
            "expect": expect,
        }));
    }
    // A corpus of one answer would prove little.
    assert!(
        allowed > 100 && refused > 100 && errors >= MALFORMED.len(),
        "allowed {allowed}, refused {refused}, errors {errors}"
    );
    let users_json: Vec<Value> = users
        .iter()
        .map(|(name, roles)| json!({"username": name, "roles": roles}))
        .collect();
    write(
        "permissions",
        "can(user, permission) over a role table: open doorward with base_config, create the roles, create each user (email <username>@example.com, password \"correct horse battery staple\") and grant their roles; then for each case can(id of case.user, case.permission); expect is \"true\", \"false\" or the error code.",
        json!({"roles": table, "users": users_json, "cases": out}),
    );
}

//! The shared corpora of `tests/vectors/` through the Rust API: every case
//! must give the verdict recorded, as it must in the Python, Node and
//! Kotlin suites. A difference names the corpus and the case.
//! (`cargo run -p doorward --example vectors` writes the corpora.)

use std::collections::HashMap;

use doorward::password::{HashParams, Hasher, Verdict};
use doorward::{Config, Doorward};
use serde_json::Value;

fn corpus(name: &str) -> Value {
    let path = format!(
        "{}/../../tests/vectors/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

fn code<T>(result: &doorward::Result<T>) -> String {
    match result {
        Ok(_) => "ok".into(),
        Err(e) => e.code().as_str().into(),
    }
}

async fn open(doc: &Value, extra: &Value) -> doorward::Result<Doorward> {
    let mut config = doc["base_config"].clone();
    for (k, v) in extra.as_object().unwrap() {
        config[k] = v.clone();
    }
    Doorward::open(Config::from_json(config)?).await
}

fn cases(doc: &Value) -> &Vec<Value> {
    doc["cases"].as_array().unwrap()
}

/// Fails with every differing case named.
fn agree(corpus: &str, differences: Vec<String>, total: usize) {
    assert!(
        differences.is_empty(),
        "{} of {total} {corpus} vectors differ:\n{}",
        differences.len(),
        differences.join("\n")
    );
}

#[tokio::test]
async fn tokens() {
    let doc = corpus("tokens");
    let mut instances = HashMap::new();
    for (name, config) in doc["configs"].as_object().unwrap() {
        instances.insert(name.clone(), open(&doc, config).await.unwrap());
    }
    let mut differences = Vec::new();
    for case in cases(&doc) {
        let dw = &instances[case["config"].as_str().unwrap()];
        let result = dw
            .auth()
            .verify_token(case["token"].as_str().unwrap())
            .await;
        let got = code(&result);
        let mut same = got == case["expect"];
        if let Ok(principal) = &result {
            same &=
                principal.user_id == case["user_id"] && principal.session_id == case["session_id"];
        }
        if !same {
            differences.push(format!(
                "{}: expected {}, got {got}",
                case["name"], case["expect"]
            ));
        }
    }
    assert!(cases(&doc).len() >= 40);
    agree("tokens", differences, cases(&doc).len());
}

#[tokio::test]
async fn passwords() {
    let doc = corpus("passwords");
    let hasher = Hasher::new(
        HashParams {
            memory_kib: 64,
            iterations: 1,
            parallelism: 1,
        },
        1,
    )
    .unwrap();
    let mut differences = Vec::new();
    for case in cases(&doc) {
        let got = match hasher
            .verify(
                case["password"].as_str().unwrap(),
                case["hash"].as_str().unwrap(),
            )
            .await
        {
            Ok(Verdict::Valid | Verdict::ValidNeedsRehash) => "true".to_string(),
            Ok(Verdict::Invalid) => "false".to_string(),
            Err(e) => e.code().as_str().to_string(),
        };
        if got != case["expect"] {
            differences.push(format!(
                "{}: expected {}, got {got}",
                case["name"], case["expect"]
            ));
        }
        let dw = open(&doc, &doc["config"]).await.unwrap();
        let row = doorward::UserRow {
            email: "vector@example.com".into(),
            username: Some("vector".into()),
            password_hash: Some(case["hash"].as_str().unwrap().into()),
            ..Default::default()
        };
        let report = dw
            .users()
            .import_users(vec![row], doorward::ImportOptions::default())
            .await
            .unwrap();
        let login = match report.failed.first() {
            Some(failure) => failure.code.as_str().to_string(),
            None => code(
                &dw.auth()
                    .login("vector", case["password"].as_str().unwrap(), None)
                    .await,
            ),
        };
        if login != case["login"] {
            differences.push(format!(
                "{} (through an account): expected {}, got {login}",
                case["name"], case["login"]
            ));
        }
    }
    agree("passwords", differences, cases(&doc).len());
}

#[tokio::test]
async fn permissions() {
    let doc = corpus("permissions");
    let dw = open(&doc, &serde_json::json!({})).await.unwrap();
    for role in doc["roles"].as_array().unwrap() {
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
    let mut ids = HashMap::new();
    for user in doc["users"].as_array().unwrap() {
        let name = user["username"].as_str().unwrap();
        let created = dw
            .users()
            .create(
                name,
                &format!("{name}@example.com"),
                "correct horse battery staple",
            )
            .await
            .unwrap();
        for role in user["roles"].as_array().unwrap() {
            dw.roles()
                .grant(&created.id, role.as_str().unwrap())
                .await
                .unwrap();
        }
        ids.insert(name.to_string(), created.id);
    }
    let mut differences = Vec::new();
    for case in cases(&doc) {
        let result = dw
            .auth()
            .can(
                &ids[case["user"].as_str().unwrap()],
                case["permission"].as_str().unwrap(),
            )
            .await;
        let got = match &result {
            Ok(allowed) => allowed.to_string(),
            Err(_) => code(&result),
        };
        if got != case["expect"] {
            differences.push(format!(
                "{}: expected {}, got {got}",
                case["name"], case["expect"]
            ));
        }
    }
    assert_eq!(cases(&doc).len(), 500);
    agree("permissions", differences, cases(&doc).len());
}

#[tokio::test]
async fn validation() {
    let doc = corpus("validation");
    let mut differences = Vec::new();
    for case in cases(&doc) {
        let dw = open(&doc, &doc["config"]).await.unwrap();
        let got = code(
            &dw.auth()
                .register_user(
                    case["username"].as_str().unwrap(),
                    case["email"].as_str().unwrap(),
                    case["password"].as_str().unwrap(),
                    None,
                )
                .await,
        );
        if got != case["expect"] {
            differences.push(format!(
                "{}: expected {}, got {got}",
                case["name"], case["expect"]
            ));
        }
    }
    agree("validation", differences, cases(&doc).len());
}

#[tokio::test]
async fn config() {
    let doc = corpus("config");
    let mut differences = Vec::new();
    for case in cases(&doc) {
        let got = code(&open(&doc, &case["config"]).await);
        if got != case["expect"] {
            differences.push(format!(
                "{}: expected {}, got {got}",
                case["name"], case["expect"]
            ));
        }
    }
    agree("config", differences, cases(&doc).len());
}

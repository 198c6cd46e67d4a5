//! The seed corpus of the fuzz targets (`fuzz/corpus/<target>/`), taken
//! from the corpora just written plus a few inputs of the formats the
//! corpora do not hold (URLs, TOML, webhook headers).

use std::path::PathBuf;

use serde_json::Value;

fn corpus(name: &str) -> Value {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("../../tests/vectors/{name}.json"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn cases(doc: &Value) -> impl Iterator<Item = &Value> {
    doc["cases"].as_array().unwrap().iter()
}

fn write_target(target: &str, seeds: Vec<(String, Vec<u8>)>) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("../../fuzz/corpus/{target}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let count = seeds.len();
    for (name, bytes) in seeds {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
    println!("fuzz/corpus/{target}: {count} seeds");
}

fn named(doc: &Value, field: &str) -> Vec<(String, Vec<u8>)> {
    cases(doc)
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_string(),
                c[field].as_str().unwrap_or_default().as_bytes().to_vec(),
            )
        })
        .collect()
}

fn texts(items: &[&str]) -> Vec<(String, Vec<u8>)> {
    items
        .iter()
        .enumerate()
        .map(|(i, t)| (format!("seed_{i:02}"), t.as_bytes().to_vec()))
        .collect()
}

pub fn write() {
    write_target("token", named(&corpus("tokens"), "token"));
    write_target("phc", named(&corpus("passwords"), "hash"));

    let permissions = corpus("permissions");
    let grants: Vec<String> = permissions["roles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r["permissions"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p.as_str().unwrap())
                .collect::<Vec<_>>()
                .join("\n")
        })
        .collect();
    let seeds = cases(&permissions)
        .take(60)
        .enumerate()
        .map(|(i, c)| {
            let query = c["permission"].as_str().unwrap();
            (
                c["name"].as_str().unwrap().to_string(),
                format!("{query}\n{}", grants[i % grants.len()]).into_bytes(),
            )
        })
        .collect();
    write_target("permission", seeds);

    let mut config: Vec<(String, Vec<u8>)> = cases(&corpus("config"))
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_string(),
                c["config"].to_string().into_bytes(),
            )
        })
        .collect();
    config.extend(texts(&[
        "database_url = \"sqlite://doorward.db\"\njwt_secret = \"a-secret-of-at-least-32-bytes-long!!\"\naccess_ttl = 900\n",
        "redis_url = \"redis+cluster://:pw@h1:7000,h2:7001\"\nredis_wait_replicas = 1\n",
        "database_read_urls = [\"postgres://u:secret@replica/app\"]\n",
        "[oauth_providers.github]\nkind = \"github\"\nclient_id = \"id\"\nclient_secret = \"s3cret-value\"\n",
        "jwt_previous_keys = [{ kid = \"old\", algorithm = \"HS256\", secret = \"an-old-secret-of-32-bytes-or-more!!\" }]\n",
    ]));
    write_target("config", config);

    write_target(
        "url",
        texts(&[
            "postgres://user:pa55word@db.example.com:5432/app?sslmode=require",
            "redis://:secret@cache:6379/0",
            "redis+cluster://user:secret@h1:7000,h2:7001/?protocol=resp3",
            "smtps://mailer:secret@smtp.example.com:465",
            "http://o:pw@collector:4318/v1/traces",
            "sqlite:///var/lib/app/doorward.db",
            "2001:DB8::1",
            "[2001:db8::3%25eth0]:443",
            "::ffff:10.0.0.1",
            "10.0.0.1:8080",
        ]),
    );

    let validation = corpus("validation");
    let mut identity = Vec::new();
    for c in cases(&validation) {
        let name = c["name"].as_str().unwrap();
        for field in ["username", "email", "password"] {
            identity.push((
                format!("{name}_{field}"),
                c[field].as_str().unwrap().as_bytes().to_vec(),
            ));
        }
    }
    write_target("identity", identity);

    let signed = doorward::events::sign_webhook(
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "msg_1",
        1_700_000_000,
        r#"{"type":"user.registered","data":{"user_id":"u1"}}"#,
    )
    .unwrap();
    write_target(
        "webhook",
        texts(&[
            &format!("{signed}\n{{\"type\":\"user.registered\",\"data\":{{\"user_id\":\"u1\"}}}}"),
            &format!(
                "v1,bm90IGl0 {signed}\n{{\"type\":\"user.registered\",\"data\":{{\"user_id\":\"u1\"}}}}"
            ),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=\n{\"test\": 2432232314}",
            "v2,abc v1a,xyz\n{}",
        ]),
    );
}

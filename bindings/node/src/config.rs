//! A JavaScript configuration (an object with camelCase keys, or a TOML
//! file path) as the core's `Config`. The keys and their checks are the
//! core's; this only renames `accessTtl` to `access_ttl`.

use crate::error::to_js;

fn snake(key: &str) -> String {
    let mut out = String::with_capacity(key.len() + 4);
    for c in key.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// Object keys in snake_case, nested objects and lists included
/// (`jwtPreviousKeys: [{ publicKey }]`, `oauthProviders: [{ clientId }]`).
fn snake_keys(value: serde_json::Value) -> serde_json::Value {
    match value {
        serde_json::Value::Object(map) => map
            .into_iter()
            .filter(|(_, v)| !v.is_null())
            .map(|(k, v)| (snake(&k), snake_keys(v)))
            .collect::<serde_json::Map<_, _>>()
            .into(),
        serde_json::Value::Array(items) => items.into_iter().map(snake_keys).collect(),
        other => other,
    }
}

/// `config`: absent (the defaults), a TOML file path, or an object.
pub(crate) fn from_js(config: Option<serde_json::Value>) -> napi::Result<doorward::Config> {
    match config {
        None | Some(serde_json::Value::Null) => Ok(doorward::Config::default()),
        Some(serde_json::Value::String(path)) => doorward::Config::from_file(path).map_err(to_js),
        Some(value @ serde_json::Value::Object(_)) => {
            doorward::Config::from_json(snake_keys(value)).map_err(to_js)
        }
        Some(_) => Err(to_js(doorward::Error::Config(
            "the configuration must be an object or a TOML file path".into(),
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn camel_case_keys_become_snake_case_all_the_way_down() {
        let value = serde_json::json!({
            "databaseUrl": "memory://",
            "jwtPreviousKeys": [{ "kid": "a", "publicKey": "k" }],
            "redisUrl": null,
            "oauthProviders": [{
                "id": "corp",
                "clientId": "doorward",
                "clientSecret": "s",
                "storeProviderTokens": true,
                "apiUrl": null,
            }],
        });
        assert_eq!(
            snake_keys(value),
            serde_json::json!({
                "database_url": "memory://",
                "jwt_previous_keys": [{ "kid": "a", "public_key": "k" }],
                "oauth_providers": [{
                    "id": "corp",
                    "client_id": "doorward",
                    "client_secret": "s",
                    "store_provider_tokens": true,
                }],
            })
        );
    }
}

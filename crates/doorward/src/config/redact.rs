//! What [`Config`]'s `Debug` shows: every key, but never a secret. The
//! secret keys are `SecretString`s, and every URL-valued key goes through
//! [`redact_url`], since `postgres://app:pw@db/app` or
//! `redis://:pw@cache:6379` carry a password.

use std::borrow::Cow;
use std::fmt;

use super::Config;

/// What a redacted part of a URL is replaced with.
const REDACTED: &str = "[redacted]";

/// `url` with the password of its userinfo, and the value of every query
/// parameter whose name suggests a secret (`password`, `sslpassword`,
/// `token`, `secret`, `*key*`, `auth`, ...), replaced by `[redacted]`.
/// Text that is not `scheme://…` (`sqlite::memory:`, a path) comes back
/// unchanged.
///
/// When the URL is malformed (a password with a bare `/` or `@` in it),
/// it redacts too much rather than too little: everything from the first
/// `:` after `scheme://` to the last `@` before the host's path.
///
/// ```
/// use doorward::config::redact_url;
/// assert_eq!(
///     redact_url("postgres://app:s3cret@db:5432/app"),
///     "postgres://app:[redacted]@db:5432/app"
/// );
/// assert_eq!(redact_url("redis://:s3cret@cache:6379/0"), "redis://:[redacted]@cache:6379/0");
/// assert_eq!(
///     redact_url("postgres://db/app?user=me&password=s3cret"),
///     "postgres://db/app?user=me&password=[redacted]"
/// );
/// assert_eq!(redact_url("redis://cache:6379"), "redis://cache:6379");
/// assert_eq!(redact_url("sqlite::memory:"), "sqlite::memory:");
/// // A mistyped URL keeps nothing that precedes its `@`.
/// assert_eq!(redact_url("postgres//me:s3cret@db/app"), "[redacted]@db/app");
/// ```
pub fn redact_url(url: &str) -> Cow<'_, str> {
    let scheme_end = url.find("://").filter(|&end| {
        let scheme = &url[..end];
        !scheme.is_empty()
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    });
    let Some(scheme_end) = scheme_end else {
        // Not a URL this can read (a mistyped scheme, `postgres//u:pw@h`):
        // whatever comes before an `@` may be credentials, so it is hidden
        // whole.
        return match url.rfind('@') {
            Some(at) => Cow::Owned(format!("{REDACTED}{}", &url[at..])),
            None => Cow::Borrowed(url),
        };
    };
    let start = scheme_end + 3;
    let rest = &url[start..];
    let mut out = String::with_capacity(url.len());
    out.push_str(&url[..start]);
    // The userinfo ends at the last `@` before the first `/` that follows
    // the first `@`: a bare `@` or `/` in a password stays inside it.
    let after_host = match rest.find('@') {
        Some(first_at) => {
            let path = rest[first_at..]
                .find('/')
                .map_or(rest.len(), |i| first_at + i);
            let at = rest[..path].rfind('@').unwrap_or(first_at);
            let userinfo = &rest[..at];
            match userinfo.find(':') {
                Some(colon) => {
                    out.push_str(&userinfo[..=colon]);
                    out.push_str(REDACTED);
                }
                None => out.push_str(userinfo),
            }
            at
        }
        None => 0,
    };
    let tail = &rest[after_host..];
    match tail.find('?') {
        Some(q) => {
            out.push_str(&tail[..=q]);
            let (query, fragment) = match tail[q + 1..].find('#') {
                Some(h) => tail[q + 1..].split_at(h),
                None => (&tail[q + 1..], ""),
            };
            for (i, pair) in query.split('&').enumerate() {
                if i > 0 {
                    out.push('&');
                }
                match pair.split_once('=') {
                    Some((name, _)) if is_secret_name(name) => {
                        out.push_str(name);
                        out.push('=');
                        out.push_str(REDACTED);
                    }
                    _ => out.push_str(pair),
                }
            }
            out.push_str(fragment);
        }
        None => out.push_str(tail),
    }
    if out == url {
        Cow::Borrowed(url)
    } else {
        Cow::Owned(out)
    }
}

/// Whether a query parameter's name suggests its value is a secret.
fn is_secret_name(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    ["pass", "pwd", "secret", "token", "key", "credential", "sig"]
        .iter()
        .any(|part| name.contains(part))
        || name == "auth"
}

fn opt_url(value: &Option<String>) -> Option<Cow<'_, str>> {
    value.as_deref().map(redact_url)
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Destructured so that a key added later cannot be left out (or
        // shown unredacted) without this failing to compile.
        let Config {
            database_url,
            database_read_urls,
            database_max_connections,
            database_min_connections,
            database_acquire_timeout,
            redis_url,
            redis_prefix,
            redis_timeout_ms,
            redis_session_policy,
            redis_wait_replicas,
            cache_ttl,
            cache_max_entries,
            session_cache_ttl,
            rate_limit_login_account,
            rate_limit_login_ip,
            rate_limit_register_ip,
            rate_limit_ipv6_prefix,
            lockout_threshold,
            lockout_account_threshold,
            lockout_base_delay,
            lockout_max_delay,
            jwt_secret,
            jwt_algorithm,
            jwt_private_key,
            jwt_public_key,
            jwt_key_id,
            jwt_previous_keys,
            jwt_issuer,
            jwt_audience,
            access_ttl,
            refresh_ttl,
            refresh_reuse_grace,
            stateless_verify,
            password_min_length,
            argon2_memory_kib,
            argon2_iterations,
            argon2_parallelism,
            hash_concurrency,
            events_dispatch,
            events_poll_interval_ms,
            events_lease_secs,
            events_max_attempts,
            events_retry_base_ms,
            events_retry_max_secs,
            events_handler_timeout_ms,
            events_retention_secs,
            audit_key,
            audit_previous_keys,
            webhook_timeout_ms,
            webhook_allow_private,
            files_url,
            files_max_bytes,
            files_s3_region,
            files_s3_endpoint,
            files_s3_access_key_id,
            files_s3_secret_access_key,
            files_s3_allow_http,
            mail_url,
            mail_from,
            mail_username,
            mail_password,
            mail_timeout_ms,
            welcome_mail,
            welcome_subject,
            welcome_text,
            app_url,
            flow_key,
            flow_code_digits,
            flow_resend_cooldown,
            rate_limit_flow_address,
            rate_limit_flow_ip,
            verify_email_on_register,
            require_verified_email_for_login,
            sign_in_creates_users,
            unknown_address_mail,
            verify_email_ttl,
            verify_email_path,
            verify_email_subject,
            verify_email_text,
            reset_password_ttl,
            reset_password_path,
            reset_password_subject,
            reset_password_text,
            sign_in_ttl,
            sign_in_path,
            sign_in_subject,
            sign_in_text,
            change_email_ttl,
            change_email_path,
            change_email_subject,
            change_email_text,
            change_email_notice_subject,
            change_email_notice_text,
            unknown_address_subject,
            unknown_address_text,
            mfa_encryption_key,
            mfa_issuer,
            mfa_required_for_roles,
            mfa_login_ttl,
            fresh_auth_max_age,
            webauthn_rp_id,
            webauthn_rp_name,
            webauthn_origins,
            oauth_providers,
            otel_endpoint,
            otel_service_name,
            sources: _,
        } = self;
        let read_urls: Vec<Cow<'_, str>> = database_read_urls
            .iter()
            .map(String::as_str)
            .map(redact_url)
            .collect();
        f.debug_struct("Config")
            .field("database_url", &redact_url(database_url))
            .field("database_read_urls", &read_urls)
            .field("database_max_connections", database_max_connections)
            .field("database_min_connections", database_min_connections)
            .field("database_acquire_timeout", database_acquire_timeout)
            .field("redis_url", &opt_url(redis_url))
            .field("redis_prefix", redis_prefix)
            .field("redis_timeout_ms", redis_timeout_ms)
            .field("redis_session_policy", redis_session_policy)
            .field("redis_wait_replicas", redis_wait_replicas)
            .field("cache_ttl", cache_ttl)
            .field("cache_max_entries", cache_max_entries)
            .field("session_cache_ttl", session_cache_ttl)
            .field("rate_limit_login_account", rate_limit_login_account)
            .field("rate_limit_login_ip", rate_limit_login_ip)
            .field("rate_limit_register_ip", rate_limit_register_ip)
            .field("rate_limit_ipv6_prefix", rate_limit_ipv6_prefix)
            .field("lockout_threshold", lockout_threshold)
            .field("lockout_account_threshold", lockout_account_threshold)
            .field("lockout_base_delay", lockout_base_delay)
            .field("lockout_max_delay", lockout_max_delay)
            .field("jwt_secret", jwt_secret)
            .field("jwt_algorithm", jwt_algorithm)
            .field("jwt_private_key", jwt_private_key)
            .field("jwt_public_key", jwt_public_key)
            .field("jwt_key_id", jwt_key_id)
            .field("jwt_previous_keys", jwt_previous_keys)
            .field("jwt_issuer", jwt_issuer)
            .field("jwt_audience", jwt_audience)
            .field("access_ttl", access_ttl)
            .field("refresh_ttl", refresh_ttl)
            .field("refresh_reuse_grace", refresh_reuse_grace)
            .field("stateless_verify", stateless_verify)
            .field("password_min_length", password_min_length)
            .field("argon2_memory_kib", argon2_memory_kib)
            .field("argon2_iterations", argon2_iterations)
            .field("argon2_parallelism", argon2_parallelism)
            .field("hash_concurrency", hash_concurrency)
            .field("events_dispatch", events_dispatch)
            .field("events_poll_interval_ms", events_poll_interval_ms)
            .field("events_lease_secs", events_lease_secs)
            .field("events_max_attempts", events_max_attempts)
            .field("events_retry_base_ms", events_retry_base_ms)
            .field("events_retry_max_secs", events_retry_max_secs)
            .field("events_handler_timeout_ms", events_handler_timeout_ms)
            .field("events_retention_secs", events_retention_secs)
            .field("audit_key", audit_key)
            .field("audit_previous_keys", audit_previous_keys)
            .field("webhook_timeout_ms", webhook_timeout_ms)
            .field("webhook_allow_private", webhook_allow_private)
            .field("files_url", &opt_url(files_url))
            .field("files_max_bytes", files_max_bytes)
            .field("files_s3_region", files_s3_region)
            .field("files_s3_endpoint", &opt_url(files_s3_endpoint))
            .field("files_s3_access_key_id", files_s3_access_key_id)
            .field("files_s3_secret_access_key", files_s3_secret_access_key)
            .field("files_s3_allow_http", files_s3_allow_http)
            .field("mail_url", &opt_url(mail_url))
            .field("mail_from", mail_from)
            .field("mail_username", mail_username)
            .field("mail_password", mail_password)
            .field("mail_timeout_ms", mail_timeout_ms)
            .field("welcome_mail", welcome_mail)
            .field("welcome_subject", welcome_subject)
            .field("welcome_text", welcome_text)
            .field("app_url", app_url)
            .field("flow_key", flow_key)
            .field("flow_code_digits", flow_code_digits)
            .field("flow_resend_cooldown", flow_resend_cooldown)
            .field("rate_limit_flow_address", rate_limit_flow_address)
            .field("rate_limit_flow_ip", rate_limit_flow_ip)
            .field("verify_email_on_register", verify_email_on_register)
            .field(
                "require_verified_email_for_login",
                require_verified_email_for_login,
            )
            .field("sign_in_creates_users", sign_in_creates_users)
            .field("unknown_address_mail", unknown_address_mail)
            .field("verify_email_ttl", verify_email_ttl)
            .field("verify_email_path", verify_email_path)
            .field("verify_email_subject", verify_email_subject)
            .field("verify_email_text", verify_email_text)
            .field("reset_password_ttl", reset_password_ttl)
            .field("reset_password_path", reset_password_path)
            .field("reset_password_subject", reset_password_subject)
            .field("reset_password_text", reset_password_text)
            .field("sign_in_ttl", sign_in_ttl)
            .field("sign_in_path", sign_in_path)
            .field("sign_in_subject", sign_in_subject)
            .field("sign_in_text", sign_in_text)
            .field("change_email_ttl", change_email_ttl)
            .field("change_email_path", change_email_path)
            .field("change_email_subject", change_email_subject)
            .field("change_email_text", change_email_text)
            .field("change_email_notice_subject", change_email_notice_subject)
            .field("change_email_notice_text", change_email_notice_text)
            .field("unknown_address_subject", unknown_address_subject)
            .field("unknown_address_text", unknown_address_text)
            .field("mfa_encryption_key", mfa_encryption_key)
            .field("mfa_issuer", mfa_issuer)
            .field("mfa_required_for_roles", mfa_required_for_roles)
            .field("mfa_login_ttl", mfa_login_ttl)
            .field("fresh_auth_max_age", fresh_auth_max_age)
            .field("webauthn_rp_id", webauthn_rp_id)
            .field("webauthn_rp_name", webauthn_rp_name)
            .field("webauthn_origins", webauthn_origins)
            .field("oauth_providers", oauth_providers)
            .field("otel_endpoint", &opt_url(otel_endpoint))
            .field("otel_service_name", otel_service_name)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by the `url` fuzz target: a string whose scheme is not a
    /// plain scheme was returned whole, password and all.
    #[test]
    fn malformed_urls_lose_their_credentials() {
        for (url, shown) in [
            ("postgres//u:pw-123@h/db", "[redacted]@h/db"),
            ("postgres ://u:pw-123@h/db", "[redacted]@h/db"),
            ("::0.9tps://mailer:secret@s.1", "[redacted]@s.1"),
            (
                "redis:secret@ss://:pw@cache:6379/0",
                "[redacted]@cache:6379/0",
            ),
            ("no credentials here", "no credentials here"),
        ] {
            assert_eq!(redact_url(url), shown, "{url}");
            assert_eq!(redact_url(&redact_url(url)), shown, "{url}, twice");
        }
    }

    #[test]
    fn passwords_in_userinfo_are_redacted() {
        for (url, shown) in [
            ("postgres://u:pw@h/db", "postgres://u:[redacted]@h/db"),
            (
                "postgresql://u:pw@h:5432",
                "postgresql://u:[redacted]@h:5432",
            ),
            ("redis://:pw@h:6379/0", "redis://:[redacted]@h:6379/0"),
            ("rediss://user:pw@h", "rediss://user:[redacted]@h"),
            (
                "redis+cluster://:pw@h1:7000,h2:7001",
                "redis+cluster://:[redacted]@h1:7000,h2:7001",
            ),
            (
                "smtps://m:pw@smtp.example.com",
                "smtps://m:[redacted]@smtp.example.com",
            ),
            (
                "http://o:pw@collector:4318",
                "http://o:[redacted]@collector:4318",
            ),
            ("s3://k:pw@bucket", "s3://k:[redacted]@bucket"),
            // A bare `@`, `/` or `?` in the password stays hidden.
            ("redis://:p@ss@h/0", "redis://:[redacted]@h/0"),
            ("postgres://u:p/a@ss@h/db", "postgres://u:[redacted]@h/db"),
            ("postgres://u:p?ss@h/db", "postgres://u:[redacted]@h/db"),
            // `@` later in the URL does not widen it.
            (
                "postgres://u:pw@h/db?application_name=a@b",
                "postgres://u:[redacted]@h/db?application_name=a@b",
            ),
        ] {
            assert_eq!(redact_url(url), shown, "{url}");
        }
    }

    #[test]
    fn secret_query_parameters_are_redacted() {
        assert_eq!(
            redact_url("postgres://h/db?user=u&password=pw&sslmode=require"),
            "postgres://h/db?user=u&password=[redacted]&sslmode=require"
        );
        assert_eq!(
            redact_url("postgres://h/db?sslpassword=pw#frag"),
            "postgres://h/db?sslpassword=[redacted]#frag"
        );
        assert_eq!(
            redact_url("https://h/?X-Amz-Signature=abc&token=t"),
            "https://h/?X-Amz-Signature=[redacted]&token=[redacted]"
        );
    }

    #[test]
    fn what_holds_no_secret_is_unchanged() {
        for url in [
            "sqlite://doorward.db",
            "sqlite::memory:",
            "memory://",
            "file:///var/lib/files",
            "redis://user@h",
            "redis://h:6379/0",
            "postgres://h/db?user=u&sslmode=require",
            "not a url: at all, really",
            "",
        ] {
            assert!(matches!(redact_url(url), Cow::Borrowed(_)), "{url}");
        }
    }

    #[test]
    fn debug_hides_url_passwords_and_secrets() {
        let config = Config {
            database_url: "postgres://app:pw-1@db/app".into(),
            database_read_urls: vec!["postgres://r:pw-2@db2/app".into()],
            redis_url: Some("redis://:pw-3@cache".into()),
            files_url: Some("s3://k:pw-4@bucket".into()),
            files_s3_endpoint: Some("http://k:pw-5@minio".into()),
            mail_url: Some("smtp://m:pw-6@smtp".into()),
            otel_endpoint: Some("http://o:pw-7@otel".into()),
            jwt_secret: Some("pw-8-pw-8-pw-8-pw-8-pw-8-pw-8-pw-8".into()),
            mail_password: Some("pw-9".into()),
            ..Config::default()
        };
        let shown = format!("{config:?}");
        assert!(!shown.contains("pw-"), "{shown}");
        assert!(
            shown.contains("postgres://app:[redacted]@db/app"),
            "{shown}"
        );
        assert!(shown.contains("otel_service_name"), "{shown}");
    }
}

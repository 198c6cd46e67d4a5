//! `doorward demo`: the whole flow, narrated, on a fresh database.
//!
//! Every step checks its outcome as well as printing it: if the library ever
//! stopped detecting a replayed refresh token, the demo would fail (`internal`
//! error, exit 1) instead of cheerfully narrating a security hole.
//!
//! The database is a new temporary file unless `--database` names one; a
//! named database that already has users is refused, so the demo never mixes
//! its `john` into real data. For the same reason it uses a Redis only when
//! `--redis` names one. The password hashing is whatever the
//! configuration says, by default the real argon2id parameters.

use std::time::Instant;

use doorward::{Config, Doorward, Error, ErrorCode, Result};
use rand::RngCore as _;
use serde::Serialize;
use serde_json::{Value, json};

use super::Ctx;
use crate::args::DemoArgs;
use crate::output::{Output, time, token_prefix};

const USERNAME: &str = "john";
const EMAIL: &str = "john@example.com";
const PASSWORD: &str = "correct horse battery staple";
const STEPS: u32 = 8;

pub async fn run(ctx: &Ctx, args: DemoArgs) -> Result<()> {
    let started = Instant::now();
    let setup = Setup::new(ctx)?;
    let config = setup.config.clone();
    let dw = Doorward::open(config).await?;
    if !dw.users().list(None, 1).await?.items.is_empty() {
        return Err(Error::validation(
            "database",
            "already has users; the demo needs a fresh database (leave out --database to use a temporary one)",
        ));
    }
    setup.announce(ctx.out)?;

    let mut demo = Narrator {
        out: ctx.out,
        step: 0,
    };
    walk(&dw, &mut demo).await?;
    drop(dw);

    // A temporary directory not kept here is dropped, and the database with it.
    let kept = match setup.temp_dir {
        Some(dir) if args.keep => Some(dir.keep()),
        _ => None,
    };
    let elapsed_ms = started.elapsed().as_millis();
    ctx.out.json_line(&SummaryLine {
        event: "summary",
        steps: STEPS,
        ok: true,
        elapsed_ms,
        database: &setup.database_url,
        database_kept: setup.temporary.then_some(kept.is_some()),
    })?;
    ctx.out.human(|w| {
        writeln!(
            w,
            "Done: {STEPS} steps, every outcome as expected, in {:.1}s.",
            elapsed_ms as f64 / 1000.0
        )?;
        if setup.temporary {
            if kept.is_some() {
                writeln!(
                    w,
                    "The database is kept; look inside with: doorward --database {} user list",
                    setup.database_url
                )
            } else {
                writeln!(
                    w,
                    "The temporary database has been removed (--keep keeps it)."
                )
            }
        } else {
            writeln!(w, "The data stays in {}.", setup.database_url)
        }
    })
}

/// Where the demo runs and with which keys, decided before anything opens.
struct Setup {
    config: Config,
    database_url: String,
    temporary: bool,
    temp_dir: Option<tempfile::TempDir>,
    generated_secret: bool,
}

impl Setup {
    fn new(ctx: &Ctx) -> Result<Self> {
        let (database_url, temp_dir) = match &ctx.database {
            Some(url) => (url.clone(), None),
            None => temporary_database()?,
        };
        // Steps 7 and 8 show revocation taking effect at once; stateless
        // verification or a reuse grace window would (correctly) hide it.
        let mut config = ctx.base_config()?.with_overrides([
            ("database_url", database_url.clone()),
            ("stateless_verify", "false".to_string()),
            ("refresh_reuse_grace", "0".to_string()),
        ])?;
        // Like the database: a Redis only when --redis names one, never one
        // left in the environment or the file, which may be a deployment's.
        config.redis_url = ctx.redis.clone();
        let generated_secret = config.jwt_secret.is_none() && config.jwt_private_key.is_none();
        let config = if generated_secret {
            config.with_overrides([
                ("jwt_secret", random_secret()?),
                ("jwt_algorithm", "HS256".to_string()),
            ])?
        } else {
            config
        };
        Ok(Setup {
            config,
            database_url,
            temporary: temp_dir.is_some(),
            temp_dir,
            generated_secret,
        })
    }

    fn announce(&self, out: Output) -> Result<()> {
        let c = &self.config;
        let default = Config::default();
        let default_hashing = (
            c.argon2_memory_kib,
            c.argon2_iterations,
            c.argon2_parallelism,
        ) == (
            default.argon2_memory_kib,
            default.argon2_iterations,
            default.argon2_parallelism,
        );
        out.json_line(&SetupLine {
            event: "setup",
            database: &self.database_url,
            temporary: self.temporary,
            signing: json!({
                "algorithm": c.jwt_algorithm,
                "key": if self.generated_secret { "random secret generated for this run" } else { "from configuration" },
            }),
            argon2id: json!({
                "memory_kib": c.argon2_memory_kib,
                "iterations": c.argon2_iterations,
                "parallelism": c.argon2_parallelism,
                "defaults": default_hashing,
            }),
        })?;
        out.human(|w| {
            writeln!(
                w,
                "doorward demo: the whole flow on a fresh database, step by step"
            )?;
            writeln!(
                w,
                "  database  {}{}",
                self.database_url,
                if self.temporary {
                    " (new, temporary)"
                } else {
                    ""
                }
            )?;
            if self.generated_secret {
                writeln!(
                    w,
                    "  signing   HS256 with a random secret generated for this run (set jwt_secret to use yours)"
                )?;
            } else {
                writeln!(
                    w,
                    "  signing   {} with the keys from your configuration",
                    c.jwt_algorithm
                )?;
            }
            writeln!(
                w,
                "  hashing   argon2id, {} KiB, {} iterations, {} lane(s){}",
                c.argon2_memory_kib,
                c.argon2_iterations,
                c.argon2_parallelism,
                if default_hashing {
                    " (the defaults)"
                } else {
                    " (from your configuration)"
                }
            )?;
            writeln!(w)
        })
    }
}

fn temporary_database() -> Result<(String, Option<tempfile::TempDir>)> {
    if !cfg!(feature = "sqlite") {
        return Ok(("memory://".to_string(), None));
    }
    let dir = tempfile::Builder::new()
        .prefix("doorward-demo-")
        .tempdir()
        .map_err(|e| Error::Internal(format!("cannot create a temporary directory: {e}")))?;
    let path = dir.path().join("demo.db");
    let path = path.to_str().ok_or_else(|| {
        Error::Internal("the temporary directory's path is not valid UTF-8".into())
    })?;
    Ok((format!("sqlite://{path}"), Some(dir)))
}

/// 256 bits from the OS, hex-encoded: comfortably past HS256's 32-byte minimum.
fn random_secret() -> Result<String> {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng
        .try_fill_bytes(&mut bytes)
        .map_err(|e| Error::Internal(format!("no randomness for the demo secret: {e}")))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// One step as a JSON line; a struct rather than `json!` so the keys come
/// out in reading order (`event` and `step` first).
#[derive(Serialize)]
struct StepLine<'a> {
    event: &'static str,
    step: u32,
    name: &'a str,
    title: &'a str,
    explanation: &'a str,
    ok: bool,
    outcome: Value,
}

#[derive(Serialize)]
struct SetupLine<'a> {
    event: &'static str,
    database: &'a str,
    temporary: bool,
    signing: Value,
    argon2id: Value,
}

#[derive(Serialize)]
struct SummaryLine<'a> {
    event: &'static str,
    steps: u32,
    ok: bool,
    elapsed_ms: u128,
    database: &'a str,
    /// Only meaningful for the temporary database; `null` for `--database`.
    database_kept: Option<bool>,
}

/// Prints each step as a numbered paragraph, or as one JSON line.
struct Narrator {
    out: Output,
    step: u32,
}

impl Narrator {
    fn step(
        &mut self,
        name: &str,
        title: &str,
        why: &str,
        outcome: Value,
        said: &str,
    ) -> Result<()> {
        self.step += 1;
        let n = self.step;
        self.out.json_line(&StepLine {
            event: "step",
            step: n,
            name,
            title,
            explanation: why,
            ok: true,
            outcome,
        })?;
        self.out.human(|w| {
            writeln!(w, "{n}. {title}")?;
            writeln!(w, "   {why}")?;
            writeln!(w, "   → {said}")?;
            writeln!(w)
        })
    }
}

/// The error code `result` must fail with, or an `internal` error saying
/// what happened instead.
fn expect_error<T>(what: &str, result: Result<T>, expected: ErrorCode) -> Result<&'static str> {
    match result {
        Err(err) if err.code() == expected => Ok(expected.as_str()),
        Err(err) => Err(Error::Internal(format!(
            "demo: {what} should fail with {expected}, but failed with {}: {err}",
            err.code()
        ))),
        Ok(_) => Err(Error::Internal(format!(
            "demo: {what} should fail with {expected}, but succeeded"
        ))),
    }
}

fn expect(what: &str, actual: bool, expected: bool) -> Result<bool> {
    if actual == expected {
        Ok(actual)
    } else {
        Err(Error::Internal(format!(
            "demo: {what} should be {expected}, but is {actual}"
        )))
    }
}

async fn walk(dw: &Doorward, demo: &mut Narrator) -> Result<()> {
    let auth = dw.auth();

    // 1
    let reg = auth.register_user(USERNAME, EMAIL, PASSWORD, None).await?;
    let user_id = reg.user.id.clone();
    let roles = dw.roles().of_user(&user_id).await?;
    demo.step(
        "register",
        "Register john",
        "Validates the input, hashes the password with argon2id, stores the account with the default role `user` and logs it in.",
        json!({
            "user_id": user_id,
            "username": reg.user.username,
            "roles": roles,
            "tokens_issued": true,
            "access_token": token_prefix(&reg.tokens.access_token),
            "refresh_token": token_prefix(&reg.tokens.refresh_token),
        }),
        &format!(
            "user id {user_id} (roles: {}); tokens issued: access {}, refresh {}",
            roles.join(", "),
            token_prefix(&reg.tokens.access_token),
            token_prefix(&reg.tokens.refresh_token)
        ),
    )?;

    // 2
    let login = signed_in(auth.login(USERNAME, PASSWORD, None).await?)?;
    demo.step(
        "login",
        "Log in as john",
        "Checks the password against the stored hash and starts a new session: a fresh access token and refresh token.",
        json!({
            "access_token": token_prefix(&login.access_token),
            "refresh_token": token_prefix(&login.refresh_token),
            "expires_in": login.expires_in,
        }),
        &format!(
            "new pair: access {}, refresh {} (access token valid {}s)",
            token_prefix(&login.access_token),
            token_prefix(&login.refresh_token),
            login.expires_in
        ),
    )?;

    // 3
    let principal = auth.verify_token(&login.access_token).await?;
    demo.step(
        "verify",
        "Verify the access token",
        "What a server does on every request: signature, issuer, audience, expiry, and that the session is still live.",
        json!({ "principal": principal }),
        &format!(
            "{} (roles: {}), session {}, expires {}",
            principal.username,
            principal.roles.join(", "),
            principal.session_id,
            time(&principal.expires_at)
        ),
    )?;

    // 4
    let can_write = expect(
        "can(users:write) before the grant",
        auth.can(&principal.user_id, "users:write").await?,
        false,
    )?;
    let require_write = expect_error(
        "require(users:write) before the grant",
        auth.require(&principal.user_id, "users:write").await,
        ErrorCode::Forbidden,
    )?;
    let can_read = expect(
        "can(users:read)",
        auth.can(&principal.user_id, "users:read").await?,
        true,
    )?;
    auth.require(&principal.user_id, "users:read").await?;
    demo.step(
        "permissions",
        "Check permissions",
        "`can` answers yes or no from john's current roles; `require` turns a no into a `forbidden` error for the web layer.",
        json!({
            "checks": [
                { "permission": "users:write", "can": can_write, "require": require_write },
                { "permission": "users:read", "can": can_read, "require": "ok" },
            ]
        }),
        &format!(
            "users:write → {can_write} (require: {require_write}); users:read → {can_read} (require: ok)"
        ),
    )?;

    // 5
    dw.roles().grant(&user_id, "moderator").await?;
    let can_write = expect(
        "can(users:write) after granting moderator",
        auth.can(&user_id, "users:write").await?,
        true,
    )?;
    let roles = dw.roles().of_user(&user_id).await?;
    demo.step(
        "grant",
        "Grant john the moderator role",
        "Permissions are read at check time, so the grant counts at once, without a new token.",
        json!({ "granted": "moderator", "roles": roles, "can": { "users:write": can_write } }),
        &format!("roles now {}; users:write → {can_write}", roles.join(", ")),
    )?;

    // 6
    let rotated = auth.refresh_token(&login.refresh_token).await?;
    auth.verify_token(&rotated.access_token).await?;
    demo.step(
        "refresh",
        "Refresh",
        "Trades step 2's refresh token for a new pair in the same session; refresh tokens are single-use, so the old one is now spent.",
        json!({
            "access_token": token_prefix(&rotated.access_token),
            "refresh_token": token_prefix(&rotated.refresh_token),
            "new_access_token": "ok",
            "old_refresh_token": "spent",
        }),
        &format!(
            "new pair: access {}, refresh {}; the new access token verifies; step 2's refresh token is spent",
            token_prefix(&rotated.access_token),
            token_prefix(&rotated.refresh_token)
        ),
    )?;

    // 7
    let replay = expect_error(
        "replaying the spent refresh token",
        auth.refresh_token(&login.refresh_token).await,
        ErrorCode::TokenReused,
    )?;
    let newest_refresh = expect_error(
        "refreshing with step 6's refresh token after the replay",
        auth.refresh_token(&rotated.refresh_token).await,
        ErrorCode::TokenRevoked,
    )?;
    let newest_access = expect_error(
        "verifying step 6's access token after the replay",
        auth.verify_token(&rotated.access_token).await,
        ErrorCode::TokenRevoked,
    )?;
    // Only the replayed family ends: the session from registration is another.
    auth.verify_token(&reg.tokens.access_token).await?;
    demo.step(
        "reuse",
        "Replay the old refresh token",
        "A spent refresh token coming back means it leaked or was stolen: doorward refuses it and revokes its whole session (the token family), so the thief's copy and the victim's both stop working.",
        json!({
            "old_refresh_token": replay,
            "family_revoked": true,
            "newest_refresh_token": newest_refresh,
            "newest_access_token": newest_access,
            "other_session_access_token": "ok",
        }),
        &format!(
            "old refresh token → {replay}; family revoked: step 6's refresh token → {newest_refresh}, its access token → {newest_access}; the session from step 1 is unaffected"
        ),
    )?;

    // 8
    let again = signed_in(auth.login(USERNAME, PASSWORD, None).await?)?;
    let session = auth.verify_token(&again.access_token).await?.session_id;
    auth.logout(&again.access_token).await?;
    let after_logout = expect_error(
        "verifying an access token after logout",
        auth.verify_token(&again.access_token).await,
        ErrorCode::TokenRevoked,
    )?;
    demo.step(
        "logout",
        "Log in again, then log out",
        "Logout ends the session in the store, so its access token is refused at once, long before it would expire.",
        json!({
            "session_id": session,
            "verified_before_logout": true,
            "verify_after_logout": after_logout,
        }),
        &format!("session {session} ended; verify after logout → {after_logout}"),
    )?;
    Ok(())
}

/// The demo's fresh account has no second factor: its logins are tokens.
fn signed_in(result: doorward::LoginResult) -> Result<doorward::TokenPair> {
    result
        .tokens()
        .ok_or_else(|| Error::Internal("the demo account asked for a second factor".into()))
}

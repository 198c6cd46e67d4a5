//! One module per command group; this one holds what they share: the
//! configuration, opening the store and finding a user from what an
//! administrator types.

mod bulk;
mod cache;
mod console;
mod demo;
mod events;
#[cfg(feature = "files")]
mod files;
mod metrics;
mod migrate;
mod role;
mod token;
mod transfer;
mod user;

use std::ffi::OsString;
use std::io::Write as _;
use std::path::PathBuf;

use doorward::{Config, Doorward, ErrorCode, Result, User};

use crate::args::{Cli, Command, utf8_opt};
use crate::output::Output;

/// What every command needs besides its own arguments.
#[derive(Debug)]
pub struct Ctx {
    config_file: Option<PathBuf>,
    database: Option<String>,
    redis: Option<String>,
    pub out: Output,
}

impl Ctx {
    fn new(
        config_file: Option<PathBuf>,
        database: Option<OsString>,
        redis: Option<OsString>,
        out: Output,
    ) -> Result<Self> {
        Ok(Ctx {
            config_file,
            database: utf8_opt("database", database)?,
            redis: utf8_opt("redis", redis)?,
            out,
        })
    }

    /// The file (or the defaults), then `DOORWARD_*` variables; without the
    /// `--database` and `--redis` overrides, which the demo applies its own
    /// way. A `DOORWARD_*` variable that sets nothing (a misspelt key) is
    /// reported on stderr, where logs are off unless `RUST_LOG` asks.
    fn base_config(&self) -> Result<Config> {
        reject_non_utf8_env()?;
        let names = std::env::vars_os().map(|(name, _)| name);
        for unknown in doorward::config::unknown_env_vars(names) {
            // Printing can only fail when the terminal is gone.
            let _ = writeln!(std::io::stderr().lock(), "warning: {unknown}");
        }
        let config = match &self.config_file {
            Some(path) => Config::from_file(path)?,
            None => Config::default(),
        };
        config.with_env()
    }

    /// The configuration every command but the demo runs with.
    fn config(&self) -> Result<Config> {
        let flags = [("database_url", &self.database), ("redis_url", &self.redis)];
        self.base_config()?.with_overrides(
            flags
                .into_iter()
                .filter_map(|(key, value)| value.clone().map(|v| (key, v))),
        )
    }

    /// Open with the event dispatcher off: a command is a short-lived
    /// process, and a dispatcher would take consumer leases that other
    /// instances then wait `events_lease_secs` for. `events flush`
    /// delivers explicitly.
    ///
    /// Nor does a command export its spans: `otel_endpoint` in a shared
    /// configuration is for the host's long-running instances.
    async fn open(&self) -> Result<Doorward> {
        let mut config = self.config()?;
        config.events_dispatch = false;
        config.otel_endpoint = None;
        Doorward::open(config).await
    }

    /// Open as a long-running instance does (`doorward console`): events
    /// are delivered, so the console's own actions reach the audit log.
    async fn open_serving(&self) -> Result<Doorward> {
        Doorward::open(self.config()?).await
    }
}

/// `Config::with_env` skips a variable that is not valid UTF-8, which would
/// quietly fall back to the default database; refuse instead.
fn reject_non_utf8_env() -> Result<()> {
    for (name, value) in std::env::vars_os() {
        if let Some(name) = name.to_str()
            && let Some(key) = name.strip_prefix("DOORWARD_")
            && value.to_str().is_none()
        {
            return Err(doorward::Error::validation(
                key.to_ascii_lowercase(),
                format!("must be valid UTF-8 (environment variable {name})"),
            ));
        }
    }
    Ok(())
}

/// How a command ended once its output is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Everything worked: exit 0.
    Done,
    /// The result is written and reports (in its JSON `error` object, or on
    /// stderr) that part of it failed: exit 1, with nothing more to print.
    Partial,
}

pub async fn run(cli: Cli, out: Output) -> Result<Outcome> {
    let ctx = Ctx::new(
        cli.global.config,
        cli.global.database,
        cli.global.redis,
        out,
    )?;
    let done = match cli.command {
        Command::Migrate => migrate::run(&ctx).await,
        Command::User(command) => return user::run(&ctx, command).await,
        Command::Role(command) => return role::run(&ctx, command).await,
        Command::Token(command) => token::run(&ctx, command).await,
        Command::Cache(command) => return cache::run(&ctx, command).await,
        Command::Events(command) => events::run_events(&ctx, command).await,
        Command::Webhook(command) => events::run_webhook(&ctx, command).await,
        Command::Audit(command) => return events::run_audit(&ctx, command).await,
        Command::Metrics => metrics::run(&ctx).await,
        Command::Demo(args) => demo::run(&ctx, args).await,
        Command::Console { listen } => console::run(&ctx, listen).await,
        #[cfg(feature = "files")]
        Command::Files(command) => files::run(&ctx, command).await,
        #[cfg(not(feature = "files"))]
        Command::Files(_) => Err(doorward::Error::Config(
            "this doorward was built without the `files` feature".into(),
        )),
    };
    done.map(|()| Outcome::Done)
}

/// A user from an id, an email address or a username.
///
/// A UUID-shaped argument that is no user's id is retried as a username,
/// because a UUID is also a valid username. UUIDs are accepted in any form
/// the uuid crate reads (upper case, braces, `urn:uuid:`) and looked up in
/// the hyphenated lower-case form ids are stored in.
pub async fn resolve_user(dw: &Doorward, user: &str) -> Result<User> {
    let user = user.trim();
    if let Ok(id) = uuid::Uuid::try_parse(user) {
        match dw.users().get(&id.hyphenated().to_string()).await {
            Err(err) if err.code() == ErrorCode::NotFound => {}
            found => return found,
        }
    }
    if user.contains('@') {
        dw.users().get_by_email(user).await
    } else {
        dw.users().get_by_username(user).await
    }
}

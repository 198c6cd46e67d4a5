//! The command line.
//!
//! Free-text values are `OsString`, not `String`: clap would reject invalid
//! UTF-8 as a usage error before we see it, and callers (scripts, bindings'
//! test suites) branch on doorward's own `validation_error` with a field name.
//! [`utf8`] does the conversion.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Administer a doorward store: users, roles and tokens.
///
/// Passwords come from DOORWARD_PASSWORD or a no-echo prompt and tokens from
/// DOORWARD_TOKEN or standard input, never from arguments, so they stay out
/// of shell history and process listings.
#[derive(Debug, Parser)]
#[command(name = "doorward", version, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct Global {
    /// TOML configuration file (same keys as DOORWARD_* variables, which override it).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Database URL (`sqlite://path`, `sqlite::memory:`, `postgres://…`, `memory://`); overrides the file and DOORWARD_DATABASE_URL.
    // Deliberately no clap `env`: DOORWARD_DATABASE_URL already reaches the
    // configuration through `Config::with_env`, and keeping the flag
    // flag-only lets the demo tell "this database, on purpose" from a
    // variable left in the shell that may point at real data.
    #[arg(long, global = true, value_name = "URL")]
    pub database: Option<OsString>,

    /// Redis URL (`redis://host:port/db`, `rediss://` for TLS) for sessions, the shared cache and rate limits; overrides the file and DOORWARD_REDIS_URL.
    // No clap `env` either, for the same reason: the demo uses a Redis only
    // when this flag names one.
    #[arg(long, global = true, value_name = "URL")]
    pub redis: Option<OsString>,

    /// Machine-readable JSON on stdout, errors included.
    #[arg(long, global = true)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create or upgrade the schema and seed the built-in roles.
    Migrate,
    /// Manage accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage roles and grants.
    #[command(subcommand)]
    Role(RoleCommand),
    /// Issue, verify and inspect tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Look at and empty the cache (L1 in each process, Redis when configured).
    #[command(subcommand)]
    Cache(CacheCommand),
    /// Domain events: the outbox, webhook deliveries and dead letters.
    #[command(subcommand)]
    Events(EventsCommand),
    /// Webhook endpoints that receive events (Standard Webhooks signatures).
    #[command(subcommand)]
    Webhook(WebhookCommand),
    /// The hash-chained audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Store, fetch, list and remove files in the store files_url names
    /// (by default a doorward-files folder beside the SQLite database).
    #[command(subcommand)]
    Files(FilesCommand),
    /// Print the metrics as Prometheus text (with --json, one object per
    /// sample). The gauges are the store's: the outbox backlog of each
    /// consumer, webhook deliveries pending, active sessions. Counters and
    /// latencies are per process; a running host serves its own.
    Metrics,
    /// Walk the whole flow on a fresh database: register, log in, verify,
    /// permissions, refresh, reuse detection, logout.
    ///
    /// The database is a new temporary SQLite file, unless --database names
    /// one (DOORWARD_DATABASE_URL and the file's database_url are ignored
    /// here); a named database that already has users is refused. Likewise
    /// no Redis is used unless --redis names one. Tokens are signed with a
    /// random HS256 secret made for the run unless the configuration has
    /// keys.
    Demo(DemoArgs),
    /// Serve the admin console (a web page and its JSON API) on its own
    /// origin, until stopped. Only accounts with `console:read` (reading),
    /// `console:write` (changing) or `admin:*` sign in.
    Console {
        /// The address to listen on; keep it on loopback unless a TLS
        /// proxy fronts it.
        #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:7700")]
        listen: std::net::SocketAddr,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create an account (password from DOORWARD_PASSWORD or a prompt).
    Add {
        #[arg(value_name = "USERNAME")]
        username: OsString,
        #[arg(value_name = "EMAIL")]
        email: OsString,
    },
    /// List accounts in creation order.
    List {
        /// Page size, 1 to 500 (the library's default page without it).
        #[arg(long)]
        limit: Option<u32>,
        /// Where to continue: the `next_cursor` of the previous page.
        #[arg(long, value_name = "CURSOR")]
        cursor: Option<OsString>,
    },
    /// How many accounts there are, disabled ones included.
    Count,
    /// Show an account, its roles and live sessions.
    Show {
        /// User id, email address or username.
        #[arg(value_name = "USER")]
        user: OsString,
    },
    /// Set a new password (from DOORWARD_PASSWORD or a prompt); ends every session.
    Passwd {
        #[arg(value_name = "USER")]
        user: OsString,
    },
    /// Disable an account: no logins, and its sessions end now.
    Disable {
        #[arg(value_name = "USER")]
        user: OsString,
    },
    /// Lift a lockout and forget the failed logins, so the account can log in again now.
    Unlock {
        #[arg(value_name = "USER")]
        user: OsString,
    },
    /// Mark an account's email address verified, without a mail.
    VerifyEmail {
        #[arg(value_name = "USER")]
        user: OsString,
    },
    /// Queue a password reset mail to an account's address; it leaves from
    /// the outbox with the next instance that delivers events.
    SendReset {
        #[arg(value_name = "USER")]
        user: OsString,
    },
    /// Enable a disabled account.
    Enable {
        #[arg(value_name = "USER")]
        user: OsString,
    },
    /// Delete an account with its sessions and grants.
    Delete {
        #[arg(value_name = "USER")]
        user: OsString,
    },
    /// Create accounts from JSON Lines or CSV, keeping the password hashes
    /// of the system they come from (argon2, bcrypt, Django's and
    /// passlib's PBKDF2 and scrypt, Firebase's scrypt): each is replaced
    /// by argon2id at the owner's next login.
    ///
    /// One account per line (CSV: a header row naming the columns): email,
    /// and optionally username, password_hash (or password, in clear),
    /// roles (CSV: separated by `;`), email_verified, disabled, created_at,
    /// id. Every row is checked before any is written; without --atomic the
    /// good rows go in and the others are reported by line (exit 1).
    Import(ImportArgs),
    /// Write every account as JSON Lines, the import's format.
    Export {
        /// Include the password hashes (handle the output as a secret).
        #[arg(long)]
        with_hashes: bool,
    },
    /// Disable, enable, delete or grant a role to many accounts: those
    /// listed in a file, or those a search matches.
    #[command(subcommand)]
    Bulk(BulkCommand),
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The file, or `-` for standard input.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// The file's format; by default CSV for a `.csv` file, else JSON Lines.
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Check every row and report what would happen; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// All rows or none: one bad row writes nothing.
    #[arg(long)]
    pub atomic: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// One JSON object per line.
    Jsonl,
    /// Comma-separated, with a header row.
    Csv,
}

#[derive(Debug, Subcommand)]
pub enum BulkCommand {
    /// Disable the accounts (their sessions end now).
    Disable(BulkTarget),
    /// Enable the accounts.
    Enable(BulkTarget),
    /// Delete the accounts with their sessions and grants (needs --yes).
    Delete {
        #[command(flatten)]
        target: BulkTarget,
        /// Really delete.
        #[arg(long)]
        yes: bool,
    },
    /// Grant a role to the accounts.
    Grant {
        #[arg(value_name = "ROLE")]
        role: OsString,
        #[command(flatten)]
        target: BulkTarget,
    },
}

#[derive(Debug, Args)]
pub struct BulkTarget {
    /// A file of accounts, one id, email address or username per line
    /// (`-` for standard input; blank lines and `#` comments skipped).
    #[arg(
        long,
        value_name = "FILE",
        required_unless_present = "filter",
        conflicts_with = "filter"
    )]
    pub ids: Option<PathBuf>,
    /// Every account whose email address or username starts with this
    /// (ignoring case).
    #[arg(long, value_name = "PREFIX")]
    pub filter: Option<OsString>,
    /// List the accounts it would change; change nothing.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Subcommand)]
pub enum RoleCommand {
    /// List every role with its permissions.
    List,
    /// Create a role.
    Create {
        #[arg(value_name = "NAME")]
        name: OsString,
        /// A granted permission (`resource:action`, `*` as a wildcard part); repeatable.
        #[arg(long = "permission", short = 'p', value_name = "P")]
        permissions: Vec<OsString>,
        /// What the role is for.
        #[arg(long, value_name = "D")]
        description: Option<OsString>,
    },
    /// Delete a role and take it from everyone (built-in roles cannot be deleted).
    Delete {
        #[arg(value_name = "NAME")]
        name: OsString,
    },
    /// Give a user a role.
    Grant {
        #[arg(value_name = "USER")]
        user: OsString,
        #[arg(value_name = "ROLE")]
        role: OsString,
    },
    /// Take a role from a user.
    Revoke {
        #[arg(value_name = "USER")]
        user: OsString,
        #[arg(value_name = "ROLE")]
        role: OsString,
    },
    /// Create the roles a JSON Lines file lists (`{"name", "permissions",
    /// "description"}` per line, as `role export` writes); a role that
    /// exists with the same permissions is left as it is, one with others
    /// is reported (exit 1).
    Import {
        /// The file, or `-` for standard input.
        #[arg(value_name = "FILE")]
        file: PathBuf,
        /// Report what would happen; write nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Write every role as JSON Lines.
    Export,
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Start a session for a user without their password and print its tokens.
    Issue {
        #[arg(value_name = "USER")]
        user: OsString,
    },
    /// Verify an access token (from DOORWARD_TOKEN or stdin) and print whom it speaks for.
    Verify,
    /// Print a token's header and claims WITHOUT verifying anything.
    Decode,
    /// Print the public verification keys as a JWKS document.
    Jwks,
}

#[derive(Debug, Subcommand)]
pub enum EventsCommand {
    /// List events from the outbox in commit order.
    Ls {
        /// Continue after this cursor (a previous page's next_cursor).
        #[arg(long, value_name = "C")]
        cursor: Option<String>,
        /// Page size, 1 to 1000 (the library's default page without it).
        #[arg(long, value_name = "N")]
        limit: Option<u32>,
    },
    /// List webhook deliveries (all, or in one status: pending, delivered, dead).
    Deliveries {
        #[arg(long, value_name = "S")]
        status: Option<String>,
    },
    /// List dead-lettered webhook deliveries.
    Dead,
    /// Queue a dead delivery again (it is sent by the next running instance, or `events flush`).
    Replay {
        #[arg(value_name = "DELIVERY_ID")]
        id: u64,
    },
    /// Deliver what is pending now from this process: append to the audit
    /// log, queue and send webhook deliveries that are due. Commands do not
    /// otherwise deliver events; running instances of the host do.
    Flush,
}

#[derive(Debug, Subcommand)]
pub enum WebhookCommand {
    /// Register an endpoint; prints its signing secret once.
    Add {
        #[arg(value_name = "URL")]
        url: String,
        /// An event type to send (e.g. UserRegistered); repeatable; all when absent.
        #[arg(long = "event", short = 'e', value_name = "TYPE")]
        events: Vec<String>,
    },
    /// List endpoints (secrets hidden unless --json).
    Ls,
    /// Remove an endpoint and its queued deliveries.
    Rm {
        #[arg(value_name = "ID")]
        id: String,
    },
    /// Send a signed test message now and report the answer.
    Test {
        #[arg(value_name = "ID")]
        id: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// List audit rows, oldest first.
    Ls {
        /// Rows where this user id is the actor or the subject.
        #[arg(long, value_name = "USER_ID")]
        user: Option<String>,
        /// Rows of this event type.
        #[arg(long = "type", value_name = "TYPE")]
        event_type: Option<String>,
        /// At or after this RFC 3339 time.
        #[arg(long, value_name = "TIME")]
        since: Option<String>,
        /// Before this RFC 3339 time.
        #[arg(long, value_name = "TIME")]
        until: Option<String>,
        #[arg(long, value_name = "C")]
        cursor: Option<String>,
        /// Page size, 1 to 1000 (the library's default page without it).
        #[arg(long, value_name = "N")]
        limit: Option<u32>,
    },
    /// Print every row (at or after --since) as JSON Lines.
    Export {
        #[arg(long, value_name = "TIME")]
        since: Option<String>,
    },
    /// Recompute the hash chain; exits 1 if a row was edited or deleted.
    Verify,
}

#[derive(Debug, Subcommand)]
pub enum CacheCommand {
    /// Print the cache counters and, with Redis, how many keys Redis holds.
    ///
    /// The hit, miss and invalidation counters are this process's own, and a
    /// command is a process of its own: from here they start at zero, so what
    /// this mostly shows is whether Redis is configured and reachable and
    /// what it holds under the configured prefix (cache entries, sessions,
    /// rate-limit counters). If Redis is configured but cannot be reached,
    /// the counters are still printed (redis_up false, the usage as
    /// unavailable) and the command exits 1 with storage_error; in JSON the
    /// same document then carries an "error" object.
    Stats,
    /// Empty the cache everywhere: this process, the cached entries in Redis
    /// (sessions and rate limits stay) and, through pub/sub, the L1 of every
    /// running instance. Safe at any time: entries reload from the store.
    ///
    /// Without Redis each process's cache is its own, so there is nothing
    /// shared to empty. An unreachable Redis is a storage_error (exit 1).
    Flush,
}

#[derive(Debug, Subcommand)]
pub enum FilesCommand {
    /// Upload the file at PATH (`-` for standard input) under KEY, replacing
    /// what was there. Over 8 MiB it goes up in parts, so memory stays small.
    Put {
        #[arg(value_name = "KEY")]
        key: OsString,
        #[arg(value_name = "PATH")]
        path: PathBuf,
        /// Content type to store with it (`image/png`); none by default,
        /// never guessed from the name.
        #[arg(long, value_name = "TYPE")]
        content_type: Option<OsString>,
    },
    /// Download KEY to PATH, or to standard output with `-` or no PATH
    /// (not with --json, whose document goes there).
    Get {
        #[arg(value_name = "KEY")]
        key: OsString,
        #[arg(value_name = "PATH")]
        path: Option<PathBuf>,
    },
    /// Show a file's size, content type, etag and date.
    Head {
        #[arg(value_name = "KEY")]
        key: OsString,
    },
    /// List files in key order.
    Ls {
        /// Only keys under this prefix (whole segments: `a` lists `a/…`).
        #[arg(long, value_name = "PREFIX")]
        prefix: Option<OsString>,
        /// Where to continue: the `next_cursor` of the previous page.
        #[arg(long, value_name = "CURSOR")]
        cursor: Option<OsString>,
        /// Page size, 1 to 1000 (the library's default page without it).
        #[arg(long)]
        limit: Option<u32>,
    },
    /// Remove a file (`not_found` if there is none).
    Rm {
        #[arg(value_name = "KEY")]
        key: OsString,
    },
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Keep the temporary database and print where it is.
    #[arg(long)]
    pub keep: bool,
}

/// Text from an argument, or doorward's typed error naming the argument.
pub fn utf8(field: &str, value: OsString) -> doorward::Result<String> {
    value
        .into_string()
        .map_err(|_| doorward::Error::validation(field, "must be valid UTF-8"))
}

/// [`utf8`] for an optional argument.
pub fn utf8_opt(field: &str, value: Option<OsString>) -> doorward::Result<Option<String>> {
    value.map(|v| utf8(field, v)).transpose()
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }
}

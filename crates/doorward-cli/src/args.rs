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

    /// Database URL (`sqlite://path`, `sqlite::memory:`, `memory://`); overrides the file and DOORWARD_DATABASE_URL.
    // Deliberately no clap `env`: DOORWARD_DATABASE_URL already reaches the
    // configuration through `Config::with_env`, and keeping the flag
    // flag-only lets the demo tell "this database, on purpose" from a
    // variable left in the shell that may point at real data.
    #[arg(long, global = true, value_name = "URL")]
    pub database: Option<OsString>,

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
    /// Walk the whole flow on a fresh database: register, log in, verify,
    /// permissions, refresh, reuse detection, logout.
    ///
    /// The database is a new temporary SQLite file, unless --database names
    /// one (DOORWARD_DATABASE_URL and the file's database_url are ignored
    /// here); a named database that already has users is refused. Tokens are
    /// signed with a random HS256 secret made for the run unless the
    /// configuration has keys.
    Demo(DemoArgs),
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
        /// Page size, 1 to 500.
        #[arg(long, default_value_t = 50)]
        limit: u32,
        /// Where to continue: the `next_cursor` of the previous page.
        #[arg(long, value_name = "CURSOR")]
        cursor: Option<OsString>,
    },
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

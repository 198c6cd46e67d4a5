//! `doorward`: the admin command for a doorward store, and the guided demo.
//!
//! Exit codes: 0 on success, 1 for a doorward error (the code is printed,
//! also when a command prints its result and reports that part of it
//! failed, like `cache stats` with Redis away), 2 for a usage error.

#![forbid(unsafe_code)]

mod args;
mod commands;
mod output;
mod secrets;

use std::process::ExitCode;

use clap::Parser as _;
use clap::error::ErrorKind;

use crate::args::Cli;
use crate::commands::Outcome;
use crate::output::Output;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => return usage(&err),
    };
    init_logging();
    let out = Output {
        json: cli.global.json,
    };
    match run(cli, out) {
        Ok(Outcome::Done) => ExitCode::SUCCESS,
        Ok(Outcome::Partial) => ExitCode::from(1),
        Err(err) => {
            out.error(&err);
            ExitCode::from(1)
        }
    }
}

fn run(cli: Cli, out: Output) -> doorward::Result<Outcome> {
    // One command at a time needs no thread pool; argon2 still runs on
    // tokio's blocking threads.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| doorward::Error::Internal(format!("cannot start the runtime: {e}")))?;
    runtime.block_on(commands::run(cli, out))
}

/// Clap reports usage errors itself, except that `--json` promises a JSON
/// document on stdout whatever happens, so scripts never have to parse
/// clap's prose.
fn usage(err: &clap::Error) -> ExitCode {
    let informational = matches!(
        err.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    );
    let wants_json = std::env::args_os().any(|arg| arg == "--json");
    if wants_json && !informational {
        let text = err.render().to_string();
        let message = text
            .lines()
            .next()
            .unwrap_or_default()
            .trim_start_matches("error: ")
            .to_string();
        Output { json: true }.usage_error(&message);
        return ExitCode::from(2);
    }
    // Printing can only fail when the terminal is gone.
    let _ = err.print();
    ExitCode::from(u8::try_from(err.exit_code()).unwrap_or(2))
}

/// Logs go to stderr so stdout stays the command's result; silent unless
/// `RUST_LOG` asks, because the demo deliberately triggers a reuse warning.
fn init_logging() {
    use std::io::IsTerminal as _;
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("off"));
    // Only fails if a subscriber is already installed, which nothing else does.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init();
}

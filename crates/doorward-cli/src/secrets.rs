//! Passwords and tokens: from the environment, a no-echo prompt or stdin,
//! never from arguments (they would land in shell history and `ps`), and
//! never printed back.

use std::env::VarError;
use std::io::{self, BufRead as _, IsTerminal as _, Read as _};

use doorward::{Error, Result};

/// Tokens are at most 8 KiB; reading much more than that from a pipe only
/// wastes memory on garbage.
const MAX_TOKEN_LINE: u64 = 64 * 1024;

fn from_env(name: &str, field: &str) -> Result<Option<String>> {
    match std::env::var(name) {
        Ok(value) => Ok(Some(value)),
        Err(VarError::NotPresent) => Ok(None),
        Err(VarError::NotUnicode(_)) => Err(Error::validation(field, "must be valid UTF-8")),
    }
}

/// A new password: `DOORWARD_PASSWORD`, or typed twice at a prompt.
///
/// A password is not read from a piped stdin: without a terminal there is no
/// way to tell a password from whatever else was piped, and a script that
/// forgot the variable should fail rather than set something unintended.
pub fn new_password() -> Result<String> {
    if let Some(password) = from_env("DOORWARD_PASSWORD", "password")? {
        return Ok(password);
    }
    if !io::stdin().is_terminal() {
        return Err(Error::validation(
            "password",
            "is required: set DOORWARD_PASSWORD, or run in a terminal to be prompted",
        ));
    }
    let first = prompt("New password: ")?;
    let second = prompt("Repeat password: ")?;
    if first != second {
        return Err(Error::validation("password", "the two entries differ"));
    }
    Ok(first)
}

fn prompt(text: &str) -> Result<String> {
    rpassword::prompt_password(text)
        .map_err(|e| Error::validation("password", format!("cannot prompt for it: {e}")))
}

/// A token: `DOORWARD_TOKEN`, else one line of stdin (read without echo when
/// stdin is a terminal).
pub fn token() -> Result<String> {
    let raw = match from_env("DOORWARD_TOKEN", "token")? {
        Some(token) => token,
        None if io::stdin().is_terminal() => rpassword::prompt_password("Token: ")
            .map_err(|e| Error::validation("token", format!("cannot prompt for it: {e}")))?,
        None => {
            let mut line = String::new();
            io::stdin()
                .lock()
                .take(MAX_TOKEN_LINE)
                .read_line(&mut line)
                .map_err(|e| match e.kind() {
                    io::ErrorKind::InvalidData => Error::validation("token", "must be valid UTF-8"),
                    _ => Error::validation("token", format!("cannot read standard input: {e}")),
                })?;
            line
        }
    };
    let token = raw.trim();
    if token.is_empty() {
        return Err(Error::validation(
            "token",
            "is required: set DOORWARD_TOKEN or pass it on standard input",
        ));
    }
    Ok(token.to_string())
}

//! Human and JSON output, and how errors are reported.
//!
//! Everything goes through explicit writes rather than `println!`, which
//! panics when stdout is a closed pipe (`doorward user list | head -1`).

use std::io::{self, Write};

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;

/// Where results go, and in which form.
#[derive(Debug, Clone, Copy)]
pub struct Output {
    pub json: bool,
}

impl Output {
    /// `value` as one line of JSON, or the human rendering `human` writes.
    pub fn emit<T, F>(&self, value: &T, human: F) -> doorward::Result<()>
    where
        T: Serialize + ?Sized,
        F: FnOnce(&mut dyn Write) -> io::Result<()>,
    {
        let mut out = io::stdout().lock();
        let written = if self.json {
            json_line(&mut out, value)
        } else {
            human(&mut out)
        };
        written.and_then(|()| out.flush()).map_err(write_error)
    }

    /// One JSON line in JSON mode, nothing otherwise: for streams (the demo)
    /// whose human form is written separately.
    pub fn json_line<T: Serialize + ?Sized>(&self, value: &T) -> doorward::Result<()> {
        if !self.json {
            return Ok(());
        }
        let mut out = io::stdout().lock();
        json_line(&mut out, value)
            .and_then(|()| out.flush())
            .map_err(write_error)
    }

    /// Human text; nothing in JSON mode.
    pub fn human<F>(&self, human: F) -> doorward::Result<()>
    where
        F: FnOnce(&mut dyn Write) -> io::Result<()>,
    {
        if self.json {
            return Ok(());
        }
        let mut out = io::stdout().lock();
        human(&mut out)
            .and_then(|()| out.flush())
            .map_err(write_error)
    }

    /// Report a failure: `error[code]: message` on stderr, or the JSON error
    /// object on stdout so a script reading stdout always gets a document.
    pub fn error(&self, err: &doorward::Error) {
        if self.json {
            let doc = serde_json::json!({ "error": error_object(err) });
            let mut out = io::stdout().lock();
            // Nowhere left to report a failure to report.
            let _ = json_line(&mut out, &doc).and_then(|()| out.flush());
        } else {
            let _ = writeln!(io::stderr().lock(), "error[{}]: {err}", err.code());
        }
    }

    /// A usage error in JSON mode (clap prints its own otherwise). The code
    /// is the CLI's own: usage errors are not doorward errors.
    pub fn usage_error(&self, message: &str) {
        let doc = serde_json::json!({
            "error": { "code": "usage_error", "message": message, "field": null }
        });
        let mut out = io::stdout().lock();
        let _ = json_line(&mut out, &doc).and_then(|()| out.flush());
    }
}

/// The `error` object of a JSON document: code, message and field.
pub fn error_object(err: &doorward::Error) -> serde_json::Value {
    serde_json::json!({
        "code": err.code().as_str(),
        "message": err.to_string(),
        "field": err.field(),
    })
}

pub fn json_line<T: Serialize + ?Sized>(out: &mut dyn Write, value: &T) -> io::Result<()> {
    serde_json::to_writer(&mut *out, value).map_err(io::Error::other)?;
    out.write_all(b"\n")
}

pub fn write_error(err: io::Error) -> doorward::Error {
    doorward::Error::Internal(format!("cannot write output: {err}"))
}

/// A timestamp as people read it, to the second.
pub fn time(at: &DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// An optional timestamp, `-` when absent.
pub fn time_opt(at: &Option<DateTime<Utc>>) -> String {
    at.as_ref().map_or_else(|| "-".to_string(), time)
}

/// Left-aligned columns, as wide as their widest cell.
pub fn table(out: &mut dyn Write, headers: &[&str], rows: &[Vec<String>]) -> io::Result<()> {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |out: &mut dyn Write, cells: &mut dyn Iterator<Item = &str>| {
        let mut text = String::new();
        for (i, cell) in cells.enumerate() {
            if i > 0 {
                text.push_str("  ");
            }
            text.push_str(cell);
            let width = widths.get(i).copied().unwrap_or(0);
            let pad = width.saturating_sub(cell.chars().count());
            text.extend(std::iter::repeat_n(' ', pad));
        }
        writeln!(out, "{}", text.trim_end())
    };
    line(out, &mut headers.iter().copied())?;
    for row in rows {
        line(out, &mut row.iter().map(String::as_str))?;
    }
    Ok(())
}

/// The first characters of a token, enough to tell two apart on screen but
/// useless to anyone reading over a shoulder or a terminal log.
pub fn token_prefix(token: &str) -> String {
    let head: String = token.chars().take(12).collect();
    format!("{head}…")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_align_and_trim() {
        let mut buf = Vec::new();
        table(
            &mut buf,
            &["NAME", "X"],
            &[
                vec!["a".into(), "1".into()],
                vec!["long-name".into(), "".into()],
            ],
        )
        .unwrap();
        let text = String::from_utf8(buf).unwrap();
        assert_eq!(text, "NAME       X\na          1\nlong-name\n");
    }

    #[test]
    fn token_prefixes_are_short() {
        assert_eq!(token_prefix("dwr_abcdefghijklmnop"), "dwr_abcdefgh…");
        assert_eq!(token_prefix("abc"), "abc…");
    }
}

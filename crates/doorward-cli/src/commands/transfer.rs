//! `doorward user import|export`, `doorward role import|export`: accounts
//! and roles in and out as files. The rules (what a row may hold, which
//! hashes are accepted, what a dry run or `--atomic` means) are the core's
//! `users().import`; this reads the file, names lines, and shows progress.

use std::collections::BTreeSet;
use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};
use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use doorward::{Error, ErrorCode, ImportOptions, Result, UserRow};
use indicatif::{ProgressBar, ProgressStyle};
use serde::{Deserialize, Serialize};

use super::{Ctx, Outcome};
use crate::args::{Format, ImportArgs};
use crate::output::{json_line, write_error};

/// A row or an account that failed: by its line in the file, or by id.
#[derive(Debug, Serialize)]
pub struct Failure {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    pub code: ErrorCode,
    pub field: Option<String>,
    pub message: String,
}

impl Failure {
    pub fn at_line(line: u64, err: &Error) -> Self {
        Failure {
            line: Some(line),
            user_id: None,
            code: err.code(),
            field: err.field().map(str::to_owned),
            message: err.to_string(),
        }
    }

    pub fn for_user(user_id: String, err: &Error) -> Self {
        Failure {
            line: None,
            user_id: Some(user_id),
            ..Failure::at_line(0, err)
        }
    }

    /// The human form: one line each.
    pub fn write_all(w: &mut dyn Write, failures: &[Failure]) -> io::Result<()> {
        for f in failures {
            let at = match (&f.line, &f.user_id) {
                (Some(line), _) => format!("line {line}"),
                (None, Some(id)) => id.clone(),
                (None, None) => "-".to_string(),
            };
            writeln!(w, "{at}: {}: {}", f.code, f.message)?;
        }
        Ok(())
    }

    /// Exit 1 once the report is written when anything failed.
    pub fn outcome(failures: &[Failure]) -> Outcome {
        if failures.is_empty() {
            Outcome::Done
        } else {
            Outcome::Partial
        }
    }
}

#[derive(Debug, Serialize)]
struct ImportSummary {
    dry_run: bool,
    atomic: bool,
    /// Rows read (blank lines aside).
    total: u64,
    /// Accounts created, or that would be in a dry run.
    created: u64,
    failed: Vec<Failure>,
}

pub async fn import_users(ctx: &Ctx, args: ImportArgs) -> Result<Outcome> {
    let format = args.format.unwrap_or_else(|| {
        let csv = args
            .file
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
        if csv { Format::Csv } else { Format::Jsonl }
    });
    let input = open(&args.file)?;
    let (lines, rows, mut failed) = match format {
        Format::Jsonl => read_jsonl(input)?,
        Format::Csv => read_csv(input)?,
    };
    let dw = ctx.open().await?;
    let total = (rows.len() + failed.len()) as u64;
    let bar = (!ctx.out.json).then(|| progress_bar(rows.len() as u64));
    let progress = bar.clone().map(|bar| {
        Arc::new(move |done: u64, _all: u64| bar.set_position(done)) as doorward::ImportProgress
    });
    // A line that did not parse is a bad row like any other: --atomic
    // writes nothing then.
    let atomic_refusal = args.atomic && !failed.is_empty();
    let report = dw
        .users()
        .import_users(
            rows,
            ImportOptions {
                dry_run: args.dry_run || atomic_refusal,
                atomic: args.atomic,
                progress,
            },
        )
        .await?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    failed.extend(report.failed.iter().map(|f| Failure {
        line: Some(lines[f.index as usize]),
        user_id: None,
        code: f.code,
        field: f.field.clone(),
        message: f.message.clone(),
    }));
    failed.sort_by_key(|f| f.line);
    let created = if atomic_refusal {
        0
    } else {
        report.created.len() as u64
    };
    let summary = ImportSummary {
        dry_run: args.dry_run,
        atomic: args.atomic,
        total,
        created,
        failed,
    };
    ctx.out.emit(&summary, |w| {
        let verb = if summary.dry_run {
            "would import"
        } else {
            "imported"
        };
        writeln!(
            w,
            "{verb} {} of {} accounts",
            summary.created, summary.total
        )?;
        if args.atomic && !summary.failed.is_empty() {
            writeln!(w, "nothing was written (--atomic): fix the lines below")?;
        }
        Failure::write_all(w, &summary.failed)
    })?;
    Ok(Failure::outcome(&summary.failed))
}

pub async fn export_users(ctx: &Ctx, with_hashes: bool) -> Result<()> {
    let dw = ctx.open().await?;
    if with_hashes {
        let _ = writeln!(
            io::stderr().lock(),
            "warning: the export holds password hashes; keep it as you keep the database"
        );
    }
    let mut out = BufWriter::new(io::stdout().lock());
    let mut cursor = None;
    loop {
        let page = dw
            .users()
            .export_users(cursor.as_deref(), 500, with_hashes)
            .await?;
        for row in &page.items {
            json_line(&mut out, row).map_err(write_error)?;
        }
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    out.flush().map_err(write_error)
}

/// A role as `role export` writes it and `role import` reads it.
#[derive(Debug, Serialize, Deserialize)]
struct RoleRow {
    name: String,
    #[serde(default)]
    permissions: Vec<String>,
    #[serde(default)]
    description: String,
    /// Written by the export; the import leaves built-in roles alone.
    #[serde(default)]
    builtin: bool,
}

#[derive(Debug, Default, Serialize)]
struct RoleImportSummary {
    dry_run: bool,
    created: Vec<String>,
    unchanged: Vec<String>,
    failed: Vec<Failure>,
}

pub async fn export_roles(ctx: &Ctx) -> Result<()> {
    let dw = ctx.open().await?;
    let mut out = BufWriter::new(io::stdout().lock());
    for role in dw.roles().list().await? {
        let row = RoleRow {
            name: role.name,
            permissions: role.permissions,
            description: role.description,
            builtin: role.builtin,
        };
        json_line(&mut out, &row).map_err(write_error)?;
    }
    out.flush().map_err(write_error)
}

pub async fn import_roles(ctx: &Ctx, file: &Path, dry_run: bool) -> Result<Outcome> {
    let input = open(file)?;
    let mut rows = Vec::new();
    let mut summary = RoleImportSummary {
        dry_run,
        ..RoleImportSummary::default()
    };
    for (number, line) in input.lines().enumerate() {
        let line = line.map_err(read_error)?;
        let number = number as u64 + 1;
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<RoleRow>(&line) {
            Ok(row) => rows.push((number, row)),
            Err(err) => summary.failed.push(parse_failure(number, &err)),
        }
    }
    let dw = ctx.open().await?;
    for (line, row) in rows {
        let wanted: BTreeSet<&str> = row.permissions.iter().map(String::as_str).collect();
        let existing = match dw.roles().get(&row.name).await {
            Ok(role) => Some(role),
            Err(err) if err.code() == ErrorCode::NotFound => None,
            Err(err) => return Err(err),
        };
        let outcome = match existing {
            Some(role) => {
                let held: BTreeSet<&str> = role.permissions.iter().map(String::as_str).collect();
                if held == wanted {
                    summary.unchanged.push(row.name);
                    continue;
                }
                Err(Error::validation(
                    "permissions",
                    format!("role `{}` exists with other permissions", row.name),
                ))
            }
            None if dry_run => {
                let permissions: Vec<&str> = wanted.into_iter().collect();
                doorward::rbac::check_role(&row.name, &permissions, &row.description)
            }
            None => {
                let permissions: Vec<&str> = wanted.into_iter().collect();
                dw.roles()
                    .create(&row.name, &permissions, &row.description)
                    .await
                    .map(|_| ())
            }
        };
        match outcome {
            Ok(()) => summary.created.push(row.name),
            Err(err) => summary.failed.push(Failure::at_line(line, &err)),
        }
    }
    ctx.out.emit(&summary, |w| {
        let verb = if dry_run { "would create" } else { "created" };
        writeln!(
            w,
            "{verb} {} roles, {} unchanged",
            summary.created.len(),
            summary.unchanged.len()
        )?;
        Failure::write_all(w, &summary.failed)
    })?;
    Ok(Failure::outcome(&summary.failed))
}

/// The file, or standard input for `-`.
pub fn open(path: &Path) -> Result<Box<dyn BufRead>> {
    if path.as_os_str() == "-" {
        return Ok(Box::new(BufReader::new(io::stdin())));
    }
    let file = std::fs::File::open(path)
        .map_err(|e| Error::validation("file", format!("cannot open {}: {e}", path.display())))?;
    Ok(Box::new(BufReader::new(file)))
}

pub fn read_error(err: io::Error) -> Error {
    Error::validation("file", format!("cannot read: {err}"))
}

/// Line numbers, rows, and the lines that are not rows.
type Parsed = (Vec<u64>, Vec<UserRow>, Vec<Failure>);

fn read_jsonl(input: Box<dyn BufRead>) -> Result<Parsed> {
    let (mut lines, mut rows, mut failed) = (Vec::new(), Vec::new(), Vec::new());
    for (number, line) in input.lines().enumerate() {
        let line = line.map_err(read_error)?;
        let number = number as u64 + 1;
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<UserRow>(&line) {
            Ok(row) => {
                lines.push(number);
                rows.push(row);
            }
            Err(err) => failed.push(parse_failure(number, &err)),
        }
    }
    Ok((lines, rows, failed))
}

/// serde's message names the field at fault but may quote a value (a
/// password given as a number): only the former is kept.
fn parse_failure(line: u64, err: &serde_json::Error) -> Failure {
    let text = err.to_string();
    let message = if text.starts_with("unknown field") || text.starts_with("missing field") {
        text.split(" at line")
            .next()
            .unwrap_or_default()
            .to_string()
    } else {
        format!(
            "not a JSON object of the import's fields (column {})",
            err.column()
        )
    };
    Failure {
        line: Some(line),
        user_id: None,
        code: ErrorCode::ValidationError,
        field: None,
        message,
    }
}

/// A CSV record: every cell text, empty for absent.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CsvRow {
    #[serde(default)]
    id: String,
    #[serde(default)]
    username: String,
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_hash: String,
    #[serde(default)]
    roles: String,
    #[serde(default)]
    email_verified: String,
    #[serde(default)]
    disabled: String,
    #[serde(default)]
    created_at: String,
}

impl CsvRow {
    fn into_row(self) -> std::result::Result<UserRow, String> {
        let text = |s: String| (!s.trim().is_empty()).then(|| s.trim().to_string());
        let flag = |name: &str, s: &str| match s.trim().to_ascii_lowercase().as_str() {
            "" | "false" | "0" | "no" => Ok(false),
            "true" | "1" | "yes" => Ok(true),
            _ => Err(format!("`{name}` must be true or false")),
        };
        let created_at = match text(self.created_at) {
            Some(at) => Some(
                DateTime::parse_from_rfc3339(&at)
                    .map_err(|_| "`created_at` must be an RFC 3339 time".to_string())?
                    .with_timezone(&Utc),
            ),
            None => None,
        };
        Ok(UserRow {
            id: text(self.id),
            username: text(self.username),
            email: self.email,
            // A password is taken as typed: spaces may be part of it.
            password: (!self.password.is_empty()).then_some(self.password),
            password_hash: text(self.password_hash),
            roles: self
                .roles
                .split(';')
                .map(str::trim)
                .filter(|r| !r.is_empty())
                .map(str::to_owned)
                .collect(),
            email_verified: flag("email_verified", &self.email_verified)?,
            disabled: flag("disabled", &self.disabled)?,
            created_at,
        })
    }
}

fn read_csv(input: Box<dyn Read>) -> Result<Parsed> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::Headers)
        .from_reader(input);
    let headers = reader
        .headers()
        .map_err(|e| Error::validation("file", format!("cannot read the CSV header: {e}")))?
        .clone();
    let (mut lines, mut rows, mut failed) = (Vec::new(), Vec::new(), Vec::new());
    let mut record = csv::StringRecord::new();
    loop {
        let line = reader.position().line();
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(err) if err.is_io_error() => {
                return Err(Error::validation("file", err.to_string()));
            }
            Err(_) => {
                failed.push(csv_failure(
                    line,
                    "not a CSV record with the header's columns",
                ));
                continue;
            }
        }
        let line = record.position().map_or(line, csv::Position::line);
        let parsed = record
            .deserialize::<CsvRow>(Some(&headers))
            .map_err(|e| match e.kind() {
                // Names the column; never quotes a cell.
                csv::ErrorKind::Deserialize { err, .. } => err.to_string(),
                _ => "not a CSV record with the header's columns".to_string(),
            })
            .and_then(CsvRow::into_row);
        match parsed {
            Ok(row) => {
                lines.push(line);
                rows.push(row);
            }
            Err(message) => failed.push(csv_failure(line, &message)),
        }
    }
    Ok((lines, rows, failed))
}

fn csv_failure(line: u64, message: &str) -> Failure {
    Failure {
        line: Some(line),
        user_id: None,
        code: ErrorCode::ValidationError,
        field: None,
        message: message.to_string(),
    }
}

fn progress_bar(len: u64) -> ProgressBar {
    // Hidden by indicatif when stderr is not a terminal.
    let bar = ProgressBar::new(len);
    if let Ok(style) =
        ProgressStyle::with_template("{bar:40} {pos}/{len} accounts  {per_sec}  eta {eta}")
    {
        bar.set_style(style);
    }
    bar
}

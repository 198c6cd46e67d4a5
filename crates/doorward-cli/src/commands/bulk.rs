//! `doorward user bulk disable|enable|delete|grant`: one action over many
//! accounts, named in a file or found by a search. Each change is the
//! core's own (`users().disable`, `roles().grant`, ...), with its events
//! and audit entries; the accounts are all found before any is changed.

use std::io::BufRead;

use doorward::{Doorward, Error, Result, User};
use serde::Serialize;

use super::transfer::{Failure, open, read_error};
use super::{Ctx, Outcome, resolve_user};
use crate::args::{BulkCommand, BulkTarget, utf8};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
enum Action {
    Disable,
    Enable,
    Delete,
    Grant,
}

#[derive(Debug, Serialize)]
struct Target {
    user_id: String,
    username: String,
}

#[derive(Debug, Serialize)]
struct BulkSummary {
    action: Action,
    #[serde(skip_serializing_if = "Option::is_none")]
    role: Option<String>,
    dry_run: bool,
    /// The accounts found.
    matched: u64,
    /// The accounts changed (in a dry run, those that would be asked to).
    changed: Vec<Target>,
    failed: Vec<Failure>,
}

pub async fn bulk(ctx: &Ctx, command: BulkCommand) -> Result<Outcome> {
    let (action, target, role) = match command {
        BulkCommand::Disable(target) => (Action::Disable, target, None),
        BulkCommand::Enable(target) => (Action::Enable, target, None),
        BulkCommand::Delete { target, yes } => {
            if !yes && !target.dry_run {
                return Err(Error::validation(
                    "yes",
                    "deleting accounts in bulk needs --yes (or --dry-run to see which)",
                ));
            }
            (Action::Delete, target, None)
        }
        BulkCommand::Grant { role, target } => (Action::Grant, target, Some(utf8("role", role)?)),
    };
    let filter = target
        .filter
        .clone()
        .map(|f| utf8("filter", f))
        .transpose()?;
    let dw = ctx.open().await?;
    if let Some(role) = &role {
        dw.roles().get(role).await?;
    }
    let (users, mut failed) = find(&dw, &target, filter.as_deref()).await?;
    let mut summary = BulkSummary {
        action,
        role: role.clone(),
        dry_run: target.dry_run,
        matched: users.len() as u64,
        changed: Vec::new(),
        failed: Vec::new(),
    };
    for user in users {
        let done = if target.dry_run {
            Ok(())
        } else {
            match action {
                Action::Disable => dw.users().disable(&user.id).await,
                Action::Enable => dw.users().enable(&user.id).await,
                Action::Delete => dw.users().delete(&user.id).await,
                Action::Grant => dw
                    .roles()
                    .grant(&user.id, role.as_deref().unwrap_or_default())
                    .await
                    .map(|_| ()),
            }
        };
        match done {
            Ok(()) => summary.changed.push(Target {
                user_id: user.id,
                username: user.username,
            }),
            Err(err) => failed.push(Failure::for_user(user.id, &err)),
        }
    }
    summary.failed = failed;
    ctx.out.emit(&summary, |w| {
        let verb = match (summary.dry_run, action) {
            (true, _) => "would change",
            (false, Action::Disable) => "disabled",
            (false, Action::Enable) => "enabled",
            (false, Action::Delete) => "deleted",
            (false, Action::Grant) => "granted the role to",
        };
        writeln!(
            w,
            "{verb} {} of {} accounts",
            summary.changed.len(),
            summary.matched
        )?;
        if summary.dry_run {
            for t in &summary.changed {
                writeln!(w, "  {}  {}", t.user_id, t.username)?;
            }
        }
        Failure::write_all(w, &summary.failed)
    })?;
    Ok(Failure::outcome(&summary.failed))
}

/// Every account the target names, before any is changed; lines of the
/// ids file that name no account are failures.
async fn find(
    dw: &Doorward,
    target: &BulkTarget,
    filter: Option<&str>,
) -> Result<(Vec<User>, Vec<Failure>)> {
    let (mut users, mut failed) = (Vec::new(), Vec::new());
    if let Some(prefix) = filter {
        let mut cursor = None;
        loop {
            let page = dw.users().search(prefix, cursor.as_deref(), 500).await?;
            users.extend(page.items);
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        return Ok((users, failed));
    }
    let Some(path) = &target.ids else {
        return Ok((users, failed));
    };
    let mut seen = std::collections::HashSet::new();
    for (number, line) in open(path)?.lines().enumerate() {
        let line = line.map_err(read_error)?;
        let wanted = line.split('#').next().unwrap_or_default().trim();
        if wanted.is_empty() {
            continue;
        }
        match resolve_user(dw, wanted).await {
            Ok(user) => {
                if seen.insert(user.id.clone()) {
                    users.push(user);
                }
            }
            Err(err) => failed.push(Failure::at_line(number as u64 + 1, &err)),
        }
    }
    Ok((users, failed))
}

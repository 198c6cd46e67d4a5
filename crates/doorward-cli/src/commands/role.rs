//! `doorward role ...`.

use doorward::{Result, Role};
use serde::Serialize;

use super::{Ctx, Outcome, resolve_user, transfer};
use crate::args::{RoleCommand, utf8, utf8_opt};
use crate::output::table;

#[derive(Debug, Serialize)]
struct RoleDeleted {
    deleted: bool,
    role: String,
}

/// The result of a grant or revoke, with the roles the user holds after it,
/// so the caller needs no second command to see where things stand.
#[derive(Debug, Serialize)]
struct GrantChange {
    user_id: String,
    username: String,
    role: String,
    /// True if the grant was new (grant) or existed (revoke).
    changed: bool,
    roles: Vec<String>,
}

pub async fn run(ctx: &Ctx, command: RoleCommand) -> Result<Outcome> {
    let done = match command {
        RoleCommand::Import { file, dry_run } => {
            return transfer::import_roles(ctx, &file, dry_run).await;
        }
        RoleCommand::Export => transfer::export_roles(ctx).await,
        RoleCommand::List => {
            let dw = ctx.open().await?;
            let roles = dw.roles().list().await?;
            ctx.out.emit(&roles, |w| {
                let rows: Vec<Vec<String>> = roles
                    .iter()
                    .map(|r| {
                        vec![
                            r.name.clone(),
                            if r.builtin { "built-in" } else { "custom" }.to_string(),
                            r.permissions.join(" "),
                            r.description.clone(),
                        ]
                    })
                    .collect();
                table(w, &["NAME", "KIND", "PERMISSIONS", "DESCRIPTION"], &rows)
            })
        }
        RoleCommand::Create {
            name,
            permissions,
            description,
        } => {
            let name = utf8("role", name)?;
            let permissions = permissions
                .into_iter()
                .map(|p| utf8("permission", p))
                .collect::<Result<Vec<_>>>()?;
            let description = utf8_opt("description", description)?.unwrap_or_default();
            let dw = ctx.open().await?;
            let permissions: Vec<&str> = permissions.iter().map(String::as_str).collect();
            let role: Role = dw.roles().create(&name, &permissions, &description).await?;
            ctx.out.emit(&role, |w| {
                writeln!(
                    w,
                    "created role {} with permissions: {}",
                    role.name,
                    if role.permissions.is_empty() {
                        "(none)".to_string()
                    } else {
                        role.permissions.join(" ")
                    }
                )
            })
        }
        RoleCommand::Delete { name } => {
            let name = utf8("role", name)?;
            let dw = ctx.open().await?;
            dw.roles().delete(&name).await?;
            let report = RoleDeleted {
                deleted: true,
                role: name,
            };
            ctx.out.emit(&report, |w| {
                writeln!(
                    w,
                    "deleted role {} and took it from everyone who had it",
                    report.role
                )
            })
        }
        RoleCommand::Grant { user, role } => change(ctx, user, role, true).await,
        RoleCommand::Revoke { user, role } => change(ctx, user, role, false).await,
    };
    done.map(|()| Outcome::Done)
}

async fn change(
    ctx: &Ctx,
    user: std::ffi::OsString,
    role: std::ffi::OsString,
    grant: bool,
) -> Result<()> {
    let user = utf8("user", user)?;
    let role = utf8("role", role)?;
    let dw = ctx.open().await?;
    let user = resolve_user(&dw, &user).await?;
    let changed = if grant {
        dw.roles().grant(&user.id, &role).await?
    } else {
        dw.roles().revoke(&user.id, &role).await?
    };
    let report = GrantChange {
        roles: dw.roles().of_user(&user.id).await?,
        user_id: user.id,
        username: user.username,
        role,
        changed,
    };
    ctx.out.emit(&report, |w| {
        let what = match (grant, changed) {
            (true, true) => "granted",
            (true, false) => "already had",
            (false, true) => "revoked",
            (false, false) => "did not have",
        };
        writeln!(
            w,
            "{}: {what} {}; roles now: {}",
            report.username,
            report.role,
            report.roles.join(", ")
        )
    })
}

//! `doorward user ...`.

use std::io::{self, Write};

use chrono::Utc;
use doorward::{Doorward, Result, Session, User};
use serde::Serialize;

use super::{Ctx, Outcome, bulk, resolve_user, transfer};
use crate::args::{UserCommand, utf8, utf8_opt};
use crate::output::{table, time, time_opt};
use crate::secrets;

/// An account as `user show` presents it: the core's [`User`] plus what an
/// administrator looks at next (roles, live sessions).
#[derive(Debug, Serialize)]
struct UserDetails {
    #[serde(flatten)]
    user: User,
    roles: Vec<String>,
    sessions: Vec<Session>,
}

#[derive(Debug, Serialize)]
struct PasswordSet<'a> {
    user_id: &'a str,
    username: &'a str,
    password_changed: bool,
    sessions_ended: bool,
}

#[derive(Debug, Serialize)]
struct Counted {
    users: u64,
}

#[derive(Debug, Serialize)]
struct Unlocked {
    /// Whether there was a lockout or failed logins to clear.
    cleared: bool,
    user: User,
}

#[derive(Debug, Serialize)]
struct ResetQueued {
    user_id: String,
    username: String,
    /// The flow the mail's link and code belong to.
    flow_id: String,
    /// Seconds the link and code work.
    expires_in: u64,
}

#[derive(Debug, Serialize)]
struct Deleted {
    deleted: bool,
    user: User,
}

pub async fn run(ctx: &Ctx, command: UserCommand) -> Result<Outcome> {
    // Arguments are checked before the store is opened, so bad input never
    // creates or migrates a database.
    let done = match command {
        UserCommand::Import(args) => return transfer::import_users(ctx, args).await,
        UserCommand::Export { with_hashes } => transfer::export_users(ctx, with_hashes).await,
        UserCommand::Bulk(command) => return bulk::bulk(ctx, command).await,
        UserCommand::Add { username, email } => {
            let username = utf8("username", username)?;
            let email = utf8("email", email)?;
            let dw = ctx.open().await?;
            let password = secrets::new_password()?;
            let user = dw.users().create(&username, &email, &password).await?;
            drop(password);
            let roles = dw.roles().of_user(&user.id).await?;
            ctx.out.emit(&user, |w| {
                writeln!(w, "created user {}", user.username)?;
                user_lines(w, &user, &roles)
            })
        }
        UserCommand::Count => {
            let dw = ctx.open().await?;
            let report = Counted {
                users: dw.users().count().await?,
            };
            ctx.out
                .emit(&report, |w| writeln!(w, "{} users", report.users))
        }
        UserCommand::List { limit, cursor } => {
            let cursor = utf8_opt("cursor", cursor)?;
            let dw = ctx.open().await?;
            let page = dw.users().list(cursor.as_deref(), limit).await?;
            ctx.out.emit(&page, |w| {
                if page.items.is_empty() {
                    writeln!(w, "no users")?;
                } else {
                    let rows: Vec<Vec<String>> = page
                        .items
                        .iter()
                        .map(|u| {
                            vec![
                                u.id.clone(),
                                u.username.clone(),
                                u.email.clone(),
                                status(u).to_string(),
                                u.failed_logins.to_string(),
                                time(&u.created_at),
                                time_opt(&u.last_login_at),
                            ]
                        })
                        .collect();
                    table(
                        w,
                        &[
                            "ID",
                            "USERNAME",
                            "EMAIL",
                            "STATUS",
                            "FAILED",
                            "CREATED",
                            "LAST LOGIN",
                        ],
                        &rows,
                    )?;
                }
                if let Some(next) = &page.next_cursor {
                    writeln!(w, "more: --cursor {next}")?;
                }
                Ok(())
            })
        }
        UserCommand::Show { user } => {
            let user = utf8("user", user)?;
            let dw = ctx.open().await?;
            let user = resolve_user(&dw, &user).await?;
            let details = UserDetails {
                roles: dw.roles().of_user(&user.id).await?,
                sessions: dw.sessions().list(&user.id).await?,
                user,
            };
            ctx.out.emit(&details, |w| {
                user_lines(w, &details.user, &details.roles)?;
                writeln!(w, "sessions    {} live", details.sessions.len())?;
                for s in &details.sessions {
                    writeln!(
                        w,
                        "  {}  started {}  expires {}  {}",
                        s.id,
                        time(&s.created_at),
                        time(&s.expires_at),
                        s.user_agent.as_deref().unwrap_or("")
                    )?;
                }
                Ok(())
            })
        }
        UserCommand::Passwd { user } => {
            let user = utf8("user", user)?;
            let dw = ctx.open().await?;
            // Find the account first: a typo should fail before anyone types
            // a password twice.
            let user = resolve_user(&dw, &user).await?;
            let password = secrets::new_password()?;
            dw.users().set_password(&user.id, &password).await?;
            drop(password);
            let report = PasswordSet {
                user_id: &user.id,
                username: &user.username,
                password_changed: true,
                sessions_ended: true,
            };
            ctx.out.emit(&report, |w| {
                writeln!(
                    w,
                    "password changed for {}; every session has ended",
                    user.username
                )
            })
        }
        UserCommand::Disable { user } => {
            let (dw, user) = open_and_resolve(ctx, user).await?;
            dw.users().disable(&user.id).await?;
            let user = dw.users().get(&user.id).await?;
            ctx.out.emit(&user, |w| {
                writeln!(
                    w,
                    "disabled {}; it cannot log in and its sessions have ended",
                    user.username
                )
            })
        }
        UserCommand::Unlock { user } => {
            let (dw, user) = open_and_resolve(ctx, user).await?;
            let cleared = dw.users().unlock(&user.id).await?;
            let user = dw.users().get(&user.id).await?;
            let report = Unlocked { cleared, user };
            ctx.out.emit(&report, |w| {
                if report.cleared {
                    writeln!(
                        w,
                        "unlocked {}: lockout lifted and failed logins forgotten",
                        report.user.username
                    )
                } else {
                    writeln!(
                        w,
                        "{} was not locked and had no failed logins; nothing to clear",
                        report.user.username
                    )
                }
            })
        }
        UserCommand::VerifyEmail { user } => {
            let (dw, user) = open_and_resolve(ctx, user).await?;
            let user = dw.users().mark_email_verified(&user.id).await?;
            ctx.out.emit(&user, |w| {
                writeln!(w, "marked the address of {} verified", user.username)
            })
        }
        UserCommand::SendReset { user } => {
            let (dw, user) = open_and_resolve(ctx, user).await?;
            let flow = dw.auth().request_password_reset(&user.email, None).await?;
            let report = ResetQueued {
                user_id: user.id,
                username: user.username,
                flow_id: flow.flow_id,
                expires_in: flow.expires_in,
            };
            ctx.out.emit(&report, |w| {
                writeln!(
                    w,
                    "reset mail for {} queued (flow {}); it leaves with the next \
                     instance that delivers events, and works for {} s",
                    report.username, report.flow_id, report.expires_in
                )
            })
        }
        UserCommand::Enable { user } => {
            let (dw, user) = open_and_resolve(ctx, user).await?;
            dw.users().enable(&user.id).await?;
            let user = dw.users().get(&user.id).await?;
            ctx.out
                .emit(&user, |w| writeln!(w, "enabled {}", user.username))
        }
        UserCommand::Delete { user } => {
            let (dw, user) = open_and_resolve(ctx, user).await?;
            dw.users().delete(&user.id).await?;
            let report = Deleted {
                deleted: true,
                user,
            };
            ctx.out.emit(&report, |w| {
                writeln!(
                    w,
                    "deleted {} ({}) with its sessions and role grants",
                    report.user.username, report.user.id
                )
            })
        }
    };
    done.map(|()| Outcome::Done)
}

async fn open_and_resolve(ctx: &Ctx, user: std::ffi::OsString) -> Result<(Doorward, User)> {
    let user = utf8("user", user)?;
    let dw = ctx.open().await?;
    let user = resolve_user(&dw, &user).await?;
    Ok((dw, user))
}

/// `disabled` wins over `locked`: unlocking would not let it in.
fn status(user: &User) -> &'static str {
    if user.disabled {
        "disabled"
    } else if is_locked(user) {
        "locked"
    } else {
        "active"
    }
}

/// A lockout that has run out is history, not a lock.
fn is_locked(user: &User) -> bool {
    user.locked_until.is_some_and(|until| until > Utc::now())
}

fn user_lines(w: &mut dyn Write, user: &User, roles: &[String]) -> io::Result<()> {
    writeln!(w, "id          {}", user.id)?;
    writeln!(w, "username    {}", user.username)?;
    writeln!(w, "email       {}", user.email)?;
    let verified = match &user.email_verified_at {
        Some(at) => format!("yes, {}", time(at)),
        None => "no".to_string(),
    };
    writeln!(w, "verified    {verified}")?;
    writeln!(w, "status      {}", status(user))?;
    writeln!(w, "failed      {} login(s) in a row", user.failed_logins)?;
    let locked = match &user.locked_until {
        Some(until) if is_locked(user) => format!("until {}", time(until)),
        Some(until) => format!("no (the last lock ended {})", time(until)),
        None => "no".to_string(),
    };
    writeln!(w, "locked      {locked}")?;
    writeln!(w, "roles       {}", roles.join(", "))?;
    writeln!(w, "created     {}", time(&user.created_at))?;
    writeln!(w, "updated     {}", time(&user.updated_at))?;
    writeln!(w, "last login  {}", time_opt(&user.last_login_at))
}

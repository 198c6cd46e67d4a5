//! `doorward events ...`, `doorward webhook ...` and `doorward audit ...`.

use std::io::Write as _;

use chrono::{DateTime, Utc};
use doorward::store::{AuditFilter, DeliveryRecord, DeliveryStatus};
use doorward::{Error, EventType, Result};
use serde::Serialize;

use super::{Ctx, Outcome};
use crate::args::{AuditCommand, EventsCommand, WebhookCommand};
use crate::output::{table, time};

#[derive(Debug, Serialize)]
struct Done {
    ok: bool,
}

fn parse_time(field: &str, value: Option<String>) -> Result<Option<DateTime<Utc>>> {
    value
        .map(|v| {
            DateTime::parse_from_rfc3339(&v)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|_| Error::validation(field, "must be an RFC 3339 time"))
        })
        .transpose()
}

fn deliveries_table(w: &mut dyn std::io::Write, items: &[DeliveryRecord]) -> std::io::Result<()> {
    let rows: Vec<Vec<String>> = items
        .iter()
        .map(|d| {
            vec![
                d.id.to_string(),
                d.webhook_id.clone(),
                d.event_type.clone(),
                d.status.as_str().to_string(),
                d.attempts.to_string(),
                d.last_error.clone().unwrap_or_default(),
            ]
        })
        .collect();
    table(
        w,
        &["ID", "WEBHOOK", "EVENT", "STATUS", "ATTEMPTS", "LAST ERROR"],
        &rows,
    )
}

pub async fn run_events(ctx: &Ctx, command: EventsCommand) -> Result<()> {
    let dw = ctx.open().await?;
    match command {
        EventsCommand::Ls { cursor, limit } => {
            let page = dw.events().list(cursor.as_deref(), limit).await?;
            ctx.out.emit(&page, |w| {
                let rows: Vec<Vec<String>> = page
                    .items
                    .iter()
                    .map(|e| {
                        vec![
                            e.seq.to_string(),
                            time(&e.occurred_at),
                            e.event_type.to_string(),
                            e.actor.clone().unwrap_or_else(|| "-".into()),
                            e.subject.clone().unwrap_or_else(|| "-".into()),
                        ]
                    })
                    .collect();
                table(w, &["SEQ", "AT", "TYPE", "ACTOR", "SUBJECT"], &rows)?;
                if let Some(next) = &page.next_cursor {
                    writeln!(w, "more: --cursor {next}")?;
                }
                Ok(())
            })
        }
        EventsCommand::Deliveries { status } => {
            let status = status.map(|s| s.parse::<DeliveryStatus>()).transpose()?;
            let items = dw
                .events()
                .deliveries(status, None, doorward::PageRequest::MAX_LIMIT)
                .await?;
            ctx.out.emit(&items, |w| deliveries_table(w, &items))
        }
        EventsCommand::Dead => {
            let items = dw.events().dead().await?;
            ctx.out.emit(&items, |w| deliveries_table(w, &items))
        }
        EventsCommand::Replay { id } => {
            dw.events().replay(id).await?;
            ctx.out.emit(&Done { ok: true }, |w| {
                writeln!(w, "delivery {id} queued again")
            })
        }
        EventsCommand::Flush => {
            dw.events().flush().await?;
            ctx.out.emit(&Done { ok: true }, |w| {
                writeln!(w, "pending events delivered")
            })
        }
    }
}

pub async fn run_webhook(ctx: &Ctx, command: WebhookCommand) -> Result<()> {
    let dw = ctx.open().await?;
    match command {
        WebhookCommand::Add { url, events } => {
            let types = doorward::events::parse_types(&events)?;
            let hook = dw.webhooks().add(&url, &types).await?;
            ctx.out.emit(&hook, |w| {
                writeln!(w, "id:     {}", hook.id)?;
                writeln!(w, "url:    {}", hook.url)?;
                writeln!(w, "secret: {}", hook.secret)?;
                writeln!(w, "(the receiver verifies signatures with this secret)")
            })
        }
        WebhookCommand::Ls => {
            let hooks = dw.webhooks().list().await?;
            ctx.out.emit(&hooks, |w| {
                let rows: Vec<Vec<String>> = hooks
                    .iter()
                    .map(|h| {
                        let types: Vec<&str> = h.event_types.iter().map(|t| t.as_str()).collect();
                        vec![
                            h.id.clone(),
                            h.url.clone(),
                            if types.is_empty() {
                                "all".to_string()
                            } else {
                                types.join(",")
                            },
                            time(&h.created_at),
                        ]
                    })
                    .collect();
                table(w, &["ID", "URL", "EVENTS", "CREATED"], &rows)
            })
        }
        WebhookCommand::Rm { id } => {
            dw.webhooks().remove(&id).await?;
            ctx.out
                .emit(&Done { ok: true }, |w| writeln!(w, "webhook {id} removed"))
        }
        WebhookCommand::Test { id } => {
            let result = dw.webhooks().test(&id).await?;
            ctx.out.emit(&result, |w| match &result.error {
                None => writeln!(w, "delivered: the receiver answered 2xx"),
                Some(e) => writeln!(w, "failed: {e}"),
            })
        }
    }
}

pub async fn run_audit(ctx: &Ctx, command: AuditCommand) -> Result<Outcome> {
    let dw = ctx.open().await?;
    match command {
        AuditCommand::Ls {
            user,
            event_type,
            since,
            until,
            cursor,
            limit,
        } => {
            let filter = AuditFilter {
                user_id: user,
                event_type: event_type.map(|t| t.parse::<EventType>()).transpose()?,
                since: parse_time("since", since)?,
                until: parse_time("until", until)?,
            };
            let page = dw.audit().list(&filter, cursor.as_deref(), limit).await?;
            ctx.out.emit(&page, |w| {
                let rows: Vec<Vec<String>> = page
                    .items
                    .iter()
                    .map(|r| {
                        vec![
                            r.seq.to_string(),
                            time(&r.occurred_at),
                            r.event_type.clone(),
                            r.outcome.clone(),
                            r.actor.clone().unwrap_or_else(|| "-".into()),
                            r.subject.clone().unwrap_or_else(|| "-".into()),
                            r.ip.clone().unwrap_or_else(|| "-".into()),
                        ]
                    })
                    .collect();
                table(
                    w,
                    &["SEQ", "AT", "TYPE", "OUTCOME", "ACTOR", "SUBJECT", "IP"],
                    &rows,
                )?;
                if let Some(next) = &page.next_cursor {
                    writeln!(w, "more: --cursor {next}")?;
                }
                Ok(())
            })?;
            Ok(Outcome::Done)
        }
        AuditCommand::Export { since } => {
            let lines = dw.audit().export(parse_time("since", since)?).await?;
            // JSON Lines either way: the format is the point of an export.
            let mut out = std::io::stdout().lock();
            out.write_all(lines.as_bytes())
                .and_then(|()| out.flush())
                .map_err(|e| Error::Internal(format!("cannot write the export: {e}")))?;
            Ok(Outcome::Done)
        }
        AuditCommand::Verify => {
            let report = dw.audit().verify().await?;
            ctx.out.emit(&report, |w| {
                if report.ok {
                    writeln!(w, "ok: {} rows, head {}", report.rows, report.head)
                } else {
                    writeln!(
                        w,
                        "TAMPERED at row {}: {}",
                        report.first_bad_seq.unwrap_or_default(),
                        report.problem.as_deref().unwrap_or_default()
                    )
                }
            })?;
            Ok(if report.ok {
                Outcome::Done
            } else {
                Outcome::Partial
            })
        }
    }
}

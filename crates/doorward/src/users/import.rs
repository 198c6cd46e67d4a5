//! Accounts in bulk: `dw.users().import_users(rows, options)` and
//! `export_users`.
//!
//! An import is for moving to doorward from another system (Django, a
//! homegrown table, another doorward): each row is checked as registration
//! would check it, and its password may be the old system's hash, kept as
//! it is until the owner's next login replaces it with argon2id.
//!
//! Rows are all checked before anything is written, so a bad row is named
//! with its position and never half-written. Without `atomic`, the good
//! rows go in and the report lists the rest; with it, one bad row writes
//! nothing. A dry run checks and reports without writing.

use std::collections::HashSet;

use serde_json::json;
use uuid::Uuid;

use super::create::username_candidate;
use super::rows::{ImportFailure, ImportOptions, ImportReport, ImportedUser, UserRow};
use super::{MAX_PAGE, Users, decode_cursor, encode_cursor, validate};
use crate::core::Core;
use crate::error::{Error, Result};
use crate::events::{Event, EventType};
use crate::page::{Page, PageRequest};
use crate::password::{self, check_importable};
use crate::rbac::DEFAULT_ROLE;
use crate::store::{NewUser, UserRecord, now};
use crate::telemetry::operation;

/// Rows written per store transaction when not `atomic`: large enough for
/// the multi-row statements to pay, small enough that a row racing a
/// registration costs one chunk's retry.
const CHUNK: usize = 1000;

/// A row that passed its own checks, before the store's.
struct Checked {
    index: usize,
    record: UserRecord,
    roles: Vec<String>,
    /// A password in clear, hashed only once every check passed.
    password: Option<String>,
    /// Whether the username was made here (and may be remade when taken).
    derived_name: bool,
}

impl Users {
    /// Import accounts from another system, each row checked as
    /// registration checks it, its password hash kept until the owner's
    /// next login replaces it with argon2id. Every row is checked before
    /// anything is written: without `atomic` the good rows go in and the
    /// report lists the rest by position; with it one bad row writes
    /// nothing; a dry run writes nothing. Emits one `UsersImported` event
    /// for the batch (no `UserRegistered` per account).
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// # let dw = doorward::Doorward::open_in_memory_for_docs().await;
    /// use doorward::{ImportOptions, UserRow};
    /// let rows = vec![
    ///     UserRow { email: "ann@example.com".into(), password_hash: Some(
    ///         "pbkdf2_sha256$1000000$IHePvaLENCssYr6d3rfWVV$osPHGtLPE8Vux2/nu0PPH9ZJpnDM9C/P7a0RIdfapbw=".into()),
    ///         ..UserRow::default() },
    ///     UserRow { email: "not an address".into(), ..UserRow::default() },
    /// ];
    /// let report = dw.users().import_users(rows, ImportOptions::default()).await.unwrap();
    /// assert_eq!(report.created[0].username, "ann");
    /// assert_eq!((report.failed[0].index, report.failed[0].field.as_deref()), (1, Some("email")));
    /// # });
    /// ```
    pub async fn import_users(
        &self,
        rows: Vec<UserRow>,
        options: ImportOptions,
    ) -> Result<ImportReport> {
        let core = &self.core;
        core.observe(operation!("users.import", rows = rows.len()), async {
            import(core, rows, options).await
        })
        .await
    }

    /// Accounts as import rows, in creation order, `limit` (1 to 500) at a
    /// time: what `doorward user export` writes. Hashes only when asked.
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// # let dw = doorward::Doorward::open_in_memory_for_docs().await;
    /// dw.users().create("ann", "ann@example.com", "correct horse battery").await.unwrap();
    /// let page = dw.users().export_users(None, 100, false).await.unwrap();
    /// assert_eq!(page.items[0].roles, ["user"]);
    /// assert!(page.items[0].password_hash.is_none());
    /// # });
    /// ```
    pub async fn export_users(
        &self,
        cursor: Option<&str>,
        limit: impl Into<Option<u32>>,
        with_hashes: bool,
    ) -> Result<Page<UserRow>> {
        let limit = limit.into();
        let core = &self.core;
        core.observe(operation!("users.export"), async {
            let page = PageRequest::new(cursor, limit);
            let limit = page.limit_within(MAX_PAGE)?;
            let after = page.cursor.map(decode_cursor).transpose()?;
            let store = core.store.for_reads();
            let mut records = store
                .list_users(after.as_ref(), &Default::default(), limit + 1)
                .await?;
            let more = records.len() > limit as usize;
            records.truncate(limit as usize);
            let mut items = Vec::with_capacity(records.len());
            for user in &records {
                items.push(UserRow {
                    id: Some(user.id.clone()),
                    username: Some(user.username.clone()),
                    email: user.email.clone(),
                    password: None,
                    password_hash: with_hashes.then(|| user.password_hash.clone()),
                    roles: store.user_roles(&user.id).await?,
                    email_verified: user.email_verified_at.is_some(),
                    disabled: user.disabled,
                    created_at: Some(user.created_at),
                });
            }
            let next_cursor = more
                .then(|| records.last())
                .flatten()
                .map(|u| encode_cursor(&(u.created_at, u.id.clone())));
            Ok(Page { items, next_cursor })
        })
        .await
    }
}

async fn import(core: &Core, rows: Vec<UserRow>, options: ImportOptions) -> Result<ImportReport> {
    let total = rows.len();
    let roles: HashSet<String> = core
        .store
        .list_roles()
        .await?
        .into_iter()
        .map(|r| r.name)
        .collect();
    let mut failed = Vec::new();
    let mut checked = Vec::with_capacity(total);
    for (index, row) in rows.into_iter().enumerate() {
        match check_row(row, &roles, core.config.password_min_length) {
            Ok((record, roles, password, derived_name)) => checked.push(Checked {
                index,
                record,
                roles,
                password,
                derived_name,
            }),
            Err(err) => failed.push(ImportFailure::new(index, &err)),
        }
    }
    let mut accepted = against_each_other(checked, &mut failed);
    against_the_store(core, &mut accepted, &mut failed).await?;
    failed.sort_by_key(|f| f.index);
    let created = |accepted: &[Checked]| {
        accepted
            .iter()
            .map(|c| ImportedUser {
                index: c.index as u64,
                id: c.record.id.clone(),
                username: c.record.username.clone(),
            })
            .collect::<Vec<_>>()
    };
    let report = |created, failed| ImportReport {
        dry_run: options.dry_run,
        total: total as u64,
        created,
        failed,
    };
    if options.dry_run || (options.atomic && !failed.is_empty()) {
        let created = if options.atomic && !failed.is_empty() {
            Vec::new()
        } else {
            created(&accepted)
        };
        return Ok(report(created, failed));
    }
    let chunk = if options.atomic {
        accepted.len().max(1)
    } else {
        CHUNK
    };
    let mut written = Vec::with_capacity(accepted.len());
    let mut done = failed.len() as u64;
    let batches: Vec<Vec<Checked>> = chunks(accepted, chunk);
    for batch in batches {
        let batch = hash_passwords(core, batch).await?;
        let size = batch.len() as u64;
        let rows: Vec<NewUser> = batch
            .iter()
            .map(|c| (c.record.clone(), c.roles.clone()))
            .collect();
        match core.store.insert_users(&rows, &[]).await {
            Ok(()) => written.extend(batch),
            Err(err) if options.atomic => return Err(err),
            Err(Error::DuplicateEmail | Error::DuplicateUsername) => {
                // A registration took a key since the check: one row at a
                // time, so only that row is refused.
                for (checked, row) in batch.into_iter().zip(rows) {
                    match core
                        .store
                        .insert_users(std::slice::from_ref(&row), &[])
                        .await
                    {
                        Ok(()) => written.push(checked),
                        Err(err @ (Error::DuplicateEmail | Error::DuplicateUsername)) => {
                            failed.push(ImportFailure::new(checked.index, &err));
                        }
                        Err(err) => return Err(err),
                    }
                }
            }
            Err(err) => return Err(err),
        }
        done += size;
        if let Some(progress) = &options.progress {
            progress(done, total as u64);
        }
    }
    failed.sort_by_key(|f| f.index);
    let created = created(&written);
    let event = Event::new(
        EventType::UsersImported,
        None,
        None,
        None,
        json!({ "created": created.len(), "failed": failed.len() }),
    );
    // The accounts are in: a lost event must not turn the report into an
    // error that invites a second import.
    match core.store.append_events(&[event]).await {
        Ok(()) => core.emitted(),
        Err(err) => tracing::warn!(error = %err, "the UsersImported event was not recorded"),
    }
    tracing::info!(
        created = created.len(),
        failed = failed.len(),
        "users imported"
    );
    Ok(report(created, failed))
}

type CheckedRow = (UserRecord, Vec<String>, Option<String>, bool);

/// A row's own checks, as registration makes them.
fn check_row(row: UserRow, roles: &HashSet<String>, min_password: usize) -> Result<CheckedRow> {
    let mail = validate::email(&row.email)?;
    let (name, derived) = match &row.username {
        Some(name) => (validate::username(name)?, false),
        None => (
            validate::username(&username_candidate(&mail.display, 0))?,
            true,
        ),
    };
    let (password, password_hash) = match (row.password, row.password_hash) {
        (Some(_), Some(_)) => {
            return Err(Error::validation(
                "password",
                "give `password` or `password_hash`, not both",
            ));
        }
        (Some(clear), None) => {
            let local = mail.display.split('@').next().unwrap_or("");
            let clear =
                validate::password(&clear, min_password, &[&name.display, &mail.display, local])?;
            (Some(clear), String::new())
        }
        (None, Some(hash)) => {
            check_importable(&hash)?;
            (None, hash)
        }
        (None, None) => (None, password::unusable()),
    };
    let id = match row.id {
        Some(id) => Uuid::parse_str(&id)
            .map_err(|_| Error::validation("id", "must be a UUID"))?
            .to_string(),
        None => Uuid::now_v7().to_string(),
    };
    let granted = if row.roles.is_empty() {
        vec![DEFAULT_ROLE.to_owned()]
    } else {
        row.roles
    };
    if let Some(missing) = granted.iter().find(|r| !roles.contains(*r)) {
        return Err(Error::validation(
            "roles",
            format!("there is no role `{missing}`"),
        ));
    }
    let mut granted = granted;
    granted.sort();
    granted.dedup();
    let at = now();
    let created_at = row.created_at.unwrap_or(at).min(at);
    let record = UserRecord {
        id,
        username: name.display,
        username_key: name.key,
        email: mail.display,
        email_key: mail.key,
        password_hash,
        disabled: row.disabled,
        created_at,
        updated_at: at,
        last_login_at: None,
        failed_logins: 0,
        credentials_version: 0,
        locked_until: None,
        email_verified_at: row.email_verified.then_some(at),
    };
    Ok((record, granted, password, derived))
}

/// Refuses the later of two rows that share an address, a username or an
/// id; a made-up username that collides is made again instead.
fn against_each_other(checked: Vec<Checked>, failed: &mut Vec<ImportFailure>) -> Vec<Checked> {
    let (mut emails, mut names, mut ids) = (HashSet::new(), HashSet::new(), HashSet::new());
    let mut accepted = Vec::with_capacity(checked.len());
    for mut row in checked {
        if !emails.insert(row.record.email_key.clone()) {
            failed.push(ImportFailure::new(row.index, &Error::DuplicateEmail));
            continue;
        }
        if !ids.insert(row.record.id.clone()) {
            failed.push(ImportFailure::new(
                row.index,
                &Error::validation("id", "another row has this id"),
            ));
            continue;
        }
        if row.derived_name {
            let mut attempt = 1;
            while names.contains(&row.record.username_key) && attempt < 20 {
                rename(&mut row.record, attempt);
                attempt += 1;
            }
        }
        if !names.insert(row.record.username_key.clone()) {
            failed.push(ImportFailure::new(row.index, &Error::DuplicateUsername));
            continue;
        }
        accepted.push(row);
    }
    accepted
}

/// Refuses rows whose address, username or id an account already has,
/// remaking made-up usernames first.
async fn against_the_store(
    core: &Core,
    accepted: &mut Vec<Checked>,
    failed: &mut Vec<ImportFailure>,
) -> Result<()> {
    let keys = |rows: &[Checked], key: fn(&UserRecord) -> &String| {
        rows.iter()
            .map(|c| key(&c.record).clone())
            .collect::<Vec<_>>()
    };
    let taken = core
        .store
        .taken_keys(
            &keys(accepted, |u| &u.email_key),
            &keys(accepted, |u| &u.username_key),
            &keys(accepted, |u| &u.id),
        )
        .await?;
    let mut batch_names: HashSet<String> = accepted
        .iter()
        .map(|c| c.record.username_key.clone())
        .collect();
    let mut kept = Vec::with_capacity(accepted.len());
    for mut row in accepted.drain(..) {
        if taken.emails.contains(&row.record.email_key) {
            failed.push(ImportFailure::new(row.index, &Error::DuplicateEmail));
            continue;
        }
        if taken.ids.contains(&row.record.id) {
            failed.push(ImportFailure::new(
                row.index,
                &Error::validation("id", "an account already has this id"),
            ));
            continue;
        }
        if taken.usernames.contains(&row.record.username_key) {
            if !row.derived_name {
                failed.push(ImportFailure::new(row.index, &Error::DuplicateUsername));
                continue;
            }
            if !rename_free(core, &mut row.record, &mut batch_names).await? {
                failed.push(ImportFailure::new(row.index, &Error::DuplicateUsername));
                continue;
            }
        }
        kept.push(row);
    }
    *accepted = kept;
    Ok(())
}

/// Tries made-up usernames with digits until one is free in the store and
/// the batch.
async fn rename_free(
    core: &Core,
    record: &mut UserRecord,
    batch_names: &mut HashSet<String>,
) -> Result<bool> {
    for attempt in 1..20 {
        rename(record, attempt);
        if batch_names.contains(&record.username_key) {
            continue;
        }
        let taken = core
            .store
            .taken_keys(&[], std::slice::from_ref(&record.username_key), &[])
            .await?;
        if taken.usernames.is_empty() {
            batch_names.insert(record.username_key.clone());
            return Ok(true);
        }
    }
    Ok(false)
}

fn rename(record: &mut UserRecord, attempt: u32) {
    let candidate = username_candidate(&record.email, attempt);
    if let Ok(name) = validate::username(&candidate) {
        record.username = name.display;
        record.username_key = name.key;
    }
}

/// Hashes the clear passwords of a chunk, as many at once as the hasher
/// allows.
async fn hash_passwords(core: &Core, batch: Vec<Checked>) -> Result<Vec<Checked>> {
    let hashed = futures_util::future::try_join_all(batch.into_iter().map(|mut c| async move {
        if let Some(clear) = c.password.take() {
            c.record.password_hash = core.hasher.hash(&clear).await?;
        }
        Ok::<_, Error>(c)
    }))
    .await?;
    Ok(hashed)
}

fn chunks(rows: Vec<Checked>, size: usize) -> Vec<Vec<Checked>> {
    let mut out = Vec::new();
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        out.push(rows.by_ref().take(size).collect());
    }
    out
}

//! `dw.users`: accounts, and accounts in bulk (import, export, search).

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyMapping, PyString};

use crate::imports::{ImportReport, UserRowPage};
use crate::oauth::Identity;
use crate::types::{Done, FlowStarted, Page, User, each};

sub_api!(
    /// Accounts: `dw.users`.
    Users,
    AsyncUsers
);

twins! {
    Users, AsyncUsers;

    /// Create an account without logging it in.
    fn create(dw, username: String, email: String, password: String) -> User {
        dw.users().create(&username, &email, &password).await.map(User::from)
    }

    /// By id (`NotFoundError` if absent).
    fn get(dw, user_id: String) -> User {
        dw.users().get(&user_id).await.map(User::from)
    }

    /// By email address, case-insensitively.
    fn get_by_email(dw, email: String) -> User {
        dw.users().get_by_email(&email).await.map(User::from)
    }

    /// By username, case-insensitively.
    fn get_by_username(dw, username: String) -> User {
        dw.users().get_by_username(&username).await.map(User::from)
    }

    /// Accounts in creation order, `limit` (1 to 500; None for the
    /// default, 50) at a time; pass `next_cursor` back for the next page.
    #[pyo3(signature = (cursor = None, limit = None))]
    fn list(dw, cursor: Option<String>, limit: Option<i64>) -> Page {
        dw.users()
            .list(cursor.as_deref(), crate::types::limit(limit))
            .await
            .map(Page::from)
    }

    /// Accounts whose email address or username starts with `query`
    /// (ignoring case), paged like `list`.
    #[pyo3(signature = (query, cursor = None, limit = None))]
    fn search(dw, query: String, cursor: Option<String>, limit: Option<i64>) -> Page {
        dw.users()
            .search(&query, cursor.as_deref(), crate::types::limit(limit))
            .await
            .map(Page::from)
    }

    /// Import accounts from another system: one dict per account, with the
    /// keys of `doorward::UserRow`; a dry run writes nothing, an atomic
    /// import all rows or none.
    #[pyo3(signature = (rows, *, dry_run = false, atomic = false))]
    fn import_users(dw, rows: Rows, dry_run: bool, atomic: bool) -> ImportReport {
        let options = doorward::ImportOptions {
            dry_run,
            atomic,
            progress: None,
        };
        dw.users()
            .import_users(rows.rows()?, options)
            .await
            .map(ImportReport::from)
    }

    /// Accounts as import rows, in creation order, `limit` (1 to 500; None
    /// for 50) at a time; password hashes only with `with_hashes`.
    #[pyo3(signature = (cursor = None, limit = None, *, with_hashes = false))]
    fn export_users(
        dw,
        cursor: Option<String>,
        limit: Option<i64>,
        with_hashes: bool,
    ) -> UserRowPage {
        dw.users()
            .export_users(cursor.as_deref(), crate::types::limit(limit), with_hashes)
            .await
            .map(UserRowPage::from)
    }

    /// How many accounts there are, disabled ones included.
    fn count(dw) -> u64 {
        dw.users().count().await
    }

    /// Change username and/or email (validated and unique as at registration).
    #[pyo3(signature = (user_id, *, username = None, email = None))]
    fn update(dw, user_id: String, username: Option<String>, email: Option<String>) -> User {
        let update = doorward::UserUpdate { username, email };
        dw.users().update(&user_id, update).await.map(User::from)
    }

    /// Change a password, proving the old one; every other session ends
    /// (`keep_session`, the caller's own, stays).
    #[pyo3(signature = (user_id, old_password, new_password, keep_session = None))]
    fn change_password(
        dw,
        user_id: String,
        old_password: String,
        new_password: String,
        keep_session: Option<String>,
    ) -> Done {
        dw.users()
            .change_password(&user_id, &old_password, &new_password, keep_session.as_deref())
            .await
    }

    /// Ask to move an account to a new address, proving the password: a
    /// link and code go to the new address, a notice to the old one.
    fn request_email_change(dw, user_id: String, new_email: String, password: String) -> FlowStarted {
        dw.users()
            .request_email_change(&user_id, &new_email, &password)
            .await
            .map(FlowStarted::from)
    }

    /// Confirm a change of address with the new address's link secret or code.
    fn confirm_email_change(dw, flow_id: String, secret: String) -> User {
        dw.users()
            .confirm_email_change(&flow_id, &secret)
            .await
            .map(User::from)
    }

    /// Mark an account's address verified without a mail (administrators).
    fn mark_email_verified(dw, user_id: String) -> User {
        dw.users().mark_email_verified(&user_id).await.map(User::from)
    }

    /// Set a password without the old one (administrators); every session ends.
    fn set_password(dw, user_id: String, new_password: String) -> Done {
        dw.users().set_password(&user_id, &new_password).await
    }

    /// Disable an account: no logins, and its sessions end now.
    fn disable(dw, user_id: String) -> Done {
        dw.users().disable(&user_id).await
    }

    /// Enable a disabled account.
    fn enable(dw, user_id: String) -> Done {
        dw.users().enable(&user_id).await
    }

    /// Lift a lockout and forget failed logins; whether there was anything to clear.
    fn unlock(dw, user_id: String) -> bool {
        dw.users().unlock(&user_id).await
    }

    /// Delete an account with its sessions and grants.
    fn delete(dw, user_id: String) -> Done {
        dw.users().delete(&user_id).await
    }

    /// The account's identities at OAuth providers.
    fn identities(dw, user_id: String) -> Vec<Identity> {
        dw.users().identities(&user_id).await.map(each)
    }
}

/// The rows of an import from Python: a sequence of mappings with the keys
/// of `doorward::UserRow` (`created_at` an RFC 3339 string or an aware
/// `datetime`). Read while the GIL is held, since the core gets them after
/// the call returns; a row that does not convert is the core's
/// `validation_error` on `rows`, naming the row and the key but never a
/// value (it may be a password), raised where the core's own errors are (by
/// the call, or by awaiting it).
pub struct Rows(Result<Vec<doorward::UserRow>, String>);

impl Rows {
    fn rows(self) -> doorward::Result<Vec<doorward::UserRow>> {
        self.0
            .map_err(|why| doorward::Error::validation("rows", why))
    }
}

impl<'a, 'py> FromPyObject<'a, 'py> for Rows {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        let not_rows = || {
            Ok(Rows(Err(
                "must be a sequence of dicts, one per account".into()
            )))
        };
        if obj.is_instance_of::<PyString>()
            || obj.is_instance_of::<PyBytes>()
            || obj.cast::<PyMapping>().is_ok()
        {
            return not_rows();
        }
        let Ok(items) = obj.try_iter() else {
            return not_rows();
        };
        let datetime = obj.py().import("datetime")?.getattr("datetime")?;
        let mut rows = Vec::new();
        for (index, item) in items.enumerate() {
            match row(index, &item?, &datetime)? {
                Ok(row) => rows.push(row),
                Err(why) => return Ok(Rows(Err(why))),
            }
        }
        Ok(Rows(Ok(rows)))
    }
}

/// One row as the core's `UserRow`, or why not.
fn row(
    index: usize,
    item: &Bound<'_, PyAny>,
    datetime: &Bound<'_, PyAny>,
) -> PyResult<Result<doorward::UserRow, String>> {
    let Ok(mapping) = item.cast::<PyMapping>() else {
        return Ok(Err(format!("row {index} is not a dict")));
    };
    let mut object = serde_json::Map::new();
    for pair in mapping.items()?.iter() {
        let (key, value): (Bound<'_, PyAny>, Bound<'_, PyAny>) = pair.extract()?;
        let Ok(key) = key.extract::<String>() else {
            return Ok(Err(format!("row {index}: keys must be strings")));
        };
        match json_value(&value, datetime)? {
            Ok(value) => object.insert(key, value),
            Err(why) => return Ok(Err(format!("row {index}: `{key}` {why}"))),
        };
    }
    Ok(
        serde_json::from_value(serde_json::Value::Object(object.clone()))
            .map_err(|err| why_not(index, &object, &err)),
    )
}

/// A value as JSON, an aware `datetime` as RFC 3339 text; why not, without
/// the value.
fn json_value(
    value: &Bound<'_, PyAny>,
    datetime: &Bound<'_, PyAny>,
) -> PyResult<Result<serde_json::Value, String>> {
    if value.is_instance(datetime)? {
        if value.call_method0("utcoffset")?.is_none() {
            return Ok(Err("is a naive datetime: give it a timezone".into()));
        }
        let text: String = value.call_method0("isoformat")?.extract()?;
        return Ok(Ok(text.into()));
    }
    Ok(pythonize::depythonize(value).map_err(|_| {
        let kind = value
            .get_type()
            .name()
            .map_or_else(|_| "value".to_owned(), |n| n.to_string());
        format!("is a `{kind}`, which has no JSON form")
    }))
}

/// Why a row does not convert, naming its key: serde's message names an
/// unknown or a missing key but not the key of a value of the wrong type,
/// so each key is tried alone (beside an email, the one required key).
/// A value is never in the message: serde's "invalid type: string
/// \"…\", expected a boolean" keeps only what was expected.
fn why_not(
    index: usize,
    row: &serde_json::Map<String, serde_json::Value>,
    err: &serde_json::Error,
) -> String {
    let culprit = row.iter().find_map(|(key, value)| {
        let mut alone = serde_json::Map::new();
        alone.insert("email".into(), String::new().into());
        alone.insert(key.clone(), value.clone());
        serde_json::from_value::<doorward::UserRow>(alone.into())
            .err()
            .map(|err| (key, err))
    });
    let (key, err) = match &culprit {
        Some((key, err)) => (Some(key.as_str()), err),
        None => (None, err),
    };
    let text = err.to_string();
    // Python has keys where serde has fields.
    for (serde, python) in [
        ("unknown field", "unknown key"),
        ("missing field", "missing key"),
    ] {
        if let Some(rest) = text.strip_prefix(serde) {
            return format!("row {index}: {python}{rest}");
        }
    }
    let why = match text.split_once(", expected ") {
        Some((_, expected)) => format!("expected {expected}"),
        None => text,
    };
    match key {
        Some(key) => format!("row {index}: `{key}`: {why}"),
        None => format!("row {index}: {why}"),
    }
}

//! The rows of `users.importUsers`, read from JavaScript one key at a time:
//! each row converts on its own, so one that does not (not an object, an
//! unknown key, a value of the wrong type) is named by its index and its
//! key in a `validation_error` on `rows`, never by its value (a password,
//! a hash). `undefined` and `null` are an absent key.

use chrono::{DateTime, Utc};
use napi::bindgen_prelude::{Array, JsObjectValue, Object, Unknown};
use napi::{JsDate, JsValue, ValueType};

/// The keys of a row, camelCase as in the `UserRow` type.
const KEYS: &str =
    "id, username, email, password, passwordHash, roles, emailVerified, disabled, createdAt";

/// Why a row did not convert, in words that never hold its values.
type Refusal = String;

/// Each element of `rows` as the core's row, or why it is not one.
pub(crate) fn read(rows: &Array<'_>) -> napi::Result<Vec<Result<doorward::UserRow, Refusal>>> {
    let mut out = Vec::with_capacity(rows.len() as usize);
    for index in 0..rows.len() {
        let row = rows
            .get::<Unknown<'_>>(index)?
            .ok_or_else(|| napi::Error::from_reason("the rows changed while being read"))?;
        out.push(match read_row(&row) {
            Ok(row) => Ok(row),
            Err(Unread::Refused(why)) => Err(why),
            Err(Unread::Js(err)) => return Err(err),
        });
    }
    Ok(out)
}

/// The rows, or the `validation_error` on `rows` naming the first that did
/// not convert.
pub(crate) fn checked(
    rows: Vec<Result<doorward::UserRow, Refusal>>,
) -> doorward::Result<Vec<doorward::UserRow>> {
    rows.into_iter()
        .enumerate()
        .map(|(index, row)| {
            row.map_err(|why| doorward::Error::validation("rows", format!("row {index}: {why}")))
        })
        .collect()
}

/// Why a row was not read: N-API's own error (a throwing getter, say), or
/// the row's refusal.
enum Unread {
    Js(napi::Error),
    Refused(Refusal),
}

impl From<napi::Error> for Unread {
    fn from(err: napi::Error) -> Self {
        Unread::Js(err)
    }
}

fn read_row(row: &Unknown<'_>) -> Result<doorward::UserRow, Unread> {
    if row.get_type()? != ValueType::Object || row.is_array()? {
        return Err(Unread::Refused("not an object".into()));
    }
    let object = row.coerce_to_object()?;
    let mut out = doorward::UserRow::default();
    let mut email = None;
    for key in Object::keys(&object)? {
        let Some(value) = object.get::<Unknown<'_>>(&key)? else {
            continue;
        };
        let kind = value.get_type()?;
        if kind == ValueType::Null {
            continue;
        }
        let field = Field {
            object: &object,
            key: &key,
            value,
            kind,
        };
        match key.as_str() {
            "id" => out.id = Some(field.string()?),
            "username" => out.username = Some(field.string()?),
            "email" => email = Some(field.string()?),
            "password" => out.password = Some(field.string()?),
            "passwordHash" => out.password_hash = Some(field.string()?),
            "roles" => out.roles = field.strings()?,
            "emailVerified" => out.email_verified = field.boolean()?,
            "disabled" => out.disabled = field.boolean()?,
            "createdAt" => out.created_at = Some(field.date()?),
            _ => {
                return Err(Unread::Refused(format!(
                    "unknown key `{key}` (the keys are {KEYS})"
                )));
            }
        }
    }
    out.email = email.ok_or_else(|| Unread::Refused("`email` is required".into()))?;
    Ok(out)
}

/// One present, non-null key of a row.
struct Field<'a, 'env> {
    object: &'a Object<'env>,
    key: &'a str,
    value: Unknown<'env>,
    kind: ValueType,
}

impl Field<'_, '_> {
    fn refused(&self, what: &str) -> Unread {
        Unread::Refused(format!("`{}` must be {what}", self.key))
    }

    fn string(&self) -> Result<String, Unread> {
        if self.kind != ValueType::String {
            return Err(self.refused("a string"));
        }
        Ok(self.object.get::<String>(self.key)?.unwrap_or_default())
    }

    fn boolean(&self) -> Result<bool, Unread> {
        if self.kind != ValueType::Boolean {
            return Err(self.refused("true or false"));
        }
        Ok(self.object.get::<bool>(self.key)?.unwrap_or_default())
    }

    fn strings(&self) -> Result<Vec<String>, Unread> {
        let refused = || self.refused("a list of strings");
        if !self.value.is_array()? {
            return Err(refused());
        }
        let list = self.value.coerce_to_object()?;
        let length = list.get_array_length()?;
        let mut out = Vec::with_capacity(length as usize);
        for index in 0..length {
            if list.get_element::<Unknown<'_>>(index)?.get_type()? != ValueType::String {
                return Err(refused());
            }
            out.push(list.get_element::<String>(index)?);
        }
        Ok(out)
    }

    fn date(&self) -> Result<DateTime<Utc>, Unread> {
        let refused = || self.refused("an ISO 8601 (RFC 3339) date string or a valid Date");
        if self.kind == ValueType::String {
            let text = self.object.get::<String>(self.key)?.unwrap_or_default();
            return DateTime::parse_from_rfc3339(&text)
                .map(|at| at.with_timezone(&Utc))
                .map_err(|_| refused());
        }
        if !self.value.is_date()? {
            return Err(refused());
        }
        let millis = self
            .object
            .get::<JsDate<'_>>(self.key)?
            .ok_or_else(refused)?
            .value_of()?;
        if !millis.is_finite() {
            return Err(refused());
        }
        DateTime::from_timestamp_millis(millis as i64).ok_or_else(refused)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_row_that_did_not_convert_is_named_by_index() {
        let row = |email: &str| doorward::UserRow {
            email: email.into(),
            ..doorward::UserRow::default()
        };
        let rows = checked(vec![Ok(row("a@example.com")), Ok(row("b@example.com"))]).unwrap();
        assert_eq!(rows.len(), 2);
        let err = checked(vec![
            Ok(row("a@example.com")),
            Err("`email` is required".into()),
            Err("not an object".into()),
        ])
        .unwrap_err();
        assert_eq!(err.code(), doorward::ErrorCode::ValidationError);
        assert_eq!(err.field(), Some("rows"));
        assert!(
            err.to_string().contains("row 1: `email` is required"),
            "{err}"
        );
    }
}

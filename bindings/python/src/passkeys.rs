//! `dw.passkeys`: passkeys (WebAuthn). The options go to Python as dicts,
//! and the browser's answers come back as dicts or JSON text; the core
//! reads and checks them.

use chrono::{DateTime, Utc};
use pyo3::prelude::*;
use pyo3::types::PyString;

use crate::types::{ClientInfo, Done, TokenPair, each, py_bool, q};

sub_api!(
    /// Passkeys: `dw.passkeys`.
    Passkeys,
    AsyncPasskeys
);

/// JSON for Python: a new dict (or list, or scalar) on each call.
pub struct Json(serde_json::Value);

impl From<serde_json::Value> for Json {
    fn from(value: serde_json::Value) -> Self {
        Json(value)
    }
}

impl<'py> IntoPyObject<'py> for Json {
    type Target = PyAny;
    type Output = Bound<'py, PyAny>;
    type Error = PyErr;

    fn into_pyobject(self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(pythonize::pythonize(py, &self.0)?)
    }
}

/// A browser's answer from Python: a dict (what `credential.toJSON()`
/// gave, as a web framework parsed it) or its JSON text. Read while the
/// GIL is held, since the core gets it after the call returns; what does
/// not convert is the core's `validation_error` on `response`, raised where
/// the core's own errors are (by the call, or by awaiting it).
pub struct Response(Result<serde_json::Value, String>);

impl Response {
    fn value(self) -> doorward::Result<serde_json::Value> {
        self.0
            .map_err(|why| doorward::Error::validation("response", why))
    }
}

impl<'a, 'py> FromPyObject<'a, 'py> for Response {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        let value = match obj.cast::<PyString>() {
            Ok(text) => {
                serde_json::from_str(&text.to_cow()?).map_err(|e| format!("is not JSON: {e}"))
            }
            Err(_) => pythonize::depythonize(&obj).map_err(|e| format!("is not JSON: {e}")),
        };
        Ok(Response(value))
    }
}

/// A registered passkey, as listed: nothing secret.
#[pyclass(frozen, eq, hash, get_all, module = "doorward")]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PasskeyInfo {
    id: String,
    name: String,
    created_at: DateTime<Utc>,
    last_used_at: Option<DateTime<Utc>>,
    backup_eligible: bool,
    backup_state: bool,
    sign_count: u32,
}

#[pymethods]
impl PasskeyInfo {
    fn __repr__(&self) -> String {
        format!(
            "PasskeyInfo(id={}, name={}, backup_eligible={}, sign_count={})",
            q(&self.id),
            q(&self.name),
            py_bool(self.backup_eligible),
            self.sign_count
        )
    }
}

impl From<doorward::PasskeyInfo> for PasskeyInfo {
    fn from(p: doorward::PasskeyInfo) -> Self {
        PasskeyInfo {
            id: p.id,
            name: p.name,
            created_at: p.created_at,
            last_used_at: p.last_used_at,
            backup_eligible: p.backup_eligible,
            backup_state: p.backup_state,
            sign_count: p.sign_count,
        }
    }
}

twins! {
    Passkeys, AsyncPasskeys;

    /// Options for `navigator.credentials.create()`, as a dict:
    /// `{"publicKey": {...}}`.
    fn start_registration(dw, user_id: String) -> Json {
        dw.passkeys().start_registration(&user_id).await
    }

    /// Register the passkey the browser created (its `credential.toJSON()`)
    /// under `name`.
    fn finish_registration(dw, user_id: String, response: Response, name: String) -> PasskeyInfo {
        let response = response.value()?;
        dw.passkeys().finish_registration(&user_id, &response, &name).await
    }

    /// Options for `navigator.credentials.get()`, as a dict: for the
    /// passkeys of `username`, or with none for any of the site's.
    #[pyo3(signature = (username = None))]
    fn start_authentication(dw, username: Option<String>) -> Json {
        dw.passkeys().start_authentication(username.as_deref()).await
    }

    /// Sign in with the browser's answer: a level-2 session's tokens.
    #[pyo3(signature = (response, client = None))]
    fn finish_authentication(dw, response: Response, client: Option<ClientInfo>) -> TokenPair {
        let response = response.value()?;
        dw.passkeys()
            .finish_authentication(&response, client.as_ref().map(doorward::ClientInfo::from))
            .await
    }

    /// The account's passkeys, oldest first.
    fn list(dw, user_id: String) -> Vec<PasskeyInfo> {
        dw.passkeys().list(&user_id).await.map(each)
    }

    /// Rename one of the account's passkeys.
    fn rename(dw, user_id: String, passkey_id: String, name: String) -> Done {
        dw.passkeys().rename(&user_id, &passkey_id, &name).await
    }

    /// Remove one of the signed-in user's passkeys (needs a fresh
    /// authentication).
    fn remove(dw, access_token: String, passkey_id: String) -> Done {
        dw.passkeys().remove(&access_token, &passkey_id).await
    }
}

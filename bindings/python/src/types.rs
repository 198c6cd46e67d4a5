//! The result objects Python sees: frozen, comparable, typed attributes,
//! aware `datetime`s, and a `repr` with no token and no email address.

use std::convert::Infallible;

use chrono::{DateTime, Utc};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyNone};

/// What an operation without a result gives Python: `None`.
pub struct Done;

impl From<()> for Done {
    fn from((): ()) -> Self {
        Done
    }
}

impl<'py> IntoPyObject<'py> for Done {
    type Target = PyNone;
    type Output = Borrowed<'py, 'py, PyNone>;
    type Error = Infallible;

    fn into_pyobject(self, py: Python<'py>) -> Result<Self::Output, Self::Error> {
        Ok(PyNone::get(py))
    }
}

/// Where a login comes from: `ClientInfo(ip="203.0.113.7", user_agent="...")`.
#[pyclass(frozen, eq, hash, get_all, from_py_object, module = "doorward")]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ClientInfo {
    ip: Option<String>,
    user_agent: Option<String>,
}

#[pymethods]
impl ClientInfo {
    #[new]
    #[pyo3(signature = (ip = None, user_agent = None))]
    fn new(ip: Option<String>, user_agent: Option<String>) -> Self {
        ClientInfo { ip, user_agent }
    }

    fn __repr__(&self) -> String {
        format!(
            "ClientInfo(ip={}, user_agent={})",
            q_opt(&self.ip),
            q_opt(&self.user_agent)
        )
    }
}

impl From<&ClientInfo> for doorward::ClientInfo {
    fn from(c: &ClientInfo) -> Self {
        doorward::ClientInfo {
            ip: c.ip.clone(),
            user_agent: c.user_agent.clone(),
        }
    }
}

/// An account (never its password hash).
#[pyclass(frozen, eq, hash, get_all, module = "doorward")]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct User {
    id: String,
    username: String,
    email: String,
    disabled: bool,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    last_login_at: Option<DateTime<Utc>>,
    failed_logins: u32,
    locked_until: Option<DateTime<Utc>>,
    email_verified_at: Option<DateTime<Utc>>,
}

#[pymethods]
impl User {
    fn __repr__(&self) -> String {
        format!(
            "User(id={}, username={}, disabled={})",
            q(&self.id),
            q(&self.username),
            py_bool(self.disabled)
        )
    }

    /// The attributes as a dict (email included), for JSON responses.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("id", &self.id)?;
        d.set_item("username", &self.username)?;
        d.set_item("email", &self.email)?;
        d.set_item("disabled", self.disabled)?;
        d.set_item("created_at", self.created_at)?;
        d.set_item("updated_at", self.updated_at)?;
        d.set_item("last_login_at", self.last_login_at)?;
        d.set_item("failed_logins", self.failed_logins)?;
        d.set_item("locked_until", self.locked_until)?;
        d.set_item("email_verified_at", self.email_verified_at)?;
        Ok(d)
    }
}

impl From<doorward::User> for User {
    fn from(u: doorward::User) -> Self {
        User {
            id: u.id,
            username: u.username,
            email: u.email,
            disabled: u.disabled,
            created_at: u.created_at,
            updated_at: u.updated_at,
            last_login_at: u.last_login_at,
            failed_logins: u.failed_logins,
            locked_until: u.locked_until,
            email_verified_at: u.email_verified_at,
        }
    }
}

/// An access token and the refresh token that renews it.
#[pyclass(frozen, eq, hash, get_all, module = "doorward")]
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct TokenPair {
    access_token: String,
    refresh_token: String,
    token_type: String,
    expires_in: u64,
}

#[pymethods]
impl TokenPair {
    pub(crate) fn __repr__(&self) -> String {
        format!(
            "TokenPair(token_type={}, expires_in={}, access_token=<hidden>, refresh_token=<hidden>)",
            q(&self.token_type),
            self.expires_in
        )
    }

    /// Always false: what `login` answers when no second factor is asked
    /// for (`MfaChallenge.mfa_required` is true).
    #[getter]
    fn mfa_required(&self) -> bool {
        false
    }

    /// The OAuth 2.0 token response body (RFC 6749 §5.1).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("access_token", &self.access_token)?;
        d.set_item("refresh_token", &self.refresh_token)?;
        d.set_item("token_type", &self.token_type)?;
        d.set_item("expires_in", self.expires_in)?;
        Ok(d)
    }
}

impl From<doorward::TokenPair> for TokenPair {
    fn from(t: doorward::TokenPair) -> Self {
        TokenPair {
            access_token: t.access_token,
            refresh_token: t.refresh_token,
            token_type: t.token_type,
            expires_in: t.expires_in,
        }
    }
}

/// A login waiting for its second factor: `dw.complete_mfa(flow_id, …)`
/// finishes it. The flow id works as a credential until it is used, so the
/// `repr` hides it.
#[pyclass(frozen, eq, hash, get_all, module = "doorward")]
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct MfaChallenge {
    flow_id: String,
    user_id: String,
    methods: Vec<String>,
    enrolment_required: bool,
    expires_in: u64,
}

#[pymethods]
impl MfaChallenge {
    pub(crate) fn __repr__(&self) -> String {
        format!(
            "MfaChallenge(user_id={}, methods={}, enrolment_required={}, expires_in={}, flow_id=<hidden>)",
            q(&self.user_id),
            q_list(&self.methods),
            py_bool(self.enrolment_required),
            self.expires_in
        )
    }

    /// Always true: what `login` answers when a second factor is asked for
    /// (`TokenPair.mfa_required` is false).
    #[getter]
    fn mfa_required(&self) -> bool {
        true
    }
}

impl From<doorward::MfaChallenge> for MfaChallenge {
    fn from(c: doorward::MfaChallenge) -> Self {
        MfaChallenge {
            flow_id: c.flow_id,
            user_id: c.user_id,
            methods: c.methods,
            enrolment_required: c.enrolment_required,
            expires_in: c.expires_in,
        }
    }
}

/// What `login` and `complete_sign_in` answer: a `TokenPair`, or an
/// `MfaChallenge` (Python sees one or the other).
#[derive(Clone, PartialEq, Eq, Hash)]
pub enum LoginResult {
    Tokens(TokenPair),
    MfaRequired(MfaChallenge),
}

impl From<doorward::LoginResult> for LoginResult {
    fn from(r: doorward::LoginResult) -> Self {
        match r {
            doorward::LoginResult::Tokens(t) => LoginResult::Tokens(t.into()),
            doorward::LoginResult::MfaRequired(c) => LoginResult::MfaRequired(c.into()),
        }
    }
}

impl<'py> IntoPyObject<'py> for LoginResult {
    type Target = PyAny;
    type Output = Bound<'py, PyAny>;
    type Error = PyErr;

    fn into_pyobject(self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        match self {
            LoginResult::Tokens(t) => Ok(Bound::new(py, t)?.into_any()),
            LoginResult::MfaRequired(c) => Ok(Bound::new(py, c)?.into_any()),
        }
    }
}

/// A new account and its first session's tokens.
#[pyclass(frozen, eq, hash, get_all, module = "doorward")]
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Registration {
    user: User,
    tokens: TokenPair,
}

#[pymethods]
impl Registration {
    fn __repr__(&self) -> String {
        format!(
            "Registration(user={}, tokens={})",
            self.user.__repr__(),
            self.tokens.__repr__()
        )
    }
}

impl From<doorward::Registration> for Registration {
    fn from(r: doorward::Registration) -> Self {
        Registration {
            user: r.user.into(),
            tokens: r.tokens.into(),
        }
    }
}

/// Who an access token speaks for.
#[pyclass(frozen, eq, hash, get_all, module = "doorward")]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Principal {
    user_id: String,
    username: String,
    session_id: String,
    roles: Vec<String>,
    expires_at: DateTime<Utc>,
    amr: Vec<String>,
    aal: u8,
    auth_time: DateTime<Utc>,
}

#[pymethods]
impl Principal {
    fn __repr__(&self) -> String {
        format!(
            "Principal(user_id={}, username={}, session_id={}, roles={}, expires_at={}, amr={}, aal={}, auth_time={})",
            q(&self.user_id),
            q(&self.username),
            q(&self.session_id),
            q_list(&self.roles),
            q(&self.expires_at.to_rfc3339()),
            q_list(&self.amr),
            self.aal,
            q(&self.auth_time.to_rfc3339())
        )
    }

    /// The attributes as a dict, for JSON responses.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("user_id", &self.user_id)?;
        d.set_item("username", &self.username)?;
        d.set_item("session_id", &self.session_id)?;
        d.set_item("roles", &self.roles)?;
        d.set_item("expires_at", self.expires_at)?;
        d.set_item("amr", &self.amr)?;
        d.set_item("aal", self.aal)?;
        d.set_item("auth_time", self.auth_time)?;
        Ok(d)
    }
}

impl From<doorward::Principal> for Principal {
    fn from(p: doorward::Principal) -> Self {
        Principal {
            user_id: p.user_id,
            username: p.username,
            session_id: p.session_id,
            roles: p.roles,
            expires_at: p.expires_at,
            amr: p.amr,
            aal: p.aal,
            auth_time: p.auth_time,
        }
    }
}

/// Back to the core's type, for the checks that take a principal
/// (`require_aal`, `require_recent_auth`).
impl From<&Principal> for doorward::Principal {
    fn from(p: &Principal) -> Self {
        doorward::Principal {
            user_id: p.user_id.clone(),
            username: p.username.clone(),
            session_id: p.session_id.clone(),
            roles: p.roles.clone(),
            expires_at: p.expires_at,
            amr: p.amr.clone(),
            aal: p.aal,
            auth_time: p.auth_time,
        }
    }
}

/// A live login session.
#[pyclass(frozen, eq, hash, get_all, module = "doorward")]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Session {
    id: String,
    user_id: String,
    created_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    last_refreshed_at: Option<DateTime<Utc>>,
    ip: Option<String>,
    user_agent: Option<String>,
}

#[pymethods]
impl Session {
    fn __repr__(&self) -> String {
        format!(
            "Session(id={}, user_id={}, ip={})",
            q(&self.id),
            q(&self.user_id),
            q_opt(&self.ip)
        )
    }
}

impl From<doorward::Session> for Session {
    fn from(s: doorward::Session) -> Self {
        Session {
            id: s.id,
            user_id: s.user_id,
            created_at: s.created_at,
            expires_at: s.expires_at,
            last_refreshed_at: s.last_refreshed_at,
            ip: s.ip,
            user_agent: s.user_agent,
        }
    }
}

/// A named set of permissions.
#[pyclass(frozen, eq, hash, get_all, module = "doorward")]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Role {
    name: String,
    description: String,
    permissions: Vec<String>,
    builtin: bool,
    created_at: DateTime<Utc>,
}

#[pymethods]
impl Role {
    fn __repr__(&self) -> String {
        format!(
            "Role(name={}, permissions={}, builtin={})",
            q(&self.name),
            q_list(&self.permissions),
            py_bool(self.builtin)
        )
    }
}

impl From<doorward::Role> for Role {
    fn from(r: doorward::Role) -> Self {
        Role {
            name: r.name,
            description: r.description,
            permissions: r.permissions,
            builtin: r.builtin,
            created_at: r.created_at,
        }
    }
}

/// A page class: `items`, `next_cursor`, `len()` and a short repr, made
/// from the core's `Page` of what the class wraps. Every listing returns
/// one; only the item type and the repr's noun differ.
macro_rules! page_class {
    // pyo3's `eq` and `hash` must be written here, not passed in: code they
    // generate from a caller's tokens cannot see the macro's own names.
    ($(#[$doc:meta])* hash $name:ident($item:ident from $core:ty), $noun:literal) => {
        $(#[$doc])*
        #[pyo3::pyclass(frozen, eq, hash, get_all, module = "doorward")]
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub struct $name {
            items: Vec<$item>,
            next_cursor: Option<String>,
        }
        $crate::types::page_class!(@methods $name($item from $core), $noun);
    };
    ($(#[$doc:meta])* $name:ident($item:ident from $core:ty), $noun:literal) => {
        $(#[$doc])*
        #[pyo3::pyclass(frozen, eq, get_all, module = "doorward")]
        #[derive(Debug, Clone, PartialEq)]
        pub struct $name {
            items: Vec<$item>,
            next_cursor: Option<String>,
        }
        $crate::types::page_class!(@methods $name($item from $core), $noun);
    };
    (@methods $name:ident($item:ident from $core:ty), $noun:literal) => {
        #[pyo3::pymethods]
        impl $name {
            fn __repr__(&self) -> String {
                format!(
                    concat!(stringify!($name), "(items=<{} ", $noun, ">, next_cursor={})"),
                    self.items.len(),
                    $crate::types::q_opt(&self.next_cursor)
                )
            }

            fn __len__(&self) -> usize {
                self.items.len()
            }
        }

        impl From<doorward::Page<$core>> for $name {
            fn from(p: doorward::Page<$core>) -> Self {
                $name {
                    items: p.items.into_iter().map($item::from).collect(),
                    next_cursor: p.next_cursor,
                }
            }
        }
    };
}
pub(crate) use page_class;

page_class! {
    /// One page of users and where the next one starts.
    hash Page(User from doorward::User), "users"
}

/// What asking for an account mail answers: the flow's id, for the page
/// where the code is typed, and how long its link and code work. The same
/// for an address with no account.
#[pyclass(frozen, eq, hash, get_all, module = "doorward")]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FlowStarted {
    flow_id: String,
    expires_in: u64,
}

#[pymethods]
impl FlowStarted {
    fn __repr__(&self) -> String {
        format!(
            "FlowStarted(flow_id={}, expires_in={})",
            q(&self.flow_id),
            self.expires_in
        )
    }
}

impl From<doorward::FlowStarted> for FlowStarted {
    fn from(f: doorward::FlowStarted) -> Self {
        FlowStarted {
            flow_id: f.flow_id,
            expires_in: f.expires_in,
        }
    }
}

/// What an admitted rate-limited call may still do.
#[pyclass(frozen, eq, get_all, module = "doorward")]
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    remaining: u32,
    /// Seconds until the key is back to a full burst.
    reset_after: f64,
}

#[pymethods]
impl Decision {
    fn __repr__(&self) -> String {
        format!(
            "Decision(remaining={}, reset_after={})",
            self.remaining, self.reset_after
        )
    }
}

impl From<doorward::Decision> for Decision {
    fn from(d: doorward::Decision) -> Self {
        Decision {
            remaining: d.remaining,
            reset_after: d.reset_after.as_secs_f64(),
        }
    }
}

pub(crate) fn py_bool(b: bool) -> &'static str {
    if b { "True" } else { "False" }
}

/// Python's `repr` of a string.
pub(crate) fn q(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
}

pub(crate) fn q_opt(s: &Option<String>) -> String {
    s.as_deref().map_or_else(|| "None".into(), q)
}

pub(crate) fn q_list(items: &[String]) -> String {
    let items: Vec<String> = items.iter().map(|s| q(s)).collect();
    format!("[{}]", items.join(", "))
}

/// Wraps each item of a core result list.
/// A page size from Python: `None` is the core's default, and an int
/// outside u32's range (negative, or huge) becomes a value outside every
/// listing's range, so the core refuses it with its own message.
pub(crate) fn limit(limit: Option<i64>) -> Option<u32> {
    limit.map(|l| u32::try_from(l.max(0)).unwrap_or(u32::MAX))
}

pub(crate) fn each<A, B: From<A>>(items: Vec<A>) -> Vec<B> {
    items.into_iter().map(B::from).collect()
}

//! `Doorward` and `AsyncDoorward`: opening, the authentication operations,
//! and the sub-APIs as attributes.

use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::audit::{AsyncAudit, Audit};
use crate::events::{AsyncEvents, Events};
use crate::files::{AsyncFiles, Files};
use crate::handle::Handle;
use crate::limits::{AsyncLimits, Limits};
use crate::mail::{AsyncMail, Mail};
use crate::mfa::{AsyncMfa, Mfa};
use crate::oauth::{AsyncOAuth, OAuth};
use crate::passkeys::{AsyncPasskeys, Passkeys};
use crate::roles::{AsyncRoles, Roles};
use crate::sessions::{AsyncSessions, Sessions};
use crate::types::{
    ClientInfo, Done, FlowStarted, LoginResult, Principal, Registration, TokenPair, User,
};
use crate::users::{AsyncUsers, Users};
use crate::webhooks::{AsyncWebhooks, Webhooks};

/// doorward with blocking methods that release the GIL while the core
/// works: for Django, Flask and scripts.
#[pyclass(frozen, module = "doorward")]
pub struct Doorward {
    pub(crate) handle: Arc<Handle>,
}

/// doorward with awaitable methods, driven by the binding's runtime: for
/// asyncio, FastAPI and Starlette.
#[pyclass(frozen, module = "doorward")]
pub struct AsyncDoorward {
    pub(crate) handle: Arc<Handle>,
}

fn open(
    py: Python<'_>,
    config: Option<&Bound<'_, PyAny>>,
    overrides: Option<&Bound<'_, PyDict>>,
) -> PyResult<Arc<Handle>> {
    Handle::open(py, crate::config::from_python(config, overrides)?)
}

fn client(c: Option<ClientInfo>) -> Option<doorward::ClientInfo> {
    c.as_ref().map(doorward::ClientInfo::from)
}

/// Accessors both classes share, each returning its own kind of sub-API.
macro_rules! accessors {
    (
        $class:ident,
        $users:ident,
        $roles:ident,
        $sessions:ident,
        $limits:ident,
        $files:ident,
        $events:ident,
        $webhooks:ident,
        $audit:ident,
        $mail:ident,
        $mfa:ident,
        $passkeys:ident,
        $oauth:ident
    ) => {
        #[pymethods]
        impl $class {
            /// Open the store the configuration names (migrating it and
            /// seeding the built-in roles): `config` is a dict or a TOML
            /// file path, and keyword arguments override its keys.
            #[new]
            #[pyo3(signature = (config = None, **overrides))]
            fn new(
                py: Python<'_>,
                config: Option<&Bound<'_, PyAny>>,
                overrides: Option<&Bound<'_, PyDict>>,
            ) -> PyResult<Self> {
                Ok($class {
                    handle: open(py, config, overrides)?,
                })
            }

            /// Accounts.
            #[getter]
            fn users(&self) -> $users {
                $users {
                    handle: self.handle.clone(),
                }
            }

            /// Roles and grants.
            #[getter]
            fn roles(&self) -> $roles {
                $roles {
                    handle: self.handle.clone(),
                }
            }

            /// Sessions.
            #[getter]
            fn sessions(&self) -> $sessions {
                $sessions {
                    handle: self.handle.clone(),
                }
            }

            /// Rate limits for the host's own endpoints.
            #[getter]
            fn limits(&self) -> $limits {
                $limits {
                    handle: self.handle.clone(),
                }
            }

            /// Files in the store `files_url` names.
            #[getter]
            fn files(&self) -> $files {
                $files {
                    handle: self.handle.clone(),
                }
            }

            /// Domain events: subscriptions, the outbox, webhook deliveries.
            #[getter]
            fn events(&self) -> $events {
                $events {
                    handle: self.handle.clone(),
                }
            }

            /// Webhook endpoints that receive events, signed.
            #[getter]
            fn webhooks(&self) -> $webhooks {
                $webhooks {
                    handle: self.handle.clone(),
                }
            }

            /// The hash-chained audit log.
            #[getter]
            fn audit(&self) -> $audit {
                $audit {
                    handle: self.handle.clone(),
                }
            }

            /// Outgoing mail: sending now, and the in-memory mailer.
            #[getter]
            fn mail(&self) -> $mail {
                $mail {
                    handle: self.handle.clone(),
                }
            }

            /// Second factors: TOTP authenticators and recovery codes.
            #[getter]
            fn mfa(&self) -> $mfa {
                $mfa {
                    handle: self.handle.clone(),
                }
            }

            /// Passkeys (WebAuthn): registration, sign-in, and management.
            #[getter]
            fn passkeys(&self) -> $passkeys {
                $passkeys {
                    handle: self.handle.clone(),
                }
            }

            /// Sign-in with OAuth 2.0 / OpenID Connect providers, and linking.
            #[getter]
            fn oauth(&self) -> $oauth {
                $oauth {
                    handle: self.handle.clone(),
                }
            }

            /// The store backend in use: `sqlite`, `postgres` or `memory`.
            #[getter]
            fn backend(&self, py: Python<'_>) -> PyResult<&'static str> {
                Ok(self.handle.get(py)?.backend())
            }

            /// The public verification keys as a JWKS document (empty for
            /// HS256, whose secret is never published).
            fn jwks<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
                let jwks = self
                    .handle
                    .get(py)?
                    .auth()
                    .jwks()
                    .map_err(crate::error::to_py_err)?;
                Ok(pythonize::pythonize(py, &jwks)?)
            }

            /// Raise `StepUpRequiredError` unless the principal's token was
            /// authenticated at level `aal` or above (no I/O).
            fn require_aal(
                &self,
                py: Python<'_>,
                principal: &Bound<'_, Principal>,
                aal: u8,
            ) -> PyResult<()> {
                self.handle
                    .get(py)?
                    .auth()
                    .require_aal(&principal.get().into(), aal)
                    .map_err(crate::error::to_py_err)
            }

            /// Raise `StepUpRequiredError` unless the principal's user
            /// proved who they are within the last `max_age` seconds (no I/O).
            fn require_recent_auth(
                &self,
                py: Python<'_>,
                principal: &Bound<'_, Principal>,
                max_age: u64,
            ) -> PyResult<()> {
                self.handle
                    .get(py)?
                    .auth()
                    .require_recent_auth(&principal.get().into(), max_age)
                    .map_err(crate::error::to_py_err)
            }

            fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
                Ok(format!(
                    "{}(backend='{}')",
                    stringify!($class),
                    self.handle.get(py)?.backend()
                ))
            }
        }
    };
}

accessors!(
    Doorward, Users, Roles, Sessions, Limits, Files, Events, Webhooks, Audit, Mail, Mfa, Passkeys,
    OAuth
);
accessors!(
    AsyncDoorward,
    AsyncUsers,
    AsyncRoles,
    AsyncSessions,
    AsyncLimits,
    AsyncFiles,
    AsyncEvents,
    AsyncWebhooks,
    AsyncAudit,
    AsyncMail,
    AsyncMfa,
    AsyncPasskeys,
    AsyncOAuth
);

twins! {
    Doorward, AsyncDoorward;

    /// Validate, hash and store a new user, and log them in.
    #[pyo3(signature = (username, email, password, client = None))]
    fn register_user(
        dw,
        username: String,
        email: String,
        password: String,
        client: Option<ClientInfo>,
    ) -> Registration {
        dw.auth()
            .register_user(&username, &email, &password, self::client(client))
            .await
            .map(Registration::from)
    }

    /// Log in with a username or an email address: a `TokenPair`, or an
    /// `MfaChallenge` when the account has a second factor.
    #[pyo3(signature = (login, password, client = None))]
    fn login(dw, login: String, password: String, client: Option<ClientInfo>) -> LoginResult {
        dw.auth().login(&login, &password, self::client(client)).await
    }

    /// Finish a login that answered an `MfaChallenge` with a second factor
    /// (`totp`, `recovery_code`, or `passkey` with the assertion's JSON text).
    #[pyo3(signature = (flow_id, method, proof, client = None))]
    fn complete_mfa(
        dw,
        flow_id: String,
        method: String,
        proof: String,
        client: Option<ClientInfo>,
    ) -> TokenPair {
        dw.auth()
            .complete_mfa(&flow_id, &method, &proof, self::client(client))
            .await
    }

    /// Prove who you are again within a session (`password`, `totp`,
    /// `recovery_code` or `passkey`): a new session's tokens; the old
    /// session ends.
    #[pyo3(signature = (access_token, method, proof, client = None))]
    fn step_up(
        dw,
        access_token: String,
        method: String,
        proof: String,
        client: Option<ClientInfo>,
    ) -> TokenPair {
        dw.auth()
            .step_up(&access_token, &method, &proof, self::client(client))
            .await
    }

    /// A new token pair for a refresh token, which stops working; using it
    /// again revokes its whole family (`TokenReusedError`).
    fn refresh_token(dw, refresh_token: String) -> TokenPair {
        dw.auth().refresh_token(&refresh_token).await.map(TokenPair::from)
    }

    /// End the session an access token belongs to.
    fn logout(dw, access_token: String) -> Done {
        dw.auth().logout(&access_token).await
    }

    /// Start a session without a password (administrators, a verified
    /// magic link).
    #[pyo3(signature = (user_id, client = None))]
    fn issue_tokens(dw, user_id: String, client: Option<ClientInfo>) -> TokenPair {
        dw.auth()
            .issue_tokens(&user_id, self::client(client))
            .await
            .map(TokenPair::from)
    }

    /// Mail a verification link and code to the account's address.
    fn request_email_verification(dw, user_id: String) -> FlowStarted {
        dw.auth()
            .request_email_verification(&user_id)
            .await
            .map(FlowStarted::from)
    }

    /// Verify an address with a mail's link secret or code.
    fn verify_email(dw, flow_id: String, secret: String) -> User {
        dw.auth().verify_email(&flow_id, &secret).await.map(User::from)
    }

    /// Mail a reset link and code; the same answer for an unknown address.
    #[pyo3(signature = (email, client = None))]
    fn request_password_reset(dw, email: String, client: Option<ClientInfo>) -> FlowStarted {
        dw.auth()
            .request_password_reset(&email, self::client(client))
            .await
            .map(FlowStarted::from)
    }

    /// Set a new password with a mail's link secret or code.
    fn reset_password(dw, flow_id: String, secret: String, new_password: String) -> Done {
        dw.auth().reset_password(&flow_id, &secret, &new_password).await
    }

    /// Mail a sign-in link and code; the same answer for an unknown address.
    #[pyo3(signature = (email, client = None))]
    fn request_sign_in(dw, email: String, client: Option<ClientInfo>) -> FlowStarted {
        dw.auth()
            .request_sign_in(&email, self::client(client))
            .await
            .map(FlowStarted::from)
    }

    /// Sign in with a mail's link secret or code: like a login, a
    /// `TokenPair` or an `MfaChallenge`.
    #[pyo3(signature = (flow_id, secret, client = None))]
    fn complete_sign_in(dw, flow_id: String, secret: String, client: Option<ClientInfo>) -> LoginResult {
        dw.auth()
            .complete_sign_in(&flow_id, &secret, self::client(client))
            .await
    }

    /// This instance's counters, latency histograms and gauges (outbox
    /// backlog, active sessions) as Prometheus text, for a `/metrics`
    /// route.
    fn metrics_text(dw) -> String {
        dw.metrics_text().await
    }
}

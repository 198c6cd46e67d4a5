//! `doorward._native`: the doorward core for Python.
//!
//! Every rule lives in the `doorward` crate; this module converts
//! arguments, results and errors, and bridges the core's futures to
//! blocking calls (GIL released) and asyncio awaitables. The Python package
//! around it (`python/doorward`) adds the exception classes, the framework
//! helpers and the type stubs.

#![forbid(unsafe_code)]

#[macro_use]
mod twins;

mod audit;
mod client;
mod config;
mod console;
mod error;
mod events;
mod files;
mod handle;
mod hot;
mod imports;
mod limits;
mod mail;
mod mfa;
mod oauth;
mod outbox;
mod passkeys;
mod password;
mod roles;
mod runtime;
mod sessions;
mod subscription;
mod types;
mod users;
mod webhooks;

use pyo3::prelude::*;

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<client::Doorward>()?;
    m.add_class::<client::AsyncDoorward>()?;
    m.add_class::<users::Users>()?;
    m.add_class::<users::AsyncUsers>()?;
    m.add_class::<roles::Roles>()?;
    m.add_class::<roles::AsyncRoles>()?;
    m.add_class::<sessions::Sessions>()?;
    m.add_class::<sessions::AsyncSessions>()?;
    m.add_class::<limits::Limits>()?;
    m.add_class::<limits::AsyncLimits>()?;
    m.add_class::<mail::Mail>()?;
    m.add_class::<mail::AsyncMail>()?;
    m.add_class::<mfa::Mfa>()?;
    m.add_class::<mfa::AsyncMfa>()?;
    m.add_class::<passkeys::Passkeys>()?;
    m.add_class::<passkeys::AsyncPasskeys>()?;
    m.add_class::<oauth::OAuth>()?;
    m.add_class::<oauth::AsyncOAuth>()?;
    m.add_class::<files::Files>()?;
    m.add_class::<files::AsyncFiles>()?;
    m.add_class::<events::Events>()?;
    m.add_class::<events::AsyncEvents>()?;
    m.add_class::<webhooks::Webhooks>()?;
    m.add_class::<webhooks::AsyncWebhooks>()?;
    m.add_class::<audit::Audit>()?;
    m.add_class::<audit::AsyncAudit>()?;
    m.add_class::<password::PasswordHasher>()?;
    m.add_class::<console::Console>()?;
    m.add_class::<console::ConsoleResponse>()?;
    m.add_class::<types::ClientInfo>()?;
    m.add_class::<types::User>()?;
    m.add_class::<types::TokenPair>()?;
    m.add_class::<types::MfaChallenge>()?;
    m.add_class::<types::Registration>()?;
    m.add_class::<types::Principal>()?;
    m.add_class::<types::Session>()?;
    m.add_class::<types::Role>()?;
    m.add_class::<types::Page>()?;
    m.add_class::<types::Decision>()?;
    m.add_class::<types::FlowStarted>()?;
    m.add_class::<imports::ImportedUser>()?;
    m.add_class::<imports::ImportFailure>()?;
    m.add_class::<imports::ImportReport>()?;
    m.add_class::<imports::UserRowPage>()?;
    m.add_class::<mail::Message>()?;
    m.add_class::<mfa::TotpEnrolment>()?;
    m.add_class::<mfa::RecoveryCodes>()?;
    m.add_class::<mfa::MfaStatus>()?;
    m.add_class::<passkeys::PasskeyInfo>()?;
    m.add_class::<oauth::ProviderInfo>()?;
    m.add_class::<oauth::AuthorizationStart>()?;
    m.add_class::<oauth::OAuthCompletion>()?;
    m.add_class::<oauth::ProviderTokens>()?;
    m.add_class::<oauth::Identity>()?;
    m.add_class::<files::FileInfo>()?;
    m.add_class::<files::FilePage>()?;
    m.add_class::<outbox::Event>()?;
    m.add_class::<outbox::EventPage>()?;
    m.add_class::<outbox::DeliveryRecord>()?;
    m.add_class::<subscription::Subscription>()?;
    m.add_class::<webhooks::Webhook>()?;
    m.add_class::<webhooks::WebhookTest>()?;
    m.add_class::<audit::AuditRecord>()?;
    m.add_class::<audit::AuditPage>()?;
    m.add_class::<audit::AuditVerification>()?;
    m.add_function(wrap_pyfunction!(error::error_codes, m)?)?;
    m.add_function(wrap_pyfunction!(error::http_statuses, m)?)?;
    m.add_class::<error::HttpErrorResponse>()?;
    m.add_function(wrap_pyfunction!(error::http_error_response, m)?)?;
    m.add_function(wrap_pyfunction!(runtime::_panic_for_tests, m)?)?;
    let hooks = pyo3::types::PyDict::new(m.py());
    hooks.set_item("before", wrap_pyfunction!(handle::_before_fork, m)?)?;
    hooks.set_item(
        "after_in_parent",
        wrap_pyfunction!(handle::_after_fork_in_parent, m)?,
    )?;
    hooks.set_item(
        "after_in_child",
        wrap_pyfunction!(handle::_after_fork_in_child, m)?,
    )?;
    let os = m.py().import("os")?;
    if os.hasattr("register_at_fork")? {
        os.call_method("register_at_fork", (), Some(&hooks))?;
    }
    let shutdown = wrap_pyfunction!(runtime::_shutdown, m)?;
    m.py()
        .import("atexit")?
        .call_method1("register", (shutdown,))?;
    Ok(())
}

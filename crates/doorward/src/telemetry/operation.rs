//! A public operation named once, for its span and its metrics.
//!
//! Each public operation runs in an INFO span and is timed and counted
//! under a name. Written as `#[tracing::instrument(name = ..)]` plus a
//! metrics call, the name was spelt twice and could drift; [`operation!`]
//! spells it once and [`Core::observe`] gives it to both.

use std::future::Future;

use tracing::Instrument as _;

use crate::core::Core;
use crate::error::Result;

/// A public operation about to run: the name its latency and errors are
/// counted under, and the span it runs in. Made by [`operation!`].
#[derive(Debug)]
pub(crate) struct Operation {
    pub(crate) name: &'static str,
    pub(crate) span: tracing::Span,
}

/// Names a public operation once, for its span and its metrics.
///
/// `operation!("users.get", %user_id)` is the INFO span
/// `users.get{user_id=…}` and the metrics label `operation="users.get"`.
/// Fields take `tracing::span!`'s syntax (`%user_id` is
/// `user_id = %user_id`); one recorded later is declared
/// `session_id = Empty` (`tracing::field::Empty`).
///
/// Only the fields named here are recorded: no argument reaches the span
/// unless it is listed, so a password, token or email address cannot slip
/// in through a new parameter (what `skip_all` guaranteed on
/// `#[tracing::instrument]`).
macro_rules! operation {
    ($name:literal $(, $($field:tt)+)?) => {
        $crate::telemetry::Operation {
            name: $name,
            span: ::tracing::info_span!(
                $crate::telemetry::span_name($name) $(, $($field)+)?
            ),
        }
    };
}
pub(crate) use operation;

/// The span an operation runs in: its own name, except for the few
/// operations whose spans had a name of their own before they were
/// measured, kept because hosts' traces and dashboards know them by it.
/// A `const fn`, so the name is fixed at compile time as a span's must be.
pub(crate) const fn span_name(operation: &'static str) -> &'static str {
    match operation.as_bytes() {
        b"auth.register_user" => "user_registration",
        b"auth.login" => "login",
        b"auth.verify_token" => "verify_token",
        b"auth.refresh_token" => "refresh_token",
        b"auth.logout" => "logout",
        _ => operation,
    }
}

impl Core {
    /// Run a public operation in its span: its latency and, if it fails,
    /// its error code go to the metrics under its name.
    ///
    /// Not an `async fn`: that would keep `work` in its own state and again
    /// in the instrumented block, doubling the size of every operation's
    /// future and, through operations that call others (`put_file` calls
    /// `put_stream` calls `put`), overflowing the small stacks of the
    /// threads a host polls them on.
    pub(crate) fn observe<'a, T: 'a>(
        &'a self,
        operation: Operation,
        work: impl Future<Output = Result<T>> + 'a,
    ) -> impl Future<Output = Result<T>> + 'a {
        let Operation { name, span } = operation;
        async move {
            let timer = self.metrics.time(name);
            timer.outcome(work.await)
        }
        .instrument(span)
    }
}

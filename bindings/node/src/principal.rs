//! A verified access token's `Principal`, and the roads it takes to
//! JavaScript: the conversions (each shaped by what N-API makes cheap) and
//! the pooled verification of public-key tokens.

use chrono::{DateTime, Utc};
use napi::bindgen_prelude::{Either, FnArgs, Function, Unknown};
use napi::{Env, Task};
use napi_derive::napi;

use crate::error::{to_js, transported};

/// Who an access token speaks for.
#[napi(object)]
#[derive(Debug)]
pub struct Principal {
    pub user_id: String,
    pub username: String,
    pub session_id: String,
    pub roles: Vec<String>,
    pub expires_at: DateTime<Utc>,
    /// How the session was authenticated: RFC 8176 values (`pwd`, `otp`,
    /// `email`, `hwk` or `swk` with `user` for a passkey, and `mfa` at
    /// level 2), sorted.
    pub amr: Vec<String>,
    /// Authenticator assurance level: 1, or 2 after a password and a second
    /// factor, or a passkey. See `requireAal`.
    pub aal: u8,
    /// When the user last proved who they are (the login, or the latest
    /// step-up). See `requireRecentAuth`.
    pub auth_time: DateTime<Utc>,
}

/// A `Principal` as the array of its values, in field order, which the
/// wrapper turns into the `Principal` object (`principal` in node/lib/client.ts), the
/// times in milliseconds. N-API builds an object one property at a time,
/// each a hidden-class transition and an interned key; that cost more than
/// the HS256 check itself, where an array of values and an object literal
/// in JavaScript cost a fraction of it.
#[napi]
pub type PrincipalParts = (String, String, String, Names, f64, Names, u8, f64);

/// The roles or `amr` of a principal as they cross to JavaScript: joined
/// by spaces, which the wrapper splits, when no name is empty or holds a
/// space (true of every role name doorward accepts and every RFC 8176
/// value it writes); else the array, for a token minted elsewhere with the
/// same key. N-API fills an array one element at a time through the
/// generic property store, which cost an eighth of `verifyTokenSync` for
/// two one-element arrays; `split` in JavaScript costs a fraction of it.
#[napi]
pub type Names = Either<String, Vec<String>>;

/// The function the wrapper passes to a synchronous verification, which
/// makes the `Principal` object of `PrincipalParts` given as its arguments:
/// one call into JavaScript in place of an array filled one element at a
/// time, each element a call through N-API's generic property store (a
/// sixth of `verifyTokenSync`).
#[napi]
pub type PrincipalBuilder<'a> = Function<
    'a,
    // `PrincipalParts` spelled out: through the alias, the generated
    // TypeScript would take one array argument, not eight.
    FnArgs<(String, String, String, Names, f64, Names, u8, f64)>,
    Unknown<'a>,
>;

/// The values of `p`, in `Principal`'s field order.
pub fn principal_parts(p: doorward::Principal) -> PrincipalParts {
    parts(p, names)
}

/// `PrincipalParts` with its lists of any type (napi's TypeScript generator
/// reads only the concrete alias above).
type Parts<L> = (String, String, String, L, f64, L, u8, f64);

/// The values of `p` in `Principal`'s field order, the times in
/// milliseconds, its lists as `list` makes them: the one place that order
/// is written, for the calls and for the batch's JSON.
fn parts<L>(p: doorward::Principal, list: impl Fn(Vec<String>) -> L) -> Parts<L> {
    (
        p.user_id,
        p.username,
        p.session_id,
        list(p.roles),
        p.expires_at.timestamp_millis() as f64,
        list(p.amr),
        p.aal,
        p.auth_time.timestamp_millis() as f64,
    )
}

fn names(list: Vec<String>) -> Names {
    if list
        .iter()
        .all(|name| !name.is_empty() && !name.contains(' '))
    {
        Either::A(list.join(" "))
    } else {
        Either::B(list)
    }
}

/// The way back, for `requireAal` and `requireRecentAuth`.
impl From<Principal> for doorward::Principal {
    fn from(p: Principal) -> Self {
        doorward::Principal {
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

/// Public-key verifications that need no I/O (`statelessVerify`), on
/// Node's thread pool: the tokens the wrapper's `verifyToken` calls queued
/// in one turn of the event loop, in a few batches (`node/lib/pooled.ts`),
/// each verified by the core's `verify_tokens_sync`, which checks their
/// Ed25519 signatures as one.
///
/// A batch comes back as one JSON text, an array of each token's
/// `PrincipalParts` or transported error (`crate::error::transported`):
/// `JSON.parse` makes its arrays and strings at a fraction of the cost of
/// N-API's element-at-a-time arrays. One task per batch rather than per
/// token: each task is a hand-off to a pool thread and back through
/// libuv's wake-up, which at 64 verifications in flight cost the event loop
/// and the pool's threads a quarter of what the Ed25519 checks cost.
pub struct PooledVerify {
    pub(crate) dw: doorward::Doorward,
    pub(crate) tokens: Vec<String>,
}

/// Without the tokens, which are secrets.
impl std::fmt::Debug for PooledVerify {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PooledVerify")
            .field("tokens", &self.tokens.len())
            .finish_non_exhaustive()
    }
}

/// One token's answer as the batch's JSON carries it: its parts (lists as
/// arrays), or its error.
#[derive(serde::Serialize)]
#[serde(untagged)]
enum Verdict {
    Principal(Parts<Vec<String>>),
    Error(serde_json::Value),
}

impl Task for PooledVerify {
    type Output = String;
    type JsValue = String;

    fn compute(&mut self) -> napi::Result<Self::Output> {
        let answers = doorward::error::catch_panics_sync(|| {
            Ok(self.dw.auth().verify_tokens_sync(&self.tokens))
        })
        .map_err(to_js)?;
        let verdicts: Vec<Verdict> = answers
            .into_iter()
            .map(|answer| match answer {
                Ok(principal) => Verdict::Principal(parts(principal, |list| list)),
                Err(e) => Verdict::Error(transported(&e)),
            })
            .collect();
        serde_json::to_string(&verdicts).map_err(|e| napi::Error::from_reason(e.to_string()))
    }

    fn resolve(&mut self, _env: Env, answers: Self::Output) -> napi::Result<Self::JsValue> {
        Ok(answers)
    }
}

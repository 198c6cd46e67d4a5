//! The doorward core for Node.js (napi-rs).
//!
//! Every rule lives in the `doorward` crate; this addon converts arguments,
//! results and errors, and runs each operation as a Promise on napi's tokio
//! runtime, so argon2 and I/O never block the event loop. The package around
//! it (`node/`) adds `DoorwardError`, the Express middleware and the types.
//!
//! `unsafe_code` is denied, not forbidden, here: napi-rs's macros allow it
//! on the registration code they generate; none is written by hand.

// Public, so the functions napi-rs registers count as used in test builds,
// where its registration code is compiled out.
pub mod audit;
pub mod client;
mod config;
pub mod console;
pub mod error;
pub mod events;
pub mod files;
pub mod limits;
pub mod mail;
pub mod mfa;
pub mod oauth;
pub mod passkeys;
pub mod password;
pub mod principal;
pub mod roles;
mod rows;
pub mod sessions;
pub mod telemetry;
pub mod types;
pub mod users;
pub mod webhooks;

//! One module per corpus.

pub mod config;
pub mod passwords;
pub mod permissions;
#[cfg(feature = "webhooks")]
pub mod seeds;
pub mod tokens;
pub mod validation;

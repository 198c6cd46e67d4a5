//! The `doorward` binary end to end, each test on its own SQLite file.
//!
//! Hashing is made cheap through the environment (as any deployment could),
//! except in the demo test that checks the real defaults are announced.
//!
//! The Redis tests use `DOORWARD_TEST_REDIS_URL` (default
//! `redis://127.0.0.1:6379`) when it is reachable, each under a prefix of
//! its own, and skip otherwise; `DOORWARD_REQUIRE_SERVICES=1` turns a
//! missing Redis into a failure.

mod common;

mod cache;
mod config;
mod demo;
mod events;
mod files;
mod metrics;
mod migrate;
mod output;
mod roles;
mod tokens;
mod transfer;
mod users;
mod version;

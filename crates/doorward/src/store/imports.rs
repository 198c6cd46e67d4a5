//! Many accounts at once: what an import from another system writes.
//!
//! An import of 100,000 accounts cannot afford a transaction and a round
//! trip per row, so the store takes a chunk at a time in one transaction
//! with multi-row statements; the caller checks the chunk first, and the
//! store's unique indexes still have the last word.

use std::collections::HashSet;

use async_trait::async_trait;

use crate::error::Result;
use crate::events::Event;
use crate::store::UserRecord;

/// A new account and the roles it starts with.
pub type NewUser = (UserRecord, Vec<String>);

/// Which of the lowercased addresses, usernames and ids asked about
/// accounts already use.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TakenKeys {
    /// Email keys in use.
    pub emails: HashSet<String>,
    /// Username keys in use.
    pub usernames: HashSet<String>,
    /// Ids in use.
    pub ids: HashSet<String>,
}

/// Bulk writes of accounts.
#[async_trait]
pub trait ImportStore: Send + Sync {
    /// Insert the accounts with their roles in one transaction: all or
    /// nothing. `duplicate_email` / `duplicate_username` when a unique
    /// index refuses one (an account made meanwhile), `internal` when a
    /// role does not exist.
    async fn insert_users(&self, users: &[NewUser], events: &[Event]) -> Result<()>;
    /// Which of these keys and ids accounts already use, from the primary.
    async fn taken_keys(
        &self,
        email_keys: &[String],
        username_keys: &[String],
        ids: &[String],
    ) -> Result<TakenKeys>;
}

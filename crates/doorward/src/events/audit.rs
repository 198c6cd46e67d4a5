//! The audit log: `dw.audit()`.
//!
//! Fed from the outbox by the `audit` consumer, so it records exactly the
//! committed changes, once each, in commit order. Rows are append-only and
//! hash-chained: each row's hash covers the previous row's hash and its own
//! fields, and rows are numbered 1, 2, 3, ... So [`Audit::verify`] detects
//! an edited row (its hash no longer matches), a deleted row (a gap, or a
//! broken link) and a reordered one.
//!
//! A plain SHA-256 chain only catches accidents: whoever can edit a row can
//! recompute every hash after it. With `audit_key` (kept out of the
//! database) each hash is an HMAC under that key, written
//! `hmac-sha256:{kid}:{hex}`, so rewriting history needs the key too; the
//! `kid` names the key, so a change of key shows in the chain where it
//! happened. Verifying then needs the key (and, for rows written before a
//! change of key, the old ones: `audit_previous_keys`), refuses unkeyed
//! rows, and refuses a key the chain had already moved on from, so a
//! leaked old key cannot add rows after its successor's.
//!
//! What no chain can show is the newest rows being cut off the end: record
//! the head that [`Audit::verify`] reports somewhere else (a ticket, a log
//! service) and compare.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use hmac::Mac as _;
use secrecy::ExposeSecret as _;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::{Event, MAX_PAGE};
use crate::core::Core;
use crate::error::{Error, Result};
use crate::page::PageRequest;
use crate::store::{AuditFilter, AuditRecord, Lease, now};
use crate::telemetry::operation;

/// The hash the first row links to.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// A key of a keyed chain, and the id rows name it by.
struct ChainKey {
    kid: String,
    mac: hmac::Hmac<Sha256>,
}

impl ChainKey {
    fn new(secret: &secrecy::SecretString) -> Result<ChainKey> {
        let mac = hmac::Hmac::<Sha256>::new_from_slice(secret.expose_secret().as_bytes())
            .map_err(|_| Error::Config("an audit key is not a usable HMAC key".into()))?;
        let mut id = mac.clone();
        id.update(b"doorward audit key id");
        let kid = hex::encode(&id.finalize().into_bytes()[..8]);
        Ok(ChainKey { kid, mac })
    }

    /// The key new rows are written with (`audit_key`), if any.
    fn current(config: &crate::Config) -> Result<Option<ChainKey>> {
        config.audit_key.as_ref().map(ChainKey::new).transpose()
    }

    fn prefix(&self) -> String {
        format!("{KEYED}{}:", self.kid)
    }
}

/// Walks a chain's keys for [`Audit::verify`]: which it knows, and which
/// the chain has moved on from.
struct KeyWalk {
    keys: std::collections::HashMap<String, ChainKey>,
    last: Option<String>,
    retired: std::collections::HashSet<String>,
}

impl KeyWalk {
    fn new(config: &crate::Config) -> Result<KeyWalk> {
        let mut keys = std::collections::HashMap::new();
        for secret in config.audit_previous_keys.iter().chain(&config.audit_key) {
            let key = ChainKey::new(secret)?;
            keys.insert(key.kid.clone(), key);
        }
        Ok(KeyWalk {
            keys,
            last: None,
            retired: Default::default(),
        })
    }

    /// What is wrong with the next row's hash, if anything.
    fn problem(&mut self, r: &AuditRecord) -> Option<String> {
        let Some(rest) = r.hash.strip_prefix(KEYED) else {
            if !self.keys.is_empty() {
                return Some("it is not keyed, though audit_key is set".into());
            }
            return (row_hash(r, None) != r.hash)
                .then(|| "its contents do not match its hash".into());
        };
        if self.keys.is_empty() {
            return Some("it is keyed: verifying needs audit_key".into());
        }
        let kid = rest.split(':').next().unwrap_or_default().to_string();
        let Some(key) = self.keys.get(&kid) else {
            return Some(format!(
                "it is keyed with an audit key that is not configured (id {kid})"
            ));
        };
        if self.retired.contains(&kid) {
            return Some(format!(
                "it is keyed with a key the chain had moved on from (id {kid})"
            ));
        }
        if row_hash(r, Some(key)) != r.hash {
            return Some("its contents do not match its hash".into());
        }
        if let Some(last) = self.last.replace(kid.clone())
            && last != kid
        {
            self.retired.insert(last);
        }
        None
    }
}

/// How a keyed row's hash starts.
const KEYED: &str = "hmac-sha256:";

/// The hash of a row over the previous hash and the row's fields as a JSON
/// array (fixed order, so the encoding is unambiguous): an HMAC under the
/// chain key when there is one, else SHA-256.
fn row_hash(r: &AuditRecord, key: Option<&ChainKey>) -> String {
    let fields = serde_json::json!([
        r.seq,
        r.event_id,
        r.event_type,
        r.occurred_at.timestamp_micros(),
        r.actor,
        r.subject,
        r.ip,
        r.user_agent,
        r.outcome,
        r.details,
    ]);
    let message = format!("{}\n{fields}", r.prev_hash);
    match key {
        Some(key) => {
            let mut mac = key.mac.clone();
            mac.update(message.as_bytes());
            format!(
                "{}{}",
                key.prefix(),
                hex::encode(mac.finalize().into_bytes())
            )
        }
        None => hex::encode(Sha256::digest(message.as_bytes())),
    }
}

/// Append a batch of events to the chain and move the consumer, as one
/// transaction. False if the lease was lost meanwhile.
pub(crate) async fn append(core: &Core, events: &[Event], lease: &Lease) -> Result<bool> {
    let key = ChainKey::current(&core.config)?;
    let last = core.store.last_audit().await?;
    let (mut seq, mut prev) = last.map_or((0, GENESIS.to_string()), |r| (r.seq, r.hash));
    let mut rows = Vec::with_capacity(events.len());
    for e in events {
        seq += 1;
        let mut row = AuditRecord {
            seq,
            event_id: e.id.clone(),
            event_type: e.event_type.as_str().to_string(),
            occurred_at: e.occurred_at,
            actor: e.actor.clone(),
            subject: e.subject.clone(),
            ip: e.ip.clone(),
            user_agent: e.user_agent.clone(),
            outcome: if e.event_type.is_failure() {
                "failure"
            } else {
                "success"
            }
            .to_string(),
            details: e.payload.to_string(),
            prev_hash: prev,
            hash: String::new(),
        };
        row.hash = row_hash(&row, key.as_ref());
        prev = row.hash.clone();
        rows.push(row);
    }
    core.store.append_audit(&rows, lease, now()).await
}

/// One page of audit rows, oldest first.
pub type AuditPage = crate::Page<AuditRecord>;

/// What [`Audit::verify`] found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditVerification {
    /// True when every row checks out.
    pub ok: bool,
    /// Rows checked.
    pub rows: u64,
    /// The first row that does not (its `seq`), if any.
    pub first_bad_seq: Option<u64>,
    /// What is wrong with it.
    pub problem: Option<String>,
    /// The hash of the last good row: record it elsewhere to detect a
    /// truncated log later.
    pub head: String,
}

/// Querying, exporting and verifying the audit log.
#[derive(Debug, Clone)]
pub struct Audit {
    pub(crate) core: Arc<Core>,
}

impl Audit {
    /// Rows matching the filter, oldest first, `limit` (1 to 1000; `None`
    /// for [`PageRequest::DEFAULT_LIMIT`]) at a time; `cursor` is a
    /// previous page's `next_cursor`.
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// use doorward::store::AuditFilter;
    /// let dw = doorward::Doorward::open_in_memory_for_docs().await;
    /// dw.auth().register_user("john", "john@example.com", "correct horse battery", None).await?;
    /// dw.events().flush().await?;
    /// let page = dw.audit().list(&AuditFilter::default(), None, 50).await?;
    /// let kinds: Vec<&str> = page.items.iter().map(|r| r.event_type.as_str()).collect();
    /// assert_eq!(kinds, ["UserRegistered", "LoginSucceeded"]);
    /// assert!(dw.audit().verify().await?.ok);
    /// # Ok::<(), doorward::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn list(
        &self,
        filter: &AuditFilter,
        cursor: Option<&str>,
        limit: impl Into<Option<u32>>,
    ) -> Result<AuditPage> {
        let limit = limit.into();
        self.core
            .observe(operation!("audit.list"), async {
                let page = PageRequest::new(cursor, limit);
                let limit = page.limit_within(MAX_PAGE)?;
                let after = super::seq_cursor(page.cursor)?;
                let rows = self.core.store.audit_rows(filter, after, limit + 1).await?;
                let (items, next_cursor) = super::page_of(rows, limit, |r| r.seq);
                Ok(AuditPage { items, next_cursor })
            })
            .await
    }

    /// Every row at or after `since` as JSON Lines (one JSON object per
    /// line), for shipping to a SIEM or cold storage.
    pub async fn export(&self, since: Option<DateTime<Utc>>) -> Result<String> {
        self.core
            .observe(operation!("audit.export"), async {
                let filter = AuditFilter {
                    since,
                    ..AuditFilter::default()
                };
                let mut out = String::new();
                let mut after = 0;
                loop {
                    let rows = self.core.store.audit_rows(&filter, after, MAX_PAGE).await?;
                    for r in &rows {
                        let line = serde_json::to_string(r).map_err(|e| {
                            Error::Internal(format!("cannot encode an audit row: {e}"))
                        })?;
                        out.push_str(&line);
                        out.push('\n');
                    }
                    match rows.last() {
                        Some(r) if rows.len() == MAX_PAGE as usize => after = r.seq,
                        _ => return Ok(out),
                    }
                }
            })
            .await
    }

    /// Walk the whole chain and recompute every hash, under `audit_key`
    /// when it is set (then every row must be keyed with it). The `head`
    /// is what to record elsewhere: a chain cannot show its newest rows
    /// cut off, a copy of its head can.
    pub async fn verify(&self) -> Result<AuditVerification> {
        self.core
            .observe(operation!("audit.verify"), async {
                let mut keys = KeyWalk::new(&self.core.config)?;
                let mut expected_seq = 1;
                let mut prev = GENESIS.to_string();
                let mut rows = 0;
                let all = AuditFilter::default();
                loop {
                    let page = self
                        .core
                        .store
                        .audit_rows(&all, expected_seq - 1, MAX_PAGE)
                        .await?;
                    let full = page.len() == MAX_PAGE as usize;
                    for r in page {
                        let problem = if r.seq != expected_seq {
                            Some(format!("row {expected_seq} is missing"))
                        } else if r.prev_hash != prev {
                            Some("its link to the previous row is broken".to_string())
                        } else {
                            keys.problem(&r)
                        };
                        if let Some(problem) = problem {
                            return Ok(AuditVerification {
                                ok: false,
                                rows,
                                first_bad_seq: Some(expected_seq.min(r.seq)),
                                problem: Some(problem),
                                head: prev,
                            });
                        }
                        rows += 1;
                        expected_seq += 1;
                        prev = r.hash;
                    }
                    if !full {
                        return Ok(AuditVerification {
                            ok: true,
                            rows,
                            first_bad_seq: None,
                            problem: None,
                            head: prev,
                        });
                    }
                }
            })
            .await
    }
}

//! A user's logins ("your devices"): `dw.sessions()`, and the session
//! steps other services share: starting one (`start`) and checking and
//! ending one everywhere (`live`).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;

use crate::core::Core;
use crate::error::{Error, Result};
use crate::events::{Event, EventType};
use crate::page::{Page, PageRequest};
use crate::store::{SessionRecord, now};
use crate::telemetry::operation;

mod live;
mod start;

pub(crate) use live::LiveSession;

/// A live login session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Session {
    /// The `sid` of its access tokens.
    pub id: String,
    /// Whose session.
    pub user_id: String,
    /// When the login happened.
    pub created_at: DateTime<Utc>,
    /// When it ends unless refreshed.
    pub expires_at: DateTime<Utc>,
    /// When it was last refreshed.
    pub last_refreshed_at: Option<DateTime<Utc>>,
    /// Client address at login.
    pub ip: Option<String>,
    /// Client user agent at login.
    pub user_agent: Option<String>,
}

impl From<SessionRecord> for Session {
    fn from(r: SessionRecord) -> Self {
        Session {
            id: r.id,
            user_id: r.user_id,
            created_at: r.created_at,
            expires_at: r.expires_at,
            last_refreshed_at: r.last_refreshed_at,
            ip: r.ip,
            user_agent: r.user_agent,
        }
    }
}

/// The session service.
#[derive(Debug, Clone)]
pub struct Sessions {
    pub(crate) core: Arc<Core>,
}

impl Sessions {
    /// A user's live sessions, newest first. Read from a replica when
    /// `database_read_urls` names some, so a session just started or ended
    /// may show a moment late; `verify_token` always asks the primary (or
    /// Redis).
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// # let dw = doorward::Doorward::open_in_memory_for_docs().await;
    /// let reg = dw.auth().register_user("ann", "ann@example.com", "correct horse battery", None).await.unwrap();
    /// dw.auth().login("ann", "correct horse battery", None).await.unwrap();
    /// assert_eq!(dw.sessions().list(&reg.user.id).await.unwrap().len(), 2);
    /// assert_eq!(dw.sessions().revoke_all(&reg.user.id).await.unwrap(), 2);
    /// assert!(dw.sessions().list(&reg.user.id).await.unwrap().is_empty());
    /// # });
    /// ```
    pub async fn list(&self, user_id: &str) -> Result<Vec<Session>> {
        self.core
            .observe(operation!("sessions.list", %user_id), async {
                let store = self.core.store.for_reads();
                if store.user_by_id(user_id).await?.is_none() {
                    return Err(Error::not_found("user"));
                }
                Ok(store
                    .live_sessions(user_id, now())
                    .await?
                    .into_iter()
                    .map(Session::from)
                    .collect())
            })
            .await
    }

    /// Every account's live sessions, oldest first, `limit` (1 to 1000;
    /// `None` for 50) at a time: what an administrator's session list
    /// pages through. Read like [`Sessions::list`].
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// # let dw = doorward::Doorward::open_in_memory_for_docs().await;
    /// for name in ["ann", "bob"] {
    ///     dw.auth().register_user(name, &format!("{name}@example.com"), "correct horse battery", None).await.unwrap();
    /// }
    /// let first = dw.sessions().list_all(None, 1).await.unwrap();
    /// let rest = dw.sessions().list_all(first.next_cursor.as_deref(), 1).await.unwrap();
    /// assert_ne!(first.items[0].user_id, rest.items[0].user_id);
    /// # });
    /// ```
    pub async fn list_all(
        &self,
        cursor: Option<&str>,
        limit: impl Into<Option<u32>>,
    ) -> Result<Page<Session>> {
        let limit = limit.into();
        self.core
            .observe(operation!("sessions.list_all"), async {
                let page = PageRequest::new(cursor, limit);
                let limit = page.limit_within(PageRequest::MAX_LIMIT)?;
                let after = page.cursor.map(crate::users::decode_cursor).transpose()?;
                let mut rows = self
                    .core
                    .store
                    .for_reads()
                    .all_live_sessions(now(), after.as_ref(), limit + 1)
                    .await?;
                let more = rows.len() > limit as usize;
                rows.truncate(limit as usize);
                let next_cursor = more
                    .then(|| rows.last())
                    .flatten()
                    .map(|s| crate::users::encode_cursor(&(s.created_at, s.id.clone())));
                Ok(Page {
                    items: rows.into_iter().map(Session::from).collect(),
                    next_cursor,
                })
            })
            .await
    }

    /// End one session: its refresh token stops working and its access
    /// tokens fail `verify_token` at once. `not_found` if it is not live.
    pub async fn revoke(&self, session_id: &str) -> Result<()> {
        self.core
            .observe(operation!("sessions.revoke", %session_id), async {
                let owner = self
                    .core
                    .store
                    .session(session_id)
                    .await?
                    .ok_or_else(|| Error::not_found("session"))?
                    .user_id;
                let event = Event::by_host(
                    EventType::SessionRevoked,
                    &owner,
                    json!({ "user_id": owner, "session_ids": [session_id] }),
                );
                if !self
                    .core
                    .store
                    .revoke_session(session_id, now(), "revoked", &[event])
                    .await?
                {
                    return Err(Error::not_found("session"));
                }
                self.core.sessions_ended(&[session_id.to_string()]).await;
                tracing::info!(session_id, "session revoked");
                Ok(())
            })
            .await
    }

    /// End every session of a user; returns how many were live.
    pub async fn revoke_all(&self, user_id: &str) -> Result<u64> {
        self.core
            .observe(operation!("sessions.revoke_all", %user_id), async {
                if self.core.store.user_by_id(user_id).await?.is_none() {
                    return Err(Error::not_found("user"));
                }
                let ended = self
                    .core
                    .store
                    .revoke_user_sessions(
                        user_id,
                        None,
                        now(),
                        "revoked",
                        &[Event::by_host(
                            EventType::SessionRevoked,
                            user_id,
                            json!({ "user_id": user_id, "session_ids": "all" }),
                        )],
                    )
                    .await?;
                self.core.sessions_ended(&ended).await;
                tracing::info!(user_id, count = ended.len(), "sessions revoked");
                Ok(ended.len() as u64)
            })
            .await
    }
}

//! Refresh-token rotation, reuse detection and the grace window for a
//! client retrying a refresh whose answer it lost.

use chrono::{DateTime, Utc};
use serde_json::json;
use tracing::field::Empty;

use super::assurance::Assurance;
use super::{Auth, TokenPair, outcome};
use crate::error::{Error, Result};
use crate::events::{Event, EventType};
use crate::store::{RefreshRecord, Rotation, SessionRecord, UserRecord, now};
use crate::telemetry::operation;
use crate::token::refresh;

impl Auth {
    /// Trade a refresh token for a new pair; the old refresh token stops
    /// working.
    ///
    /// Presenting a refresh token that was already rotated means it leaked or
    /// raced: the answer is `token_reused` and the whole session (every token
    /// of the family) is revoked. With `refresh_reuse_grace` set, a token
    /// presented again within that many seconds of its rotation is taken as
    /// a retry whose answer was lost: it gets the same refresh token it got
    /// the first time (and a fresh access token), never a second chain.
    ///
    /// The rotation commits only if the session is still live when it does,
    /// so a refresh racing a logout, a revocation, a disable or a password
    /// change never hands out a pair for the ended session.
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// # let dw = doorward::Doorward::open_in_memory_for_docs().await;
    /// let reg = dw.auth().register_user("john", "john@example.com", "correct horse battery", None).await?;
    /// let next = dw.auth().refresh_token(&reg.tokens.refresh_token).await?;
    /// let again = dw.auth().refresh_token(&reg.tokens.refresh_token).await;
    /// assert_eq!(again.unwrap_err().code().as_str(), "token_reused");
    /// // Reuse ended the whole family, the new token with it.
    /// let after = dw.auth().refresh_token(&next.refresh_token).await;
    /// assert_eq!(after.unwrap_err().code().as_str(), "token_revoked");
    /// # Ok::<(), doorward::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn refresh_token(&self, refresh_token: &str) -> Result<TokenPair> {
        let result = self
            .core
            .observe(
                operation!("auth.refresh_token", session_id = Empty),
                async {
                    self.core.keys()?;
                    let token_hash = refresh::parse(refresh_token)?;
                    let store = &self.core.store;
                    let record = store
                        .refresh_token(&token_hash)
                        .await?
                        .ok_or_else(|| Error::token_invalid("unknown refresh token"))?;
                    tracing::Span::current().record("session_id", record.session_id.as_str());
                    let at = now();
                    // A rotated token is reuse whatever state its family is in now.
                    if let Some(used_at) = record.used_at {
                        return self.retried(refresh_token, &record, used_at, at).await;
                    }
                    let (session, user) = match self.live(&record, at).await {
                        Err(Error::TokenRevoked) => {
                            // A racing refresh may have rotated this token, and
                            // another revoked the family on seeing that, since it
                            // was read above: then this is reuse too, like every
                            // other loser of the race.
                            let used_at = store
                                .refresh_token(&token_hash)
                                .await?
                                .and_then(|r| r.used_at);
                            return match used_at {
                                Some(used_at) => {
                                    self.retried(refresh_token, &record, used_at, at).await
                                }
                                None => Err(Error::TokenRevoked),
                            };
                        }
                        other => other?,
                    };
                    // Everything the answer needs is made before the rotation
                    // commits, so no failure after it can burn the token: a
                    // retry after an error finds it unused.
                    let (new_token, new_record) =
                        self.core
                            .successor_refresh(refresh_token, &session.id, &user.id)?;
                    let roles = store.user_roles(&user.id).await?;
                    let (access_token, expires_in) = self.core.access_token(
                        &user,
                        &session.id,
                        roles,
                        &Assurance::of_session(&session),
                    )?;
                    let refreshed = [Event::by_user(
                        EventType::TokenRefreshed,
                        &user.id,
                        None,
                        Event::user_payload(
                            &user.id,
                            &user.username,
                            json!({ "session_id": session.id }),
                        ),
                    )];
                    match store
                        .rotate_refresh(&token_hash, &new_record, at, &refreshed)
                        .await?
                    {
                        Rotation::Rotated => {}
                        Rotation::Ended => return Err(Error::TokenRevoked),
                        Rotation::AlreadyUsed => {
                            // Lost a race to another caller with the same token.
                            let used_at = store
                                .refresh_token(&token_hash)
                                .await?
                                .and_then(|r| r.used_at)
                                .unwrap_or(at);
                            return self.retried(refresh_token, &record, used_at, now()).await;
                        }
                    }
                    self.core
                        .session_extended(&session.id, &user.id, new_record.expires_at)
                        .await;
                    Ok(TokenPair::new(access_token, new_token, expires_in))
                },
            )
            .await;
        self.core.metrics.count(
            "doorward_token_refreshes_total",
            &[("outcome", outcome(&result))],
        );
        result
    }

    /// The session and user of an unused token, if both are still live.
    async fn live(
        &self,
        record: &RefreshRecord,
        at: DateTime<Utc>,
    ) -> Result<(SessionRecord, UserRecord)> {
        let store = &self.core.store;
        let session = store
            .session(&record.session_id)
            .await?
            .filter(|s| s.revoked_at.is_none())
            .ok_or(Error::TokenRevoked)?;
        if session.expires_at <= at || record.expires_at <= at {
            return Err(Error::TokenExpired);
        }
        let user = store
            .user_by_id(&record.user_id)
            .await?
            .filter(|u| !u.disabled)
            .ok_or(Error::TokenRevoked)?;
        Ok((session, user))
    }

    /// A token presented again after it was rotated (`used_at`). Within
    /// the grace window that is a retry: the successor it was rotated into,
    /// if that one is still unused and its session live, with a fresh
    /// access token; nothing is written. Anything else is reuse.
    async fn retried(
        &self,
        token: &str,
        record: &RefreshRecord,
        used_at: DateTime<Utc>,
        at: DateTime<Utc>,
    ) -> Result<TokenPair> {
        let grace = chrono::Duration::seconds(self.core.config.refresh_reuse_grace as i64);
        if grace <= chrono::Duration::zero() || at - used_at > grace {
            return self.reused(&record.session_id, &record.user_id).await;
        }
        let (successor, expected) =
            self.core
                .successor_refresh(token, &record.session_id, &record.user_id)?;
        let store = &self.core.store;
        let next = store
            .refresh_token(&expected.token_hash)
            .await?
            .filter(|r| r.session_id == record.session_id && r.used_at.is_none());
        let Some(next) = next else {
            // The chain moved on past the successor (or the signing key
            // changed since): not a lost answer.
            return self.reused(&record.session_id, &record.user_id).await;
        };
        let (session, user) = self.live(&next, at).await?;
        let roles = store.user_roles(&user.id).await?;
        let (access_token, expires_in) =
            self.core
                .access_token(&user, &session.id, roles, &Assurance::of_session(&session))?;
        tracing::info!("refresh retried within the grace window: its successor again");
        Ok(TokenPair::new(access_token, successor, expires_in))
    }

    async fn reused(&self, session_id: &str, user_id: &str) -> Result<TokenPair> {
        let detected = [Event::by_user(
            EventType::TokenReuseDetected,
            user_id,
            None,
            json!({ "user_id": user_id, "session_id": session_id }),
        )];
        if self
            .core
            .store
            .revoke_session(session_id, now(), "reuse", &detected)
            .await?
        {
            self.core.sessions_ended(&[session_id.to_string()]).await;
        } else {
            // Already ended (an earlier reuse, a logout): still worth a record.
            self.core.store.append_events(&detected).await?;
        }
        self.core
            .metrics
            .count("doorward_token_reuse_detected_total", &[]);
        tracing::warn!(user_id, session_id, "refresh token reuse: session revoked");
        Err(Error::TokenReused)
    }
}

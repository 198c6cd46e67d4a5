//! Starting a session: the one step behind registration, login and issued
//! tokens, so each of them stores the same session, emits the same event
//! and answers the same way when the account changed under it.

use uuid::Uuid;

use crate::auth::assurance::Assurance;
use crate::auth::{ClientInfo, TokenPair};
use crate::core::Core;
use crate::error::{Error, Result};
use crate::events::{Event, EventType};
use crate::store::{SessionRecord, UserRecord};

/// Longest client address and user agent kept with a session.
const MAX_CLIENT_FIELD: usize = 512;

impl Core {
    /// Log `user` in: a new session (refresh-token family) and a token pair,
    /// recorded as a LoginSucceeded event whose `method` says how
    /// (`password`, `registration`, `issued`, `email`, `totp`, ...) and
    /// whose `amr` and `aal` say what that proved.
    ///
    /// `user` is the account as the caller read it before its checks: the
    /// session is only stored if it is still enabled with the same
    /// credentials. Otherwise the answer is `user_disabled`, or
    /// `invalid_credentials` when its password changed meanwhile, or
    /// `not_found` when it is gone.
    pub(crate) async fn start_session(
        &self,
        user: &UserRecord,
        client: Option<&ClientInfo>,
        method: &str,
        assurance: Assurance,
    ) -> Result<TokenPair> {
        let session_id = Uuid::now_v7().to_string();
        let (refresh_token, record) = self.new_refresh(&session_id, &user.id);
        let clip = |v: &Option<String>| {
            v.as_ref()
                .map(|s| s.chars().take(MAX_CLIENT_FIELD).collect::<String>())
        };
        let session = SessionRecord {
            id: session_id.clone(),
            user_id: user.id.clone(),
            created_at: record.created_at,
            expires_at: record.expires_at,
            last_refreshed_at: None,
            ip: client.and_then(|c| clip(&c.ip)),
            user_agent: client.and_then(|c| clip(&c.user_agent)),
            revoked_at: None,
            revoked_reason: None,
            amr: assurance.amr.clone(),
            aal: assurance.aal,
            auth_time: assurance.auth_time,
        };
        let roles = self.store.user_roles(&user.id).await?;
        let (access_token, expires_in) = self.access_token(user, &session_id, roles, &assurance)?;
        let event = Event::by_user(
            EventType::LoginSucceeded,
            &user.id,
            client,
            Event::user_payload(
                &user.id,
                &user.username,
                serde_json::json!({
                    "session_id": session_id,
                    "method": method,
                    "amr": assurance.amr,
                    "aal": assurance.aal,
                }),
            ),
        );
        let started = self
            .store
            .create_session(&session, &record, user.credentials_version, &[event])
            .await?;
        if !started {
            return Err(match self.store.user_by_id(&user.id).await? {
                None => Error::not_found("user"),
                Some(now) if now.disabled => Error::UserDisabled,
                Some(_) => Error::InvalidCredentials,
            });
        }
        self.emitted();
        self.session_extended(&session_id, &user.id, session.expires_at)
            .await;
        tracing::info!(user_id = %user.id, session_id = %session_id, "session started");
        Ok(TokenPair::new(access_token, refresh_token, expires_in))
    }
}

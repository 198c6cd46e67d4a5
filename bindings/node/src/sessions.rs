//! `dw.sessions`: live sessions.

use napi_derive::napi;

use crate::error::guarded;
use crate::types::{Session, each};

/// Sessions: `dw.sessions`.
#[napi]
#[derive(Debug)]
pub struct Sessions {
    pub(crate) dw: doorward::Doorward,
}

#[napi]
impl Sessions {
    /// A user's live sessions, newest first.
    #[napi]
    pub async fn list(&self, user_id: String) -> napi::Result<Vec<Session>> {
        guarded(self.dw.sessions().list(&user_id)).await.map(each)
    }

    /// End one session now (`not_found` if it is not live).
    #[napi]
    pub async fn revoke(&self, session_id: String) -> napi::Result<()> {
        guarded(self.dw.sessions().revoke(&session_id)).await
    }

    /// End every session of a user; how many were live.
    #[napi]
    pub async fn revoke_all(&self, user_id: String) -> napi::Result<u32> {
        guarded(self.dw.sessions().revoke_all(&user_id))
            .await
            .map(|n| u32::try_from(n).unwrap_or(u32::MAX))
    }
}

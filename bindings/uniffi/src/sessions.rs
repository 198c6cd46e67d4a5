//! Live sessions: `doorward.sessions()`.

use crate::error::{DoorwardError, call};
use crate::types::{Session, each};

/// Sessions: `doorward.sessions()`.
#[derive(Debug, uniffi::Object)]
pub struct Sessions {
    pub(crate) dw: doorward::Doorward,
}

export! {
    impl Sessions {
        /// A user's live sessions, newest first.
        pub async fn list(&self, user_id: String) -> Result<Vec<Session>, DoorwardError> {
            call(self.dw.sessions().list(&user_id)).await.map(each)
        }

        /// End one session now (`NotFound` if it is not live).
        pub async fn revoke(&self, session_id: String) -> Result<(), DoorwardError> {
            call(self.dw.sessions().revoke(&session_id)).await
        }

        /// End every session of a user; how many were live.
        pub async fn revoke_all(&self, user_id: String) -> Result<u64, DoorwardError> {
            call(self.dw.sessions().revoke_all(&user_id)).await
        }
    }
}

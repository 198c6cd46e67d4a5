//! `dw.sessions`: live sessions.

use crate::types::{Done, Session, each};

sub_api!(
    /// Sessions: `dw.sessions`.
    Sessions,
    AsyncSessions
);

twins! {
    Sessions, AsyncSessions;

    /// A user's live sessions, newest first.
    fn list(dw, user_id: String) -> Vec<Session> {
        dw.sessions().list(&user_id).await.map(each)
    }

    /// End one session now (`NotFoundError` if it is not live).
    fn revoke(dw, session_id: String) -> Done {
        dw.sessions().revoke(&session_id).await
    }

    /// End every session of a user; how many were live.
    fn revoke_all(dw, user_id: String) -> u64 {
        dw.sessions().revoke_all(&user_id).await
    }
}

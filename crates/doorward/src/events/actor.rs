//! Who an administrator's changes are recorded as made by.
//!
//! The core's administrative operations (`roles().grant`,
//! `users().disable`, `sessions().revoke`, ...) take no actor: the host
//! calls them as administrator, and their events name no one. An admin
//! console or a host's own admin API knows which administrator asked, and
//! runs the call inside [`acting_as`], so the events (and so the audit
//! log and webhooks) name that account and its client instead of nobody.
//! A scope rather than a parameter on every administrative method: the
//! operations keep one signature in every language, and no call made
//! inside the scope can forget to pass it on.

use std::future::Future;

use crate::auth::ClientInfo;

#[derive(Clone)]
pub(super) struct Acting {
    pub user_id: String,
    pub client: Option<ClientInfo>,
}

tokio::task_local! {
    static ACTING: Acting;
}

/// Run `operation` with `user_id` (and `client`, when given) recorded as
/// the actor of every event it causes that would otherwise name no actor.
/// Events that name their own actor (a user acting on their own account)
/// keep it.
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use doorward::events::{EventType, acting_as};
/// let dw = doorward::Doorward::open_in_memory_for_docs().await;
/// let admin = dw.users().create("root", "root@example.com", "correct horse battery").await?;
/// let editor = dw.roles().create("editor", &["posts:write"], "");
/// acting_as(&admin.id, None, editor).await?;
/// let events = dw.events().list(None, None).await?.items;
/// let created = events.iter().find(|e| e.event_type == EventType::RoleCreated).unwrap();
/// assert_eq!(created.actor.as_deref(), Some(admin.id.as_str()));
/// # Ok::<(), doorward::Error>(())
/// # }).unwrap();
/// ```
pub async fn acting_as<F: Future>(
    user_id: &str,
    client: Option<ClientInfo>,
    operation: F,
) -> F::Output {
    let acting = Acting {
        user_id: user_id.to_string(),
        client,
    };
    ACTING.scope(acting, operation).await
}

/// The administrator of the current scope, if any.
pub(super) fn current() -> Option<Acting> {
    ACTING.try_with(Clone::clone).ok()
}

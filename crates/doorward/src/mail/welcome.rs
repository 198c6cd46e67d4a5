//! The welcome mail: a durable outbox subscriber on `UserRegistered`.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use futures_util::future::BoxFuture;

use super::{Message, Slot};
use crate::core::Core;
use crate::error::Result;
use crate::events::{Event, EventType};
use crate::store::Store;

/// The subscriber's name: its position in the outbox is kept under it, so
/// mails owed while the process was down go out when it is back, and
/// instances sharing a database send each mail once.
const SUBSCRIBER: &str = "doorward.welcome_mail";

/// The welcome mail's subject and body, from `welcome_subject` and
/// `welcome_text`. `{username}`, `{email}` and `{user_id}` are replaced by
/// the new user's; nothing else is interpreted.
///
/// ```
/// use doorward::mail::WelcomeTemplate;
/// let template = WelcomeTemplate { subject: "Hi {username}".into(), text: "Your id: {user_id}".into() };
/// let (subject, text) = template.render("john", "john@example.com", "u1");
/// assert_eq!((subject.as_str(), text.as_str()), ("Hi john", "Your id: u1"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WelcomeTemplate {
    /// The subject line.
    pub subject: String,
    /// The plain-text body.
    pub text: String,
}

impl WelcomeTemplate {
    /// The subject and body for one user.
    pub fn render(&self, username: &str, email: &str, user_id: &str) -> (String, String) {
        let fill = |s: &str| {
            s.replace("{username}", username)
                .replace("{email}", email)
                .replace("{user_id}", user_id)
        };
        (fill(&self.subject), fill(&self.text))
    }
}

/// Subscribe the welcome mail, once, if it is on and a mailer is set.
pub(super) async fn start(core: &Arc<Core>) -> Result<()> {
    let config = &core.config;
    if !config.welcome_mail || !config.events_dispatch || core.mail.get().is_none() {
        return Ok(());
    }
    if core.mail.welcoming.swap(true, Ordering::SeqCst) {
        return Ok(());
    }
    let slot = core.mail.clone();
    let store = core.store.clone();
    let from = config.mail_from.clone();
    let template = WelcomeTemplate {
        subject: config.welcome_subject.clone(),
        text: config.welcome_text.clone(),
    };
    let handler = Arc::new(move |event: Event| -> BoxFuture<'static, _> {
        let (slot, store) = (slot.clone(), store.clone());
        let (from, template) = (from.clone(), template.clone());
        Box::pin(async move { send_welcome(&slot, &*store, &from, &template, &event).await })
    });
    // Not closed: it lasts as long as the core. Retried without a limit
    // (every `events_retry_max_secs` at worst): an outage, however long,
    // delays the mail and never loses it; a refusal for good is dropped
    // above instead of holding up later mails.
    let subscription = crate::events::dispatch::subscribe(
        core,
        Some(SUBSCRIBER.to_string()),
        vec![EventType::UserRegistered],
        handler,
        u32::MAX,
    )
    .await;
    if subscription.is_err() {
        core.mail.welcoming.store(false, Ordering::SeqCst);
    }
    subscription.map(|_| ())
}

/// The address comes from the store, not the event: payloads carry no
/// email address, and the user may have corrected theirs since.
async fn send_welcome(
    slot: &Slot,
    store: &dyn Store,
    from: &str,
    template: &WelcomeTemplate,
    event: &Event,
) -> std::result::Result<(), String> {
    let Some(user_id) = event.subject.as_deref() else {
        return Ok(());
    };
    let user = store.user_by_id(user_id).await.map_err(|e| e.to_string())?;
    let Some(user) = user else {
        tracing::info!(user_id, "user deleted before the welcome mail went out");
        return Ok(());
    };
    let Some(mailer) = slot.get() else {
        return Err("no mailer".into());
    };
    let (subject, text) = template.render(&user.username, &user.email, user_id);
    let message = Message {
        from: from.to_string(),
        to: user.email.clone(),
        subject,
        text,
    };
    let span = tracing::info_span!("send_welcome_email", user_id, event_id = %event.id);
    match tracing::Instrument::instrument(mailer.send(&message), span).await {
        Ok(()) => {}
        Err(e) if e.permanent => {
            tracing::warn!(user_id, reason = %e, "welcome mail refused for good; not retried");
            return Ok(());
        }
        Err(e) => return Err(e.to_string()),
    }
    tracing::info!(user_id, "welcome mail sent");
    Ok(())
}

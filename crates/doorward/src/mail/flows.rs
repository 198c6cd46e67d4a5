//! The account mails: a durable outbox subscriber on the flows' request
//! events, which opens the flow's sealed secrets, renders the purpose's
//! template and sends it, then forgets the secrets.
//!
//! Like the welcome mail it is not a step of the request: a mail server
//! that is down delays the mail (retried with the events' backoff) and
//! never fails the request that asked for it.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use futures_util::future::BoxFuture;

use super::{Message, Slot};
use crate::config::Config;
use crate::core::Core;
use crate::error::Result;
use crate::events::{Event, EventType};
use crate::flows::secret::FlowKey;
use crate::flows::{Purpose, human_duration};
use crate::store::{FlowRecord, Store, now};

/// Its position in the outbox is kept under this name, so mails owed while
/// the process was down go out when it is back, once across instances.
const SUBSCRIBER: &str = "doorward.flow_mail";

/// What the subscriber needs, without the core (which it must not keep
/// alive).
struct Sender {
    slot: Arc<Slot>,
    store: Arc<dyn Store>,
    key: Arc<FlowKey>,
    config: Config,
}

/// Subscribe the account mails, once, if a mailer and a flow key are set.
pub(super) async fn start(core: &Arc<Core>) -> Result<()> {
    let Some(key) = core.flow_key.clone() else {
        return Ok(());
    };
    if !core.config.events_dispatch || core.mail.get().is_none() {
        return Ok(());
    }
    if core.mail.flow_mailing.swap(true, Ordering::SeqCst) {
        return Ok(());
    }
    let sender = Arc::new(Sender {
        slot: core.mail.clone(),
        store: core.store.clone(),
        key,
        config: core.config.clone(),
    });
    let handler = Arc::new(move |event: Event| -> BoxFuture<'static, _> {
        let sender = sender.clone();
        Box::pin(async move { sender.handle(&event).await })
    });
    let subscription = crate::events::dispatch::subscribe_after(
        core,
        Some(SUBSCRIBER.to_string()),
        vec![
            EventType::EmailVerificationRequested,
            EventType::PasswordResetRequested,
            EventType::SignInLinkRequested,
            EventType::EmailChangeRequested,
        ],
        handler,
        u32::MAX,
        0,
    )
    .await;
    if subscription.is_err() {
        core.mail.flow_mailing.store(false, Ordering::SeqCst);
    }
    subscription.map(|_| ())
}

impl Sender {
    async fn handle(&self, event: &Event) -> std::result::Result<(), String> {
        let Some(flow_id) = event.payload.get("flow_id").and_then(|v| v.as_str()) else {
            return Ok(());
        };
        let flow = self.store.flow(flow_id).await.map_err(|e| e.to_string())?;
        let Some(flow) = flow else {
            return Ok(());
        };
        let Some(sealed) = flow.sealed.as_deref() else {
            return Ok(()); // sent already
        };
        if flow.consumed_at.is_some() || flow.expires_at <= now() {
            self.forget(&flow).await?;
            return Ok(());
        }
        let Some(purpose) = Purpose::parse(&flow.purpose) else {
            return Ok(());
        };
        let messages = self.messages(&flow, purpose, sealed).await?;
        let Some(mailer) = self.slot.get() else {
            return Err("no mailer".into());
        };
        for message in &messages {
            let span =
                tracing::info_span!("send_flow_mail", flow_id = %flow.id, purpose = %flow.purpose);
            match tracing::Instrument::instrument(mailer.send(message), span).await {
                Ok(()) => {}
                Err(e) if e.permanent => {
                    tracing::warn!(flow_id = %flow.id, reason = %e, "account mail refused for good");
                }
                Err(e) => return Err(e.to_string()),
            }
        }
        self.forget(&flow).await?;
        tracing::info!(flow_id = %flow.id, purpose = %flow.purpose, mails = messages.len(), "account mail sent");
        Ok(())
    }

    async fn forget(&self, flow: &FlowRecord) -> std::result::Result<(), String> {
        self.store
            .clear_sealed(&flow.id)
            .await
            .map_err(|e| e.to_string())
    }

    /// What to send for `flow`: its mail, the old address's notice for an
    /// email change first, or for an address with no account nothing (or
    /// the `unknown_address` notice).
    async fn messages(
        &self,
        flow: &FlowRecord,
        purpose: Purpose,
        sealed: &str,
    ) -> std::result::Result<Vec<Message>, String> {
        let c = &self.config;
        let expires_in = human_duration(purpose.ttl(c));
        let message = |to: &str, subject: &str, text: String| Message {
            from: c.mail_from.clone(),
            to: to.to_string(),
            subject: subject.to_string(),
            text,
        };
        let user = match &flow.user_id {
            Some(id) => self.store.user_by_id(id).await.map_err(|e| e.to_string())?,
            None => None,
        };
        let mut out = Vec::new();
        let username = match (&user, flow.user_id.is_some()) {
            (Some(u), _) => u.username.clone(),
            // The account went away before its mail did.
            (None, true) => return Ok(out),
            (None, false) if purpose == Purpose::SignIn && c.sign_in_creates_users => {
                flow.address.split('@').next().unwrap_or("").to_string()
            }
            (None, false) => {
                if c.unknown_address_mail {
                    let text = c.unknown_address_text.replace("{app_url}", &c.app_url);
                    out.push(message(&flow.address, &c.unknown_address_subject, text));
                }
                return Ok(out);
            }
        };
        let secrets = self.key.open(&flow.id, sealed).map_err(|e| e.to_string())?;
        let (path, subject, template) = match purpose {
            Purpose::VerifyEmail => (
                &c.verify_email_path,
                &c.verify_email_subject,
                &c.verify_email_text,
            ),
            Purpose::ResetPassword => (
                &c.reset_password_path,
                &c.reset_password_subject,
                &c.reset_password_text,
            ),
            Purpose::SignIn => (&c.sign_in_path, &c.sign_in_subject, &c.sign_in_text),
            Purpose::ChangeEmail => (
                &c.change_email_path,
                &c.change_email_subject,
                &c.change_email_text,
            ),
        };
        if let (Purpose::ChangeEmail, Some(u)) = (purpose, &user) {
            let text = c
                .change_email_notice_text
                .replace("{username}", &username)
                .replace("{expires_in}", &expires_in);
            out.push(message(&u.email, &c.change_email_notice_subject, text));
        }
        let link = format!(
            "{}{path}?flow={}&secret={}",
            c.app_url.trim_end_matches('/'),
            flow.id,
            secrets.link
        );
        let text = template
            .replace("{link}", &link)
            .replace("{code}", &secrets.code)
            .replace("{username}", &username)
            .replace("{expires_in}", &expires_in);
        out.push(message(&flow.address, subject, text));
        Ok(out)
    }
}

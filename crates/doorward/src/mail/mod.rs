//! Outgoing mail: the [`Mailer`] trait, the in-memory mailer, the SMTP one
//! (feature `mail`), the welcome mail sent on `UserRegistered`, and the
//! account flows' mails (verification, reset, sign-in, email change).
//!
//! The welcome mail is a durable subscriber of the outbox, not a step of
//! registration: a mail server that is down or slow delays the mail (it is
//! retried with the events' backoff) and never fails or slows the
//! registration that caused it.

mod flows;
#[cfg(feature = "mail")]
mod smtp;
mod welcome;

use std::fmt;
use std::sync::{Arc, Mutex, RwLock};

use async_trait::async_trait;
use serde::Serialize;

use crate::core::Core;
use crate::error::{Error, Result};
use crate::telemetry::operation;

#[cfg(feature = "mail")]
pub use smtp::SmtpMailer;
pub use welcome::WelcomeTemplate;

/// One message: plain text, to one recipient.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Message {
    /// `Name <address>` or a bare address.
    pub from: String,
    /// The recipient's address.
    pub to: String,
    /// The subject line.
    pub subject: String,
    /// The body, plain text.
    pub text: String,
}

/// Why a message was not sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct MailError {
    /// What went wrong.
    pub message: String,
    /// Sending again cannot help (the server refused the address for
    /// good): the welcome mail is dropped instead of retried.
    pub permanent: bool,
}

impl MailError {
    /// A failure worth retrying: the server is down, busy or slow.
    pub fn transient(message: impl Into<String>) -> MailError {
        MailError {
            message: message.into(),
            permanent: false,
        }
    }

    /// A failure no retry will fix.
    pub fn permanent(message: impl Into<String>) -> MailError {
        MailError {
            message: message.into(),
            permanent: true,
        }
    }
}

/// Something that sends mail. doorward ships [`MemoryMailer`] and, with the
/// `mail` feature, [`SmtpMailer`]; a host with its own provider (an HTTP
/// mail API) implements this and hands it to [`Mail::set_mailer`].
///
/// ```
/// use doorward::mail::{MailError, Mailer, Message};
/// #[derive(Debug)]
/// struct Discard;
/// #[async_trait::async_trait]
/// impl Mailer for Discard {
///     async fn send(&self, _message: &Message) -> Result<(), MailError> {
///         Ok(())
///     }
/// }
/// ```
#[async_trait]
pub trait Mailer: Send + Sync + fmt::Debug {
    /// Send `message`; an `Err` has it sent again after a backoff.
    async fn send(&self, message: &Message) -> std::result::Result<(), MailError>;
}

/// Keeps what it is asked to send: for tests, and for development without
/// a mail server (`mail_url = "memory://"`).
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use doorward::mail::{Mailer, MemoryMailer, Message};
/// let mailer = MemoryMailer::default();
/// let message = Message { from: "a@example.com".into(), to: "b@example.com".into(), subject: "Hi".into(), text: "Hello".into() };
/// mailer.send(&message).await.unwrap();
/// assert_eq!(mailer.sent(), vec![message]);
/// # });
/// ```
#[derive(Debug, Default)]
pub struct MemoryMailer {
    sent: Mutex<Vec<Message>>,
}

impl MemoryMailer {
    /// Everything sent so far, oldest first.
    pub fn sent(&self) -> Vec<Message> {
        self.sent.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

#[async_trait]
impl Mailer for MemoryMailer {
    async fn send(&self, message: &Message) -> std::result::Result<(), MailError> {
        self.sent
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(message.clone());
        Ok(())
    }
}

/// The mailer in force, shared by [`Mail`] and the welcome subscriber (which
/// must not hold the core itself, or the core would never be dropped).
#[derive(Debug, Default)]
pub(crate) struct Slot {
    mailer: RwLock<Option<Arc<dyn Mailer>>>,
    /// The in-memory mailer, when it is the one in force.
    memory: RwLock<Option<Arc<MemoryMailer>>>,
    /// Whether the welcome subscriber has been started.
    welcoming: std::sync::atomic::AtomicBool,
    /// Whether the account mails' subscriber has been started.
    flow_mailing: std::sync::atomic::AtomicBool,
}

impl Slot {
    /// The mailer `mail_url` names, if any.
    pub(crate) fn from_config(config: &crate::Config) -> Result<Slot> {
        let slot = Slot::default();
        let Some(url) = config.mail_url.as_deref() else {
            return Ok(slot);
        };
        if url == "memory://" {
            let memory = Arc::new(MemoryMailer::default());
            *slot.memory.write().unwrap_or_else(|e| e.into_inner()) = Some(memory.clone());
            *slot.mailer.write().unwrap_or_else(|e| e.into_inner()) = Some(memory);
            return Ok(slot);
        }
        #[cfg(feature = "mail")]
        {
            let smtp: Arc<dyn Mailer> = Arc::new(SmtpMailer::from_config(config)?);
            *slot.mailer.write().unwrap_or_else(|e| e.into_inner()) = Some(smtp);
            Ok(slot)
        }
        #[cfg(not(feature = "mail"))]
        Err(Error::Config(
            "mail_url names an SMTP server but doorward was built without the `mail` feature"
                .into(),
        ))
    }

    pub(crate) fn get(&self) -> Option<Arc<dyn Mailer>> {
        self.mailer
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

/// `dw.mail()`: sending mail through the configured mailer, the welcome
/// mail and the account mails.
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let mut config = doorward::Config::default();
/// config.database_url = "memory://".into();
/// config.jwt_secret = Some("change-me-to-32-random-bytes-or-more".into());
/// config.mail_url = Some("memory://".into());
/// let dw = doorward::Doorward::open(config).await?;
/// dw.auth().register_user("john", "john@example.com", "correct horse battery", None).await?;
/// dw.events().flush().await?;
/// // The welcome mail, and the address's verification: in either order.
/// let mut subjects: Vec<String> = dw.mail().sent()?.into_iter().map(|m| m.subject).collect();
/// subjects.sort();
/// assert_eq!(subjects, ["Confirm your email address", "Welcome, john"]);
/// # Ok::<(), doorward::Error>(())
/// # }).unwrap();
/// ```
#[derive(Debug, Clone)]
pub struct Mail {
    pub(crate) core: Arc<Core>,
}

impl Mail {
    /// Send a message from `mail_from` through the mailer in force, now
    /// (not through the outbox): for the host's own mails.
    pub async fn send(&self, to: &str, subject: &str, text: &str) -> Result<()> {
        self.core
            .observe(operation!("mail.send"), async {
                let mailer = self.core.mail.get().ok_or_else(|| {
                    Error::Config("no mailer: set mail_url or call set_mailer".into())
                })?;
                let message = Message {
                    from: self.core.config.mail_from.clone(),
                    to: to.to_string(),
                    subject: subject.to_string(),
                    text: text.to_string(),
                };
                mailer
                    .send(&message)
                    .await
                    .map_err(|e| Error::Storage(format!("mail not sent: {e}")))
            })
            .await
    }

    /// Send through `mailer` from now on, and start the welcome mail (if
    /// `welcome_mail` is on) and the account mails if they were not running.
    pub async fn set_mailer(&self, mailer: Arc<dyn Mailer>) -> Result<()> {
        self.core
            .observe(operation!("mail.set_mailer"), async {
                *self
                    .core
                    .mail
                    .mailer
                    .write()
                    .unwrap_or_else(|e| e.into_inner()) = Some(mailer);
                *self
                    .core
                    .mail
                    .memory
                    .write()
                    .unwrap_or_else(|e| e.into_inner()) = None;
                welcome::start(&self.core).await?;
                flows::start(&self.core).await
            })
            .await
    }

    /// What the in-memory mailer (`mail_url = "memory://"`) holds, oldest
    /// first; `config_error` when another mailer is in force.
    pub fn sent(&self) -> Result<Vec<Message>> {
        self.core
            .mail
            .memory
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .map(|m| m.sent())
            .ok_or_else(|| Error::Config("the in-memory mailer is not in force".into()))
    }
}

/// Start the welcome mail when a mailer is configured: part of `open`.
pub(crate) async fn start(core: &Arc<Core>) -> Result<()> {
    welcome::start(core).await?;
    flows::start(core).await
}

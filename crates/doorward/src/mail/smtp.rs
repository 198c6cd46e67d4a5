//! SMTP through lettre: `smtp://host:port` (plain, for a local relay),
//! `smtp://host?tls=required` (STARTTLS, port 587 by default) and
//! `smtps://host` (TLS from the first byte, port 465 by default).

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use secrecy::ExposeSecret;

use super::{MailError, Mailer, Message};
use crate::error::{Error, Result};

/// Sends through an SMTP server, one connection per message (welcome mails
/// are few; a pool would need a runtime at construction).
///
/// ```
/// let mut config = doorward::Config::default();
/// config.mail_url = Some("smtp://127.0.0.1:2525".into());
/// let mailer = doorward::mail::SmtpMailer::from_config(&config)?;
/// assert_eq!(format!("{mailer:?}"), "SmtpMailer { server: \"smtp://127.0.0.1:2525\" }");
/// # Ok::<(), doorward::Error>(())
/// ```
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    /// The URL without credentials, for `Debug`.
    server: String,
}

impl fmt::Debug for SmtpMailer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpMailer")
            .field("server", &self.server)
            .finish()
    }
}

impl SmtpMailer {
    /// The server `mail_url` names, with `mail_username` / `mail_password`.
    /// A password inside the URL is refused: URLs get logged, and the
    /// password belongs in `mail_password`, which never is.
    pub fn from_config(config: &crate::Config) -> Result<SmtpMailer> {
        let url = config
            .mail_url
            .as_deref()
            .ok_or_else(|| Error::Config("mail_url is not set".into()))?;
        let parsed = url::Url::parse(url)
            .map_err(|e| Error::Config(format!("mail_url is not a URL: {e}")))?;
        if parsed.password().is_some() {
            return Err(Error::Config(
                "mail_url must not hold a password: set mail_password".into(),
            ));
        }
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| Error::Config(format!("mail_url: {e}")))?
            .timeout(Some(Duration::from_millis(config.mail_timeout_ms.max(1))));
        match (&config.mail_username, &config.mail_password) {
            (Some(user), Some(password)) => {
                builder = builder.credentials(Credentials::new(
                    user.clone(),
                    password.expose_secret().to_string(),
                ));
            }
            (None, None) => {}
            _ => {
                return Err(Error::Config(
                    "mail_username and mail_password go together".into(),
                ));
            }
        }
        Ok(SmtpMailer {
            transport: builder.build(),
            server: url.to_string(),
        })
    }
}

#[async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, message: &Message) -> std::result::Result<(), MailError> {
        let mailbox = |field: &str, value: &str| {
            value
                .parse::<Mailbox>()
                .map_err(|e| MailError::permanent(format!("the {field} address is not valid: {e}")))
        };
        let email = lettre::Message::builder()
            .from(mailbox("from", &message.from)?)
            .to(mailbox("to", &message.to)?)
            .subject(message.subject.clone())
            .header(ContentType::TEXT_PLAIN)
            .body(message.text.clone())
            .map_err(|e| MailError::permanent(e.to_string()))?;
        self.transport.send(email).await.map(|_| ()).map_err(|e| {
            if e.is_permanent() {
                MailError::permanent(e.to_string())
            } else {
                MailError::transient(e.to_string())
            }
        })
    }
}

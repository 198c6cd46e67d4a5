//! `dw.mail`: sending mail through the configured mailer, and what the
//! in-memory mailer holds. The package keeps the address and the body of a
//! message out of `util.inspect`.

use napi_derive::napi;

use crate::error::{guarded, to_js};
use crate::types::each;

/// One plain-text message to one recipient.
#[napi(object)]
pub struct Message {
    /// `Name <address>` or a bare address.
    pub from: String,
    /// The recipient's address.
    pub to: String,
    pub subject: String,
    /// The body, plain text.
    pub text: String,
}

impl std::fmt::Debug for Message {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Message")
            .field("subject", &self.subject)
            .finish_non_exhaustive()
    }
}

impl From<doorward::mail::Message> for Message {
    fn from(m: doorward::mail::Message) -> Self {
        Message {
            from: m.from,
            to: m.to,
            subject: m.subject,
            text: m.text,
        }
    }
}

/// Outgoing mail: `dw.mail`.
#[napi]
#[derive(Debug)]
pub struct Mail {
    pub(crate) dw: doorward::Doorward,
}

#[napi]
impl Mail {
    /// Send a plain-text message from `mailFrom` now, through the mailer
    /// `mailUrl` names (`config_error` without one).
    #[napi]
    pub async fn send(&self, to: String, subject: String, text: String) -> napi::Result<()> {
        guarded(self.dw.mail().send(&to, &subject, &text)).await
    }

    /// What the in-memory mailer (`mailUrl: "memory://"`) holds, oldest
    /// first; `config_error` when another mailer is in force.
    #[napi]
    pub fn sent(&self) -> napi::Result<Vec<Message>> {
        self.dw.mail().sent().map(each).map_err(to_js)
    }
}

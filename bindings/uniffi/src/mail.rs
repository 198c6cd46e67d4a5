//! Outgoing mail: `doorward.mail()`. Sending goes through the mailer
//! `mail_url` names; `sent()` reads the in-memory one (`memory://`).

use crate::error::{DoorwardError, call};
use crate::types::each;

/// One plain-text message to one recipient. Printing the record never
/// shows the address or the body (a data class's generated `toString()`
/// would put them in logs), so both `toString()` and Swift's `description`
/// come from the redacting Rust `Display` and `Debug` below.
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
#[uniffi::export(Debug, Display)]
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

impl std::fmt::Display for Message {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Message(subject={}, recipient and body hidden)",
            self.subject
        )
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

/// Outgoing mail: `doorward.mail()`.
#[derive(Debug, uniffi::Object)]
pub struct Mail {
    pub(crate) dw: doorward::Doorward,
}

export! {
    impl Mail {
        /// Send a plain-text message from `mail_from` now, through the
        /// mailer `mail_url` names (`Config` error without one).
        pub async fn send(&self, to: String, subject: String, text: String) -> Result<(), DoorwardError> {
            call(self.dw.mail().send(&to, &subject, &text)).await
        }

        /// What the in-memory mailer (`mail_url = "memory://"`) holds,
        /// oldest first; a `Config` error when another mailer is in force.
        pub fn sent(&self) -> Result<Vec<Message>, DoorwardError> {
            Ok(each(self.dw.mail().sent()?))
        }
    }
}

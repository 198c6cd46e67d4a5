//! New accounts: what every way of making one shares (registration, an
//! administrator's `users().create`, a first sign-in by email or through a
//! provider).

use serde_json::json;
use tracing::Instrument as _;
use uuid::Uuid;

use super::validate;
use crate::auth::ClientInfo;
use crate::core::Core;
use crate::error::{Error, Result};
use crate::events::{Event, EventType};
use crate::rbac::DEFAULT_ROLE;
use crate::store::{UserRecord, now};

/// Who creates an account: its owner signing up (the event's actor is the
/// new user, from the client given), or the host (no actor).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Registering<'a> {
    pub by_self: bool,
    pub client: Option<&'a ClientInfo>,
}

/// Validate, hash and store a new user with the default role.
pub(crate) async fn create_user(
    core: &Core,
    username: &str,
    email: &str,
    password: &str,
    registration: Registering<'_>,
) -> Result<UserRecord> {
    let (name, mail, password) = tracing::info_span!("validate_input").in_scope(|| {
        let name = validate::username(username)?;
        let mail = validate::email(email)?;
        let local = mail.display.split('@').next().unwrap_or("");
        let password = validate::password(
            password,
            core.config.password_min_length,
            &[&name.display, &mail.display, local],
        )?;
        Ok::<_, Error>((name, mail, password))
    })?;
    let password_hash = core.hasher.hash(&password).await?;
    let user = new_record(name, mail, password_hash);
    core.store
        .create_user(
            &user,
            &[DEFAULT_ROLE],
            &[Event::new(
                EventType::UserRegistered,
                registration.by_self.then_some(user.id.as_str()),
                Some(&user.id),
                registration.client,
                Event::user_payload(&user.id, &user.username, json!({})),
            )],
        )
        .instrument(tracing::info_span!("create_user"))
        .await?;
    tracing::info!(user_id = %user.id, "user registered");
    Ok(user)
}

/// A new account's row: active, unverified, never logged in.
pub(crate) fn new_record(
    name: validate::Username,
    mail: validate::Email,
    password_hash: String,
) -> UserRecord {
    let at = now();
    UserRecord {
        id: Uuid::now_v7().to_string(),
        username: name.display,
        username_key: name.key,
        email: mail.display,
        email_key: mail.key,
        password_hash,
        disabled: false,
        created_at: at,
        updated_at: at,
        last_login_at: None,
        failed_logins: 0,
        credentials_version: 0,
        locked_until: None,
        email_verified_at: None,
    }
}

/// The `attempt`th username to try for an account named after `hint` (a
/// provider's username, or an address's local part): the hint's safe
/// characters, then with digits when taken.
pub(crate) fn username_candidate(hint: &str, attempt: u32) -> String {
    let local = hint.split('@').next().unwrap_or("user");
    let base: String = local
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        .take(24)
        .collect();
    let base = if base.len() < 3 {
        format!("user{base}")
    } else {
        base
    };
    if attempt == 0 {
        base
    } else {
        format!("{base}{}", rand::random::<u16>() % 10_000)
    }
}

//! Accounts: `dw.users()`.
//!
//! What makes a valid username, email and password is in [`validate`]'s
//! module docs; every write here re-validates, so an update cannot sneak in
//! what registration would refuse.

use std::sync::Arc;

use base64::Engine as _;
use chrono::DateTime;
use serde_json::json;
use uuid::Uuid;

use crate::core::Core;
use crate::error::{Error, Result};
use crate::events::{Event, EventType};
pub use crate::page::Page;
use crate::page::PageRequest;
use crate::password::Verdict;
use crate::store::{EndSessions, ListAfter, UserFilter, UserRecord, now};
use crate::telemetry::operation;

mod create;
mod identity;
mod import;
mod rows;
mod user;
pub mod validate;

#[cfg(feature = "oauth")]
pub(crate) use create::new_record;
pub(crate) use create::{Registering, create_user, username_candidate};
pub use identity::Identity;
pub use rows::{ImportFailure, ImportOptions, ImportProgress, ImportReport, ImportedUser, UserRow};
pub use user::{User, UserUpdate};

use validate::{email_key, username_key};

/// Largest page [`Users::list`] returns: lower than the other listings'
/// [`PageRequest::MAX_LIMIT`], as it has been since the first release
/// (hosts pass it on from query strings and rely on the bound).
pub const MAX_PAGE: u32 = 500;

/// The cache key of an account.
pub(crate) fn user_key(user_id: &str) -> String {
    format!("user:{user_id}")
}

impl Core {
    /// Check a signed-in user's password before a sensitive change (a new
    /// password, a new address). It is a login in all but name: throttled
    /// and counted the same, so a stolen session cannot guess it at
    /// leisure; a wrong one is `invalid_credentials`, recorded as a
    /// `LoginFailed` with `reason`.
    pub(crate) async fn prove_password(
        &self,
        user: &UserRecord,
        password: &str,
        reason: &str,
    ) -> Result<()> {
        if password.len() > validate::MAX_PASSWORD_BYTES {
            return Err(Error::InvalidCredentials);
        }
        let gate = self.login_gate(Some(user), "", None).await?;
        let password = validate::normalize_password(password);
        if self.hasher.verify(&password, &user.password_hash).await? == Verdict::Invalid {
            let refused = Event::by_user(
                EventType::LoginFailed,
                &user.id,
                None,
                Event::user_payload(&user.id, &user.username, json!({ "reason": reason })),
            );
            self.login_failed(user, &gate, refused, None).await?;
            return Err(Error::InvalidCredentials);
        }
        Ok(())
    }

    /// The account as stored now (not cached); `not_found` if absent.
    pub(crate) async fn user_record(&self, user_id: &str) -> Result<UserRecord> {
        self.store
            .user_by_id(user_id)
            .await?
            .ok_or_else(|| Error::not_found("user"))
    }

    /// Drop a user's cached account and permissions everywhere.
    pub(crate) async fn user_changed(&self, user_id: &str) {
        self.emitted();
        self.cache
            .invalidate(vec![
                user_key(user_id),
                crate::rbac::permissions_key(user_id),
            ])
            .await;
    }
}

/// Find by username or email address: what `login` accepts.
pub(crate) async fn find_by_login(core: &Core, login: &str) -> Result<Option<UserRecord>> {
    if login.contains('@') {
        core.store.user_by_email_key(&email_key(login)).await
    } else {
        core.store.user_by_username_key(&username_key(login)).await
    }
}

/// The uniqueness key a login name maps to, so `John`, `john` and ` john`
/// share one rate limit.
pub(crate) fn login_key(login: &str) -> String {
    if login.contains('@') {
        email_key(login)
    } else {
        username_key(login)
    }
}

pub(crate) fn encode_cursor(after: &ListAfter) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!(
        "{}:{}",
        after.0.timestamp_micros(),
        after.1
    ))
}

pub(crate) fn decode_cursor(cursor: &str) -> Result<ListAfter> {
    let bad = || Error::validation("cursor", "is not a cursor this listing returned");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    let (micros, id) = text.split_once(':').ok_or_else(bad)?;
    let at = DateTime::from_timestamp_micros(micros.parse().map_err(|_| bad())?).ok_or_else(bad)?;
    Uuid::parse_str(id).map_err(|_| bad())?;
    Ok((at, id.to_string()))
}

/// The account service.
#[derive(Debug, Clone)]
pub struct Users {
    pub(crate) core: Arc<Core>,
}

impl Users {
    /// Create an account without logging it in (admin tools, imports).
    pub async fn create(&self, username: &str, email: &str, password: &str) -> Result<User> {
        self.core
            .observe(operation!("users.create"), async {
                create_user(
                    &self.core,
                    username,
                    email,
                    password,
                    Registering::default(),
                )
                .await
                .map(|u| User::from(&u))
            })
            .await
    }

    /// By id; `not_found` if absent. Served from the cache (L1, then Redis),
    /// which every change to the account invalidates on every instance.
    pub async fn get(&self, user_id: &str) -> Result<User> {
        self.core
            .observe(operation!("users.get", %user_id), async {
                let user = self
                    .core
                    .cache
                    .get_or_load(&user_key(user_id), self.core.cache.ttl(), || async {
                        Ok(User::from(&self.record(user_id).await?))
                    })
                    .await?;
                Ok(User::clone(&user))
            })
            .await
    }

    /// By email address, case-insensitively. Read from a replica when
    /// `database_read_urls` names some, so it may lag a write just made.
    pub async fn get_by_email(&self, email: &str) -> Result<User> {
        self.core
            .observe(operation!("users.get_by_email"), async {
                self.core
                    .store
                    .for_reads()
                    .user_by_email_key(&email_key(email))
                    .await?
                    .map(|u| User::from(&u))
                    .ok_or_else(|| Error::not_found("user"))
            })
            .await
    }

    /// By username, case-insensitively. Read like
    /// [`Users::get_by_email`].
    pub async fn get_by_username(&self, username: &str) -> Result<User> {
        self.core
            .observe(operation!("users.get_by_username"), async {
                self.core
                    .store
                    .for_reads()
                    .user_by_username_key(&username_key(username))
                    .await?
                    .map(|u| User::from(&u))
                    .ok_or_else(|| Error::not_found("user"))
            })
            .await
    }

    /// How many accounts there are, disabled ones included: what an
    /// administrator's dashboard shows, without paging through
    /// [`Users::list`]. Read like [`Users::get_by_email`], so it may lag a
    /// moment behind a registration on a PostgreSQL replica.
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// # let dw = doorward::Doorward::open_in_memory_for_docs().await;
    /// assert_eq!(dw.users().count().await.unwrap(), 0);
    /// let ann = dw.users().create("ann", "ann@example.com", "correct horse battery").await.unwrap();
    /// dw.users().create("bob", "bob@example.com", "correct horse battery").await.unwrap();
    /// dw.users().disable(&ann.id).await.unwrap();
    /// assert_eq!(dw.users().count().await.unwrap(), 2);
    /// # });
    /// ```
    pub async fn count(&self) -> Result<u64> {
        self.core
            .observe(operation!("users.count"), async {
                self.core.store.for_reads().count_users().await
            })
            .await
    }

    /// Accounts in creation order, `limit` (1 to 500; `None` for
    /// [`PageRequest::DEFAULT_LIMIT`]) at a time. Read like
    /// [`Users::get_by_email`].
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// # let dw = doorward::Doorward::open_in_memory_for_docs().await;
    /// for name in ["ann", "bob", "cyd"] {
    ///     dw.users().create(name, &format!("{name}@example.com"), "correct horse battery").await.unwrap();
    /// }
    /// let first = dw.users().list(None, 2).await.unwrap();
    /// assert_eq!(first.items.len(), 2);
    /// let rest = dw.users().list(first.next_cursor.as_deref(), 2).await.unwrap();
    /// assert_eq!(rest.items[0].username, "cyd");
    /// assert!(rest.next_cursor.is_none());
    /// # });
    /// ```
    pub async fn list(
        &self,
        cursor: Option<&str>,
        limit: impl Into<Option<u32>>,
    ) -> Result<Page<User>> {
        let limit = limit.into();
        self.core
            .observe(
                operation!("users.list"),
                page(&self.core, cursor, UserFilter::default(), limit),
            )
            .await
    }

    /// Accounts whose email address or username starts with `query`
    /// (ignoring case), in creation order, paged like [`Users::list`]:
    /// what an administrator's search box asks.
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// # let dw = doorward::Doorward::open_in_memory_for_docs().await;
    /// dw.users().create("ann", "ann@example.com", "correct horse battery").await.unwrap();
    /// dw.users().create("bob", "annie@example.org", "correct horse battery").await.unwrap();
    /// dw.users().create("cyd", "cyd@example.com", "correct horse battery").await.unwrap();
    /// let found = dw.users().search("ANN", None, 10).await.unwrap();
    /// assert_eq!(found.items.len(), 2);
    /// # });
    /// ```
    pub async fn search(
        &self,
        query: &str,
        cursor: Option<&str>,
        limit: impl Into<Option<u32>>,
    ) -> Result<Page<User>> {
        let limit = limit.into();
        let query = query.trim().to_lowercase();
        if query.is_empty() || query.len() > 254 || query.contains('\0') {
            return Err(Error::validation(
                "query",
                "give the start of an email address or username",
            ));
        }
        self.core
            .observe(
                operation!("users.search"),
                page(
                    &self.core,
                    cursor,
                    UserFilter {
                        prefix: Some(&query),
                        role: None,
                    },
                    limit,
                ),
            )
            .await
    }

    /// Change username and/or email, validated and kept unique as at registration.
    pub async fn update(&self, user_id: &str, update: UserUpdate) -> Result<User> {
        self.core
            .observe(operation!("users.update", %user_id), async {
                let mut user = self.record(user_id).await?;
                if let Some(username) = &update.username {
                    let name = validate::username(username)?;
                    user.username = name.display;
                    user.username_key = name.key;
                }
                if let Some(email) = &update.email {
                    let mail = validate::email(email)?;
                    if mail.key != user.email_key {
                        // Nobody has proven they read mail at the new one.
                        user.email_verified_at = None;
                    }
                    user.email = mail.display;
                    user.email_key = mail.key;
                }
                user.updated_at = now();
                let fields: Vec<&str> = [
                    ("username", update.username.is_some()),
                    ("email", update.email.is_some()),
                ]
                .into_iter()
                .filter_map(|(f, changed)| changed.then_some(f))
                .collect();
                let event = Event::by_host(
                    EventType::UserUpdated,
                    user_id,
                    Event::user_payload(user_id, &user.username, json!({ "fields": fields })),
                );
                self.core.store.update_identity(&user, &[event]).await?;
                self.core.user_changed(user_id).await;
                tracing::info!(user_id, "user updated");
                Ok(User::from(&user))
            })
            .await
    }

    /// Change a password, proving the old one. Every other session ends;
    /// `keep_session` (the caller's own, from its [`crate::Principal`]) stays.
    pub async fn change_password(
        &self,
        user_id: &str,
        old_password: &str,
        new_password: &str,
        keep_session: Option<&str>,
    ) -> Result<()> {
        self.core
            .observe(operation!("users.change_password", %user_id), async {
                let user = self.record(user_id).await?;
                self.core
                    .prove_password(&user, old_password, "wrong_old_password")
                    .await?;
                // Replaces only the hash the old password was checked
                // against: a change that committed meanwhile stays.
                self.store_password(
                    &user,
                    new_password,
                    EndSessions::AllExcept(keep_session),
                    Some(user_id),
                    Some(&user.password_hash),
                )
                .await
            })
            .await
    }

    /// Set a password without the old one (administrators). Every session ends.
    pub async fn set_password(&self, user_id: &str, new_password: &str) -> Result<()> {
        self.core
            .observe(operation!("users.set_password", %user_id), async {
                let user = self.record(user_id).await?;
                self.store_password(
                    &user,
                    new_password,
                    EndSessions::AllExcept(None),
                    None,
                    None,
                )
                .await
            })
            .await
    }

    async fn store_password(
        &self,
        user: &UserRecord,
        new_password: &str,
        end: EndSessions<'_>,
        actor: Option<&str>,
        replaces: Option<&str>,
    ) -> Result<()> {
        let local = user.email.split('@').next().unwrap_or("");
        let password = validate::password(
            new_password,
            self.core.config.password_min_length,
            &[&user.username, &user.email, local],
        )?;
        let hash = self.core.hasher.hash(&password).await?;
        let ended = self
            .core
            .store
            .update_password(
                &user.id,
                &hash,
                replaces,
                now(),
                end,
                &[Event::new(
                    EventType::PasswordChanged,
                    actor,
                    Some(&user.id),
                    None,
                    Event::user_payload(&user.id, &user.username, json!({})),
                )],
            )
            .await?;
        self.core.sessions_ended(&ended).await;
        self.core.user_changed(&user.id).await;
        tracing::info!(user_id = %user.id, "password changed");
        Ok(())
    }

    /// Disable an account: it cannot log in, and its sessions end now.
    pub async fn disable(&self, user_id: &str) -> Result<()> {
        self.core
            .observe(operation!("users.disable", %user_id), async {
                let event = Event::by_host(
                    EventType::UserDisabled,
                    user_id,
                    json!({ "user_id": user_id }),
                );
                let ended = self
                    .core
                    .store
                    .set_disabled(user_id, true, now(), &[event])
                    .await?;
                self.core.sessions_ended(&ended).await;
                self.core.user_changed(user_id).await;
                tracing::info!(user_id, "user disabled");
                Ok(())
            })
            .await
    }

    /// Lift a lockout and forget the failed logins; true if there was
    /// anything to clear.
    pub async fn unlock(&self, user_id: &str) -> Result<bool> {
        self.core
            .observe(operation!("users.unlock", %user_id), async {
                let account = self.core.store.unlock_user(user_id).await?;
                let cleared = self.core.store.unlock_clients(user_id).await? || account;
                self.core.user_changed(user_id).await;
                tracing::info!(user_id, cleared, "user unlocked");
                Ok(cleared)
            })
            .await
    }

    /// Enable a disabled account.
    pub async fn enable(&self, user_id: &str) -> Result<()> {
        self.core
            .observe(operation!("users.enable", %user_id), async {
                let event = Event::by_host(
                    EventType::UserEnabled,
                    user_id,
                    json!({ "user_id": user_id }),
                );
                self.core
                    .store
                    .set_disabled(user_id, false, now(), &[event])
                    .await?;
                self.core.user_changed(user_id).await;
                tracing::info!(user_id, "user enabled");
                Ok(())
            })
            .await
    }

    /// Delete an account with its sessions and role grants.
    pub async fn delete(&self, user_id: &str) -> Result<()> {
        self.core
            .observe(operation!("users.delete", %user_id), async {
                let event = Event::by_host(
                    EventType::UserDeleted,
                    user_id,
                    json!({ "user_id": user_id }),
                );
                let Some(ended) = self.core.store.delete_user(user_id, &[event]).await? else {
                    return Err(Error::not_found("user"));
                };
                self.core.sessions_ended(&ended).await;
                self.core.user_changed(user_id).await;
                tracing::info!(user_id, "user deleted");
                Ok(())
            })
            .await
    }

    async fn record(&self, user_id: &str) -> Result<UserRecord> {
        self.core.user_record(user_id).await
    }
}

/// One page of accounts that pass `filter`, in creation order: the
/// listing, the search and a role's holders.
pub(crate) async fn page(
    core: &Core,
    cursor: Option<&str>,
    filter: UserFilter<'_>,
    limit: Option<u32>,
) -> Result<Page<User>> {
    let page = PageRequest::new(cursor, limit);
    let limit = page.limit_within(MAX_PAGE)?;
    let after = page.cursor.map(decode_cursor).transpose()?;
    // One extra row says whether another page exists.
    let mut rows = core
        .store
        .for_reads()
        .list_users(after.as_ref(), &filter, limit + 1)
        .await?;
    let more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    let next_cursor = if more {
        rows.last()
            .map(|u| encode_cursor(&(u.created_at, u.id.clone())))
    } else {
        None
    };
    Ok(Page {
        items: rows.iter().map(User::from).collect(),
        next_cursor,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_junk_is_a_validation_error() {
        let after = (now(), Uuid::now_v7().to_string());
        assert_eq!(decode_cursor(&encode_cursor(&after)).unwrap(), after);
        for junk in ["", "!!", "bm90LWEtY3Vyc29y"] {
            assert_eq!(decode_cursor(junk).unwrap_err().field(), Some("cursor"));
        }
    }
}

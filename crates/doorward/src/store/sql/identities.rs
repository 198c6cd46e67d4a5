//! Linked identities, in SQL.

use super::rows::{Columns, opt_time, time};
use crate::error::Result;
use crate::store::IdentityRecord;

pub(crate) const IDENTITY_COLUMNS: &str = "provider, subject, user_id, email, email_verified, \
     tokens_sealed, created_at, last_used_at";

/// A stored identity, checked.
pub(crate) fn identity_from<R: Columns>(row: &R) -> Result<IdentityRecord> {
    Ok(IdentityRecord {
        provider: row.text("provider")?,
        subject: row.text("subject")?,
        user_id: row.text("user_id")?,
        email: row.opt_text("email")?,
        email_verified: row.flag("email_verified")?,
        tokens_sealed: row.opt_text("tokens_sealed")?,
        created_at: time(row, "created_at")?,
        last_used_at: opt_time(row, "last_used_at")?,
    })
}

/// Implements [`crate::store::IdentityStore`] for a [`super::Dialect`].
macro_rules! sql_identities {
    ($store:ty) => {
        const _: () = {
            use $crate::error::{Error, Result};
            use $crate::events::Event;
            use $crate::store::sql::Dialect;
            use $crate::store::sql::identities::{IDENTITY_COLUMNS, identity_from};
            use $crate::store::sql::rows::to_micros;
            use $crate::store::{IdentityRecord, IdentityStore, Linking, Unlinking, UserRecord};

            type Tx = sqlx::Transaction<'static, <$store as Dialect>::Db>;

            impl $store {
                /// Insert `identity` in `tx` unless its subject, or its
                /// account's identity at its provider, exists already.
                async fn insert_identity(
                    tx: &mut Tx,
                    identity: &IdentityRecord,
                ) -> Result<Linking> {
                    let done = sqlx::query(&format!(
                        "INSERT INTO identities ({IDENTITY_COLUMNS}) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING"
                    ))
                    .bind(&identity.provider)
                    .bind(&identity.subject)
                    .bind(&identity.user_id)
                    .bind(&identity.email)
                    .bind(identity.email_verified)
                    .bind(&identity.tokens_sealed)
                    .bind(to_micros(identity.created_at))
                    .bind(identity.last_used_at.map(to_micros))
                    .execute(&mut **tx)
                    .await
                    .map_err(<$store as Dialect>::violation)?;
                    if done.rows_affected() == 1 {
                        return Ok(Linking::Linked);
                    }
                    let taken = sqlx::query(
                        "SELECT 1 FROM identities WHERE provider = $1 AND subject = $2",
                    )
                    .bind(&identity.provider)
                    .bind(&identity.subject)
                    .fetch_optional(&mut **tx)
                    .await?;
                    Ok(if taken.is_some() {
                        Linking::SubjectTaken
                    } else {
                        Linking::ProviderTaken
                    })
                }
            }

            #[async_trait::async_trait]
            impl IdentityStore for $store {
                async fn add_identity(
                    &self,
                    identity: &IdentityRecord,
                    events: &[Event],
                ) -> Result<Linking> {
                    let mut tx = self.begin().await?;
                    if !Self::lock_user_row(&mut tx, &identity.user_id).await? {
                        return Err(Error::not_found("user"));
                    }
                    let linking = Self::insert_identity(&mut tx, identity).await?;
                    if linking == Linking::Linked {
                        Self::commit_with(tx, events).await?;
                    }
                    Ok(linking)
                }

                async fn create_user_with_identity(
                    &self,
                    user: &UserRecord,
                    roles: &[&str],
                    identity: &IdentityRecord,
                    events: &[Event],
                ) -> Result<bool> {
                    let mut tx = self.begin().await?;
                    Self::insert_user(&mut tx, user, roles).await?;
                    if Self::insert_identity(&mut tx, identity).await? != Linking::Linked {
                        return Ok(false);
                    }
                    Self::commit_with(tx, events).await?;
                    Ok(true)
                }

                async fn identity(
                    &self,
                    provider: &str,
                    subject: &str,
                ) -> Result<Option<IdentityRecord>> {
                    let row = sqlx::query(&format!(
                        "SELECT {IDENTITY_COLUMNS} FROM identities \
                         WHERE provider = $1 AND subject = $2"
                    ))
                    .bind(provider)
                    .bind(subject)
                    .fetch_optional(self.writes())
                    .await?;
                    row.as_ref().map(identity_from).transpose()
                }

                async fn identities(&self, user_id: &str) -> Result<Vec<IdentityRecord>> {
                    let rows = sqlx::query(&format!(
                        "SELECT {IDENTITY_COLUMNS} FROM identities WHERE user_id = $1 \
                         ORDER BY created_at, provider"
                    ))
                    .bind(user_id)
                    .fetch_all(self.writes())
                    .await?;
                    rows.iter().map(identity_from).collect()
                }

                async fn use_identity(&self, identity: &IdentityRecord) -> Result<bool> {
                    let done = sqlx::query(
                        "UPDATE identities SET email = $1, email_verified = $2, \
                           tokens_sealed = $3, last_used_at = $4 \
                         WHERE provider = $5 AND subject = $6 AND user_id = $7",
                    )
                    .bind(&identity.email)
                    .bind(identity.email_verified)
                    .bind(&identity.tokens_sealed)
                    .bind(identity.last_used_at.map(to_micros))
                    .bind(&identity.provider)
                    .bind(&identity.subject)
                    .bind(&identity.user_id)
                    .execute(self.writes())
                    .await?;
                    Ok(done.rows_affected() == 1)
                }

                async fn unlink_identity(
                    &self,
                    user_id: &str,
                    provider: &str,
                    events: &[Event],
                ) -> Result<Unlinking> {
                    let mut tx = self.begin().await?;
                    if !Self::lock_user_row(&mut tx, user_id).await? {
                        return Ok(Unlinking::NotLinked);
                    }
                    // Every other way in, counted under the account's lock:
                    // a usable password, a passkey, another identity.
                    let others: i64 = sqlx::query_scalar(
                        "SELECT \
                           (SELECT COUNT(*) FROM users \
                              WHERE id = $1 AND substr(password_hash, 1, 1) <> $2) \
                         + (SELECT COUNT(*) FROM passkeys WHERE user_id = $1) \
                         + (SELECT COUNT(*) FROM identities \
                              WHERE user_id = $1 AND provider <> $3)",
                    )
                    .bind(user_id)
                    .bind($crate::password::UNUSABLE_PREFIX)
                    .bind(provider)
                    .fetch_one(&mut *tx)
                    .await?;
                    let linked = sqlx::query(
                        "SELECT 1 FROM identities WHERE user_id = $1 AND provider = $2",
                    )
                    .bind(user_id)
                    .bind(provider)
                    .fetch_optional(&mut *tx)
                    .await?;
                    if linked.is_none() {
                        return Ok(Unlinking::NotLinked);
                    }
                    if others == 0 {
                        return Ok(Unlinking::LastMethod);
                    }
                    sqlx::query("DELETE FROM identities WHERE user_id = $1 AND provider = $2")
                        .bind(user_id)
                        .bind(provider)
                        .execute(&mut *tx)
                        .await?;
                    Self::commit_with(tx, events).await?;
                    Ok(Unlinking::Unlinked)
                }
            }
        };
    };
}
pub(crate) use sql_identities;

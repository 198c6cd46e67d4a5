//! Roles, their permissions and who holds them, in SQL. Permissions are a
//! JSON list in a text column, as webhook event types are.

/// Implements [`crate::store::RoleStore`] for a [`super::Dialect`].
macro_rules! sql_roles {
    ($store:ty) => {
        const _: () = {
            use chrono::{DateTime, Utc};
            use $crate::error::{Error, Result};
            use $crate::events::Event;
            use $crate::rbac::Role;
            use $crate::store::RoleStore;
            use $crate::store::sql::Dialect;
            use $crate::store::sql::rows::{
                ROLE_COLUMNS, list_from, list_text, role_from, to_micros,
            };

            impl $store {
                /// Insert `role`; `on_conflict` is empty (an existing role is
                /// an error) or `ON CONFLICT (name) DO NOTHING`.
                async fn insert_role(
                    tx: &mut sqlx::Transaction<'static, <$store as Dialect>::Db>,
                    role: &Role,
                    on_conflict: &str,
                ) -> Result<()> {
                    sqlx::query(&format!(
                        "INSERT INTO roles ({ROLE_COLUMNS}) VALUES ($1, $2, $3, $4, $5) \
                         {on_conflict}"
                    ))
                    .bind(&role.name)
                    .bind(&role.description)
                    .bind(list_text(&role.permissions))
                    .bind(role.builtin)
                    .bind(to_micros(role.created_at))
                    .execute(&mut **tx)
                    .await
                    .map_err(<$store as Dialect>::violation)?;
                    Ok(())
                }
            }

            #[async_trait::async_trait]
            impl RoleStore for $store {
                async fn ensure_roles(&self, roles: &[Role]) -> Result<()> {
                    let mut tx = self.begin().await?;
                    for role in roles {
                        Self::insert_role(&mut tx, role, "ON CONFLICT (name) DO NOTHING").await?;
                    }
                    tx.commit().await?;
                    Ok(())
                }

                async fn create_role(&self, role: &Role, events: &[Event]) -> Result<()> {
                    let mut tx = self.begin().await?;
                    Self::insert_role(&mut tx, role, "").await?;
                    Self::commit_with(tx, events).await?;
                    Ok(())
                }

                async fn delete_role(&self, name: &str, events: &[Event]) -> Result<bool> {
                    let mut tx = self.begin().await?;
                    let done = sqlx::query("DELETE FROM roles WHERE name = $1")
                        .bind(name)
                        .execute(&mut *tx)
                        .await?;
                    Self::commit_one(tx, done.rows_affected(), events).await
                }

                async fn role(&self, name: &str) -> Result<Option<Role>> {
                    sqlx::query(&format!("SELECT {ROLE_COLUMNS} FROM roles WHERE name = $1"))
                        .bind(name)
                        .fetch_optional(self.reads())
                        .await?
                        .as_ref()
                        .map(role_from)
                        .transpose()
                }

                async fn list_roles(&self) -> Result<Vec<Role>> {
                    sqlx::query(&format!("SELECT {ROLE_COLUMNS} FROM roles ORDER BY name"))
                        .fetch_all(self.reads())
                        .await?
                        .iter()
                        .map(role_from)
                        .collect()
                }

                async fn grant_role(
                    &self,
                    user_id: &str,
                    role: &str,
                    now: DateTime<Utc>,
                    events: &[Event],
                ) -> Result<bool> {
                    let mut tx = self.begin().await?;
                    let user = sqlx::query("SELECT 1 FROM users WHERE id = $1")
                        .bind(user_id)
                        .fetch_optional(&mut *tx)
                        .await?;
                    if user.is_none() {
                        return Err(Error::not_found("user"));
                    }
                    let found = sqlx::query("SELECT 1 FROM roles WHERE name = $1")
                        .bind(role)
                        .fetch_optional(&mut *tx)
                        .await?;
                    if found.is_none() {
                        return Err(Error::not_found("role"));
                    }
                    let done = sqlx::query(
                        "INSERT INTO user_roles (user_id, role, granted_at) VALUES ($1, $2, $3) \
                         ON CONFLICT (user_id, role) DO NOTHING",
                    )
                    .bind(user_id)
                    .bind(role)
                    .bind(to_micros(now))
                    .execute(&mut *tx)
                    .await
                    .map_err(<$store as Dialect>::violation)?;
                    Self::commit_one(tx, done.rows_affected(), events).await
                }

                async fn revoke_role(
                    &self,
                    user_id: &str,
                    role: &str,
                    events: &[Event],
                ) -> Result<bool> {
                    let mut tx = self.begin().await?;
                    let done =
                        sqlx::query("DELETE FROM user_roles WHERE user_id = $1 AND role = $2")
                            .bind(user_id)
                            .bind(role)
                            .execute(&mut *tx)
                            .await?;
                    Self::commit_one(tx, done.rows_affected(), events).await
                }

                async fn user_roles(&self, user_id: &str) -> Result<Vec<String>> {
                    Ok(sqlx::query_scalar(
                        "SELECT role FROM user_roles WHERE user_id = $1 ORDER BY role",
                    )
                    .bind(user_id)
                    .fetch_all(self.reads())
                    .await?)
                }

                async fn user_permissions(&self, user_id: &str) -> Result<Vec<String>> {
                    let lists: Vec<String> = sqlx::query_scalar(
                        "SELECT r.permissions FROM user_roles ur \
                         JOIN roles r ON r.name = ur.role \
                         JOIN users u ON u.id = ur.user_id \
                         WHERE ur.user_id = $1 AND NOT u.disabled",
                    )
                    .bind(user_id)
                    .fetch_all(self.reads())
                    .await?;
                    let mut all = Vec::new();
                    for list in lists {
                        all.extend(list_from(&list, "role permissions")?);
                    }
                    Ok(all)
                }
            }
        };
    };
}
pub(crate) use sql_roles;

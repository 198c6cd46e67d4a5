//! Role-based access control.
//!
//! A permission is `resource:action`. A grant may put `*` in either place
//! (`users:*`, `*:read`), or be `*` alone for everything. A query is matched
//! literally against the grants, so asking `can(u, "admin:*")` is true only for
//! holders of `admin:*` or `*`, never for holders of a single `admin:read`.
//!
//! `can` is on the hot path of every request, so a user's permissions are
//! resolved once into a [`PermissionSet`] and cached ([`crate::cache`]); a
//! change invalidates it here at once and on other instances through Redis
//! pub/sub, or at the latest after `cache_ttl`.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;

use crate::core::Core;
use crate::error::{Error, Result};
use crate::events::{Event, EventType};
use crate::store::{Store, now};
use crate::telemetry::operation;

mod permission_set;

pub use permission_set::PermissionSet;

/// A role: a named set of permissions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Role {
    /// Unique name (`admin`, `moderator`, `user`, or one you create).
    pub name: String,
    /// What the role is for.
    pub description: String,
    /// Granted permissions, wildcards allowed.
    pub permissions: Vec<String>,
    /// Seeded roles cannot be deleted.
    pub builtin: bool,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

/// What [`Roles::create`] checks before writing: a valid name, valid
/// permissions, a description of at most 1024 bytes without NUL. For
/// tools that report on a role without creating it (`role import --dry-run`).
///
/// ```
/// assert!(doorward::rbac::check_role("editor", &["posts:*"], "").is_ok());
/// assert!(doorward::rbac::check_role("editor", &["posts"], "").is_err());
/// ```
pub fn check_role(name: &str, permissions: &[&str], description: &str) -> Result<()> {
    validate_role_name(name)?;
    for p in permissions {
        validate_permission(p)?;
    }
    if description.len() > 1024 || description.contains('\0') {
        return Err(Error::validation(
            "description",
            "must be at most 1024 bytes, without NUL",
        ));
    }
    Ok(())
}

/// The roles every store starts with.
pub fn seeded_roles() -> Vec<Role> {
    let at = DateTime::<Utc>::UNIX_EPOCH;
    let role = |name: &str, description: &str, permissions: &[&str]| Role {
        name: name.into(),
        description: description.into(),
        permissions: permissions.iter().map(|p| p.to_string()).collect(),
        builtin: true,
        created_at: at,
    };
    vec![
        role(
            "admin",
            "Administrators: every permission",
            &["admin:*", "*"],
        ),
        role(
            "moderator",
            "Moderators: read and change users",
            &["users:read", "users:write"],
        ),
        role("user", "Every registered user", &["users:read"]),
    ]
}

/// The role every new user gets.
pub const DEFAULT_ROLE: &str = "user";

/// Checks a permission's syntax: `*`, or `resource:action` where each part is
/// `*` or 1–64 of `a-z A-Z 0-9 _ . -`.
///
/// ```
/// use doorward::rbac::validate_permission;
/// assert!(validate_permission("users:read").is_ok());
/// assert!(validate_permission("admin:*").is_ok());
/// assert!(validate_permission("*").is_ok());
/// assert!(validate_permission("users").is_err());
/// assert!(validate_permission("us*rs:read").is_err());
/// ```
pub fn validate_permission(permission: &str) -> Result<()> {
    // Bytes, not `str::split_once`: this runs on every `can`, where the
    // generic searcher was a twentieth of the time.
    let part_ok = |p: &[u8]| {
        p == b"*"
            || (!p.is_empty()
                && p.len() <= 64
                && p.iter()
                    .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-')))
    };
    let bytes = permission.as_bytes();
    if bytes == b"*" {
        return Ok(());
    }
    match bytes.iter().position(|&b| b == b':') {
        Some(at) if part_ok(&bytes[..at]) && part_ok(&bytes[at + 1..]) => Ok(()),
        _ => Err(Error::validation(
            "permission",
            "must be `resource:action` (letters, digits, _ . -; `*` as a wildcard part)",
        )),
    }
}

fn validate_role_name(name: &str) -> Result<()> {
    if name.is_empty()
        || name.len() > 64
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
    {
        return Err(Error::validation(
            "role",
            "must be 1 to 64 of letters, digits, '_', '.' and '-'",
        ));
    }
    Ok(())
}

/// The cache key of a user's resolved permissions.
pub(crate) fn permissions_key(user_id: &str) -> String {
    format!("perms:{user_id}")
}

impl Core {
    /// A user's permissions through the cache (L1 → Redis → store). Filled
    /// from the primary store: a grant just made must be seen.
    pub(crate) async fn permissions_of(&self, user_id: &str) -> Result<Arc<PermissionSet>> {
        self.cache
            .get_or_load(&permissions_key(user_id), self.cache.ttl(), || async {
                Ok(PermissionSet::new(
                    self.store.user_permissions(user_id).await?,
                ))
            })
            .await
    }

    /// Whether a user holds `permission`, if this process caches the
    /// user's permissions: what `can` may answer without I/O.
    pub(crate) fn cached_can(&self, user_id: &str, permission: &str) -> Option<bool> {
        crate::cache::with_key("perms:", user_id, |key| {
            self.cache
                .read_local(key, |set: &PermissionSet| set.allows(permission))
        })
    }

    pub(crate) async fn can(&self, user_id: &str, permission: &str) -> Result<bool> {
        validate_permission(permission)?;
        Ok(self.permissions_of(user_id).await?.allows(permission))
    }
}

/// Roles and grants: `dw.roles()`.
#[derive(Debug, Clone)]
pub struct Roles {
    pub(crate) core: Arc<Core>,
}

impl Roles {
    /// Every role, by name. Read from a replica when `database_read_urls`
    /// names some, so it may lag a change just made.
    pub async fn list(&self) -> Result<Vec<Role>> {
        self.core
            .observe(operation!("roles.list"), async {
                self.core.store.for_reads().list_roles().await
            })
            .await
    }

    /// The accounts that hold `name`, in creation order, paged like
    /// [`crate::Users::list`]; `not_found` if the role does not exist.
    /// Read like [`Roles::list`].
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let dw = doorward::Doorward::open_in_memory_for_docs().await;
    /// let ann = dw.users().create("ann", "ann@example.com", "correct horse battery").await?;
    /// dw.users().create("bob", "bob@example.com", "correct horse battery").await?;
    /// dw.roles().grant(&ann.id, "admin").await?;
    /// let holders = dw.roles().holders("admin", None, None).await?;
    /// assert_eq!(holders.items.iter().map(|u| u.username.as_str()).collect::<Vec<_>>(), ["ann"]);
    /// assert!(dw.roles().holders("nobody", None, None).await.is_err());
    /// # Ok::<(), doorward::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn holders(
        &self,
        name: &str,
        cursor: Option<&str>,
        limit: impl Into<Option<u32>>,
    ) -> Result<crate::Page<crate::User>> {
        let limit = limit.into();
        self.core
            .observe(operation!("roles.holders", %name), async {
                role_in(self.core.store.for_reads(), name).await?;
                let filter = crate::store::UserFilter {
                    prefix: None,
                    role: Some(name),
                };
                crate::users::page(&self.core, cursor, filter, limit).await
            })
            .await
    }

    /// One role; `not_found` if absent. Read like [`Roles::list`].
    pub async fn get(&self, name: &str) -> Result<Role> {
        self.core
            .observe(operation!("roles.get", %name), async {
                role_in(self.core.store.for_reads(), name).await
            })
            .await
    }

    /// Create a role with these permissions.
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// # let dw = doorward::Doorward::open_in_memory_for_docs().await;
    /// let role = dw.roles().create("editor", &["posts:*"], "Writes posts").await.unwrap();
    /// assert_eq!(role.permissions, vec!["posts:*"]);
    /// # });
    /// ```
    pub async fn create(
        &self,
        name: &str,
        permissions: &[&str],
        description: &str,
    ) -> Result<Role> {
        self.core
            .observe(operation!("roles.create", %name), async {
                check_role(name, permissions, description)?;
                let role = Role {
                    name: name.to_string(),
                    description: description.to_string(),
                    permissions: permissions.iter().map(|p| p.to_string()).collect(),
                    builtin: false,
                    created_at: now(),
                };
                let event = Event::by_host(
                    EventType::RoleCreated,
                    name,
                    json!({ "role": name, "permissions": role.permissions }),
                );
                self.core.store.create_role(&role, &[event]).await?;
                self.core.emitted();
                tracing::info!(role = name, "role created");
                Ok(role)
            })
            .await
    }

    /// Delete a role and take it from everyone who had it. Seeded roles
    /// (`admin`, `moderator`, `user`) cannot be deleted.
    pub async fn delete(&self, name: &str) -> Result<()> {
        self.core
            .observe(operation!("roles.delete", %name), async {
                let role = role_in(&*self.core.store, name).await?;
                if role.builtin {
                    return Err(Error::validation(
                        "role",
                        "built-in roles cannot be deleted",
                    ));
                }
                let event = Event::by_host(EventType::RoleDeleted, name, json!({ "role": name }));
                self.core.store.delete_role(name, &[event]).await?;
                self.core.emitted();
                self.core.cache.invalidate_namespace("perms").await;
                tracing::info!(role = name, "role deleted");
                Ok(())
            })
            .await
    }

    /// Give `user_id` the role `name`; true if it was new.
    pub async fn grant(&self, user_id: &str, name: &str) -> Result<bool> {
        self.core
            .observe(operation!("roles.grant", %user_id, %name), async {
                let event = Event::by_host(
                    EventType::RoleGranted,
                    user_id,
                    json!({ "user_id": user_id, "role": name }),
                );
                let granted = self
                    .core
                    .store
                    .grant_role(user_id, name, now(), &[event])
                    .await?;
                self.core.emitted();
                self.core
                    .cache
                    .invalidate(vec![permissions_key(user_id)])
                    .await;
                tracing::info!(user_id, role = name, granted, "role granted");
                Ok(granted)
            })
            .await
    }

    /// Take the role `name` from `user_id`; true if they had it. Like
    /// [`Roles::grant`], an unknown user or role is `not_found`.
    pub async fn revoke(&self, user_id: &str, name: &str) -> Result<bool> {
        self.core
            .observe(operation!("roles.revoke", %user_id, %name), async {
                if self.core.store.user_by_id(user_id).await?.is_none() {
                    return Err(Error::not_found("user"));
                }
                role_in(&*self.core.store, name).await?;
                let event = Event::by_host(
                    EventType::RoleRevoked,
                    user_id,
                    json!({ "user_id": user_id, "role": name }),
                );
                let revoked = self.core.store.revoke_role(user_id, name, &[event]).await?;
                self.core.emitted();
                self.core
                    .cache
                    .invalidate(vec![permissions_key(user_id)])
                    .await;
                tracing::info!(user_id, role = name, revoked, "role revoked");
                Ok(revoked)
            })
            .await
    }

    /// The names of a user's roles. Read like [`Roles::list`].
    pub async fn of_user(&self, user_id: &str) -> Result<Vec<String>> {
        self.core
            .observe(operation!("roles.of_user", %user_id), async {
                let store = self.core.store.for_reads();
                if store.user_by_id(user_id).await?.is_none() {
                    return Err(Error::not_found("user"));
                }
                store.user_roles(user_id).await
            })
            .await
    }
}

async fn role_in(store: &dyn Store, name: &str) -> Result<Role> {
    store
        .role(name)
        .await?
        .ok_or_else(|| Error::not_found("role"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cached_lookup_builds_the_same_key() {
        crate::cache::with_key("perms:", "u1", |key| assert_eq!(key, permissions_key("u1")));
    }
}

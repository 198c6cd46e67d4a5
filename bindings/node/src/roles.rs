//! `dw.roles`: roles and grants.

use napi_derive::napi;

use crate::error::guarded;
use crate::types::{Role, each};

/// Roles and grants: `dw.roles`.
#[napi]
#[derive(Debug)]
pub struct Roles {
    pub(crate) dw: doorward::Doorward,
}

#[napi]
impl Roles {
    /// Every role, by name.
    #[napi]
    pub async fn list(&self) -> napi::Result<Vec<Role>> {
        guarded(self.dw.roles().list()).await.map(each)
    }

    /// One role (`not_found` if absent).
    #[napi]
    pub async fn get(&self, name: String) -> napi::Result<Role> {
        guarded(self.dw.roles().get(&name)).await.map(Role::from)
    }

    /// Create a role with these permissions.
    #[napi]
    pub async fn create(
        &self,
        name: String,
        permissions: Vec<String>,
        description: Option<String>,
    ) -> napi::Result<Role> {
        let permissions: Vec<&str> = permissions.iter().map(String::as_str).collect();
        let description = description.unwrap_or_default();
        guarded(self.dw.roles().create(&name, &permissions, &description))
            .await
            .map(Role::from)
    }

    /// Delete a role and take it from everyone (built-in roles stay).
    #[napi]
    pub async fn delete(&self, name: String) -> napi::Result<()> {
        guarded(self.dw.roles().delete(&name)).await
    }

    /// Give a user a role; whether it was new.
    #[napi]
    pub async fn grant(&self, user_id: String, name: String) -> napi::Result<bool> {
        guarded(self.dw.roles().grant(&user_id, &name)).await
    }

    /// Take a role from a user; whether they had it.
    #[napi]
    pub async fn revoke(&self, user_id: String, name: String) -> napi::Result<bool> {
        guarded(self.dw.roles().revoke(&user_id, &name)).await
    }

    /// The names of a user's roles.
    #[napi]
    pub async fn of_user(&self, user_id: String) -> napi::Result<Vec<String>> {
        guarded(self.dw.roles().of_user(&user_id)).await
    }
}

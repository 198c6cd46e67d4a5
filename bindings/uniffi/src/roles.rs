//! Roles and grants: `doorward.roles()`.

use crate::error::{DoorwardError, call};
use crate::types::{Role, each};

/// Roles and grants: `doorward.roles()`.
#[derive(Debug, uniffi::Object)]
pub struct Roles {
    pub(crate) dw: doorward::Doorward,
}

export! {
    impl Roles {
        /// Every role, by name.
        pub async fn list(&self) -> Result<Vec<Role>, DoorwardError> {
            call(self.dw.roles().list()).await.map(each)
        }

        /// One role (`NotFound` if absent).
        pub async fn get(&self, name: String) -> Result<Role, DoorwardError> {
            call(self.dw.roles().get(&name)).await.map(Role::from)
        }

        /// Create a role with these permissions.
        #[uniffi::method(default(description = ""))]
        pub async fn create(&self, name: String, permissions: Vec<String>, description: String) -> Result<Role, DoorwardError> {
            let permissions: Vec<&str> = permissions.iter().map(String::as_str).collect();
            call(self.dw.roles().create(&name, &permissions, &description)).await.map(Role::from)
        }

        /// Delete a role and take it from everyone (built-in roles stay).
        pub async fn delete(&self, name: String) -> Result<(), DoorwardError> {
            call(self.dw.roles().delete(&name)).await
        }

        /// Give a user a role; whether it was new.
        pub async fn grant(&self, user_id: String, name: String) -> Result<bool, DoorwardError> {
            call(self.dw.roles().grant(&user_id, &name)).await
        }

        /// Take a role from a user; whether they had it.
        pub async fn revoke(&self, user_id: String, name: String) -> Result<bool, DoorwardError> {
            call(self.dw.roles().revoke(&user_id, &name)).await
        }

        /// The names of a user's roles.
        pub async fn of_user(&self, user_id: String) -> Result<Vec<String>, DoorwardError> {
            call(self.dw.roles().of_user(&user_id)).await
        }
    }
}

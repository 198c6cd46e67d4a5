//! `dw.roles`: roles and grants.

use crate::types::{Done, Role, each};

sub_api!(
    /// Roles and grants: `dw.roles`.
    Roles,
    AsyncRoles
);

twins! {
    Roles, AsyncRoles;

    /// Every role, by name.
    fn list(dw) -> Vec<Role> {
        dw.roles().list().await.map(each)
    }

    /// One role (`NotFoundError` if absent).
    fn get(dw, name: String) -> Role {
        dw.roles().get(&name).await.map(Role::from)
    }

    /// Create a role with these permissions.
    #[pyo3(
        signature = (name, permissions, description = String::new()),
        text_signature = "(self, /, name, permissions, description='')"
    )]
    fn create(dw, name: String, permissions: Vec<String>, description: String) -> Role {
        let permissions: Vec<&str> = permissions.iter().map(String::as_str).collect();
        dw.roles().create(&name, &permissions, &description).await.map(Role::from)
    }

    /// Delete a role and take it from everyone (built-in roles stay).
    fn delete(dw, name: String) -> Done {
        dw.roles().delete(&name).await
    }

    /// Give a user a role; whether it was new.
    fn grant(dw, user_id: String, name: String) -> bool {
        dw.roles().grant(&user_id, &name).await
    }

    /// Take a role from a user; whether they had it.
    fn revoke(dw, user_id: String, name: String) -> bool {
        dw.roles().revoke(&user_id, &name).await
    }

    /// The names of a user's roles.
    fn of_user(dw, user_id: String) -> Vec<String> {
        dw.roles().of_user(&user_id).await
    }
}

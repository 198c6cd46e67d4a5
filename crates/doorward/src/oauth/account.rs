//! Which account a provider's identity signs in: the linking policy.
//!
//! A linked subject signs in its account. An unlinked one links to an
//! existing account only when the provider is trusted with addresses,
//! says it verified the address, and the account's own address is
//! verified: otherwise whoever controls an unverified address at some
//! provider could take over the account that has it (the reason Kratos
//! refuses automatic linking). Then `account_exists`: the user signs in
//! another way and links from there. With no account at that address, a
//! provider that allows sign-up creates one with no usable password.
//!
//! Two first callbacks of one identity can race; the store decides
//! (unique subject, unique address) and the loser looks again.

use serde_json::json;

use super::provider::{Claims, Provider};
use crate::auth::ClientInfo;
use crate::core::Core;
use crate::error::{Error, Result};
use crate::events::{Event, EventType};
use crate::rbac::DEFAULT_ROLE;
use crate::store::{IdentityRecord, Linking, UserRecord, now};
use crate::users::validate;

/// The account a callback signs in (or links to).
pub(crate) struct Resolved {
    pub user: UserRecord,
    pub new_user: bool,
    pub linked: bool,
}

fn linked_event(
    user: &UserRecord,
    provider: &str,
    how: &str,
    client: Option<&ClientInfo>,
) -> Event {
    Event::by_user(
        EventType::IdentityLinked,
        &user.id,
        client,
        Event::user_payload(
            &user.id,
            &user.username,
            json!({ "provider": provider, "how": how }),
        ),
    )
}

impl Core {
    /// The identity row `claims` describe for `user_id`, tokens sealed if
    /// the provider keeps them.
    pub(crate) fn identity_row(
        &self,
        provider: &Provider,
        claims: &Claims,
        user_id: &str,
    ) -> Result<IdentityRecord> {
        let at = now();
        let tokens_sealed = if provider.config.store_provider_tokens {
            let keys = self.oauth_keys()?;
            let plain =
                serde_json::to_vec(&claims.tokens).map_err(|e| Error::Internal(e.to_string()))?;
            Some(keys.seal(&tokens_aad(&provider.config.id, &claims.subject), &plain))
        } else {
            None
        };
        Ok(IdentityRecord {
            provider: provider.config.id.clone(),
            subject: claims.subject.clone(),
            user_id: user_id.to_string(),
            email: claims.email.clone(),
            email_verified: claims.email_verified,
            tokens_sealed,
            created_at: at,
            last_used_at: Some(at),
        })
    }

    /// Find, link or create the account of `claims`; with `link_to`, link
    /// to that account only.
    pub(crate) async fn resolve_identity(
        &self,
        provider: &Provider,
        claims: &Claims,
        link_to: Option<&str>,
        client: Option<&ClientInfo>,
    ) -> Result<Resolved> {
        let id = provider.config.id.as_str();
        // One look, and one more if a racing callback changed the answer.
        for _ in 0..2 {
            if let Some(known) = self.store.identity(id, &claims.subject).await? {
                if link_to.is_some_and(|u| u != known.user_id) {
                    return Err(Error::AccountExists {
                        provider: id.into(),
                    });
                }
                let user = self.user_record(&known.user_id).await?;
                return Ok(Resolved {
                    user,
                    new_user: false,
                    linked: false,
                });
            }
            if let Some(user_id) = link_to {
                let user = self.user_record(user_id).await?;
                let row = self.identity_row(provider, claims, &user.id)?;
                match self
                    .store
                    .add_identity(&row, &[linked_event(&user, id, "link", client)])
                    .await?
                {
                    Linking::Linked => {
                        self.emitted();
                        return Ok(Resolved {
                            user,
                            new_user: false,
                            linked: true,
                        });
                    }
                    Linking::SubjectTaken => continue,
                    Linking::ProviderTaken => {
                        return Err(Error::validation(
                            "provider",
                            "the account has another identity at this provider: unlink it first",
                        ));
                    }
                }
            }
            let address = claims
                .email
                .as_deref()
                .and_then(|e| validate::email(e).ok());
            if let Some(mail) = &address
                && let Some(user) = self.store.user_by_email_key(&mail.key).await?
            {
                let trusted = provider.config.trusts_email()
                    && claims.email_verified
                    && user.email_verified_at.is_some();
                if !trusted {
                    return Err(Error::AccountExists {
                        provider: id.into(),
                    });
                }
                let row = self.identity_row(provider, claims, &user.id)?;
                match self
                    .store
                    .add_identity(&row, &[linked_event(&user, id, "verified_email", client)])
                    .await?
                {
                    Linking::Linked => {
                        self.emitted();
                        tracing::info!(user_id = %user.id, provider = %id, "identity linked by a verified address");
                        return Ok(Resolved {
                            user,
                            new_user: false,
                            linked: true,
                        });
                    }
                    Linking::SubjectTaken => continue,
                    Linking::ProviderTaken => {
                        return Err(Error::AccountExists {
                            provider: id.into(),
                        });
                    }
                }
            }
            if !provider.config.allow_sign_up.unwrap_or(true) {
                return Err(Error::not_found("account"));
            }
            let Some(mail) = address else {
                return Err(super::provider::failed(
                    id,
                    "email_required",
                    "the provider gave no usable address to sign up with".to_string(),
                ));
            };
            match self.sign_up(provider, claims, mail, client).await {
                Ok(Some(user)) => {
                    return Ok(Resolved {
                        user,
                        new_user: true,
                        linked: true,
                    });
                }
                // The identity or the address was taken meanwhile.
                Ok(None) | Err(Error::DuplicateEmail) => continue,
                Err(e) => return Err(e),
            }
        }
        Err(Error::Storage(
            "the identity changed twice while signing in; try again".into(),
        ))
    }

    /// Create the account of a first sign-in: no usable password (a reset
    /// sets one), the address verified if the provider is trusted and
    /// verified it. `None` if a racing callback linked the identity first.
    async fn sign_up(
        &self,
        provider: &Provider,
        claims: &Claims,
        mail: validate::Email,
        client: Option<&ClientInfo>,
    ) -> Result<Option<UserRecord>> {
        let id = provider.config.id.as_str();
        let hint = claims
            .username
            .clone()
            .unwrap_or_else(|| mail.display.clone());
        for attempt in 0..5 {
            let Ok(name) = validate::username(&crate::users::username_candidate(&hint, attempt))
            else {
                continue;
            };
            let mut user =
                crate::users::new_record(name, mail.clone(), crate::password::unusable());
            if provider.config.trusts_email() && claims.email_verified {
                user.email_verified_at = Some(user.created_at);
            }
            let row = self.identity_row(provider, claims, &user.id)?;
            let events = [
                Event::new(
                    EventType::UserRegistered,
                    Some(&user.id),
                    Some(&user.id),
                    client,
                    Event::user_payload(&user.id, &user.username, json!({ "provider": id })),
                ),
                linked_event(&user, id, "sign_up", client),
            ];
            match self
                .store
                .create_user_with_identity(&user, &[DEFAULT_ROLE], &row, &events)
                .await
            {
                Ok(true) => {
                    self.emitted();
                    self.metrics.count("doorward_registrations_total", &[]);
                    tracing::info!(user_id = %user.id, provider = %id, "user registered through a provider");
                    return Ok(Some(user));
                }
                Ok(false) => return Ok(None),
                Err(Error::DuplicateUsername) if attempt < 4 => {}
                Err(e) => return Err(e),
            }
        }
        Err(Error::Internal("no free username for a new account".into()))
    }
}

/// What the sealed tokens of an identity are bound to.
pub(crate) fn tokens_aad(provider: &str, subject: &str) -> String {
    format!("oauth tokens\0{provider}\0{subject}")
}

//! How sure a session is of who holds it: the RFC 8176 methods that proved
//! it (`amr`), the NIST SP 800-63B authenticator assurance level they add
//! up to (`aal`), and when the user last proved anything (`auth_time`).
//!
//! A session keeps them, so each access token it issues, refreshed or not,
//! says the same; a step-up starts a new session with the methods of the
//! old one plus the new proof.
//!
//! Level 2 needs a knowledge factor (`pwd`) with a possession factor (`otp`
//! for a TOTP or recovery code, `hwk`/`swk` for a passkey), or a passkey
//! that verified its user by itself (`hwk`/`swk` with `user`). An email
//! link (`email`, a registered value of no RFC but Okta's) proves a
//! mailbox, which NIST does not count as an authenticator at level 2, so
//! email with a TOTP stays level 1. `mfa` is added at level 2, as RFC 8176
//! asks.

use chrono::{DateTime, Utc};

use super::{Auth, Principal};
use crate::error::{Error, Result};
use crate::store::now;

/// How a session or a step-up proved the user, as the methods hosts name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Method {
    /// The account's password.
    Password,
    /// A link or code mailed to the account's address.
    Email,
    /// A TOTP code.
    Totp,
    /// A recovery code.
    RecoveryCode,
    /// A passkey that verified its user; `synced` when it may live on
    /// several devices (backup eligible).
    Passkey { synced: bool },
    /// An OAuth 2.0 / OpenID Connect provider vouched for the user
    /// (`fed`, as Microsoft names a federated sign-in; no RFC 8176 value
    /// exists). Level 1: what the provider checked is its own business.
    Federated,
    /// No proof: tokens an administrator issued.
    Issued,
}

impl Method {
    /// The RFC 8176 values this method adds.
    fn amr(self) -> &'static [&'static str] {
        match self {
            Method::Password => &["pwd"],
            Method::Email => &["email"],
            Method::Totp | Method::RecoveryCode => &["otp"],
            Method::Passkey { synced: true } => &["swk", "user"],
            Method::Passkey { synced: false } => &["hwk", "user"],
            Method::Federated => &["fed"],
            Method::Issued => &[],
        }
    }

    /// The second factor named by a host (`totp`, `recovery_code`,
    /// `passkey`; whether a passkey is synced is learnt from its use).
    pub(crate) fn parse_second(name: &str) -> Result<Method> {
        match name {
            "totp" => Ok(Method::Totp),
            "recovery_code" => Ok(Method::RecoveryCode),
            "passkey" => Ok(Method::Passkey { synced: false }),
            _ => Err(Error::validation(
                "method",
                "must be `totp`, `recovery_code` or `passkey`",
            )),
        }
    }

    /// Its name in events and metrics.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Method::Password => "password",
            Method::Email => "email",
            Method::Totp => "totp",
            Method::RecoveryCode => "recovery_code",
            Method::Passkey { .. } => "passkey",
            Method::Federated => "oauth",
            Method::Issued => "issued",
        }
    }
}

/// The assurance of a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Assurance {
    /// RFC 8176 method values, sorted, no repeats.
    pub amr: Vec<String>,
    /// 1 or 2.
    pub aal: u8,
    /// When the user last proved who they are.
    pub auth_time: DateTime<Utc>,
}

impl Assurance {
    /// What `methods` proved, now.
    pub(crate) fn of(methods: &[Method]) -> Assurance {
        Assurance::from_amr(
            methods.iter().flat_map(|m| m.amr()).map(|v| v.to_string()),
            now(),
        )
    }

    /// What a stored session says.
    pub(crate) fn of_session(session: &crate::store::SessionRecord) -> Assurance {
        Assurance {
            amr: session.amr.clone(),
            aal: session.aal,
            auth_time: session.auth_time,
        }
    }

    /// This session's methods plus `method`, proved now: a step-up.
    pub(crate) fn and(&self, method: Method) -> Assurance {
        let old = self.amr.iter().filter(|v| *v != "mfa").cloned();
        Assurance::from_amr(old.chain(method.amr().iter().map(|v| v.to_string())), now())
    }

    fn from_amr(values: impl Iterator<Item = String>, auth_time: DateTime<Utc>) -> Assurance {
        let mut amr: Vec<String> = values.collect();
        amr.sort();
        amr.dedup();
        let has = |v: &str| amr.iter().any(|a| a == v);
        let possession = has("otp") || has("hwk") || has("swk");
        let aal = if (has("pwd") && possession) || ((has("hwk") || has("swk")) && has("user")) {
            2
        } else {
            1
        };
        if aal == 2 {
            amr.push("mfa".into());
            amr.sort();
        }
        Assurance {
            amr,
            aal,
            auth_time,
        }
    }
}

/// `acr` of a level: `aal1` or `aal2`.
pub(crate) fn acr(aal: u8) -> String {
    format!("aal{aal}")
}

/// The level an `acr` claim names; 1 for tokens from before levels existed.
pub(crate) fn aal_of(acr: &str) -> u8 {
    match acr {
        "aal2" => 2,
        "aal3" => 3,
        _ => 1,
    }
}

impl Auth {
    /// Refuse with `step_up_required` unless the token behind `principal`
    /// was authenticated at level `aal` or above (2: a password with a
    /// second factor, or a passkey).
    ///
    /// Answers from the token alone, with no I/O.
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// # let dw = doorward::Doorward::open_in_memory_for_docs().await;
    /// let reg = dw.auth().register_user("ann", "ann@example.com", "correct horse battery", None).await.unwrap();
    /// let me = dw.auth().verify_token(&reg.tokens.access_token).await.unwrap();
    /// assert_eq!(me.aal, 1);
    /// let err = dw.auth().require_aal(&me, 2).unwrap_err();
    /// assert_eq!(err.code().as_str(), "step_up_required");
    /// # });
    /// ```
    pub fn require_aal(&self, principal: &Principal, aal: u8) -> Result<()> {
        if principal.aal >= aal {
            Ok(())
        } else {
            Err(Error::StepUpRequired { aal, max_age: None })
        }
    }

    /// Refuse with `step_up_required` unless the user proved who they are
    /// (a login, a second factor, a step-up) within the last `max_age`
    /// seconds: for sensitive actions such as changing an address.
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// # let dw = doorward::Doorward::open_in_memory_for_docs().await;
    /// let reg = dw.auth().register_user("bob", "bob@example.com", "correct horse battery", None).await.unwrap();
    /// let me = dw.auth().verify_token(&reg.tokens.access_token).await.unwrap();
    /// dw.auth().require_recent_auth(&me, 300).unwrap();
    /// # });
    /// ```
    pub fn require_recent_auth(&self, principal: &Principal, max_age: u64) -> Result<()> {
        let age = (now() - principal.auth_time).num_seconds().max(0) as u64;
        if age <= max_age {
            Ok(())
        } else {
            Err(Error::StepUpRequired {
                aal: principal.aal,
                max_age: Some(max_age),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(methods: &[Method]) -> (Vec<String>, u8) {
        let a = Assurance::of(methods);
        (a.amr, a.aal)
    }

    #[test]
    fn levels_follow_the_factors() {
        assert_eq!(of(&[Method::Password]), (vec!["pwd".to_string()], 1));
        assert_eq!(
            of(&[Method::Password, Method::Totp]),
            (vec!["mfa".into(), "otp".into(), "pwd".into()], 2)
        );
        assert_eq!(
            of(&[Method::Email, Method::Totp]),
            (vec!["email".into(), "otp".into()], 1)
        );
        assert_eq!(of(&[Method::Issued]), (vec![], 1));
        assert_eq!(
            of(&[Method::Federated, Method::Totp]),
            (vec!["fed".into(), "otp".into()], 1)
        );
        assert_eq!(
            of(&[Method::Passkey { synced: true }]),
            (vec!["mfa".into(), "swk".into(), "user".into()], 2)
        );
        assert_eq!(of(&[Method::Passkey { synced: false }]).1, 2);
        let stepped = Assurance::of(&[Method::Password]).and(Method::RecoveryCode);
        assert_eq!(stepped.aal, 2);
        let again = stepped.and(Method::Password);
        assert_eq!(again.amr, ["mfa", "otp", "pwd"]);
    }

    #[test]
    fn acr_round_trips() {
        assert_eq!(aal_of(&acr(2)), 2);
        assert_eq!(aal_of(""), 1);
    }
}

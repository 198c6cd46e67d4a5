//! `TokenStore` (implemented by the app over the Keychain or the Android
//! Keystore) and `DeviceSession`, the signed-in user that keeps its tokens
//! only there.

use std::sync::Arc;

use crate::client::Doorward;
use crate::error::{DoorwardError, call};
use crate::types::{ClientInfo, MfaChallenge, Principal, TokenPair};

/// Secure storage for the current token pair, implemented by the app.
// Callbacks into the app are synchronous (Keychain and Keystore calls are),
// so no runtime is involved: the one export not made with `export!`.
#[uniffi::export(with_foreign)]
pub trait TokenStore: Send + Sync + std::fmt::Debug {
    /// The pair saved last, if any.
    fn load(&self) -> Option<Arc<TokenPair>>;
    /// Keep `pair`, replacing any earlier one.
    fn save(&self, pair: Arc<TokenPair>);
    /// Forget the pair.
    fn clear(&self);
}

/// The app's store as the core sees it.
#[derive(Debug)]
struct Foreign(Arc<dyn TokenStore>);

impl doorward::device::TokenStore for Foreign {
    fn load(&self) -> doorward::Result<Option<doorward::TokenPair>> {
        Ok(self.0.load().map(|p| doorward::TokenPair::from(&*p)))
    }

    fn save(&self, pair: &doorward::TokenPair) -> doorward::Result<()> {
        self.0.save(crate::types::pair(pair.clone()));
        Ok(())
    }

    fn clear(&self) -> doorward::Result<()> {
        self.0.clear();
        Ok(())
    }
}

/// What `DeviceSession.login` answers: a sealed class in Kotlin, an enum
/// in Swift.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum DeviceLogin {
    /// Signed in; the tokens are in the store.
    SignedIn { principal: Principal },
    /// The password was right; ask for a second factor and finish with
    /// `DeviceSession.completeMfa(challenge.flowId, method, code)`.
    MfaRequired { challenge: MfaChallenge },
}

impl From<doorward::device::DeviceLogin> for DeviceLogin {
    fn from(l: doorward::device::DeviceLogin) -> Self {
        match l {
            doorward::device::DeviceLogin::SignedIn(principal) => DeviceLogin::SignedIn {
                principal: principal.into(),
            },
            doorward::device::DeviceLogin::MfaRequired(challenge) => DeviceLogin::MfaRequired {
                challenge: challenge.into(),
            },
        }
    }
}

/// The signed-in user on this device.
#[derive(Debug, uniffi::Object)]
pub struct DeviceSession {
    inner: doorward::device::DeviceSession,
}

export! {
    impl DeviceSession {
        /// A session over a local `Doorward` whose tokens live in `store`.
        #[uniffi::constructor]
        pub fn new(doorward: Arc<Doorward>, store: Arc<dyn TokenStore>) -> Self {
            DeviceSession {
                inner: doorward::device::DeviceSession::new(
                    doorward.dw.clone(),
                    Arc::new(Foreign(store)),
                ),
            }
        }

        /// Log in and keep the tokens in the store (`SignedIn`), or say
        /// that the account needs a second factor first (`MfaRequired`).
        #[uniffi::method(default(client = None))]
        pub async fn login(&self, login: String, password: String, client: Option<ClientInfo>) -> Result<DeviceLogin, DoorwardError> {
            let client = client.map(Into::into);
            call(self.inner.login(&login, &password, client)).await.map(DeviceLogin::from)
        }

        /// Finish a login that answered `MfaRequired` (`method` `totp`,
        /// `recovery_code` or `passkey`) and keep the tokens in the store.
        #[uniffi::method(default(client = None))]
        pub async fn complete_mfa(&self, flow_id: String, method: String, proof: String, client: Option<ClientInfo>) -> Result<Principal, DoorwardError> {
            let client = client.map(Into::into);
            call(self.inner.complete_mfa(&flow_id, &method, &proof, client)).await.map(Principal::from)
        }

        /// The signed-in user, refreshing an expired access token; `None`
        /// when nobody is signed in or the session has ended.
        pub async fn current(&self) -> Result<Option<Principal>, DoorwardError> {
            call(self.inner.current()).await.map(|p| p.map(Principal::from))
        }

        /// A valid access token for the app's API calls, refreshed when needed.
        pub async fn access_token(&self) -> Result<Option<String>, DoorwardError> {
            call(self.inner.access_token()).await
        }

        /// End the session and forget its tokens.
        pub async fn logout(&self) -> Result<(), DoorwardError> {
            call(self.inner.logout()).await
        }
    }
}

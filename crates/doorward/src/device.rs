//! The signed-in user of an app: tokens kept by the host's secure storage,
//! refreshed when the access token runs out, cleared on logout.
//!
//! A phone app that uses doorward locally (an offline-first store) should
//! not keep its tokens in that store or in plain files: the host implements
//! [`TokenStore`] over the Keychain or the Android Keystore, and
//! [`DeviceSession`] only ever hands tokens to it.

use std::sync::Arc;

use crate::Doorward;
use crate::auth::{ClientInfo, LoginResult, MfaChallenge, Principal, TokenPair};
use crate::error::{Error, ErrorCode, Result};

/// Where the host keeps the current token pair (Keychain, Keystore...).
pub trait TokenStore: Send + Sync + std::fmt::Debug {
    /// The pair saved last, if any.
    fn load(&self) -> Result<Option<TokenPair>>;
    /// Keep `pair`, replacing any earlier one.
    fn save(&self, pair: &TokenPair) -> Result<()>;
    /// Forget the pair.
    fn clear(&self) -> Result<()>;
}

/// What [`DeviceSession::login`] answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceLogin {
    /// Signed in; the tokens are in the store.
    SignedIn(Principal),
    /// The password was right; finish with [`DeviceSession::complete_mfa`].
    MfaRequired(MfaChallenge),
}

/// A signed-in user on this device, over a local [`Doorward`].
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use std::sync::{Arc, Mutex};
/// use doorward::device::{DeviceLogin, DeviceSession, TokenStore};
/// use doorward::TokenPair;
///
/// #[derive(Debug, Default)]
/// struct Memory(Mutex<Option<TokenPair>>);
/// impl TokenStore for Memory {
///     fn load(&self) -> doorward::Result<Option<TokenPair>> { Ok(self.0.lock().unwrap().clone()) }
///     fn save(&self, pair: &TokenPair) -> doorward::Result<()> { *self.0.lock().unwrap() = Some(pair.clone()); Ok(()) }
///     fn clear(&self) -> doorward::Result<()> { *self.0.lock().unwrap() = None; Ok(()) }
/// }
///
/// # let dw = doorward::Doorward::open_in_memory_for_docs().await;
/// dw.users().create("ann", "ann@example.com", "correct horse battery").await.unwrap();
/// let session = DeviceSession::new(dw, Arc::new(Memory::default()));
/// let DeviceLogin::SignedIn(ann) = session.login("ann", "correct horse battery", None).await.unwrap() else {
///     panic!("ann has no second factor");
/// };
/// assert_eq!(session.current().await.unwrap().unwrap().user_id, ann.user_id);
/// session.logout().await.unwrap();
/// assert!(session.current().await.unwrap().is_none());
/// # });
/// ```
#[derive(Debug, Clone)]
pub struct DeviceSession {
    dw: Doorward,
    store: Arc<dyn TokenStore>,
}

impl DeviceSession {
    /// A session over `dw` whose tokens live in `store`.
    pub fn new(dw: Doorward, store: Arc<dyn TokenStore>) -> Self {
        DeviceSession { dw, store }
    }

    /// Log in and keep the tokens in the store, or say which second
    /// factor the account needs first.
    pub async fn login(
        &self,
        login: &str,
        password: &str,
        client: Option<ClientInfo>,
    ) -> Result<DeviceLogin> {
        match self.dw.auth().login(login, password, client).await? {
            LoginResult::Tokens(pair) => Ok(DeviceLogin::SignedIn(self.keep(pair).await?)),
            LoginResult::MfaRequired(challenge) => Ok(DeviceLogin::MfaRequired(challenge)),
        }
    }

    /// Finish a login that needed a second factor
    /// ([`crate::Auth::complete_mfa`]) and keep the tokens in the store.
    pub async fn complete_mfa(
        &self,
        flow_id: &str,
        method: &str,
        proof: &str,
        client: Option<ClientInfo>,
    ) -> Result<Principal> {
        let pair = self
            .dw
            .auth()
            .complete_mfa(flow_id, method, proof, client)
            .await?;
        self.keep(pair).await
    }

    async fn keep(&self, pair: TokenPair) -> Result<Principal> {
        self.store.save(&pair)?;
        self.dw.auth().verify_token(&pair.access_token).await
    }

    /// The signed-in user, refreshing the tokens when the access token has
    /// expired; `None` when nobody is signed in or the session has ended
    /// (the stored tokens are then forgotten).
    pub async fn current(&self) -> Result<Option<Principal>> {
        Ok(match self.valid_pair().await? {
            Some(pair) => Some(self.dw.auth().verify_token(&pair.access_token).await?),
            None => None,
        })
    }

    /// A valid access token for calls to the host's own API, refreshed when
    /// needed; `None` when nobody is signed in.
    pub async fn access_token(&self) -> Result<Option<String>> {
        Ok(self.valid_pair().await?.map(|pair| pair.access_token))
    }

    /// End the session and forget its tokens.
    pub async fn logout(&self) -> Result<()> {
        if let Some(pair) = self.store.load()? {
            self.dw.auth().logout(&pair.access_token).await?;
        }
        self.store.clear()
    }

    async fn valid_pair(&self) -> Result<Option<TokenPair>> {
        let Some(pair) = self.store.load()? else {
            return Ok(None);
        };
        match self.dw.auth().verify_token(&pair.access_token).await {
            Ok(_) => Ok(Some(pair)),
            Err(e) if e.code() == ErrorCode::TokenExpired => {
                match self.dw.auth().refresh_token(&pair.refresh_token).await {
                    Ok(fresh) => {
                        self.store.save(&fresh)?;
                        Ok(Some(fresh))
                    }
                    Err(e) if is_ended(&e) => self.forget(),
                    Err(e) => Err(e),
                }
            }
            Err(e) if is_ended(&e) => self.forget(),
            Err(e) => Err(e),
        }
    }

    fn forget(&self) -> Result<Option<TokenPair>> {
        self.store.clear()?;
        Ok(None)
    }
}

/// The session is over for good: sign in again.
fn is_ended(err: &Error) -> bool {
    matches!(
        err.code(),
        ErrorCode::TokenExpired
            | ErrorCode::TokenRevoked
            | ErrorCode::TokenReused
            | ErrorCode::TokenInvalid
            | ErrorCode::UserDisabled
    )
}

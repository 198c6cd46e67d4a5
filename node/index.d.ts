// Types of the doorward package: the wrapper classes (compiled with their
// declarations from lib/*.ts), the shapes of the addon (binding.d.ts,
// generated from the Rust source by napi-rs), and the unions, options and
// middleware types written here.

import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Event, MfaChallenge, Principal, TokenPair } from './binding'
import type { Doorward } from './lib/client'

// One class per sub-API, over the addon's.
export { Doorward, tokenResponse, _panicForTests } from './lib/client'
export { Users } from './lib/users'
export { Roles } from './lib/roles'
export { Sessions } from './lib/sessions'
export { Limits } from './lib/limits'
export { Files } from './lib/files'
export { Events, Subscription, eventTypes } from './lib/events'
export { EventStream } from './lib/stream'
export { Webhooks } from './lib/webhooks'
export { Audit } from './lib/audit'
export { Mail } from './lib/mail'
export { Mfa } from './lib/mfa'
export { Passkeys } from './lib/passkeys'
export { OAuth } from './lib/oauth'
export { PasswordHasher } from './lib/password'
export { Console } from './lib/console'
export { DoorwardError, errorCodes } from './lib/errors'

/**
 * The package's version (its package.json's): the same as the Rust crates',
 * the Python package's `doorward.__version__` and `doorward --version`.
 */
export declare const version: string

// The shapes the addon takes and returns, generated from the Rust source.
export type {
  AuditExportOptions,
  AuditListOptions,
  AuditPage,
  AuditRecord,
  AuditVerification,
  AuthorizationStart,
  ClientInfo,
  ConsoleRequest,
  ConsoleResponse,
  Decision,
  DeliveryListOptions,
  DeliveryRecord,
  Event,
  EventListOptions,
  EventPage,
  FileData,
  FileInfo,
  FileListOptions,
  FilePage,
  FlowStarted,
  HasherOptions,
  Identity,
  ImportFailure,
  ImportOptions,
  ImportReport,
  ImportedUser,
  Message,
  MfaChallenge,
  MfaStatus,
  OAuthCompletion,
  Page,
  PasskeyInfo,
  Principal,
  ProviderInfo,
  ProviderTokens,
  RecoveryCodes,
  Registration,
  Role,
  Session,
  SubscribeOptions,
  TokenPair,
  TotpEnrolment,
  User,
  UserExportOptions,
  UserRow,
  UserRowPage,
  UserUpdate,
  Webhook,
  WebhookTest,
} from './binding'

/** Every stable error code: the public contract (docs/errors.md). */
export type ErrorCode =
  | 'validation_error'
  | 'duplicate_email'
  | 'duplicate_username'
  | 'invalid_credentials'
  | 'user_disabled'
  | 'account_locked'
  | 'not_found'
  | 'token_invalid'
  | 'token_expired'
  | 'token_revoked'
  | 'token_reused'
  | 'flow_invalid'
  | 'flow_expired'
  | 'email_not_verified'
  | 'step_up_required'
  | 'oauth_state_invalid'
  | 'oauth_provider_error'
  | 'account_exists'
  | 'forbidden'
  | 'rate_limited'
  | 'would_block'
  | 'config_error'
  | 'storage_error'
  | 'internal'

/** Every kind of domain event: what `types` filters and `Event.type` name. */
export type EventType =
  | 'UserRegistered'
  | 'LoginSucceeded'
  | 'LoginFailed'
  | 'LoggedOut'
  | 'TokenRefreshed'
  | 'TokenReuseDetected'
  | 'PasswordChanged'
  | 'UserUpdated'
  | 'UserDisabled'
  | 'UserEnabled'
  | 'UserDeleted'
  | 'RoleCreated'
  | 'RoleDeleted'
  | 'RoleGranted'
  | 'RoleRevoked'
  | 'SessionRevoked'
  | 'AccountLocked'
  | 'FileStored'
  | 'FileDeleted'
  | 'EmailVerificationRequested'
  | 'EmailVerified'
  | 'PasswordResetRequested'
  | 'PasswordReset'
  | 'SignInLinkRequested'
  | 'EmailChangeRequested'
  | 'EmailChanged'
  | 'MfaChallenged'
  | 'MfaEnrolled'
  | 'MfaRemoved'
  | 'MfaFailed'
  | 'RecoveryCodeUsed'
  | 'RecoveryCodesRegenerated'
  | 'IdentityLinked'
  | 'IdentityUnlinked'
  | 'UsersImported'
  | 'WebhookAdded'
  | 'WebhookRemoved'
  | 'DeliveryReplayed'

/**
 * What `login` and `completeSignIn` answer: the session's tokens, or a
 * second factor to ask for. `mfaRequired` tells them apart:
 * `if (r.mfaRequired) { r.flowId } else { r.accessToken }`.
 */
export type LoginResult = TokenPair | MfaChallenge

/**
 * A second factor that completes a login (`completeMfa`) or proves a
 * step-up. For `passkey` the proof is the browser's `credential.toJSON()`
 * as JSON text, answering `passkeys.startAuthentication(username)`.
 */
export type MfaMethod = 'totp' | 'recovery_code' | 'passkey'

/** What `stepUp` accepts as proof: the password, or a second factor. */
export type StepUpMethod = 'password' | MfaMethod

/** How a WebAuthn option names a credential: its id in base64url. */
export interface PasskeyDescriptor {
  type: 'public-key'
  id: string
  /** As the authenticator reported them: `usb`, `nfc`, `ble`, `internal`, `hybrid`... */
  transports?: string[]
}

/** Whether the authenticator must verify its user (doorward asks for `required`). */
export type UserVerification = 'required' | 'preferred' | 'discouraged'

/**
 * What `passkeys.startRegistration` answers. In the browser:
 * `navigator.credentials.create({ publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(options.publicKey) })`.
 * Binary values (`challenge`, `user.id`, credential ids) are base64url.
 */
export interface PasskeyCreationOptions {
  publicKey: {
    rp: { id: string; name: string }
    user: { id: string; name: string; displayName: string }
    challenge: string
    pubKeyCredParams: { type: 'public-key'; alg: number }[]
    /** Milliseconds. */
    timeout?: number
    /** The account's passkeys already registered, not to be created again. */
    excludeCredentials?: PasskeyDescriptor[]
    authenticatorSelection?: {
      authenticatorAttachment?: 'platform' | 'cross-platform'
      residentKey?: 'discouraged' | 'preferred' | 'required'
      requireResidentKey: boolean
      userVerification: UserVerification
    }
    hints?: ('security-key' | 'client-device' | 'hybrid')[]
    attestation?: 'none' | 'indirect' | 'direct'
    attestationFormats?: string[]
    extensions?: Record<string, unknown>
  }
}

/**
 * What `passkeys.startAuthentication` answers. In the browser:
 * `navigator.credentials.get({ publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(options.publicKey) })`.
 * `allowCredentials` is empty for a discoverable credential (no username).
 */
export interface PasskeyRequestOptions {
  publicKey: {
    challenge: string
    /** Milliseconds. */
    timeout?: number
    rpId: string
    allowCredentials: PasskeyDescriptor[]
    userVerification: UserVerification
    hints?: ('security-key' | 'client-device' | 'hybrid')[]
    extensions?: Record<string, unknown>
  }
  mediation?: 'conditional'
}

/**
 * The browser's answer, `credential.toJSON()` of what
 * `navigator.credentials.create()` or `.get()` returned (a
 * RegistrationResponseJSON or an AuthenticationResponseJSON), as posted to
 * the server. The core checks everything in it.
 */
export interface PasskeyCredentialJSON {
  id: string
  rawId: string
  type: string
  response: { clientDataJSON: string }
  authenticatorAttachment?: string | null
  clientExtensionResults?: object
}

/** Where a webhook delivery stands. */
export type DeliveryStatus = 'pending' | 'delivered' | 'dead'

/** What `dw.events.subscribe` calls with each event. */
export type EventHandler = (event: Event) => void | Promise<void>

/** One entry of `jwtPreviousKeys`: a key that still verifies old tokens. */
export interface PreviousKey {
  kid: string
  algorithm: 'HS256' | 'EdDSA' | 'RS256' | 'ES256'
  secret?: string
  publicKey?: string
}

/** What an OAuth provider speaks, and the defaults that go with it. */
export type ProviderKind = 'oidc' | 'google' | 'microsoft' | 'apple' | 'github'

/**
 * One entry of `oauthProviders`: a provider users can sign in with. Unknown
 * keys are a `config_error`; `clientSecret` never shows in a message.
 */
export interface OAuthProviderConfig {
  /** Its id in doorward's API and in linked identities (`google`, `corp`): lowercase letters, digits, `-` and `_`. */
  id: string
  /** `oidc` (the default: any OpenID provider, by its `issuer`), `google`, `microsoft`, `apple`, `github`. */
  kind?: ProviderKind
  /** The name sign-in buttons show; unset, from the kind or the id. */
  name?: string
  /** The OpenID issuer (`https://login.example.com`): required for `oidc`, fixed by the other kinds. */
  issuer?: string
  /** The Microsoft tenant (a tenant id, or `consumers`). */
  tenant?: string
  /** The client id registered at the provider. */
  clientId: string
  /** The client secret; unset for a public client, which PKCE alone protects. Apple: the JWT Apple asks for. */
  clientSecret?: string
  /** Scopes to ask for (a list, or comma-separated text); unset, what the kind needs (`openid email profile`; GitHub `read:user user:email`). */
  scopes?: string[] | string
  /** Whether a verified address at the provider links the account with that verified address (unset: yes, except Microsoft). */
  trustEmail?: boolean
  /** Whether a first sign-in with an unknown identity creates an account (default yes). */
  allowSignUp?: boolean
  /** Keep the provider's access and refresh tokens, sealed, for `oauth.providerTokens` (off by default). */
  storeProviderTokens?: boolean
  /** GitHub: the authorization endpoint (GitHub Enterprise). */
  authorizationEndpoint?: string
  /** GitHub: the token endpoint. */
  tokenEndpoint?: string
  /** GitHub: the REST API's base URL. */
  apiUrl?: string
}

/**
 * The configuration, with the keys of the README's table in camelCase.
 * Unknown keys are a `config_error`.
 */
export interface Config {
  databaseUrl?: string
  databaseReadUrls?: string[] | string
  databaseMaxConnections?: number
  databaseMinConnections?: number
  databaseAcquireTimeout?: number
  redisUrl?: string
  redisPrefix?: string
  redisTimeoutMs?: number
  redisSessionPolicy?: 'fail_closed' | 'database'
  redisWaitReplicas?: number
  cacheTtl?: number
  cacheMaxEntries?: number
  sessionCacheTtl?: number
  rateLimitLoginAccount?: string
  rateLimitLoginIp?: string
  rateLimitRegisterIp?: string
  /** Leading bits of an IPv6 client address counted as one client by the per-address limits (1–128, default 64). */
  rateLimitIpv6Prefix?: number
  lockoutThreshold?: number
  /** Failures from anywhere before the whole account locks (default 100); addresses that logged in before still get through. */
  lockoutAccountThreshold?: number
  lockoutBaseDelay?: number
  lockoutMaxDelay?: number
  jwtSecret?: string
  jwtAlgorithm?: 'HS256' | 'EdDSA' | 'RS256' | 'ES256'
  jwtPrivateKey?: string
  jwtPublicKey?: string
  jwtKeyId?: string
  jwtPreviousKeys?: PreviousKey[]
  jwtIssuer?: string
  jwtAudience?: string
  accessTtl?: number
  refreshTtl?: number
  refreshReuseGrace?: number
  statelessVerify?: boolean
  passwordMinLength?: number
  argon2MemoryKib?: number
  argon2Iterations?: number
  argon2Parallelism?: number
  hashConcurrency?: number
  eventsDispatch?: boolean
  eventsPollIntervalMs?: number
  eventsLeaseSecs?: number
  eventsMaxAttempts?: number
  eventsRetryBaseMs?: number
  eventsRetryMaxSecs?: number
  eventsHandlerTimeoutMs?: number
  /** Seconds the outbox keeps an event every consumer has handled (default 7 days; 0 keeps all). */
  eventsRetentionSecs?: number
  /** Key of the audit log's hash chain (at least 32 bytes); never stored in the database. Verifying needs it. */
  auditKey?: string
  /** Audit keys used before `auditKey`, so rows written under them still verify. */
  auditPreviousKeys?: string[] | string
  webhookTimeoutMs?: number
  /** Let webhooks reach loopback, private and other non-public addresses (a local receiver); off by default. */
  webhookAllowPrivate?: boolean
  /** `file:///dir`, `memory://` or `s3://bucket`; beside the database by default. */
  filesUrl?: string
  filesMaxBytes?: number
  filesS3Region?: string
  filesS3Endpoint?: string
  filesS3AccessKeyId?: string
  filesS3SecretAccessKey?: string
  filesS3AllowHttp?: boolean
  /** `smtp://host:port`, `smtps://host`, or `memory://` (kept, see `dw.mail.sent()`); no mail when unset. */
  mailUrl?: string
  mailFrom?: string
  mailUsername?: string
  mailPassword?: string
  mailTimeoutMs?: number
  /** Send a welcome mail on registration when a mailer is set (on by default). */
  welcomeMail?: boolean
  /** `{username}`, `{email}` and `{user_id}` are replaced. */
  welcomeSubject?: string
  welcomeText?: string
  /** Public base URL of the host's pages (default `http://localhost:8000`): an account mail's link is this plus the purpose's path. */
  appUrl?: string
  /** Key of the account flows' one-time secrets (at least 32 bytes); derived from `jwtSecret` when unset. */
  flowKey?: string
  /** Digits of the code an account mail carries beside its link (6 to 8, default 6). */
  flowCodeDigits?: number
  /** Seconds before the same account mail may be asked for again for one address (default 60). */
  flowResendCooldown?: number
  /** Account mails asked for per address (`"5/1h"`), or `"off"`. */
  rateLimitFlowAddress?: string
  /** Account mails asked for per client address (`"30/1h"`), or `"off"`. */
  rateLimitFlowIp?: string
  /** Mail a verification on registration when a mailer is set (on by default). */
  verifyEmailOnRegister?: boolean
  /** Refuse logins of unverified addresses with `email_not_verified` (off by default). */
  requireVerifiedEmailForLogin?: boolean
  /** Let a sign-in by email create the account of an unknown address (off by default). */
  signInCreatesUsers?: boolean
  /** Tell an address with no account that someone asked for a reset or sign-in with it (off by default). */
  unknownAddressMail?: boolean
  /** Seconds a verification link and code work (default 86400). */
  verifyEmailTtl?: number
  /** The host's page for verification links (default `/verify`). */
  verifyEmailPath?: string
  verifyEmailSubject?: string
  /** `{link}`, `{code}`, `{username}` and `{expires_in}` are replaced; so in every flow mail's text. */
  verifyEmailText?: string
  /** Seconds a password reset link and code work (default 3600). */
  resetPasswordTtl?: number
  /** The host's page for reset links (default `/reset`). */
  resetPasswordPath?: string
  resetPasswordSubject?: string
  resetPasswordText?: string
  /** Seconds a sign-in link and code work (default 600). */
  signInTtl?: number
  /** The host's page for sign-in links (default `/sign-in/email`). */
  signInPath?: string
  signInSubject?: string
  signInText?: string
  /** Seconds an email change link and code work (default 3600). */
  changeEmailTtl?: number
  /** The host's page for email change links (default `/email-change`). */
  changeEmailPath?: string
  changeEmailSubject?: string
  changeEmailText?: string
  /** The notice to the old address of an email change (`{username}`, `{expires_in}`). */
  changeEmailNoticeSubject?: string
  changeEmailNoticeText?: string
  /** The mail to an address with no account, when `unknownAddressMail` is on (`{app_url}`). */
  unknownAddressSubject?: string
  unknownAddressText?: string
  /** Key of the second factors (at least 32 bytes): TOTP secrets are sealed and recovery codes keyed under it, out of the database. Derived from `flowKey`, else `jwtSecret`, when unset. */
  mfaEncryptionKey?: string
  /** The name authenticator apps show beside the account (default `doorward`). */
  mfaIssuer?: string
  /** Roles whose holders must enrol a second factor before they get a session (a list, or comma-separated text). */
  mfaRequiredForRoles?: string[] | string
  /** Seconds a login whose first factor was right waits for its second (default 300). */
  mfaLoginTtl?: number
  /** Seconds an authentication stays fresh enough to remove a factor or a passkey, or replace the recovery codes (default 600). */
  freshAuthMaxAge?: number
  /** The WebAuthn relying party id: the domain passkeys are bound to (`example.com` serves `app.example.com` too). Default: the host of `appUrl`. */
  webauthnRpId?: string
  /** The name browsers show when creating a passkey (default `doorward`). */
  webauthnRpName?: string
  /** Origins allowed to use passkeys (`https://app.example.com`; a list, or comma-separated text). Default: the origin of `appUrl`. */
  webauthnOrigins?: string[] | string
  /** Providers users can sign in with (OAuth 2.0 / OpenID Connect): `dw.oauth`. Not settable from the environment. */
  oauthProviders?: OAuthProviderConfig[]
  /** OTLP/HTTP collector base URL (e.g. `http://127.0.0.1:4318`): the spans of every operation are exported there; what is buffered goes out at exit. */
  otelEndpoint?: string
  /** The exported `service.name` (default `doorward`). */
  otelServiceName?: string
}

/** A request after `authenticate`. */
export interface AuthenticatedRequest extends IncomingMessage {
  principal?: Principal
  accessToken?: string
  doorward?: Doorward
}

/** Connect-style middleware. */
export type Middleware = (
  req: AuthenticatedRequest,
  res: ServerResponse,
  next: (err?: unknown) => void,
) => void

/** Connect-style error handler. */
export type ErrorMiddleware = (
  err: unknown,
  req: IncomingMessage,
  res: ServerResponse,
  next: (err?: unknown) => void,
) => void

/** The HTTP status that answers each error code. */
export declare const HTTP_STATUS: Readonly<Record<ErrorCode, number>>

/** The token of an `Authorization: Bearer <token>` header value, or null. */
export declare function bearerToken(header: string | undefined): string | null

/**
 * Verifies the bearer token and sets `req.principal` and `req.accessToken`;
 * without a valid token, `next(err)` with a `DoorwardError` (401), unless
 * `optional`.
 */
export declare function authenticate(dw: Doorward, options?: { optional?: boolean }): Middleware

/** Admits only principals holding `permission` (403 otherwise; 401 without one). */
export declare function requirePermission(permission: string): Middleware

/** Answers a `DoorwardError` with its HTTP status and a JSON body. */
export declare function errorHandler(): ErrorMiddleware

/**
 * The admin console as Express / Connect middleware, answering every
 * request under its mount: `app.use('/admin', consoleMiddleware(dw))`
 * serves the console's page at `/admin/`, its files and its JSON API under
 * `/admin/api/`. The body is read up to `Console.MAX_BODY` bytes (413 past
 * it); one a body parser already read is taken from `req.body`. Throws a
 * TypeError unless `dw` is an open `Doorward`.
 */
export declare function consoleMiddleware(dw: Doorward): Middleware

// The whole API through the package's public types, as a TypeScript host
// writes it: `npm run typecheck` (tsc --noEmit -p test/tsconfig.json)
// checks this file; it is never run (node --test picks up .js/.mjs/.cjs only).
// Every `// @ts-expect-error` line is a wrong use the types must reject: tsc
// fails if one of them stops being an error.

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'

import {
  Audit,
  Console,
  Doorward,
  DoorwardError,
  EventStream,
  Events,
  Files,
  HTTP_STATUS,
  Limits,
  Mail,
  Mfa,
  OAuth,
  Passkeys,
  PasswordHasher,
  Roles,
  Sessions,
  Subscription,
  Users,
  Webhooks,
  authenticate,
  bearerToken,
  consoleMiddleware,
  errorCodes,
  errorHandler,
  eventTypes,
  requirePermission,
  tokenResponse,
  version,
  type AuditPage,
  type AuditRecord,
  type AuditVerification,
  type AuthenticatedRequest,
  type AuthorizationStart,
  type ClientInfo,
  type Config,
  type ConsoleRequest,
  type ConsoleResponse,
  type Decision,
  type DeliveryRecord,
  type DeliveryStatus,
  type ErrorCode,
  type ErrorMiddleware,
  type Event,
  type EventHandler,
  type EventPage,
  type EventType,
  type FileData,
  type FileInfo,
  type FilePage,
  type FlowStarted,
  type HasherOptions,
  type Identity,
  type ImportFailure,
  type ImportOptions,
  type ImportReport,
  type ImportedUser,
  type LoginResult,
  type Message,
  type MfaChallenge,
  type MfaMethod,
  type MfaStatus,
  type Middleware,
  type OAuthCompletion,
  type OAuthProviderConfig,
  type Page,
  type PasskeyCreationOptions,
  type PasskeyCredentialJSON,
  type PasskeyDescriptor,
  type PasskeyInfo,
  type PasskeyRequestOptions,
  type PreviousKey,
  type Principal,
  type ProviderInfo,
  type ProviderKind,
  type ProviderTokens,
  type RecoveryCodes,
  type Registration,
  type Role,
  type Session,
  type StepUpMethod,
  type TokenPair,
  type TotpEnrolment,
  type User,
  type UserExportOptions,
  type UserRow,
  type UserRowPage,
  type UserUpdate,
  type UserVerification,
  type Webhook,
  type WebhookTest,
} from 'doorward'
import doorwardDefault from 'doorward'

/** Compile-time equality of two types. */
type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false
function assertType<T extends true>(): T | void {}

const previous: PreviousKey = { kid: 'old', algorithm: 'HS256', secret: 'an-old-secret-of-at-least-32-bytes!!' }

const config: Config = {
  databaseUrl: 'postgres://postgres@127.0.0.1:5432/test',
  databaseReadUrls: ['postgres://replica/test'],
  databaseMaxConnections: 10,
  databaseMinConnections: 0,
  databaseAcquireTimeout: 10,
  redisUrl: 'redis://127.0.0.1:6379',
  redisPrefix: 'app:',
  redisTimeoutMs: 500,
  redisSessionPolicy: 'database',
  cacheTtl: 60,
  cacheMaxEntries: 100_000,
  sessionCacheTtl: 0,
  rateLimitLoginAccount: '10/5m',
  rateLimitLoginIp: '60/1m',
  rateLimitRegisterIp: 'off',
  rateLimitIpv6Prefix: 64,
  lockoutThreshold: 10,
  lockoutAccountThreshold: 100,
  lockoutBaseDelay: 60,
  lockoutMaxDelay: 3600,
  jwtSecret: 'change-me-to-32-random-bytes-or-more',
  jwtAlgorithm: 'HS256',
  jwtKeyId: 'k1',
  jwtPreviousKeys: [previous, { kid: 'ed', algorithm: 'EdDSA', publicKey: '/keys/ed.pub.pem' }],
  jwtIssuer: 'doorward',
  jwtAudience: 'doorward',
  accessTtl: 900,
  refreshTtl: 2_592_000,
  refreshReuseGrace: 0,
  statelessVerify: false,
  passwordMinLength: 8,
  argon2MemoryKib: 19_456,
  argon2Iterations: 2,
  argon2Parallelism: 1,
  hashConcurrency: 2,
  eventsDispatch: true,
  eventsPollIntervalMs: 500,
  eventsLeaseSecs: 30,
  eventsMaxAttempts: 8,
  eventsRetryBaseMs: 1000,
  eventsRetryMaxSecs: 3600,
  eventsHandlerTimeoutMs: 30_000,
  eventsRetentionSecs: 604_800,
  auditKey: 'an audit key of at least thirty-two bytes',
  auditPreviousKeys: ['an older audit key of at least 32 bytes'],
  webhookTimeoutMs: 10_000,
  webhookAllowPrivate: false,
  filesUrl: 's3://avatars',
  filesMaxBytes: 5_000_000,
  filesS3Region: 'us-east-1',
  filesS3Endpoint: 'http://127.0.0.1:9000',
  filesS3AccessKeyId: 'key-id',
  filesS3SecretAccessKey: 'secret',
  filesS3AllowHttp: true,
  mailUrl: 'smtp://127.0.0.1:2525',
  mailFrom: 'Example <hello@example.com>',
  mailUsername: 'mailer',
  mailPassword: 'secret',
  mailTimeoutMs: 10_000,
  welcomeMail: true,
  welcomeSubject: 'Welcome, {username}',
  welcomeText: 'Hello {username}',
  appUrl: 'https://app.example.com',
  flowKey: 'a flow key of at least thirty-two bytes!',
  flowCodeDigits: 6,
  flowResendCooldown: 60,
  rateLimitFlowAddress: '5/1h',
  rateLimitFlowIp: '30/1h',
  verifyEmailOnRegister: true,
  requireVerifiedEmailForLogin: false,
  signInCreatesUsers: false,
  unknownAddressMail: false,
  verifyEmailTtl: 86_400,
  verifyEmailPath: '/verify',
  verifyEmailSubject: 'Confirm your email address',
  verifyEmailText: 'Open {link} or enter {code}',
  resetPasswordTtl: 3600,
  resetPasswordPath: '/reset',
  resetPasswordSubject: 'Reset your password',
  resetPasswordText: 'Open {link} or enter {code}',
  signInTtl: 600,
  signInPath: '/sign-in/email',
  signInSubject: 'Your sign-in link',
  signInText: 'Open {link} or enter {code}',
  changeEmailTtl: 3600,
  changeEmailPath: '/email-change',
  changeEmailSubject: 'Confirm your new email address',
  changeEmailText: 'Open {link} or enter {code}',
  changeEmailNoticeSubject: 'Your email address is being changed',
  changeEmailNoticeText: 'Hello {username}',
  unknownAddressSubject: 'Someone used this address',
  unknownAddressText: 'No account at {app_url}',
  mfaEncryptionKey: 'an mfa key of at least thirty-two bytes!!',
  mfaIssuer: 'Example',
  mfaRequiredForRoles: ['admin'],
  mfaLoginTtl: 300,
  freshAuthMaxAge: 600,
  webauthnRpId: 'example.com',
  webauthnRpName: 'Example',
  webauthnOrigins: ['https://app.example.com', 'https://admin.example.com'],
  oauthProviders: [
    { id: 'google', kind: 'google', clientId: '1234.apps.googleusercontent.com', clientSecret: 'from-the-console' },
    {
      id: 'corp',
      kind: 'oidc',
      name: 'Corp SSO',
      issuer: 'https://login.example.com',
      clientId: 'doorward',
      clientSecret: 's3cret',
      scopes: ['openid', 'email', 'profile'],
      trustEmail: false,
      allowSignUp: true,
      storeProviderTokens: true,
    },
    { id: 'entra', kind: 'microsoft', tenant: 'consumers', clientId: 'app-id', scopes: 'openid,email' },
    {
      id: 'ghe',
      kind: 'github',
      clientId: 'gh',
      authorizationEndpoint: 'https://github.example.com/login/oauth/authorize',
      tokenEndpoint: 'https://github.example.com/login/oauth/access_token',
      apiUrl: 'https://github.example.com/api/v3',
    },
  ],
}
const asymmetric: Config = { jwtAlgorithm: 'EdDSA', jwtPrivateKey: '/keys/ed.pem', jwtPublicKey: '/keys/ed.pub.pem' }
const readUrlsAsText: Config = { databaseReadUrls: 'postgres://a/test,postgres://b/test' }
const mfaRolesAsText: Config = { mfaRequiredForRoles: 'admin,auditor' }
// @ts-expect-error: a TTL is a number of seconds, not a flag
const mfaTtlFlag: Config = { mfaLoginTtl: true }
// @ts-expect-error: the MFA keys are camelCase too
const snakeMfa: Config = { mfa_issuer: 'Example' }
void [mfaRolesAsText, mfaTtlFlag, snakeMfa]
const originsAsText: Config = { webauthnOrigins: 'https://app.example.com,https://admin.example.com' }
// @ts-expect-error: the relying party id is one domain, not a list
const rpIdList: Config = { webauthnRpId: ['example.com'] }
// @ts-expect-error: the WebAuthn keys are camelCase too
const snakeWebauthn: Config = { webauthn_rp_name: 'Example' }
void [originsAsText, rpIdList, snakeWebauthn]
const appleProvider: OAuthProviderConfig = { id: 'apple', kind: 'apple', clientId: 'com.example.web', clientSecret: 'a JWT' }
// @ts-expect-error: a provider needs its client id
const noClientId: OAuthProviderConfig = { id: 'corp', issuer: 'https://login.example.com' }
// @ts-expect-error: not one of the kinds
const unknownKind: OAuthProviderConfig = { id: 'x', kind: 'facebook', clientId: 'x' }
// @ts-expect-error: the provider keys are camelCase too
const snakeProvider: OAuthProviderConfig = { id: 'x', client_id: 'x' }
// @ts-expect-error: the providers are a list of tables, not one
const oneProvider: Config = { oauthProviders: appleProvider }
void [noClientId, unknownKind, snakeProvider, oneProvider]

// @ts-expect-error: an unknown configuration key (a typo of jwtIssuer)
const typo: Config = { jwtIsuer: 'doorward' }
// @ts-expect-error: not one of the algorithms
const noneAlgorithm: Config = { jwtAlgorithm: 'none' }
// @ts-expect-error: not one of the Redis policies
const policy: Config = { redisSessionPolicy: 'sometimes' }
// @ts-expect-error: a flag, not text
const flag: Config = { statelessVerify: 'yes' }
// @ts-expect-error: the files keys are camelCase, like every other
const snakeFiles: Config = { files_url: 'memory://' }
// @ts-expect-error: welcomeMail is a flag
const welcomeText: Config = { welcomeMail: 'Hello' }
// @ts-expect-error: the flow keys are camelCase too
const snakeFlow: Config = { app_url: 'https://app.example.com' }
// @ts-expect-error: a TTL is a number of seconds
const ttlText: Config = { signInTtl: true }
void [typo, noneAlgorithm, policy, flag, asymmetric, readUrlsAsText, snakeFiles, welcomeText, snakeFlow, ttlText]

async function everyMethod(): Promise<void> {
  const dw: Doorward = await Doorward.open(config)
  const fromFile: Promise<Doorward> = Doorward.open('doorward.toml')
  const withDefaults: Promise<Doorward> = Doorward.open()
  void [fromFile, withDefaults]
  // @ts-expect-error: an unknown key in an object literal passed to open
  await Doorward.open({ databaseUrl: 'memory://', jwtIsuer: 'typo' })
  // @ts-expect-error: the configuration is an object or a path
  await Doorward.open(42)

  const backend: string = dw.backend
  const jwks: { keys: Record<string, unknown>[] } = dw.jwks()
  void [backend, jwks]

  const client: ClientInfo = { ip: '203.0.113.7', userAgent: 'types/1.0' }
  const reg: Registration = await dw.registerUser('john', 'john@example.com', 'correct horse battery', client)
  const user: User = reg.user
  const first: TokenPair = reg.tokens
  // A login answers the tokens, or a challenge for a second factor: a union
  // told apart by `mfaRequired`.
  const result: LoginResult = await dw.login('john', 'correct horse battery', client)
  const union: TokenPair | MfaChallenge = result
  await dw.login('john', 'correct horse battery')
  await dw.login('john', 'correct horse battery', null)
  // @ts-expect-error: not narrowed, it may be a challenge
  const unchecked: TokenPair = await dw.login('john', 'correct horse battery')
  // @ts-expect-error: not narrowed, a challenge has no tokens
  void result.accessToken
  const pending: boolean = result.mfaRequired
  void [union, unchecked, pending]
  let pair: TokenPair
  if (result.mfaRequired) {
    const challenge: MfaChallenge = result
    const challengeFields: [true, string, string, MfaMethod[], boolean, number] = [
      challenge.mfaRequired,
      challenge.flowId,
      challenge.userId,
      challenge.methods,
      challenge.enrolmentRequired,
      challenge.expiresIn,
    ]
    void challengeFields
    // @ts-expect-error: narrowed to a challenge, which has no tokens
    void result.accessToken
    pair = await dw.completeMfa(result.flowId, 'totp', '123456', client)
    await dw.completeMfa(result.flowId, 'recovery_code', 'abcde-fghij')
    await dw.completeMfa(result.flowId, 'totp', '123456', null)
    // A passkey's assertion is JSON text.
    await dw.completeMfa(result.flowId, 'passkey', JSON.stringify({ id: 'x' }))
    // @ts-expect-error: a password is no second factor
    await dw.completeMfa(result.flowId, 'password', 'correct horse battery')
    // @ts-expect-error: the proof comes before the client
    await dw.completeMfa(result.flowId, 'totp', client)
  } else {
    const signedIn: false = result.mfaRequired
    void signedIn
    // @ts-expect-error: narrowed to tokens, which have no flow id
    void result.flowId
    pair = result
  }
  const principal: Principal = await dw.verifyToken(pair.accessToken)
  // How the session was authenticated, and checks on it that throw
  // `step_up_required` synchronously.
  const amr: string[] = principal.amr
  const aal: number = principal.aal
  const authTime: Date = principal.authTime
  void [amr, aal, authTime]
  const levelChecked: void = dw.requireAal(principal, 2)
  const freshChecked: void = dw.requireRecentAuth(principal, 300)
  void [levelChecked, freshChecked]
  // @ts-expect-error: synchronous, not a Promise
  await dw.requireAal(principal, 2).then(() => {})
  // @ts-expect-error: the principal, not its token
  dw.requireAal(pair.accessToken, 2)
  // @ts-expect-error: the level is a number
  dw.requireAal(principal, 'aal2')
  const stepped: TokenPair = await dw.stepUp(pair.accessToken, 'password', 'correct horse battery', client)
  await dw.stepUp(stepped.accessToken, 'totp', '123456')
  await dw.stepUp(stepped.accessToken, 'recovery_code', 'abcde-fghij', null)
  await dw.stepUp(stepped.accessToken, 'passkey', '{"id":"x"}')
  const methods: MfaMethod[] = ['totp', 'recovery_code', 'passkey']
  void methods
  const stepMethod: StepUpMethod = 'password'
  const secondFactor: MfaMethod = 'recovery_code'
  void [stepMethod, secondFactor]
  // @ts-expect-error: not a method
  await dw.stepUp(stepped.accessToken, 'sms', '123456')
  // @ts-expect-error: TokenPair.mfaRequired is always false
  const alwaysFalse: true = stepped.mfaRequired
  void alwaysFalse
  const next: TokenPair = await dw.refreshToken(pair.refreshToken)
  const loggedOut: void = await dw.logout(next.accessToken)
  const allowed: boolean = await dw.can(principal.userId, 'users:write')
  const required: void = await dw.require(principal.userId, 'users:read')
  const issued: TokenPair = await dw.issueTokens(user.id, { userAgent: 'magic-link' })
  void [first, loggedOut, allowed, required, issued]

  // Account flows: each request answers a FlowStarted; the link's secret
  // or the typed code completes it.
  const verification: FlowStarted = await dw.requestEmailVerification(user.id)
  const flowId: string = verification.flowId
  const flowExpiresIn: number = verification.expiresIn
  const verified: User = await dw.verifyEmail(flowId, '123456')
  const reset: FlowStarted = await dw.requestPasswordReset('john@example.com', client)
  await dw.requestPasswordReset('john@example.com')
  await dw.requestPasswordReset('john@example.com', null)
  const resetDone: void = await dw.resetPassword(reset.flowId, '123456', 'a brand new passphrase')
  const signIn: FlowStarted = await dw.requestSignIn('john@example.com', { ip: '203.0.113.7' })
  await dw.requestSignIn('john@example.com')
  const signedIn: TokenPair | MfaChallenge = await dw.completeSignIn(signIn.flowId, '123456', client)
  await dw.completeSignIn(signIn.flowId, '123456')
  if (!signedIn.mfaRequired) {
    const signInTokens: TokenPair = signedIn
    void signInTokens
  }
  // @ts-expect-error: like login, a sign-in may answer a challenge
  const signInUnchecked: TokenPair = await dw.completeSignIn(signIn.flowId, '123456')
  void [flowExpiresIn, verified, resetDone, signedIn, signInUnchecked]
  // @ts-expect-error: the client is an object like login's
  await dw.requestSignIn('john@example.com', '203.0.113.7')
  // @ts-expect-error: a reset needs the new password
  await dw.resetPassword(reset.flowId, '123456')
  // @ts-expect-error: the flow id is text
  await dw.verifyEmail(verification, '123456')
  // @ts-expect-error: FlowStarted has no secret: it travels only by mail
  void verification.secret

  // Result fields
  const id: string = user.id
  const username: string = user.username
  const email: string = user.email
  const disabled: boolean = user.disabled
  const createdAt: Date = user.createdAt
  const updatedAt: Date = user.updatedAt
  const lastLoginAt: Date | undefined = user.lastLoginAt
  const failedLogins: number = user.failedLogins
  const lockedUntil: Date | undefined = user.lockedUntil
  const emailVerifiedAt: Date | undefined = user.emailVerifiedAt
  const tokenType: string = pair.tokenType
  const expiresIn: number = pair.expiresIn
  const roles: string[] = principal.roles
  const expiresAt: Date = principal.expiresAt
  const sessionId: string = principal.sessionId
  void [id, username, email, disabled, createdAt, updatedAt, lastLoginAt, failedLogins, lockedUntil, emailVerifiedAt]
  void [tokenType, expiresIn, roles, expiresAt, sessionId]
  // @ts-expect-error: an optional date may be absent
  const alwaysLoggedIn: Date = user.lastLoginAt
  // @ts-expect-error: an address may be unverified
  const alwaysVerified: Date = user.emailVerifiedAt
  void alwaysVerified
  // @ts-expect-error: the OAuth names belong to tokenResponse, not to a TokenPair
  const snake: string = pair.access_token
  void [alwaysLoggedIn, snake]

  const body = tokenResponse(pair)
  const oauth: { access_token: string; refresh_token: string; token_type: string; expires_in: number } = body
  void oauth

  // Users
  const users: Users = dw.users
  const created: User = await users.create('ann', 'ann@example.com', 'correct horse battery')
  const byId: User = await users.get(created.id)
  const byEmail: User = await users.getByEmail('ANN@example.com')
  const byName: User = await users.getByUsername('Ann')
  const page: Page = await users.list()
  const items: User[] = page.items
  const cursor: string | undefined = page.nextCursor
  const nextPage: Page = await users.list(cursor, 2)
  await users.list(null, 500)
  const change: UserUpdate = { email: 'ann@example.org' }
  const updated: User = await users.update(created.id, change)
  await users.update(created.id, { username: 'annie' })
  const changed: void = await users.changePassword(created.id, 'correct horse battery', 'another passphrase', sessionId)
  await users.changePassword(created.id, 'another passphrase', 'a third passphrase')
  const set: void = await users.setPassword(created.id, 'set by an administrator')
  const off: void = await users.disable(created.id)
  const on: void = await users.enable(created.id)
  const unlocked: boolean = await users.unlock(created.id)
  const moving: FlowStarted = await users.requestEmailChange(created.id, 'ann@example.net', 'a third passphrase')
  const moved: User = await users.confirmEmailChange(moving.flowId, '123456')
  const marked: User = await users.markEmailVerified(created.id)
  const deleted: void = await users.delete(created.id)
  void [byId, byEmail, byName, items, nextPage, updated, changed, set, off, on, unlocked, moved, marked, deleted]
  // @ts-expect-error: an email change proves the password
  await users.requestEmailChange(created.id, 'ann@example.net')
  // @ts-expect-error: the limit is a number
  await users.list(undefined, '5')
  // @ts-expect-error: UserUpdate has no password
  await users.update(created.id, { password: 'x' })

  // Accounts in bulk: rows in, a report out; rows out, fit to go back in.
  const rows: UserRow[] = [
    { email: 'ann@example.com', passwordHash: 'pbkdf2_sha256$1000000$salt$hash' },
    { email: 'bob@example.com', password: 'correct horse battery', roles: ['admin'], emailVerified: true },
    { id: created.id, username: 'cyd', email: 'cyd@example.com', disabled: true, createdAt: '2020-01-02T03:04:05Z' },
    { email: 'dee@example.com', createdAt: new Date() },
  ]
  const report: ImportReport = await users.importUsers(rows)
  await users.importUsers(rows, { dryRun: true })
  await users.importUsers(rows, { atomic: true, dryRun: false })
  await users.importUsers(rows, null)
  const frozen: readonly UserRow[] = rows
  await users.importUsers(frozen)
  const importOptions: ImportOptions = { atomic: true }
  await users.importUsers([], importOptions)
  const reportFields: [boolean, number, ImportedUser[], ImportFailure[]] = [
    report.dryRun,
    report.total,
    report.created,
    report.failed,
  ]
  const importedUser: ImportedUser | undefined = report.created[0]
  const failure: ImportFailure | undefined = report.failed[0]
  const failureCode: ErrorCode | undefined = failure?.code
  const failureField: string | undefined = failure?.field
  void [reportFields, importedUser, failureCode, failureField]
  const exportedPage: UserRowPage = await users.exportUsers()
  await users.exportUsers(exportedPage.nextCursor, 100, { withHashes: true })
  const exportOptions: UserExportOptions = { withHashes: false }
  await users.exportUsers(null, null, exportOptions)
  const exportedRows: UserRow[] = exportedPage.items
  await users.importUsers(exportedPage.items)
  const found: Page = await users.search('ann')
  await users.search('ann', found.nextCursor, 10)
  void exportedRows
  // @ts-expect-error: rows are camelCase, like every key
  await users.importUsers([{ email: 'ann@example.com', password_hash: 'x' }])
  // @ts-expect-error: a row needs its address
  await users.importUsers([{ username: 'ann' }])
  // @ts-expect-error: the rows are a list
  await users.importUsers(rows[0])
  // @ts-expect-error: a dry run is a flag
  await users.importUsers(rows, { dryRun: 'yes' })
  // @ts-expect-error: createdAt is an ISO string or a Date, not a number
  await users.importUsers([{ email: 'ann@example.com', createdAt: 1_700_000_000_000 }])
  // @ts-expect-error: withHashes is an option, not a third positional flag
  await users.exportUsers(null, null, true)
  // @ts-expect-error: a search needs its query
  await users.search()

  // Roles
  const rolesApi: Roles = dw.roles
  const all: Role[] = await rolesApi.list()
  const admin: Role = await rolesApi.get('admin')
  const editor: Role = await rolesApi.create('editor', ['posts:*'], 'Writes posts')
  await rolesApi.create('viewer', ['*:read'])
  const granted: boolean = await rolesApi.grant(user.id, 'editor')
  const revoked: boolean = await rolesApi.revoke(user.id, 'editor')
  const held: string[] = await rolesApi.ofUser(user.id)
  const roleDeleted: void = await rolesApi.delete('editor')
  const roleFields: [string, string, string[], boolean, Date] = [
    admin.name,
    admin.description,
    admin.permissions,
    admin.builtin,
    admin.createdAt,
  ]
  void [all, editor, granted, revoked, held, roleDeleted, roleFields]
  // @ts-expect-error: permissions are a list
  await rolesApi.create('broken', 'posts:*')

  // Sessions
  const sessions: Sessions = dw.sessions
  const live: Session[] = await sessions.list(user.id)
  const session: Session | undefined = live[0]
  if (session) {
    const fields: [string, string, Date, Date, Date | undefined, string | undefined, string | undefined] = [
      session.id,
      session.userId,
      session.createdAt,
      session.expiresAt,
      session.lastRefreshedAt,
      session.ip,
      session.userAgent,
    ]
    void fields
    const ended: void = await sessions.revoke(session.id)
    void ended
  }
  const count: number = await sessions.revokeAll(user.id)
  void count

  // Limits
  const limits: Limits = dw.limits
  const decision: Decision = await limits.limit('export:ann', '10/1m')
  const remaining: number = decision.remaining
  const resetAfter: number = decision.resetAfter
  void [remaining, resetAfter]

  // Second factors
  const mfa: Mfa = dw.mfa
  const enrolment: TotpEnrolment = await mfa.startTotp(user.id)
  const enrolmentFields: [string, string, string] = [enrolment.secret, enrolment.uri, enrolment.qrCode]
  const recovery: RecoveryCodes = await mfa.confirmTotp(user.id, '123456')
  const codes: string[] = recovery.codes
  const status: MfaStatus = await mfa.status(user.id)
  const statusFields: [boolean, number, boolean] = [status.totp, status.recoveryCodesLeft, status.enabled]
  const regenerated: RecoveryCodes = await mfa.regenerateRecoveryCodes(stepped.accessToken)
  const disabled2: void = await mfa.disableTotp(stepped.accessToken)
  void [enrolmentFields, codes, statusFields, regenerated, disabled2]
  // @ts-expect-error: confirming needs the code
  await mfa.confirmTotp(user.id)
  // @ts-expect-error: removing a factor takes the access token, not a principal
  await mfa.disableTotp(principal)

  // Passkeys: options out as plain objects, the browser's answers in as objects
  const passkeys: Passkeys = dw.passkeys
  const creation: PasskeyCreationOptions = await passkeys.startRegistration(user.id)
  const rp: { id: string; name: string } = creation.publicKey.rp
  const userName: string = creation.publicKey.user.name
  const challenge: string = creation.publicKey.challenge
  const excluded: PasskeyDescriptor[] | undefined = creation.publicKey.excludeCredentials
  const uv: UserVerification | undefined = creation.publicKey.authenticatorSelection?.userVerification
  void [rp, userName, challenge, excluded, uv]
  // What the browser's credential.toJSON() gives, as a host receives it in a request body.
  const posted: unknown = JSON.parse('{}')
  const answer = posted as PasskeyCredentialJSON
  const passkey: PasskeyInfo = await passkeys.finishRegistration(user.id, answer, 'laptop')
  const passkeyFields: [string, string, Date, Date | undefined, boolean, boolean, number] = [
    passkey.id,
    passkey.name,
    passkey.createdAt,
    passkey.lastUsedAt,
    passkey.backupEligible,
    passkey.backupState,
    passkey.signCount,
  ]
  void passkeyFields
  const anyBody: any = {}
  await passkeys.finishRegistration(user.id, anyBody, 'laptop')
  await passkeys.finishRegistration(user.id, { id: 'x', rawId: 'x', type: 'public-key', response: { clientDataJSON: 'e30' } }, 'key')
  // @ts-expect-error: the answer is an object, not its JSON text
  await passkeys.finishRegistration(user.id, '{"id":"x"}', 'laptop')
  // @ts-expect-error: a passkey needs a name
  await passkeys.finishRegistration(user.id, answer)
  const request: PasskeyRequestOptions = await passkeys.startAuthentication()
  await passkeys.startAuthentication('john')
  await passkeys.startAuthentication(null)
  const allow: PasskeyDescriptor[] = request.publicKey.allowCredentials
  const rpId: string = request.publicKey.rpId
  const mediation: 'conditional' | undefined = request.mediation
  void [allow, rpId, mediation]
  const byPasskey: TokenPair = await passkeys.finishAuthentication(answer, client)
  await passkeys.finishAuthentication(anyBody)
  await passkeys.finishAuthentication(answer, null)
  // @ts-expect-error: a passkey sign-in answers tokens, never a challenge
  void byPasskey.flowId
  // @ts-expect-error: the client is an object
  await passkeys.finishAuthentication(answer, 'client')
  const passkeyList: PasskeyInfo[] = await passkeys.list(user.id)
  const renamed: void = await passkeys.rename(user.id, passkey.id, 'work laptop')
  const removed: void = await passkeys.remove(stepped.accessToken, passkey.id)
  void [passkeyList, renamed, removed]
  // @ts-expect-error: removing a passkey takes the access token, then the passkey's id
  await passkeys.remove(passkey.id)

  // OAuth sign-in: the URL to send the browser to, then its callback
  const signIns: OAuth = dw.oauth
  const buttons: ProviderInfo[] = signIns.providers()
  const button: ProviderInfo | undefined = buttons[0]
  if (button) {
    const buttonFields: [string, string, ProviderKind] = [button.id, button.name, button.kind]
    void buttonFields
  }
  // @ts-expect-error: synchronous, not a Promise
  await signIns.providers().then(() => {})
  const start: AuthorizationStart = await signIns.authorizationUrl('corp', 'https://app.example.com/auth/corp/callback')
  const startFields: [string, string, number] = [start.url, start.state, start.expiresIn]
  void startFields
  const done: OAuthCompletion = await signIns.complete('https://app.example.com/auth/corp/callback?code=c&state=s', start.state, client)
  await signIns.complete('code=c&state=s')
  await signIns.complete('code=c&state=s', null, null)
  const doneFields: [string, string, boolean, boolean] = [done.provider, done.userId, done.newUser, done.linked]
  void doneFields
  // @ts-expect-error: absent after a link, so not narrowed yet
  void done.login.mfaRequired
  const viaProvider: LoginResult | undefined = done.login
  if (done.login && !done.login.mfaRequired) {
    const fedPair: TokenPair = done.login
    void fedPair
  } else if (done.login) {
    const fedChallenge: MfaChallenge = done.login
    void fedChallenge
  }
  void viaProvider
  // @ts-expect-error: the client comes third, after the expected state
  await signIns.complete('code=c&state=s', client)
  const linking: AuthorizationStart = await signIns.link(user.id, 'corp', 'https://app.example.com/auth/corp/callback')
  const unlinked: void = await signIns.unlink(user.id, 'corp')
  const kept: ProviderTokens | null = await signIns.providerTokens(user.id, 'corp')
  if (kept) {
    const keptFields: [string, string | undefined, Date | undefined, string[]] = [
      kept.accessToken,
      kept.refreshToken,
      kept.expiresAt,
      kept.scopes,
    ]
    void keptFields
  }
  // @ts-expect-error: it may be null: none kept
  void (await signIns.providerTokens(user.id, 'corp')).accessToken
  void [linking, unlinked]
  // @ts-expect-error: linking needs the account, then the provider
  await signIns.link('corp', 'https://app.example.com/auth/corp/callback')
  const identities: Identity[] = await dw.users.identities(user.id)
  const identity: Identity | undefined = identities[0]
  if (identity) {
    const identityFields: [string, string, string | undefined, boolean, Date, Date | undefined] = [
      identity.provider,
      identity.subject,
      identity.email,
      identity.emailVerified,
      identity.createdAt,
      identity.lastUsedAt,
    ]
    void identityFields
  }

  // PasswordHasher
  const options: HasherOptions = { memoryKib: 19_456, iterations: 2, parallelism: 1, concurrency: 2 }
  const hasher = new PasswordHasher(options)
  new PasswordHasher()
  const hash: string = await hasher.hash('correct horse battery')
  const ok: boolean = await hasher.verify('correct horse battery', hash)
  void ok
  // @ts-expect-error: options are numbers
  new PasswordHasher({ memoryKib: '19456' })

  // Wrong argument types
  // @ts-expect-error: the login is a string
  await dw.login(5, 'correct horse battery')
  // @ts-expect-error: ClientInfo has no `address`
  await dw.login('john', 'correct horse battery', { address: '203.0.113.7' })
  // @ts-expect-error: a token is a string
  await dw.verifyToken(null)
  // @ts-expect-error: a permission is a string
  await dw.can(user.id, ['users:read'])
}

// Files, events, webhooks and audit.
async function integrations(dw: Doorward): Promise<void> {
  const files: Files = dw.files
  const info: FileInfo = await files.put('avatars/1.png', Buffer.from('png'), 'image/png')
  await files.put('avatars/2.png', new Uint8Array([1, 2]))
  const fileFields: [string, number, string | undefined, string | undefined, Date] = [
    info.key,
    info.size,
    info.contentType,
    info.etag,
    info.createdAt,
  ]
  const got: FileData = await files.get('avatars/1.png')
  const bytes: Buffer = got.data
  const gotInfo: FileInfo = got.info
  const fromDisk: FileInfo = await files.putFile('reports/1.pdf', '/tmp/1.pdf', 'application/pdf')
  const toDisk: FileInfo = await files.getToFile('reports/1.pdf', '/tmp/copy.pdf')
  const head: FileInfo = await files.head('avatars/1.png')
  const removed: boolean = await files.delete('avatars/1.png')
  const filePage: FilePage = await files.list({ prefix: 'avatars', cursor: 'avatars/1.png', limit: 10 })
  await files.list()
  const pageItems: FileInfo[] = filePage.items
  const pageCursor: string | undefined = filePage.nextCursor
  const download: string = await files.presignGet('avatars/2.png', 300)
  const upload: string = await files.presignPut('avatars/3.png', 300)
  void [fileFields, bytes, gotInfo, fromDisk, toDisk, head, removed, pageItems, pageCursor, download, upload]
  // @ts-expect-error: data is bytes, not text
  await files.put('a.txt', 'text')
  // @ts-expect-error: list takes an options object
  await files.list('avatars')

  const events: Events = dw.events
  const handler: EventHandler = async (event) => {
    const fields: [string, number, EventType, number, Date, string | undefined, string | undefined] = [
      event.id,
      event.seq,
      event.type,
      event.version,
      event.occurredAt,
      event.actor,
      event.subject,
    ]
    const client: [string | undefined, string | undefined] = [event.ip, event.userAgent]
    const payload: Record<string, unknown> = event.payload
    void [fields, client, payload]
  }
  const sub: Subscription = await events.subscribe(handler, { types: ['UserRegistered', 'LoginFailed'], name: 'mailer' })
  await events.subscribe((event: Event) => {
    void event
  })
  const open: boolean = sub.isOpen
  const closed: void = sub.close()
  void [open, closed]
  // @ts-expect-error: not an event type
  await events.subscribe(handler, { types: ['UserRegistred'] })
  // @ts-expect-error: the handler comes first
  await events.subscribe({ types: ['UserRegistered'] }, handler)

  const stream: EventStream = events.stream({ types: ['RoleCreated'] })
  const ready: Promise<void> = stream.ready
  await ready
  for await (const event of stream) {
    const type: EventType = event.type
    void type
    break
  }
  const step: IteratorResult<Event, undefined> = await stream.next()
  void step
  stream.close()
  await events.stream().return()

  const outbox: EventPage = await events.list({ cursor: '10', limit: 100 })
  const outboxItems: Event[] = outbox.items
  const flushed: void = await events.flush()
  const deliveries: DeliveryRecord[] = await events.deliveries({ status: 'dead', limit: 10 })
  const dead: DeliveryRecord[] = await events.dead()
  const delivery = dead[0]
  if (delivery) {
    const status: DeliveryStatus = delivery.status
    const deliveryFields: [number, string, number, string, EventType, number, Date, string | undefined, Date] = [
      delivery.id,
      delivery.webhookId,
      delivery.eventSeq,
      delivery.eventId,
      delivery.eventType,
      delivery.attempts,
      delivery.nextAttemptAt,
      delivery.lastError,
      delivery.updatedAt,
    ]
    const replayed: void = await events.replay(delivery.id)
    void [status, deliveryFields, replayed]
  }
  void [outboxItems, flushed, deliveries]
  // @ts-expect-error: not a delivery status
  await events.deliveries({ status: 'lost' })

  const webhooks: Webhooks = dw.webhooks
  const hook: Webhook = await webhooks.add('https://example.com/hooks', ['RoleGranted'])
  await webhooks.add('https://example.com/all')
  const hookFields: [string, string, string, EventType[], Date] = [hook.id, hook.url, hook.secret, hook.eventTypes, hook.createdAt]
  const hooks: Webhook[] = await webhooks.list()
  const tested: WebhookTest = await webhooks.test(hook.id)
  const testFields: [boolean, string | undefined] = [tested.ok, tested.error]
  const gone: void = await webhooks.remove(hook.id)
  void [hookFields, hooks, testFields, gone]
  // @ts-expect-error: event types are names from the union
  await webhooks.add('https://example.com/hooks', ['roleGranted'])

  const audit: Audit = dw.audit
  const auditPage: AuditPage = await audit.list({
    userId: 'u1',
    type: 'LoginFailed',
    since: new Date(0),
    until: new Date(),
    cursor: '5',
    limit: 50,
  })
  await audit.list()
  const row: AuditRecord | undefined = auditPage.items[0]
  if (row) {
    const outcome: 'success' | 'failure' = row.outcome
    const rowFields: [number, string, EventType, Date, string, string, string] = [
      row.seq,
      row.eventId,
      row.eventType,
      row.occurredAt,
      row.details,
      row.prevHash,
      row.hash,
    ]
    void [outcome, rowFields]
  }
  const exported: string = await audit.export({ since: new Date(0) })
  await audit.export()
  const verification: AuditVerification = await audit.verify()
  const verifyFields: [boolean, number, number | undefined, string | undefined, string] = [
    verification.ok,
    verification.rows,
    verification.firstBadSeq,
    verification.problem,
    verification.head,
  ]
  void [exported, verifyFields]
  // @ts-expect-error: since is a Date
  await audit.list({ since: '2026-01-01' })

  const mail: Mail = dw.mail
  const mailed: void = await mail.send('ann@example.com', 'Report', 'All good.')
  const sent: Message[] = mail.sent()
  const message: Message | undefined = sent[0]
  if (message) {
    const messageFields: [string, string, string, string] = [message.from, message.to, message.subject, message.text]
    void messageFields
  }
  void mailed
  // @ts-expect-error: the body is text
  await mail.send('ann@example.com', 'Report', { html: '<p>' })
  const metrics: string = await dw.metricsText()
  void metrics

  const types: EventType[] = eventTypes()
  const mfaEvents: EventType[] = [
    'MfaChallenged',
    'MfaEnrolled',
    'MfaRemoved',
    'MfaFailed',
    'RecoveryCodeUsed',
    'RecoveryCodesRegenerated',
  ]
  await events.subscribe(() => {}, { types: mfaEvents })
  const identityEvents: EventType[] = ['IdentityLinked', 'IdentityUnlinked']
  await events.subscribe(() => {}, { types: identityEvents })
  await events.subscribe(() => {}, { types: ['UsersImported'] })
  void types
}

assertType<Equals<ReturnType<typeof eventTypes>, EventType[]>>()
assertType<Equals<Awaited<ReturnType<Files['get']>>, FileData>>()
assertType<Equals<Awaited<ReturnType<Events['subscribe']>>, Subscription>>()
assertType<Equals<Awaited<ReturnType<Audit['export']>>, string>>()

// Errors: narrowing on the stable code.
function describe(err: unknown): string {
  if (!(err instanceof DoorwardError)) return 'not a doorward error'
  const code: ErrorCode = err.code
  const status: number = HTTP_STATUS[code]
  switch (err.code) {
    case 'validation_error':
      return `bad ${err.field ?? 'input'} (${status})`
    case 'flow_invalid':
      return `wrong or used link or code: ${err.message}`
    case 'flow_expired':
      return 'ask for a new mail'
    case 'email_not_verified':
      return 'confirm your address first'
    case 'step_up_required':
      return 'prove who you are again (stepUp)'
    case 'oauth_state_invalid':
      return 'start the sign-in again'
    case 'oauth_provider_error':
      return `${err.provider ?? 'the provider'} said ${err.oauthError ?? 'no'}${err.description ? `: ${err.description}` : ''}`
    case 'account_exists':
      return `sign in with your password, then link ${err.provider ?? 'the provider'} from your account`
    case 'rate_limited':
    case 'account_locked':
      return `retry in ${err.retryAfter ?? 0}s`
    case 'duplicate_email':
    case 'duplicate_username':
    case 'invalid_credentials':
    case 'user_disabled':
    case 'not_found':
    case 'token_invalid':
    case 'token_expired':
    case 'token_revoked':
    case 'token_reused':
    case 'forbidden':
    case 'would_block':
    case 'config_error':
    case 'storage_error':
    case 'internal':
      return err.message
    default: {
      // Exhaustive: a code added to the union without a case fails here.
      const unreachable: never = err.code
      return unreachable
    }
  }
}

function errorTypes(err: DoorwardError): void {
  const name: 'DoorwardError' = err.name
  const field: string | undefined = err.field
  const retryAfter: number | undefined = err.retryAfter
  const oauthDetails: [string | undefined, string | undefined, string | undefined] = [
    err.provider,
    err.oauthError,
    err.description,
  ]
  void oauthDetails
  // @ts-expect-error: the provider's error is read-only
  err.oauthError = 'access_denied'
  const asError: Error = err
  const codes: ErrorCode[] = errorCodes()
  void [name, field, retryAfter, asError, codes, describe(err)]
  // @ts-expect-error: not a stable code: the comparison can never be true
  if (err.code === 'token_missing') return
  // @ts-expect-error: the code is read-only
  err.code = 'internal'
  // @ts-expect-error: HTTP_STATUS has an entry per code only
  void HTTP_STATUS.teapot
}

assertType<Equals<typeof version, string>>()
assertType<Equals<(typeof HTTP_STATUS)[ErrorCode], number>>()
assertType<Equals<ReturnType<typeof errorCodes>, ErrorCode[]>>()
assertType<Equals<Awaited<ReturnType<Doorward['verifyToken']>>, Principal>>()
assertType<Equals<ReturnType<Doorward['verifyTokenSync']>, Principal>>()
assertType<Equals<ReturnType<Doorward['canSync']>, boolean>>()
assertType<Equals<Awaited<ReturnType<Users['list']>>, Page>>()
assertType<Equals<Awaited<ReturnType<Limits['limit']>>, Decision>>()
assertType<Equals<Awaited<ReturnType<Doorward['requestEmailVerification']>>, FlowStarted>>()
assertType<Equals<Awaited<ReturnType<Doorward['requestPasswordReset']>>, FlowStarted>>()
assertType<Equals<Awaited<ReturnType<Doorward['requestSignIn']>>, FlowStarted>>()
assertType<Equals<Awaited<ReturnType<Users['requestEmailChange']>>, FlowStarted>>()
assertType<Equals<Awaited<ReturnType<Doorward['verifyEmail']>>, User>>()
assertType<Equals<Awaited<ReturnType<Doorward['completeSignIn']>>, TokenPair | MfaChallenge>>()
assertType<Equals<Awaited<ReturnType<Doorward['login']>>, TokenPair | MfaChallenge>>()
assertType<Equals<LoginResult, TokenPair | MfaChallenge>>()
assertType<Equals<Awaited<ReturnType<Doorward['completeMfa']>>, TokenPair>>()
assertType<Equals<Awaited<ReturnType<Doorward['stepUp']>>, TokenPair>>()
assertType<Equals<ReturnType<Doorward['requireAal']>, void>>()
assertType<Equals<ReturnType<Doorward['requireRecentAuth']>, void>>()
assertType<Equals<Parameters<Doorward['requireAal']>, [principal: Principal, aal: number]>>()
assertType<Equals<Parameters<Doorward['requireRecentAuth']>, [principal: Principal, maxAge: number]>>()
assertType<Equals<MfaMethod, 'totp' | 'recovery_code' | 'passkey'>>()
assertType<Equals<StepUpMethod, 'password' | 'totp' | 'recovery_code' | 'passkey'>>()
assertType<Equals<TokenPair['mfaRequired'], false>>()
assertType<Equals<MfaChallenge['mfaRequired'], true>>()
assertType<
  Equals<
    MfaChallenge,
    { mfaRequired: true; flowId: string; userId: string; methods: MfaMethod[]; enrolmentRequired: boolean; expiresIn: number }
  >
>()
assertType<Equals<TotpEnrolment, { secret: string; uri: string; qrCode: string }>>()
assertType<Equals<RecoveryCodes, { codes: string[] }>>()
assertType<Equals<MfaStatus, { totp: boolean; recoveryCodesLeft: number; enabled: boolean }>>()
assertType<Equals<Awaited<ReturnType<Mfa['status']>>, MfaStatus>>()
assertType<Equals<Awaited<ReturnType<Mfa['disableTotp']>>, void>>()
assertType<Equals<Pick<Principal, 'amr' | 'aal' | 'authTime'>, { amr: string[]; aal: number; authTime: Date }>>()
assertType<Equals<Awaited<ReturnType<Doorward['resetPassword']>>, void>>()
assertType<Equals<Awaited<ReturnType<Users['confirmEmailChange']>>, User>>()
assertType<Equals<Awaited<ReturnType<Users['markEmailVerified']>>, User>>()
assertType<Equals<FlowStarted, { flowId: string; expiresIn: number }>>()
assertType<
  Equals<
    PasskeyInfo,
    {
      id: string
      name: string
      createdAt: Date
      lastUsedAt?: Date
      backupEligible: boolean
      backupState: boolean
      signCount: number
    }
  >
>()
assertType<Equals<Awaited<ReturnType<Passkeys['startRegistration']>>, PasskeyCreationOptions>>()
assertType<Equals<Awaited<ReturnType<Passkeys['startAuthentication']>>, PasskeyRequestOptions>>()
assertType<Equals<Awaited<ReturnType<Passkeys['finishRegistration']>>, PasskeyInfo>>()
assertType<Equals<Awaited<ReturnType<Passkeys['finishAuthentication']>>, TokenPair>>()
assertType<Equals<Awaited<ReturnType<Passkeys['list']>>, PasskeyInfo[]>>()
assertType<Equals<Awaited<ReturnType<Passkeys['remove']>>, void>>()
assertType<Equals<Parameters<Passkeys['startAuthentication']>, [username?: string | null]>>()
assertType<Equals<ReturnType<OAuth['providers']>, ProviderInfo[]>>()
assertType<Equals<ProviderInfo, { id: string; name: string; kind: ProviderKind }>>()
assertType<Equals<ProviderKind, 'oidc' | 'google' | 'microsoft' | 'apple' | 'github'>>()
assertType<Equals<AuthorizationStart, { url: string; state: string; expiresIn: number }>>()
assertType<Equals<Awaited<ReturnType<OAuth['authorizationUrl']>>, AuthorizationStart>>()
assertType<Equals<Awaited<ReturnType<OAuth['link']>>, AuthorizationStart>>()
assertType<
  Equals<
    OAuthCompletion,
    { provider: string; userId: string; newUser: boolean; linked: boolean; login?: TokenPair | MfaChallenge }
  >
>()
assertType<Equals<Awaited<ReturnType<OAuth['complete']>>, OAuthCompletion>>()
assertType<
  Equals<Parameters<OAuth['complete']>, [callback: string, expectedState?: string | null, client?: ClientInfo | null]>
>()
assertType<Equals<Awaited<ReturnType<OAuth['unlink']>>, void>>()
assertType<
  Equals<ProviderTokens, { accessToken: string; refreshToken?: string; expiresAt?: Date; scopes: string[] }>
>()
assertType<Equals<Awaited<ReturnType<OAuth['providerTokens']>>, ProviderTokens | null>>()
assertType<
  Equals<
    Identity,
    { provider: string; subject: string; email?: string; emailVerified: boolean; createdAt: Date; lastUsedAt?: Date }
  >
>()
assertType<Equals<Awaited<ReturnType<Users['identities']>>, Identity[]>>()
assertType<Equals<Awaited<ReturnType<Users['search']>>, Page>>()
assertType<Equals<Awaited<ReturnType<Users['importUsers']>>, ImportReport>>()
assertType<Equals<Awaited<ReturnType<Users['exportUsers']>>, UserRowPage>>()
assertType<
  Equals<
    Parameters<Users['exportUsers']>,
    [cursor?: string | null, limit?: number | null, exportOptions?: UserExportOptions | null]
  >
>()
assertType<
  Equals<
    UserRow,
    {
      id?: string
      username?: string
      email: string
      password?: string
      passwordHash?: string
      roles?: string[]
      emailVerified?: boolean
      disabled?: boolean
      createdAt?: string | Date
    }
  >
>()
assertType<Equals<UserRowPage, { items: UserRow[]; nextCursor?: string }>>()
assertType<Equals<ImportOptions, { dryRun?: boolean; atomic?: boolean }>>()
assertType<Equals<UserExportOptions, { withHashes?: boolean }>>()
assertType<Equals<ImportReport, { dryRun: boolean; total: number; created: ImportedUser[]; failed: ImportFailure[] }>>()
assertType<Equals<ImportedUser, { index: number; id: string; username: string }>>()
assertType<Equals<ImportFailure, { index: number; code: ErrorCode; field?: string; message: string }>>()

// Middleware, on plain node:http.
async function middleware(): Promise<void> {
  const dw = await Doorward.open({ databaseUrl: 'memory://', jwtSecret: 'change-me-to-32-random-bytes-or-more' })
  const auth: Middleware = authenticate(dw)
  const optional: Middleware = authenticate(dw, { optional: true })
  const admin: Middleware = requirePermission('admin:*')
  const handler: ErrorMiddleware = errorHandler()
  const token: string | null = bearerToken('Bearer abc')
  bearerToken(undefined)
  void [optional, token]
  // @ts-expect-error: authenticate needs a Doorward
  authenticate({ databaseUrl: 'memory://' })
  // @ts-expect-error: requirePermission takes one permission string
  requirePermission(['admin:*'])

  // The admin console: as middleware, and one request at a time.
  const adminConsole: Middleware = consoleMiddleware(dw)
  const console_ = new Console(dw, '/admin')
  const prefix: string = console_.prefix
  const maxBody: number = Console.MAX_BODY
  const request: ConsoleRequest = {
    method: 'POST',
    path: '/admin/api/session?x=1',
    headers: [['host', '127.0.0.1']],
    body: new Uint8Array(0),
    clientIp: '127.0.0.1',
  }
  const answer: ConsoleResponse = await console_.handle(request)
  const status: number = answer.status
  const cookies: string[] = answer.headers.filter(([name]) => name === 'set-cookie').map(([, value]) => value)
  const body: Buffer = answer.body
  await console_.handle({ method: 'GET', path: '/admin', headers: [] })
  new Console(dw)
  void [adminConsole, prefix, maxBody, status, cookies, body]
  // @ts-expect-error: headers are [name, value] pairs, not an object
  await console_.handle({ method: 'GET', path: '/admin', headers: { host: '127.0.0.1' } })
  // @ts-expect-error: consoleMiddleware needs a Doorward
  consoleMiddleware({ databaseUrl: 'memory://' })
  // @ts-expect-error: a Console is made over a Doorward
  new Console({ databaseUrl: 'memory://' }, '/admin')

  createServer((req: IncomingMessage, res: ServerResponse) => {
    const done = (err?: unknown): void => {
      if (err) handler(err, req, res, () => res.end())
    }
    auth(req, res, (err) => {
      if (err) return done(err)
      admin(req, res, (err2) => {
        if (err2) return done(err2)
        const authed: AuthenticatedRequest = req
        const who: Principal | undefined = authed.principal
        const bearer: string | undefined = authed.accessToken
        const via: Doorward | undefined = authed.doorward
        res.end(JSON.stringify({ user: who?.userId, bearer: bearer !== undefined, via: via?.backend }))
      })
    })
  })
}

// The default export is the CommonJS module object.
const viaDefault: typeof Doorward = doorwardDefault.Doorward
void [everyMethod, middleware, errorTypes, viaDefault, integrations]

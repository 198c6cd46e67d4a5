// `Doorward`: opening, the authentication operations, and the sub-APIs as
// properties. Every TokenPair it returns keeps its tokens, every
// MfaChallenge its flow id, and every User its email address, out of logs
// (hide.ts).

import type { Config, MfaMethod, StepUpMethod } from '../index'
import {
  _open,
  _panicForTests as panicForTests,
  type ClientInfo,
  type Doorward as NativeDoorward,
  type FlowStarted,
  type MfaChallenge,
  type Principal,
  type Registration,
  type TokenPair,
  type User,
} from '../binding'
import { Audit } from './audit'
import { call, callSync, options } from './call'
import { convert } from './errors'
import { Events } from './events'
import { Files } from './files'
import * as hide from './hide'
import { Limits } from './limits'
import { Mail } from './mail'
import { Mfa } from './mfa'
import { OAuth } from './oauth'
import { Passkeys } from './passkeys'
import { PooledVerifier } from './pooled'
import { principal, principalOf } from './principal'
import { Roles } from './roles'
import { Sessions } from './sessions'
import { Users } from './users'
import { Webhooks } from './webhooks'

/**
 * The addon's object behind an open doorward, for the package's own
 * classes that the addon builds over it (`Console`); not exported by the
 * package. Throws a TypeError for anything but a `Doorward`.
 */
export let nativeOf: (dw: Doorward) => NativeDoorward

/** The addon's methods the wrapper calls but does not offer: its own fast paths. */
type Internal =
  | '_verifyToken'
  | '_verifyTokenSync'
  | '_verifyTokenInMemory'
  | '_verifiesPooled'
  | '_verifyTokensPooled'
  | '_canInMemory'

/** An open doorward: `await Doorward.open(config)`. */
export class Doorward implements Omit<NativeDoorward, Internal> {
  readonly #native: NativeDoorward
  /** Set when `verifyToken` checks on the thread pool (public keys, `statelessVerify`). */
  readonly #pooled: PooledVerifier | null

  static {
    nativeOf = (dw) => dw.#native
  }

  /**
   * Open the store the configuration names, migrating it and seeding the
   * built-in roles: an object with camelCase keys, or a TOML file path.
   */
  static async open(config?: Config | string): Promise<Doorward> {
    return new Doorward(await call(() => _open(config)))
  }

  /** Wraps the addon's object: `Doorward.open` makes one. */
  constructor(native: NativeDoorward) {
    this.#native = native
    this.#pooled = native._verifiesPooled() ? new PooledVerifier(native) : null
  }

  get users(): Users {
    return new Users(this.#native.users)
  }

  get roles(): Roles {
    return new Roles(this.#native.roles)
  }

  get sessions(): Sessions {
    return new Sessions(this.#native.sessions)
  }

  get limits(): Limits {
    return new Limits(this.#native.limits)
  }

  get files(): Files {
    return new Files(this.#native.files)
  }

  get events(): Events {
    return new Events(this.#native.events)
  }

  get webhooks(): Webhooks {
    return new Webhooks(this.#native.webhooks)
  }

  get audit(): Audit {
    return new Audit(this.#native.audit)
  }

  get mail(): Mail {
    return new Mail(this.#native.mail)
  }

  get mfa(): Mfa {
    return new Mfa(this.#native.mfa)
  }

  get passkeys(): Passkeys {
    return new Passkeys(this.#native.passkeys)
  }

  get oauth(): OAuth {
    return new OAuth(this.#native.oauth)
  }

  get backend(): string {
    return this.#native.backend
  }

  /** Synchronous: it throws, rather than rejects, a `config_error`. */
  jwks(): { keys: Record<string, unknown>[] } {
    return callSync(() => this.#native.jwks())
  }

  async registerUser(
    username: string,
    email: string,
    password: string,
    client?: ClientInfo | null,
  ): Promise<Registration> {
    const reg = await call(() =>
      this.#native.registerUser(username, email, password, options(client, 'argument 4 of registerUser')),
    )
    return hide.registration(reg)
  }

  /**
   * Log in with a username or an email address: the session's tokens, or,
   * for an account with a second factor, an `MfaChallenge` to finish with
   * `completeMfa`. `mfaRequired` tells them apart:
   * `if (r.mfaRequired) { r.flowId } else { r.accessToken }`.
   */
  async login(login: string, password: string, client?: ClientInfo | null): Promise<TokenPair | MfaChallenge> {
    const result = await call(() => this.#native.login(login, password, options(client, 'argument 3 of login')))
    return hide.loginResult(result)
  }

  async completeMfa(
    flowId: string,
    method: MfaMethod,
    proof: string,
    client?: ClientInfo | null,
  ): Promise<TokenPair> {
    const pair = await call(() =>
      this.#native.completeMfa(flowId, method, proof, options(client, 'argument 4 of completeMfa')),
    )
    return hide.tokens(pair)
  }

  async stepUp(
    accessToken: string,
    method: StepUpMethod,
    proof: string,
    client?: ClientInfo | null,
  ): Promise<TokenPair> {
    const pair = await call(() =>
      this.#native.stepUp(accessToken, method, proof, options(client, 'argument 4 of stepUp')),
    )
    return hide.tokens(pair)
  }

  /** Synchronous: it throws, rather than rejects, `step_up_required`. */
  requireAal(principal: Principal, aal: number): void {
    callSync(() => this.#native.requireAal(principal, aal))
  }

  /** Synchronous: it throws, rather than rejects, `step_up_required`. */
  requireRecentAuth(principal: Principal, maxAge: number): void {
    callSync(() => this.#native.requireRecentAuth(principal, maxAge))
  }

  /**
   * Resolves at once, without the trip through the addon's runtime, when
   * the answer needs no I/O and the keys are HS256 (see `verifyTokenSync`).
   * A public-key signature with `statelessVerify` is checked on Node's
   * thread pool, with the others of the same turn (pooled.ts); anything
   * else in the addon's runtime.
   */
  verifyToken(accessToken: string): Promise<Principal> {
    // A pooled instance never answers inline (its keys are public): no
    // call into the addon for that.
    if (this.#pooled !== null) return this.#pooled.verify(accessToken)
    try {
      const answer = this.#native._verifyTokenInMemory(accessToken, principalOf)
      if (answer !== null) return Promise.resolve(answer as Principal)
    } catch (err) {
      return Promise.reject(convert(err))
    }
    return call(async () => principal(await this.#native._verifyToken(accessToken)))
  }

  /**
   * `verifyToken` on this thread: the same checks and answer when none
   * needs I/O (`statelessVerify`, or a session this process caches,
   * `sessionCacheTtl`); otherwise it throws `would_block` and
   * `verifyToken` answers.
   */
  verifyTokenSync(accessToken: string): Principal {
    return callSync(() => this.#native._verifyTokenSync(accessToken, principalOf)) as Principal
  }

  async refreshToken(refreshToken: string): Promise<TokenPair> {
    return hide.tokens(await call(() => this.#native.refreshToken(refreshToken)))
  }

  logout(accessToken: string): Promise<void> {
    return call(() => this.#native.logout(accessToken))
  }

  /** Resolves at once when this process caches the user's permissions. */
  can(userId: string, permission: string): Promise<boolean> {
    try {
      const allowed = this.#native._canInMemory(userId, permission)
      if (allowed !== null) return Promise.resolve(allowed)
    } catch (err) {
      return Promise.reject(convert(err))
    }
    return call(() => this.#native.can(userId, permission))
  }

  /**
   * `can` on this thread: the answer when this process caches the user's
   * permissions; otherwise it throws `would_block` and `can` answers.
   */
  canSync(userId: string, permission: string): boolean {
    return callSync(() => this.#native.canSync(userId, permission))
  }

  require(userId: string, permission: string): Promise<void> {
    return call(() => this.#native.require(userId, permission))
  }

  async issueTokens(userId: string, client?: ClientInfo | null): Promise<TokenPair> {
    const pair = await call(() => this.#native.issueTokens(userId, options(client, 'argument 2 of issueTokens')))
    return hide.tokens(pair)
  }

  requestEmailVerification(userId: string): Promise<FlowStarted> {
    return call(() => this.#native.requestEmailVerification(userId))
  }

  async verifyEmail(flowId: string, secret: string): Promise<User> {
    return hide.email(await call(() => this.#native.verifyEmail(flowId, secret)))
  }

  requestPasswordReset(email: string, client?: ClientInfo | null): Promise<FlowStarted> {
    return call(() =>
      this.#native.requestPasswordReset(email, options(client, 'argument 2 of requestPasswordReset')),
    )
  }

  resetPassword(flowId: string, secret: string, newPassword: string): Promise<void> {
    return call(() => this.#native.resetPassword(flowId, secret, newPassword))
  }

  requestSignIn(email: string, client?: ClientInfo | null): Promise<FlowStarted> {
    return call(() => this.#native.requestSignIn(email, options(client, 'argument 2 of requestSignIn')))
  }

  /** Like `login`: the tokens, or an `MfaChallenge` for an account with a second factor. */
  async completeSignIn(
    flowId: string,
    secret: string,
    client?: ClientInfo | null,
  ): Promise<TokenPair | MfaChallenge> {
    const result = await call(() =>
      this.#native.completeSignIn(flowId, secret, options(client, 'argument 3 of completeSignIn')),
    )
    return hide.loginResult(result)
  }

  metricsText(): Promise<string> {
    return call(() => this.#native.metricsText())
  }
}

/** The OAuth 2.0 token response body (RFC 6749 §5.1) for a token pair. */
export function tokenResponse(pair: TokenPair): {
  access_token: string
  refresh_token: string
  token_type: string
  expires_in: number
} {
  return {
    access_token: pair.accessToken,
    refresh_token: pair.refreshToken,
    token_type: pair.tokenType,
    expires_in: pair.expiresIn,
  }
}

/** @internal Panics in the core on purpose (tests of the panic boundary). */
export function _panicForTests(message: string): Promise<void> {
  return call(() => panicForTests(message))
}

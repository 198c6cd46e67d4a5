// Results that carry a secret or personal data, made safe to log while
// every property stays readable. Each method of the wrapper classes that
// returns one of these types passes it through the function for that type
// here: a new secret-bearing result is one more call in its method.

import { inspect, type InspectOptionsStylized } from 'node:util'

import type {
  AuthorizationStart,
  ConsoleResponse,
  Identity,
  MfaChallenge,
  Message,
  OAuthCompletion,
  ProviderTokens,
  RecoveryCodes,
  Registration,
  TokenPair,
  TotpEnrolment,
  User,
  UserRow,
  Webhook,
} from '../binding'

/** Makes `util.inspect` (and so `console.log`) show `name` and `fields(value)`. */
function showAs<T extends object>(value: T, name: string, fields: (value: T) => object): T {
  Object.defineProperty(value, inspect.custom, {
    value(this: T, _depth: number, options: InspectOptionsStylized, show: typeof inspect): string {
      return `${name} ${show(fields(this), options)}`
    },
    enumerable: false,
  })
  return value
}

/** Takes `keys` out of JSON.stringify, spreads and `Object.keys`. */
function unlist<T extends object>(value: T, keys: (keyof T)[]): void {
  for (const key of keys) Object.defineProperty(value, key, { enumerable: false })
}

/** A token pair whose tokens show nowhere: JSON, spreads, util.inspect. */
export function tokens(pair: TokenPair): TokenPair {
  unlist(pair, ['accessToken', 'refreshToken'])
  return showAs(pair, 'TokenPair', (p) => ({
    tokenType: p.tokenType,
    expiresIn: p.expiresIn,
    accessToken: '[hidden]',
    refreshToken: '[hidden]',
  }))
}

/** A pending login whose flow id (a credential) shows nowhere: JSON, spreads, util.inspect. */
export function challenge(c: MfaChallenge): MfaChallenge {
  unlist(c, ['flowId'])
  return showAs(c, 'MfaChallenge', (shown) => ({ ...shown, flowId: '[hidden]' }))
}

/** What a login answers, by its `mfaRequired`: the tokens or the challenge hidden as above. */
export function loginResult(result: TokenPair | MfaChallenge): TokenPair | MfaChallenge {
  return result.mfaRequired ? challenge(result) : tokens(result)
}

/** A TOTP enrolment whose secret, URI and QR code show nowhere: JSON, spreads, util.inspect. */
export function enrolment(e: TotpEnrolment): TotpEnrolment {
  unlist(e, ['secret', 'uri', 'qrCode'])
  return showAs(e, 'TotpEnrolment', () => ({ secret: '[hidden]', uri: '[hidden]', qrCode: '[hidden]' }))
}

/** Recovery codes that show nowhere but by `codes` itself; util.inspect gives their number. */
export function recoveryCodes(r: RecoveryCodes): RecoveryCodes {
  unlist(r, ['codes'])
  return showAs(r, 'RecoveryCodes', (shown) => ({ codes: `[${shown.codes.length} hidden]` }))
}

/**
 * A user whose email address util.inspect leaves out; it stays enumerable,
 * since a JSON response may carry it on purpose.
 */
export function email(user: User): User {
  return showAs(user, 'User', (u) => {
    const { email: _, ...rest } = u
    return { ...rest, email: '[hidden]' }
  })
}

/** A registration: its user's email and its tokens hidden as above. */
export function registration(reg: Registration): Registration {
  email(reg.user)
  tokens(reg.tokens)
  return reg
}

/** A webhook whose signing secret shows nowhere: JSON, spreads, util.inspect. */
export function secret(webhook: Webhook): Webhook {
  unlist(webhook, ['secret'])
  return showAs(webhook, 'Webhook', (w) => ({ ...w, secret: '[hidden]' }))
}

/** A mail message whose recipient and body util.inspect leaves out. */
export function message(m: Message): Message {
  return showAs(m, 'Message', (shown) => ({ ...shown, to: '[hidden]', text: '[hidden]' }))
}

/** An authorization's start whose URL and state show nowhere: JSON, spreads, util.inspect. */
export function authorization(start: AuthorizationStart): AuthorizationStart {
  unlist(start, ['url', 'state'])
  return showAs(start, 'AuthorizationStart', (s) => ({ url: '[hidden]', state: '[hidden]', expiresIn: s.expiresIn }))
}

/** A callback's outcome: its sign-in (tokens or challenge) hidden as `login` answers are. */
export function completion(done: OAuthCompletion): OAuthCompletion {
  if (done.login) loginResult(done.login)
  return done
}

/** A provider's tokens that show nowhere: JSON, spreads, util.inspect. */
export function providerTokens(t: ProviderTokens): ProviderTokens {
  unlist(t, ['accessToken', 'refreshToken'])
  return showAs(t, 'ProviderTokens', (shown) => ({
    accessToken: '[hidden]',
    ...(shown.refreshToken === undefined ? {} : { refreshToken: '[hidden]' }),
    expiresAt: shown.expiresAt,
    scopes: shown.scopes,
  }))
}

/**
 * An identity whose email address util.inspect leaves out, as a User's;
 * it stays enumerable.
 */
export function identity(i: Identity): Identity {
  return showAs(i, 'Identity', (shown) => {
    const { email: _, ...rest } = shown
    return shown.email === undefined ? rest : { ...rest, email: '[hidden]' }
  })
}

/**
 * An exported row whose email address and password hash util.inspect
 * leaves out; both stay enumerable, since the row is written out (JSON
 * Lines, say) to be imported elsewhere.
 */
export function userRow(row: UserRow): UserRow {
  return showAs(row, 'UserRow', (shown) => ({
    ...shown,
    email: '[hidden]',
    ...(shown.password === undefined ? {} : { password: '[hidden]' }),
    ...(shown.passwordHash === undefined ? {} : { passwordHash: '[hidden]' }),
  }))
}

/**
 * A console answer whose headers (the session cookies) and body (a
 * sign-in's CSRF token) util.inspect leaves out; they stay enumerable,
 * since they are written to the client.
 */
export function consoleResponse(r: ConsoleResponse): ConsoleResponse {
  return showAs(r, 'ConsoleResponse', (shown) => ({
    status: shown.status,
    headers: `[${shown.headers.length} hidden]`,
    body: `[${shown.body.length} bytes hidden]`,
  }))
}

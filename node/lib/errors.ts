// Errors as a caller sees them: the addon's transport errors become a
// DoorwardError with the stable code, and N-API's argument checks a
// TypeError, as Node's own APIs throw for a wrong argument type.

import type { ErrorCode } from '../index'
import { errorCodes as nativeErrorCodes } from '../binding'

/** Any doorward failure: a rejected Promise (or a throw) carries one. */
export class DoorwardError extends Error {
  declare readonly name: 'DoorwardError'
  /** The stable machine code; branch on it, not on the message. */
  declare readonly code: ErrorCode
  /** The input a `validation_error` is about (`email`, `password`, `limit`...). */
  declare readonly field?: string
  /** Seconds to wait, on `rate_limited` and `account_locked`. */
  declare readonly retryAfter?: number
  /** The OAuth provider's id, on `oauth_provider_error` and `account_exists`. */
  declare readonly provider?: string
  /**
   * The provider's OAuth `error` on `oauth_provider_error` (`access_denied`
   * when the user cancelled, `invalid_grant`, ...), or doorward's verdict
   * on its answer (`invalid_id_token`, `invalid_response`, `unreachable`,
   * `email_required`).
   */
  declare readonly oauthError?: string
  /** What the provider (or doorward) said of that `error`, when anything was said. */
  declare readonly description?: string

  constructor(
    message: string,
    code: ErrorCode,
    field?: string,
    retryAfter?: number,
    oauth?: { provider?: string; oauthError?: string; description?: string },
  ) {
    super(message)
    // The fields above are declarations only, so an absent field,
    // retryAfter or OAuth detail is no property at all.
    this.name = 'DoorwardError'
    this.code = code
    if (field != null) this.field = field
    if (retryAfter != null) this.retryAfter = retryAfter
    if (oauth?.provider != null) this.provider = oauth.provider
    if (oauth?.oauthError != null) this.oauthError = oauth.oauthError
    if (oauth?.description != null) this.description = oauth.description
  }
}

/** A TypeError as Node's own APIs throw for an argument of the wrong type. */
export function argumentError(message: string): TypeError & { code: 'ERR_INVALID_ARG_TYPE' } {
  return Object.assign(new TypeError(message), { code: 'ERR_INVALID_ARG_TYPE' as const })
}

// N-API's argument checks, by the status napi-rs puts in `code`.
const ARGUMENT_ERRORS = new Set([
  'InvalidArg',
  'ObjectExpected',
  'StringExpected',
  'NameExpected',
  'FunctionExpected',
  'NumberExpected',
  'BooleanExpected',
  'ArrayExpected',
  'BigintExpected',
  'DateExpected',
])

// How the addon's errors start (bindings/node/src/error.rs): the code,
// field and retry-after travel as JSON in the message.
const MARKER = '{"doorward":'

export interface Transported {
  doorward: {
    code: ErrorCode
    message: string
    field?: string | null
    retryAfter?: number | null
    provider?: string | null
    oauthError?: string | null
    description?: string | null
  }
}

/** The error a caller should see for an error of the addon. */
export function convert(err: unknown): unknown {
  if (!(err instanceof Error)) return err
  if (err.message.startsWith(MARKER)) return transportedError(JSON.parse(err.message) as Transported)
  if (ARGUMENT_ERRORS.has((err as { code?: unknown }).code as string)) return argumentError(err.message)
  return err
}

/** The `DoorwardError` of an error as the addon transports it. */
export function transportedError(transported: Transported): DoorwardError {
  const { code, message, field, retryAfter, provider, oauthError, description } = transported.doorward
  return new DoorwardError(message, code, field ?? undefined, retryAfter ?? undefined, {
    provider: provider ?? undefined,
    oauthError: oauthError ?? undefined,
    description: description ?? undefined,
  })
}

const CODES = Object.freeze(nativeErrorCodes() as ErrorCode[])

/** Every stable error code, in documentation order. */
export function errorCodes(): ErrorCode[] {
  return [...CODES]
}

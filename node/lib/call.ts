// Calling the addon. Every method of the wrapper classes goes through one
// of these, so a failure reaches the caller converted (errors.ts), and a
// Promise-returning method reports even a wrong argument by rejecting, as
// it would any other failure.

import { argumentError, convert } from './errors'

/** Awaits `op`, its failure (a throw or a rejection) converted. */
export async function call<T>(op: () => Promise<T>): Promise<T> {
  try {
    return await op()
  } catch (err) {
    throw convert(err)
  }
}

/** Runs the synchronous `op`, its throw converted. */
export function callSync<T>(op: () => T): T {
  try {
    return op()
  } catch (err) {
    throw convert(err)
  }
}

/**
 * `value`, an options argument (`what`, for the message), if it is an
 * object or absent: N-API reads properties of whatever it is given, so a
 * string there would otherwise pass as `{}`.
 */
export function options<T>(value: T, what: string): T {
  if (value != null && (typeof value !== 'object' || Array.isArray(value))) {
    throw argumentError(`${what} must be an object`)
  }
  return value
}

/**
 * `value`, a required object argument such as a browser's WebAuthn answer
 * (`what`, for the message): N-API would read a string or an array as
 * `{}`, and the core would then refuse it for the wrong reason.
 */
export function object<T>(value: T, what: string): T {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw argumentError(`${what} must be an object`)
  }
  return value
}

/**
 * `value`, a required array argument such as the rows of an import (`what`,
 * for the message): N-API's own refusal of anything else says nothing of
 * which argument it was.
 */
export function array<T>(value: readonly T[], what: string): readonly T[] {
  if (!Array.isArray(value)) throw argumentError(`${what} must be an array`)
  return value
}

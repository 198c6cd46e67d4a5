// Argon2id hashing with the core's parameters and caps, off the event loop.

import { PasswordHasher as NativePasswordHasher, type HasherOptions } from '../binding'
import { call, callSync, options } from './call'

/**
 * Argon2id hashing with the core's parameters and caps, off the event
 * loop, for passwords kept outside doorward's own accounts. A bad option
 * throws a `DoorwardError` (`config_error`) or a `TypeError`, like every
 * other call.
 */
export class PasswordHasher implements NativePasswordHasher {
  readonly #native: NativePasswordHasher

  constructor(hasherOptions?: HasherOptions | null) {
    this.#native = callSync(() => new NativePasswordHasher(options(hasherOptions, 'PasswordHasher options')))
  }

  hash(password: string): Promise<string> {
    return call(() => this.#native.hash(password))
  }

  verify(password: string, hash: string): Promise<boolean> {
    return call(() => this.#native.verify(password, hash))
  }
}

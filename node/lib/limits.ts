// `dw.limits`: rate limits for the host's own endpoints.

import type { Decision, Limits as NativeLimits } from '../binding'
import { call } from './call'

/** Rate limits: `dw.limits`, the addon's method with errors converted. */
export class Limits implements NativeLimits {
  readonly #native: NativeLimits

  /** Wraps the addon's object: `dw.limits` makes one. */
  constructor(native: NativeLimits) {
    this.#native = native
  }

  limit(key: string, quota: string): Promise<Decision> {
    return call(() => this.#native.limit(key, quota))
  }
}

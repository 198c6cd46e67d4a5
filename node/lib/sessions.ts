// `dw.sessions`: a user's live sessions.

import type { Session, Sessions as NativeSessions } from '../binding'
import { call } from './call'

/** Sessions: `dw.sessions`, the addon's methods with errors converted. */
export class Sessions implements NativeSessions {
  readonly #native: NativeSessions

  /** Wraps the addon's object: `dw.sessions` makes one. */
  constructor(native: NativeSessions) {
    this.#native = native
  }

  list(userId: string): Promise<Session[]> {
    return call(() => this.#native.list(userId))
  }

  revoke(sessionId: string): Promise<void> {
    return call(() => this.#native.revoke(sessionId))
  }

  revokeAll(userId: string): Promise<number> {
    return call(() => this.#native.revokeAll(userId))
  }
}

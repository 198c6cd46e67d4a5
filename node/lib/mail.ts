// `dw.mail`: outgoing mail, and what the in-memory mailer holds. Every
// Message it returns keeps its recipient and body out of util.inspect.

import type { Mail as NativeMail, Message } from '../binding'
import { call, callSync } from './call'
import * as hide from './hide'

/** Outgoing mail: `dw.mail`, the addon's methods with errors converted. */
export class Mail implements NativeMail {
  readonly #native: NativeMail

  /** Wraps the addon's object: `dw.mail` makes one. */
  constructor(native: NativeMail) {
    this.#native = native
  }

  send(to: string, subject: string, text: string): Promise<void> {
    return call(() => this.#native.send(to, subject, text))
  }

  /** Synchronous: it throws, rather than rejects, a `config_error`. */
  sent(): Message[] {
    return callSync(() => this.#native.sent()).map(hide.message)
  }
}

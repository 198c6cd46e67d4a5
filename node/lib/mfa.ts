// `dw.mfa`: second factors. Every TotpEnrolment it returns keeps its
// secret, URI and QR code, and every RecoveryCodes its codes, out of JSON,
// spreads and util.inspect (hide.ts), while the properties stay readable.

import type { MfaStatus, Mfa as NativeMfa, RecoveryCodes, TotpEnrolment } from '../binding'
import { call } from './call'
import * as hide from './hide'

/** Second factors: `dw.mfa`, the addon's methods with errors converted and secrets hidden. */
export class Mfa implements NativeMfa {
  readonly #native: NativeMfa

  /** Wraps the addon's object: `dw.mfa` makes one. */
  constructor(native: NativeMfa) {
    this.#native = native
  }

  async startTotp(userId: string): Promise<TotpEnrolment> {
    return hide.enrolment(await call(() => this.#native.startTotp(userId)))
  }

  async confirmTotp(userId: string, code: string): Promise<RecoveryCodes> {
    return hide.recoveryCodes(await call(() => this.#native.confirmTotp(userId, code)))
  }

  disableTotp(accessToken: string): Promise<void> {
    return call(() => this.#native.disableTotp(accessToken))
  }

  async regenerateRecoveryCodes(accessToken: string): Promise<RecoveryCodes> {
    return hide.recoveryCodes(await call(() => this.#native.regenerateRecoveryCodes(accessToken)))
  }

  status(userId: string): Promise<MfaStatus> {
    return call(() => this.#native.status(userId))
  }
}

// `dw.passkeys`: passkeys (WebAuthn). The options it returns and the
// browser answers it takes are plain objects, the JSON the browser's
// `PublicKeyCredential.parseCreationOptionsFromJSON` /
// `parseRequestOptionsFromJSON` read and `credential.toJSON()` gives. The
// tokens of a passkey sign-in are hidden as every TokenPair's (hide.ts).

import type { PasskeyCreationOptions, PasskeyCredentialJSON, PasskeyRequestOptions } from '../index'
import type { ClientInfo, PasskeyInfo, Passkeys as NativePasskeys, TokenPair } from '../binding'
import { call, object, options } from './call'
import * as hide from './hide'

/** Passkeys: `dw.passkeys`, the addon's methods with errors converted and tokens hidden. */
export class Passkeys implements NativePasskeys {
  readonly #native: NativePasskeys

  /** Wraps the addon's object: `dw.passkeys` makes one. */
  constructor(native: NativePasskeys) {
    this.#native = native
  }

  startRegistration(userId: string): Promise<PasskeyCreationOptions> {
    return call(() => this.#native.startRegistration(userId))
  }

  finishRegistration(userId: string, response: PasskeyCredentialJSON, name: string): Promise<PasskeyInfo> {
    return call(() =>
      this.#native.finishRegistration(userId, object(response, 'argument 2 of finishRegistration'), name),
    )
  }

  startAuthentication(username?: string | null): Promise<PasskeyRequestOptions> {
    return call(() => this.#native.startAuthentication(username))
  }

  async finishAuthentication(response: PasskeyCredentialJSON, client?: ClientInfo | null): Promise<TokenPair> {
    const pair = await call(() =>
      this.#native.finishAuthentication(
        object(response, 'argument 1 of finishAuthentication'),
        options(client, 'argument 2 of finishAuthentication'),
      ),
    )
    return hide.tokens(pair)
  }

  list(userId: string): Promise<PasskeyInfo[]> {
    return call(() => this.#native.list(userId))
  }

  rename(userId: string, passkeyId: string, name: string): Promise<void> {
    return call(() => this.#native.rename(userId, passkeyId, name))
  }

  remove(accessToken: string, passkeyId: string): Promise<void> {
    return call(() => this.#native.remove(accessToken, passkeyId))
  }
}

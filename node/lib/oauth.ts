// `dw.oauth`: sign-in with OAuth 2.0 / OpenID Connect providers. Every
// AuthorizationStart it returns keeps its URL and state, every sign-in its
// tokens or flow id, and every ProviderTokens its tokens, out of JSON,
// spreads and util.inspect (hide.ts), while the properties stay readable.

import type {
  AuthorizationStart,
  ClientInfo,
  OAuth as NativeOAuth,
  OAuthCompletion,
  ProviderInfo,
  ProviderTokens,
} from '../binding'
import { call, callSync, options } from './call'
import * as hide from './hide'

/** OAuth sign-in: `dw.oauth`, the addon's methods with errors converted and secrets hidden. */
export class OAuth implements NativeOAuth {
  readonly #native: NativeOAuth

  /** Wraps the addon's object: `dw.oauth` makes one. */
  constructor(native: NativeOAuth) {
    this.#native = native
  }

  /** Synchronous: it reads the configuration alone. */
  providers(): ProviderInfo[] {
    return callSync(() => this.#native.providers())
  }

  async authorizationUrl(provider: string, redirectUri: string): Promise<AuthorizationStart> {
    return hide.authorization(await call(() => this.#native.authorizationUrl(provider, redirectUri)))
  }

  /**
   * Finish a sign-in (or a link) from its callback: the callback URL, its
   * query string, or a form post's body. `login` is the sign-in, as
   * `login` answers it (`mfaRequired` tells the tokens from a challenge);
   * absent after a link.
   */
  async complete(
    callback: string,
    expectedState?: string | null,
    client?: ClientInfo | null,
  ): Promise<OAuthCompletion> {
    const done = await call(() =>
      this.#native.complete(callback, expectedState, options(client, 'argument 3 of complete')),
    )
    return hide.completion(done)
  }

  async link(userId: string, provider: string, redirectUri: string): Promise<AuthorizationStart> {
    return hide.authorization(await call(() => this.#native.link(userId, provider, redirectUri)))
  }

  unlink(userId: string, provider: string): Promise<void> {
    return call(() => this.#native.unlink(userId, provider))
  }

  async providerTokens(userId: string, provider: string): Promise<ProviderTokens | null> {
    const tokens = await call(() => this.#native.providerTokens(userId, provider))
    return tokens == null ? null : hide.providerTokens(tokens)
  }
}

// The admin console for a Node host: the Rust router `doorward console`
// serves, answering the requests `consoleMiddleware` (middleware.js) hands
// it. Sign-in, cookies, CSRF tokens, rights and pages are all the router's.

import { inspect } from 'node:util'

import {
  CONSOLE_MAX_BODY,
  Console as NativeConsole,
  type ConsoleRequest,
  type ConsoleResponse,
} from '../binding'
import { call, callSync, object } from './call'
import { Doorward, nativeOf } from './client'
import { argumentError } from './errors'
import * as hide from './hide'

/**
 * The admin console under a path prefix (`/admin`; `''` for the root),
 * over an open doorward. `consoleMiddleware(dw)` mounts it in Express or
 * Connect; `handle` answers one request given as plain data.
 */
export class Console implements NativeConsole {
  /** The largest request body the console reads, in bytes (1 MiB). */
  static readonly MAX_BODY: number = CONSOLE_MAX_BODY

  readonly #native: NativeConsole

  /** Throws `validation_error` for a prefix that is not a plain path such as `/admin`. */
  constructor(dw: Doorward, prefix?: string | null) {
    if (!(dw instanceof Doorward)) throw argumentError('Console needs an open Doorward')
    this.#native = callSync(() => new NativeConsole(nativeOf(dw), prefix))
  }

  /** The path the console answers under (`''` for the root). */
  get prefix(): string {
    return this.#native.prefix
  }

  /**
   * Answer one request. Bad input (an unknown method, a malformed path or
   * header, a body over `MAX_BODY`) is a 4xx answer with an error code,
   * never a rejection. The answer keeps its headers (the session cookies)
   * and body (a sign-in's CSRF token) out of `util.inspect`.
   */
  async handle(request: ConsoleRequest): Promise<ConsoleResponse> {
    const answer = await call(() => this.#native.handle(object(request, 'the request')))
    return hide.consoleResponse(answer)
  }

  [inspect.custom](): string {
    return `Console { prefix: ${inspect(this.prefix)} }`
  }
}

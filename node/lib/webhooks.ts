// `dw.webhooks`: endpoints that receive events, signed. Every Webhook it
// returns keeps its secret out of JSON, spreads and util.inspect.

import type { EventType } from '../index'
import type { Webhook, WebhookTest, Webhooks as NativeWebhooks } from '../binding'
import { call } from './call'
import * as hide from './hide'

/** Webhook endpoints: `dw.webhooks`, the addon's methods with errors converted. */
export class Webhooks implements NativeWebhooks {
  readonly #native: NativeWebhooks

  /** Wraps the addon's object: `dw.webhooks` makes one. */
  constructor(native: NativeWebhooks) {
    this.#native = native
  }

  async add(url: string, types?: EventType[] | null): Promise<Webhook> {
    return hide.secret(await call(() => this.#native.add(url, types)))
  }

  async list(): Promise<Webhook[]> {
    return (await call(() => this.#native.list())).map(hide.secret)
  }

  remove(id: string): Promise<void> {
    return call(() => this.#native.remove(id))
  }

  test(id: string): Promise<WebhookTest> {
    return call(() => this.#native.test(id))
  }
}

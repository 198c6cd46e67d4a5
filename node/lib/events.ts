// `dw.events`: subscriptions, the outbox and webhook deliveries.
//
// The addon calls a subscriber through a threadsafe function and waits for
// the Promise it returns; this layer makes every handler return one (so a
// synchronous throw is a rejection the core retries, not a crash), stops
// calling it the moment its subscription closes, and builds `stream()`, an
// async iterator, on the same callback (stream.ts).

import type { EventHandler, EventType } from '../index'
import {
  eventTypes as nativeEventTypes,
  type DeliveryListOptions,
  type DeliveryRecord,
  type Event,
  type EventListOptions,
  type EventPage,
  type Events as NativeEvents,
  type SubscribeOptions,
  type Subscription as NativeSubscription,
} from '../binding'
import { call, callSync, options } from './call'
import { argumentError } from './errors'
import { EventStream } from './stream'

/**
 * A live subscription: `close()` stops deliveries (at once: the handler
 * sees no event of a batch the core still holds) and lets the process exit.
 */
export class Subscription implements NativeSubscription {
  readonly #native: NativeSubscription
  readonly #stop: () => void

  /** Wraps the addon's object: `dw.events.subscribe` makes one. */
  constructor(native: NativeSubscription, stop: () => void) {
    this.#native = native
    this.#stop = stop
  }

  close(): void {
    this.#stop()
    callSync(() => this.#native.close())
  }

  get isOpen(): boolean {
    return this.#native.isOpen
  }
}

/** Domain events: `dw.events`, the addon's methods with errors converted. */
export class Events implements NativeEvents {
  readonly #native: NativeEvents

  /** Wraps the addon's object: `dw.events` makes one. */
  constructor(native: NativeEvents) {
    this.#native = native
  }

  async subscribe(handler: EventHandler, subscribeOptions?: SubscribeOptions | null): Promise<Subscription> {
    if (typeof handler !== 'function') throw argumentError('the handler of subscribe must be a function')
    let open = true
    // Always a Promise: resolved when the handler is done with the event,
    // rejected (so the core retries) when it throws or its Promise rejects.
    const deliver = async (event: Event): Promise<void> => {
      if (open) await handler(event)
    }
    const native = await call(() =>
      this.#native.subscribe(deliver, options(subscribeOptions, 'argument 2 of subscribe')),
    )
    return new Subscription(native, () => {
      open = false
    })
  }

  /** The events of a new subscription as an async iterator. */
  stream(subscribeOptions?: SubscribeOptions | null): EventStream {
    return new EventStream(this, subscribeOptions)
  }

  list(listOptions?: EventListOptions | null): Promise<EventPage> {
    return call(() => this.#native.list(options(listOptions, 'argument 1 of list')))
  }

  flush(): Promise<void> {
    return call(() => this.#native.flush())
  }

  deliveries(listOptions?: DeliveryListOptions | null): Promise<DeliveryRecord[]> {
    return call(() => this.#native.deliveries(options(listOptions, 'argument 1 of deliveries')))
  }

  dead(): Promise<DeliveryRecord[]> {
    return call(() => this.#native.dead())
  }

  replay(deliveryId: number): Promise<void> {
    return call(() => this.#native.replay(deliveryId))
  }
}

const EVENT_TYPES = Object.freeze(nativeEventTypes() as EventType[])

/** Every event type name, in the core's order. */
export function eventTypes(): EventType[] {
  return [...EVENT_TYPES]
}

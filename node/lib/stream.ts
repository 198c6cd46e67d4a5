// `dw.events.stream()`: the events of one subscription as an async
// iterator, built on `subscribe`.

import type { Event, SubscribeOptions } from '../binding'
import type { Events, Subscription } from './events'

interface Waiter {
  resolve(result: IteratorResult<Event, undefined>): void
  reject(err: unknown): void
}

/**
 * The events of one subscription as an async iterator:
 * `for await (const event of dw.events.stream({ types }))`.
 *
 * It subscribes at once; events committed after `ready` resolves are
 * delivered. Each event counts as delivered to the core when it enters
 * this stream's buffer (so an idle consumer never holds up `flush()` or
 * other subscribers); a consumer that needs redelivery on failure uses
 * `subscribe` with a handler returning a Promise instead. Leaving the loop
 * (`break`, a throw, `return()`) or `close()` ends the subscription.
 */
export class EventStream implements AsyncIterableIterator<Event> {
  /** Resolves once subscribed; rejects as `subscribe` would (bad type, ...). */
  readonly ready: Promise<void>
  #queue: Event[] = []
  #waiters: Waiter[] = []
  #subscription: Subscription | null = null
  #done = false
  #error: unknown = null

  /** Subscribes through `events`: `dw.events.stream()` makes one. */
  constructor(events: Events, options?: SubscribeOptions | null) {
    this.ready = events
      .subscribe((event) => this.#push(event), options)
      .then(
        (subscription) => {
          if (this.#done) subscription.close()
          else this.#subscription = subscription
        },
        (err: unknown) => {
          this.#fail(err)
          throw err
        },
      )
    // The failure also reaches the consumer through next(): a caller that
    // only iterates must not see an unhandled rejection as well.
    this.ready.catch(() => {})
  }

  #push(event: Event): void {
    if (this.#done) return
    const waiter = this.#waiters.shift()
    if (waiter) waiter.resolve({ value: event, done: false })
    else this.#queue.push(event)
  }

  #fail(err: unknown): void {
    this.#done = true
    const waiters = this.#waiters.splice(0)
    if (waiters.length === 0) this.#error = err
    for (const waiter of waiters) waiter.reject(err)
  }

  /** The next event, waiting for one to be committed if need be. */
  next(): Promise<IteratorResult<Event, undefined>> {
    const queued = this.#queue.shift()
    if (queued !== undefined) return Promise.resolve({ value: queued, done: false })
    if (this.#error) {
      const err = this.#error
      this.#error = null
      return Promise.reject(err)
    }
    if (this.#done) return Promise.resolve({ value: undefined, done: true })
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }))
  }

  /** Ends the subscription and drops buffered events; idempotent. */
  close(): void {
    if (this.#done) return
    this.#done = true
    this.#queue.length = 0
    if (this.#subscription) this.#subscription.close()
    for (const waiter of this.#waiters.splice(0)) waiter.resolve({ value: undefined, done: true })
  }

  /** What `for await` calls on leaving the loop: close, once subscribed. */
  async return(): Promise<IteratorReturnResult<undefined>> {
    this.close()
    await this.ready.catch(() => {})
    return { value: undefined, done: true }
  }

  [Symbol.asyncIterator](): EventStream {
    return this
  }
}

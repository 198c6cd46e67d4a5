'use strict'
// Event subscriptions for JavaScript: the addon calls a handler through a
// threadsafe function and waits for the Promise it returns; this layer
// makes every handler return one (so a synchronous throw is a rejection
// the core retries, not a crash), stops calling it the moment its
// subscription closes, and builds `dw.events.stream()`, an async iterator,
// on the same callback.

const STOP = Symbol('doorward.stopSubscription')

/**
 * Events of one subscription as an async iterator:
 * `for await (const event of dw.events.stream({ types }))`.
 *
 * It subscribes at once; events committed after `ready` resolves are
 * delivered. Each event counts as delivered to the core when it enters
 * this stream's buffer (so an idle consumer never holds up `flush()` or
 * other subscribers); a consumer that needs redelivery on failure uses
 * `subscribe` with a handler returning a Promise instead. Leaving the loop
 * (`break`, a throw, `return()`) or `close()` ends the subscription.
 */
class EventStream {
  #queue = []
  #waiters = []
  #subscription = null
  #done = false
  #error = null

  constructor(events, options) {
    /** Resolves once subscribed; rejects as subscribe would (bad type, ...). */
    this.ready = events
      .subscribe((event) => this.#push(event), options)
      .then(
        (subscription) => {
          if (this.#done) subscription.close()
          else this.#subscription = subscription
        },
        (err) => {
          this.#fail(err)
          throw err
        },
      )
    // The failure also reaches the consumer through next(): a caller that
    // only iterates must not see an unhandled rejection as well.
    this.ready.catch(() => {})
  }

  #push(event) {
    if (this.#done) return
    const waiter = this.#waiters.shift()
    if (waiter) waiter.resolve({ value: event, done: false })
    else this.#queue.push(event)
  }

  #fail(err) {
    this.#done = true
    const waiters = this.#waiters.splice(0)
    if (waiters.length === 0) this.#error = err
    for (const waiter of waiters) waiter.reject(err)
  }

  /** The next event, waiting for one to be committed if need be. */
  next() {
    if (this.#queue.length > 0) return Promise.resolve({ value: this.#queue.shift(), done: false })
    if (this.#error) {
      const err = this.#error
      this.#error = null
      return Promise.reject(err)
    }
    if (this.#done) return Promise.resolve({ value: undefined, done: true })
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }))
  }

  /** Ends the subscription and drops buffered events; idempotent. */
  close() {
    if (this.#done) return
    this.#done = true
    this.#queue.length = 0
    if (this.#subscription) this.#subscription.close()
    for (const waiter of this.#waiters.splice(0)) waiter.resolve({ value: undefined, done: true })
  }

  /** What `for await` calls on leaving the loop: close, once subscribed. */
  async return() {
    this.close()
    await this.ready.catch(() => {})
    return { value: undefined, done: true }
  }

  [Symbol.asyncIterator]() {
    return this
  }
}

/**
 * Replaces `Events.prototype.subscribe` and `Subscription.prototype.close`
 * of the addon (already wrapped to convert errors) and adds
 * `Events.prototype.stream`.
 */
function install(binding, { harden, argumentError }) {
  const subscribe = binding.Events.prototype.subscribe
  const close = binding.Subscription.prototype.close

  function subscribeJs(handler, options) {
    if (typeof handler !== 'function') {
      return Promise.reject(argumentError('the handler of subscribe must be a function'))
    }
    let open = true
    // Always a Promise: resolved when the handler is done with the event,
    // rejected (so the core retries) when it throws or its Promise rejects.
    const deliver = async (event) => {
      if (!open) return
      await handler(harden(event))
    }
    return subscribe.call(this, deliver, options).then((subscription) => {
      Object.defineProperty(subscription, STOP, {
        value: () => {
          open = false
        },
      })
      return subscription
    })
  }

  function closeJs() {
    // The core may still hold an event of the current batch for this
    // subscriber: the handler must not see it once closed.
    if (typeof this[STOP] === 'function') this[STOP]()
    return close.call(this)
  }

  function stream(options) {
    return new EventStream(this, options)
  }

  const method = (value) => ({ value, writable: true, configurable: true, enumerable: false })
  Object.defineProperty(binding.Events.prototype, 'subscribe', method(subscribeJs))
  Object.defineProperty(binding.Events.prototype, 'stream', method(stream))
  Object.defineProperty(binding.Subscription.prototype, 'close', method(closeJs))
  return { EventStream }
}

module.exports = { EventStream, install }

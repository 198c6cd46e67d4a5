// Public-key verifications with `statelessVerify`, on Node's thread pool in
// batches (`PooledVerify` in bindings/node/src/principal.rs). Calls queue
// here; at most two batches a core are out at a time, one being checked
// and one ready, so a core that finishes a batch starts the next while the
// event loop answers the last. While fewer are out, a microtask at the end
// of the turn sends what the turn queued, cut into one batch for each
// batch that may still go out: a lone call is a batch of one, sent in the
// same turn. While all are out, calls wait for a batch to come back and
// leave together with the next one.
//
// At 64 verifications in flight, a hand-off to the pool for each token cost
// the event loop and the pool's threads a quarter of what the Ed25519
// checks cost the cores (two thread wake-ups per token, 22,000 context
// switches a second). Batches sent as soon as a turn ends, without a cap,
// shrank to a token or two; one batch a core left each core idle while
// the event loop answered. Two a core kept both cores 97% busy on the
// checks.
//
// A batch's Ed25519 signatures are checked as one (the core's
// `verify_tokens_sync`, crates/doorward/src/token/batch.rs): from eight
// tokens up, less than 60% of the work of checking each alone.

import { availableParallelism } from 'node:os'
import type { Doorward as NativeDoorward, Principal, PrincipalParts } from '../binding'
import { argumentError, convert, type Transported, transportedError } from './errors'
import { principal } from './principal'

interface Waiting {
  token: string
  resolve: (principal: Principal) => void
  reject: (err: unknown) => void
}

/** Batches out at most: two a core. */
const BATCHES = 2 * Math.max(1, availableParallelism())

export class PooledVerifier {
  readonly #native: NativeDoorward
  #queue: Waiting[] = []
  /** Batches on the pool. */
  #out = 0
  #flushing = false

  constructor(native: NativeDoorward) {
    this.#native = native
  }

  /** `verifyToken` of `token`, answered with the others of this turn. */
  verify(token: string): Promise<Principal> {
    // Checked here, as N-API would check it: one bad argument must not fail
    // the batch it would have joined.
    if (typeof token !== 'string') {
      return Promise.reject(argumentError('accessToken must be a string'))
    }
    return new Promise((resolve, reject) => {
      this.#queue.push({ token, resolve, reject })
      this.#schedule()
    })
  }

  /** A flush at the end of this turn, if a core is free and none is due. */
  #schedule(): void {
    if (this.#flushing || this.#out >= BATCHES || this.#queue.length === 0) return
    this.#flushing = true
    queueMicrotask(() => {
      this.#flushing = false
      this.#flush()
    })
  }

  #flush(): void {
    const queue = this.#queue
    this.#queue = []
    const size = Math.ceil(queue.length / (BATCHES - this.#out))
    for (let at = 0; at < queue.length; at += size) this.#send(queue.slice(at, at + size))
  }

  #send(batch: Waiting[]): void {
    const failAll = (err: unknown): void => {
      const converted = convert(err)
      for (const waiting of batch) waiting.reject(converted)
    }
    let task: Promise<string>
    try {
      task = this.#native._verifyTokensPooled(batch.map((waiting) => waiting.token)) as Promise<string>
    } catch (err) {
      failAll(err)
      return
    }
    this.#out++
    const back = (): void => {
      this.#out--
      this.#schedule()
    }
    task.then((text) => {
      back()
      // One answer for each token, in order.
      const answers = JSON.parse(text) as Array<PrincipalParts | Transported>
      batch.forEach((waiting, i) => {
        const answer = answers[i] as PrincipalParts | Transported
        if (Array.isArray(answer)) waiting.resolve(principal(answer))
        else waiting.reject(transportedError(answer))
      })
    }, (err: unknown) => {
      back()
      failAll(err)
    })
  }
}

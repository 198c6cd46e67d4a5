'use strict'
// dw.events: subscriptions that call JavaScript (a callback, a Promise, an
// async iterator), retries of a failing handler, the outbox, and the
// argument checks. `flush()` runs the dispatcher until caught up, so only
// retries (which wait for their backoff) are polled for.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { inspect } = require('node:util')

const { Events, EventStream, Subscription, eventTypes } = require('../index.js')
const { eventually, open, register, rejectsWith, rejectsWithTypeError } = require('./helpers.js')

/** Quick retries, so a failing handler is tried again within milliseconds. */
const QUICK = Object.freeze({
  eventsPollIntervalMs: 20,
  eventsRetryBaseMs: 10,
  eventsRetryMaxSecs: 1,
  eventsMaxAttempts: 4,
})

const openQuick = (overrides = {}) => open({ ...QUICK, ...overrides })

/** A promise and the functions that settle it. */
function deferred() {
  let resolve
  let reject
  const promise = new Promise((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}

test('subscribe: the callback receives UserRegistered after registerUser and flush', async () => {
  const dw = await openQuick()
  assert.ok(dw.events instanceof Events)
  const seen = []
  const sub = await dw.events.subscribe((event) => {
    seen.push(event)
  }, { types: ['UserRegistered'] })
  assert.ok(sub instanceof Subscription)
  assert.equal(sub.isOpen, true)
  const reg = await register(dw, 'john', { ip: '203.0.113.9', userAgent: 'events-test/1.0' })
  await dw.events.flush()
  assert.equal(seen.length, 1, 'LoginSucceeded is filtered out by types')
  const [event] = seen
  assert.equal(event.type, 'UserRegistered')
  assert.match(event.id, /^[0-9a-f-]{36}$/)
  assert.equal(typeof event.seq, 'number')
  assert.equal(event.version, 1)
  assert.ok(event.occurredAt instanceof Date)
  assert.equal(event.subject, reg.user.id)
  assert.equal(event.actor, reg.user.id)
  assert.equal(event.ip, '203.0.113.9')
  assert.equal(event.userAgent, 'events-test/1.0')
  assert.equal(event.payload.user_id, reg.user.id)
  assert.equal(event.payload.username, 'john')
  assert.ok(!inspect(event, { depth: 5 }).includes('john@example.com'), 'the email stays out of logs')
  sub.close()
  assert.equal(sub.isOpen, false)
  await register(dw, 'jane')
  await dw.events.flush()
  assert.equal(seen.length, 1, 'closed: no more deliveries')
})

test('subscribe: a handler that closes its subscription sees no further event', async () => {
  const dw = await openQuick()
  const seen = []
  const sub = await dw.events.subscribe((event) => {
    seen.push(event.subject)
    sub.close()
  }, { types: ['RoleCreated'] })
  // Another subscriber holds the dispatcher while both roles commit, so the
  // next pass hands them to `sub` as one batch.
  const gate = deferred()
  const held = deferred()
  const holder = await dw.events.subscribe(async () => {
    held.resolve()
    await gate.promise
  }, { types: ['UserRegistered'] })
  await register(dw)
  await held.promise
  await dw.roles.create('a', ['x:y'])
  await dw.roles.create('b', ['x:y'])
  gate.resolve()
  await dw.events.flush()
  holder.close()
  assert.deepEqual(seen, ['a'])
  assert.equal(sub.isOpen, false)
})

test('subscribe: without types every event arrives, in commit order', async () => {
  const dw = await openQuick()
  const types = []
  const sub = await dw.events.subscribe((event) => {
    types.push(event.type)
  })
  const reg = await register(dw)
  await dw.roles.create('editor', ['posts:*'])
  await dw.roles.grant(reg.user.id, 'editor')
  await dw.events.flush()
  sub.close()
  assert.deepEqual(types, ['UserRegistered', 'LoginSucceeded', 'RoleCreated', 'RoleGranted'])
})

test('subscribe: an event counts as delivered only when the handler Promise resolves', async () => {
  const dw = await openQuick()
  const gate = deferred()
  const called = deferred()
  const done = []
  const sub = await dw.events.subscribe(async (event) => {
    called.resolve()
    await gate.promise
    done.push(event.type)
  }, { types: ['RoleCreated'] })
  await dw.roles.create('editor', ['posts:*'])
  let flushed = false
  const flushing = dw.events.flush().then(() => {
    flushed = true
  })
  await called.promise
  // The loop turns freely while the handler waits, and flush() waits too.
  for (let i = 0; i < 20; i++) await new Promise(setImmediate)
  assert.equal(flushed, false, 'flush waits for the pending handler')
  gate.resolve()
  await flushing
  assert.deepEqual(done, ['RoleCreated'])
  sub.close()
})

test('subscribe: a throwing handler is retried until it succeeds', async () => {
  const dw = await openQuick()
  const attempts = []
  const sub = await dw.events.subscribe((event) => {
    attempts.push(event.payload.role)
    if (attempts.length <= 2) throw new Error('the mail server is down')
  }, { types: ['RoleCreated'] })
  await dw.roles.create('editor', ['posts:*'])
  await eventually(async () => {
    await dw.events.flush()
    return attempts.length === 3
  })
  assert.deepEqual(attempts, ['editor', 'editor', 'editor'])
  await dw.roles.create('writer', ['posts:write'])
  await dw.events.flush()
  assert.deepEqual(attempts.slice(3), ['writer'], 'the next event follows once it succeeded')
  sub.close()
})

test('subscribe: a rejected Promise is retried, and given up after eventsMaxAttempts', async () => {
  const dw = await openQuick({ eventsMaxAttempts: 3 })
  const calls = []
  const sub = await dw.events.subscribe(async (event) => {
    calls.push(event.payload.role)
    if (event.payload.role === 'broken') throw new Error('a host bug')
  }, { types: ['RoleCreated'] })
  await dw.roles.create('broken', ['x:y'])
  await dw.roles.create('fine', ['x:y'])
  await eventually(async () => {
    await dw.events.flush()
    return calls.includes('fine')
  })
  assert.deepEqual(calls, ['broken', 'broken', 'broken', 'fine'], 'one bad event does not stop the rest')
  sub.close()
})

test('stream: for await receives UserRegistered after registerUser and flush', async () => {
  const dw = await openQuick()
  const stream = dw.events.stream({ types: ['UserRegistered'] })
  assert.ok(stream instanceof EventStream)
  await stream.ready
  const john = await register(dw, 'john')
  const jane = await register(dw, 'jane')
  await dw.events.flush()
  const subjects = []
  for await (const event of stream) {
    assert.equal(event.type, 'UserRegistered')
    subjects.push(event.subject)
    if (subjects.length === 2) break
  }
  assert.deepEqual(subjects, [john.user.id, jane.user.id])
  // Leaving the loop closed the subscription: the stream is finished.
  await register(dw, 'late')
  await dw.events.flush()
  assert.deepEqual(await stream.next(), { value: undefined, done: true })
})

test('stream: next() waits for an event committed later', async () => {
  const dw = await openQuick()
  const stream = dw.events.stream({ types: ['RoleCreated'] })
  await stream.ready
  const next = stream.next()
  await dw.roles.create('editor', ['posts:*'])
  const { value, done } = await next
  assert.equal(done, false)
  assert.equal(value.subject, 'editor')
  stream.close()
  assert.deepEqual(await stream.next(), { value: undefined, done: true })
  stream.close() // idempotent
})

test('stream: a bad option rejects ready and the first next()', async () => {
  const dw = await openQuick()
  const stream = dw.events.stream({ types: ['NoSuchEvent'] })
  await rejectsWith(stream.ready, 'validation_error')
  await rejectsWith(stream.next(), 'validation_error')
  assert.deepEqual(await stream.next(), { value: undefined, done: true })
})

test('subscribe: options and arguments are checked', async () => {
  const dw = await openQuick()
  const err = await rejectsWith(dw.events.subscribe(() => {}, { types: ['UserRegistred'] }), 'validation_error')
  assert.equal(err.field, 'event_type')
  assert.equal((await rejectsWith(dw.events.subscribe(() => {}, { name: 'has spaces' }), 'validation_error')).field, 'name')
  await rejectsWithTypeError(() => dw.events.subscribe('not a function'))
  await rejectsWithTypeError(() => dw.events.subscribe(() => {}, 'UserRegistered'))
  // With the dispatcher off nothing would ever call the handler.
  const quiet = await open({ eventsDispatch: false })
  await rejectsWith(quiet.events.subscribe(() => {}), 'config_error')
})

test('subscribe: a named subscriber is durable and receives as one', async () => {
  const dw = await openQuick()
  const seen = []
  const sub = await dw.events.subscribe((e) => {
    seen.push(e.subject)
  }, { name: 'mailer', types: ['RoleCreated'] })
  await dw.roles.create('editor', ['posts:*'])
  await dw.events.flush()
  assert.deepEqual(seen, ['editor'])
  sub.close()
})

test('events.list pages the outbox in commit order', async () => {
  const dw = await open({ eventsDispatch: false })
  for (const name of ['a', 'b', 'c']) await dw.roles.create(name, ['x:y'])
  const first = await dw.events.list({ limit: 2 })
  assert.deepEqual(first.items.map((e) => e.subject), ['a', 'b'])
  assert.ok(first.items[0].seq < first.items[1].seq)
  const rest = await dw.events.list({ cursor: first.nextCursor })
  assert.deepEqual(rest.items.map((e) => e.subject), ['c'])
  assert.equal(rest.nextCursor, undefined)
  assert.equal((await rejectsWith(dw.events.list({ cursor: 'nope' }), 'validation_error')).field, 'cursor')
})

/** The members of `export type EventType = | 'A' | 'B' ...` in index.d.ts, in order. */
function eventTypeUnion() {
  const text = fs.readFileSync(path.join(__dirname, '..', 'index.d.ts'), 'utf8')
  const match = /export\s+type\s+EventType\s*=([^;]*?)(?:\n\s*\n|;|\n(?=\S))/.exec(text)
  assert.ok(match, 'index.d.ts declares `export type EventType = ...`')
  return [...match[1].matchAll(/'([A-Za-z]+)'/g)].map((m) => m[1])
}

test('eventTypes() equals the EventType union of index.d.ts', () => {
  const native = eventTypes()
  const union = eventTypeUnion()
  assert.deepEqual(
    native,
    union,
    'eventTypes() (the core) and the EventType union in index.d.ts drifted apart: ' +
      `only in the core ${JSON.stringify(native.filter((c) => !union.includes(c)))}, ` +
      `only in index.d.ts ${JSON.stringify(union.filter((c) => !native.includes(c)))}`,
  )
  eventTypes().push('mutated')
  assert.ok(!eventTypes().includes('mutated'), 'callers cannot change the list')
})

'use strict'
// dw.audit: the hash-chained log the dispatcher fills from the outbox
// (flush() brings it up to date): filtered lists, paging, JSON Lines
// export and verification.

const { test } = require('node:test')
const assert = require('node:assert/strict')

const { Audit } = require('../index.js')
const { PASSWORD, open, register, rejectsWith } = require('./helpers.js')

test('audit: list records each change, filtered by user, type and time', async () => {
  const dw = await open()
  assert.ok(dw.audit instanceof Audit)
  const before = new Date()
  const john = await register(dw, 'john')
  const jane = await register(dw, 'jane')
  await rejectsWith(dw.login('john', 'wrong password entirely'), 'invalid_credentials')
  await dw.events.flush()

  const all = await dw.audit.list()
  assert.deepEqual(all.items.map((r) => r.eventType), [
    'UserRegistered',
    'LoginSucceeded',
    'UserRegistered',
    'LoginSucceeded',
    'LoginFailed',
  ])
  const [first] = all.items
  assert.equal(first.seq, 1)
  assert.equal(first.subject, john.user.id)
  assert.equal(first.outcome, 'success')
  assert.ok(first.occurredAt instanceof Date)
  assert.equal(JSON.parse(first.details).user_id, john.user.id)
  assert.equal(first.prevHash, '0'.repeat(64))
  assert.match(first.hash, /^[0-9a-f]{64}$/)
  assert.equal(all.items[1].prevHash, first.hash)
  assert.equal(all.items[4].outcome, 'failure')

  const janes = await dw.audit.list({ userId: jane.user.id })
  assert.deepEqual(janes.items.map((r) => r.eventType), ['UserRegistered', 'LoginSucceeded'])
  const registrations = await dw.audit.list({ type: 'UserRegistered' })
  assert.deepEqual(registrations.items.map((r) => r.subject), [john.user.id, jane.user.id])
  assert.equal((await dw.audit.list({ since: before })).items.length, 5)
  assert.equal((await dw.audit.list({ until: before })).items.length, 0)
  assert.equal((await dw.audit.list({ since: new Date(Date.now() + 3600e3) })).items.length, 0)
})

test('audit: list pages with a cursor', async () => {
  const dw = await open()
  for (const name of ['a', 'b', 'c']) await dw.roles.create(name, ['x:y'])
  await dw.events.flush()
  const first = await dw.audit.list({ limit: 2 })
  assert.deepEqual(first.items.map((r) => r.subject), ['a', 'b'])
  const rest = await dw.audit.list({ cursor: first.nextCursor, limit: 2 })
  assert.deepEqual(rest.items.map((r) => r.subject), ['c'])
  assert.equal(rest.nextCursor, undefined)
})

test('audit: export is JSON Lines, optionally from a time on', async () => {
  const dw = await open()
  await dw.users.create('ann', 'ann@example.com', PASSWORD)
  await dw.roles.create('editor', ['posts:*'])
  await dw.events.flush()
  const text = await dw.audit.export()
  assert.equal(typeof text, 'string')
  const lines = text.trimEnd().split('\n').map((l) => JSON.parse(l))
  assert.deepEqual(lines.map((r) => r.event_type), ['UserRegistered', 'RoleCreated'])
  assert.equal(lines[1].seq, 2)
  assert.equal(await dw.audit.export({ since: new Date(Date.now() + 3600e3) }), '')
  assert.equal(await dw.audit.export({ since: new Date(0) }), text)
})

test('audit: verify walks the chain', async () => {
  const dw = await open()
  const empty = await dw.audit.verify()
  assert.equal(empty.ok, true)
  assert.equal(empty.rows, 0)
  await register(dw)
  await dw.events.flush()
  const result = await dw.audit.verify()
  assert.equal(result.ok, true)
  assert.equal(result.rows, 2)
  assert.equal(result.firstBadSeq, undefined)
  assert.equal(result.problem, undefined)
  const rows = (await dw.audit.list()).items
  assert.equal(result.head, rows[rows.length - 1].hash)
})

test('audit: bad filters are validation errors', async () => {
  const dw = await open()
  assert.equal((await rejectsWith(dw.audit.list({ type: 'NoSuchEvent' }), 'validation_error')).field, 'event_type')
  assert.equal((await rejectsWith(dw.audit.list({ cursor: 'x' }), 'validation_error')).field, 'cursor')
})

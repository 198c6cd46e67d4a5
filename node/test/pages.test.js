'use strict'
// Every paged listing keeps the core's one rule: no limit (undefined) is
// the core's default page, 1 to the listing's largest page is used
// as given, and anything else rejects with validation_error on `limit`,
// never a clamped page.

const { test } = require('node:test')
const assert = require('node:assert/strict')

const { PASSWORD, open, rejectsWith } = require('./helpers.js')

/** The core's default page (doorward::PageRequest::DEFAULT_LIMIT). */
const DEFAULT = 50

/** Each listing by its name: its largest page, and a call with a limit. */
const LISTINGS = {
  'users.list': [500, (dw, limit) => dw.users.list(undefined, limit)],
  'users.search': [500, (dw, limit) => dw.users.search('user', undefined, limit)],
  'users.exportUsers': [500, (dw, limit) => dw.users.exportUsers(undefined, limit)],
  'events.list': [1000, (dw, limit) => dw.events.list({ limit })],
  'events.deliveries': [1000, (dw, limit) => dw.events.deliveries({ limit })],
  'audit.list': [1000, (dw, limit) => dw.audit.list({ limit })],
  'files.list': [1000, (dw, limit) => dw.files.list({ limit })],
}

for (const [name, [largest, list]] of Object.entries(LISTINGS)) {
  test(`${name}: a limit out of range is refused, never clamped`, async () => {
    const dw = await open({ filesUrl: 'memory://' })
    for (const limit of [0, -1, largest + 1, 2 ** 40, 1.5]) {
      const err = await rejectsWith(list(dw, limit), 'validation_error')
      assert.equal(err.field, 'limit', `${name}(${limit})`)
    }
    await list(dw, largest)
    await list(dw, undefined)
  })
}

test('no limit is the default page of every listing', async () => {
  const dw = await open({ filesUrl: 'memory://' })
  for (let i = 0; i <= DEFAULT; i++) {
    await dw.users.create(`user${i}`, `user${i}@example.com`, PASSWORD)
    await dw.files.put(`f/${String(i).padStart(3, '0')}`, Buffer.from('x'))
  }
  const users = await dw.users.list()
  assert.equal(users.items.length, DEFAULT)
  assert.ok(users.nextCursor)
  const found = await dw.users.search('user')
  assert.equal(found.items.length, DEFAULT)
  assert.ok(found.nextCursor)
  const exported = await dw.users.exportUsers()
  assert.equal(exported.items.length, DEFAULT)
  assert.ok(exported.nextCursor)
  const files = await dw.files.list({ prefix: 'f' })
  assert.equal(files.items.length, DEFAULT)
  assert.equal(files.nextCursor, `f/0${DEFAULT - 1}`)
  const events = await dw.events.list()
  assert.equal(events.items.length, DEFAULT)
  assert.ok(events.nextCursor)
})

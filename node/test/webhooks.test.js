'use strict'
// dw.webhooks: signed deliveries to a loopback receiver, each signature
// checked with the independent `standardwebhooks` package; retries until a
// receiver recovers; dead letters and replay; the secret kept out of logs.
// Retries wait for their backoff, so those are polled for (with flush).

const { test } = require('node:test')
const assert = require('node:assert/strict')
const { inspect } = require('node:util')

const { Webhook: StandardWebhook } = require('standardwebhooks')
const { Webhooks } = require('../index.js')
const { eventually, open, rejectsWith, receiver } = require('./helpers.js')

const QUICK = Object.freeze({
  eventsPollIntervalMs: 20,
  eventsRetryBaseMs: 10,
  eventsRetryMaxSecs: 1,
  eventsMaxAttempts: 4,
  // The receivers listen on loopback, which webhooks reach only when allowed.
  webhookAllowPrivate: true,
})

/** Verifies one received request with the standardwebhooks package; its JSON. */
function verified(secret, request) {
  const headers = {
    'webhook-id': request.headers['webhook-id'],
    'webhook-timestamp': request.headers['webhook-timestamp'],
    'webhook-signature': request.headers['webhook-signature'],
  }
  return new StandardWebhook(secret).verify(request.body, headers)
}

test('webhooks: a receiver that fails three times, then succeeds, gets the signed event', async (t) => {
  const dw = await open(QUICK)
  assert.ok(dw.webhooks instanceof Webhooks)
  const { url, requests } = await receiver(t, [500, 503, 500])
  const hook = await dw.webhooks.add(url, ['RoleCreated'])
  assert.match(hook.id, /^wh_/)
  assert.equal(hook.url, url)
  assert.match(hook.secret, /^whsec_/)
  assert.deepEqual(hook.eventTypes, ['RoleCreated'])
  assert.ok(hook.createdAt instanceof Date)

  await dw.roles.create('editor', ['posts:*'])
  await dw.users.create('ann', 'ann@example.com', 'correct horse battery staple') // filtered out
  await eventually(async () => {
    await dw.events.flush()
    return requests.length >= 4
  }, 20000)
  await dw.events.flush()
  assert.equal(requests.length, 4, 'three failures, then the success')
  const ids = new Set(requests.map((r) => r.headers['webhook-id']))
  assert.equal(ids.size, 1, 'one webhook-id across retries')
  for (const request of requests) {
    const message = verified(hook.secret, request)
    assert.equal(message.type, 'RoleCreated')
    assert.equal(message.data.payload.role, 'editor')
    assert.equal(message.data.id, request.headers['webhook-id'])
  }
  // A wrong secret or a changed body fails the same verification.
  const other = await dw.webhooks.add(url)
  assert.throws(() => verified(other.secret, requests[0]), /signature/i)
  assert.throws(() => verified(hook.secret, { ...requests[0], body: requests[0].body.replace('editor', 'admin') }))

  const delivered = await dw.events.deliveries({ status: 'delivered' })
  assert.equal(delivered.length, 1)
  assert.equal(delivered[0].webhookId, hook.id)
  assert.equal(delivered[0].eventType, 'RoleCreated')
  assert.equal(delivered[0].attempts, 4)
  assert.equal(delivered[0].status, 'delivered')
  assert.ok(delivered[0].updatedAt instanceof Date)
})

test('webhooks: an always-failing receiver ends dead, and replay re-queues it', async (t) => {
  const dw = await open({ ...QUICK, eventsMaxAttempts: 3 })
  const { url, requests } = await receiver(t, [500, 500, 500])
  const hook = await dw.webhooks.add(url)
  await dw.roles.create('editor', ['posts:*'])
  let dead = []
  await eventually(async () => {
    await dw.events.flush()
    dead = await dw.events.dead()
    return dead.length > 0
  }, 20000)
  assert.equal(dead.length, 1)
  assert.equal(dead[0].status, 'dead')
  assert.equal(dead[0].attempts, 3)
  assert.equal(dead[0].lastError, 'HTTP 500')
  assert.equal(typeof dead[0].id, 'number')
  assert.equal(requests.length, 3)
  assert.deepEqual((await dw.events.deliveries({ status: 'dead' })).map((d) => d.id), [dead[0].id])

  // The receiver answers 200 from now on: replay.
  await dw.events.replay(dead[0].id)
  await dw.events.flush()
  assert.equal(requests.length, 4)
  assert.equal(verified(hook.secret, requests[3]).type, 'RoleCreated')
  assert.deepEqual(await dw.events.dead(), [])
  assert.equal((await dw.events.deliveries({ status: 'delivered' })).length, 1)
  await rejectsWith(dw.events.replay(dead[0].id), 'not_found')
  await rejectsWith(dw.events.replay(-1), 'not_found')
  assert.equal((await rejectsWith(dw.events.deliveries({ status: 'lost' }), 'validation_error')).field, 'status')
})

test('webhooks: list, test and remove', async (t) => {
  const dw = await open(QUICK)
  const { url, requests } = await receiver(t)
  const a = await dw.webhooks.add(url, ['UserRegistered', 'LoginFailed'])
  const b = await dw.webhooks.add(`${url}/b`)
  const listed = await dw.webhooks.list()
  assert.deepEqual(listed.map((w) => w.id), [a.id, b.id])
  assert.equal(listed[0].secret, a.secret, 'the secret is readable as a property')
  assert.deepEqual(listed[1].eventTypes, [])

  const result = await dw.webhooks.test(a.id)
  assert.deepEqual({ ...result }, { ok: true })
  assert.equal(requests.length, 1)
  assert.equal(verified(a.secret, requests[0]).type, 'doorward.test')

  await dw.webhooks.remove(b.id)
  assert.deepEqual((await dw.webhooks.list()).map((w) => w.id), [a.id])
  await rejectsWith(dw.webhooks.remove(b.id), 'not_found')
  await rejectsWith(dw.webhooks.test('wh_nope'), 'not_found')
})

test('webhooks: a receiver that is down makes test() report why', async () => {
  const dw = await open(QUICK)
  // Port 1 on loopback: nothing listens there.
  const hook = await dw.webhooks.add('http://127.0.0.1:1/hooks')
  const result = await dw.webhooks.test(hook.id)
  assert.equal(result.ok, false)
  assert.equal(typeof result.error, 'string')
})

test('webhooks: urls and event types are checked', async () => {
  const dw = await open(QUICK)
  for (const url of ['not a url', 'ftp://example.com/x', 'file:///etc/passwd']) {
    assert.equal((await rejectsWith(dw.webhooks.add(url), 'validation_error')).field, 'url', url)
  }
  const err = await rejectsWith(dw.webhooks.add('https://example.com/hook', ['NoSuchEvent']), 'validation_error')
  assert.equal(err.field, 'event_type')
  assert.deepEqual(await dw.webhooks.list(), [])
})

test('webhooks: private and local targets are refused unless allowed', async () => {
  const dw = await open()
  for (const url of ['http://127.0.0.1:9/hook', 'http://[::1]/hook', 'http://169.254.169.254/latest/meta-data/', 'http://localhost:8080/hook']) {
    assert.equal((await rejectsWith(dw.webhooks.add(url), 'validation_error')).field, 'url', url)
  }
  assert.deepEqual(await dw.webhooks.list(), [])
  const allowed = await open({ webhookAllowPrivate: true })
  assert.equal((await allowed.webhooks.add('http://127.0.0.1:9/hook')).url, 'http://127.0.0.1:9/hook')
})

test('webhooks: the secret stays out of util.inspect and JSON.stringify', async () => {
  const dw = await open(QUICK)
  const hook = await dw.webhooks.add('https://example.com/hook')
  const [listed] = await dw.webhooks.list()
  for (const w of [hook, listed]) {
    assert.match(w.secret, /^whsec_/)
    assert.ok(!inspect(w).includes(w.secret), inspect(w))
    assert.match(inspect(w), /secret: '\[hidden\]'/)
    assert.ok(!JSON.stringify(w).includes(w.secret))
    assert.ok(!JSON.stringify({ hooks: [w] }).includes(w.secret))
    assert.ok(!Object.keys(w).includes('secret'))
    assert.equal(JSON.parse(JSON.stringify(w)).id, w.id, 'the rest serialises')
  }
})

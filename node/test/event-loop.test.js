'use strict'
// The event loop is never blocked: argon2 runs on the addon's threads, so a
// ticker keeps firing while logins hash. Asserted on counts of ticks, never
// on seconds, so a slow machine cannot make it flaky.

const { test } = require('node:test')
const assert = require('node:assert/strict')

const { PasswordHasher } = require('../index.js')
const { PASSWORD, child, open } = require('./helpers.js')

/** Counts setImmediate turns of the event loop until stopped. */
function ticker() {
  let ticks = 0
  let running = true
  const tick = () => {
    if (!running) return
    ticks += 1
    setImmediate(tick)
  }
  setImmediate(tick)
  return {
    get ticks() {
      return ticks
    },
    stop() {
      running = false
    },
  }
}

test('a ticker keeps firing while 8 logins hash', async () => {
  // Real-ish hashing: 8 MiB, 2 passes, so each login does real argon2 work.
  // One hash at a time leaves a core to the event loop on a 2-core
  // machine: with both cores hashing, the OS may not run this thread
  // between two hashes, which says nothing about the loop being blocked.
  const dw = await open({
    argon2MemoryKib: 8192,
    argon2Iterations: 2,
    rateLimitLoginAccount: 'off',
    rateLimitLoginIp: 'off',
    hashConcurrency: 1,
  })
  await dw.registerUser('john', 'john@example.com', PASSWORD)
  const loop = ticker()
  const during = []
  const logins = Array.from({ length: 8 }, (_, i) => {
    const startedAt = loop.ticks
    return dw.login('john', PASSWORD, { ip: `192.0.2.${i + 1}` }).then((pair) => {
      during.push(loop.ticks - startedAt)
      return pair
    })
  })
  // The calls returned at once: no hashing happened on this thread yet.
  assert.equal(loop.ticks, 0, 'login() returns before any tick: it does not hash synchronously')
  const pairs = await Promise.all(logins)
  loop.stop()
  assert.equal(pairs.length, 8)
  assert.ok(pairs.every((p) => p.tokenType === 'Bearer'))
  // Each login was in flight across several turns of the loop, and the loop
  // turned many times overall (a blocked loop would show ~0 for each).
  assert.ok(
    during.every((n) => n >= 2),
    `every login saw the loop turn while it hashed: ${JSON.stringify(during)}`,
  )
  assert.ok(loop.ticks >= 50, `the loop turned only ${loop.ticks} times during 8 logins`)
})

test('a ticker keeps firing while PasswordHasher hashes at OWASP cost', async () => {
  const hasher = new PasswordHasher() // m=19456, t=2, p=1
  const loop = ticker()
  const hashes = Promise.all(Array.from({ length: 4 }, () => hasher.hash(PASSWORD)))
  assert.equal(loop.ticks, 0)
  const done = await hashes
  const atHashed = loop.ticks
  const ok = await Promise.all(done.map((h) => hasher.verify(PASSWORD, h)))
  loop.stop()
  assert.deepEqual(ok, [true, true, true, true])
  assert.ok(atHashed >= 20, `the loop turned only ${atHashed} times during 4 hashes`)
  assert.ok(loop.ticks > atHashed, 'and kept turning during 4 verifications')
})

test('setInterval callbacks run on time while logins hash', async () => {
  const dw = await open({ argon2MemoryKib: 8192, argon2Iterations: 2, rateLimitLoginAccount: 'off', rateLimitLoginIp: 'off' })
  await dw.registerUser('john', 'john@example.com', PASSWORD)
  let intervals = 0
  const timer = setInterval(() => {
    intervals += 1
  }, 1)
  // Keep hashing until the interval has fired 10 times (bounded to 200
  // logins): with a blocked loop it would not fire at all.
  let logins = 0
  while (intervals < 10 && logins < 200) {
    await Promise.all(Array.from({ length: 8 }, () => dw.login('john', PASSWORD)))
    logins += 8
  }
  clearInterval(timer)
  assert.ok(intervals >= 10, `setInterval fired ${intervals} times during ${logins} logins`)
})

// --- subscriptions and the life of the process --------------------------------

test('a closed subscription lets the process exit on its own', async () => {
  const { code, stdout, stderr } = await child(`
    const sub = await dw.events.subscribe((e) => console.log(e.type), { types: ['RoleCreated'] })
    await dw.roles.create('editor', ['posts:*'])
    await dw.events.flush()
    sub.close()
    console.log('closed')
  `)
  assert.equal(code, 0, stderr)
  assert.equal(stdout, 'RoleCreated\nclosed\n')
})

test('leaving a for await loop over a stream lets the process exit on its own', async () => {
  const { code, stdout, stderr } = await child(`
    const stream = dw.events.stream({ types: ['RoleCreated'] })
    await stream.ready
    await dw.roles.create('editor', ['posts:*'])
    for await (const e of stream) {
      console.log(e.subject)
      break
    }
  `)
  assert.equal(code, 0, stderr)
  assert.equal(stdout, 'editor\n')
})

test('process.exit is not held up by a live subscription or a handler in flight', async () => {
  const { code, stdout, stderr } = await child(`
    await dw.events.subscribe(() => {}, {})
    // A handler that never finishes, holding the dispatcher mid-delivery.
    await dw.events.subscribe(() => {
      console.log('in flight')
      setImmediate(() => process.exit(7))
      return new Promise(() => {})
    }, { types: ['RoleCreated'] })
    await dw.roles.create('editor', ['posts:*'])
  `)
  assert.equal(code, 7, stderr)
  assert.equal(stdout, 'in flight\n')
})

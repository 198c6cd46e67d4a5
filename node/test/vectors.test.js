'use strict'
// The shared corpora of tests/vectors/ through the Node API: every case must
// give the verdict recorded there, as it must in the Rust
// (crates/doorward/tests/vectors.rs), Python and Kotlin suites.
//
// Each corpus runs every one of its cases, collects the cases that differ and
// fails once, naming each; the number of cases run is checked against the
// corpus, so none is skipped silently.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')

const { Doorward, DoorwardError, PasswordHasher } = require('../index.js')

const VECTORS = path.resolve(__dirname, '..', '..', 'tests', 'vectors')

function corpus(name) {
  return JSON.parse(fs.readFileSync(path.join(VECTORS, `${name}.json`), 'utf8'))
}

/**
 * The corpora's snake_case keys as Config's camelCase (`argon2_memory_kib`
 * to `argon2MemoryKib`), which the addon turns back; values are kept, so a
 * value of the wrong type reaches the core as it is written.
 */
function camelKeys(value) {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value
  return Object.fromEntries(
    Object.entries(value).map(([key, v]) => [key.replace(/_([a-z])/g, (_, c) => c.toUpperCase()), camelKeys(v)]),
  )
}

/** An instance on the corpus's base_config with `extra` laid over it. */
function open(doc, extra) {
  // A corpus without the key a runner reads fails loudly, not on the base alone.
  assert.ok(extra !== null && typeof extra === 'object', 'a configuration to lay over base_config')
  return Doorward.open(camelKeys({ ...doc.base_config, ...extra }))
}

/**
 * What `call()` resolved with and "ok", or undefined and the stable code of
 * the DoorwardError it rejected with. Anything else thrown (a TypeError, an
 * error the wrapper did not convert) is a difference in itself, so its
 * verdict names it and matches no code.
 */
async function attempt(call) {
  try {
    return [await call(), 'ok']
  } catch (err) {
    if (err instanceof DoorwardError) return [undefined, err.code]
    return [undefined, `${err?.name} (not a DoorwardError): ${err?.message ?? err}`]
  }
}

/** The line naming a differing case (`what` tells two checks of one case apart), or none. */
function difference(name, testCase, expected, got, what = '') {
  return got === expected ? [] : [`${name}/${testCase.name}${what}: expected ${expected}, got ${got}`]
}

/** Every case ran, and none differed (all of them listed if any did). */
function agree(t, name, differences, run, doc) {
  const total = doc.cases.length
  assert.ok(total > 0 && run === total, `${name}: ${run} of ${total} cases run`)
  t.diagnostic(`${name}: ${run} cases`)
  assert.ok(
    differences.length === 0,
    `${differences.length} of ${total} ${name} vectors differ:\n${differences.join('\n')}`,
  )
}

test('tokens', async (t) => {
  const doc = corpus('tokens')
  // One verifier per configuration; they hold no state the cases change
  // (statelessVerify: no session lookup).
  const verifiers = {}
  for (const [name, extra] of Object.entries(doc.configs)) verifiers[name] = await open(doc, extra)
  const differences = []
  let run = 0
  for (const c of doc.cases) {
    let [principal, got] = await attempt(() => verifiers[c.config].verifyToken(c.token))
    // An accepted token must also speak for the user and session it names.
    if (principal && (principal.userId !== c.user_id || principal.sessionId !== c.session_id)) {
      got = `ok for user ${JSON.stringify(principal.userId)}, session ${JSON.stringify(principal.sessionId)}`
    }
    differences.push(...difference('tokens', c, c.expect, got))
    run++
  }
  assert.ok(run >= 40)
  agree(t, 'tokens', differences, run, doc)
})

/**
 * The hash imported into a fresh instance and logged in with: the row's
 * failure code if the import refuses it, else the login's verdict. The
 * corpus's `config` adds what logging in needs (a signing key).
 */
async function throughAnAccount(doc, c) {
  const dw = await open(doc, doc.config)
  const row = { email: 'vector@example.com', username: 'vector', passwordHash: c.hash }
  const [report, got] = await attempt(() => dw.users.importUsers([row]))
  if (!report) return `importUsers rejected with ${got}`
  if (report.failed.length > 0) return report.failed[0].code
  return (await attempt(() => dw.login('vector', c.password)))[1]
}

test('passwords', async (t) => {
  const doc = corpus('passwords')
  // Any parameters do: they decide only whether a match asks for a rehash.
  const hasher = new PasswordHasher({ memoryKib: 64, iterations: 1, parallelism: 1, concurrency: 1 })
  const differences = []
  let run = 0
  for (const c of doc.cases) {
    let [matched, got] = await attempt(() => hasher.verify(c.password, c.hash))
    if (matched !== undefined) got = matched ? 'true' : 'false'
    differences.push(...difference('passwords', c, c.expect, got))
    differences.push(...difference('passwords', c, c.login, await throughAnAccount(doc, c), ' (login)'))
    run++
  }
  agree(t, 'passwords', differences, run, doc)
})

test('permissions', async (t) => {
  const doc = corpus('permissions')
  const dw = await open(doc, {})
  for (const role of doc.roles) await dw.roles.create(role.name, role.permissions, '')
  const ids = {}
  for (const user of doc.users) {
    const name = user.username
    const created = await dw.users.create(name, `${name}@example.com`, 'correct horse battery staple')
    for (const role of user.roles) await dw.roles.grant(created.id, role)
    ids[name] = created.id
  }
  const differences = []
  let run = 0
  for (const c of doc.cases) {
    let [allowed, got] = await attempt(() => dw.can(ids[c.user], c.permission))
    if (allowed !== undefined) got = allowed ? 'true' : 'false'
    differences.push(...difference('permissions', c, c.expect, got))
    run++
  }
  assert.equal(run, 500)
  agree(t, 'permissions', differences, run, doc)
})

test('validation', async (t) => {
  const doc = corpus('validation')
  const differences = []
  let run = 0
  for (const c of doc.cases) {
    // A fresh instance each, so one case's account cannot collide with
    // another's; the corpus's `config` adds a signing key.
    const dw = await open(doc, doc.config)
    const [, got] = await attempt(() => dw.registerUser(c.username, c.email, c.password))
    differences.push(...difference('validation', c, c.expect, got))
    run++
  }
  agree(t, 'validation', differences, run, doc)
})

test('config', async (t) => {
  const doc = corpus('config')
  const differences = []
  let run = 0
  // All of them, "typed": false included: a plain object can say anything.
  for (const c of doc.cases) {
    const [, got] = await attempt(() => open(doc, c.config))
    differences.push(...difference('config', c, c.expect, got))
    run++
  }
  agree(t, 'config', differences, run, doc)
})

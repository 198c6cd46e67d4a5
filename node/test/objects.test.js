'use strict'
// The result objects: dates are Dates; token pairs (alone and inside a
// Registration) keep their tokens out of JSON.stringify and util.inspect,
// users keep their email out of util.inspect, while every property stays
// readable; tokenResponse gives the OAuth 2.0 body.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const util = require('node:util')

const { tokenResponse } = require('../index.js')
const { PASSWORD, open, register } = require('./helpers.js')

/** Every way a host might log a value. */
function renderings(value) {
  return {
    'JSON.stringify': JSON.stringify(value),
    'JSON.stringify (indented)': JSON.stringify(value, null, 2),
    'util.inspect': util.inspect(value),
    'util.inspect (depth Infinity)': util.inspect(value, { depth: Infinity, showHidden: false }),
    'util.format %o': util.format('%o', value),
    'util.format %j': util.format('%j', value),
    'template via String(JSON)': `${JSON.stringify({ nested: { value } })}`,
  }
}

function assertHidden(value, secrets, what) {
  for (const [how, text] of Object.entries(renderings(value))) {
    for (const secret of secrets) {
      assert.ok(!text.includes(secret), `${how} of ${what} shows a secret: ${text}`)
    }
  }
}

test('dates are Date instances', async () => {
  const dw = await open({ lockoutThreshold: 1, rateLimitLoginAccount: 'off' })
  const reg = await register(dw)
  await dw.login('john', PASSWORD)
  const principal = await dw.verifyToken(reg.tokens.accessToken)
  const pair = await dw.login('john', PASSWORD)
  await dw.refreshToken(pair.refreshToken)
  const user = await dw.users.get(reg.user.id)
  const [session] = await dw.sessions.list(reg.user.id)
  const [role] = await dw.roles.list()
  for (const [what, date] of Object.entries({
    'user.createdAt': user.createdAt,
    'user.updatedAt': user.updatedAt,
    'user.lastLoginAt': user.lastLoginAt,
    'principal.expiresAt': principal.expiresAt,
    'principal.authTime': principal.authTime,
    'session.createdAt': session.createdAt,
    'session.expiresAt': session.expiresAt,
    'session.lastRefreshedAt': session.lastRefreshedAt,
    'role.createdAt': role.createdAt,
    'registration user.createdAt': reg.user.createdAt,
  })) {
    assert.ok(date instanceof Date, `${what} is a Date, not ${util.inspect(date)}`)
    assert.ok(!Number.isNaN(date.getTime()), `${what} is a valid date`)
  }
  assert.ok(Math.abs(user.createdAt.getTime() - Date.now()) < 60_000, 'createdAt is now, in milliseconds')
  await dw.login('john', 'not the password')
    .catch(() => {})
  const locked = await dw.users.get(reg.user.id)
  assert.ok(locked.lockedUntil instanceof Date, 'lockedUntil is a Date')
  // Absent optional dates are undefined, not null or epoch.
  const fresh = await dw.users.create('ann', 'ann@example.com', PASSWORD)
  assert.equal(fresh.lastLoginAt, undefined)
  assert.equal(fresh.lockedUntil, undefined)
})

test('a TokenPair keeps its tokens out of JSON and util.inspect, yet readable', async () => {
  const dw = await open()
  await register(dw)
  const pair = await dw.login('john', PASSWORD)
  assert.equal(pair.mfaRequired, false, 'no second factor: a TokenPair')
  const { accessToken, refreshToken } = pair
  assert.equal(typeof accessToken, 'string')
  assert.ok(accessToken.split('.').length === 3, 'the access token is a JWS')
  assert.equal(typeof refreshToken, 'string')
  assert.ok(refreshToken.length >= 32)
  assertHidden(pair, [accessToken, refreshToken], 'a TokenPair')
  assert.deepEqual(JSON.parse(JSON.stringify(pair)), { tokenType: 'Bearer', expiresIn: 900, mfaRequired: false })
  const shown = util.inspect(pair)
  assert.match(shown, /^TokenPair /)
  assert.match(shown, /\[hidden\]/)
  assert.match(shown, /expiresIn: 900/)
  // Spreads and Object.keys leave them out too; the properties still work.
  assert.deepEqual(Object.keys(pair).sort(), ['expiresIn', 'mfaRequired', 'tokenType'])
  assert.equal({ ...pair }.accessToken, undefined)
  assert.equal(pair.accessToken, accessToken)
  assert.equal((await dw.verifyToken(pair.accessToken)).username, 'john')
  // Refreshed pairs are hardened the same way, and are TokenPairs too.
  const next = await dw.refreshToken(refreshToken)
  assert.equal(next.mfaRequired, false)
  assertHidden(next, [next.accessToken, next.refreshToken], 'a refreshed TokenPair')
  const issued = await dw.issueTokens((await dw.users.getByUsername('john')).id)
  assertHidden(issued, [issued.accessToken, issued.refreshToken], 'an issued TokenPair')
})

test('a Registration shows neither token, nor the email in util.inspect', async () => {
  const dw = await open()
  const reg = await dw.registerUser('john', 'john.secret.address@example.com', PASSWORD)
  const { accessToken, refreshToken } = reg.tokens
  assertHidden(reg, [accessToken, refreshToken], 'a Registration')
  assert.ok(!util.inspect(reg).includes('john.secret.address'), util.inspect(reg))
  assert.ok(!util.inspect(reg, { depth: Infinity }).includes('john.secret.address'))
  const json = JSON.parse(JSON.stringify(reg))
  assert.deepEqual(json.tokens, { tokenType: 'Bearer', expiresIn: 900, mfaRequired: false })
  assert.equal(json.user.username, 'john')
  assert.equal(reg.tokens.accessToken, accessToken)
})

test('a User keeps its email out of util.inspect, yet readable', async () => {
  const dw = await open()
  const reg = await dw.registerUser('john', 'private.mailbox@example.com', PASSWORD)
  const secret = 'private.mailbox'
  for (const user of [
    reg.user,
    await dw.users.get(reg.user.id),
    await dw.users.getByEmail('private.mailbox@example.com'),
    await dw.users.getByUsername('john'),
    await dw.users.update(reg.user.id, { username: 'johnny' }),
    ...(await dw.users.list()).items,
  ]) {
    for (const text of [util.inspect(user), util.inspect({ user }, { depth: Infinity }), util.format('%o', user), util.format('%O', user)]) {
      assert.ok(!text.includes(secret), `the email shows: ${text}`)
    }
    assert.match(util.inspect(user), /^User /)
    assert.match(util.inspect(user), /email: '\[hidden\]'/)
    assert.equal(user.email, 'private.mailbox@example.com', 'the property is readable')
    assert.ok(Object.keys(user).includes('email'), 'and enumerable (JSON responses may carry it on purpose)')
  }
  const page = await dw.users.list()
  assert.ok(!util.inspect(page, { depth: Infinity }).includes(secret))
})

test('users.create hides the email as the other User results do', async () => {
  const dw = await open()
  const user = await dw.users.create('ann', 'ann.private.box@example.com', PASSWORD)
  for (const text of [util.inspect(user), util.inspect([user], { depth: Infinity }), util.format('%o', user)]) {
    assert.ok(!text.includes('ann.private.box'), `the email shows: ${text}`)
  }
  assert.match(util.inspect(user), /^User /)
  assert.equal(user.email, 'ann.private.box@example.com', 'the property is readable')
})

test('tokenResponse(pair) is the OAuth 2.0 token response body (RFC 6749 §5.1)', async () => {
  const dw = await open({ accessTtl: 600 })
  const { tokens } = await register(dw)
  const body = tokenResponse(tokens)
  assert.deepEqual(body, {
    access_token: tokens.accessToken,
    refresh_token: tokens.refreshToken,
    token_type: 'Bearer',
    expires_in: 600,
  })
  // The body is a plain object: meant to be sent, so JSON carries the tokens.
  assert.equal(JSON.parse(JSON.stringify(body)).access_token, tokens.accessToken)
})

test('an open Doorward shows no password of its URLs, nor does a failed open', async () => {
  // Redis connects lazily: an unreachable one opens, password and all.
  const dw = await open({ redisUrl: 'redis://:redis-password-123@127.0.0.1:9/0', redisTimeoutMs: 100 })
  assertHidden(dw, ['redis-password-123'], 'a Doorward')
  assert.ok(!util.inspect(dw, { showHidden: true, depth: Infinity }).includes('redis-password-123'))
  // A PostgreSQL server that is not there: the error does not repeat the URL.
  let failed
  try {
    await open({ databaseUrl: 'postgres://app:db-password-123@127.0.0.1:9/app', databaseAcquireTimeout: 1 })
  } catch (err) {
    failed = err
  }
  assert.ok(failed, 'opening an unreachable PostgreSQL fails')
  for (const text of [String(failed), failed.stack, util.inspect(failed)]) {
    assert.ok(!text.includes('db-password-123'), text)
  }
})

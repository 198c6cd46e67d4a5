'use strict'
// Every backend through the configuration alone: memory://, a SQLite file,
// PostgreSQL (a fresh schema per test) and PostgreSQL + Redis (a prefix per
// test); two instances sharing PostgreSQL and Redis. The service cases skip
// when a service is unreachable, and fail under DOORWARD_REQUIRE_SERVICES=1.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')

const { PASSWORD, eventually, open, postgresUrl, redisConfig, redisKeys, rejectsWith, tempDir, withPostgres } = require('./helpers.js')

const CLIENT = { ip: '203.0.113.9', userAgent: 'flow/1.0' }

/** Register, login, verify, RBAC, refresh, reuse detection, logout, users. */
async function representativeFlow(dw, backend) {
  assert.equal(dw.backend, backend)
  const reg = await dw.registerUser('john', 'john@example.com', PASSWORD, CLIENT)
  await rejectsWith(dw.registerUser('other', 'JOHN@example.com', PASSWORD), 'duplicate_email')
  await rejectsWith(dw.registerUser('JOHN', 'other@example.com', PASSWORD), 'duplicate_username')
  await rejectsWith(dw.login('john', 'not the password'), 'invalid_credentials')
  const pair = await dw.login('John', PASSWORD, CLIENT)
  const principal = await dw.verifyToken(pair.accessToken)
  assert.deepEqual([principal.userId, principal.username], [reg.user.id, 'john'])
  const sessions = await dw.sessions.list(reg.user.id)
  assert.equal(sessions.length, 2)
  assert.deepEqual(new Set(sessions.map((s) => `${s.ip} ${s.userAgent}`)), new Set([`${CLIENT.ip} ${CLIENT.userAgent}`]))

  // RBAC
  const uid = reg.user.id
  assert.equal(await dw.can(uid, 'users:read'), true)
  await rejectsWith(dw.require(uid, 'users:write'), 'forbidden')
  assert.equal(await dw.roles.grant(uid, 'moderator'), true)
  await dw.require(uid, 'users:write')
  await dw.roles.create('editor', ['posts:*'], 'Writes posts')
  await dw.roles.grant(uid, 'editor')
  assert.equal(await dw.can(uid, 'posts:publish'), true)
  assert.deepEqual((await dw.roles.ofUser(uid)).sort(), ['editor', 'moderator', 'user'])
  assert.equal(await dw.roles.revoke(uid, 'moderator'), true)
  assert.equal(await dw.can(uid, 'users:write'), false)
  await dw.roles.delete('editor')
  assert.equal(await dw.can(uid, 'posts:publish'), false)

  // Refresh, then reuse detection revokes the family.
  const newer = await dw.refreshToken(pair.refreshToken)
  assert.equal((await dw.verifyToken(newer.accessToken)).sessionId, principal.sessionId)
  await rejectsWith(dw.refreshToken(pair.refreshToken), 'token_reused')
  await rejectsWith(dw.verifyToken(newer.accessToken), 'token_revoked')
  await rejectsWith(dw.refreshToken(newer.refreshToken), 'token_revoked')

  // Logout ends only its own session.
  await dw.verifyToken(reg.tokens.accessToken)
  await dw.logout(reg.tokens.accessToken)
  await rejectsWith(dw.verifyToken(reg.tokens.accessToken), 'token_revoked')
  assert.deepEqual(await dw.sessions.list(uid), [])

  // Users: paging, lookups, lockout state, deletion.
  for (let i = 0; i < 4; i++) await dw.users.create(`user${i}`, `user${i}@example.com`, PASSWORD)
  const first = await dw.users.list(undefined, 3)
  const rest = await dw.users.list(first.nextCursor, 3)
  assert.deepEqual(
    [...first.items, ...rest.items].map((u) => u.username),
    ['john', 'user0', 'user1', 'user2', 'user3'],
  )
  assert.equal(rest.nextCursor, undefined)
  assert.deepEqual(await dw.users.getByEmail('JOHN@example.com'), await dw.users.get(uid))
  await dw.users.delete(uid)
  await rejectsWith(dw.users.get(uid), 'not_found')
}

test('representative flow on memory://', async () => {
  await representativeFlow(await open({ databaseUrl: 'memory://' }), 'memory')
})

test('representative flow on a SQLite file', async (t) => {
  const url = `sqlite://${path.join(tempDir(t), 'auth.db')}`
  await representativeFlow(await open({ databaseUrl: url }), 'sqlite')
})

test('a SQLite file persists across instances', async (t) => {
  const url = `sqlite://${path.join(tempDir(t), 'auth.db')}`
  const reg = await (await open({ databaseUrl: url })).registerUser('john', 'john@example.com', PASSWORD)
  const reopened = await open({ databaseUrl: url })
  assert.equal((await reopened.users.get(reg.user.id)).username, 'john')
  assert.equal((await reopened.verifyToken(reg.tokens.accessToken)).userId, reg.user.id)
})

test('representative flow on PostgreSQL', async (t) => {
  const url = await postgresUrl(t)
  if (!url) return
  await representativeFlow(await open({ databaseUrl: url }), 'postgres')
})

test('representative flow on PostgreSQL + Redis', async (t) => {
  const url = await postgresUrl(t)
  if (!url) return
  const redis = await redisConfig(t)
  if (!redis) return
  const dw = await open({ databaseUrl: url, ...redis })
  await representativeFlow(dw, 'postgres')
  // Sessions really live in Redis, under this test's prefix.
  await dw.registerUser('ann', 'ann@example.com', PASSWORD)
  const keys = await redisKeys(redis.redisPrefix)
  assert.ok(keys.length > 0, `no Redis key under ${redis.redisPrefix}`)
})

test('PostgreSQL: each test has its own fresh schema', async (t) => {
  const url = await postgresUrl(t)
  if (!url) return
  const schema = /search_path%3D([a-z0-9_]+)/.exec(url)[1]
  assert.match(schema, /^dw_node_\d{10}_[0-9a-f]{16}$/)
  const dw = await open({ databaseUrl: url })
  assert.deepEqual((await dw.users.list()).items, [], 'a fresh, empty schema')
  const user = await dw.users.create('john', 'john@example.com', PASSWORD)
  assert.deepEqual(await (await open({ databaseUrl: url })).users.get(user.id), user)
  const tables = await withPostgres((c) =>
    c.query('SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = $1', [schema]),
  )
  assert.ok(tables.rows[0].n > 0, 'the migrations created their tables in the test schema')
})

test('two instances sharing PostgreSQL and Redis: a logout on one is refused on the other at once', async (t) => {
  const url = await postgresUrl(t)
  if (!url) return
  const redis = await redisConfig(t)
  if (!redis) return
  const a = await open({ databaseUrl: url, ...redis })
  const b = await open({ databaseUrl: url, ...redis })
  const reg = await a.registerUser('ann', 'ann@example.com', PASSWORD)
  const onB = await b.login('ann', PASSWORD)
  // Each accepts the other's sessions.
  assert.equal((await b.verifyToken(reg.tokens.accessToken)).userId, reg.user.id)
  assert.equal((await a.verifyToken(onB.accessToken)).userId, reg.user.id)
  // A logout on A is refused on B with no waiting.
  await a.logout(reg.tokens.accessToken)
  await rejectsWith(b.verifyToken(reg.tokens.accessToken), 'token_revoked')
  // ...and a revocation on B is refused on A.
  const sid = (await a.verifyToken(onB.accessToken)).sessionId
  await b.sessions.revoke(sid)
  await rejectsWith(a.verifyToken(onB.accessToken), 'token_revoked')
  // Grants made on one reach the other's cached permissions as soon as the
  // invalidation message arrives (Redis pub/sub, so not in the same tick).
  assert.equal(await b.can(reg.user.id, 'users:write'), false)
  await a.roles.grant(reg.user.id, 'moderator')
  await eventually(() => b.can(reg.user.id, 'users:write'))
  // Disabling on B ends A's view of every session.
  const again = await a.login('ann', PASSWORD)
  await b.users.disable(reg.user.id)
  await rejectsWith(a.verifyToken(again.accessToken), 'token_revoked')
  await rejectsWith(a.login('ann', PASSWORD), 'user_disabled')
})

test('two instances sharing PostgreSQL and Redis share rate limits', async (t) => {
  const url = await postgresUrl(t)
  if (!url) return
  const redis = await redisConfig(t)
  if (!redis) return
  const a = await open({ databaseUrl: url, ...redis })
  const b = await open({ databaseUrl: url, ...redis })
  assert.equal((await a.limits.limit('export:ann', '2/1m')).remaining, 1)
  assert.equal((await b.limits.limit('export:ann', '2/1m')).remaining, 0)
  const onA = await rejectsWith(a.limits.limit('export:ann', '2/1m'), 'rate_limited')
  const onB = await rejectsWith(b.limits.limit('export:ann', '2/1m'), 'rate_limited')
  assert.ok(onA.retryAfter > 0 && onB.retryAfter > 0)
})

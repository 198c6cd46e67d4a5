'use strict'
// Every method of the package, on the in-memory store with cheap hashing:
// opening (object and TOML file), the authentication operations, and the
// sub-APIs users, roles, sessions and limits, and PasswordHasher.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')

const { Doorward, PasswordHasher, Users, Roles, Sessions, Limits } = require('../index.js')
const { CHEAP, KEYS, PASSWORD, SECRET, decodeJwt, open, register, rejectsWith, tempDir } = require('./helpers.js')

const CLIENT = { ip: '203.0.113.7', userAgent: 'api-test/1.0' }

test('Doorward.open with an object of camelCase keys', async () => {
  const dw = await Doorward.open({ ...CHEAP, accessTtl: 600, jwtIssuer: 'api-test', jwtAudience: 'api-test' })
  assert.ok(dw instanceof Doorward)
  assert.equal(dw.backend, 'memory')
  const reg = await register(dw)
  assert.equal(reg.tokens.expiresIn, 600)
  const { claims } = decodeJwt(reg.tokens.accessToken)
  assert.equal(claims.iss, 'api-test')
  assert.equal(claims.aud, 'api-test')
  // Numbers may be given as strings, as from the environment.
  const fromText = await Doorward.open({ ...CHEAP, accessTtl: '120', argon2MemoryKib: '64' })
  assert.equal((await register(fromText)).tokens.expiresIn, 120)
})

test('Doorward.open with a TOML file path', async (t) => {
  const dir = tempDir(t)
  const file = path.join(dir, 'doorward.toml')
  const db = path.join(dir, 'auth.db')
  fs.writeFileSync(
    file,
    [
      `database_url = "sqlite://${db}"`,
      `jwt_secret = "${SECRET}"`,
      'access_ttl = 300',
      'argon2_memory_kib = 64',
      'argon2_iterations = 1',
      '',
    ].join('\n'),
  )
  const dw = await Doorward.open(file)
  assert.equal(dw.backend, 'sqlite')
  const reg = await register(dw)
  assert.equal(reg.tokens.expiresIn, 300)
  assert.ok(fs.existsSync(db), 'the SQLite file named in the TOML file was created')
})

test('registerUser returns the user and a first session', async () => {
  const dw = await open()
  const reg = await dw.registerUser('John', 'john@EXAMPLE.com', PASSWORD, CLIENT)
  const { user, tokens } = reg
  assert.match(user.id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/, 'a UUIDv7')
  assert.equal(user.username, 'John')
  assert.equal(user.email, 'john@example.com', 'the domain is lowercased')
  assert.equal(user.disabled, false)
  assert.equal(user.failedLogins, 0)
  assert.ok(user.createdAt instanceof Date)
  assert.equal(tokens.tokenType, 'Bearer')
  assert.equal(tokens.expiresIn, 900)
  assert.equal(typeof tokens.accessToken, 'string')
  assert.equal(typeof tokens.refreshToken, 'string')
  const sessions = await dw.sessions.list(user.id)
  assert.equal(sessions.length, 1)
  assert.equal(sessions[0].ip, CLIENT.ip)
  assert.equal(sessions[0].userAgent, CLIENT.userAgent)
  assert.deepEqual(await dw.roles.ofUser(user.id), ['user'])
})

test('login by username or email, with ClientInfo kept in sessions.list', async () => {
  const dw = await open()
  const reg = await register(dw)
  const byName = await dw.login('  JOHN ', PASSWORD, CLIENT)
  const byEmail = await dw.login('John@Example.com', PASSWORD, { ip: '198.51.100.1' })
  const bare = await dw.login('john', PASSWORD)
  for (const pair of [byName, byEmail, bare]) {
    // No second factor enrolled: the tokens themselves (mfa.test.js has the challenge).
    assert.equal(pair.mfaRequired, false)
    assert.equal(pair.tokenType, 'Bearer')
    assert.equal((await dw.verifyToken(pair.accessToken)).userId, reg.user.id)
  }
  const sessions = await dw.sessions.list(reg.user.id)
  assert.equal(sessions.length, 4)
  const sid = async (pair) => (await dw.verifyToken(pair.accessToken)).sessionId
  const byId = new Map(sessions.map((s) => [s.id, s]))
  assert.deepEqual(
    { ip: byId.get(await sid(byName)).ip, userAgent: byId.get(await sid(byName)).userAgent },
    CLIENT,
  )
  assert.equal(byId.get(await sid(byEmail)).ip, '198.51.100.1')
  assert.equal(byId.get(await sid(byEmail)).userAgent, undefined)
  assert.equal(byId.get(await sid(bare)).ip, undefined)
  const user = await dw.users.get(reg.user.id)
  assert.ok(user.lastLoginAt instanceof Date, 'lastLoginAt is set by a login')
})

test('verifyToken says whom a token speaks for', async () => {
  const dw = await open()
  const reg = await register(dw)
  const principal = await dw.verifyToken(reg.tokens.accessToken)
  assert.equal(principal.userId, reg.user.id)
  assert.equal(principal.username, 'john')
  assert.deepEqual(principal.roles, ['user'])
  assert.ok(principal.expiresAt instanceof Date)
  const left = principal.expiresAt.getTime() - Date.now()
  assert.ok(left > 800_000 && left <= 901_000, `expires in about 900 s, not ${left} ms`)
  const [session] = await dw.sessions.list(reg.user.id)
  assert.equal(principal.sessionId, session.id)
  // How the session was authenticated: a password alone (level 1), now.
  assert.deepEqual(principal.amr, ['pwd'])
  assert.equal(principal.aal, 1)
  assert.ok(principal.authTime instanceof Date)
  assert.ok(Math.abs(principal.authTime.getTime() - Date.now()) < 60_000, 'authenticated just now')
  // Tokens an administrator issues prove nothing: no method, level 1.
  const issued = await dw.verifyToken((await dw.issueTokens(reg.user.id)).accessToken)
  assert.deepEqual([issued.amr, issued.aal], [[], 1])
})

test('refreshToken rotates within the same session', async () => {
  const dw = await open()
  const reg = await register(dw)
  const first = await dw.verifyToken(reg.tokens.accessToken)
  const next = await dw.refreshToken(reg.tokens.refreshToken)
  assert.notEqual(next.refreshToken, reg.tokens.refreshToken)
  assert.notEqual(next.accessToken, reg.tokens.accessToken)
  const again = await dw.verifyToken(next.accessToken)
  assert.equal(again.sessionId, first.sessionId)
  const third = await dw.refreshToken(next.refreshToken)
  assert.equal((await dw.verifyToken(third.accessToken)).sessionId, first.sessionId)
  const [session] = await dw.sessions.list(reg.user.id)
  assert.ok(session.lastRefreshedAt instanceof Date)
  await rejectsWith(dw.refreshToken(reg.tokens.refreshToken), 'token_reused')
})

test('logout ends its own session only, and twice is no error', async () => {
  const dw = await open()
  const reg = await register(dw)
  const other = await dw.login('john', PASSWORD)
  await dw.logout(reg.tokens.accessToken)
  await rejectsWith(dw.verifyToken(reg.tokens.accessToken), 'token_revoked')
  await rejectsWith(dw.refreshToken(reg.tokens.refreshToken), 'token_revoked')
  assert.equal((await dw.verifyToken(other.accessToken)).userId, reg.user.id)
  assert.equal(await dw.logout(reg.tokens.accessToken), undefined)
  assert.equal((await dw.sessions.list(reg.user.id)).length, 1)
})

test('can and require, with wildcards and current grants', async () => {
  const dw = await open()
  const { user } = await register(dw)
  assert.equal(await dw.can(user.id, 'users:read'), true)
  assert.equal(await dw.can(user.id, 'users:write'), false)
  assert.equal(await dw.require(user.id, 'users:read'), undefined)
  await rejectsWith(dw.require(user.id, 'users:write'), 'forbidden')
  await dw.roles.grant(user.id, 'admin')
  assert.equal(await dw.can(user.id, 'admin:*'), true)
  assert.equal(await dw.can(user.id, 'billing:refund'), true, '`*` grants everything')
  await dw.require(user.id, 'users:write')
  assert.equal(await dw.can('no-such-user', 'users:read'), false, 'an unknown user holds nothing')
})

test('issueTokens starts a session without a password', async () => {
  const dw = await open()
  const user = await dw.users.create('ann', 'ann@example.com', PASSWORD)
  assert.deepEqual(await dw.sessions.list(user.id), [], 'users.create does not log in')
  const pair = await dw.issueTokens(user.id, { userAgent: 'magic-link' })
  assert.equal(pair.tokenType, 'Bearer')
  const principal = await dw.verifyToken(pair.accessToken)
  assert.equal(principal.userId, user.id)
  const [session] = await dw.sessions.list(user.id)
  assert.equal(session.userAgent, 'magic-link')
  assert.ok((await dw.issueTokens(user.id)).accessToken)
  await rejectsWith(dw.issueTokens('no-such-user'), 'not_found')
})

test('jwks: empty for HS256, the public key for EdDSA', async () => {
  const hs = await open()
  assert.deepEqual(hs.jwks(), { keys: [] })
  const ed = await open({
    jwtSecret: undefined,
    jwtAlgorithm: 'EdDSA',
    jwtPrivateKey: fs.readFileSync(path.join(KEYS, 'ed25519.pem'), 'utf8'),
    jwtPublicKey: path.join(KEYS, 'ed25519.pub.pem'), // a path works too
  })
  const { keys } = ed.jwks()
  assert.equal(keys.length, 1)
  assert.equal(keys[0].kty, 'OKP')
  assert.equal(keys[0].crv, 'Ed25519')
  assert.equal(typeof keys[0].x, 'string')
  assert.equal(keys[0].d, undefined, 'never the private part')
  const reg = await register(ed)
  const { header } = decodeJwt(reg.tokens.accessToken)
  assert.equal(header.alg, 'EdDSA')
  assert.equal(header.typ, 'at+jwt')
  assert.equal(header.kid, keys[0].kid)
  assert.equal((await ed.verifyToken(reg.tokens.accessToken)).userId, reg.user.id)
})

test('verifyToken with public keys: the thread-pool road (statelessVerify) and the runtime road agree', async () => {
  const keyed = {
    jwtSecret: undefined,
    jwtAlgorithm: 'EdDSA',
    jwtPrivateKey: fs.readFileSync(path.join(KEYS, 'ed25519.pem'), 'utf8'),
    jwtPublicKey: path.join(KEYS, 'ed25519.pub.pem'),
  }
  const pooled = await open({ ...keyed, statelessVerify: true })
  const reg = await register(pooled)
  const token = reg.tokens.accessToken
  const principal = await pooled.verifyToken(token)
  assert.equal(principal.userId, reg.user.id)
  assert.ok(principal.expiresAt instanceof Date)
  assert.deepEqual(principal, pooled.verifyTokenSync(token))
  // Many in flight at once, as a server has them.
  const all = await Promise.all(Array.from({ length: 32 }, () => pooled.verifyToken(token)))
  assert.ok(all.every((p) => p.userId === reg.user.id))
  // A failure rejects with the typed error, not a raw addon error.
  const [head, payload, signature] = token.split('.')
  const forged = `${head}.${payload}.${signature.slice(0, -4)}AAAA`
  await rejectsWith(pooled.verifyToken(forged), 'token_invalid')
  await rejectsWith(pooled.verifyToken('not a token'), 'token_invalid')
  // One turn's calls go out in batches (lib/pooled.ts): 200 at once, two
  // users' tokens, forgeries, garbage and a non-string among them, and each
  // call gets its own answer, whichever batch it went in.
  const jane = await register(pooled, 'jane')
  const cases = Array.from({ length: 200 }, (_, i) =>
    [
      [token, reg.user.id],
      [jane.tokens.accessToken, jane.user.id],
      [forged, 'token_invalid'],
      [`${i}.x.y`, 'token_invalid'],
    ][i % 4],
  )
  const settled = await Promise.allSettled(cases.map(([t]) => pooled.verifyToken(t)))
  settled.forEach((outcome, i) => {
    const expected = cases[i][1]
    if (expected === 'token_invalid') {
      assert.equal(outcome.status, 'rejected', `call ${i}`)
      assert.equal(outcome.reason.code, 'token_invalid', `call ${i}`)
      assert.equal(outcome.reason.name, 'DoorwardError', `call ${i}`)
    } else {
      assert.equal(outcome.status, 'fulfilled', `call ${i}`)
      assert.equal(outcome.value.userId, expected, `call ${i}`)
    }
  })
  // A non-string in the same turn fails its own call with the TypeError
  // Node's APIs throw, and only its own.
  const [wrong, right] = await Promise.allSettled([pooled.verifyToken(42), pooled.verifyToken(token)])
  assert.equal(wrong.status, 'rejected')
  assert.ok(wrong.reason instanceof TypeError)
  assert.equal(right.status, 'fulfilled')
  // Stateful: the runtime road, which looks the session up.
  const stateful = await open(keyed)
  const own = await register(stateful)
  assert.equal((await stateful.verifyToken(own.tokens.accessToken)).userId, own.user.id)
  await stateful.logout(own.tokens.accessToken)
  await rejectsWith(stateful.verifyToken(own.tokens.accessToken), 'token_revoked')
})

test('backend names the store', async (t) => {
  assert.equal((await open()).backend, 'memory')
  assert.equal((await open({ databaseUrl: 'sqlite::memory:' })).backend, 'sqlite')
  const file = path.join(tempDir(t), 'a.db')
  assert.equal((await open({ databaseUrl: `sqlite://${file}` })).backend, 'sqlite')
})

test('the sub-APIs are instances of the exported classes', async () => {
  const dw = await open()
  assert.ok(dw.users instanceof Users)
  assert.ok(dw.roles instanceof Roles)
  assert.ok(dw.sessions instanceof Sessions)
  assert.ok(dw.limits instanceof Limits)
})

test('users: create, get, getByEmail, getByUsername', async () => {
  const dw = await open()
  const user = await dw.users.create('Zoe.K', 'Zoe@Example.COM', PASSWORD)
  assert.equal(user.username, 'Zoe.K')
  assert.deepEqual(await dw.users.get(user.id), user)
  assert.deepEqual(await dw.users.getByEmail('ZOE@example.com'), user)
  assert.deepEqual(await dw.users.getByUsername('ZOE.k'), user)
  await rejectsWith(dw.users.get('no-such-user'), 'not_found')
  await rejectsWith(dw.users.getByEmail('nobody@example.com'), 'not_found')
  await rejectsWith(dw.users.getByUsername('nobody'), 'not_found')
})

test('users.list pages with a cursor, in creation order', async () => {
  const dw = await open()
  const names = ['ann', 'bob', 'cyd', 'dee', 'eve']
  for (const name of names) await dw.users.create(name, `${name}@example.com`, PASSWORD)
  const seen = []
  let cursor
  let pages = 0
  do {
    const page = await dw.users.list(cursor, 2)
    assert.ok(Array.isArray(page.items))
    assert.ok(page.items.length <= 2)
    seen.push(...page.items.map((u) => u.username))
    cursor = page.nextCursor
    pages += 1
    if (cursor !== undefined) assert.equal(typeof cursor, 'string')
  } while (cursor)
  assert.deepEqual(seen, names)
  assert.equal(pages, 3)
  const all = await dw.users.list()
  assert.deepEqual(
    all.items.map((u) => u.username),
    names,
    'default limit (50) holds them all',
  )
  assert.equal(all.nextCursor, undefined)
  assert.equal((await dw.users.list(null, 500)).items.length, 5)
})

test('users.update changes username and email, validated and unique', async () => {
  const dw = await open()
  const { user } = await register(dw)
  await dw.users.create('ann', 'ann@example.com', PASSWORD)
  const renamed = await dw.users.update(user.id, { username: 'johnny' })
  assert.equal(renamed.username, 'johnny')
  assert.equal(renamed.email, 'john@example.com')
  assert.ok(renamed.updatedAt >= user.updatedAt)
  const moved = await dw.users.update(user.id, { email: 'johnny@example.org' })
  assert.equal(moved.username, 'johnny')
  assert.equal((await dw.users.getByEmail('johnny@example.org')).id, user.id)
  await rejectsWith(dw.users.getByEmail('john@example.com'), 'not_found')
  await rejectsWith(dw.users.update(user.id, { email: 'ANN@example.com' }), 'duplicate_email')
  await rejectsWith(dw.users.update(user.id, { username: 'Ann' }), 'duplicate_username')
  const invalid = await rejectsWith(dw.users.update(user.id, { email: 'nope' }), 'validation_error')
  assert.equal(invalid.field, 'email')
  await rejectsWith(dw.users.update('no-such-user', { username: 'x1' }), 'not_found')
  assert.equal((await dw.login('johnny', PASSWORD)).tokenType, 'Bearer')
})

test('users.changePassword proves the old one and keeps only the caller', async () => {
  const dw = await open()
  const reg = await register(dw)
  const other = await dw.login('john', PASSWORD)
  const mine = await dw.verifyToken(reg.tokens.accessToken)
  await rejectsWith(dw.users.changePassword(reg.user.id, 'not the password', 'a brand new passphrase'), 'invalid_credentials')
  const weak = await rejectsWith(dw.users.changePassword(reg.user.id, PASSWORD, 'short'), 'validation_error')
  assert.equal(weak.field, 'password')
  await dw.users.changePassword(reg.user.id, PASSWORD, 'a brand new passphrase', mine.sessionId)
  assert.equal((await dw.verifyToken(reg.tokens.accessToken)).sessionId, mine.sessionId)
  await rejectsWith(dw.verifyToken(other.accessToken), 'token_revoked')
  await rejectsWith(dw.login('john', PASSWORD), 'invalid_credentials')
  await dw.login('john', 'a brand new passphrase')
  // Without keepSession every session ends.
  await dw.users.changePassword(reg.user.id, 'a brand new passphrase', 'yet another passphrase')
  assert.deepEqual(await dw.sessions.list(reg.user.id), [])
})

test('users.setPassword needs no old password and ends every session', async () => {
  const dw = await open()
  const reg = await register(dw)
  await dw.users.setPassword(reg.user.id, 'an administrator chose this')
  await rejectsWith(dw.verifyToken(reg.tokens.accessToken), 'token_revoked')
  await dw.login('john', 'an administrator chose this')
  await rejectsWith(dw.users.setPassword('no-such-user', 'an administrator chose this'), 'not_found')
})

test('users.disable and users.enable', async () => {
  const dw = await open()
  const reg = await register(dw)
  await dw.users.disable(reg.user.id)
  assert.equal((await dw.users.get(reg.user.id)).disabled, true)
  await rejectsWith(dw.verifyToken(reg.tokens.accessToken), 'token_revoked')
  await rejectsWith(dw.login('john', PASSWORD), 'user_disabled')
  assert.equal(await dw.can(reg.user.id, 'users:read'), false, 'a disabled user holds nothing')
  await dw.users.enable(reg.user.id)
  assert.equal((await dw.users.get(reg.user.id)).disabled, false)
  await dw.login('john', PASSWORD)
})

test('users.count counts every account, disabled ones too', async () => {
  const dw = await open()
  assert.equal(await dw.users.count(), 0)
  const { user } = await register(dw)
  await register(dw, 'jane')
  await dw.users.disable(user.id)
  assert.equal(await dw.users.count(), 2)
  await dw.users.delete(user.id)
  assert.equal(await dw.users.count(), 1)
})

test('users.unlock lifts a lockout and forgets failed logins', async () => {
  const dw = await open({ lockoutThreshold: 2, rateLimitLoginAccount: 'off' })
  const { user } = await register(dw)
  for (let i = 0; i < 2; i++) await rejectsWith(dw.login('john', 'not the password'), 'invalid_credentials')
  const locked = await dw.users.get(user.id)
  assert.equal(locked.failedLogins, 2)
  assert.ok(locked.lockedUntil instanceof Date && locked.lockedUntil > new Date())
  await rejectsWith(dw.login('john', PASSWORD), 'account_locked')
  assert.equal(await dw.users.unlock(user.id), true)
  const unlocked = await dw.users.get(user.id)
  assert.equal(unlocked.failedLogins, 0)
  assert.equal(unlocked.lockedUntil, undefined)
  assert.equal(await dw.users.unlock(user.id), false, 'nothing left to clear')
  await dw.login('john', PASSWORD)
})

test('users.delete removes the account with its sessions and grants', async () => {
  const dw = await open()
  const reg = await register(dw)
  await dw.roles.grant(reg.user.id, 'moderator')
  await dw.users.delete(reg.user.id)
  await rejectsWith(dw.users.get(reg.user.id), 'not_found')
  await rejectsWith(dw.verifyToken(reg.tokens.accessToken), 'token_revoked')
  await rejectsWith(dw.roles.ofUser(reg.user.id), 'not_found')
  await rejectsWith(dw.users.delete(reg.user.id), 'not_found')
  // The name and address are free again.
  await register(dw)
})

test('roles: list, get, create, delete, grant, revoke, ofUser', async () => {
  const dw = await open()
  const { user } = await register(dw)
  const builtin = await dw.roles.list()
  assert.deepEqual(
    builtin.map((r) => r.name),
    ['admin', 'moderator', 'user'],
  )
  assert.ok(builtin.every((r) => r.builtin && r.createdAt instanceof Date))
  const moderator = await dw.roles.get('moderator')
  assert.deepEqual(moderator.permissions, ['users:read', 'users:write'])
  assert.equal(typeof moderator.description, 'string')

  const editor = await dw.roles.create('editor', ['posts:*', '*:read'], 'Writes posts')
  assert.deepEqual(
    { name: editor.name, permissions: editor.permissions, description: editor.description, builtin: editor.builtin },
    { name: 'editor', permissions: ['posts:*', '*:read'], description: 'Writes posts', builtin: false },
  )
  assert.deepEqual(await dw.roles.get('editor'), editor)
  assert.equal((await dw.roles.create('viewer', [])).description, '', 'the description is optional')
  assert.deepEqual(
    (await dw.roles.list()).map((r) => r.name),
    ['admin', 'editor', 'moderator', 'user', 'viewer'],
  )

  assert.equal(await dw.roles.grant(user.id, 'editor'), true)
  assert.equal(await dw.roles.grant(user.id, 'editor'), false, 'already held')
  assert.deepEqual((await dw.roles.ofUser(user.id)).sort(), ['editor', 'user'])
  assert.equal(await dw.can(user.id, 'posts:publish'), true)
  assert.equal(await dw.can(user.id, 'billing:read'), true)
  assert.equal(await dw.roles.revoke(user.id, 'editor'), true)
  assert.equal(await dw.roles.revoke(user.id, 'editor'), false, 'no longer held')
  assert.equal(await dw.can(user.id, 'posts:publish'), false)

  await dw.roles.grant(user.id, 'editor')
  await dw.roles.delete('editor')
  await rejectsWith(dw.roles.get('editor'), 'not_found')
  assert.deepEqual(await dw.roles.ofUser(user.id), ['user'], 'deleting a role takes it from everyone')
  assert.equal(await dw.can(user.id, 'posts:publish'), false)
  const builtinDelete = await rejectsWith(dw.roles.delete('admin'), 'validation_error')
  assert.equal(builtinDelete.field, 'role')
  await rejectsWith(dw.roles.delete('editor'), 'not_found')
  await rejectsWith(dw.roles.grant(user.id, 'no-such-role'), 'not_found')
  await rejectsWith(dw.roles.revoke('no-such-user', 'user'), 'not_found')
  const badPermission = await rejectsWith(dw.roles.create('broken', ['posts']), 'validation_error')
  assert.equal(badPermission.field, 'permission')
})

test('sessions: list newest first, revoke, revokeAll', async () => {
  const dw = await open()
  const reg = await register(dw)
  const second = await dw.login('john', PASSWORD, { userAgent: 'second' })
  const third = await dw.login('john', PASSWORD, { userAgent: 'third' })
  const sessions = await dw.sessions.list(reg.user.id)
  assert.equal(sessions.length, 3)
  assert.deepEqual(
    sessions.map((s) => s.userAgent),
    ['third', 'second', undefined],
    'newest first',
  )
  for (const s of sessions) {
    assert.equal(s.userId, reg.user.id)
    assert.ok(s.createdAt instanceof Date && s.expiresAt instanceof Date)
    assert.ok(s.expiresAt > s.createdAt)
  }
  const secondSid = (await dw.verifyToken(second.accessToken)).sessionId
  assert.equal(await dw.sessions.revoke(secondSid), undefined)
  await rejectsWith(dw.verifyToken(second.accessToken), 'token_revoked')
  await rejectsWith(dw.sessions.revoke(secondSid), 'not_found')
  assert.equal((await dw.verifyToken(third.accessToken)).userId, reg.user.id)
  assert.equal(await dw.sessions.revokeAll(reg.user.id), 2)
  assert.equal(await dw.sessions.revokeAll(reg.user.id), 0)
  await rejectsWith(dw.verifyToken(third.accessToken), 'token_revoked')
  assert.deepEqual(await dw.sessions.list(reg.user.id), [])
  await rejectsWith(dw.sessions.list('no-such-user'), 'not_found')
  await rejectsWith(dw.sessions.revokeAll('no-such-user'), 'not_found')
})

test('limits.limit admits a burst, then says how long to wait', async () => {
  const dw = await open()
  const first = await dw.limits.limit('export:ann', '3/1m')
  assert.equal(first.remaining, 2)
  assert.ok(first.resetAfter > 0 && first.resetAfter <= 60, `resetAfter ${first.resetAfter}`)
  assert.equal((await dw.limits.limit('export:ann', '3/1m')).remaining, 1)
  assert.equal((await dw.limits.limit('export:ann', '3/1m')).remaining, 0)
  const err = await rejectsWith(dw.limits.limit('export:ann', '3/1m'), 'rate_limited')
  assert.ok(err.retryAfter > 0 && err.retryAfter <= 20, `one call every 20 s, retryAfter ${err.retryAfter}`)
  assert.equal((await dw.limits.limit('export:bob', '3/1m')).remaining, 2, 'keys are independent')
  const bad = await rejectsWith(dw.limits.limit('export:ann', 'lots'), 'validation_error')
  assert.equal(bad.field, 'quota')
})

test('PasswordHasher: OWASP defaults, options, hash and verify', async () => {
  const defaults = new PasswordHasher()
  const hash = await defaults.hash(PASSWORD)
  assert.match(hash, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/)
  assert.equal(await defaults.verify(PASSWORD, hash), true)
  assert.equal(await defaults.verify('not the password', hash), false)

  const cheap = new PasswordHasher({ memoryKib: 1024, iterations: 1, parallelism: 2, concurrency: 1 })
  const a = await cheap.hash(PASSWORD)
  const b = await cheap.hash(PASSWORD)
  assert.match(a, /^\$argon2id\$v=19\$m=1024,t=1,p=2\$/)
  assert.notEqual(a, b, 'a fresh salt each time')
  assert.equal(await cheap.verify(PASSWORD, b), true)
  // A hash carries its own parameters: any hasher verifies it.
  assert.equal(await defaults.verify(PASSWORD, a), true)
  assert.equal(await new PasswordHasher({ memoryKib: 64, iterations: 1 }).verify(PASSWORD, hash), true)
  await rejectsWith(cheap.verify(PASSWORD, 'not a phc string'), 'internal')
})

test('role names and amr values reach JavaScript exactly, on every road', async () => {
  // The addon joins names by spaces when it can (principal.rs, `Names`),
  // and passes the array for names it cannot join: an HS256 token minted
  // elsewhere with the same secret may carry either.
  const crypto = require('node:crypto')
  const dw = await Doorward.open({ ...CHEAP, statelessVerify: true })
  const reg = await register(dw)
  const [head] = reg.tokens.accessToken.split('.')
  const { claims } = decodeJwt(reg.tokens.accessToken)
  const sign = (extra) => {
    const body = Buffer.from(JSON.stringify({ ...claims, ...extra })).toString('base64url')
    const mac = crypto.createHmac('sha256', SECRET).update(`${head}.${body}`).digest('base64url')
    return `${head}.${body}.${mac}`
  }
  const lists = [[], ['user'], ['user', 'admin', 'a.b-c_d'], ['two words'], [''], ['user', ''], [' lead', 'trail ']]
  for (const roles of lists) {
    for (const amr of [[], ['pwd'], ['pwd', 'otp', 'mfa'], ['a  b']]) {
      const token = sign({ roles, amr })
      const sync = dw.verifyTokenSync(token)
      assert.deepEqual([sync.roles, sync.amr], [roles, amr])
      assert.deepEqual(await dw.verifyToken(token), sync)
    }
  }
})

test('verifyTokenSync and canSync answer from memory, or throw would_block', async () => {
  const { DoorwardError } = require('../index.js')
  const dw = await Doorward.open({ ...CHEAP, sessionCacheTtl: 30 })
  const reg = await register(dw)
  const token = reg.tokens.accessToken
  const throwsCode = (op, code) =>
    assert.throws(op, (e) => e instanceof DoorwardError && e.code === code, `expected ${code}`)

  // Not looked up in this process yet: only the async call may answer.
  throwsCode(() => dw.verifyTokenSync(token), 'would_block')
  assert.equal((await dw.verifyToken(token)).userId, reg.user.id)
  assert.equal(dw.verifyTokenSync(token).userId, reg.user.id)
  throwsCode(() => dw.verifyTokenSync('not.a.token'), 'token_invalid')

  throwsCode(() => dw.canSync(reg.user.id, 'users:read'), 'would_block')
  assert.equal(await dw.can(reg.user.id, 'users:read'), true)
  assert.equal(dw.canSync(reg.user.id, 'users:read'), true)
  assert.equal(dw.canSync(reg.user.id, 'users:write'), false)
  throwsCode(() => dw.canSync(reg.user.id, 'not a permission'), 'validation_error')

  // Answered from memory, the async calls still return Promises, and a
  // failure still rejects rather than throws.
  const fast = dw.verifyToken('not.a.token')
  assert.ok(fast instanceof Promise)
  await rejectsWith(fast, 'token_invalid')
  await rejectsWith(dw.require(reg.user.id, 'users:write'), 'forbidden')

  // A logout drops the cached session: the sync call no longer knows.
  await dw.logout(token)
  throwsCode(() => dw.verifyTokenSync(token), 'would_block')
  await rejectsWith(dw.verifyToken(token), 'token_revoked')

  // Stateless tokens never need I/O.
  const stateless = await Doorward.open({ ...CHEAP, statelessVerify: true })
  const other = await register(stateless, 'jane')
  assert.equal(stateless.verifyTokenSync(other.tokens.accessToken).username, 'jane')
})

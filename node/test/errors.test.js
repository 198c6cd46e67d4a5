'use strict'
// Every error code from a real failure (none constructed by hand), each a
// DoorwardError and an Error with the stable code; the codes against the
// TypeScript union, the HTTP statuses and docs/errors.md; wrong argument
// types as TypeError.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')

const doorward = require('../index.js')
const { Doorward, DoorwardError, HTTP_STATUS, PasswordHasher, errorCodes, _panicForTests } = doorward
const {
  CHEAP,
  PASSWORD,
  SECRET,
  awaitMail,
  decodeJwt,
  flowMail,
  open,
  register,
  rejectsWith,
  rejectsWithTypeError,
  signHs256,
  tempDir,
} = require('./helpers.js')

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

test('validation_error carries the field', async () => {
  const dw = await open()
  const email = await rejectsWith(dw.registerUser('john', 'not-an-email', PASSWORD), 'validation_error')
  assert.equal(email.field, 'email')
  const limit = await rejectsWith(dw.users.list(undefined, 0), 'validation_error')
  assert.equal(limit.field, 'limit')
  assert.equal((await rejectsWith(dw.users.list(undefined, 501), 'validation_error')).field, 'limit')
  assert.equal((await rejectsWith(dw.users.list(undefined, 2.5), 'validation_error')).field, 'limit')
  assert.equal((await rejectsWith(dw.registerUser('x', 'john@example.com', PASSWORD), 'validation_error')).field, 'username')
  assert.equal((await rejectsWith(dw.registerUser('john', 'john@example.com', 'short'), 'validation_error')).field, 'password')
  assert.equal((await rejectsWith(dw.users.list('not-a-cursor'), 'validation_error')).field, 'cursor')
  assert.equal((await rejectsWith(dw.login('', PASSWORD), 'validation_error')).field, 'login')
  assert.equal((await rejectsWith(dw.can('someone', 'not a permission'), 'validation_error')).field, 'permission')
  assert.equal((await rejectsWith(dw.roles.create('bad name!', []), 'validation_error')).field, 'role')
  assert.equal((await rejectsWith(dw.roles.create('dup', [], 'x'.repeat(1025)), 'validation_error')).field, 'description')
  // Nothing was written.
  assert.deepEqual((await dw.users.list()).items, [])
})

test('duplicate_email and duplicate_username', async () => {
  const dw = await open()
  await register(dw)
  const email = await rejectsWith(dw.registerUser('johnny', 'JOHN@example.com', PASSWORD), 'duplicate_email')
  assert.ok(!email.message.toLowerCase().includes('john@example.com'), 'messages hold no addresses')
  await rejectsWith(dw.users.create('JOHN', 'other@example.com', PASSWORD), 'duplicate_username')
})

test('invalid_credentials, the same for an unknown login and a wrong password', async () => {
  const dw = await open()
  await register(dw)
  const wrong = await rejectsWith(dw.login('john', 'not the password'), 'invalid_credentials')
  assert.ok(!wrong.message.includes('not the password'))
  const unknown = await rejectsWith(dw.login('nobody', PASSWORD), 'invalid_credentials')
  assert.equal(unknown.message, wrong.message, 'which one is never told')
})

test('user_disabled, only to the right password', async () => {
  const dw = await open()
  const reg = await register(dw)
  await dw.users.disable(reg.user.id)
  await rejectsWith(dw.login('john', PASSWORD), 'user_disabled')
  await rejectsWith(dw.login('john', 'not the password'), 'invalid_credentials')
  await rejectsWith(dw.issueTokens(reg.user.id), 'user_disabled')
})

test('account_locked after lockoutThreshold failures, with retryAfter', async () => {
  const dw = await open({ lockoutThreshold: 3, lockoutBaseDelay: 120, rateLimitLoginAccount: 'off' })
  await register(dw)
  for (let i = 0; i < 3; i++) await rejectsWith(dw.login('john', 'not the password'), 'invalid_credentials')
  const err = await rejectsWith(dw.login('john', PASSWORD), 'account_locked') // even the right password
  assert.equal(typeof err.retryAfter, 'number')
  assert.ok(err.retryAfter > 0 && err.retryAfter <= 120, `retryAfter ${err.retryAfter}`)
  assert.equal(err.field, undefined)
})

test('not_found for users, roles and sessions', async () => {
  const dw = await open()
  await rejectsWith(dw.users.get('no-such-user'), 'not_found')
  await rejectsWith(dw.roles.get('no-such-role'), 'not_found')
  await rejectsWith(dw.sessions.revoke('no-such-session'), 'not_found')
})

test('token_invalid: garbage, forged, and one kind of token for the other', async () => {
  const dw = await open()
  const reg = await register(dw)
  await rejectsWith(dw.verifyToken('not-a-token'), 'token_invalid')
  await rejectsWith(dw.refreshToken('not-a-refresh-token'), 'token_invalid')
  await rejectsWith(dw.logout('not-a-token'), 'token_invalid')
  const { header, claims } = decodeJwt(reg.tokens.accessToken)
  const forged = signHs256(header, claims, 'another-secret-of-at-least-32-bytes!!')
  await rejectsWith(dw.verifyToken(forged), 'token_invalid')
  // The same claims signed with the right secret pass: the check above is the signature's.
  assert.equal((await dw.verifyToken(signHs256(header, claims, SECRET))).userId, reg.user.id)
  await rejectsWith(dw.verifyToken(signHs256(header, { ...claims, aud: 'elsewhere' }, SECRET)), 'token_invalid')
  await rejectsWith(dw.verifyToken(signHs256({ ...header, typ: 'JWT' }, claims, SECRET)), 'token_invalid')
  await rejectsWith(dw.verifyToken(reg.tokens.refreshToken), 'token_invalid')
  await rejectsWith(dw.refreshToken(reg.tokens.accessToken), 'token_invalid')
  await rejectsWith(dw.verifyToken('a'.repeat(9000)), 'token_invalid')
})

test('token_expired: an access token re-signed with exp in the past (beyond the 60 s leeway)', async () => {
  const dw = await open()
  const reg = await register(dw)
  const { header, claims } = decodeJwt(reg.tokens.accessToken)
  const now = Math.floor(Date.now() / 1000)
  const expired = signHs256(header, { ...claims, iat: now - 600, nbf: now - 600, exp: now - 300 }, SECRET)
  await rejectsWith(dw.verifyToken(expired), 'token_expired')
  // Within the leeway it still passes.
  const justExpired = signHs256(header, { ...claims, exp: now - 10 }, SECRET)
  assert.equal((await dw.verifyToken(justExpired)).userId, reg.user.id)
  // Logout works with an expired access token.
  await dw.logout(expired)
  await rejectsWith(dw.verifyToken(reg.tokens.accessToken), 'token_revoked')
})

test('token_expired: a session and refresh token past refreshTtl (1 s, one 2.1 s wait)', async () => {
  const dw = await open({ refreshTtl: 1 })
  const reg = await register(dw)
  await sleep(2100)
  await rejectsWith(dw.verifyToken(reg.tokens.accessToken), 'token_expired')
  await rejectsWith(dw.refreshToken(reg.tokens.refreshToken), 'token_expired')
  assert.deepEqual(await dw.sessions.list(reg.user.id), [])
})

test('token_revoked after logout', async () => {
  const dw = await open()
  const reg = await register(dw)
  await dw.logout(reg.tokens.accessToken)
  await rejectsWith(dw.verifyToken(reg.tokens.accessToken), 'token_revoked')
})

test('token_reused revokes the whole family', async () => {
  const dw = await open()
  const reg = await register(dw)
  const newer = await dw.refreshToken(reg.tokens.refreshToken)
  await dw.verifyToken(newer.accessToken)
  await rejectsWith(dw.refreshToken(reg.tokens.refreshToken), 'token_reused')
  await rejectsWith(dw.verifyToken(newer.accessToken), 'token_revoked')
  await rejectsWith(dw.refreshToken(newer.refreshToken), 'token_revoked')
  await rejectsWith(dw.refreshToken(reg.tokens.refreshToken), 'token_reused')
})

test('forbidden from require', async () => {
  const dw = await open()
  const reg = await register(dw)
  const err = await rejectsWith(dw.require(reg.user.id, 'users:write'), 'forbidden')
  assert.match(err.message, /users:write/)
})

test('rate_limited from limits.limit, with retryAfter', async () => {
  const dw = await open()
  for (let i = 0; i < 2; i++) await dw.limits.limit('export:ann', '2/1m')
  const err = await rejectsWith(dw.limits.limit('export:ann', '2/1m'), 'rate_limited')
  assert.equal(typeof err.retryAfter, 'number')
  assert.ok(err.retryAfter > 0 && err.retryAfter <= 60, `retryAfter ${err.retryAfter}`)
})

test('rate_limited from login throttling (rateLimitLoginAccount "2/1m")', async () => {
  const dw = await open({ rateLimitLoginAccount: '2/1m' })
  await register(dw)
  for (let i = 0; i < 2; i++) await rejectsWith(dw.login('john', 'not the password'), 'invalid_credentials')
  // Throttled before any password work: the right password too.
  const err = await rejectsWith(dw.login('john', PASSWORD), 'rate_limited')
  assert.ok(err.retryAfter > 0 && err.retryAfter <= 60, `retryAfter ${err.retryAfter}`)
  // Counted per account, whatever name, case or spacing reaches it.
  await rejectsWith(dw.login('  JOHN ', PASSWORD), 'rate_limited')
  await rejectsWith(dw.login('john@example.com', PASSWORD), 'rate_limited')
})

test('flow_invalid, flow_expired and email_not_verified from the account flows', async () => {
  const dw = await open({ mailUrl: 'memory://', requireVerifiedEmailForLogin: true, flowResendCooldown: 0 })
  await register(dw)
  const started = await dw.requestSignIn('john@example.com')
  const mail = await awaitMail(dw, () => dw.mail.sent().find((m) => m.text.includes(`flow=${started.flowId}&`)))
  const { code } = flowMail(mail.text, 'http://localhost:8000')
  const wrong = `${(Number(code[0]) + 1) % 10}${code.slice(1)}`
  const invalid = await rejectsWith(dw.completeSignIn(started.flowId, wrong), 'flow_invalid')
  assert.match(invalid.message, /4 attempts left/)
  assert.equal(invalid.field, undefined)
  for (let i = 0; i < 3; i++) await rejectsWith(dw.completeSignIn(started.flowId, wrong), 'flow_invalid')
  await rejectsWith(dw.completeSignIn(started.flowId, wrong), 'flow_expired')
  await rejectsWith(dw.completeSignIn(started.flowId, code), 'flow_expired')
  // Only the right password learns that the address is unverified.
  await rejectsWith(dw.login('john', 'not the password'), 'invalid_credentials')
  const unverified = await rejectsWith(dw.login('john', PASSWORD), 'email_not_verified')
  assert.ok(!unverified.message.includes('john@example.com'), 'messages hold no addresses')
  assert.deepEqual(
    [HTTP_STATUS.flow_invalid, HTTP_STATUS.flow_expired, HTTP_STATUS.email_not_verified],
    [400, 410, 403],
  )
})

test('config_error: unknown key, short secret, bad values, no keys', async (t) => {
  const unknown = await rejectsWith(Doorward.open({ ...CHEAP, jwtIsuer: 'typo' }), 'config_error')
  assert.match(unknown.message, /jwt_isuer/)
  const short = await rejectsWith(Doorward.open({ ...CHEAP, jwtSecret: 'too-short-secret' }), 'config_error')
  assert.ok(!short.message.includes('too-short-secret'), 'never the secret itself')
  await rejectsWith(Doorward.open({ ...CHEAP, accessTtl: 'soon' }), 'config_error')
  await rejectsWith(Doorward.open({ ...CHEAP, hashConcurrency: 0 }), 'config_error')
  await rejectsWith(Doorward.open({ ...CHEAP, rateLimitLoginAccount: 'lots' }), 'config_error')
  await rejectsWith(Doorward.open(path.join(tempDir(t), 'missing.toml')), 'config_error')
  const file = path.join(tempDir(t), 'typo.toml')
  fs.writeFileSync(file, 'jwt_isuer = "typo"\n')
  await rejectsWith(Doorward.open(file), 'config_error')
  // Without key material users can be managed, but tokens cannot be made.
  const keyless = await open({ jwtSecret: undefined })
  await rejectsWith(keyless.registerUser('john', 'john@example.com', PASSWORD), 'config_error')
  await rejectsWith(() => keyless.jwks(), 'config_error')
  const user = await keyless.users.create('john', 'john@example.com', PASSWORD)
  assert.equal((await keyless.users.get(user.id)).username, 'john')
})

test('storage_error: PostgreSQL at 127.0.0.1:1 with databaseAcquireTimeout 1', async () => {
  await rejectsWith(
    Doorward.open({ ...CHEAP, databaseUrl: 'postgres://postgres@127.0.0.1:1/test', databaseAcquireTimeout: 1 }),
    'storage_error',
  )
})

test('storage_error: a SQLite file in a missing directory', async (t) => {
  const missing = path.join(tempDir(t), 'no', 'such', 'dir', 'auth.db')
  await rejectsWith(Doorward.open({ ...CHEAP, databaseUrl: `sqlite://${missing}` }), 'storage_error')
})

test('internal: a panic in the core rejects, and the process lives on', async () => {
  // The panic hook still prints its one-line message; no backtrace for an
  // expected panic (Rust reads this at the first panic of the process).
  process.env.RUST_BACKTRACE = '0'
  const err = await rejectsWith(_panicForTests('boom'), 'internal')
  assert.match(err.message, /boom/)
  assert.equal(await _panicForTests(''), undefined, 'nothing panics without a message')
  // Later calls work.
  const dw = await open()
  const reg = await register(dw)
  const pair = await dw.login('john', PASSWORD)
  assert.equal((await dw.verifyToken(pair.accessToken)).userId, reg.user.id)
  await rejectsWith(_panicForTests('boom again'), 'internal')
  assert.equal((await dw.users.get(reg.user.id)).username, 'john')
})

test('internal: a stored hash that is no PHC string', async () => {
  await rejectsWith(new PasswordHasher({ memoryKib: 64, iterations: 1 }).verify(PASSWORD, 'not a phc string'), 'internal')
})

/** The members of `export type ErrorCode = | 'a' | 'b' ...` in index.d.ts, in order. */
function errorCodeUnion() {
  const text = fs.readFileSync(path.join(__dirname, '..', 'index.d.ts'), 'utf8')
  const match = /export\s+type\s+ErrorCode\s*=([^;]*?)(?:\n\s*\n|;|\n(?=\S))/.exec(text)
  assert.ok(match, 'index.d.ts declares `export type ErrorCode = ...`')
  return [...match[1].matchAll(/'([a-z_]+)'/g)].map((m) => m[1])
}

test('errorCodes() equals the ErrorCode union of index.d.ts', () => {
  const native = errorCodes()
  const union = errorCodeUnion()
  assert.deepEqual(
    native,
    union,
    'errorCodes() (the core) and the ErrorCode union in index.d.ts drifted apart: ' +
      `only in the core ${JSON.stringify(native.filter((c) => !union.includes(c)))}, ` +
      `only in index.d.ts ${JSON.stringify(union.filter((c) => !native.includes(c)))}, ` +
      `core order ${JSON.stringify(native)}`,
  )
  assert.equal(new Set(native).size, native.length, 'no code twice')
  assert.notEqual(errorCodes(), errorCodes(), 'a fresh array each call')
  errorCodes().push('mutated')
  assert.ok(!errorCodes().includes('mutated'), 'callers cannot change the list')
})

test('the ErrorCode union of index.d.ts is string literals only, one per core code', () => {
  const text = fs.readFileSync(path.join(__dirname, '..', 'index.d.ts'), 'utf8')
  const match = /export\s+type\s+ErrorCode\s*=([^;]*?)(?:\n\s*\n|;|\n(?=\S))/.exec(text)
  assert.ok(match, 'index.d.ts declares `export type ErrorCode = ...`')
  // Only `| 'code'` members (and comments): a `string` or a type reference
  // would compile, but would stop tsc from narrowing on `err.code`.
  const members = match[1].replace(/\/\/[^\n]*|\/\*[\s\S]*?\*\//g, '').split('|').map((m) => m.trim()).filter(Boolean)
  assert.deepEqual(members, errorCodes().map((c) => `'${c}'`), 'ErrorCode is the literal union of errorCodes()')
})

test('every code has an HTTP_STATUS, the one docs/errors.md suggests', () => {
  const codes = errorCodes()
  const missing = codes.filter((c) => !(c in HTTP_STATUS))
  const extra = Object.keys(HTTP_STATUS).filter((c) => !codes.includes(c))
  assert.deepEqual({ missing, extra }, { missing: [], extra: [] }, 'HTTP_STATUS drifted from errorCodes()')
  assert.ok(Object.isFrozen(HTTP_STATUS))
  const docs = fs.readFileSync(path.join(__dirname, '..', '..', 'docs', 'errors.md'), 'utf8')
  const documented = {}
  for (const [, code, status] of docs.matchAll(/^\| `([a-z_]+)` \|.*\| (\d{3})[^|]*\|\s*$/gm)) {
    documented[code] = Number(status)
  }
  assert.deepEqual(Object.keys(documented), codes, 'docs/errors.md lists every code, in order')
  for (const code of codes) {
    assert.equal(HTTP_STATUS[code], documented[code], `HTTP_STATUS.${code} against docs/errors.md`)
  }
})

test('wrong argument types throw a TypeError with code ERR_INVALID_ARG_TYPE', async () => {
  const dw = await open()
  const reg = await register(dw)
  const hasher = new PasswordHasher({ memoryKib: 64, iterations: 1 })
  const calls = {
    'login(5, ...)': () => dw.login(5, PASSWORD),
    'login()': () => dw.login(),
    'registerUser(name, email, 123)': () => dw.registerUser('ann', 'ann@example.com', 123),
    'registerUser(..., { ip: 5 })': () => dw.registerUser('ann', 'ann@example.com', PASSWORD, { ip: 5 }),
    'verifyToken(null)': () => dw.verifyToken(null),
    'refreshToken({})': () => dw.refreshToken({}),
    'logout(undefined)': () => dw.logout(undefined),
    'can(id, undefined)': () => dw.can(reg.user.id, undefined),
    'require(1, 2)': () => dw.require(1, 2),
    'issueTokens(42)': () => dw.issueTokens(42),
    'users.get(1)': () => dw.users.get(1),
    'users.list(5)': () => dw.users.list(5),
    "users.list(undefined, '5')": () => dw.users.list(undefined, '5'),
    'users.update(id, { email: 5 })': () => dw.users.update(reg.user.id, { email: 5 }),
    'users.setPassword(id, [])': () => dw.users.setPassword(reg.user.id, []),
    "roles.create('r', 'posts:*')": () => dw.roles.create('r', 'posts:*'),
    'roles.create(r, [1])': () => dw.roles.create('r', [1]),
    'roles.grant(id)': () => dw.roles.grant(reg.user.id),
    'sessions.list(true)': () => dw.sessions.list(true),
    'limits.limit(1, "2/1m")': () => dw.limits.limit(1, '2/1m'),
    'PasswordHasher#hash(5)': () => hasher.hash(5),
    'PasswordHasher#verify(pw, null)': () => hasher.verify(PASSWORD, null),
  }
  for (const [name, call] of Object.entries(calls)) {
    const err = await rejectsWithTypeError(call).catch((e) => {
      e.message = `${name}: ${e.message}`
      throw e
    })
    assert.ok(!(err instanceof DoorwardError), name)
  }
  // None of them wrote anything.
  assert.equal((await dw.users.list()).items.length, 1)
})

// ---------------------------------------------------------------------------
// Argument and option errors of the constructor and of options objects.

test(
  'new PasswordHasher(bad options) throws a DoorwardError',
  () => {
    assert.throws(() => new PasswordHasher({ memoryKib: 1 }), (err) => err instanceof DoorwardError && err.code === 'config_error')
    assert.throws(() => new PasswordHasher({ iterations: 0 }), (err) => err instanceof DoorwardError && err.code === 'config_error')
  },
)

test(
  'new PasswordHasher({ memoryKib: "x" }) throws a TypeError ERR_INVALID_ARG_TYPE',
  () => {
    assert.throws(() => new PasswordHasher({ memoryKib: 'x' }), (err) => err instanceof TypeError && err.code === 'ERR_INVALID_ARG_TYPE')
  },
)

test(
  'object parameters refuse primitives (users.update(id, "x"), login(..., "x"))',
  async () => {
    const dw = await open()
    const reg = await register(dw)
    await rejectsWithTypeError(() => dw.users.update(reg.user.id, 'x'))
    await rejectsWithTypeError(() => dw.login('john', PASSWORD, 'x'))
    assert.throws(() => new PasswordHasher('x'), (err) => err instanceof TypeError && err.code === 'ERR_INVALID_ARG_TYPE')
  },
)

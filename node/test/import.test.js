'use strict'
// Accounts in bulk: users.importUsers with the hashes of the systems people
// move from (made here, at test time, by node:crypto and the argon2
// package; bcrypt by a fixed vector of Python's bcrypt, no bcrypt package
// being a dependency), verified at login and then upgraded to argon2id;
// refused rows by index, dry runs and atomic imports; rows that are no
// UserRow; users.exportUsers feeding an import elsewhere; users.search.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const crypto = require('node:crypto')
const util = require('node:util')

const argon2 = require('@node-rs/argon2')

const { eventTypes } = require('../index.js')
const { PASSWORD, open, postgresUrl, rejectsWith, rejectsWithTypeError } = require('./helpers.js')

/** "correct horse battery staple" (PASSWORD) at cost 4, by Python's bcrypt 5 (`bcrypt.hashpw`). */
const BCRYPT = '$2b$04$k9ZjAYBBMvfJb7dgSVm28.NvLGnpgYSwrgT725t6elraRmTzCVvNS'
/** What the cheap test configuration hashes with: an upgraded hash starts so. */
const UPGRADED = '$argon2id$v=19$m=64,t=1,p=1$'

/** A salt as text, as Django makes them (letters and digits). */
const textSalt = () => crypto.randomBytes(12).toString('hex')
/** Standard base64 without padding, as passlib and RustCrypto write scrypt's. */
const b64 = (buf) => buf.toString('base64').replace(/=+$/, '')
/** passlib's "adapted" base64: `.` for `+`, no padding. */
const ab64 = (buf) => b64(buf).replace(/\+/g, '.')

/** Each format by its name: a function making the hash of `password`. */
const FORMATS = {
  'Django pbkdf2_sha256': (password) => {
    const salt = textSalt()
    const key = crypto.pbkdf2Sync(password, salt, 1000, 32, 'sha256')
    return `pbkdf2_sha256$1000$${salt}$${key.toString('base64')}`
  },
  'Django pbkdf2_sha1': (password) => {
    const salt = textSalt()
    const key = crypto.pbkdf2Sync(password, salt, 1000, 20, 'sha1')
    return `pbkdf2_sha1$1000$${salt}$${key.toString('base64')}`
  },
  'passlib $pbkdf2-sha256$': (password) => {
    const salt = crypto.randomBytes(16)
    const key = crypto.pbkdf2Sync(password, salt, 1000, 32, 'sha256')
    return `$pbkdf2-sha256$1000$${ab64(salt)}$${ab64(key)}`
  },
  '$scrypt$ln=..,r=8,p=1$': (password) => {
    const salt = crypto.randomBytes(16)
    const key = crypto.scryptSync(password, salt, 32, { N: 2 ** 10, r: 8, p: 1 })
    return `$scrypt$ln=10,r=8,p=1$${b64(salt)}$${b64(key)}`
  },
  'Django scrypt$': (password) => {
    const salt = textSalt()
    const key = crypto.scryptSync(password, salt, 64, { N: 2 ** 10, r: 8, p: 1 })
    return `scrypt$1024$${salt}$8$1$${key.toString('base64')}`
  },
  'argon2i (PHC)': (password) =>
    argon2.hash(password, { algorithm: 1, memoryCost: 256, timeCost: 2, parallelism: 1 }),
  'argon2id with other parameters (PHC)': (password) =>
    argon2.hash(password, { algorithm: 2, memoryCost: 512, timeCost: 2, parallelism: 2 }),
  'Django argon2$argon2id$': async (password) =>
    `argon2${await argon2.hash(password, { algorithm: 2, memoryCost: 256, timeCost: 2, parallelism: 1 })}`,
  'bcrypt $2b$': (password) => (password === PASSWORD ? BCRYPT : null),
  'bcrypt $2a$': (password) => (password === PASSWORD ? BCRYPT.replace('$2b$', '$2a$') : null),
  'bcrypt $2y$': (password) => (password === PASSWORD ? BCRYPT.replace('$2b$', '$2y$') : null),
  'Django bcrypt$': (password) => (password === PASSWORD ? `bcrypt$${BCRYPT}` : null),
}

/** The exported row (with its hash) of `email`. */
async function exported(dw, email) {
  const page = await dw.users.exportUsers(null, 500, { withHashes: true })
  const row = page.items.find((r) => r.email === email)
  assert.ok(row, `${email} is exported`)
  return row
}

for (const [format, make] of Object.entries(FORMATS)) {
  test(`${format}: imported, refused with the wrong password, verified, then upgraded to argon2id`, async () => {
    const dw = await open({ rateLimitLoginAccount: 'off', lockoutThreshold: 100 })
    const hash = await make(PASSWORD)
    const report = await dw.users.importUsers([{ email: 'moved@example.com', username: 'moved', passwordHash: hash }])
    assert.deepEqual(report.failed, [], util.inspect(report, { depth: 4 }))
    assert.equal(report.created.length, 1)
    assert.equal((await exported(dw, 'moved@example.com')).passwordHash, hash, 'kept as it came until a login')

    await rejectsWith(dw.login('moved', 'correct horse battery stapler'), 'invalid_credentials')
    assert.equal((await exported(dw, 'moved@example.com')).passwordHash, hash, 'a wrong password upgrades nothing')
    const first = await dw.login('moved', PASSWORD)
    assert.equal(first.mfaRequired, false)
    assert.equal((await dw.verifyToken(first.accessToken)).username, 'moved')

    const upgraded = (await exported(dw, 'moved@example.com')).passwordHash
    assert.ok(upgraded.startsWith(UPGRADED), `upgraded to the configured argon2id: ${upgraded.slice(0, 30)}`)
    assert.equal((await dw.login('moved@example.com', PASSWORD)).mfaRequired, false, 'and logs in again')
    await rejectsWith(dw.login('moved', 'correct horse battery stapler'), 'invalid_credentials')
  })
}

test('a hostile cost is refused at import, on password_hash, without echoing the hash', async () => {
  const dw = await open()
  const hostile = [
    '$2b$31$abcdefghijklmnopqrstuu5Zq3dS6nCwDbJ0gGm3Wq9V6k6gU1Q1a',
    'pbkdf2_sha256$4000000000$salt$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=',
    '$scrypt$ln=24,r=128,p=1$c2FsdHNhbHQ$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
    '$scrypt$ln=14,r=8,p=4096$c2FsdHNhbHQ$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
    'md5$salt$0123456789abcdef0123456789abcdef',
  ]
  const report = await dw.users.importUsers(
    hostile.map((passwordHash, i) => ({ email: `h${i}@example.com`, passwordHash })),
  )
  assert.deepEqual(report.created, [])
  assert.deepEqual(
    report.failed.map((f) => [f.index, f.code, f.field]),
    hostile.map((_, i) => [i, 'validation_error', 'password_hash']),
  )
  for (const [i, failure] of report.failed.entries()) {
    assert.ok(!failure.message.includes(hostile[i]), failure.message)
    assert.ok(!failure.message.includes('AAAAAAAAAAAA'), failure.message)
  }
  assert.equal(await dw.users.count(), 0)
})

test('a partial import writes the good rows and lists the others by index', async () => {
  const dw = await open()
  await dw.users.create('taken', 'taken@example.com', PASSWORD)
  const hash = FORMATS['Django pbkdf2_sha256'](PASSWORD)
  const report = await dw.users.importUsers([
    { email: 'ann@example.com', passwordHash: hash },
    { email: 'not an address' },
    { email: 'TAKEN@example.com' },
    { email: 'bob@example.com', username: 'taken' },
    { email: 'ann@example.com', username: 'ann2' },
    { email: 'cyd@example.com', roles: ['no-such-role'] },
    { email: 'dee@example.com', password: PASSWORD, passwordHash: hash },
    { email: 'eve@example.com', password: 'short' },
    { email: 'fay@example.com', id: 'not-a-uuid' },
    { email: 'gus@example.com', password: PASSWORD },
    { email: 'taken@example.org' },
  ])
  assert.equal(report.dryRun, false)
  assert.equal(report.total, 11)
  assert.deepEqual(
    report.failed.map((f) => [f.index, f.code, f.field]),
    [
      [1, 'validation_error', 'email'],
      [2, 'duplicate_email', undefined],
      [3, 'duplicate_username', undefined],
      [4, 'duplicate_email', undefined],
      [5, 'validation_error', 'roles'],
      [6, 'validation_error', 'password'],
      [7, 'validation_error', 'password'],
      [8, 'validation_error', 'id'],
    ],
  )
  for (const f of report.failed) assert.equal(typeof f.message, 'string')
  assert.deepEqual(
    report.created.map((c) => c.index),
    [0, 9, 10],
  )
  const [ann, gus, other] = report.created
  assert.equal(ann.username, 'ann', 'made from the address')
  assert.equal(gus.username, 'gus')
  assert.match(other.username, /^taken\d+$/, 'a made-up username that is taken gets digits')
  assert.equal((await dw.users.get(ann.id)).email, 'ann@example.com')
  assert.equal(await dw.users.count(), 4)
  // A clear password is hashed with argon2id at once.
  assert.equal((await dw.login('gus', PASSWORD)).mfaRequired, false)
  assert.equal((await dw.login('ann', PASSWORD)).mfaRequired, false)
  assert.deepEqual(await dw.users.importUsers([]), { dryRun: false, total: 0, created: [], failed: [] })
})

test('what a row keeps: id, username, roles, emailVerified, disabled and createdAt (a string or a Date)', async () => {
  const dw = await open()
  const id = '0190b6a4-5c1e-7000-8000-000000000001'
  const report = await dw.users.importUsers([
    {
      id,
      username: 'Admin.Ann',
      email: 'ann@example.com',
      password: PASSWORD,
      roles: ['admin', 'user'],
      emailVerified: true,
      disabled: false,
      createdAt: '2019-05-06T07:08:09.123Z',
    },
    { email: 'bob@example.com', disabled: true, createdAt: new Date('2020-01-02T03:04:05+02:00') },
    // Absent and null keys are absent; a future date is now.
    { email: 'cyd@example.com', username: undefined, roles: null, password: undefined, createdAt: '2999-01-01T00:00:00Z' },
  ])
  assert.deepEqual(report.failed, [])
  assert.deepEqual(report.created[0], { index: 0, id, username: 'Admin.Ann' })
  const ann = await dw.users.get(id)
  assert.equal(ann.createdAt.toISOString(), '2019-05-06T07:08:09.123Z')
  assert.ok(ann.emailVerifiedAt instanceof Date)
  assert.deepEqual(await dw.roles.ofUser(id), ['admin', 'user'])
  assert.equal(await dw.can(id, 'users:write'), true)

  const bob = await dw.users.get(report.created[1].id)
  assert.equal(bob.createdAt.toISOString(), '2020-01-02T01:04:05.000Z')
  assert.equal(bob.disabled, true)
  assert.equal(bob.emailVerifiedAt, undefined)
  assert.deepEqual(await dw.roles.ofUser(bob.id), ['user'], 'no roles: the default role')

  const cyd = await dw.users.get(report.created[2].id)
  assert.ok(cyd.createdAt.getTime() <= Date.now(), 'no account is created in the future')
  // Neither a clear password nor a hash: no password until a reset sets one.
  await rejectsWith(dw.login('cyd', PASSWORD), 'invalid_credentials')
})

test('a dry run and an atomic import with a refused row write nothing', async () => {
  const dw = await open()
  const rows = [{ email: 'ann@example.com', password: PASSWORD }, { email: 'bad' }, { email: 'bob@example.com' }]

  const dry = await dw.users.importUsers(rows, { dryRun: true })
  assert.equal(dry.dryRun, true)
  assert.deepEqual(
    dry.created.map((c) => [c.index, c.username]),
    [
      [0, 'ann'],
      [2, 'bob'],
    ],
  )
  assert.deepEqual(
    dry.failed.map((f) => [f.index, f.field]),
    [[1, 'email']],
  )
  assert.equal(await dw.users.count(), 0, 'a dry run writes nothing')

  const atomic = await dw.users.importUsers(rows, { atomic: true })
  assert.equal(atomic.dryRun, false)
  assert.deepEqual(atomic.created, [], 'one refused row, nothing created')
  assert.deepEqual(
    atomic.failed.map((f) => f.index),
    [1],
  )
  assert.equal(await dw.users.count(), 0, 'an atomic import with a refused row writes nothing')

  const whole = await dw.users.importUsers([rows[0], rows[2]], { atomic: true, dryRun: false })
  assert.deepEqual(
    whole.created.map((c) => c.username),
    ['ann', 'bob'],
  )
  assert.equal(await dw.users.count(), 2)
  await dw.users.importUsers(rows, null)
  await dw.users.importUsers(rows, {})
  assert.equal(await dw.users.count(), 2, 'ann and bob exist already')
})

test('a row that is no UserRow is a validation_error on rows, by index and key, never by value', async () => {
  const dw = await open()
  const secret = 'pbkdf2_sha256$1000$secret-salt$c2VjcmV0IGhhc2g='
  const cases = [
    [{ email: 'a@example.com', password_hash: secret }, /row 1: unknown key `password_hash`/],
    [{ email: 'a@example.com', passwordHash: 12345678 }, /row 1: `passwordHash` must be a string/],
    [{ email: 'a@example.com', password: ['hunter2hunter2'] }, /row 1: `password` must be a string/],
    [{ email: 42 }, /row 1: `email` must be a string/],
    [{ username: 'nobody' }, /row 1: `email` is required/],
    [{ email: 'a@example.com', roles: 'admin' }, /row 1: `roles` must be a list of strings/],
    [{ email: 'a@example.com', roles: ['admin', 7] }, /row 1: `roles` must be a list of strings/],
    [{ email: 'a@example.com', emailVerified: 'yes' }, /row 1: `emailVerified` must be true or false/],
    [{ email: 'a@example.com', disabled: 1 }, /row 1: `disabled` must be true or false/],
    [{ email: 'a@example.com', createdAt: 'yesterday' }, /row 1: `createdAt` must be an ISO 8601/],
    [{ email: 'a@example.com', createdAt: new Date('not a date') }, /row 1: `createdAt` must be an ISO 8601/],
    [{ email: 'a@example.com', createdAt: 1700000000000 }, /row 1: `createdAt` must be an ISO 8601/],
    [{ email: 'a@example.com', id: () => secret }, /row 1: `id` must be a string/],
    ['a@example.com', /row 1: not an object/],
    [[{ email: 'a@example.com' }], /row 1: not an object/],
    [null, /row 1: not an object/],
    [undefined, /row 1: not an object/],
  ]
  for (const [row, message] of cases) {
    const err = await rejectsWith(dw.users.importUsers([{ email: 'fine@example.com' }, row]), 'validation_error')
    assert.equal(err.field, 'rows')
    assert.match(err.message, message)
    for (const value of [secret, '12345678', 'hunter2', 'yesterday', '1700000000000']) {
      assert.ok(!err.message.includes(value), `the message shows a value: ${err.message}`)
    }
  }
  assert.equal(await dw.users.count(), 0, 'a row that does not convert stops the whole import')
  // Arguments of the wrong kind are TypeErrors, as everywhere.
  await rejectsWithTypeError(() => dw.users.importUsers('rows'))
  await rejectsWithTypeError(() => dw.users.importUsers({ 0: { email: 'a@example.com' }, length: 1 }))
  await rejectsWithTypeError(() => dw.users.importUsers([], 'dry run'))
  await rejectsWithTypeError(() => dw.users.exportUsers(null, null, true))
})

test('an import is one UsersImported event, without a UserRegistered per account', async () => {
  const dw = await open()
  assert.ok(eventTypes().includes('UsersImported'))
  await dw.users.importUsers([{ email: 'ann@example.com' }, { email: 'bob@example.com' }, { email: 'bad' }])
  await dw.users.importUsers([{ email: 'cyd@example.com' }], { dryRun: true })
  await dw.events.flush()
  const events = (await dw.events.list({ limit: 100 })).items
  const imported = events.filter((e) => e.type === 'UsersImported')
  assert.equal(imported.length, 1, 'one event per import written, none for a dry run')
  assert.deepEqual(imported[0].payload, { created: 2, failed: 1 })
  assert.ok(!events.some((e) => e.type === 'UserRegistered'), events.map((e) => e.type).join(' '))
})

test('exportUsers pages rows that importUsers takes back: a round trip into a second Doorward', async () => {
  const source = await open()
  const made = []
  for (const name of ['ann', 'bob', 'cyd', 'dee', 'eve']) {
    made.push(await source.users.create(name, `${name}@example.com`, PASSWORD))
  }
  await source.roles.grant(made[1].id, 'moderator')
  await source.users.markEmailVerified(made[2].id)
  await source.users.disable(made[3].id)

  const rows = []
  let cursor
  let pages = 0
  do {
    const page = await source.users.exportUsers(cursor, 2, { withHashes: true })
    assert.ok(page.items.length <= 2)
    rows.push(...page.items)
    cursor = page.nextCursor
    pages += 1
  } while (cursor)
  assert.equal(pages, 3)
  assert.deepEqual(
    rows.map((r) => r.username),
    ['ann', 'bob', 'cyd', 'dee', 'eve'],
  )
  const [ann, bob, cyd, dee] = rows
  assert.deepEqual(
    Object.keys(ann).sort(),
    ['createdAt', 'disabled', 'email', 'emailVerified', 'id', 'passwordHash', 'roles', 'username'],
  )
  assert.ok(ann.createdAt instanceof Date)
  assert.equal(ann.createdAt.getTime(), made[0].createdAt.getTime())
  assert.ok(ann.passwordHash.startsWith('$argon2id$'))
  assert.equal(ann.password, undefined, 'a password is never exported')
  assert.deepEqual(bob.roles, ['moderator', 'user'])
  assert.equal(cyd.emailVerified, true)
  assert.equal(dee.disabled, true)

  // Without hashes, no hash.
  const plain = await source.users.exportUsers()
  assert.equal(plain.items.length, 5)
  assert.equal(plain.nextCursor, undefined)
  assert.ok(plain.items.every((r) => !('passwordHash' in r)))

  // Into another store: the same accounts, the same passwords. Rows that
  // went through JSON (a file) carry createdAt as a string: taken too.
  const target = await open()
  const report = await target.users.importUsers(JSON.parse(JSON.stringify(rows)), { atomic: true })
  assert.deepEqual(report.failed, [])
  assert.deepEqual(
    report.created.map((c) => [c.id, c.username]),
    rows.map((r) => [r.id, r.username]),
  )
  for (const [i, user] of made.entries()) {
    const moved = await target.users.get(user.id)
    assert.equal(moved.username, user.username)
    assert.equal(moved.email, user.email)
    assert.equal(moved.createdAt.getTime(), user.createdAt.getTime())
    assert.equal(moved.disabled, i === 3)
  }
  assert.deepEqual(await target.roles.ofUser(bob.id), ['moderator', 'user'])
  assert.equal((await target.login('ann', PASSWORD)).mfaRequired, false)
  await rejectsWith(target.login('dee', PASSWORD), 'user_disabled')
  const again = await target.users.exportUsers(null, null, { withHashes: true })
  assert.deepEqual(JSON.parse(JSON.stringify(again.items)), JSON.parse(JSON.stringify(rows)))
})

test('an exported row keeps its address and hash out of util.inspect, yet in JSON', async () => {
  const dw = await open()
  await dw.users.create('ann', 'ann.private.box@example.com', PASSWORD)
  const [row] = (await dw.users.exportUsers(null, null, { withHashes: true })).items
  const hash = row.passwordHash
  for (const text of [
    util.inspect(row),
    util.inspect({ row }, { depth: Infinity }),
    util.format('%o', row),
    util.format('%O', row),
  ]) {
    assert.ok(!text.includes('ann.private.box'), `the address shows: ${text}`)
    assert.ok(!text.includes(hash), `the hash shows: ${text}`)
    assert.ok(!text.includes('$argon2id$'), `the hash shows: ${text}`)
  }
  assert.match(util.inspect(row), /^UserRow /)
  assert.match(util.inspect(row), /passwordHash: '\[hidden\]'/)
  assert.match(util.inspect(row), /username: 'ann'/)
  assert.equal(row.email, 'ann.private.box@example.com', 'readable')
  assert.equal(JSON.parse(JSON.stringify(row)).passwordHash, hash, 'and written out, for an import elsewhere')
  const [plain] = (await dw.users.exportUsers()).items
  assert.doesNotMatch(util.inspect(plain), /passwordHash/, 'no hash, nothing shown for one')
})

test('users.search pages the accounts whose address or username starts with the query, ignoring case', async () => {
  const dw = await open()
  await dw.users.create('ann', 'ann@example.com', PASSWORD)
  await dw.users.create('bob', 'annie@example.org', PASSWORD)
  await dw.users.create('cyd', 'cyd@example.com', PASSWORD)
  await dw.users.create('Annabel', 'bel@example.net', PASSWORD)
  await dw.users.create('dee', 'dee.ann@example.com', PASSWORD)

  const found = await dw.users.search('ANN')
  assert.deepEqual(
    found.items.map((u) => u.username),
    ['ann', 'bob', 'Annabel'],
  )
  assert.equal(found.nextCursor, undefined)
  const first = await dw.users.search('ann', null, 2)
  assert.deepEqual(
    first.items.map((u) => u.username),
    ['ann', 'bob'],
  )
  assert.equal(typeof first.nextCursor, 'string')
  const second = await dw.users.search('ann', first.nextCursor, 2)
  assert.deepEqual(
    second.items.map((u) => u.username),
    ['Annabel'],
  )
  assert.equal(second.nextCursor, undefined)
  assert.deepEqual((await dw.users.search('cyd@example.com')).items.map((u) => u.username), ['cyd'])
  assert.deepEqual((await dw.users.search('nobody')).items, [])
  // Users as every listing gives them: the address out of util.inspect.
  const [ann] = found.items
  assert.match(util.inspect(ann), /^User /)
  assert.ok(!util.inspect(found, { depth: Infinity }).includes('ann@example.com'))
  assert.equal(ann.email, 'ann@example.com')
  for (const query of ['', '   ']) {
    assert.equal((await rejectsWith(dw.users.search(query), 'validation_error')).field, 'query')
  }
  assert.equal((await rejectsWith(dw.users.search('ann', 'not-a-cursor'), 'validation_error')).field, 'cursor')
})

test('import, export and search on PostgreSQL', async (t) => {
  const url = await postgresUrl(t)
  if (!url) return
  const dw = await open({ databaseUrl: url })
  const hash = FORMATS['$scrypt$ln=..,r=8,p=1$'](PASSWORD)
  const rows = Array.from({ length: 30 }, (_, i) => ({ email: `user${i}@example.com`, passwordHash: hash }))
  rows.push({ email: 'user3@example.com' })
  const report = await dw.users.importUsers(rows)
  assert.equal(report.created.length, 30)
  assert.deepEqual(
    report.failed.map((f) => [f.index, f.code]),
    [[30, 'duplicate_email']],
  )
  assert.equal(await dw.users.count(), 30)
  assert.equal((await dw.login('user7', PASSWORD)).mfaRequired, false)
  assert.ok((await exported(dw, 'user7@example.com')).passwordHash.startsWith(UPGRADED))
  assert.equal((await exported(dw, 'user8@example.com')).passwordHash, hash)
  assert.equal((await dw.users.search('USER1')).items.length, 11)
  const atomic = await dw.users.importUsers([{ email: 'new@example.com' }, { email: 'user0@example.com' }], { atomic: true })
  assert.deepEqual(atomic.created, [])
  assert.equal(await dw.users.count(), 30)
})

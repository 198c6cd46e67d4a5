'use strict'
// The example driven over HTTP with fetch, on a free loopback port: the
// whole flow a client sees, and main() started as a process of its own.

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const { spawn } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const { Doorward } = require('doorward')
const { AVATAR_MAX_BYTES, configFromEnv, createApp } = require('./app.js')

const PASSWORD = 'correct horse battery staple'

let dw
let server
let base

before(async () => {
  dw = await Doorward.open({
    databaseUrl: 'memory://',
    jwtSecret: 'express-example-test-secret-of-32-bytes',
    argon2MemoryKib: 64, // cheap hashing: the test is about the routes
    argon2Iterations: 1,
  })
  server = createApp(dw).listen(0, '127.0.0.1')
  await new Promise((resolve, reject) => server.once('listening', resolve).once('error', reject))
  base = `http://127.0.0.1:${server.address().port}`
})

after(() => new Promise((resolve) => server.close(resolve)))

async function call(method, path, { body, token, headers = {} } = {}) {
  const res = await fetch(base + path, {
    method,
    headers: {
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...headers,
    },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  })
  const text = await res.text()
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null }
}

test('register, login, /me, refresh, replay, logout', async () => {
  const reg = await call('POST', '/register', { body: { username: 'alice', email: 'alice@example.com', password: PASSWORD } })
  assert.equal(reg.status, 201)
  assert.equal(reg.body.user.username, 'alice')
  assert.equal(reg.body.token_type, 'Bearer')
  assert.equal(typeof reg.body.access_token, 'string')
  assert.equal(typeof reg.body.refresh_token, 'string')
  assert.equal(reg.body.expires_in, 900)

  const login = await call('POST', '/login', {
    body: { login: 'alice', password: PASSWORD },
    headers: { 'user-agent': 'example-test/1.0' },
  })
  assert.equal(login.status, 200)
  // No second factor enrolled: the tokens at once (mfa.test.js has the other answer).
  assert.deepEqual(Object.keys(login.body).sort(), ['access_token', 'expires_in', 'refresh_token', 'token_type'])
  assert.deepEqual(login.headers.getSetCookie(), [], 'no pending login to keep')
  const { access_token: access, refresh_token: refresh } = login.body
  // The ClientInfo from the request is kept with the session.
  const [session] = await dw.sessions.list(reg.body.user.id)
  assert.equal(session.userAgent, 'example-test/1.0')
  assert.match(session.ip, /127\.0\.0\.1$/)

  const me = await call('GET', '/me', { token: access })
  assert.equal(me.status, 200)
  assert.equal(me.body.principal.user_id, reg.body.user.id)
  assert.deepEqual(me.body.principal.roles, ['user'])
  assert.deepEqual([me.body.principal.amr, me.body.principal.aal], [['pwd'], 1], 'a password alone')
  assert.equal(me.body.profile.email, 'alice@example.com')
  assert.notEqual(me.body.profile.last_login_at, null)
  assert.equal(me.body.profile.email_verified_at, null, 'unverified until a mail proves it (accounts.test.js)')

  const refreshed = await call('POST', '/refresh', { body: { refresh_token: refresh } })
  assert.equal(refreshed.status, 200)
  assert.notEqual(refreshed.body.refresh_token, refresh)
  assert.equal((await call('GET', '/me', { token: refreshed.body.access_token })).status, 200)

  // Replaying the rotated refresh token revokes the whole family.
  const replay = await call('POST', '/refresh', { body: { refresh_token: refresh } })
  assert.equal(replay.status, 401)
  assert.equal(replay.body.error.code, 'token_reused')
  assert.equal(replay.headers.get('www-authenticate'), 'Bearer error="invalid_token"')
  assert.equal((await call('GET', '/me', { token: refreshed.body.access_token })).status, 401)

  // Logout ends the registration's session: its token is refused after.
  assert.equal((await call('GET', '/me', { token: reg.body.access_token })).status, 200)
  const out = await call('POST', '/logout', { token: reg.body.access_token })
  assert.equal(out.status, 204)
  const after = await call('GET', '/me', { token: reg.body.access_token })
  assert.equal(after.status, 401)
  assert.equal(after.body.error.code, 'token_revoked')
  assert.equal(after.headers.get('www-authenticate'), 'Bearer error="invalid_token"')
})

test('the admin route: 403 for a plain user, 200 once granted "admin"', async () => {
  const reg = await call('POST', '/register', { body: { username: 'bob', email: 'bob@example.com', password: PASSWORD } })
  const token = reg.body.access_token
  const denied = await call('GET', '/admin/users', { token })
  assert.equal(denied.status, 403)
  assert.equal(denied.body.error.code, 'forbidden')
  assert.equal(await dw.roles.grant(reg.body.user.id, 'admin'), true)
  const allowed = await call('GET', '/admin/users?limit=1', { token }) // current grants decide: the same token
  assert.equal(allowed.status, 200)
  assert.equal(allowed.body.users.length, 1)
  assert.equal(typeof allowed.body.next_cursor, 'string')
  const rest = await call('GET', `/admin/users?cursor=${encodeURIComponent(allowed.body.next_cursor)}`, { token })
  assert.ok(rest.body.users.some((u) => u.username === 'bob'))
  const badLimit = await call('GET', '/admin/users?limit=0', { token })
  assert.equal(badLimit.status, 422)
  assert.equal(badLimit.body.error.field, 'limit')
})

test('duplicate email 409, bad input 422, wrong password 401', async () => {
  await call('POST', '/register', { body: { username: 'carol', email: 'carol@example.com', password: PASSWORD } })
  const duplicate = await call('POST', '/register', { body: { username: 'carol2', email: 'CAROL@example.com', password: PASSWORD } })
  assert.equal(duplicate.status, 409)
  assert.equal(duplicate.body.error.code, 'duplicate_email')

  const badEmail = await call('POST', '/register', { body: { username: 'dave', email: 'not-an-email', password: PASSWORD } })
  assert.equal(badEmail.status, 422)
  assert.deepEqual([badEmail.body.error.code, badEmail.body.error.field], ['validation_error', 'email'])
  const missing = await call('POST', '/register', { body: { username: 'dave', email: 'dave@example.com' } })
  assert.equal(missing.status, 422)
  assert.equal(missing.body.error.field, 'password')
  const weak = await call('POST', '/register', { body: { username: 'dave', email: 'dave@example.com', password: 'short' } })
  assert.equal(weak.status, 422)
  assert.equal(weak.body.error.field, 'password')

  const wrong = await call('POST', '/login', { body: { login: 'carol', password: 'not the password' } })
  assert.equal(wrong.status, 401)
  assert.equal(wrong.body.error.code, 'invalid_credentials')
})

/** A PUT of raw bytes, as a browser uploads a file. */
function upload(path, data, { token, type } = {}) {
  return fetch(base + path, {
    method: 'PUT',
    headers: { ...(type ? { 'content-type': type } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: data,
  })
}

test('avatars: PUT /me/avatar stores the raw body, GET /users/:id/avatar serves it', async () => {
  const reg = await call('POST', '/register', { body: { username: 'erin', email: 'erin@example.com', password: PASSWORD } })
  const { access_token: token, user } = reg.body
  const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(100, 1)])
  const put = await upload('/me/avatar', png, { token, type: 'image/png' })
  assert.equal(put.status, 200)
  const stored = await put.json()
  assert.equal(stored.avatar.size, png.length)
  assert.equal(stored.avatar.content_type, 'image/png')

  // Kept under avatars/<user id>, with its content type.
  const info = await dw.files.head(`avatars/${user.id}`)
  assert.equal(info.contentType, 'image/png')

  const got = await fetch(`${base}/users/${user.id}/avatar`)
  assert.equal(got.status, 200)
  assert.equal(got.headers.get('content-type'), 'image/png')
  assert.equal(got.headers.get('x-content-type-options'), 'nosniff')
  assert.ok(Buffer.from(await got.arrayBuffer()).equals(png))
  const etag = got.headers.get('etag')
  assert.ok(etag)
  // fetch adds `Cache-Control: no-cache` to a conditional request unless
  // one is given, and no-cache asks for the full body again.
  const again = await fetch(`${base}/users/${user.id}/avatar`, {
    headers: { 'if-none-match': etag, 'cache-control': 'max-age=0' },
  })
  assert.equal(again.status, 304)

  // A new upload replaces it, content type included.
  const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3])
  assert.equal((await upload('/me/avatar', jpeg, { token, type: 'image/jpeg' })).status, 200)
  const replaced = await fetch(`${base}/users/${user.id}/avatar`)
  assert.equal(replaced.headers.get('content-type'), 'image/jpeg')
  assert.ok(Buffer.from(await replaced.arrayBuffer()).equals(jpeg))
})

test('avatars: size cap 413, other types 415, empty 422, no token 401, none stored 404', async () => {
  const reg = await call('POST', '/register', { body: { username: 'frank', email: 'frank@example.com', password: PASSWORD } })
  const { access_token: token, user } = reg.body

  const big = await upload('/me/avatar', Buffer.alloc(AVATAR_MAX_BYTES + 1), { token, type: 'image/png' })
  assert.equal(big.status, 413)
  assert.equal((await big.json()).error.field, 'avatar')
  for (const type of ['image/svg+xml', 'text/html', undefined]) {
    const res = await upload('/me/avatar', Buffer.from('<svg onload="alert(1)"/>'), { token, type })
    assert.equal(res.status, 415, String(type))
    assert.equal((await res.json()).error.field, 'content_type')
  }
  const empty = await upload('/me/avatar', Buffer.alloc(0), { token, type: 'image/png' })
  assert.equal(empty.status, 422)
  const anonymous = await upload('/me/avatar', Buffer.from('png'), { type: 'image/png' })
  assert.equal(anonymous.status, 401)
  // Nothing above was stored.
  const none = await call('GET', `/users/${user.id}/avatar`)
  assert.equal(none.status, 404)
  assert.equal(none.body.error.code, 'not_found')
})

test('GET /metrics: Prometheus text with the registrations counted', async () => {
  const reg = await call('POST', '/register', { body: { username: 'metrics', email: 'metrics@example.com', password: PASSWORD } })
  assert.equal(reg.status, 201)
  const res = await fetch(`${base}/metrics`)
  assert.equal(res.status, 200)
  assert.ok(res.headers.get('content-type').startsWith('text/plain; version=0.0.4'), res.headers.get('content-type'))
  const line = (await res.text()).split('\n').find((l) => l.startsWith('doorward_registrations_total '))
  assert.ok(line, 'a doorward_registrations_total line')
  assert.ok(Number(line.split(' ')[1]) >= 1, line)
})

test('no bearer token: 401 with WWW-Authenticate: Bearer', async () => {
  for (const path of ['/me', '/admin/users']) {
    const res = await call('GET', path)
    assert.equal(res.status, 401, path)
    assert.equal(res.headers.get('www-authenticate'), 'Bearer', path)
    assert.equal(res.body.error.code, 'token_invalid')
  }
  assert.equal((await call('POST', '/logout')).headers.get('www-authenticate'), 'Bearer')
  const garbage = await call('GET', '/me', { token: 'not-a-token' })
  assert.equal(garbage.status, 401)
  assert.equal(garbage.headers.get('www-authenticate'), 'Bearer error="invalid_token"')
})

test('configFromEnv: the mailer and the public URL of the account mails come from the environment', () => {
  const env = { DOORWARD_JWT_SECRET: 'env-test-secret-of-at-least-32-bytes!!', HOST: '0.0.0.0', PORT: '8080' }
  const plain = configFromEnv(env)
  assert.equal(plain.mailUrl, undefined, 'no mailer unless one is named')
  assert.equal(plain.appUrl, 'http://0.0.0.0:8080', 'links point at where the app listens')
  const mailing = configFromEnv({
    ...env,
    DOORWARD_MAIL_URL: 'smtp://127.0.0.1:2525',
    DOORWARD_MAIL_FROM: 'Example <hello@example.com>',
    DOORWARD_APP_URL: 'https://app.example.com',
  })
  assert.deepEqual(
    [mailing.mailUrl, mailing.mailFrom, mailing.appUrl],
    ['smtp://127.0.0.1:2525', 'Example <hello@example.com>', 'https://app.example.com'],
  )
  assert.equal(configFromEnv({ DOORWARD_CONFIG: 'doorward.toml' }), 'doorward.toml')
})

test('main() opens the default SQLite file from the environment and listens', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'doorward-express-'))
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }))
  const env = { ...process.env, PORT: '0', HOST: '127.0.0.1', DOORWARD_JWT_SECRET: 'main-test-secret-of-at-least-32-bytes!' }
  delete env.DOORWARD_DATABASE_URL
  delete env.DOORWARD_CONFIG
  const child = spawn(process.execPath, [path.join(__dirname, 'app.js')], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] })
  t.after(() => child.kill('SIGTERM'))
  let output = ''
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "listening" line within 30 s: ${output}`)), 30_000)
    const read = (chunk) => {
      output += chunk
      const match = /listening on (http:\/\/\S+)/.exec(output)
      if (match) {
        clearTimeout(timer)
        resolve(match[1])
      }
    }
    child.stdout.on('data', read)
    child.stderr.on('data', read)
    child.once('exit', (code) => reject(new Error(`app.js exited with ${code}: ${output}`)))
  })
  assert.match(output, /\(sqlite\)/)
  const res = await fetch(`${url}/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'erin', email: 'erin@example.com', password: PASSWORD }),
  })
  assert.equal(res.status, 201)
  assert.ok(fs.existsSync(path.join(dir, 'doorward-example.db')), 'the default SQLite file is in the working directory')
  const exited = new Promise((resolve) => child.once('exit', resolve))
  child.kill('SIGTERM')
  assert.equal(await exited, 0, 'SIGTERM closes the server and exits 0')
})

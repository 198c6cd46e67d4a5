'use strict'
// The admin console the example mounts at /admin/, over HTTP with fetch:
// its page and files, an administrator's sign-in (after express.json() has
// read the body), the users list, a change with its CSRF token, and the
// example's own GET /admin/users beside it.

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')

const { Doorward } = require('doorward')
const { createApp } = require('./app.js')

const PASSWORD = 'correct horse battery staple'

let dw
let server
let base

before(async () => {
  dw = await Doorward.open({
    databaseUrl: 'memory://',
    jwtSecret: 'express-example-test-secret-of-32-bytes',
    argon2MemoryKib: 64,
    argon2Iterations: 1,
  })
  server = createApp(dw).listen(0, '127.0.0.1')
  await new Promise((resolve, reject) => server.once('listening', resolve).once('error', reject))
  // A loopback host over plain HTTP: the console's cookies are plain
  // `dw_console*` ones (elsewhere `__Host-` and Secure, for HTTPS only).
  base = `http://127.0.0.1:${server.address().port}`
})

after(() => new Promise((resolve) => server.close(resolve)))

/** A browser: keeps the cookies it is given, sends them back. */
function browser() {
  const jar = new Map()
  return async function call(method, path, { body, headers = {} } = {}) {
    const res = await fetch(base + path, {
      method,
      redirect: 'manual',
      headers: {
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(jar.size ? { cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; ') } : {}),
        ...headers,
      },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    })
    for (const set of res.headers.getSetCookie()) {
      const [pair] = set.split(';')
      const at = pair.indexOf('=')
      jar.set(pair.slice(0, at), pair.slice(at + 1))
    }
    const text = await res.text()
    let json = null
    try {
      json = JSON.parse(text)
    } catch {}
    return { status: res.status, headers: res.headers, text, json }
  }
}

test('the console page is served at /admin/, with its files', async () => {
  const call = browser()
  const page = await call('GET', '/admin/')
  assert.equal(page.status, 200)
  assert.match(page.headers.get('content-type'), /^text\/html/)
  const files = [...page.text.matchAll(/"(\/admin\/assets\/[^"]+)"/g)].map((m) => m[1])
  assert.ok(files.length >= 2, page.text)
  for (const path of files) {
    const file = await call('GET', path)
    assert.equal(file.status, 200, path)
    assert.match(file.headers.get('cache-control'), /immutable/)
  }
})

test('an administrator signs in and lists the accounts', async () => {
  const boss = await dw.users.create('boss', 'boss@example.com', PASSWORD)
  const john = await dw.users.create('john', 'john@example.com', PASSWORD)
  const call = browser()
  const refused = await call('POST', '/admin/api/session', { body: { login: 'john', password: PASSWORD } })
  assert.equal(refused.status, 403, 'an account without console rights')

  await dw.roles.grant(boss.id, 'admin')
  const signedIn = await call('POST', '/admin/api/session', { body: { login: 'boss', password: PASSWORD } })
  assert.equal(signedIn.status, 200, signedIn.text)
  assert.equal(signedIn.headers.getSetCookie().length, 3)
  const listed = await call('GET', '/admin/api/users')
  assert.equal(listed.status, 200, listed.text)
  assert.deepEqual(listed.json.items.map((u) => u.username).sort(), ['boss', 'john'])

  // A change carries the CSRF token the sign-in answered.
  const forged = await call('POST', `/admin/api/users/${john.id}/disable`, { body: {} })
  assert.equal(forged.status, 403)
  const done = await call('POST', `/admin/api/users/${john.id}/disable`, {
    body: {},
    headers: { 'x-csrf-token': signedIn.json.csrf_token },
  })
  assert.equal(done.status, 204, done.text)
  assert.equal((await dw.users.get(john.id)).disabled, true)

  // The example's own admin listing (a bearer token) is still its own.
  const api = await call('GET', '/admin/users')
  assert.equal(api.status, 401)
  assert.equal(api.json.error.code, 'token_invalid')
})

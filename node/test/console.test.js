'use strict'
// consoleMiddleware and Console: the admin console (the Rust router)
// mounted at /admin of a plain node:http server, by a small Express-style
// mount (req.baseUrl, req.originalUrl, req.url below the mount, req.ip) or
// a Connect-style one (no baseUrl), with or without a body parser before
// it. The console's rules are the router's and tested with it; these check
// what the middleware carries: the path under the mount, the headers both
// ways (each set-cookie), the body (read raw, or what a parser read), the
// client's address, and the 413 past Console.MAX_BODY.

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const http = require('node:http')
const { inspect } = require('node:util')

const { Console, Doorward, DoorwardError, consoleMiddleware } = require('../index.js')
const { PASSWORD, open } = require('./helpers.js')

/** Like express.json(): reads a JSON body into req.body and marks it read. */
function jsonParser(req, res, next) {
  if (!/json/.test(req.headers['content-type'] || '')) return next()
  const chunks = []
  req.on('data', (c) => chunks.push(c))
  req.on('end', () => {
    req._body = true
    try {
      req.body = JSON.parse(Buffer.concat(chunks).toString() || '{}')
    } catch (err) {
      return next(err)
    }
    next()
  })
}

/**
 * A host: its own GET /hello, and `middleware` mounted at `prefix` the way
 * Express (`style: 'express'`) or Connect (`'connect'`) mounts it, after
 * `parser` when given. What the middleware passes on is a 599.
 */
function host(middleware, { prefix = '/admin', style = 'express', parser } = {}) {
  return (req, res) => {
    const path = req.url.split('?')[0]
    if (path === '/hello') return res.end('hello')
    if (prefix && !(path === prefix || path.startsWith(`${prefix}/`))) {
      res.statusCode = 404
      return res.end('host: no route')
    }
    req.originalUrl = req.url
    if (style === 'express') {
      req.baseUrl = prefix
      req.ip = req.socket.remoteAddress
    }
    req.url = req.url.slice(prefix.length)
    if (!req.url.startsWith('/')) req.url = `/${req.url}`
    const next = (err) => {
      res.statusCode = 599
      res.end(err ? `passed on: ${err.message}` : 'passed on')
    }
    const run = (err) => (err ? next(err) : middleware(req, res, next))
    if (parser) parser(req, res, run)
    else run()
  }
}

const servers = []

/** Serves `handler` on a loopback port; closed after the tests. */
async function serve(handler) {
  const server = http.createServer(handler)
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  servers.push(server)
  return server.address().port
}

/**
 * A browser of one origin (`host`, the Host header it sends), keeping the
 * cookies it is given and the CSRF token of its sign-in.
 */
class Browser {
  constructor(port, hostHeader = `127.0.0.1:${port}`) {
    this.port = port
    this.host = hostHeader
    this.cookies = new Map()
    this.csrf = null
  }

  send(method, path, { json, raw, headers = {}, csrf = false } = {}) {
    const body = json !== undefined ? Buffer.from(JSON.stringify(json)) : raw
    const sent = { host: this.host, ...headers }
    if (json !== undefined) sent['content-type'] = 'application/json'
    if (this.cookies.size) sent.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ')
    if (csrf && this.csrf) sent['x-csrf-token'] = this.csrf
    return new Promise((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: this.port, method, path, headers: sent }, (res) => {
        const chunks = []
        res.on('data', (c) => chunks.push(c))
        res.on('end', () => {
          for (const set of res.headers['set-cookie'] || []) {
            const [pair] = set.split(';')
            const at = pair.indexOf('=')
            const [name, value] = [pair.slice(0, at), pair.slice(at + 1)]
            if (value) this.cookies.set(name, value)
            else this.cookies.delete(name)
          }
          const text = Buffer.concat(chunks).toString()
          let parsed
          try {
            parsed = JSON.parse(text)
          } catch {
            parsed = undefined
          }
          resolve({ status: res.statusCode, headers: res.headers, text, json: parsed })
        })
      })
      req.on('error', reject)
      req.end(body)
    })
  }

  async signIn(login) {
    const answer = await this.send('POST', '/admin/api/session', { json: { login, password: PASSWORD } })
    if (answer.status === 200) this.csrf = answer.json.csrf_token
    return answer
  }
}

const code = (answer) => answer.json && answer.json.error && answer.json.error.code

let dw
let adminId
let plainId
let port

before(async () => {
  dw = await open()
  adminId = (await dw.users.create('admin', 'admin@example.com', PASSWORD)).id
  await dw.roles.grant(adminId, 'admin')
  plainId = (await dw.users.create('plain', 'plain@example.com', PASSWORD)).id
  port = await serve(host(consoleMiddleware(dw)))
})

after(() => {
  for (const server of servers) server.close()
})

test('the page names its files under the mount, which are cached for good', async () => {
  const b = new Browser(port)
  for (const path of ['/admin', '/admin/']) {
    const page = await b.send('GET', path)
    assert.equal(page.status, 200, path)
    assert.match(page.headers['content-type'], /^text\/html/)
    assert.equal(page.headers['cache-control'], 'no-store')
    assert.match(page.headers['content-security-policy'], /default-src 'self'/)
  }
  const page = await b.send('GET', '/admin')
  const files = [...page.text.matchAll(/"(\/admin\/assets\/[^"]+)"/g)].map((m) => m[1])
  assert.ok(files.length >= 2, page.text)
  for (const path of files) {
    const file = await b.send('GET', path)
    assert.equal(file.status, 200, path)
    assert.equal(file.headers['cache-control'], 'public, max-age=31536000, immutable')
    assert.equal(file.headers['content-security-policy'], page.headers['content-security-policy'])
  }
  assert.equal((await b.send('GET', '/hello')).text, 'hello', "the host's own routes are untouched")
})

test('an admin signs in, with every cookie kept, and lists the users', async () => {
  const b = new Browser(port)
  assert.equal(code(await b.send('GET', '/admin/api/session')), 'token_invalid')
  const answer = await b.signIn('admin')
  assert.equal(answer.status, 200, answer.text)
  const cookies = answer.headers['set-cookie']
  assert.equal(cookies.length, 3, 'each set-cookie is its own header')
  for (const cookie of cookies) {
    assert.match(cookie, /^dw_console/, 'loopback over http: no __Host- prefix')
    assert.match(cookie, /HttpOnly/)
    assert.match(cookie, /SameSite=Strict/)
    assert.doesNotMatch(cookie, /Secure/)
  }
  assert.equal((await b.send('GET', '/admin/api/session')).json.username, 'admin')
  const everyone = (await b.send('GET', '/admin/api/users')).json.items.map((u) => u.username)
  assert.deepEqual(everyone.sort(), ['admin', 'plain'])
  const found = (await b.send('GET', '/admin/api/users?q=PLA')).json.items.map((u) => u.username)
  assert.deepEqual(found, ['plain'])
  // The client's address reached the session (an IPv4-mapped one as IPv4).
  const sessions = await dw.sessions.list(adminId)
  assert.ok(sessions.some((s) => s.ip === '127.0.0.1'), inspect(sessions.map((s) => s.ip)))
})

test('a change needs the CSRF token', async () => {
  const b = new Browser(port)
  await b.signIn('admin')
  const forged = await b.send('POST', `/admin/api/users/${plainId}/disable`, { json: {} })
  assert.deepEqual([forged.status, code(forged)], [403, 'forbidden'])
  assert.equal((await dw.users.get(plainId)).disabled, false)
  const done = await b.send('POST', `/admin/api/users/${plainId}/disable`, { json: {}, csrf: true })
  assert.equal(done.status, 204, done.text)
  assert.equal((await dw.users.get(plainId)).disabled, true)
  await dw.users.enable(plainId)
})

test('an account without console rights is refused', async () => {
  const b = new Browser(port)
  const refused = await b.signIn('plain')
  assert.deepEqual([refused.status, code(refused)], [403, 'forbidden'])
  assert.equal(refused.headers['set-cookie'], undefined)
  assert.equal((await b.send('GET', '/admin/api/users')).status, 401)
})

test('bad input is a 4xx with an error code', async () => {
  const b = new Browser(port)
  const garbled = await b.send('POST', '/admin/api/session', {
    raw: '{not json',
    headers: { 'content-type': 'application/json' },
  })
  assert.ok([400, 422].includes(garbled.status), garbled.text)
  assert.deepEqual([code(garbled), garbled.json.error.field], ['validation_error', 'body'])
  const wrongType = await b.send('POST', '/admin/api/session', { json: { login: 5 } })
  assert.deepEqual([wrongType.status, code(wrongType)], [422, 'validation_error'])
  const number = await b.send('POST', '/admin/api/session', { json: { login: 'admin', password: 123456789 } })
  assert.equal(number.status, 422)
  assert.doesNotMatch(number.text, /123456789/)
  assert.equal(code(await b.send('GET', '/admin/api/nothing-here')), 'not_found')
})

test('a body over Console.MAX_BODY is refused with 413, unread', async () => {
  const b = new Browser(port)
  const declared = await b.send('POST', '/admin/api/session', {
    headers: { 'content-type': 'application/json', 'content-length': String(Console.MAX_BODY + 1) },
  })
  assert.deepEqual([declared.status, code(declared)], [413, 'validation_error'])
  // Sent in chunks, with no length announced.
  const answer = await new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, method: 'POST', path: '/admin/api/session', headers: { 'content-type': 'application/json' } },
      (res) => {
        const chunks = []
        res.on('data', (c) => chunks.push(c))
        res.on('end', () => resolve({ status: res.statusCode, text: Buffer.concat(chunks).toString() }))
      },
    )
    // The server may close while the last pieces are on their way.
    req.on('error', (err) => setTimeout(() => reject(err), 1000))
    const piece = Buffer.alloc(256 * 1024, 'x')
    for (let i = 0; i < 5; i++) req.write(piece)
    req.end()
  })
  assert.equal(answer.status, 413)
  assert.equal(JSON.parse(answer.text).error.code, 'validation_error')
})

test('after a body parser read the body, what it read is handed over', async () => {
  const parsed = await serve(host(consoleMiddleware(dw), { parser: jsonParser }))
  const b = new Browser(parsed)
  const answer = await b.signIn('admin')
  assert.equal(answer.status, 200, answer.text)
  const users = await b.send('GET', '/admin/api/users')
  assert.equal(users.json.items.length, 2)
  const raw = await serve(
    host(consoleMiddleware(dw), {
      parser: (req, res, next) => {
        const chunks = []
        req.on('data', (c) => chunks.push(c))
        req.on('end', () => {
          req.body = Buffer.concat(chunks) // like express.raw()
          next()
        })
      },
    }),
  )
  assert.equal((await new Browser(raw).signIn('admin')).status, 200)
})

test('under a Connect-style mount (no req.baseUrl), and at the root', async () => {
  const connect = await serve(host(consoleMiddleware(dw), { style: 'connect' }))
  const page = await new Browser(connect).send('GET', '/admin/')
  assert.equal(page.status, 200)
  assert.match(page.text, /"\/admin\/assets\/app-[0-9a-f]+\.js"/)
  const b = new Browser(connect)
  assert.equal((await b.signIn('admin')).status, 200)
  assert.equal((await b.send('GET', '/admin/api/users')).status, 200)

  const middleware = consoleMiddleware(dw)
  const root = await serve((req, res) => middleware(req, res, () => res.end('passed on')))
  const alone = await new Browser(root).send('GET', '/')
  assert.equal(alone.status, 200)
  assert.match(alone.text, /"\/assets\/app-[0-9a-f]+\.js"/)
})

test('a mount path the console cannot live under is a 500 config_error', async () => {
  const odd = await serve(host(consoleMiddleware(dw), { prefix: '/odd%20path' }))
  const answer = await new Browser(odd).send('GET', '/odd%20path/api/session')
  assert.deepEqual([answer.status, code(answer)], [500, 'config_error'])
})

test('under another host name, the cookies are __Host- prefixed and Secure', async () => {
  const b = new Browser(port, 'admin.example.com')
  const answer = await b.signIn('admin')
  assert.equal(answer.status, 200, answer.text)
  for (const cookie of answer.headers['set-cookie']) {
    assert.match(cookie, /^__Host-dw_console/)
    assert.match(cookie, /Secure/)
  }
  assert.equal((await b.send('GET', '/admin/api/users')).status, 200)
  const proxied = new Browser(port)
  const behindTls = await proxied.send('POST', '/admin/api/session', {
    json: { login: 'admin', password: PASSWORD },
    headers: { 'x-forwarded-proto': 'https' },
  })
  assert.ok(behindTls.headers['set-cookie'].every((c) => /Secure/.test(c)))
})

test('Console answers plain requests, and shows no cookie or token', async () => {
  const console_ = new Console(dw, '/admin/')
  assert.equal(console_.prefix, '/admin')
  assert.equal(inspect(console_), "Console { prefix: '/admin' }")
  assert.equal(Console.MAX_BODY, 1024 * 1024)
  const answer = await console_.handle({
    method: 'POST',
    path: '/admin/api/session',
    headers: [
      ['host', '127.0.0.1'],
      ['content-type', 'application/json'],
    ],
    body: Buffer.from(JSON.stringify({ login: 'admin', password: PASSWORD })),
    clientIp: '203.0.113.9',
  })
  assert.equal(answer.status, 200)
  assert.ok(Buffer.isBuffer(answer.body))
  const csrf = JSON.parse(answer.body.toString()).csrf_token
  const cookies = answer.headers.filter(([name]) => name === 'set-cookie').map(([, v]) => v.split(';')[0].split('=')[1])
  assert.equal(cookies.length, 3)
  const shown = inspect(answer, { depth: 5 })
  for (const secret of [csrf, PASSWORD, ...cookies]) assert.ok(!shown.includes(secret), shown)
  assert.match(shown, /status: 200/)
  const sessions = await dw.sessions.list(adminId)
  assert.ok(sessions.some((s) => s.ip === '203.0.113.9'))
  // Without a body or an address, and with input the router refuses.
  assert.equal((await console_.handle({ method: 'GET', path: '/admin/api/session', headers: [] })).status, 401)
  const bad = await console_.handle({ method: 'GET', path: 'no-slash', headers: [] })
  assert.equal(bad.status, 422)
  assert.equal(JSON.parse(bad.body.toString()).error.code, 'validation_error')
})

test('Console and consoleMiddleware need an open Doorward and a plain path', async () => {
  for (const make of [() => new Console({}, '/admin'), () => consoleMiddleware(null)]) {
    assert.throws(make, (err) => err instanceof TypeError && err.code === 'ERR_INVALID_ARG_TYPE')
  }
  assert.throws(
    () => new Console(dw, '/has space'),
    (err) => err instanceof DoorwardError && err.code === 'validation_error' && err.field === 'prefix',
  )
  const root = new Console(dw)
  assert.equal(root.prefix, '')
  assert.ok(dw instanceof Doorward)
  await assert.rejects(root.handle('GET /'), (err) => err instanceof TypeError)
})

'use strict'
// The middleware over plain node:http, with a ten-line Connect-style runner
// and no framework: authenticate, requirePermission, errorHandler (status,
// JSON body, RFC 6750 challenges, Retry-After, hidden 5xx details) and
// bearerToken.

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const http = require('node:http')

const {
  DoorwardError,
  HTTP_STATUS,
  authenticate,
  bearerToken,
  errorHandler,
  requirePermission,
  _panicForTests,
} = require('../index.js')
const { PASSWORD, open, register } = require('./helpers.js')

/**
 * Runs `stack` like Connect: plain handlers until one calls next(err), then
 * only error handlers (four parameters). What nothing handled becomes a
 * 599 text answer, so a test sees an error the middleware passed on.
 */
function run(stack, req, res) {
  let i = 0
  const next = (err) => {
    const layer = stack[i++]
    if (!layer) {
      res.statusCode = err ? 599 : 404
      res.setHeader('Content-Type', 'text/plain')
      res.end(err ? `unhandled: ${err.message}` : 'no route')
      return
    }
    try {
      if (err) {
        if (layer.length === 4) layer(err, req, res, next)
        else next(err)
      } else if (layer.length === 4) {
        next()
      } else {
        layer(req, res, next)
      }
    } catch (thrown) {
      next(thrown)
    }
  }
  next()
}

function sendJson(res, status, body) {
  res.statusCode = status
  res.setHeader('Content-Type', 'application/json')
  res.end(JSON.stringify(body))
}

let dw
let server
let base
let admin // { user, tokens }
let plain

before(async () => {
  dw = await open()
  admin = await register(dw, 'admin')
  await dw.roles.grant(admin.user.id, 'admin')
  plain = await register(dw, 'plain')

  const routes = {
    'GET /me': [
      authenticate(dw),
      (req, res) => sendJson(res, 200, { principal: req.principal, accessToken: req.accessToken, hasDoorward: req.doorward === dw }),
    ],
    'GET /maybe': [authenticate(dw, { optional: true }), (req, res) => sendJson(res, 200, { userId: req.principal ? req.principal.userId : null })],
    'GET /write': [authenticate(dw), requirePermission('users:write'), (req, res) => sendJson(res, 200, { ok: true })],
    'GET /admin': [authenticate(dw), requirePermission('admin:*'), (req, res) => sendJson(res, 200, { ok: true })],
    'GET /no-auth-first': [requirePermission('users:read'), (req, res) => sendJson(res, 200, { ok: true })],
    'GET /bad-permission': [authenticate(dw), requirePermission('not a permission'), (req, res) => sendJson(res, 200, {})],
    'POST /login': [
      (req, res, next) => {
        let body = ''
        req.on('data', (c) => (body += c))
        req.on('end', () => {
          const { login, password } = JSON.parse(body)
          dw.login(login, password, { ip: req.socket.remoteAddress, userAgent: req.headers['user-agent'] }).then(
            (pair) => sendJson(res, 200, { userAgentSeen: req.headers['user-agent'], expires: pair.expiresIn }),
            next,
          )
        })
      },
    ],
    'GET /limited': [(req, res, next) => dw.limits.limit('middleware-test', '1/1h').then(() => sendJson(res, 200, {}), next)],
    'GET /validation': [(req, res, next) => dw.users.list(undefined, 0).then(() => sendJson(res, 200, {}), next)],
    'GET /missing': [(req, res, next) => dw.users.get('no-such-user').then(() => sendJson(res, 200, {}), next)],
    'GET /panic': [(req, res, next) => _panicForTests('secret detail of a panic').then(() => sendJson(res, 200, {}), next)],
    'GET /storage': [
      (req, res, next) =>
        open({ databaseUrl: 'postgres://postgres@127.0.0.1:1/test', databaseAcquireTimeout: 1 }).then(() => sendJson(res, 200, {}), next),
    ],
    'GET /plain-error': [(req, res, next) => next(new Error('not a doorward error'))],
  }
  for (const stack of Object.values(routes)) stack.push(errorHandler())

  server = http.createServer((req, res) => {
    const stack = routes[`${req.method} ${new URL(req.url, 'http://x').pathname}`] || []
    run(stack, req, res)
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${server.address().port}`
})

after(() => new Promise((resolve) => server.close(resolve)))

async function get(path, headers = {}) {
  const res = await fetch(base + path, { headers })
  const text = await res.text()
  const type = res.headers.get('content-type') || ''
  return { status: res.status, headers: res.headers, body: type.startsWith('application/json') ? JSON.parse(text) : text }
}

const bearer = (token) => ({ authorization: `Bearer ${token}` })

test('authenticate sets req.principal and req.accessToken', async () => {
  const res = await get('/me', bearer(plain.tokens.accessToken))
  assert.equal(res.status, 200)
  assert.equal(res.body.principal.userId, plain.user.id)
  assert.equal(res.body.principal.username, 'plain')
  assert.equal(res.body.accessToken, plain.tokens.accessToken)
  assert.equal(res.body.hasDoorward, true)
  // The scheme is case-insensitive, surrounding spaces are fine.
  assert.equal((await get('/me', { authorization: `  bearer   ${plain.tokens.accessToken} ` })).status, 200)
})

test('without a token: 401, WWW-Authenticate: Bearer (no error code, RFC 6750 §3.1)', async () => {
  for (const headers of [{}, { authorization: 'Basic dXNlcjpwYXNz' }, { authorization: 'Bearer' }, { authorization: '' }]) {
    const res = await get('/me', headers)
    assert.equal(res.status, 401, JSON.stringify(headers))
    assert.equal(res.headers.get('www-authenticate'), 'Bearer', JSON.stringify(headers))
    assert.match(res.headers.get('content-type'), /^application\/json/)
    assert.equal(res.body.error.code, 'token_invalid')
    assert.equal(typeof res.body.error.message, 'string')
    assert.equal(res.body.error.field, null)
  }
})

test('with a refused token: 401, WWW-Authenticate: Bearer error="invalid_token"', async () => {
  const garbage = await get('/me', bearer('not-a-token'))
  assert.equal(garbage.status, 401)
  assert.equal(garbage.headers.get('www-authenticate'), 'Bearer error="invalid_token"')
  assert.equal(garbage.body.error.code, 'token_invalid')

  const other = await dw.login('plain', PASSWORD)
  await dw.logout(other.accessToken)
  const revoked = await get('/me', bearer(other.accessToken))
  assert.equal(revoked.status, 401)
  assert.equal(revoked.headers.get('www-authenticate'), 'Bearer error="invalid_token"')
  assert.equal(revoked.body.error.code, 'token_revoked')
})

test('authenticate optional: no principal without a (valid) token, the principal with one', async () => {
  assert.deepEqual((await get('/maybe')).body, { userId: null })
  const bad = await get('/maybe', bearer('not-a-token'))
  assert.equal(bad.status, 200)
  assert.deepEqual(bad.body, { userId: null })
  assert.deepEqual((await get('/maybe', bearer(plain.tokens.accessToken))).body, { userId: plain.user.id })
})

test('requirePermission: 403 without the permission, 200 with it', async () => {
  const denied = await get('/write', bearer(plain.tokens.accessToken))
  assert.equal(denied.status, 403)
  assert.equal(denied.body.error.code, 'forbidden')
  const challenge = denied.headers.get('www-authenticate')
  assert.ok(
    challenge === null || challenge.startsWith('Bearer error="insufficient_scope"'),
    `a 403 carries no challenge, or RFC 6750's insufficient_scope: ${challenge}`,
  )
  assert.equal((await get('/admin', bearer(plain.tokens.accessToken))).status, 403)
  assert.equal((await get('/admin', bearer(admin.tokens.accessToken))).status, 200)
  assert.equal((await get('/write', bearer(admin.tokens.accessToken))).status, 200)
  // Current grants decide, not the roles in the token.
  const moderator = await register(dw, 'moderator')
  assert.equal((await get('/write', bearer(moderator.tokens.accessToken))).status, 403)
  await dw.roles.grant(moderator.user.id, 'moderator')
  assert.equal((await get('/write', bearer(moderator.tokens.accessToken))).status, 200)
  // Without a token at all, the 401 comes first.
  const anonymous = await get('/admin')
  assert.equal(anonymous.status, 401)
  assert.equal(anonymous.headers.get('www-authenticate'), 'Bearer')
})

test('requirePermission without authenticate first: 401, plain Bearer', async () => {
  const res = await get('/no-auth-first', bearer(plain.tokens.accessToken))
  assert.equal(res.status, 401)
  assert.equal(res.headers.get('www-authenticate'), 'Bearer')
})

test('errorHandler: 422 with the field, 404, and a malformed permission', async () => {
  const invalid = await get('/validation')
  assert.equal(invalid.status, 422)
  assert.deepEqual(invalid.body.error, { code: 'validation_error', message: 'invalid limit: must be 1 to 500', field: 'limit' })
  const missing = await get('/missing')
  assert.equal(missing.status, 404)
  assert.equal(missing.body.error.code, 'not_found')
  const permission = await get('/bad-permission', bearer(plain.tokens.accessToken))
  assert.equal(permission.status, 422)
  assert.equal(permission.body.error.field, 'permission')
})

test('errorHandler: 429 with Retry-After (rate_limited and account_locked)', async () => {
  assert.equal((await get('/limited')).status, 200)
  const limited = await get('/limited')
  assert.equal(limited.status, 429)
  assert.equal(limited.body.error.code, 'rate_limited')
  const retry = Number(limited.headers.get('retry-after'))
  assert.ok(Number.isInteger(retry) && retry >= 1 && retry <= 3600, `Retry-After: ${limited.headers.get('retry-after')}`)
  assert.equal(limited.headers.get('www-authenticate'), null)

  const locking = await open({ lockoutThreshold: 1, lockoutBaseDelay: 90, rateLimitLoginAccount: 'off' })
  await register(locking, 'locked')
  await locking.login('locked', 'not the password').catch(() => {})
  const err = await locking.login('locked', PASSWORD).catch((e) => e)
  assert.equal(err.code, 'account_locked')
  const res = await new Promise((resolve) => {
    const fake = { headers: {}, statusCode: 0, setHeader(k, v) { this.headers[k.toLowerCase()] = v }, end(body) { resolve({ ...this, body }) } }
    errorHandler()(err, {}, fake, () => resolve(null))
  })
  assert.equal(res.statusCode, 429)
  assert.ok(Number(res.headers['retry-after']) >= 89 && Number(res.headers['retry-after']) <= 90, res.headers['retry-after'])
})

test('errorHandler: 5xx bodies say no more than the code', async () => {
  process.env.RUST_BACKTRACE = '0' // an expected panic: its message, no backtrace
  const panic = await get('/panic')
  assert.equal(panic.status, 500)
  assert.equal(panic.body.error.code, 'internal')
  assert.ok(!JSON.stringify(panic.body).includes('secret detail'), JSON.stringify(panic.body))
  assert.equal(panic.body.error.message, 'the server could not complete the request')

  const storage = await get('/storage')
  assert.equal(storage.status, 503)
  assert.equal(storage.body.error.code, 'storage_error')
  assert.ok(!/127\.0\.0\.1|pool|timed out/.test(JSON.stringify(storage.body)), JSON.stringify(storage.body))
})

test('errorHandler passes other errors on', async () => {
  const res = await get('/plain-error')
  assert.equal(res.status, 599)
  assert.equal(res.body, 'unhandled: not a doorward error')
})

test('errorHandler answers every code with its HTTP_STATUS', async () => {
  // Real errors for a few codes are above; here each status once, through
  // DoorwardErrors as the addon makes them (code, message).
  for (const [code, status] of Object.entries(HTTP_STATUS)) {
    const err = new DoorwardError(`message of ${code}`, code)
    const res = await new Promise((resolve) => {
      const fake = { headers: {}, setHeader(k, v) { this.headers[k.toLowerCase()] = v }, end(body) { resolve({ status: this.statusCode, headers: this.headers, body: JSON.parse(body) }) } }
      errorHandler()(err, {}, fake, () => resolve(null))
    })
    assert.equal(res.status, status, code)
    assert.equal(res.body.error.code, code)
    if (status === 401) {
      const challenge = code.startsWith('token_')
        ? 'Bearer error="invalid_token"'
        : code === 'step_up_required'
          ? 'Bearer error="insufficient_user_authentication"' // RFC 9470
          : 'Bearer'
      assert.equal(res.headers['www-authenticate'], challenge, code)
    }
    else if (code !== 'forbidden') assert.equal(res.headers['www-authenticate'], undefined, code)
  }
})

test('errorHandler sends the core\'s answer: httpErrorResponse of the addon, byte for byte', async () => {
  const { httpErrorResponse } = require('../binding.js')
  const answer = (err) =>
    new Promise((resolve) => {
      const fake = { headers: {}, setHeader(k, v) { this.headers[k] = v }, end(body) { resolve({ status: this.statusCode, headers: this.headers, body }) } }
      errorHandler()(err, {}, fake, () => resolve(null))
    })
  const missing = new DoorwardError('a bearer access token is required', 'token_invalid')
  missing.missingToken = true
  const cases = [
    [new DoorwardError('invalid limit: must be 1 to 500', 'validation_error', 'limit'), { code: 'validation_error', message: 'invalid limit: must be 1 to 500', field: 'limit' }],
    [new DoorwardError('slow down', 'rate_limited', undefined, 1.2), { code: 'rate_limited', message: 'slow down', retryAfter: 1.2 }],
    [new DoorwardError('locked', 'account_locked', undefined, 90), { code: 'account_locked', message: 'locked', retryAfter: 90 }],
    [new DoorwardError('refused', 'token_expired'), { code: 'token_expired', message: 'refused' }],
    [missing, { code: 'token_invalid', message: 'a bearer access token is required', missingToken: true }],
    [new DoorwardError('pool timed out at 10.0.0.7', 'storage_error'), { code: 'storage_error', message: 'pool timed out at 10.0.0.7' }],
    [new DoorwardError('from the future', 'brand_new_code'), { code: 'brand_new_code', message: 'from the future' }],
  ]
  for (const [err, parts] of cases) {
    const core = httpErrorResponse(parts)
    const sent = await answer(err)
    assert.equal(sent.status, core.status, err.code)
    assert.equal(sent.body, core.body, err.code)
    assert.deepEqual(sent.headers, { ...core.headers, 'Content-Type': 'application/json; charset=utf-8' }, err.code)
  }
  assert.deepEqual(httpErrorResponse({ code: 'rate_limited', message: 'm', retryAfter: 1.2 }).headers, { 'Retry-After': '2' })
  assert.deepEqual(httpErrorResponse({ code: 'token_invalid', message: 'm', missingToken: true }).headers, { 'WWW-Authenticate': 'Bearer' })
  const hidden = httpErrorResponse({ code: 'storage_error', message: 'pool timed out at 10.0.0.7' })
  assert.deepEqual(JSON.parse(hidden.body), { error: { code: 'storage_error', message: 'the server could not complete the request', field: null } })
  assert.equal(httpErrorResponse({ code: 'brand_new_code', message: 'm' }).status, 500)
})

test('ClientInfo from the request reaches sessions.list', async () => {
  const res = await fetch(`${base}/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'user-agent': 'middleware-test/2.0' },
    body: JSON.stringify({ login: 'admin', password: PASSWORD }),
  })
  assert.equal(res.status, 200)
  const [latest] = await dw.sessions.list(admin.user.id)
  assert.equal(latest.userAgent, 'middleware-test/2.0')
  assert.equal(latest.ip, '127.0.0.1')
})

test('bearerToken reads an Authorization header value', () => {
  assert.equal(bearerToken('Bearer abc.def.ghi'), 'abc.def.ghi')
  assert.equal(bearerToken('bearer abc'), 'abc')
  assert.equal(bearerToken('BEARER   abc  '), 'abc')
  assert.equal(bearerToken('Basic abc'), null)
  assert.equal(bearerToken('Bearer'), null)
  assert.equal(bearerToken('Bearer '), null)
  assert.equal(bearerToken(''), null)
  assert.equal(bearerToken(undefined), null)
  assert.equal(bearerToken(['Bearer abc']), null)
})

test('authenticate needs an open Doorward', () => {
  assert.throws(() => authenticate(), TypeError)
  assert.throws(() => authenticate({}), TypeError)
})

'use strict'
// The second factors of the example over HTTP: the enrolment page (its QR
// code as a data: image, allowed by its CSP and nowhere else), confirming
// with a code from otplib (as an authenticator app computes it), the login
// that answers a challenge and keeps the pending login in an HttpOnly
// cookie, the code form that completes it, recovery codes, step-up and
// removing the factor with a fresh authentication.

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const crypto = require('node:crypto')

const { generateSync } = require('otplib')
const { Doorward } = require('doorward')
const { createApp } = require('./app.js')

const PASSWORD = 'correct horse battery staple'
const JWT_SECRET = 'express-example-mfa-test-secret-of-32-bytes'
/** The policy of every page, and the enrolment page's: the same plus QR code images. */
const PAGE_CSP = ["default-src 'none'", "form-action 'self'", "frame-ancestors 'none'"]
const ENROLMENT_CSP = [...PAGE_CSP, "img-src 'self' data:"]

let dw
let server
let base

before(async () => {
  dw = await Doorward.open({
    databaseUrl: 'memory://',
    jwtSecret: JWT_SECRET,
    argon2MemoryKib: 64, // cheap hashing: the test is about the routes
    argon2Iterations: 1,
  })
  server = createApp(dw).listen(0, '127.0.0.1')
  await new Promise((resolve, reject) => server.once('listening', resolve).once('error', reject))
  base = `http://127.0.0.1:${server.address().port}`
})

after(() => new Promise((resolve) => server.close(resolve)))

/** The code an authenticator app shows at `when` (ms) for the base32 `secret`, by otplib. */
const codeAt = (secret, when = Date.now()) => generateSync({ secret, epoch: Math.floor(when / 1000) })

/** A request: status, headers, and the body as JSON or text. */
async function call(method, path, { json, form, token, cookie } = {}) {
  const headers = {}
  if (json !== undefined) headers['content-type'] = 'application/json'
  if (form !== undefined) headers['content-type'] = 'application/x-www-form-urlencoded'
  if (token) headers.authorization = `Bearer ${token}`
  if (cookie) headers.cookie = cookie
  const body = json !== undefined ? JSON.stringify(json) : form !== undefined ? new URLSearchParams(form).toString() : undefined
  const res = await fetch(base + path, { method, headers, body })
  const text = await res.text()
  const isJson = (res.headers.get('content-type') || '').startsWith('application/json')
  return { status: res.status, headers: res.headers, body: isJson && text ? JSON.parse(text) : text }
}

/** A Content-Security-Policy header as its directives, sorted. */
const directives = (csp) => csp.split(';').map((d) => d.trim()).filter(Boolean).sort()

/** The one Set-Cookie of a response: its name=value, and its attributes in lower case. */
function setCookie(headers) {
  const all = headers.getSetCookie()
  assert.equal(all.length, 1, `one Set-Cookie: ${all}`)
  const [pair, ...attributes] = all[0].split(';').map((p) => p.trim())
  return { pair, attributes: attributes.map((a) => a.toLowerCase()) }
}

/** Registers `name` and enrols an authenticator app through the enrolment page; its secret and recovery codes. */
async function enrol(name) {
  const reg = await call('POST', '/register', { json: { username: name, email: `${name}@example.com`, password: PASSWORD } })
  assert.equal(reg.status, 201)
  const token = reg.body.access_token
  const enrolment = await call('POST', '/me/mfa/totp', { token })
  assert.equal(enrolment.status, 200)
  const secret = /<code>([A-Z2-7]+)<\/code>/.exec(enrolment.body)[1]
  const now = Date.now()
  const confirmCode = codeAt(secret, now)
  const confirmed = await call('POST', '/me/mfa/totp/confirm', { token, json: { code: confirmCode } })
  assert.equal(confirmed.status, 200)
  return { user: reg.body.user, token, secret, now, confirmCode, recoveryCodes: confirmed.body.recovery_codes }
}

/** Logs in with the password: the challenge's body and the cookie to send back. */
async function challenged(login) {
  const res = await call('POST', '/login', { json: { login, password: PASSWORD } })
  assert.equal(res.status, 200)
  assert.equal(res.body.mfa_required, true)
  return { body: res.body, cookie: setCookie(res.headers).pair, res }
}

test('the enrolment page: the QR code as a data: image under its own CSP, then a code from the app confirms it', async () => {
  const reg = await call('POST', '/register', { json: { username: 'maya', email: 'maya@example.com', password: PASSWORD } })
  const token = reg.body.access_token
  assert.equal((await call('POST', '/me/mfa/totp')).status, 401, 'a bearer token is needed')

  const enrolment = await call('POST', '/me/mfa/totp', { token })
  assert.equal(enrolment.status, 200)
  assert.equal(enrolment.headers.get('content-type'), 'text/html; charset=utf-8')
  assert.equal(enrolment.headers.get('cache-control'), 'no-store')
  assert.equal(enrolment.headers.get('referrer-policy'), 'no-referrer')
  // The page's policy allows data: images (and images from here), nothing else more.
  assert.deepEqual(directives(enrolment.headers.get('content-security-policy')), [...ENROLMENT_CSP].sort())
  const [, src] = /<img src="([^"]+)"/.exec(enrolment.body)
  assert.ok(src.startsWith('data:image/png;base64,'), src.slice(0, 40))
  const png = Buffer.from(src.slice('data:image/png;base64,'.length), 'base64')
  assert.deepEqual([...png.subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47], 'a PNG')
  const secret = /<code>([A-Z2-7]+)<\/code>/.exec(enrolment.body)[1]
  // The other pages keep the strict policy, without images.
  const codePage = await call('GET', '/login/mfa')
  assert.deepEqual(directives(codePage.headers.get('content-security-policy')), [...PAGE_CSP].sort())

  // Nothing changes for logins until the app's code confirms it.
  const before = await call('POST', '/login', { json: { login: 'maya', password: PASSWORD } })
  assert.equal(typeof before.body.access_token, 'string')
  assert.equal((await call('GET', '/me/mfa', { token })).body.enabled, false)
  const missing = await call('POST', '/me/mfa/totp/confirm', { token, json: {} })
  assert.deepEqual([missing.status, missing.body.error.field], [422, 'code'])
  const wrongCode = `${(Number(codeAt(secret)[0]) + 5) % 10}${codeAt(secret).slice(1)}`
  const wrong = await call('POST', '/me/mfa/totp/confirm', { token, json: { code: wrongCode } })
  assert.deepEqual([wrong.status, wrong.body.error.code], [401, 'invalid_credentials'])
  const confirmed = await call('POST', '/me/mfa/totp/confirm', { token, json: { code: codeAt(secret) } })
  assert.equal(confirmed.status, 200)
  assert.equal(confirmed.headers.get('cache-control'), 'no-store')
  assert.equal(confirmed.body.recovery_codes.length, 10)
  assert.deepEqual((await call('GET', '/me/mfa', { token })).body, { totp: true, recovery_codes_left: 10, enabled: true })
})

test('login with a second factor: a challenge and an HttpOnly cookie, the code form, then the tokens at aal 2', async () => {
  const { user, secret, now, confirmCode } = await enrol('milo')
  const { body, cookie, res } = await challenged('milo')
  assert.deepEqual(body, { mfa_required: true, methods: ['totp', 'recovery_code'], expires_in: 300, code_form: '/login/mfa' })
  assert.equal(res.headers.get('cache-control'), 'no-store')
  // The pending login is in the cookie only: HttpOnly, SameSite=Strict,
  // sent to the code form alone, for as long as it lives.
  const { attributes } = setCookie(res.headers)
  assert.match(cookie, /^doorward_mfa=.+/)
  const flowId = decodeURIComponent(cookie.slice('doorward_mfa='.length))
  assert.ok(!JSON.stringify(body).includes(flowId), 'the flow id is not in the body')
  for (const attribute of ['httponly', 'samesite=strict', 'path=/login/mfa', 'max-age=300']) {
    assert.ok(attributes.includes(attribute), `${attribute} in ${attributes}`)
  }

  // The code form: the app's code, or a recovery code.
  const form = await call('GET', '/login/mfa')
  assert.equal(form.status, 200)
  const forms = [...form.body.matchAll(/<form method="post" action="([^"]*)">(.*?)<\/form>/gs)].map(([, action, inner]) => ({
    action,
    method: /name="method" value="([^"]*)"/.exec(inner)[1],
    inputs: [...inner.matchAll(/<input name="([^"]*)"/g)].map((m) => m[1]),
  }))
  assert.deepEqual(forms, [
    { action: '/login/mfa', method: 'totp', inputs: ['code'] },
    { action: '/login/mfa', method: 'recovery_code', inputs: ['code'] },
  ])

  // Without the cookie there is nothing to complete; a wrong or replayed
  // code is a 401 page and the pending login stays.
  const noCookie = await call('POST', '/login/mfa', { form: { method: 'totp', code: codeAt(secret, now + 30_000) } })
  assert.equal(noCookie.status, 400)
  assert.ok(noCookie.body.includes('That did not work'))
  const replay = await call('POST', '/login/mfa', { cookie, form: { method: 'totp', code: confirmCode } })
  assert.equal(replay.status, 401)
  assert.equal(replay.headers.get('content-type'), 'text/html; charset=utf-8')
  const badMethod = await call('POST', '/login/mfa', { cookie, form: { method: 'sms', code: '123456' } })
  assert.equal(badMethod.status, 422)

  // The next code from the app completes it: the tokens, and the cookie cleared.
  const done = await call('POST', '/login/mfa', { cookie, form: { method: 'totp', code: codeAt(secret, now + 30_000) } })
  assert.equal(done.status, 200)
  assert.equal(done.headers.get('cache-control'), 'no-store')
  assert.deepEqual(Object.keys(done.body).sort(), ['access_token', 'expires_in', 'refresh_token', 'token_type'])
  const cleared = setCookie(done.headers)
  assert.equal(cleared.pair, 'doorward_mfa=')
  assert.ok(cleared.attributes.includes('path=/login/mfa'))
  assert.ok(cleared.attributes.some((a) => a.startsWith('expires=thu, 01 jan 1970')), String(cleared.attributes))
  const me = await call('GET', '/me', { token: done.body.access_token })
  assert.equal(me.body.principal.user_id, user.id)
  assert.equal(me.body.principal.aal, 2)
  assert.deepEqual(me.body.principal.amr, ['mfa', 'otp', 'pwd'])
  assert.equal(typeof me.body.principal.auth_time, 'string')
  // Used: the same cookie again is 400.
  const again = await call('POST', '/login/mfa', { cookie, form: { method: 'totp', code: codeAt(secret, now + 30_000) } })
  assert.equal(again.status, 400)
})

test('a recovery code completes a login once; the second time it is refused', async () => {
  const { recoveryCodes, token } = await enrol('nina')
  const first = await challenged('nina')
  const done = await call('POST', '/login/mfa', { cookie: first.cookie, form: { method: 'recovery_code', code: recoveryCodes[0] } })
  assert.equal(done.status, 200)
  assert.equal((await call('GET', '/me', { token: done.body.access_token })).body.principal.aal, 2)
  const second = await challenged('nina')
  const refused = await call('POST', '/login/mfa', { cookie: second.cookie, form: { method: 'recovery_code', code: recoveryCodes[0] } })
  assert.equal(refused.status, 401)
  assert.equal((await call('GET', '/me/mfa', { token })).body.recovery_codes_left, 9)
})

/** `token`'s claims with `auth_time` an hour ago, signed again with the app's key. */
function authenticatedAnHourAgo(token) {
  const [header, payload] = token.split('.')
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'))
  claims.auth_time = Math.floor(Date.now() / 1000) - 3600
  const input = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`
  return `${input}.${crypto.createHmac('sha256', JWT_SECRET).update(input).digest('base64url')}`
}

test('removing the factor needs a fresh authentication: 401 step_up_required, then POST /me/step-up', async () => {
  const { token } = await enrol('otto')
  const old = authenticatedAnHourAgo(token)
  assert.equal((await call('GET', '/me', { token: old })).status, 200, 'the token itself is good')
  const refused = await call('DELETE', '/me/mfa/totp', { token: old })
  assert.equal(refused.status, 401)
  assert.equal(refused.body.error.code, 'step_up_required')
  assert.equal(refused.headers.get('www-authenticate'), 'Bearer error="insufficient_user_authentication"')

  const wrong = await call('POST', '/me/step-up', { token: old, json: { method: 'password', proof: 'not the password' } })
  assert.deepEqual([wrong.status, wrong.body.error.code], [401, 'invalid_credentials'])
  const badMethod = await call('POST', '/me/step-up', { token: old, json: { method: 'sms', proof: '123456' } })
  assert.deepEqual([badMethod.status, badMethod.body.error.field], [422, 'method'])
  const stepped = await call('POST', '/me/step-up', { token: old, json: { method: 'password', proof: PASSWORD } })
  assert.equal(stepped.status, 200)
  assert.equal(stepped.headers.get('cache-control'), 'no-store')
  assert.equal((await call('GET', '/me', { token: old })).status, 401, 'the old session ended')
  const removed = await call('DELETE', '/me/mfa/totp', { token: stepped.body.access_token })
  assert.equal(removed.status, 204)
  assert.deepEqual((await call('GET', '/me/mfa', { token: stepped.body.access_token })).body, {
    totp: false,
    recovery_codes_left: 0,
    enabled: false,
  })
  // Logins answer the tokens again.
  const login = await call('POST', '/login', { json: { login: 'otto', password: PASSWORD } })
  assert.equal(typeof login.body.access_token, 'string')
  assert.deepEqual(login.headers.getSetCookie(), [])
})

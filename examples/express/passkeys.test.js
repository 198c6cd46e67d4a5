'use strict'
// The browser pages over HTTP, without a browser (browser.test.js drives
// Chromium through them): the password page and the session cookie it
// sets, the account page, signing out, the second step of a login from the
// password page, the passkey pages (their CSP allows this origin's script
// and nothing inline), the static script, and the JSON routes of the
// passkey ceremonies with what they refuse.

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const crypto = require('node:crypto')
const http = require('node:http')

const { generateSync } = require('otplib')
const { Doorward } = require('doorward')
const { configFromEnv, createApp } = require('./app.js')

const PASSWORD = 'correct horse battery staple'
const JWT_SECRET = 'express-example-passkey-test-secret-32-bytes'
const PAGE_CSP = ["default-src 'none'", "form-action 'self'", "frame-ancestors 'none'"]
const PASSKEY_CSP = [...PAGE_CSP, "script-src 'self'", "connect-src 'self'"]

let dw
let server
let base
let origin

before(async () => {
  server = http.createServer()
  await new Promise((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve))
  const port = server.address().port
  base = `http://127.0.0.1:${port}`
  // The origin a browser would use, and doorward's relying party.
  origin = `http://localhost:${port}`
  dw = await Doorward.open({
    databaseUrl: 'memory://',
    jwtSecret: JWT_SECRET,
    argon2MemoryKib: 64, // cheap hashing: the test is about the routes
    argon2Iterations: 1,
    appUrl: origin,
  })
  server.on('request', createApp(dw))
})

after(() => new Promise((resolve) => server.close(resolve)))

/** A request: status, headers, and the body as JSON or text. Redirects are not followed. */
async function call(method, path, { json, form, token, cookie } = {}) {
  const headers = {}
  if (json !== undefined) headers['content-type'] = 'application/json'
  if (form !== undefined) headers['content-type'] = 'application/x-www-form-urlencoded'
  if (token) headers.authorization = `Bearer ${token}`
  if (cookie) headers.cookie = cookie
  const body = json !== undefined ? JSON.stringify(json) : form !== undefined ? new URLSearchParams(form).toString() : undefined
  const res = await fetch(base + path, { method, headers, body, redirect: 'manual' })
  const text = await res.text()
  const isJson = (res.headers.get('content-type') || '').startsWith('application/json')
  return { status: res.status, headers: res.headers, body: isJson && text ? JSON.parse(text) : text }
}

/** A Content-Security-Policy header as its directives, sorted. */
const directives = (csp) => csp.split(';').map((d) => d.trim()).filter(Boolean).sort()

/** The Set-Cookie of a response for `name`: its name=value, and its attributes in lower case. */
function setCookie(headers, name) {
  const all = headers.getSetCookie().filter((c) => c.startsWith(`${name}=`))
  assert.equal(all.length, 1, `one Set-Cookie for ${name}: ${headers.getSetCookie()}`)
  const [pair, ...attributes] = all[0].split(';').map((p) => p.trim())
  return { pair, value: decodeURIComponent(pair.slice(name.length + 1)), attributes: attributes.map((a) => a.toLowerCase()) }
}

async function registered(name) {
  const res = await call('POST', '/register', { json: { username: name, email: `${name}@example.com`, password: PASSWORD } })
  assert.equal(res.status, 201)
  return { user: res.body.user, token: res.body.access_token }
}

/** Signs `login` in on the password page: the session cookie's name=value. */
async function signedIn(login) {
  const res = await call('POST', '/login/password', { form: { login, password: PASSWORD } })
  assert.equal(res.status, 303)
  return setCookie(res.headers, 'doorward_session').pair
}

/** A well-formed WebAuthn answer to a ceremony doorward never started. */
function strangersAnswer(type) {
  const clientData = { type, challenge: crypto.randomBytes(32).toString('base64url'), origin }
  const id = crypto.randomBytes(16).toString('base64url')
  return {
    id,
    rawId: id,
    type: 'public-key',
    response: {
      clientDataJSON: Buffer.from(JSON.stringify(clientData)).toString('base64url'),
      authenticatorData: crypto.randomBytes(37).toString('base64url'),
      signature: crypto.randomBytes(64).toString('base64url'),
    },
    clientExtensionResults: {},
  }
}

test('the password page: the session cookie, the account page, signing out', async () => {
  const { user } = await registered('paula')
  const form = await call('GET', '/login/password')
  assert.equal(form.status, 200)
  assert.deepEqual(directives(form.headers.get('content-security-policy')), [...PAGE_CSP].sort())
  assert.match(form.body, /<form method="post" action="\/login\/password">/)
  assert.match(form.body, /href="\/login\/passkey"/)

  const wrong = await call('POST', '/login/password', { form: { login: 'paula', password: 'not the password' } })
  assert.equal(wrong.status, 401)
  assert.equal(wrong.headers.get('content-type'), 'text/html; charset=utf-8')
  assert.deepEqual(wrong.headers.getSetCookie(), [])

  const res = await call('POST', '/login/password', { form: { login: 'paula', password: PASSWORD } })
  assert.equal(res.status, 303)
  assert.equal(res.headers.get('location'), '/account')
  // The access token, in a cookie no script reads and no other site sends.
  const { pair, value, attributes } = setCookie(res.headers, 'doorward_session')
  for (const attribute of ['httponly', 'samesite=strict', 'path=/', 'max-age=900']) {
    assert.ok(attributes.includes(attribute), `${attribute} in ${attributes}`)
  }
  const principal = await dw.verifyToken(value)
  assert.equal(principal.userId, user.id)

  const account = await call('GET', '/account', { cookie: pair })
  assert.equal(account.status, 200)
  assert.match(account.body, /Signed in as <strong id="username">paula<\/strong>/)
  assert.match(account.body, /This session: pwd, level 1\./)
  assert.match(account.body, /<form method="post" action="\/sign-out">/)
  // No session: a page saying how to sign in.
  for (const cookie of [undefined, 'doorward_session=not-a-token']) {
    const refused = await call('GET', '/account', { cookie })
    assert.equal(refused.status, 401)
    assert.match(refused.body, /<h1>Sign in first<\/h1>/)
    assert.match(refused.body, /href="\/login\/passkey"/)
  }

  const out = await call('POST', '/sign-out', { cookie: pair, form: {} })
  assert.equal(out.status, 200)
  assert.match(out.body, /You are signed out\./)
  const cleared = setCookie(out.headers, 'doorward_session')
  assert.equal(cleared.pair, 'doorward_session=')
  assert.ok(cleared.attributes.some((a) => a.startsWith('expires=thu, 01 jan 1970')), String(cleared.attributes))
  await assert.rejects(dw.verifyToken(value), (err) => err.code === 'token_revoked')
  assert.equal((await call('GET', '/account', { cookie: pair })).status, 401)
  // Signing out again, or without a session, is no error.
  assert.equal((await call('POST', '/sign-out', { cookie: pair, form: {} })).status, 200)
  assert.equal((await call('POST', '/sign-out', { form: {} })).status, 200)
})

test('the password page with a second factor: the code form, then the browser session at level 2', async () => {
  const { user, token } = await registered('quinn')
  const enrolment = await call('POST', '/me/mfa/totp', { token })
  const secret = /<code>([A-Z2-7]+)<\/code>/.exec(enrolment.body)[1]
  const now = Date.now()
  const confirmed = await call('POST', '/me/mfa/totp/confirm', { token, json: { code: generateSync({ secret, epoch: Math.floor(now / 1000) }) } })
  assert.equal(confirmed.status, 200)

  const res = await call('POST', '/login/password', { form: { login: 'quinn', password: PASSWORD } })
  assert.equal(res.status, 200)
  assert.match(res.body, /<h1>Enter your code<\/h1>/)
  assert.match(res.body, /<input type="hidden" name="session" value="browser">/)
  const pending = setCookie(res.headers, 'doorward_mfa').pair
  assert.deepEqual(res.headers.getSetCookie().filter((c) => c.startsWith('doorward_session=')), [], 'no session yet')

  const code = generateSync({ secret, epoch: Math.floor(now / 1000) + 30 })
  const done = await call('POST', '/login/mfa', { cookie: pending, form: { method: 'totp', code, session: 'browser' } })
  assert.equal(done.status, 303)
  assert.equal(done.headers.get('location'), '/account')
  assert.equal(setCookie(done.headers, 'doorward_mfa').pair, 'doorward_mfa=', 'the pending login is cleared')
  const session = setCookie(done.headers, 'doorward_session')
  const principal = await dw.verifyToken(session.value)
  assert.deepEqual([principal.userId, principal.aal], [user.id, 2])
  const account = await call('GET', '/account', { cookie: session.pair })
  assert.match(account.body, /This session: mfa, otp, pwd, level 2\./)
})

test('the passkey pages: this origin\'s script and no inline one, the enrolment page behind the session', async () => {
  const signIn = await call('GET', '/login/passkey')
  assert.equal(signIn.status, 200)
  assert.equal(signIn.headers.get('cache-control'), 'no-store')
  assert.deepEqual(directives(signIn.headers.get('content-security-policy')), [...PASSKEY_CSP].sort())
  assert.match(signIn.body, /<form id="sign-in">/)
  assert.match(signIn.body, /<button type="submit">Sign in with a passkey<\/button>/)
  assert.match(signIn.body, /<input name="username" autocomplete="username webauthn">/, 'a username is optional')
  for (const page of [signIn.body]) {
    const scripts = [...page.matchAll(/<script([^>]*)>([^<]*)<\/script>/g)]
    assert.deepEqual(scripts.map(([, attributes, inline]) => [attributes, inline]), [[' src="/static/passkeys.js"', '']])
  }

  const script = await call('GET', '/static/passkeys.js')
  assert.equal(script.status, 200)
  assert.match(script.headers.get('content-type'), /^(text|application)\/javascript; charset=utf-8$/)
  assert.equal(script.headers.get('x-content-type-options'), 'nosniff')
  for (const use of ['parseCreationOptionsFromJSON(options.publicKey)', 'parseRequestOptionsFromJSON(options.publicKey)', 'credential.toJSON()']) {
    assert.ok(script.body.includes(use), use)
  }
  assert.equal((await call('GET', '/static/')).status, 404, 'no directory listing')

  const noSession = await call('GET', '/me/passkeys')
  assert.equal(noSession.status, 401)
  assert.match(noSession.body, /Sign in first/)
  const cookie = await signedIn((await registered('rosa')).user.username)
  const enrol = await call('GET', '/me/passkeys', { cookie })
  assert.equal(enrol.status, 200)
  assert.deepEqual(directives(enrol.headers.get('content-security-policy')), [...PASSKEY_CSP].sort())
  assert.match(enrol.body, /Signed in as <strong>rosa<\/strong>/)
  assert.match(enrol.body, /<ul id="passkeys"><\/ul><p id="no-passkeys">No passkeys yet\.<\/p>/)
  assert.match(enrol.body, /<button type="submit">Add a passkey<\/button>/)
  assert.match(enrol.body, /<script src="\/static\/passkeys\.js"><\/script>/)
  // The other pages keep their policy, without scripts.
  const account = await call('GET', '/account', { cookie })
  assert.deepEqual(directives(account.headers.get('content-security-policy')), [...PAGE_CSP].sort())
})

test('enrolment over JSON: the creation options for the signed-in user, and what finishing refuses', async () => {
  const { user, token } = await registered('sven')
  const cookie = await signedIn('sven')
  const anonymous = await call('POST', '/me/passkeys/options', { json: {} })
  assert.deepEqual([anonymous.status, anonymous.body.error.code], [401, 'token_invalid'])
  for (const auth of [{ cookie }, { token }]) {
    const res = await call('POST', '/me/passkeys/options', { ...auth, json: {} })
    assert.equal(res.status, 200)
    assert.equal(res.headers.get('cache-control'), 'no-store')
    assert.deepEqual(res.body.publicKey.rp, { id: 'localhost', name: 'doorward' })
    assert.equal(res.body.publicKey.user.name, 'sven')
    assert.equal(res.body.publicKey.authenticatorSelection.userVerification, 'required')
  }
  const noName = await call('POST', '/me/passkeys', { cookie, json: { credential: {} } })
  assert.deepEqual([noName.status, noName.body.error.field], [422, 'name'])
  for (const credential of [undefined, 'text', ['x'], null]) {
    const res = await call('POST', '/me/passkeys', { cookie, json: { name: 'laptop', credential } })
    assert.deepEqual([res.status, res.body.error.field], [422, 'credential'])
  }
  const garbage = await call('POST', '/me/passkeys', { cookie, json: { name: 'laptop', credential: { id: 'x' } } })
  assert.deepEqual([garbage.status, garbage.body.error.code, garbage.body.error.field], [422, 'validation_error', 'response'])
  const unknown = await call('POST', '/me/passkeys', { cookie, json: { name: 'laptop', credential: strangersAnswer('webauthn.create') } })
  assert.equal(unknown.status, 422, 'no attestation object: refused before any ceremony')
  assert.deepEqual(await dw.passkeys.list(user.id), [])

  // Removing one: not_found for an id the account does not have, and
  // step_up_required for a token authenticated over ten minutes ago.
  const missing = await call('DELETE', '/me/passkeys/no-such-passkey', { cookie })
  assert.deepEqual([missing.status, missing.body.error.code], [404, 'not_found'])
  const [header, payload] = token.split('.')
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'))
  claims.auth_time -= 3600
  const input = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`
  const stale = `${input}.${crypto.createHmac('sha256', JWT_SECRET).update(input).digest('base64url')}`
  const refused = await call('DELETE', '/me/passkeys/no-such-passkey', { token: stale })
  assert.deepEqual([refused.status, refused.body.error.code], [401, 'step_up_required'])
})

test('passkey sign-in over JSON: the request options, and what finishing refuses', async () => {
  await registered('tess')
  for (const body of [{}, { username: 'tess' }, { username: 'nobody' }, { username: 42 }]) {
    const res = await call('POST', '/login/passkey/options', { json: body })
    assert.equal(res.status, 200)
    assert.equal(res.headers.get('cache-control'), 'no-store')
    assert.equal(res.body.publicKey.rpId, 'localhost')
    // Tess has no passkey yet: every answer is the discoverable one.
    assert.deepEqual(res.body.publicKey.allowCredentials, [])
  }
  const none = await call('POST', '/login/passkey', { json: {} })
  assert.deepEqual([none.status, none.body.error.field], [422, 'credential'])
  const garbage = await call('POST', '/login/passkey', { json: { credential: { id: 'x' } } })
  assert.deepEqual([garbage.status, garbage.body.error.code], [422, 'validation_error'])
  const unknown = await call('POST', '/login/passkey', { json: { credential: strangersAnswer('webauthn.get') } })
  assert.deepEqual([unknown.status, unknown.body.error.code], [400, 'flow_invalid'])
  assert.deepEqual(unknown.headers.getSetCookie(), [], 'no session')
})

test('starting passkey sign-ins is limited per client address: 429 with Retry-After', async () => {
  let res
  for (let i = 0; i < 40; i++) {
    res = await call('POST', '/login/passkey/options', { json: {} })
    if (res.status !== 200) break
  }
  assert.equal(res.status, 429)
  assert.equal(res.body.error.code, 'rate_limited')
  assert.ok(Number(res.headers.get('retry-after')) >= 1)
})

test('configFromEnv: by default the public URL (and the passkeys\' origin) is http://localhost:<port>', () => {
  const secret = { DOORWARD_JWT_SECRET: 'env-test-secret-of-at-least-32-bytes!!' }
  assert.equal(configFromEnv(secret).appUrl, 'http://localhost:3000')
  assert.equal(configFromEnv({ ...secret, HOST: '127.0.0.1', PORT: '8080' }).appUrl, 'http://localhost:8080')
  assert.equal(configFromEnv({ ...secret, HOST: '0.0.0.0', PORT: '8080' }).appUrl, 'http://0.0.0.0:8080')
})

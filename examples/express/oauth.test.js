'use strict'
// Signing in with a provider through the example, against a real OpenID
// provider (npm's oidc-provider, tests/oidc: an issuer per test, its
// control server started by scripts/services) and a scripted browser
// (tests/oidc/login.mjs) that follows every redirect with cookies per
// host: from the example's /auth/corp through the provider's login page
// and back through the example's callback to the account page. Then: the
// state cookie, another browser's callback and a replay refused, a
// cancelled sign-in, an address an account has already (409), a second
// factor, a posted callback, and linking and unlinking from the account
// page. Without the provider the tests are skipped, saying so; under
// DOORWARD_REQUIRE_SERVICES=1 (CI) they fail instead.

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const http = require('node:http')
const os = require('node:os')
const path = require('node:path')
const { pathToFileURL } = require('node:url')

const { generateSync } = require('otplib')
const { Doorward } = require('doorward')
const { configFromEnv, createApp } = require('./app.js')

const PASSWORD = 'correct horse battery staple'
const REQUIRED = process.env.DOORWARD_REQUIRE_SERVICES === '1'
const OIDC_URL = process.env.DOORWARD_TEST_OIDC_URL || 'http://127.0.0.1:9400'
const LOGIN = pathToFileURL(path.join(__dirname, '..', '..', 'tests', 'oidc', 'login.mjs')).href
const PAGE_CSP = ["default-src 'none'", "form-action 'self'", "frame-ancestors 'none'"]

let server
let base
/** Why the provider cannot be used, or null once it is set up. */
let missing = null
let dw
let issuer
/** tests/oidc/login.mjs: browse() and CookieJar. */
let login

before(async () => {
  login = await import(LOGIN)
  server = http.createServer()
  await new Promise((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${server.address().port}`
  // A fresh issuer whose client `example` may come back to this app's callback.
  let answer
  try {
    answer = await fetch(`${OIDC_URL}/issuers`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        clients: [{ client_id: 'example', client_secret: 'example-secret', redirect_uris: [`${base}/auth/corp/callback`] }],
      }),
      signal: AbortSignal.timeout(5000),
    })
  } catch (err) {
    missing = `the test OpenID provider is not reachable at ${OIDC_URL} (scripts/services starts it): ${err.cause?.code || err.message}`
    return
  }
  assert.equal(answer.status, 201, await answer.clone().text())
  issuer = await answer.json()
  dw = await Doorward.open({
    databaseUrl: 'memory://',
    jwtSecret: 'express-example-oauth-test-secret-32-bytes',
    argon2MemoryKib: 64, // cheap hashing: the test is about the routes
    argon2Iterations: 1,
    oauthProviders: [
      { id: 'corp', name: 'Corp SSO', issuer: issuer.issuer, clientId: 'example', clientSecret: 'example-secret' },
    ],
  })
  server.on('request', createApp(dw))
})

after(async () => {
  server.closeAllConnections()
  await new Promise((resolve) => server.close(resolve))
  if (issuer) await fetch(`${OIDC_URL}/issuers/${issuer.id}`, { method: 'DELETE' }).catch(() => {})
})

/** False (and `t` skipped) without the provider; a failure instead under DOORWARD_REQUIRE_SERVICES=1. */
function ready(t) {
  if (!missing) return true
  if (REQUIRED) throw new Error(`required by DOORWARD_REQUIRE_SERVICES=1, but ${missing}`)
  t.skip(missing)
  return false
}

/** A request with the browser's cookies of `jar` (kept up to date); redirects are not followed. */
async function request(jar, method, url, { form } = {}) {
  const headers = {}
  const cookie = jar.header(url)
  if (cookie) headers.cookie = cookie
  if (form !== undefined) headers['content-type'] = 'application/x-www-form-urlencoded'
  const body = form === undefined ? undefined : typeof form === 'string' ? form : new URLSearchParams(form).toString()
  const res = await fetch(url, { method, headers, body, redirect: 'manual' })
  jar.store(url, res.headers.getSetCookie())
  return { status: res.status, headers: res.headers, body: await res.text() }
}

/** The browser's path from the example's /auth/corp to the provider's answer, not requested: its URL. */
async function toCallback(jar, account, { cancel = false } = {}) {
  const { url } = await login.browse(`${base}/auth/corp`, { account, cancel, jar, stopAt: `${base}/auth/corp/callback` })
  assert.ok(url, 'the provider sent the browser back')
  return url
}

/** A Content-Security-Policy header as its directives, sorted. */
const directives = (csp) => csp.split(';').map((d) => d.trim()).filter(Boolean).sort()

test('the whole dance: /auth/corp, the provider\'s login page, the callback, the account page', async (t) => {
  if (!ready(t)) return
  const jar = new login.CookieJar()
  // The sign-in page offers the provider.
  const signInPage = await request(jar, 'GET', `${base}/login/password`)
  assert.match(signInPage.body, /<a href="\/auth\/corp">Sign in with Corp SSO<\/a>/)

  const final = await login.browse(`${base}/auth/corp`, { account: 'newcomer@example.org', jar })
  assert.equal(final.status, 200, final.body)
  assert.ok(final.url.startsWith(`${base}/auth/corp/callback?`), final.url)
  assert.match(final.body, /Welcome! Your account was created with Corp SSO\./)
  assert.match(final.body, /Signed in as <strong id="username">newcomer<\/strong>/)
  assert.match(final.body, /This session: fed, level 1\./)
  assert.match(final.body, /Corp SSO: linked as newcomer@example\.org\./)
  // The browser is signed in: its session cookie opens the account page.
  assert.equal(jar.header(`${base}/auth/corp/callback`).includes('doorward_oauth='), false, 'the state cookie is gone')
  const account = await request(jar, 'GET', `${base}/account`)
  assert.equal(account.status, 200)
  assert.match(account.body, /Signed in as <strong id="username">newcomer<\/strong>/)
  const user = await dw.users.getByEmail('newcomer@example.org')
  assert.ok(user.emailVerifiedAt instanceof Date, 'the provider verified the address')
  const [identity] = await dw.users.identities(user.id)
  assert.deepEqual([identity.provider, identity.email], ['corp', 'newcomer@example.org'])

  // Again in a new browser: the same account, no welcome.
  const again = await login.browse(`${base}/auth/corp`, { account: 'newcomer@example.org' })
  assert.equal(again.status, 200)
  assert.match(again.body, /Signed in with Corp SSO\./)
  assert.match(again.body, /Signed in as <strong id="username">newcomer<\/strong>/)
  assert.equal((await dw.users.list()).items.filter((u) => u.email === 'newcomer@example.org').length, 1)
})

test('the start: a 302 to the provider, the state in an HttpOnly, SameSite=Lax cookie on /auth', async (t) => {
  if (!ready(t)) return
  const res = await fetch(`${base}/auth/corp`, { redirect: 'manual' })
  assert.equal(res.status, 302)
  const location = new URL(res.headers.get('location'))
  assert.equal(location.origin, new URL(issuer.issuer).origin)
  assert.equal(location.searchParams.get('redirect_uri'), `${base}/auth/corp/callback`)
  assert.equal(location.searchParams.get('code_challenge_method'), 'S256')
  assert.equal(res.headers.get('cache-control'), 'no-store')
  const [cookie] = res.headers.getSetCookie()
  const [pair, ...attributes] = cookie.split(';').map((p) => p.trim().toLowerCase())
  assert.ok(pair.startsWith('doorward_oauth='))
  assert.equal(decodeURIComponent(cookie.split(';')[0].slice('doorward_oauth='.length)), location.searchParams.get('state'))
  for (const attribute of ['httponly', 'samesite=lax', 'path=/auth', 'max-age=600']) {
    assert.ok(attributes.includes(attribute), `${attribute} in ${cookie}`)
  }
  // An unknown provider: a page, 422.
  const unknown = await fetch(`${base}/auth/nope`, { redirect: 'manual' })
  assert.equal(unknown.status, 422)
  assert.match(await unknown.text(), /no provider `nope` is configured/)
})

test('a callback without the state cookie (another browser), or replayed, signs nobody in', async (t) => {
  if (!ready(t)) return
  const jar = new login.CookieJar()
  const callback = await toCallback(jar, 'careful@example.org')
  // Another browser, which has no state cookie: refused, and the sign-in still works.
  const elsewhere = await request(new login.CookieJar(), 'GET', callback)
  assert.equal(elsewhere.status, 400)
  assert.match(elsewhere.body, /was not started here/)
  assert.deepEqual(directives(elsewhere.headers.get('content-security-policy')), [...PAGE_CSP].sort())
  const signed = await request(jar, 'GET', callback)
  assert.equal(signed.status, 200)
  assert.match(signed.body, /Signed in as <strong id="username">careful<\/strong>/)
  assert.ok(jar.header(`${base}/account`).includes('doorward_session='))
  // The same callback again, even with a state cookie: used already.
  const replay = await request(jar, 'GET', callback)
  assert.equal(replay.status, 400)
})

test('a cancelled sign-in is a page with the provider\'s error', async (t) => {
  if (!ready(t)) return
  const before = await dw.users.count()
  const final = await login.browse(`${base}/auth/corp`, { cancel: true })
  assert.equal(final.status, 400)
  assert.ok(final.url.startsWith(`${base}/auth/corp/callback?error=access_denied&`), final.url)
  assert.match(final.body, /corp did not sign the user in: access_denied \(End-User aborted interaction\)/)
  assert.equal(await dw.users.count(), before, 'nobody signed up')
})

test('an address an account has already: 409, sign in with the password and link from the account page', async (t) => {
  if (!ready(t)) return
  const reg = await fetch(`${base}/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'taken', email: 'taken@example.org', password: PASSWORD }),
  })
  assert.equal(reg.status, 201)
  const final = await login.browse(`${base}/auth/corp`, { account: 'taken@example.org' })
  assert.equal(final.status, 409)
  assert.match(final.body, /<p id="account-exists">/)
  assert.match(final.body, /Sign in with your password, then link Corp SSO from your account page\./)
})

test('an account with a second factor: the code form, then the account page', async (t) => {
  if (!ready(t)) return
  const first = await login.browse(`${base}/auth/corp`, { account: 'guarded@example.org' })
  assert.equal(first.status, 200)
  const user = await dw.users.getByEmail('guarded@example.org')
  const enrolment = await dw.mfa.startTotp(user.id)
  const now = Math.floor(Date.now() / 1000)
  await dw.mfa.confirmTotp(user.id, generateSync({ secret: enrolment.secret, epoch: now }))

  const jar = new login.CookieJar()
  const codeForm = await login.browse(`${base}/auth/corp`, { account: 'guarded@example.org', jar })
  assert.equal(codeForm.status, 200)
  assert.match(codeForm.body, /Enter your code/)
  assert.match(codeForm.body, /name="session" value="browser"/)
  assert.equal(jar.header(`${base}/account`).includes('doorward_session='), false, 'not signed in yet')
  assert.ok(jar.header(`${base}/login/mfa`).includes('doorward_mfa='), 'the pending login is kept')
  // The next time step's code (the one that confirmed is spent).
  const code = generateSync({ secret: enrolment.secret, epoch: now + 30 })
  const done = await request(jar, 'POST', `${base}/login/mfa`, { form: { method: 'totp', code, session: 'browser' } })
  assert.equal(done.status, 303)
  assert.equal(done.headers.get('location'), '/account')
  const account = await request(jar, 'GET', `${base}/account`)
  assert.match(account.body, /Signed in as <strong id="username">guarded<\/strong>/)
  assert.match(account.body, /This session: fed, otp, level 1\./)
})

test('a posted callback (a provider\'s form_post) is read from its body', async (t) => {
  if (!ready(t)) return
  const jar = new login.CookieJar()
  const callback = await toCallback(jar, 'poster@example.org')
  const posted = await request(jar, 'POST', `${base}/auth/corp/callback`, { form: new URL(callback).search.slice(1) })
  assert.equal(posted.status, 200, posted.body)
  assert.match(posted.body, /Signed in as <strong id="username">poster<\/strong>/)
})

test('linking from the account page, signing in with the link, and unlinking', async (t) => {
  if (!ready(t)) return
  const reg = await fetch(`${base}/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'linker', email: 'linker@example.com', password: PASSWORD }),
  })
  assert.equal(reg.status, 201)
  const jar = new login.CookieJar()
  const signedIn = await request(jar, 'POST', `${base}/login/password`, { form: { login: 'linker', password: PASSWORD } })
  assert.equal(signedIn.status, 303)
  const account = await request(jar, 'GET', `${base}/account`)
  assert.match(account.body, /<form method="post" action="\/auth\/corp\/link"><button>Link Corp SSO<\/button><\/form>/)

  // Without a session: the page asking to sign in.
  assert.equal((await request(new login.CookieJar(), 'POST', `${base}/auth/corp/link`, { form: {} })).status, 401)

  // The form's answer goes on to the provider by itself (a redirect would
  // break the pages' form-action 'self' in Chrome and Safari).
  const linking = await request(jar, 'POST', `${base}/auth/corp/link`, { form: {} })
  assert.equal(linking.status, 200)
  const [, target] = /^0; url=(.+)$/.exec(linking.headers.get('refresh'))
  assert.ok(target.startsWith(`${issuer.issuer}/`), target)
  assert.match(linking.body, /<a id="continue" href="[^"]+">Continue to Corp SSO<\/a>/)
  assert.ok(jar.header(`${base}/auth/corp/callback`).includes('doorward_oauth='))
  // Any address at the provider: the user asked for the link.
  const linked = await login.browse(target, { account: 'work-address@example.org', jar })
  assert.equal(linked.status, 200, linked.body)
  assert.match(linked.body, /Your Corp SSO account is linked/)
  const user = await dw.users.getByUsername('linker')
  assert.deepEqual((await dw.users.identities(user.id)).map((i) => i.provider), ['corp'])
  const listed = await request(jar, 'GET', `${base}/account`)
  assert.match(listed.body, /Corp SSO: linked as work-address@example\.org\./)

  // That identity now signs the account in.
  const viaProvider = await login.browse(`${base}/auth/corp`, { account: 'work-address@example.org' })
  assert.match(viaProvider.body, /Signed in as <strong id="username">linker<\/strong>/)

  // Unlinked (the account keeps its password), it is offered again.
  const unlinked = await request(jar, 'POST', `${base}/auth/corp/unlink`, { form: {} })
  assert.equal(unlinked.status, 303)
  assert.equal(unlinked.headers.get('location'), '/account')
  assert.deepEqual(await dw.users.identities(user.id), [])
  assert.match((await request(jar, 'GET', `${base}/account`)).body, /Link Corp SSO/)
  // Once more: there is nothing to unlink.
  assert.equal((await request(jar, 'POST', `${base}/auth/corp/unlink`, { form: {} })).status, 404)

  // An account made by the provider keeps its only way in: 422.
  const made = new login.CookieJar()
  await login.browse(`${base}/auth/corp`, { account: 'only@example.org', jar: made })
  const last = await request(made, 'POST', `${base}/auth/corp/unlink`, { form: {} })
  assert.equal(last.status, 422)
  assert.match(last.body, /last way to sign in/)
})

test('providers come from the configuration file DOORWARD_CONFIG names', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'doorward-express-oauth-'))
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }))
  const file = path.join(dir, 'doorward.toml')
  fs.writeFileSync(
    file,
    [
      'database_url = "memory://"',
      'jwt_secret = "express-example-oauth-toml-secret-32-bytes"',
      '',
      '[[oauth_providers]]',
      'id = "google"',
      'kind = "google"',
      'client_id = "1234.apps.googleusercontent.com"',
      'client_secret = "from-the-console"',
      '',
      '[[oauth_providers]]',
      'id = "corp"',
      'name = "Corp SSO"',
      'issuer = "https://login.example.com"',
      'client_id = "example"',
      'client_secret = "example-secret"',
      '',
    ].join('\n'),
  )
  const config = configFromEnv({ DOORWARD_CONFIG: file })
  assert.equal(config, file)
  const fromFile = await Doorward.open(config)
  assert.deepEqual(
    fromFile.oauth.providers().map((p) => [p.id, p.name, p.kind]),
    [
      ['corp', 'Corp SSO', 'oidc'],
      ['google', 'Google', 'google'],
    ],
  )
})

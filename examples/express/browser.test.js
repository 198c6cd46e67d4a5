'use strict'
// Passkeys in a real browser: Chromium (the system's /usr/bin/chromium,
// driven by playwright-core, which downloads nothing) with the DevTools
// virtual authenticator standing in for a platform authenticator that
// verifies its user. The app listens on http://localhost:<port>, the
// origin doorward's appUrl names (WebAuthn allows plain http on localhost
// only). The flow: sign in with the password page, add a passkey on the
// enrolment page, sign out, sign in again with "Sign in with a passkey"
// and no username (a discoverable credential), and see the account page
// name the user; its screenshot goes to test-output/passkey-signed-in.png.
// And a sign-in with the test OpenID provider (tests/oidc) on 127.0.0.1,
// another site than the app's localhost: "Sign in with Corp SSO", the
// provider's login page, the account page, whose session cookie then
// works; and a password account linking the provider from its account
// page. Those two prove what a scripted client cannot: that the pages'
// SameSite=Strict session cookie and form-action 'self' let the dance
// through in a real browser.
//
// Without /usr/bin/chromium (or, for the second, the provider) a test is
// skipped, saying so; with DOORWARD_REQUIRE_SERVICES=1 (CI) it fails
// instead. scripts/services --install installs Chromium from the
// distribution, and scripts/services starts the provider.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const http = require('node:http')
const path = require('node:path')

const { Doorward } = require('doorward')
const { createApp } = require('./app.js')

const CHROMIUM = '/usr/bin/chromium'
const REQUIRED = process.env.DOORWARD_REQUIRE_SERVICES === '1'
const OIDC_URL = process.env.DOORWARD_TEST_OIDC_URL || 'http://127.0.0.1:9400'
const PASSWORD = 'correct horse battery staple'
const SCREENSHOT = path.join(__dirname, 'test-output', 'passkey-signed-in.png')

/**
 * The app on a free loopback port, reached as http://localhost:<port>, with
 * doorward's appUrl set to that origin and `more(base)` laid over the
 * configuration; null (and `t` skipped) when `more` says a service is missing.
 */
async function serve(t, more = async () => ({})) {
  const server = http.createServer()
  await new Promise((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve))
  const base = `http://localhost:${server.address().port}`
  const extra = await more(base)
  if (!extra) {
    server.close()
    return null
  }
  const dw = await Doorward.open({
    databaseUrl: 'memory://',
    jwtSecret: 'express-example-browser-test-secret-32-bytes',
    argon2MemoryKib: 64, // cheap hashing: the test is about the pages
    argon2Iterations: 1,
    appUrl: base,
    ...extra,
  })
  server.on('request', createApp(dw))
  t.after(() => {
    server.closeAllConnections()
    return new Promise((resolve) => server.close(resolve))
  })
  return { dw, base }
}

/** False (and `t` skipped, saying `message`); a failure instead under DOORWARD_REQUIRE_SERVICES=1. */
function missing(t, message) {
  if (REQUIRED) throw new Error(`required by DOORWARD_REQUIRE_SERVICES=1, but ${message}`)
  t.skip(`${message}: the browser test is skipped`)
  return false
}

/** Whether Chromium is there to drive. */
function chromiumThere(t) {
  if (fs.existsSync(CHROMIUM)) return true
  return missing(t, `Chromium is not installed at ${CHROMIUM} (apt-get install chromium, or scripts/services --install)`)
}

test('Chromium: password sign-in, add a passkey, sign out, sign in with the passkey and no username', { timeout: 120_000 }, async (t) => {
  if (!chromiumThere(t)) return
  const { chromium } = require('playwright-core')
  const { dw, base } = await serve(t)

  // Running as root (CI containers) needs --no-sandbox.
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] })
  t.after(() => browser.close())
  const context = await browser.newContext()
  const page = await context.newPage()
  // Anything the pages' Content-Security-Policy blocks, or a script error, fails the test.
  const problems = []
  page.on('console', (message) => {
    if (/Content.Security.Policy|Refused to/i.test(message.text())) problems.push(message.text())
  })
  page.on('pageerror', (err) => problems.push(String(err)))

  // A platform authenticator that keeps discoverable credentials and verifies its user.
  const cdp = await context.newCDPSession(page)
  await cdp.send('WebAuthn.enable')
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true },
  })

  // A new account (the JSON API), then the password page signs the browser in.
  const registered = await fetch(`${base}/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'alice', email: 'alice@example.com', password: PASSWORD }),
  })
  assert.equal(registered.status, 201)
  const userId = (await registered.json()).user.id
  await page.goto(`${base}/login/password`)
  await page.fill('input[name="login"]', 'alice')
  await page.fill('input[name="password"]', PASSWORD)
  await page.click('button:has-text("Sign in")')
  await page.waitForURL(`${base}/account`)
  assert.equal(await page.textContent('#username'), 'alice')
  const cookies = await context.cookies()
  const session = cookies.find((c) => c.name === 'doorward_session')
  assert.ok(session, `the session cookie: ${JSON.stringify(cookies.map((c) => c.name))}`)
  assert.equal(session.httpOnly, true)
  assert.equal(session.sameSite, 'Strict')
  assert.equal(await page.evaluate(() => document.cookie), '', 'no script reads the session')

  // The enrolment page: "Add a passkey" makes one with the virtual authenticator.
  await page.click('a:has-text("Your passkeys")')
  await page.waitForURL(`${base}/me/passkeys`)
  assert.equal(await page.textContent('#no-passkeys'), 'No passkeys yet.')
  await page.fill('input[name="name"]', 'Virtual authenticator')
  await page.click('button:has-text("Add a passkey")')
  const status = page.locator('#status')
  await page.waitForFunction(() => document.getElementById('status').textContent !== '')
  assert.equal(await status.textContent(), 'Passkey "Virtual authenticator" added.')
  assert.match(await page.textContent('#passkeys'), /^Virtual authenticator: added \d{4}-\d\d-\d\d \d\d:\d\d UTC, not used yet$/)
  const [passkey] = await dw.passkeys.list(userId)
  assert.equal(passkey.name, 'Virtual authenticator')
  assert.equal(passkey.lastUsedAt, undefined)
  // The authenticator keeps it as a discoverable credential of localhost, for Alice.
  const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId })
  assert.equal(credentials.length, 1)
  assert.equal(credentials[0].isResidentCredential, true)
  assert.equal(credentials[0].rpId, 'localhost')
  assert.equal(Buffer.from(credentials[0].credentialId, 'base64').toString('base64url'), passkey.id)
  // The page lists it when loaded again.
  await page.reload()
  assert.match(await page.textContent('#passkeys'), /^Virtual authenticator: added .* UTC, not used yet$/)

  // Sign out: the session ends, and the account page asks to sign in.
  const revoked = (await context.cookies()).find((c) => c.name === 'doorward_session').value
  await page.goto(`${base}/account`)
  await page.click('button:has-text("Sign out")')
  await page.waitForSelector('text=You are signed out.')
  assert.equal((await context.cookies()).find((c) => c.name === 'doorward_session'), undefined, 'the cookie is gone')
  await assert.rejects(dw.verifyToken(revoked), (err) => err.code === 'token_revoked')
  const signedOut = await page.goto(`${base}/account`)
  assert.equal(signedOut.status(), 401)
  assert.equal(await page.textContent('h1'), 'Sign in first')

  // Sign in with the passkey, no username: the browser offers the one it holds.
  await page.goto(`${base}/login/passkey`)
  assert.equal(await page.inputValue('input[name="username"]'), '')
  await page.click('button:has-text("Sign in with a passkey")')
  await page.waitForURL(`${base}/account`)
  assert.equal(await page.textContent('#username'), 'alice')
  assert.match(await page.textContent('body'), /This session: hwk, mfa, user, level 2\./)
  const [used] = await dw.passkeys.list(userId)
  assert.ok(used.lastUsedAt instanceof Date, 'the passkey is marked used')
  const token = (await context.cookies()).find((c) => c.name === 'doorward_session').value
  const principal = await dw.verifyToken(token)
  assert.deepEqual([principal.userId, principal.aal], [userId, 2])

  fs.mkdirSync(path.dirname(SCREENSHOT), { recursive: true })
  fs.rmSync(SCREENSHOT, { force: true })
  await page.screenshot({ path: SCREENSHOT, fullPage: true })
  assert.ok(fs.statSync(SCREENSHOT).size > 0, `${SCREENSHOT} is not empty`)
  assert.deepEqual(problems, [], 'no CSP violation or script error on the pages')
})

test('Chromium: sign in with an OpenID provider, then link it to a password account from the account page', { timeout: 120_000 }, async (t) => {
  if (!chromiumThere(t)) return
  // The provider listens on 127.0.0.1, another site than the app's
  // localhost: the redirects between them cross sites, as in production.
  const served = await serve(t, async (base) => {
    let answer
    try {
      answer = await fetch(`${OIDC_URL}/issuers`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          clients: [{ client_id: 'browser', client_secret: 'browser-secret', redirect_uris: [`${base}/auth/corp/callback`] }],
        }),
        signal: AbortSignal.timeout(5000),
      })
    } catch (err) {
      return missing(t, `the test OpenID provider is not reachable at ${OIDC_URL} (scripts/services starts it): ${err.cause?.code || err.message}`)
    }
    assert.equal(answer.status, 201)
    const { issuer, id } = await answer.json()
    t.after(() => fetch(`${OIDC_URL}/issuers/${id}`, { method: 'DELETE' }).catch(() => {}))
    return {
      oauthProviders: [{ id: 'corp', name: 'Corp SSO', issuer, clientId: 'browser', clientSecret: 'browser-secret' }],
    }
  })
  if (!served) return
  const { dw, base } = served
  const { chromium } = require('playwright-core')
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] })
  t.after(() => browser.close())
  // Anything a page's Content-Security-Policy blocks (a form's redirect
  // under form-action, say) fails the test.
  const problems = []
  const watch = (page) => {
    page.on('console', (message) => {
      if (/Content.Security.Policy|Refused to/i.test(message.text())) problems.push(message.text())
    })
    page.on('pageerror', (err) => problems.push(String(err)))
  }
  /** Signs in on the provider's login page the browser is on. */
  async function providerLogin(page, account) {
    await page.waitForSelector('input[name="login"]')
    assert.ok(page.url().startsWith('http://127.0.0.1:'), page.url())
    await page.fill('input[name="login"]', account)
    await page.fill('input[name="password"]', 'anything')
    await page.click('button[type="submit"]')
  }

  // A new user: "Sign in with Corp SSO" on the sign-in page, the
  // provider's login page, and back to the account page.
  const context = await browser.newContext()
  const page = await context.newPage()
  watch(page)
  await page.goto(`${base}/login/password`)
  await page.click('a:has-text("Sign in with Corp SSO")')
  await providerLogin(page, 'chrome@example.org')
  await page.waitForSelector('#username')
  assert.ok(page.url().startsWith(`${base}/auth/corp/callback?`), page.url())
  assert.equal(await page.textContent('#username'), 'chrome')
  assert.equal(await page.textContent('#signed-in-with'), 'Welcome! Your account was created with Corp SSO.')
  const session = (await context.cookies()).find((c) => c.name === 'doorward_session')
  assert.ok(session && session.httpOnly && session.sameSite === 'Strict', 'the browser session')
  assert.equal((await context.cookies()).find((c) => c.name === 'doorward_oauth'), undefined, 'the state cookie is gone')
  // The session works from here on: the account page by a link of this site.
  await page.click('a:has-text("Your passkeys")')
  await page.waitForURL(`${base}/me/passkeys`)
  await page.goto(`${base}/account`)
  assert.equal(await page.textContent('#username'), 'chrome')

  // A password account links the provider from its account page, in a
  // browser of its own (no session at the provider yet).
  const registered = await fetch(`${base}/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'bob', email: 'bob@example.com', password: PASSWORD }),
  })
  assert.equal(registered.status, 201)
  const userId = (await registered.json()).user.id
  const other = await (await browser.newContext()).newPage()
  watch(other)
  await other.goto(`${base}/login/password`)
  await other.fill('input[name="login"]', 'bob')
  await other.fill('input[name="password"]', PASSWORD)
  await other.click('button:has-text("Sign in")')
  await other.waitForURL(`${base}/account`)
  await other.click('button:has-text("Link Corp SSO")')
  await providerLogin(other, 'bob-at-work@example.org')
  await other.waitForSelector('#linked')
  assert.equal(await other.textContent('h1'), 'Corp SSO is linked')
  const identities = await dw.users.identities(userId)
  assert.deepEqual(identities.map((i) => [i.provider, i.email]), [['corp', 'bob-at-work@example.org']])
  await other.click('a:has-text("Your account")')
  await other.waitForURL(`${base}/account`)
  assert.match(await other.textContent('#providers'), /Corp SSO: linked as bob-at-work@example\.org\./)
  assert.deepEqual(problems, [], 'no CSP violation or script error on the pages')
})

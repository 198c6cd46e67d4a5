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
//
// Without /usr/bin/chromium the test is skipped, saying so; with
// DOORWARD_REQUIRE_SERVICES=1 (CI) it fails instead. scripts/services
// --install installs Chromium from the distribution.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const http = require('node:http')
const path = require('node:path')

const { Doorward } = require('doorward')
const { createApp } = require('./app.js')

const CHROMIUM = '/usr/bin/chromium'
const REQUIRED = process.env.DOORWARD_REQUIRE_SERVICES === '1'
const PASSWORD = 'correct horse battery staple'
const SCREENSHOT = path.join(__dirname, 'test-output', 'passkey-signed-in.png')

/** The app on a free loopback port, reached as http://localhost:<port>, with doorward's appUrl set to that origin. */
async function serve(t) {
  const server = http.createServer()
  await new Promise((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve))
  const base = `http://localhost:${server.address().port}`
  const dw = await Doorward.open({
    databaseUrl: 'memory://',
    jwtSecret: 'express-example-browser-test-secret-32-bytes',
    argon2MemoryKib: 64, // cheap hashing: the test is about the pages
    argon2Iterations: 1,
    appUrl: base,
  })
  server.on('request', createApp(dw))
  t.after(() => {
    server.closeAllConnections()
    return new Promise((resolve) => server.close(resolve))
  })
  return { dw, base }
}

test('Chromium: password sign-in, add a passkey, sign out, sign in with the passkey and no username', { timeout: 120_000 }, async (t) => {
  if (!fs.existsSync(CHROMIUM)) {
    const message = `Chromium is not installed at ${CHROMIUM} (apt-get install chromium, or scripts/services --install)`
    if (REQUIRED) throw new Error(`required by DOORWARD_REQUIRE_SERVICES=1, but ${message}`)
    t.skip(`${message}: the browser test is skipped`)
    return
  }
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

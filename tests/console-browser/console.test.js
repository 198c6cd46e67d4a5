'use strict'
// The admin console in a real browser: `doorward console` on a fresh
// SQLite file, driven in the system's Chromium (/usr/bin/chromium, through
// playwright-core, which downloads nothing). An administrator signs in,
// creates a role, searches an account, grants it the role, revokes its
// session (whose browser is then signed out), verifies the audit chain and
// finds the grant recorded with the administrator as actor, lists the
// role's holders, and reads the webhooks, configuration and monitoring
// pages. An account without a
// console right is refused, a read-only one sees no write controls, and a
// POST without the CSRF token is refused. A screenshot of each page goes to
// test-output/.
//
// The binary is DOORWARD_BIN, else the debug build under target/. Without
// Chromium the test is skipped, saying so; with DOORWARD_REQUIRE_SERVICES=1
// (CI) it fails instead (scripts/services --install installs Chromium).

const { test } = require('node:test')
const assert = require('node:assert/strict')
const { execFileSync, spawn } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const readline = require('node:readline')

const CHROMIUM = '/usr/bin/chromium'
const REQUIRED = process.env.DOORWARD_REQUIRE_SERVICES === '1'
const PASSWORD = 'correct horse battery staple'
const OUTPUT = path.join(__dirname, 'test-output')
const ROOT = path.join(__dirname, '..', '..')

/** The doorward binary: DOORWARD_BIN, else a debug build under target/. */
function binary() {
  if (process.env.DOORWARD_BIN) return process.env.DOORWARD_BIN
  const target = path.join(ROOT, 'target')
  const candidates = [path.join(target, 'debug', 'doorward')]
  if (fs.existsSync(target)) {
    for (const triple of fs.readdirSync(target)) candidates.push(path.join(target, triple, 'debug', 'doorward'))
  }
  const found = candidates.find((p) => fs.existsSync(p))
  if (!found) throw new Error('no doorward binary: build it (cargo build -p doorward-cli) or set DOORWARD_BIN')
  return found
}

/** A fresh SQLite file with an administrator, two other accounts and a read-only console role. */
function prepare(bin) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'doorward-console-'))
  const env = {
    ...process.env,
    DOORWARD_DATABASE_URL: `sqlite://${path.join(dir, 'console.db')}?mode=rwc`,
    DOORWARD_JWT_SECRET: 'console-browser-test-secret-of-32-bytes',
    DOORWARD_ARGON2_MEMORY_KIB: '64', // cheap hashing: the test is about the pages
    DOORWARD_ARGON2_ITERATIONS: '1',
    DOORWARD_FILES_URL: `file://${path.join(dir, 'files')}`,
    DOORWARD_PASSWORD: PASSWORD,
  }
  const run = (...args) => execFileSync(bin, args, { env, stdio: ['ignore', 'pipe', 'pipe'] })
  run('user', 'add', 'admin', 'admin@example.com')
  run('role', 'grant', 'admin', 'admin')
  run('user', 'add', 'ann', 'ann@example.com')
  run('user', 'add', 'viewer', 'viewer@example.com')
  run('role', 'create', 'console-reader', '--permission', 'console:read')
  run('role', 'grant', 'viewer', 'console-reader')
  const admin = JSON.parse(run('--json', 'user', 'show', 'admin').toString())
  return { dir, env, adminId: admin.user ? admin.user.id : admin.id }
}

/** `doorward console` on a free loopback port; resolves to its URL. */
function startConsole(bin, env) {
  const child = spawn(bin, ['--json', 'console', '--listen', '127.0.0.1:0'], { env, stdio: ['ignore', 'pipe', 'inherit'] })
  const url = new Promise((resolve, reject) => {
    child.once('error', reject)
    child.once('exit', (code) => reject(new Error(`doorward console exited with ${code}`)))
    readline.createInterface({ input: child.stdout }).once('line', (line) => resolve(JSON.parse(line).console))
  })
  return { child, url }
}

async function signIn(page, url, login) {
  await page.goto(url)
  await page.fill('#sign-in input[name=login]', login)
  await page.fill('#sign-in input[name=password]', PASSWORD)
  await page.click('#sign-in button[type=submit]')
}

async function shot(page, name) {
  fs.mkdirSync(OUTPUT, { recursive: true })
  await page.screenshot({ path: path.join(OUTPUT, `${name}.png`), fullPage: true })
}

test('the admin console in Chromium', { timeout: 180_000 }, async (t) => {
  if (!fs.existsSync(CHROMIUM)) {
    if (REQUIRED) assert.fail(`${CHROMIUM} is missing (scripts/services --install installs it)`)
    t.skip(`${CHROMIUM} is not installed`)
    return
  }
  const { chromium } = require('playwright-core')
  const bin = binary()
  const { dir, env, adminId } = prepare(bin)
  const { child, url: started } = startConsole(bin, env)
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] })
  t.after(async () => {
    await browser.close()
    child.kill()
    fs.rmSync(dir, { recursive: true, force: true })
  })
  const url = await started
  const errors = []
  const open = async () => {
    const context = await browser.newContext({ viewport: { width: 1200, height: 800 } })
    const page = await context.newPage()
    page.on('pageerror', (err) => errors.push(String(err)))
    page.on('console', (msg) => { if (msg.type() === 'error') errors.push(msg.text()) })
    return page
  }

  // The sign-in page, and an account without a console right refused.
  const ann = await open()
  await ann.goto(url)
  await ann.waitForSelector('#sign-in')
  await shot(ann, 'sign-in')
  await signIn(ann, url, 'ann')
  await ann.waitForSelector('#sign-in .error')
  assert.match(await ann.textContent('#sign-in .error'), /forbidden/)
  await shot(ann, 'refused')

  // A read-only account signs in and is shown no write control.
  const viewer = await open()
  await signIn(viewer, url, 'viewer')
  await viewer.waitForSelector('#users-total')
  assert.match(await viewer.textContent('#who'), /read only/)
  await viewer.goto(`${url}#/roles`)
  await viewer.waitForSelector('table#roles')
  assert.equal(await viewer.locator('#create-role').count(), 0)

  // The administrator: the dashboard.
  const admin = await open()
  await signIn(admin, url, 'admin')
  await admin.waitForSelector('#users-total')
  assert.equal((await admin.textContent('#users-total .value')).trim(), '3')
  await admin.waitForSelector('svg#new-users')
  await shot(admin, 'dashboard')

  // A POST without the CSRF token is refused, though the cookies go with it.
  const csrfLess = await admin.evaluate(async () => {
    const answer = await fetch('api/roles', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      credentials: 'same-origin',
      body: JSON.stringify({ name: 'sneaky', permissions: ['*'] }),
    })
    return { status: answer.status, body: await answer.json() }
  })
  assert.equal(csrfLess.status, 403)
  assert.equal(csrfLess.body.error.code, 'forbidden')

  // Roles: create one.
  await admin.goto(`${url}#/roles`)
  await admin.waitForSelector('#create-role')
  await admin.fill('#create-role input[name=name]', 'editor')
  await admin.fill('#create-role input[name=permissions]', 'posts:write posts:read')
  await admin.click('#create-role button[type=submit]')
  await admin.waitForSelector('table#roles a:text-is("editor")')
  await shot(admin, 'roles')

  // Users: search, open the account, grant the role, revoke its session.
  await admin.goto(`${url}#/users`)
  await admin.fill('#user-search input[name=q]', 'VIE')
  await admin.click('#user-search button[type=submit]')
  await admin.waitForFunction(() => document.querySelectorAll('table#users tbody tr').length === 1)
  assert.equal(await admin.textContent('table#users tbody tr td'), 'viewer')
  await shot(admin, 'users')
  await admin.click('table#users tbody tr')
  await admin.waitForSelector('#grant')
  await admin.selectOption('#grant select', 'editor')
  await admin.click('#grant button[type=submit]')
  await admin.waitForSelector('table#roles td:text-is("editor")')
  await admin.waitForSelector('#sessions button[data-session]')
  await admin.click('#sessions button[data-session]')
  await admin.waitForSelector('text=No live session.')
  assert.match(await admin.textContent('#factors'), /authenticator app\s*no/)
  await shot(admin, 'user')

  // Who holds the role now.
  await admin.goto(`${url}#/roles/editor`)
  await admin.waitForSelector('table#holders tbody tr')
  assert.equal(await admin.textContent('table#holders tbody tr td'), 'viewer')
  await shot(admin, 'holders')

  // The viewer's session ended: its next request is refused, and the app
  // shows the sign-in page.
  await viewer.goto(`${url}#/users`)
  await viewer.reload()
  await viewer.waitForSelector('#sign-in')

  // Sessions across accounts: the admin's own is listed.
  await admin.goto(`${url}#/sessions`)
  await admin.waitForSelector('table#all-sessions tbody tr')
  await shot(admin, 'sessions')

  // The audit log: the grant, made by the admin, and the chain verified.
  // The dispatcher writes the log shortly after each change.
  let granted = null
  for (let i = 0; i < 50 && !granted; i += 1) {
    await admin.goto(`${url}#/audit?type=RoleGranted`)
    await admin.reload()
    await admin.waitForSelector('table#audit')
    const rows = await admin.$$eval('table#audit tbody tr', (trs) => trs.map((tr) => [...tr.children].map((td) => td.textContent)))
    // [seq, when, type, outcome, actor, subject, address]: the CLI's own
    // grants name no actor.
    granted = rows.find((cells) => cells[2] === 'RoleGranted' && cells[4] === adminId)
    if (!granted) await new Promise((resolve) => setTimeout(resolve, 200))
  }
  assert.ok(granted, 'the console grant is in the audit log, with the administrator as actor')
  await admin.goto(`${url}#/audit`)
  await admin.click('#verify')
  await admin.waitForSelector('#verdict .ok')
  assert.match(await admin.textContent('#verdict'), /The chain holds: \d+ rows verified/)
  await shot(admin, 'audit')

  // Webhooks and events, Configuration, Monitoring.
  await admin.goto(`${url}#/webhooks`)
  await admin.waitForSelector('table#deliveries')
  await shot(admin, 'webhooks')
  await admin.goto(`${url}#/config`)
  await admin.waitForSelector('table#config tr[data-key=jwt_secret]')
  const secret = await admin.$$eval('table#config tr[data-key=jwt_secret] td', (tds) => tds.map((td) => td.textContent))
  assert.deepEqual(secret, ['jwt_secret', '[redacted]', 'env'])
  assert.ok(!(await admin.content()).includes('console-browser-test-secret'), 'no secret on the page')
  await shot(admin, 'config')
  await admin.goto(`${url}#/monitoring`)
  await admin.waitForSelector('table#operations tr[data-operation="auth.login"]')
  await shot(admin, 'monitoring')

  assert.deepEqual(errors.filter((e) => !/status of 40[13]/.test(e)), [], 'no script error and no CSP violation')
})

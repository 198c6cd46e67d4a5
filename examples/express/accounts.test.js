'use strict'
// The account pages driven over HTTP with fetch, as a browser posts forms,
// with doorward's mails going through SMTP to a local smtp-server: each
// mail is read, its link or its code completes the flow, and a mail
// scanner's GET of a link never uses it up.

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const http = require('node:http')

const { SMTPServer } = require('smtp-server')
const { generateSync } = require('otplib')
const { Doorward } = require('doorward')
const { createApp } = require('./app.js')

const PASSWORD = 'correct horse battery staple'
const NEW_PASSWORD = 'a brand new passphrase'

let dw
let server
let smtp
let base
/** What the SMTP server received: { to, subject, text }. */
const inbox = []

/** A message body decoded from its Content-Transfer-Encoding. */
function decode(body, encoding = '7bit') {
  if (encoding.toLowerCase() === 'quoted-printable') {
    const bytes = body.replace(/=\r?\n/g, '').replace(/=([0-9A-Fa-f]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16)))
    return Buffer.from(bytes, 'latin1').toString('utf8')
  }
  if (encoding.toLowerCase() === 'base64') return Buffer.from(body, 'base64').toString('utf8')
  return Buffer.from(body, 'latin1').toString('utf8')
}

/** A received message (RFC 5322 text read as latin1) and its envelope. */
function parse(raw, envelope) {
  const split = raw.indexOf('\r\n\r\n')
  const headers = raw.slice(0, split).replace(/\r\n[ \t]+/g, ' ').split('\r\n')
  const header = (name) =>
    headers.find((h) => h.toLowerCase().startsWith(`${name}:`))?.slice(name.length + 1).trim()
  return {
    to: envelope.rcptTo.map((r) => r.address),
    subject: header('subject'),
    text: decode(raw.slice(split + 4), header('content-transfer-encoding')),
  }
}

before(async () => {
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    closeTimeout: 200,
    onData(stream, session, callback) {
      const chunks = []
      stream.on('data', (c) => chunks.push(c))
      stream.on('end', () => {
        inbox.push(parse(Buffer.concat(chunks).toString('latin1'), session.envelope))
        callback()
      })
    },
  })
  await new Promise((resolve) => smtp.listen(0, '127.0.0.1', resolve))
  // Listening first, so the links in the mails point at this server.
  server = http.createServer()
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${server.address().port}`
  dw = await Doorward.open({
    databaseUrl: 'memory://',
    jwtSecret: 'express-example-test-secret-of-32-bytes',
    argon2MemoryKib: 64, // cheap hashing: the test is about the pages
    argon2Iterations: 1,
    mailUrl: `smtp://127.0.0.1:${smtp.server.address().port}`,
    appUrl: base,
    welcomeMail: false,
    eventsPollIntervalMs: 20,
  })
  server.on('request', createApp(dw))
})

after(async () => {
  server.closeAllConnections()
  await new Promise((resolve) => server.close(resolve))
  await new Promise((resolve) => smtp.close(resolve))
})

/**
 * The newest mail to `to` with `subject`, once it arrived (flushing the
 * outbox it leaves through).
 */
async function arrived(to, subject) {
  const deadline = Date.now() + 20_000
  let message
  while (!(message = [...inbox].reverse().find((m) => m.to.includes(to) && m.subject === subject))) {
    assert.ok(Date.now() < deadline, `"${subject}" did not arrive`)
    await dw.events.flush()
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  return message
}

/** What the user reads in that mail: the link, its flow, and the code. */
async function mailed(to, subject) {
  const message = await arrived(to, subject)
  const words = message.text.split(/\s+/)
  const link = words.find((w) => w.startsWith(`${base}/`))
  const code = words.map((w) => w.replace(/\.$/, '')).find((w) => /^\d{6,8}$/.test(w))
  assert.ok(link && code, 'the mail has a link to this server and a code')
  return { link, code, flow: new URL(link).searchParams.get('flow') }
}

/** An HTML page's status, headers and text. */
async function page(res) {
  return { status: res.status, headers: res.headers, html: await res.text() }
}

/** GET, as a browser (or a mail scanner) opens a link. */
const get = async (url) => page(await fetch(url.startsWith('http') ? url : base + url))

/** POST of a form, as a browser sends it. */
const post = async (path, fields) =>
  page(
    await fetch(base + path, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields).toString(),
    }),
  )

/** A JSON API call. */
async function api(method, path, { body, token } = {}) {
  const res = await fetch(base + path, {
    method,
    headers: {
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  })
  return { status: res.status, body: await res.json() }
}

const unescape = (s) => s.replace(/&#(\d+);/g, (_, n) => String.fromCharCode(Number(n)))

/** The forms of a page: action, hidden values, and the names of its visible inputs. */
function forms(html) {
  return [...html.matchAll(/<form method="post" action="([^"]*)">(.*?)<\/form>/gs)].map(([, action, body]) => {
    const hidden = {}
    for (const [, name, value] of body.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g)) {
      hidden[unescape(name)] = unescape(value)
    }
    const inputs = [...body.matchAll(/<input name="([^"]*)"/g)].map(([, name]) => unescape(name))
    return { action: unescape(action), hidden, inputs }
  })
}

/** The one form of a page. */
function onlyForm(html) {
  const found = forms(html)
  assert.equal(found.length, 1, 'the page has one form')
  return found[0]
}

/** Registers over the JSON API; its verification mail goes out. */
async function register(name) {
  const res = await api('POST', '/register', { body: { username: name, email: `${name}@example.com`, password: PASSWORD } })
  assert.equal(res.status, 201)
  return res.body
}

test('verify: a scanner GET of the link shows a form and uses nothing; the POST verifies', async () => {
  const reg = await register('vera')
  const mail = await mailed('vera@example.com', 'Confirm your email address')
  assert.ok(mail.link.startsWith(`${base}/verify?flow=`), 'the link points at the /verify page')

  // The scanner opens the link first (twice): a confirm form, no call.
  for (let i = 0; i < 2; i++) {
    const scanned = await get(mail.link)
    assert.equal(scanned.status, 200)
    assert.equal(scanned.headers.get('content-type'), 'text/html; charset=utf-8')
    assert.equal(scanned.headers.get('cache-control'), 'no-store')
    assert.equal(scanned.headers.get('referrer-policy'), 'no-referrer')
    assert.ok(scanned.html.includes('Confirm my address'))
  }
  assert.equal((await dw.users.get(reg.user.id)).emailVerifiedAt, undefined, 'a GET verifies nothing')

  // The user clicks the button: the form's hidden flow and secret.
  const confirm = onlyForm((await get(mail.link)).html)
  assert.equal(confirm.action, '/verify')
  assert.deepEqual(Object.keys(confirm.hidden).sort(), ['flow', 'secret'])
  assert.deepEqual(confirm.inputs, [])
  assert.equal(confirm.hidden.flow, mail.flow)
  const done = await post('/verify', confirm.hidden)
  assert.equal(done.status, 200)
  assert.ok(done.html.includes('Your email address is verified.'))
  const me = await api('GET', '/me', { token: reg.access_token })
  assert.notEqual(me.body.profile.email_verified_at, null)

  // Spent: the same POST again is flow_invalid, as a page.
  const again = await post('/verify', confirm.hidden)
  assert.equal(again.status, 400)
  assert.ok(again.html.includes('<p>this link or code is wrong or already used</p>'), 'the error message, in a page')
})

test('verify with the code: GET /verify?flow= asks for it, and the POST verifies', async () => {
  const reg = await register('cody')
  const mail = await mailed('cody@example.com', 'Confirm your email address')
  const codeForm = onlyForm((await get(`/verify?flow=${mail.flow}`)).html)
  assert.deepEqual([codeForm.action, codeForm.hidden, codeForm.inputs], ['/verify', { flow: mail.flow }, ['code']])
  const done = await post('/verify', { ...codeForm.hidden, code: mail.code })
  assert.equal(done.status, 200)
  assert.ok(done.html.includes('Your email address is verified.'))
  assert.ok((await dw.users.get(reg.user.id)).emailVerifiedAt instanceof Date)
})

test('forgot and reset with the code; an unknown address gets the same page and no mail', async () => {
  await register('rita')
  const start = await get('/forgot')
  assert.equal(start.status, 200)
  assert.deepEqual(onlyForm(start.html), { action: '/forgot', hidden: {}, inputs: ['email'] })

  const asked = await post('/forgot', { email: 'rita@example.com' })
  assert.equal(asked.status, 200)
  assert.ok(asked.html.includes('If an account uses this address, a mail is on its way.'))
  const resetForm = onlyForm(asked.html)
  assert.deepEqual([resetForm.action, Object.keys(resetForm.hidden), resetForm.inputs], ['/reset', ['flow'], ['code', 'password']])

  const unknown = await post('/forgot', { email: 'nobody@example.com' })
  assert.equal(unknown.status, 200)
  assert.equal(unknown.html.replace(/value="[^"]*"/, ''), asked.html.replace(/value="[^"]*"/, ''), 'the same page')

  const mail = await mailed('rita@example.com', 'Reset your password')
  assert.equal(mail.flow, resetForm.hidden.flow)
  const done = await post('/reset', { ...resetForm.hidden, code: mail.code, password: NEW_PASSWORD })
  assert.equal(done.status, 200)
  assert.ok(done.html.includes('Your password is changed.'))
  assert.equal((await api('POST', '/login', { body: { login: 'rita', password: NEW_PASSWORD } })).status, 200)
  assert.equal((await api('POST', '/login', { body: { login: 'rita', password: PASSWORD } })).status, 401)

  // Asking again at once waits for the resend cooldown: 429 with Retry-After.
  const soon = await post('/forgot', { email: 'rita@example.com' })
  assert.equal(soon.status, 429)
  assert.ok(Number(soon.headers.get('retry-after')) >= 1)
  assert.ok(soon.html.includes('That did not work'))
  assert.equal(soon.headers.get('content-type'), 'text/html; charset=utf-8')

  await dw.events.flush()
  assert.ok(!inbox.some((m) => m.to.includes('nobody@example.com')), 'no mail to an address without an account')
})

test('reset with the link: scanned first, then a weak password (422) costs nothing, then a good one', async () => {
  await register('rick')
  await post('/forgot', { email: 'rick@example.com' })
  const mail = await mailed('rick@example.com', 'Reset your password')
  assert.ok(mail.link.startsWith(`${base}/reset?flow=`))
  const scanned = await get(mail.link)
  assert.equal(scanned.status, 200)
  const form = onlyForm(scanned.html)
  assert.deepEqual([form.action, Object.keys(form.hidden).sort(), form.inputs], ['/reset', ['flow', 'secret'], ['password']])

  const weak = await post('/reset', { ...form.hidden, password: 'short' })
  assert.equal(weak.status, 422)
  assert.ok(weak.html.includes('password'))
  const done = await post('/reset', { ...form.hidden, password: NEW_PASSWORD })
  assert.equal(done.status, 200)
  assert.ok(done.html.includes('Your password is changed.'))
  assert.equal((await api('POST', '/login', { body: { login: 'rick', password: NEW_PASSWORD } })).status, 200)
})

test('sign-in by email with the link, after a scanner GET: the tokens as JSON', async () => {
  const reg = await register('sina')
  const start = await get('/sign-in/email')
  assert.deepEqual(onlyForm(start.html), { action: '/sign-in/email', hidden: {}, inputs: ['email'] })
  const asked = await post('/sign-in/email', { email: 'sina@example.com' })
  assert.equal(asked.status, 200)
  const mail = await mailed('sina@example.com', 'Your sign-in link')
  assert.ok(mail.link.startsWith(`${base}/sign-in/email?flow=`))

  const scanned = await get(mail.link)
  const confirm = onlyForm(scanned.html)
  assert.deepEqual([confirm.action, Object.keys(confirm.hidden).sort(), confirm.inputs], ['/sign-in/email/complete', ['flow', 'secret'], []])
  const res = await fetch(`${base}/sign-in/email/complete`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': 'browser/1.0' },
    body: new URLSearchParams(confirm.hidden).toString(),
  })
  assert.equal(res.status, 200)
  assert.equal(res.headers.get('cache-control'), 'no-store')
  const tokens = await res.json()
  assert.deepEqual(Object.keys(tokens).sort(), ['access_token', 'expires_in', 'refresh_token', 'token_type'])
  const me = await api('GET', '/me', { token: tokens.access_token })
  assert.equal(me.body.principal.user_id, reg.user.id)
  const session = (await dw.sessions.list(reg.user.id)).find((s) => s.id === me.body.principal.session_id)
  assert.equal(session.userAgent, 'browser/1.0')
})

test('sign-in by email with the code: a wrong one is a 400 page, the right one signs in; five wrong ones end it (410)', async () => {
  const reg = await register('sami')
  const asked = await post('/sign-in/email', { email: 'sami@example.com' })
  const codeForm = onlyForm(asked.html)
  assert.deepEqual([codeForm.action, Object.keys(codeForm.hidden), codeForm.inputs], ['/sign-in/email/complete', ['flow'], ['code']])
  const mail = await mailed('sami@example.com', 'Your sign-in link')
  const wrong = `${(Number(mail.code[0]) + 1) % 10}${mail.code.slice(1)}`
  const refused = await post('/sign-in/email/complete', { ...codeForm.hidden, code: wrong })
  assert.equal(refused.status, 400)
  assert.ok(refused.html.includes('4 attempts left'))
  const done = await post('/sign-in/email/complete', { ...codeForm.hidden, code: mail.code })
  assert.equal(done.status, 200)
  assert.equal((await api('GET', '/me', { token: JSON.parse(done.html).access_token })).body.principal.user_id, reg.user.id)

  // Another flow (another account: asking twice at once waits for the
  // resend cooldown) guessed five times is gone: 410, even for its code.
  await register('sana')
  const again = onlyForm((await post('/sign-in/email', { email: 'sana@example.com' })).html)
  const second = await mailed('sana@example.com', 'Your sign-in link')
  assert.equal(second.flow, again.hidden.flow)
  const statuses = []
  const wrongAgain = `${(Number(second.code[0]) + 1) % 10}${second.code.slice(1)}`
  for (let i = 0; i < 5; i++) {
    statuses.push((await post('/sign-in/email/complete', { ...again.hidden, code: wrongAgain })).status)
  }
  assert.deepEqual(statuses, [400, 400, 400, 400, 410])
  const expired = await post('/sign-in/email/complete', { ...again.hidden, code: second.code })
  assert.equal(expired.status, 410)
  assert.ok(expired.html.includes('<p>this link or code has expired; ask for a new one</p>'))
})

test('sign-in by email of an account with an authenticator: the code form, the pending login in an HttpOnly cookie', async () => {
  const reg = await register('mona')
  const token = reg.access_token
  // Enrolled through the API: the enrolment page's key, a first code from the app (otplib).
  const enrolment = await fetch(`${base}/me/mfa/totp`, { method: 'POST', headers: { authorization: `Bearer ${token}` } })
  const secret = /<code>([A-Z2-7]+)<\/code>/.exec(await enrolment.text())[1]
  const now = Date.now()
  const code = (when) => generateSync({ secret, epoch: Math.floor(when / 1000) })
  assert.equal((await api('POST', '/me/mfa/totp/confirm', { token, body: { code: code(now) } })).status, 200)

  const asked = onlyForm((await post('/sign-in/email', { email: 'mona@example.com' })).html)
  const mail = await mailed('mona@example.com', 'Your sign-in link')
  // The mailed code is right, but the account has a second factor: the code form.
  const res = await fetch(`${base}/sign-in/email/complete`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ ...asked.hidden, code: mail.code }).toString(),
  })
  assert.equal(res.status, 200)
  assert.equal(res.headers.get('content-type'), 'text/html; charset=utf-8')
  const html = await res.text()
  assert.deepEqual(forms(html).map((f) => [f.action, f.hidden, f.inputs]), [
    ['/login/mfa', { method: 'totp' }, ['code']],
    ['/login/mfa', { method: 'recovery_code' }, ['code']],
  ])
  const [cookie, ...attributes] = res.headers.getSetCookie()[0].split(';').map((p) => p.trim())
  assert.match(cookie, /^doorward_mfa=./)
  assert.ok(!html.includes(decodeURIComponent(cookie.split('=')[1])), 'the pending login is not in the page')
  assert.ok(attributes.includes('HttpOnly') && attributes.includes('SameSite=Strict') && attributes.includes('Path=/login/mfa'))

  const done = await fetch(`${base}/login/mfa`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie },
    body: new URLSearchParams({ method: 'totp', code: code(now + 30_000) }).toString(),
  })
  assert.equal(done.status, 200)
  const tokens = await done.json()
  const me = await api('GET', '/me', { token: tokens.access_token })
  assert.equal(me.body.principal.user_id, reg.user.id)
  // A mailbox and a code: two proofs, but a mailbox is no authenticator at level 2.
  assert.deepEqual([me.body.principal.amr, me.body.principal.aal], [['email', 'otp'], 1])
})

test('email change: POST /me/email (202), the link scanned, then confirmed on /email-change', async () => {
  const reg = await register('emma')
  const token = reg.access_token
  assert.equal((await api('POST', '/me/email', { body: { new_email: 'emma@new.example', password: PASSWORD } })).status, 401)
  const wrong = await api('POST', '/me/email', { token, body: { new_email: 'emma@new.example', password: 'not the password' } })
  assert.deepEqual([wrong.status, wrong.body.error.code], [401, 'invalid_credentials'])
  const missing = await api('POST', '/me/email', { token, body: { new_email: 'emma@new.example' } })
  assert.deepEqual([missing.status, missing.body.error.field], [422, 'password'])

  const asked = await api('POST', '/me/email', { token, body: { new_email: "emma.o'hara@new.example", password: PASSWORD } })
  assert.equal(asked.status, 202)
  assert.deepEqual(Object.keys(asked.body).sort(), ['expires_in', 'flow_id'])
  assert.equal(asked.body.expires_in, 3600)
  const notice = await arrived('emma@example.com', 'Your email address is being changed')
  assert.ok(!notice.text.includes('new.example'), 'the notice to the old address does not name the new one')
  const mail = await mailed("emma.o'hara@new.example", 'Confirm your new email address')
  assert.equal(mail.flow, asked.body.flow_id)
  assert.ok(mail.link.startsWith(`${base}/email-change?flow=`))

  const confirm = onlyForm((await get(mail.link)).html)
  assert.equal(confirm.action, '/email-change')
  assert.equal((await api('GET', '/me', { token })).body.profile.email, 'emma@example.com', 'unchanged until confirmed')
  const done = await post('/email-change', confirm.hidden)
  assert.equal(done.status, 200)
  // The address is escaped in the page.
  assert.ok(done.html.includes('Your address is now emma.o&#39;hara@new.example.'))
  assert.equal((await api('GET', '/me', { token })).body.profile.email, "emma.o'hara@new.example")
})

test('pages escape what they echo, and answer doorward errors with the core status', async () => {
  const hostile = '"><script>alert(1)</script>'
  const scanned = await get(`/verify?flow=${encodeURIComponent(hostile)}&secret=${encodeURIComponent(hostile)}`)
  assert.equal(scanned.status, 200)
  assert.ok(!scanned.html.includes('<script>'), 'no markup from the query')
  assert.deepEqual(onlyForm(scanned.html).hidden, { flow: hostile, secret: hostile })
  assert.match(scanned.headers.get('content-security-policy'), /default-src 'none'/)

  const notAFlow = await post('/verify', { flow: 'not-a-flow', secret: 'x' })
  assert.equal(notAFlow.status, 422)
  assert.ok(notAFlow.html.startsWith('<!doctype html>'))
  const noSecret = await post('/email-change', { flow: '0190a5b2-0000-7000-8000-000000000000' })
  assert.equal(noSecret.status, 422)
  const badEmail = await post('/sign-in/email', { email: 'not-an-address' })
  assert.equal(badEmail.status, 422)
})

'use strict'
// The account flows end to end: email verification, password reset,
// sign-in by email and email change, each mailed through the outbox (the
// in-memory mailer, and a real SMTP exchange with a loopback smtp-server)
// and completed with the mail's link secret or its code; the attempt cap,
// expiry, the resend cooldown, enumeration safety and argument checks.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const { inspect } = require('node:util')

const { eventTypes } = require('../index.js')
const {
  PASSWORD,
  awaitMail,
  flowMail,
  open,
  register,
  rejectsWith,
  rejectsWithTypeError,
  smtpInbox,
} = require('./helpers.js')

const APP_URL = 'https://app.example.com'
const NEW_PASSWORD = 'a brand new passphrase'
const CLIENT = Object.freeze({ ip: '198.51.100.7', userAgent: 'flows-test/1.0' })
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
/** Mails kept in memory, links under APP_URL; the tests ask twice at once. */
const FLOWS = Object.freeze({
  mailUrl: 'memory://',
  appUrl: APP_URL,
  eventsPollIntervalMs: 20,
  flowResendCooldown: 0,
})

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

/** The newest in-memory mail to `to` with `subject`, and what it carries. */
async function mailTo(dw, to, subject) {
  const message = await awaitMail(
    dw,
    () => dw.mail.sent().reverse().find((m) => m.to === to && m.subject === subject),
    `"${subject}" to the address`,
  )
  return { message, ...flowMail(message.text, APP_URL) }
}

/** The in-memory mail of flow `flowId` (what a request answered), and what it carries. */
async function mailOf(dw, flowId) {
  const message = await awaitMail(
    dw,
    () => dw.mail.sent().find((m) => m.text.includes(`flow=${flowId}&`)),
    "the flow's mail",
  )
  return { message, ...flowMail(message.text, APP_URL) }
}

/** A code of the same length that is certainly not `code`. */
const wrongCode = (code) => `${(Number(code[0]) + 1) % 10}${code.slice(1)}`

/** What a request answers: a flow id and the seconds it lives, nothing else. */
function assertFlowStarted(started, expiresIn) {
  assert.deepEqual(Object.keys(started).sort(), ['expiresIn', 'flowId'])
  assert.match(started.flowId, UUID)
  assert.equal(started.expiresIn, expiresIn)
}

test('verifyEmail: registration mails a verification; its code verifies, and its link is spent with it', async () => {
  const dw = await open(FLOWS)
  const reg = await register(dw, 'ann')
  assert.equal(reg.user.emailVerifiedAt, undefined, 'unverified until proven')
  const mail = await mailTo(dw, 'ann@example.com', 'Confirm your email address')
  assert.equal(mail.path, '/verify')
  // assert.ok, not match: a failure must not print a mail's secrets.
  assert.ok(mail.message.text.includes('Hello ann,'), 'the mail greets the user')
  assert.ok(mail.message.text.includes('24 hours'), 'the mail says how long it works')

  const user = await dw.verifyEmail(mail.flowId, mail.code)
  assert.equal(user.id, reg.user.id)
  assert.ok(user.emailVerifiedAt instanceof Date, 'emailVerifiedAt is a Date')
  assert.ok(Math.abs(user.emailVerifiedAt.getTime() - Date.now()) < 60_000)
  assert.ok(!inspect(user).includes('ann@example.com'), 'the user returned keeps its email out of inspect')
  const stored = await dw.users.get(reg.user.id)
  assert.equal(stored.emailVerifiedAt.getTime(), user.emailVerifiedAt.getTime())

  // One flow, one use: the link of the same mail no longer works.
  await rejectsWith(dw.verifyEmail(mail.flowId, mail.secret), 'flow_invalid')
  // A verified address needs no second mail.
  const again = await rejectsWith(dw.requestEmailVerification(reg.user.id), 'validation_error')
  assert.equal(again.field, 'email')
})

test('requestEmailVerification: a FlowStarted, and a mail whose link verifies; events carry no secret', async () => {
  const dw = await open({ ...FLOWS, verifyEmailOnRegister: false, welcomeMail: false })
  const reg = await register(dw, 'bea')
  await dw.events.flush()
  assert.deepEqual(dw.mail.sent(), [], 'no mail on registration with verifyEmailOnRegister off')

  const started = await dw.requestEmailVerification(reg.user.id)
  assertFlowStarted(started, 86_400)
  assert.ok(!inspect(started).includes('secret'), inspect(started))
  const mail = await mailOf(dw, started.flowId)
  assert.equal(mail.flowId, started.flowId)
  assert.equal(mail.message.to, 'bea@example.com')
  const user = await dw.verifyEmail(mail.flowId, mail.secret)
  assert.ok(user.emailVerifiedAt instanceof Date)

  await rejectsWith(dw.requestEmailVerification('no-such-user'), 'not_found')

  const events = (await dw.events.list({ limit: 1000 })).items
  const types = events.map((e) => e.type)
  for (const type of ['EmailVerificationRequested', 'EmailVerified']) {
    assert.ok(types.includes(type), `${type} in ${types}`)
    assert.ok(eventTypes().includes(type), `${type} is in eventTypes()`)
  }
  const json = JSON.stringify(events)
  for (const secret of [mail.secret, mail.code]) assert.ok(!json.includes(secret), 'a secret is in the events')
  assert.ok(!json.includes('bea@example.com'), 'an address is in the events')
})

test('resetPassword: a weak password spends nothing; the reset ends every session and the old password', async () => {
  const dw = await open(FLOWS)
  const reg = await register(dw, 'cyd')
  const other = await dw.login('cyd', PASSWORD)
  const started = await dw.requestPasswordReset('CYD@example.com', CLIENT)
  assertFlowStarted(started, 3600)
  const mail = await mailOf(dw, started.flowId)
  assert.equal(mail.message.subject, 'Reset your password')
  assert.equal(mail.message.to.toLowerCase(), 'cyd@example.com', "to the account's address, whatever its case")
  assert.equal(mail.path, '/reset')

  const weak = await rejectsWith(dw.resetPassword(mail.flowId, mail.secret, 'cyd'), 'validation_error')
  assert.equal(weak.field, 'password')
  assert.equal(await dw.resetPassword(mail.flowId, mail.secret, NEW_PASSWORD), undefined)

  for (const tokens of [reg.tokens, other]) {
    await rejectsWith(dw.verifyToken(tokens.accessToken), 'token_revoked')
  }
  await rejectsWith(dw.login('cyd', PASSWORD), 'invalid_credentials')
  const pair = await dw.login('cyd', NEW_PASSWORD)
  assert.equal((await dw.verifyToken(pair.accessToken)).userId, reg.user.id)
  // The mail proved the address; the flow is spent.
  assert.ok((await dw.users.get(reg.user.id)).emailVerifiedAt instanceof Date)
  await rejectsWith(dw.resetPassword(mail.flowId, mail.code, 'yet another passphrase'), 'flow_invalid')
  const types = (await dw.events.list({ limit: 1000 })).items.map((e) => e.type)
  assert.ok(types.includes('PasswordResetRequested') && types.includes('PasswordReset'), `${types}`)
})

test('completeSignIn: a session like a login, with the client kept and its tokens hidden', async () => {
  const dw = await open(FLOWS)
  const reg = await register(dw, 'hugh')
  const started = await dw.requestSignIn('hugh@example.com', CLIENT)
  assertFlowStarted(started, 600)
  const mail = await mailOf(dw, started.flowId)
  assert.equal(mail.message.subject, 'Your sign-in link')
  assert.equal(mail.path, '/sign-in/email')
  assert.ok(mail.message.text.includes('10 minutes'), 'the mail says how long it works')

  const pair = await dw.completeSignIn(mail.flowId, mail.secret, CLIENT)
  assert.equal(pair.mfaRequired, false, 'no second factor: the tokens, not a challenge')
  assert.equal(pair.tokenType, 'Bearer')
  assert.ok(!inspect(pair).includes(pair.accessToken), 'the access token stays out of inspect')
  assert.deepEqual(JSON.parse(JSON.stringify(pair)), { tokenType: 'Bearer', expiresIn: 900, mfaRequired: false })
  const principal = await dw.verifyToken(pair.accessToken)
  assert.equal(principal.userId, reg.user.id)
  const session = (await dw.sessions.list(reg.user.id)).find((s) => s.id === principal.sessionId)
  assert.equal(session.userAgent, CLIENT.userAgent)
  assert.equal(session.ip, CLIENT.ip)
  assert.ok((await dw.users.get(reg.user.id)).emailVerifiedAt instanceof Date)
  await rejectsWith(dw.completeSignIn(mail.flowId, mail.code), 'flow_invalid')
})

test('signInCreatesUsers: completing a sign-in for an unknown address creates its account', async () => {
  const dw = await open({ ...FLOWS, signInCreatesUsers: true })
  await dw.requestSignIn('New.Person@example.com')
  const mail = await mailTo(dw, 'New.Person@example.com', 'Your sign-in link')
  const pair = await dw.completeSignIn(mail.flowId, mail.code)
  const user = await dw.users.get((await dw.verifyToken(pair.accessToken)).userId)
  assert.deepEqual([user.username, user.email], ['New.Person', 'New.Person@example.com'])
  assert.ok(user.emailVerifiedAt instanceof Date)
})

test('users.requestEmailChange and confirmEmailChange: proven from the new address, the old one told', async () => {
  const dw = await open(FLOWS)
  const reg = await register(dw, 'ivy')
  await register(dw, 'joe')
  await rejectsWith(dw.users.requestEmailChange(reg.user.id, 'ivy@new.example', 'not the password'), 'invalid_credentials')
  await rejectsWith(dw.users.requestEmailChange(reg.user.id, 'JOE@example.com', PASSWORD), 'duplicate_email')
  const bad = await rejectsWith(dw.users.requestEmailChange(reg.user.id, 'not-an-address', PASSWORD), 'validation_error')
  assert.equal(bad.field, 'email')

  const started = await dw.users.requestEmailChange(reg.user.id, 'ivy@new.example', PASSWORD)
  assertFlowStarted(started, 3600)
  const notice = await awaitMail(
    dw,
    () => dw.mail.sent().find((m) => m.subject === 'Your email address is being changed'),
    'the notice to the old address',
  )
  assert.equal(notice.to, 'ivy@example.com')
  const mail = await mailTo(dw, 'ivy@new.example', 'Confirm your new email address')
  assert.equal(mail.flowId, started.flowId)
  assert.equal(mail.path, '/email-change')
  assert.equal((await dw.users.get(reg.user.id)).email, 'ivy@example.com', 'the old address stays until confirmed')

  const user = await dw.users.confirmEmailChange(mail.flowId, mail.code)
  assert.equal(user.email, 'ivy@new.example')
  assert.ok(user.emailVerifiedAt instanceof Date)
  assert.ok(!inspect(user).includes('ivy@new.example'), 'the user returned keeps its email out of inspect')
  assert.equal((await dw.users.get(reg.user.id)).email, 'ivy@new.example')
  await dw.login('ivy@new.example', PASSWORD)
  await rejectsWith(dw.login('ivy@example.com', PASSWORD), 'invalid_credentials')
  await rejectsWith(dw.users.confirmEmailChange(mail.flowId, mail.secret), 'flow_invalid')
})

test('users.markEmailVerified lets an unverified account past requireVerifiedEmailForLogin', async () => {
  const dw = await open({ ...FLOWS, requireVerifiedEmailForLogin: true })
  const reg = await register(dw, 'kofi')
  await rejectsWith(dw.login('kofi', 'not the password'), 'invalid_credentials')
  await rejectsWith(dw.login('kofi', PASSWORD), 'email_not_verified')
  const marked = await dw.users.markEmailVerified(reg.user.id)
  assert.equal(marked.id, reg.user.id)
  assert.ok(marked.emailVerifiedAt instanceof Date)
  assert.ok(!inspect(marked).includes('kofi@example.com'))
  await dw.login('kofi', PASSWORD)
  await rejectsWith(dw.users.markEmailVerified('no-such-user'), 'not_found')
})

test('the attempt cap: wrong codes are flow_invalid with the attempts left, the fifth kills the flow', async () => {
  const dw = await open(FLOWS)
  await register(dw, 'bob')
  const verification = await mailTo(dw, 'bob@example.com', 'Confirm your email address')
  // A wrong secret costs one attempt of five; the link still works after two.
  for (const left of [4, 3]) {
    const err = await rejectsWith(dw.verifyEmail(verification.flowId, wrongCode(verification.code)), 'flow_invalid')
    assert.match(err.message, new RegExp(`${left} attempts left`))
    assert.ok(!err.message.includes(verification.code), 'the message holds no code')
  }
  await dw.verifyEmail(verification.flowId, verification.secret)

  // A sign-in guessed five times is dead, even to its right code and link.
  const started = await dw.requestSignIn('bob@example.com')
  const mail = await mailOf(dw, started.flowId)
  for (let n = 1; n <= 5; n++) {
    await rejectsWith(dw.completeSignIn(mail.flowId, wrongCode(mail.code)), n < 5 ? 'flow_invalid' : 'flow_expired')
  }
  await rejectsWith(dw.completeSignIn(mail.flowId, mail.code), 'flow_expired')
  await rejectsWith(dw.completeSignIn(mail.flowId, mail.secret), 'flow_expired')
  // Input that is no flow id is a validation error, not an attempt.
  const err = await rejectsWith(dw.verifyEmail('not-a-flow', '123456'), 'validation_error')
  assert.equal(err.field, 'flow_id')
})

test('a flow expires with its TTL (signInTtl 1 s, one 1.1 s wait)', async () => {
  const dw = await open({ ...FLOWS, signInTtl: 1 })
  await register(dw, 'luke')
  const started = await dw.requestSignIn('luke@example.com')
  assert.equal(started.expiresIn, 1)
  const mail = await mailOf(dw, started.flowId)
  await sleep(1100)
  await rejectsWith(dw.completeSignIn(mail.flowId, mail.code), 'flow_expired')
})

test('enumeration: an unknown address gets the same answer as a known one, and no mail', async () => {
  const dw = await open(FLOWS)
  await register(dw, 'eddy')
  await awaitMail(dw, () => dw.mail.sent().length === 2 || null, 'the welcome and verification mails')
  const before = dw.mail.sent().length

  for (const request of [
    (email) => dw.requestPasswordReset(email),
    (email) => dw.requestSignIn(email, CLIENT),
  ]) {
    const known = await request('eddy@example.com')
    const unknown = await request('nobody@example.com')
    assert.deepEqual(Object.keys(unknown).sort(), Object.keys(known).sort())
    assert.equal(unknown.expiresIn, known.expiresIn)
    assert.match(known.flowId, UUID)
    assert.match(unknown.flowId, UUID)
  }
  // Completing a flow of the unknown address answers like a wrong code on a
  // known one.
  const knownSignIn = await dw.requestSignIn('eddy@example.com')
  const unknownSignIn = await dw.requestSignIn('nobody@example.com')
  const fromKnown = await rejectsWith(dw.completeSignIn(knownSignIn.flowId, '123123'), 'flow_invalid')
  const fromUnknown = await rejectsWith(dw.completeSignIn(unknownSignIn.flowId, '123123'), 'flow_invalid')
  assert.equal(fromUnknown.message, fromKnown.message)
  assert.match(fromUnknown.message, /4 attempts left/)

  // Three mails to the known address (reset, sign-in, sign-in); none to the other.
  await awaitMail(dw, () => dw.mail.sent().length >= before + 3 || null, "the known address's mails")
  await dw.events.flush()
  const sent = dw.mail.sent()
  assert.equal(sent.length, before + 3)
  assert.deepEqual(
    sent.filter((m) => m.to !== 'eddy@example.com').map((m) => m.subject),
    [],
    'nothing goes to an unknown address',
  )
})

test('asking again within flowResendCooldown is rate_limited with retryAfter; another purpose is not', async () => {
  const dw = await open({ ...FLOWS, flowResendCooldown: 60, verifyEmailOnRegister: false })
  await register(dw, 'gil')
  await dw.requestSignIn('gil@example.com', CLIENT)
  const err = await rejectsWith(dw.requestSignIn('GIL@example.com', CLIENT), 'rate_limited')
  assert.equal(typeof err.retryAfter, 'number')
  assert.ok(err.retryAfter >= 59 && err.retryAfter <= 60, `retryAfter ${err.retryAfter}`)
  await dw.requestPasswordReset('gil@example.com', CLIENT)
})

test('a flow request without a mailer is a config_error', async () => {
  const dw = await open()
  const reg = await register(dw)
  await rejectsWith(dw.requestPasswordReset('john@example.com'), 'config_error')
  await rejectsWith(dw.requestSignIn('john@example.com'), 'config_error')
  await rejectsWith(dw.requestEmailVerification(reg.user.id), 'config_error')
})

test('the client argument is an object or absent, as login takes it', async () => {
  const dw = await open(FLOWS)
  await rejectsWithTypeError(() => dw.requestPasswordReset('john@example.com', '203.0.113.7'))
  await rejectsWithTypeError(() => dw.requestSignIn('john@example.com', ['203.0.113.7']))
  await rejectsWithTypeError(() => dw.completeSignIn('flow', '123456', 42))
  await rejectsWithTypeError(() => dw.verifyEmail(undefined, '123456'))
  await register(dw)
  assertFlowStarted(await dw.requestSignIn('john@example.com', null), 600)
  assertFlowStarted(await dw.requestPasswordReset('john@example.com', undefined), 3600)
})

test('through a real SMTP server: every flow mailed, read, and completed by its link or its code', async (t) => {
  const inbox = await smtpInbox(t)
  const dw = await open({ ...FLOWS, mailUrl: inbox.url, welcomeMail: false, mailTimeoutMs: 5000 })
  /** The newest message to `to` with `subject`, once the outbox sent it. */
  const arrived = (to, subject) =>
    awaitMail(
      dw,
      () => [...inbox.messages].reverse().find((m) => m.to.includes(to) && m.subject === subject),
      `"${subject}" over SMTP`,
    )
  /** That message as the user reads it: its link and its code. */
  const received = async (to, subject) => {
    const message = await arrived(to, subject)
    assert.equal(message.from, 'noreply@localhost')
    return { message, ...flowMail(message.text, APP_URL) }
  }

  // Verification (registration's mail), with the link.
  const reg = await register(dw, 'ann')
  const verification = await received('ann@example.com', 'Confirm your email address')
  assert.ok(
    /^https:\/\/app\.example\.com\/verify\?flow=[^&]+&secret=\S+$/.test(verification.link),
    'the link is appUrl, the path, the flow id and the secret',
  )
  assert.ok((await dw.verifyEmail(verification.flowId, verification.secret)).emailVerifiedAt instanceof Date)

  // Password reset, with the code.
  await dw.requestPasswordReset('ann@example.com', CLIENT)
  const reset = await received('ann@example.com', 'Reset your password')
  await dw.resetPassword(reset.flowId, reset.code, NEW_PASSWORD)
  await dw.login('ann', NEW_PASSWORD)
  // And one for an address with no account: the same answer, no message.
  assertFlowStarted(await dw.requestPasswordReset('nobody@example.com', CLIENT), 3600)

  // Sign-in by email, with the link.
  await dw.requestSignIn('ann@example.com', CLIENT)
  const signIn = await received('ann@example.com', 'Your sign-in link')
  const pair = await dw.completeSignIn(signIn.flowId, signIn.secret, CLIENT)
  assert.equal((await dw.verifyToken(pair.accessToken)).userId, reg.user.id)

  // Email change, with the code sent to the new address; a notice to the old.
  await dw.users.requestEmailChange(reg.user.id, 'ann@new.example', NEW_PASSWORD)
  const notice = await arrived('ann@example.com', 'Your email address is being changed')
  assert.deepEqual(notice.to, ['ann@example.com'])
  assert.ok(!notice.text.includes('ann@new.example'), 'the notice does not name the new address')
  const change = await received('ann@new.example', 'Confirm your new email address')
  assert.deepEqual(change.message.to, ['ann@new.example'])
  const moved = await dw.users.confirmEmailChange(change.flowId, change.code)
  assert.equal(moved.email, 'ann@new.example')

  // Five messages in all, none to the address without an account.
  await dw.events.flush()
  assert.deepEqual(inbox.messages.map((m) => m.subject).sort(), [
    'Confirm your email address',
    'Confirm your new email address',
    'Reset your password',
    'Your email address is being changed',
    'Your sign-in link',
  ])
  assert.ok(!inbox.messages.some((m) => m.to.includes('nobody@example.com')), 'nothing went to the unknown address')
})

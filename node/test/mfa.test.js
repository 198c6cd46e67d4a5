'use strict'
// Second factors end to end: a TOTP authenticator enrolled and used with
// codes computed by otplib (an implementation independent of the core's),
// recovery codes, logins that answer an MfaChallenge, completeMfa, stepUp,
// the synchronous requireAal / requireRecentAuth, the fresh authentication
// that removing a factor needs, enrolment required by a role, a sign-in by
// email that asks for the second factor, and secrets kept out of every
// rendering of the results.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const util = require('node:util')

const { generateSync } = require('otplib')

const { DoorwardError, Mfa, errorHandler, eventTypes } = require('../index.js')
const {
  PASSWORD,
  SECRET,
  awaitMail,
  decodeJwt,
  flowMail,
  open,
  register,
  rejectsWith,
  rejectsWithTypeError,
  signHs256,
} = require('./helpers.js')

/**
 * The code an authenticator app shows at `when` (milliseconds) for the
 * base32 `secret`: computed by otplib, not by doorward.
 */
const codeAt = (secret, when = Date.now()) => generateSync({ secret, epoch: Math.floor(when / 1000) })

/** Every way a host might log a value. */
function renderings(value) {
  return [
    JSON.stringify(value),
    JSON.stringify({ nested: [value] }),
    util.inspect(value),
    util.inspect(value, { depth: Infinity }),
    util.inspect({ nested: [value] }, { depth: Infinity }),
    util.format('%o', value),
    util.format('%O', value),
    util.format('%j', value),
    util.format('%s', value),
  ]
}

function assertHidden(value, secrets, what) {
  for (const text of renderings(value)) {
    for (const secret of secrets) {
      assert.ok(!text.includes(secret), `${what} shows a secret: ${text}`)
    }
  }
}

/** Asserts that `action()` throws (synchronously) a DoorwardError of `code`. */
function throwsWith(action, code) {
  let err
  try {
    action()
  } catch (e) {
    err = e
  }
  assert.ok(err instanceof DoorwardError, `expected a DoorwardError ${code} to be thrown, got ${util.inspect(err)}`)
  assert.equal(err.code, code, err.message)
  return err
}

/** A user with a confirmed authenticator: its enrolment, recovery codes and the code that confirmed it. */
async function enrolled(dw, name) {
  const reg = await register(dw, name)
  const enrolment = await dw.mfa.startTotp(reg.user.id)
  const now = Date.now()
  const confirmCode = codeAt(enrolment.secret, now)
  const recovery = await dw.mfa.confirmTotp(reg.user.id, confirmCode)
  return { reg, enrolment, recovery, now, confirmCode }
}

test('otplib reproduces the RFC 6238 Appendix B SHA-1 vectors (the implementation these tests trust)', () => {
  // The reference secret, b"12345678901234567890", in base32.
  const secret = Buffer.from('12345678901234567890').toString('hex')
  assert.equal(secret, '3132333435363738393031323334353637383930')
  const base32 = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ'
  for (const [time, code] of [
    [59, '94287082'],
    [1_111_111_109, '07081804'],
    [1_234_567_890, '89005924'],
    [20_000_000_000, '65353130'],
  ]) {
    assert.equal(generateSync({ secret: base32, digits: 8, epoch: time }), code, `T = ${time}`)
  }
})

test('TOTP end to end: enrol, challenge, replay refused, next step completes at aal 2, recovery codes once, require*, stepUp, status', async () => {
  // One account logs in and proves factors more often than the per-account
  // login limit allows in five minutes: the limit is not what this tests.
  const dw = await open({ rateLimitLoginAccount: 'off' })
  assert.ok(dw.mfa instanceof Mfa)
  const reg = await register(dw, 'ann')
  const userId = reg.user.id
  assert.deepEqual({ ...(await dw.mfa.status(userId)) }, { totp: false, recoveryCodesLeft: 0, enabled: false })

  // Enrolment: the secret, the otpauth:// URI and its QR code.
  const enrolment = await dw.mfa.startTotp(userId)
  assert.match(enrolment.secret, /^[A-Z2-7]{32}$/, '160 bits in base32, no padding')
  assert.ok(enrolment.uri.startsWith('otpauth://totp/doorward:ann?'), enrolment.uri)
  const uri = new URL(enrolment.uri)
  assert.equal(uri.searchParams.get('secret'), enrolment.secret)
  assert.equal(uri.searchParams.get('issuer'), 'doorward')
  assert.ok(enrolment.qrCode.startsWith('data:image/png;base64,'))
  const png = Buffer.from(enrolment.qrCode.slice('data:image/png;base64,'.length), 'base64')
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'a PNG')
  // Pending: logins do not change until a first code confirms it.
  assert.equal((await dw.login('ann', PASSWORD)).mfaRequired, false)
  assert.equal((await dw.mfa.status(userId)).enabled, false)

  // A wrong first code is refused; the right one (from otplib) activates it.
  const now = Date.now()
  const confirmCode = codeAt(enrolment.secret, now)
  const wrong = `${(Number(confirmCode[0]) + 5) % 10}${confirmCode.slice(1)}`
  await rejectsWith(dw.mfa.confirmTotp(userId, wrong), 'invalid_credentials')
  const recovery = await dw.mfa.confirmTotp(userId, confirmCode)
  assert.equal(recovery.codes.length, 10)
  for (const code of recovery.codes) assert.match(code, /^[0-9a-hjkmnp-tv-z]{5}-[0-9a-hjkmnp-tv-z]{5}$/)
  assert.equal(new Set(recovery.codes).size, 10)
  await rejectsWith(dw.mfa.confirmTotp(userId, confirmCode), 'not_found')
  await rejectsWith(dw.mfa.startTotp(userId), 'validation_error')

  // The password alone now answers a challenge.
  const challenge = await dw.login('ann', PASSWORD, { ip: '203.0.113.9', userAgent: 'mfa-test/1.0' })
  assert.equal(challenge.mfaRequired, true)
  assert.equal(challenge.userId, userId)
  assert.deepEqual(challenge.methods, ['totp', 'recovery_code'])
  assert.equal(challenge.enrolmentRequired, false)
  assert.equal(challenge.expiresIn, 300)
  assert.equal(typeof challenge.flowId, 'string')
  assert.equal(challenge.accessToken, undefined, 'no tokens before the second factor')

  // The code that confirmed the authenticator is spent: a replay is refused.
  await rejectsWith(dw.completeMfa(challenge.flowId, 'totp', confirmCode), 'invalid_credentials')
  // The next time step's code (what the app shows 30 s later) completes it.
  const client = { ip: '203.0.113.9', userAgent: 'mfa-test/1.0' }
  const tokens = await dw.completeMfa(challenge.flowId, 'totp', codeAt(enrolment.secret, now + 30_000), client)
  assert.equal(tokens.mfaRequired, false)
  assert.equal(tokens.tokenType, 'Bearer')
  const principal = await dw.verifyToken(tokens.accessToken)
  assert.equal(principal.userId, userId)
  assert.equal(principal.aal, 2)
  assert.deepEqual(principal.amr, ['mfa', 'otp', 'pwd'])
  assert.ok(principal.authTime instanceof Date)
  const [session] = (await dw.sessions.list(userId)).filter((s) => s.id === principal.sessionId)
  assert.deepEqual({ ip: session.ip, userAgent: session.userAgent }, client, "completeMfa's client is the session's")
  await rejectsWith(dw.completeMfa(challenge.flowId, 'totp', codeAt(enrolment.secret, now + 30_000)), 'flow_invalid')

  // A recovery code completes another login once, and never again.
  const second = await dw.login('ann', PASSWORD)
  assert.equal(second.mfaRequired, true)
  const recovered = await dw.completeMfa(second.flowId, 'recovery_code', recovery.codes[0].toUpperCase())
  const byRecovery = await dw.verifyToken(recovered.accessToken)
  assert.deepEqual([byRecovery.aal, byRecovery.amr], [2, ['mfa', 'otp', 'pwd']])
  const third = await dw.login('ann', PASSWORD)
  await rejectsWith(dw.completeMfa(third.flowId, 'recovery_code', recovery.codes[0]), 'invalid_credentials')
  assert.equal((await dw.mfa.status(userId)).recoveryCodesLeft, 9)

  // requireAal and requireRecentAuth answer synchronously, from the principal alone.
  assert.equal(dw.requireAal(principal, 2), undefined)
  assert.equal(dw.requireAal(principal, 1), undefined)
  assert.equal(dw.requireRecentAuth(principal, 300), undefined)
  const tooHigh = throwsWith(() => dw.requireAal(principal, 3), 'step_up_required')
  assert.ok(tooHigh instanceof Error)
  const bob = await register(dw, 'bob')
  const plain = await dw.verifyToken(bob.tokens.accessToken)
  assert.deepEqual([plain.aal, plain.amr], [1, ['pwd']])
  assert.equal(dw.requireAal(plain, 1), undefined)
  throwsWith(() => dw.requireAal(plain, 2), 'step_up_required')
  const stale = { ...principal, authTime: new Date(Date.now() - 3_600_000) }
  throwsWith(() => dw.requireRecentAuth(stale, 600), 'step_up_required')
  assert.equal(dw.requireRecentAuth(stale, 7200), undefined)

  // A step-up with the password: a new session's tokens; the old one ends.
  await rejectsWith(dw.stepUp(tokens.accessToken, 'password', 'not the password'), 'invalid_credentials')
  const stepped = await dw.stepUp(tokens.accessToken, 'password', PASSWORD)
  assert.equal(stepped.mfaRequired, false)
  await rejectsWith(dw.verifyToken(tokens.accessToken), 'token_revoked')
  const fresh = await dw.verifyToken(stepped.accessToken)
  assert.notEqual(fresh.sessionId, principal.sessionId)
  assert.deepEqual([fresh.aal, fresh.amr], [2, ['mfa', 'otp', 'pwd']], 'the old session kept its second factor')
  // Bob has no second factor: a step-up with the password keeps him at level 1.
  const bobStepped = await dw.verifyToken((await dw.stepUp(bob.tokens.accessToken, 'password', PASSWORD)).accessToken)
  assert.deepEqual([bobStepped.aal, bobStepped.amr], [1, ['pwd']])
  await rejectsWith(dw.verifyToken(bob.tokens.accessToken), 'token_revoked')
  // A recovery code steps up too.
  const byCode = await dw.stepUp(stepped.accessToken, 'recovery_code', recovery.codes[1])
  assert.equal((await dw.verifyToken(byCode.accessToken)).aal, 2)

  assert.deepEqual({ ...(await dw.mfa.status(userId)) }, { totp: true, recoveryCodesLeft: 8, enabled: true })

  // New recovery codes replace the old ones at once.
  const renewed = await dw.mfa.regenerateRecoveryCodes(byCode.accessToken)
  assert.equal(renewed.codes.length, 10)
  assert.equal((await dw.mfa.status(userId)).recoveryCodesLeft, 10)
  const fourth = await dw.login('ann', PASSWORD)
  await rejectsWith(dw.completeMfa(fourth.flowId, 'recovery_code', recovery.codes[2]), 'invalid_credentials')
  await dw.completeMfa(fourth.flowId, 'recovery_code', renewed.codes[0])

  // Removing the authenticator: logins answer tokens again.
  await dw.mfa.disableTotp(byCode.accessToken)
  assert.deepEqual({ ...(await dw.mfa.status(userId)) }, { totp: false, recoveryCodesLeft: 0, enabled: false })
  assert.equal((await dw.login('ann', PASSWORD)).mfaRequired, false)
  await rejectsWith(dw.mfa.disableTotp(byCode.accessToken), 'not_found')

  // Each step was an event of the new types.
  await dw.events.flush()
  const types = new Set((await dw.events.list({ limit: 1000 })).items.map((e) => e.type))
  for (const type of ['MfaChallenged', 'MfaEnrolled', 'MfaFailed', 'RecoveryCodeUsed', 'RecoveryCodesRegenerated', 'MfaRemoved']) {
    assert.ok(eventTypes().includes(type), `${type} is in eventTypes()`)
    assert.ok(types.has(type), `a ${type} event`)
  }
})

test('removing a factor or replacing the codes needs a fresh authentication: step_up_required, then stepUp', async () => {
  const dw = await open()
  const { reg, enrolment, now } = await enrolled(dw, 'cyd')
  const challenge = await dw.login('cyd', PASSWORD)
  const tokens = await dw.completeMfa(challenge.flowId, 'totp', codeAt(enrolment.secret, now + 30_000))
  // The same session's token, as an hour from now: authenticated an hour ago.
  const { header, claims } = decodeJwt(tokens.accessToken)
  const hourAgo = Math.floor(Date.now() / 1000) - 3600
  const old = signHs256(header, { ...claims, auth_time: hourAgo }, SECRET)
  const principal = await dw.verifyToken(old)
  assert.equal(Math.floor(principal.authTime.getTime() / 1000), hourAgo)
  throwsWith(() => dw.requireRecentAuth(principal, 600), 'step_up_required')
  const refused = await rejectsWith(dw.mfa.disableTotp(old), 'step_up_required')
  await rejectsWith(dw.mfa.regenerateRecoveryCodes(old), 'step_up_required')

  // errorHandler answers it as RFC 9470 asks: 401, insufficient_user_authentication.
  const answer = await new Promise((resolve) => {
    const res = {
      headers: {},
      setHeader(k, v) {
        this.headers[k.toLowerCase()] = v
      },
      end(body) {
        resolve({ status: this.statusCode, headers: this.headers, body: JSON.parse(body) })
      },
    }
    errorHandler()(refused, {}, res, () => resolve(null))
  })
  assert.equal(answer.status, 401)
  assert.equal(answer.headers['www-authenticate'], 'Bearer error="insufficient_user_authentication"')
  assert.equal(answer.body.error.code, 'step_up_required')

  // Proving who you are again makes it fresh.
  const fresh = await dw.stepUp(old, 'password', PASSWORD)
  await rejectsWith(dw.verifyToken(old), 'token_revoked')
  dw.requireRecentAuth(await dw.verifyToken(fresh.accessToken), 600)
  await dw.mfa.disableTotp(fresh.accessToken)
  assert.equal((await dw.mfa.status(reg.user.id)).enabled, false)
})

test('a role in mfaRequiredForRoles: the login asks to enrol, and the confirming code completes it', async () => {
  const dw = await open({ mfaRequiredForRoles: ['admin'] })
  const reg = await register(dw, 'dana')
  await dw.roles.grant(reg.user.id, 'admin')
  const challenge = await dw.login('dana', PASSWORD)
  assert.equal(challenge.mfaRequired, true)
  assert.equal(challenge.enrolmentRequired, true)
  assert.deepEqual(challenge.methods, ['totp'])
  const enrolment = await dw.mfa.startTotp(challenge.userId)
  const code = codeAt(enrolment.secret)
  await dw.mfa.confirmTotp(challenge.userId, code)
  const tokens = await dw.completeMfa(challenge.flowId, 'totp', code)
  const principal = await dw.verifyToken(tokens.accessToken)
  assert.deepEqual([principal.aal, principal.amr], [2, ['mfa', 'otp', 'pwd']])
  dw.requireAal(principal, 2)
})

test('a sign-in by email of an account with a factor answers a challenge too; email and a code stay level 1', async () => {
  const appUrl = 'https://app.example.com'
  const dw = await open({ mailUrl: 'memory://', appUrl, eventsPollIntervalMs: 20 })
  const { enrolment, now } = await enrolled(dw, 'eve')
  const started = await dw.requestSignIn('eve@example.com')
  const message = await awaitMail(dw, () => dw.mail.sent().find((m) => m.text.includes(`flow=${started.flowId}&`)))
  const mail = flowMail(message.text, appUrl)
  const challenge = await dw.completeSignIn(mail.flowId, mail.secret)
  assert.equal(challenge.mfaRequired, true)
  assert.deepEqual(challenge.methods, ['totp', 'recovery_code'])
  assert.ok(!util.inspect(challenge).includes(challenge.flowId))
  const tokens = await dw.completeMfa(challenge.flowId, 'totp', codeAt(enrolment.secret, now + 30_000))
  const principal = await dw.verifyToken(tokens.accessToken)
  assert.deepEqual([principal.aal, principal.amr], [1, ['email', 'otp']])
  throwsWith(() => dw.requireAal(principal, 2), 'step_up_required')
})

test('TotpEnrolment, RecoveryCodes and MfaChallenge keep their secrets out of inspect, JSON and spreads, yet readable', async () => {
  const dw = await open()
  const { reg, enrolment, recovery } = await enrolled(dw, 'finn')
  const challenge = await dw.login('finn', PASSWORD)

  assertHidden(enrolment, [enrolment.secret, enrolment.uri, enrolment.qrCode.slice(22, 80)], 'a TotpEnrolment')
  assert.equal(util.inspect(enrolment), "TotpEnrolment { secret: '[hidden]', uri: '[hidden]', qrCode: '[hidden]' }")
  assert.deepEqual(Object.keys(enrolment), [])
  assert.equal(JSON.stringify(enrolment), '{}')
  assert.match(enrolment.secret, /^[A-Z2-7]+$/, 'the properties stay readable')

  assertHidden(recovery, recovery.codes, 'RecoveryCodes')
  assert.equal(util.inspect(recovery), "RecoveryCodes { codes: '[10 hidden]' }")
  assert.equal(recovery.codes.length, 10)
  const renewed = await dw.mfa.regenerateRecoveryCodes(
    (await dw.completeMfa(challenge.flowId, 'recovery_code', recovery.codes[0])).accessToken,
  )
  assertHidden(renewed, renewed.codes, 'regenerated RecoveryCodes')

  const pending = await dw.login('finn', PASSWORD)
  const flowSecret = pending.flowId.split('.').pop()
  assertHidden(pending, [pending.flowId, flowSecret], 'an MfaChallenge')
  const shown = util.inspect(pending)
  assert.match(shown, /^MfaChallenge \{/)
  assert.match(shown, /flowId: '\[hidden\]'/)
  assert.match(shown, /mfaRequired: true/)
  assert.deepEqual(JSON.parse(JSON.stringify(pending)), {
    mfaRequired: true,
    userId: reg.user.id,
    methods: ['totp', 'recovery_code'],
    enrolmentRequired: false,
    expiresIn: 300,
  })
  assert.equal({ ...pending }.flowId, undefined)
  assert.equal(typeof pending.flowId, 'string')
  // No event carries the pending login's secret either.
  await dw.events.flush()
  const events = JSON.stringify((await dw.events.list({ limit: 1000 })).items)
  assert.ok(!events.includes(flowSecret), 'the flow secret is in no event')
  for (const code of renewed.codes) assert.ok(!events.includes(code))
  assert.ok(!events.includes(enrolment.secret))
})

test('argument and input errors: methods, flows, clients, principals, levels', async () => {
  const dw = await open()
  const { reg } = await enrolled(dw, 'gus')
  const challenge = await dw.login('gus', PASSWORD)
  const method = await rejectsWith(dw.completeMfa(challenge.flowId, 'password', PASSWORD), 'validation_error')
  assert.equal(method.field, 'method')
  await rejectsWith(dw.completeMfa('not-a-flow', 'totp', '123456'), 'flow_invalid')
  await rejectsWith(dw.completeMfa(`${challenge.flowId}x`, 'totp', '123456'), 'flow_invalid')
  await rejectsWithTypeError(() => dw.completeMfa(challenge.flowId, 'totp', '123456', 'client'))
  await rejectsWithTypeError(() => dw.completeMfa(challenge.flowId, 'totp'))
  await rejectsWith(dw.completeMfa(challenge.flowId, 'totp', 'abcdef'), 'invalid_credentials')

  const other = await register(dw, 'hal')
  const stepMethod = await rejectsWith(dw.stepUp(other.tokens.accessToken, 'sms', '123456'), 'validation_error')
  assert.equal(stepMethod.field, 'method')
  await rejectsWith(dw.stepUp('not-a-token', 'password', PASSWORD), 'token_invalid')
  await rejectsWithTypeError(() => dw.stepUp(other.tokens.accessToken, 'password', PASSWORD, 42))

  await rejectsWith(dw.mfa.status('no-such-user'), 'not_found')
  await rejectsWith(dw.mfa.startTotp('no-such-user'), 'not_found')
  await rejectsWith(dw.mfa.disableTotp('not-a-token'), 'token_invalid')
  await rejectsWithTypeError(() => dw.mfa.confirmTotp(reg.user.id))

  // requireAal and requireRecentAuth throw at once, never reject.
  const principal = await dw.verifyToken(other.tokens.accessToken)
  for (const bad of [() => dw.requireAal(other.tokens.accessToken, 1), () => dw.requireAal(principal), () => dw.requireRecentAuth({ userId: 'x' }, 60)]) {
    let err
    try {
      bad()
    } catch (e) {
      err = e
    }
    assert.ok(err instanceof TypeError, `a TypeError, not ${util.inspect(err)}`)
    assert.equal(err.code, 'ERR_INVALID_ARG_TYPE')
  }
  // A level that is no whole number is one no session reaches.
  for (const level of [1.5, -1, 256, Number.NaN, Number.POSITIVE_INFINITY]) {
    throwsWith(() => dw.requireAal(principal, level), 'step_up_required')
  }
  assert.equal(dw.requireAal(principal, 0), undefined)
})

'use strict'
// Passkeys through the Node package: the options as plain objects, the
// browser's answers taken as objects (anything else a TypeError), the
// validation and flow errors of wrong answers, list / rename / remove, the
// configuration keys, and whole ceremonies answered by a small software
// authenticator written here (ES256 keys from node:crypto, "none"
// attestation): registration, a sign-in with and without a username at
// level 2, the passkey as the second factor of a password login and of a
// step-up, replays refused, and removal behind a fresh authentication.
// (The example's browser test does the same with Chromium's virtual
// authenticator: examples/express/browser.test.js.)

const { test } = require('node:test')
const assert = require('node:assert/strict')
const crypto = require('node:crypto')
const util = require('node:util')

const { DoorwardError, Passkeys, eventTypes } = require('../index.js')
const { PASSWORD, decodeJwt, open, register, rejectsWith, rejectsWithTypeError, signHs256, SECRET } = require('./helpers.js')

const ORIGIN = 'https://app.example.com'
const CONFIG = { appUrl: ORIGIN, rateLimitLoginAccount: 'off' }

const b64url = (bytes) => Buffer.from(bytes).toString('base64url')
const sha256 = (data) => crypto.createHash('sha256').update(data).digest()

// --- a software authenticator ---------------------------------------------------

/** The head of a CBOR item: major type and length or value (RFC 8949 §3). */
function cborHead(major, n) {
  if (n < 24) return Buffer.from([(major << 5) | n])
  if (n < 0x100) return Buffer.from([(major << 5) | 24, n])
  if (n < 0x10000) return Buffer.from([(major << 5) | 25, n >> 8, n & 0xff])
  throw new Error('too long for this encoder')
}

/** CBOR of integers, byte strings, text and Maps: what an attestation object holds. */
function cbor(value) {
  if (Buffer.isBuffer(value)) return Buffer.concat([cborHead(2, value.length), value])
  if (typeof value === 'string') return Buffer.concat([cborHead(3, Buffer.byteLength(value)), Buffer.from(value)])
  if (Number.isInteger(value)) return value >= 0 ? cborHead(0, value) : cborHead(1, -1 - value)
  if (value instanceof Map) {
    return Buffer.concat([cborHead(5, value.size), ...[...value].flatMap(([k, v]) => [cbor(k), cbor(v)])])
  }
  throw new Error(`no CBOR for ${util.inspect(value)}`)
}

/**
 * A platform authenticator with one ES256 passkey per registration, which
 * verifies its user (the UV flag) and counts its signatures; it answers
 * in the JSON of the browser's `credential.toJSON()`.
 */
class SoftAuthenticator {
  constructor({ synced = false } = {}) {
    this.synced = synced
    this.keys = new Map() // credential id (base64url) -> { privateKey, userHandle, rpId, count }
  }

  /** authenticatorData: rpIdHash, flags (UP, UV, BE/BS when synced), the counter, and more. */
  authData(rpId, count, more = Buffer.alloc(0), attested = false) {
    const flags = 0x01 | 0x04 | (this.synced ? 0x18 : 0) | (attested ? 0x40 : 0)
    const counter = Buffer.alloc(4)
    counter.writeUInt32BE(count)
    return Buffer.concat([sha256(rpId), Buffer.from([flags]), counter, more])
  }

  /** What navigator.credentials.create() gives for `options` (startRegistration's), at `origin`. */
  create(options, origin = ORIGIN) {
    const pk = options.publicKey
    const { privateKey, publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' })
    const jwk = publicKey.export({ format: 'jwk' })
    const coseKey = cbor(
      new Map([
        [1, 2], // kty: EC2
        [3, -7], // alg: ES256
        [-1, 1], // crv: P-256
        [-2, Buffer.from(jwk.x, 'base64url')],
        [-3, Buffer.from(jwk.y, 'base64url')],
      ]),
    )
    const credentialId = crypto.randomBytes(16)
    const idLength = Buffer.alloc(2)
    idLength.writeUInt16BE(credentialId.length)
    const attested = Buffer.concat([Buffer.alloc(16), idLength, credentialId, coseKey]) // AAGUID of zeros
    const authData = this.authData(pk.rp.id, 0, attested, true)
    const clientData = JSON.stringify({ type: 'webauthn.create', challenge: pk.challenge, origin, crossOrigin: false })
    const attestationObject = cbor(new Map([['fmt', 'none'], ['attStmt', new Map()], ['authData', authData]]))
    const id = b64url(credentialId)
    this.keys.set(id, { privateKey, userHandle: pk.user.id, rpId: pk.rp.id, count: 0 })
    return {
      id,
      rawId: id,
      type: 'public-key',
      authenticatorAttachment: 'platform',
      response: {
        clientDataJSON: b64url(clientData),
        attestationObject: b64url(attestationObject),
        transports: ['internal'],
      },
      clientExtensionResults: {},
    }
  }

  /**
   * What navigator.credentials.get() gives for `options`
   * (startAuthentication's): a passkey it allows, or with an empty
   * allow-list (a discoverable credential) the first one for its rp id.
   */
  get(options, origin = ORIGIN) {
    const pk = options.publicKey
    const allowed = pk.allowCredentials.map((c) => c.id)
    const id = [...this.keys.keys()].find((k) => (allowed.length ? allowed.includes(k) : this.keys.get(k).rpId === pk.rpId))
    assert.ok(id, 'the authenticator holds a passkey for these options')
    const key = this.keys.get(id)
    key.count += 1
    const authData = this.authData(pk.rpId, key.count)
    const clientData = JSON.stringify({ type: 'webauthn.get', challenge: pk.challenge, origin, crossOrigin: false })
    const signature = crypto.sign('sha256', Buffer.concat([authData, sha256(clientData)]), key.privateKey)
    return {
      id,
      rawId: id,
      type: 'public-key',
      authenticatorAttachment: 'platform',
      response: {
        clientDataJSON: b64url(clientData),
        authenticatorData: b64url(authData),
        signature: b64url(signature),
        userHandle: key.userHandle,
      },
      clientExtensionResults: {},
    }
  }
}

/** Registers `name` and a passkey for them: the registration, the authenticator, and the passkey. */
async function withPasskey(dw, name, authenticator = new SoftAuthenticator()) {
  const reg = await register(dw, name)
  const options = await dw.passkeys.startRegistration(reg.user.id)
  const info = await dw.passkeys.finishRegistration(reg.user.id, authenticator.create(options), 'laptop')
  return { reg, authenticator, info }
}

// --- the API --------------------------------------------------------------------

test('startRegistration: creation options as a plain object, for the configured relying party and the user', async () => {
  const dw = await open(CONFIG)
  assert.ok(dw.passkeys instanceof Passkeys)
  const reg = await register(dw, 'ann')
  const options = await dw.passkeys.startRegistration(reg.user.id)
  assert.equal(Object.getPrototypeOf(options), Object.prototype, 'a plain object')
  assert.deepEqual(Object.keys(options), ['publicKey'])
  const pk = options.publicKey
  assert.deepEqual(pk.rp, { id: 'app.example.com', name: 'doorward' })
  assert.equal(pk.user.name, 'ann')
  assert.equal(pk.user.displayName, 'ann')
  assert.match(pk.user.id, /^[A-Za-z0-9_-]+$/, 'the user handle in base64url')
  assert.match(pk.challenge, /^[A-Za-z0-9_-]{43}$/, '32 random bytes in base64url')
  assert.ok(pk.pubKeyCredParams.some((p) => p.type === 'public-key' && p.alg === -7), 'ES256 is offered')
  assert.equal(pk.authenticatorSelection.userVerification, 'required')
  assert.equal(pk.authenticatorSelection.residentKey, 'preferred', 'discoverable, so no username is needed to sign in')
  assert.deepEqual(pk.excludeCredentials, [])
  assert.equal(pk.timeout, 300_000)
  // JSON as it goes to the browser, and a new challenge each time.
  assert.deepEqual(JSON.parse(JSON.stringify(options)), options)
  assert.notEqual((await dw.passkeys.startRegistration(reg.user.id)).publicKey.challenge, pk.challenge)
  await rejectsWith(dw.passkeys.startRegistration('no-such-user'), 'not_found')
})

test('startAuthentication: for a username, or with none a discoverable credential', async () => {
  const dw = await open(CONFIG)
  const { info } = await withPasskey(dw, 'bea')
  const named = await dw.passkeys.startAuthentication('bea')
  assert.deepEqual(Object.keys(named), ['publicKey'])
  assert.equal(named.publicKey.rpId, 'app.example.com')
  assert.equal(named.publicKey.userVerification, 'required')
  assert.deepEqual(named.publicKey.allowCredentials.map((c) => [c.type, c.id]), [['public-key', info.id]])
  for (const options of [
    await dw.passkeys.startAuthentication(),
    await dw.passkeys.startAuthentication(null),
    await dw.passkeys.startAuthentication(''),
    // An unknown name looks the same: no list of credentials to leak.
    await dw.passkeys.startAuthentication('nobody'),
  ]) {
    assert.equal(options.publicKey.rpId, 'app.example.com')
    assert.deepEqual(options.publicKey.allowCredentials, [])
    assert.equal(options.mediation, undefined, 'a modal request; the host may ask for conditional mediation')
  }
  const tooLong = await rejectsWith(dw.passkeys.startAuthentication('x'.repeat(400)), 'validation_error')
  assert.equal(tooLong.field, 'username')
})

test('wrong answers: validation_error, flow_invalid, and a TypeError for what is no object', async () => {
  const dw = await open(CONFIG)
  const reg = await register(dw, 'cyd')
  await dw.passkeys.startRegistration(reg.user.id)
  for (const garbage of [{}, { id: 'x' }, { id: 'x', rawId: 'x', type: 'public-key', response: { clientDataJSON: 'not base64 json' } }]) {
    const err = await rejectsWith(dw.passkeys.finishRegistration(reg.user.id, garbage, 'laptop'), 'validation_error')
    assert.equal(err.field, 'response')
  }
  for (const notAnObject of ['{}', 42, null, undefined, [], true]) {
    await rejectsWithTypeError(() => dw.passkeys.finishRegistration(reg.user.id, notAnObject, 'laptop'))
    await rejectsWithTypeError(() => dw.passkeys.finishAuthentication(notAnObject))
  }
  await rejectsWithTypeError(() => dw.passkeys.finishAuthentication({}, 'client'))

  // A well-formed answer to a ceremony doorward never started.
  const stranger = new SoftAuthenticator()
  const forged = { publicKey: { rp: { id: 'app.example.com' }, user: { id: 'AAAA' }, challenge: b64url(crypto.randomBytes(32)) } }
  await rejectsWith(dw.passkeys.finishRegistration(reg.user.id, stranger.create(forged), 'laptop'), 'flow_invalid')
  const unknown = stranger.get({ publicKey: { rpId: 'app.example.com', allowCredentials: [], challenge: b64url(crypto.randomBytes(32)) } })
  await rejectsWith(dw.passkeys.finishAuthentication(unknown), 'flow_invalid')
  await rejectsWith(dw.passkeys.finishAuthentication({ id: 'x' }), 'validation_error')

  // The name: 1 to 64 printable characters, checked before the ceremony is spent.
  const options = await dw.passkeys.startRegistration(reg.user.id)
  const created = new SoftAuthenticator().create(options)
  for (const name of ['', '   ', 'x'.repeat(65), 'tab\there']) {
    const err = await rejectsWith(dw.passkeys.finishRegistration(reg.user.id, created, name), 'validation_error')
    assert.equal(err.field, 'name')
  }
  assert.equal((await dw.passkeys.finishRegistration(reg.user.id, created, 'phone')).name, 'phone')

  await rejectsWithTypeError(() => dw.passkeys.finishRegistration(reg.user.id, created))
  await rejectsWithTypeError(() => dw.passkeys.rename(reg.user.id, 'id'))
})

test('list, rename and remove: empty at first, not_found for another id, removal behind a fresh authentication', async () => {
  const dw = await open(CONFIG)
  const plain = await register(dw, 'dot')
  assert.deepEqual(await dw.passkeys.list(plain.user.id), [])
  await rejectsWith(dw.passkeys.rename(plain.user.id, 'no-such-passkey', 'x'), 'not_found')
  await rejectsWith(dw.passkeys.list('no-such-user'), 'not_found')

  const { reg, info } = await withPasskey(dw, 'eve')
  assert.equal(info.name, 'laptop')
  assert.match(info.id, /^[A-Za-z0-9_-]+$/)
  assert.ok(info.createdAt instanceof Date)
  assert.equal(info.lastUsedAt, undefined, 'not used yet')
  assert.deepEqual([info.backupEligible, info.backupState, info.signCount], [false, false, 0])
  assert.deepEqual(Object.keys(info).sort(), ['backupEligible', 'backupState', 'createdAt', 'id', 'name', 'signCount'])

  await dw.passkeys.rename(reg.user.id, info.id, ' work laptop ')
  const [listed] = await dw.passkeys.list(reg.user.id)
  assert.equal(listed.name, 'work laptop')
  assert.equal(listed.id, info.id)
  const badName = await rejectsWith(dw.passkeys.rename(reg.user.id, info.id, ''), 'validation_error')
  assert.equal(badName.field, 'name')
  // Another account's passkey is not Dot's to rename or remove.
  await rejectsWith(dw.passkeys.rename(plain.user.id, info.id, 'mine'), 'not_found')
  await rejectsWith(dw.passkeys.remove(plain.tokens.accessToken, info.id), 'not_found')

  // Removal needs an authentication of the last freshAuthMaxAge seconds.
  const { header, claims } = decodeJwt(reg.tokens.accessToken)
  const stale = signHs256(header, { ...claims, auth_time: claims.auth_time - 3600 }, SECRET)
  await rejectsWith(dw.passkeys.remove(stale, info.id), 'step_up_required')
  await rejectsWith(dw.passkeys.remove('not-a-token', info.id), 'token_invalid')
  await dw.passkeys.remove(reg.tokens.accessToken, info.id)
  assert.deepEqual(await dw.passkeys.list(reg.user.id), [])
  await rejectsWith(dw.passkeys.remove(reg.tokens.accessToken, info.id), 'not_found')
})

test('the configuration keys: webauthnRpId, webauthnRpName, webauthnOrigins (a list or text)', async () => {
  for (const webauthnOrigins of [['https://app.example.com', 'https://admin.example.com'], 'https://app.example.com,https://admin.example.com']) {
    const dw = await open({ ...CONFIG, webauthnRpId: 'example.com', webauthnRpName: 'Example', webauthnOrigins })
    const reg = await register(dw, 'fay')
    const options = await dw.passkeys.startRegistration(reg.user.id)
    assert.deepEqual(options.publicKey.rp, { id: 'example.com', name: 'Example' })
    // A passkey made at one allowed origin signs in at another.
    const authenticator = new SoftAuthenticator()
    await dw.passkeys.finishRegistration(reg.user.id, authenticator.create(options, 'https://admin.example.com'), 'key')
    const assertion = authenticator.get(await dw.passkeys.startAuthentication('fay'), 'https://app.example.com')
    assert.equal((await dw.passkeys.finishAuthentication(assertion)).mfaRequired, false)
  }
  // The default: app_url's host and origin (http only for localhost).
  const local = await open({ appUrl: 'http://localhost:3000' })
  const reg = await register(local, 'gil')
  assert.equal((await local.passkeys.startRegistration(reg.user.id)).publicKey.rp.id, 'localhost')
  // A relying party id that does not suit the origin: every passkey operation is a config_error.
  const wrong = await open({ ...CONFIG, webauthnRpId: 'example.org' })
  const other = await register(wrong, 'hal')
  const err = await rejectsWith(wrong.passkeys.startRegistration(other.user.id), 'config_error')
  assert.match(err.message, /webauthn/)
  await rejectsWith(open({ webauthnOrigins: 42 }), 'config_error')
  await rejectsWith(open({ webauthnRpName: ['x'] }), 'config_error')
})

// --- whole ceremonies -------------------------------------------------------------

test('a passkey registers once and signs in at level 2, with and without a username; replays are refused', async () => {
  const dw = await open(CONFIG)
  const reg = await register(dw, 'ivy')
  const authenticator = new SoftAuthenticator()
  const options = await dw.passkeys.startRegistration(reg.user.id)
  const created = authenticator.create(options)
  // An answer made for another origin (a phishing page) is refused.
  const elsewhere = new SoftAuthenticator().create(await dw.passkeys.startRegistration(reg.user.id), 'https://app.example.org')
  await rejectsWith(dw.passkeys.finishRegistration(reg.user.id, elsewhere, 'phish'), 'validation_error')
  // Another account cannot finish Ivy's ceremony.
  const joe = await register(dw, 'joe')
  const ivys = new SoftAuthenticator().create(await dw.passkeys.startRegistration(reg.user.id))
  await rejectsWith(dw.passkeys.finishRegistration(joe.user.id, ivys, 'stolen'), 'flow_invalid')
  const info = await dw.passkeys.finishRegistration(reg.user.id, created, 'laptop')
  assert.equal(info.name, 'laptop')
  assert.equal(info.id, created.id)
  // The ceremony is spent.
  await rejectsWith(dw.passkeys.finishRegistration(reg.user.id, created, 'again'), 'flow_invalid')
  // The registered passkey is excluded from the next registration.
  const next = await dw.passkeys.startRegistration(reg.user.id)
  assert.deepEqual(next.publicKey.excludeCredentials.map((c) => c.id), [info.id])

  const client = { ip: '203.0.113.7', userAgent: 'passkey-test/1.0' }
  for (const username of ['ivy', 'ivy@example.com', undefined]) {
    const assertion = authenticator.get(await dw.passkeys.startAuthentication(username))
    const tokens = await dw.passkeys.finishAuthentication(assertion, client)
    assert.equal(tokens.mfaRequired, false)
    assert.equal(tokens.tokenType, 'Bearer')
    const principal = await dw.verifyToken(tokens.accessToken)
    assert.equal(principal.userId, reg.user.id)
    assert.equal(principal.username, 'ivy')
    assert.equal(principal.aal, 2, 'a passkey verifies its user: level 2 by itself')
    assert.deepEqual(principal.amr, ['hwk', 'mfa', 'user'])
    const [session] = (await dw.sessions.list(reg.user.id)).filter((s) => s.id === principal.sessionId)
    assert.deepEqual({ ip: session.ip, userAgent: session.userAgent }, client)
    // Its tokens are hidden like every TokenPair's.
    assert.ok(!JSON.stringify(tokens).includes(tokens.accessToken))
    assert.ok(!util.inspect(tokens).includes(tokens.refreshToken))
    // The same assertion again: its ceremony is used up.
    await rejectsWith(dw.passkeys.finishAuthentication(assertion), 'flow_invalid')
  }
  const [used] = await dw.passkeys.list(reg.user.id)
  assert.ok(used.lastUsedAt instanceof Date)
  assert.equal(used.signCount, 3)

  // An assertion for another origin, or signed by the wrong key, is refused.
  const phished = authenticator.get(await dw.passkeys.startAuthentication('ivy'), 'https://app.example.org')
  await rejectsWith(dw.passkeys.finishAuthentication(phished), 'invalid_credentials')
  const forged = authenticator.get(await dw.passkeys.startAuthentication('ivy'))
  forged.response.signature = authenticator.get(await dw.passkeys.startAuthentication('ivy')).response.signature
  await rejectsWith(dw.passkeys.finishAuthentication(forged), 'invalid_credentials')
  // A disabled account does not sign in.
  await dw.users.disable(reg.user.id)
  await rejectsWith(dw.passkeys.finishAuthentication(authenticator.get(await dw.passkeys.startAuthentication())), 'user_disabled')
})

test('a synced passkey is swk; a passkey is the second factor of a password login and of a step-up', async () => {
  const dw = await open({ ...CONFIG, mfaEncryptionKey: 'a passkey test key of at least 32 bytes!' })
  const { reg, authenticator } = await withPasskey(dw, 'kim', new SoftAuthenticator({ synced: true }))
  const signedIn = await dw.passkeys.finishAuthentication(authenticator.get(await dw.passkeys.startAuthentication()))
  assert.deepEqual((await dw.verifyToken(signedIn.accessToken)).amr, ['mfa', 'swk', 'user'])
  // The flags as the last use reported them.
  const [info] = await dw.passkeys.list(reg.user.id)
  assert.deepEqual([info.backupEligible, info.backupState], [true, true])

  // Passkeys alone do not make the password ask for a second factor.
  const pair = await dw.login('kim', PASSWORD)
  assert.equal(pair.mfaRequired, false)
  // A step-up with the passkey: its assertion as JSON text.
  const stepOptions = await dw.passkeys.startAuthentication('kim')
  const stepped = await dw.stepUp(pair.accessToken, 'passkey', JSON.stringify(authenticator.get(stepOptions)))
  const steppedPrincipal = await dw.verifyToken(stepped.accessToken)
  assert.equal(steppedPrincipal.aal, 2)
  assert.ok(steppedPrincipal.amr.includes('swk') && steppedPrincipal.amr.includes('pwd'), String(steppedPrincipal.amr))
  await rejectsWith(dw.verifyToken(pair.accessToken), 'token_revoked')
  const notJson = await rejectsWith(dw.stepUp(stepped.accessToken, 'passkey', 'not json'), 'validation_error')
  assert.equal(notJson.field, 'proof')

  // With a TOTP authenticator, logins ask for a second factor: the passkey is one.
  const { generateSync } = require('otplib')
  const enrolment = await dw.mfa.startTotp(reg.user.id)
  await dw.mfa.confirmTotp(reg.user.id, generateSync({ secret: enrolment.secret }))
  const challenge = await dw.login('kim', PASSWORD)
  assert.equal(challenge.mfaRequired, true)
  assert.deepEqual(challenge.methods, ['totp', 'recovery_code', 'passkey'])
  const proof = JSON.stringify(authenticator.get(await dw.passkeys.startAuthentication('kim')))
  const done = await dw.completeMfa(challenge.flowId, 'passkey', proof)
  const principal = await dw.verifyToken(done.accessToken)
  assert.equal(principal.aal, 2)
  assert.deepEqual(principal.amr, ['mfa', 'pwd', 'swk', 'user'])
  // Another account's passkey is no second factor for Kim.
  const other = await withPasskey(dw, 'lee')
  const again = await dw.login('kim', PASSWORD)
  const leeProof = JSON.stringify(other.authenticator.get(await dw.passkeys.startAuthentication('lee')))
  await rejectsWith(dw.completeMfa(again.flowId, 'passkey', leeProof), 'invalid_credentials')

  // The enrolment and removal of a passkey are MfaEnrolled / MfaRemoved events.
  await dw.passkeys.remove(done.accessToken, info.id)
  await dw.events.flush()
  const events = (await dw.events.list({ limit: 1000 })).items
  const factors = events.filter((e) => e.payload.factor === 'passkey').map((e) => e.type)
  assert.ok(factors.includes('MfaEnrolled') && factors.includes('MfaRemoved'), String(factors))
  assert.ok(eventTypes().includes('MfaEnrolled'))
  assert.ok(new DoorwardError('x', 'step_up_required') instanceof Error)
})

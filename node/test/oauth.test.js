'use strict'
// Sign-in with an OpenID provider through the Node package, end to end
// against a real one (npm's oidc-provider, tests/oidc, an issuer per test)
// driven through its login page by tests/oidc/login.mjs: a sign-up, a
// link by verified address, account_exists, a replayed or foreign state, a
// cancelled sign-in, a wrong nonce, a rotated key, a second factor, linking
// and unlinking on every backend, provider tokens; the errors' OAuth
// details, the configuration keys, and results that keep the URL, the
// state and every token out of JSON and util.inspect. The tests that need
// the provider skip when it is not running, and fail instead under
// DOORWARD_REQUIRE_SERVICES=1.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')
const util = require('node:util')

const { generateSync } = require('otplib')

const { Doorward, DoorwardError, HTTP_STATUS, OAuth } = require('../index.js')
const {
  CHEAP,
  PASSWORD,
  browse,
  oidcIssuer,
  oidcRotate,
  open,
  postgresUrl,
  rejectsWith,
  rejectsWithTypeError,
  tempDir,
} = require('./helpers.js')

/** The redirect URI: never requested, browse() stops at it. */
const CALLBACK = 'http://127.0.0.1:1/callback'
const CLIENT_SECRET = 'a-client-secret-of-the-corp-provider'

/**
 * An issuer with one confidential client, and a Doorward (`config` laid
 * over the cheap defaults) signing in with it as provider `corp`
 * (`provider` laid over its entry): `{ dw, issuer, id }`, or null when
 * the provider is not running.
 */
async function setup(t, { config = {}, provider = {} } = {}) {
  const found = await oidcIssuer(t, [
    { client_id: 'doorward', client_secret: CLIENT_SECRET, redirect_uris: [CALLBACK] },
  ])
  if (!found) return null
  const dw = await open({
    oauthProviders: [{ id: 'corp', issuer: found.issuer, clientId: 'doorward', clientSecret: CLIENT_SECRET, ...provider }],
    ...config,
  })
  return { dw, ...found }
}

/** Signs in through the provider's page as `account`: the callback URL and the state to expect. */
async function signIn(dw, account) {
  const start = await dw.oauth.authorizationUrl('corp', CALLBACK)
  assert.match(start.url, /code_challenge_method=S256/)
  assert.match(start.url, /[?&]nonce=/)
  const { url } = await browse(start.url, { account, stopAt: CALLBACK })
  return { callback: url, state: start.state }
}

/** Signs in as `account` and completes: the OAuthCompletion. */
async function signedIn(dw, account) {
  const { callback, state } = await signIn(dw, account)
  return dw.oauth.complete(callback, state)
}

/** The tokens of a completion that signed in without a second factor. */
function tokens(done) {
  assert.ok(done.login, 'a sign-in, not a link')
  assert.equal(done.login.mfaRequired, false, 'tokens, not a challenge')
  return done.login
}

/** Every way a host might log a value. */
function renderings(value) {
  return [
    JSON.stringify(value),
    JSON.stringify({ nested: { value } }),
    util.inspect(value),
    util.inspect(value, { depth: Infinity }),
    util.format('%o', value),
    util.format('%j', value),
    String(value),
  ]
}

function assertHidden(value, secrets, what) {
  for (const text of renderings(value)) {
    for (const secret of secrets) assert.ok(!text.includes(secret), `${what} shows a secret: ${text}`)
  }
}

test('a new user signs up through the provider, and signs in again', async (t) => {
  const set = await setup(t)
  if (!set) return
  const { dw } = set
  const done = await signedIn(dw, 'newcomer@example.org')
  assert.equal(done.provider, 'corp')
  assert.ok(done.newUser && done.linked, util.inspect(done))
  const me = await dw.verifyToken(tokens(done).accessToken)
  assert.equal(me.userId, done.userId)
  assert.deepEqual(me.amr, ['fed'])
  assert.equal(me.aal, 1)
  const user = await dw.users.get(done.userId)
  assert.equal(user.email, 'newcomer@example.org')
  assert.ok(user.emailVerifiedAt instanceof Date, 'the provider verified the address')
  const identities = await dw.users.identities(done.userId)
  assert.equal(identities.length, 1)
  const [identity] = identities
  assert.deepEqual(
    [identity.provider, identity.subject, identity.email, identity.emailVerified],
    ['corp', 'newcomer@example.org', 'newcomer@example.org', true],
  )
  assert.ok(identity.createdAt instanceof Date)
  // No password of its own: a password login fails like a wrong one.
  await rejectsWith(dw.login('newcomer@example.org', PASSWORD), 'invalid_credentials')
  // Again: the same account, no new link; the callback's query alone works too.
  const { callback, state } = await signIn(dw, 'newcomer@example.org')
  const again = await dw.oauth.complete(new URL(callback).search, state, { ip: '203.0.113.5', userAgent: 'oauth/1.0' })
  assert.equal(again.userId, done.userId)
  assert.ok(!again.newUser && !again.linked)
  const sessions = await dw.sessions.list(done.userId)
  assert.ok(sessions.some((s) => s.ip === '203.0.113.5' && s.userAgent === 'oauth/1.0'), 'the client is kept')
  assert.ok((await dw.users.identities(done.userId))[0].lastUsedAt instanceof Date)
  // The events: a registration, a link, and sign-ins by the provider.
  await dw.events.flush()
  const events = (await dw.events.list({ limit: 100 })).items
  const types = events.map((e) => e.type)
  assert.ok(types.includes('UserRegistered') && types.includes('IdentityLinked'), types.join(' '))
  const linked = events.find((e) => e.type === 'IdentityLinked')
  assert.deepEqual([linked.payload.provider, linked.payload.how], ['corp', 'sign_up'])
  const login = events.find((e) => e.type === 'LoginSucceeded')
  assert.equal(login.payload.method, 'oauth:corp')
  const text = await dw.metricsText()
  assert.match(text, /doorward_oauth_callbacks_total\{provider="corp",outcome="success"\} 2/)
})

test('a verified address links; an unverified one, or the provider\'s, is account_exists', async (t) => {
  const set = await setup(t)
  if (!set) return
  const { dw } = set
  // The account's address is verified: the provider's verified address links it.
  const reg = await dw.registerUser('verified', 'verified@example.org', PASSWORD)
  await dw.users.markEmailVerified(reg.user.id)
  const done = await signedIn(dw, 'verified@example.org')
  assert.equal(done.userId, reg.user.id)
  assert.ok(done.linked && !done.newUser)
  // The account's address is not verified: no link, and the error names the provider.
  await dw.registerUser('plain', 'plain@example.org', PASSWORD)
  const { callback, state } = await signIn(dw, 'plain@example.org')
  const err = await rejectsWith(dw.oauth.complete(callback, state), 'account_exists')
  assert.equal(err.provider, 'corp')
  assert.equal(err.oauthError, undefined)
  assert.equal(HTTP_STATUS[err.code], 409)
  assert.match(err.message, /link corp/)
  // Nor when the provider has not verified its address.
  const victim = await dw.registerUser('victim', 'unverified-victim@example.org', PASSWORD)
  await dw.users.markEmailVerified(victim.user.id)
  const second = await signIn(dw, 'unverified-victim@example.org')
  await rejectsWith(dw.oauth.complete(second.callback, second.state), 'account_exists')
  assert.deepEqual(await dw.users.identities(victim.user.id), [])
})

test('a state is used once, and only by the browser that started it', async (t) => {
  const set = await setup(t)
  if (!set) return
  const { dw } = set
  const { callback, state } = await signIn(dw, 'replay@example.org')
  // Another browser's state: refused, and the sign-in still works.
  const foreign = await rejectsWith(dw.oauth.complete(callback, "someone else's"), 'oauth_state_invalid')
  assert.equal(HTTP_STATUS[foreign.code], 400)
  assert.equal(foreign.provider, undefined)
  await dw.oauth.complete(callback, state)
  // Replayed: refused before the code reaches the provider.
  await rejectsWith(dw.oauth.complete(callback, state), 'oauth_state_invalid')
  await rejectsWith(dw.oauth.complete('code=x&state=never-issued'), 'oauth_state_invalid')
  await rejectsWith(dw.oauth.complete('code=x&state=never-issued', null, null), 'oauth_state_invalid')
  await rejectsWith(dw.oauth.complete('code=x'), 'oauth_state_invalid')
  // A repeated parameter is refused as it is.
  const twice = await rejectsWith(dw.oauth.complete('state=a&state=b'), 'validation_error')
  assert.equal(twice.field, 'callback')
})

test('a cancelled sign-in is oauth_provider_error with the provider\'s error', async (t) => {
  const set = await setup(t)
  if (!set) return
  const { dw } = set
  const start = await dw.oauth.authorizationUrl('corp', CALLBACK)
  const { url } = await browse(start.url, { cancel: true, stopAt: CALLBACK })
  const err = await rejectsWith(dw.oauth.complete(url, start.state), 'oauth_provider_error')
  assert.ok(err instanceof DoorwardError)
  assert.equal(err.provider, 'corp')
  assert.equal(err.oauthError, 'access_denied')
  assert.equal(err.description, 'End-User aborted interaction')
  assert.match(err.message, /corp did not sign the user in: access_denied/)
  assert.equal(HTTP_STATUS[err.code], 400)
  // The state is spent all the same.
  await rejectsWith(dw.oauth.complete(url, start.state), 'oauth_state_invalid')
  assert.equal(await dw.users.count(), 0)
})

test('an ID token for another nonce is refused (invalid_id_token)', async (t) => {
  const set = await setup(t)
  if (!set) return
  const { dw } = set
  const start = await dw.oauth.authorizationUrl('corp', CALLBACK)
  // The provider is asked for another nonce than the one doorward keeps.
  const tampered = new URL(start.url)
  tampered.searchParams.set('nonce', 'another-nonce')
  const { url } = await browse(tampered.href, { account: 'nonce@example.org', stopAt: CALLBACK })
  const err = await rejectsWith(dw.oauth.complete(url, start.state), 'oauth_provider_error')
  assert.deepEqual([err.provider, err.oauthError], ['corp', 'invalid_id_token'])
  assert.equal(await dw.users.count(), 0)
})

test('a rotated signing key is fetched again', async (t) => {
  const set = await setup(t)
  if (!set) return
  const { dw, id } = set
  const first = await signedIn(dw, 'rotation@example.org')
  await oidcRotate(id)
  const again = await signedIn(dw, 'rotation@example.org')
  assert.equal(again.userId, first.userId)
  tokens(again)
})

test('an account with a second factor answers an MfaChallenge, finished with completeMfa', async (t) => {
  const set = await setup(t)
  if (!set) return
  const { dw } = set
  const made = await signedIn(dw, 'mfa@example.org')
  const enrolment = await dw.mfa.startTotp(made.userId)
  await dw.mfa.confirmTotp(made.userId, generateSync({ secret: enrolment.secret }))
  const done = await signedIn(dw, 'mfa@example.org')
  assert.equal(done.login.mfaRequired, true)
  assert.deepEqual(done.login.methods, ['totp', 'recovery_code'])
  assert.equal(done.login.userId, made.userId)
  // The flow id is a credential: readable, yet out of JSON and util.inspect.
  const { flowId } = done.login
  assert.equal(typeof flowId, 'string')
  assertHidden(done, [flowId], 'an OAuthCompletion with a challenge')
  // The code of the next time step: the one that confirmed is spent.
  const code = generateSync({ secret: enrolment.secret, epoch: Math.floor(Date.now() / 1000) + 30 })
  const pair = await dw.completeMfa(flowId, 'totp', code)
  const me = await dw.verifyToken(pair.accessToken)
  assert.equal(me.userId, made.userId)
  // The provider's proof counts as no factor of doorward's own: level 1.
  assert.deepEqual([me.amr, me.aal], [['fed', 'otp'], 1])
})

/** Link and unlink for a signed-in user, on `dw`. */
async function linkAndUnlink(dw, what) {
  const reg = await dw.registerUser('linker', 'linker@example.com', PASSWORD)
  // Any address at the provider: the user asked for the link.
  const start = await dw.oauth.link(reg.user.id, 'corp', CALLBACK)
  const { url } = await browse(start.url, { account: 'elsewhere@example.org', stopAt: CALLBACK })
  const done = await dw.oauth.complete(url, start.state)
  assert.ok(done.linked, what)
  assert.equal(done.login, undefined, `${what}: a link signs nobody in`)
  assert.equal(done.userId, reg.user.id)
  // It now signs that account in.
  assert.equal((await signedIn(dw, 'elsewhere@example.org')).userId, reg.user.id)
  // Another account cannot take it.
  const other = await dw.registerUser('other', 'other@example.com', PASSWORD)
  const taking = await dw.oauth.link(other.user.id, 'corp', CALLBACK)
  const taken = await browse(taking.url, { account: 'elsewhere@example.org', stopAt: CALLBACK })
  const err = await rejectsWith(dw.oauth.complete(taken.url, taking.state), 'account_exists')
  assert.equal(err.provider, 'corp')
  // Unlinked (the account keeps its password), it signs in no more.
  assert.equal(await dw.oauth.unlink(reg.user.id, 'corp'), undefined)
  assert.deepEqual(await dw.users.identities(reg.user.id), [])
  await rejectsWith(dw.oauth.unlink(reg.user.id, 'corp'), 'not_found')
  // An account made by the provider keeps its only way in.
  const made = await signedIn(dw, 'only@example.org')
  const last = await rejectsWith(dw.oauth.unlink(made.userId, 'corp'), 'validation_error')
  assert.equal(last.field, 'provider')
  assert.equal((await dw.users.identities(made.userId)).length, 1)
  await dw.events.flush()
  const types = (await dw.events.list({ limit: 100 })).items.map((e) => e.type)
  assert.ok(types.includes('IdentityUnlinked'), types.join(' '))
  // Linking needs an account; a disabled one may not.
  await rejectsWith(dw.oauth.link('no-such-user', 'corp', CALLBACK), 'not_found')
  await dw.users.disable(other.user.id)
  await rejectsWith(dw.oauth.link(other.user.id, 'corp', CALLBACK), 'user_disabled')
  await rejectsWith(dw.users.identities('no-such-user'), 'not_found')
}

test('a signed-in user links and unlinks a provider (memory://)', async (t) => {
  const set = await setup(t)
  if (!set) return
  await linkAndUnlink(set.dw, 'memory')
})

test('a signed-in user links and unlinks a provider (a SQLite file)', async (t) => {
  const databaseUrl = `sqlite://${path.join(tempDir(t), 'oauth.db')}`
  const set = await setup(t, { config: { databaseUrl } })
  if (!set) return
  assert.equal(set.dw.backend, 'sqlite')
  await linkAndUnlink(set.dw, 'sqlite')
})

test('a signed-in user links and unlinks a provider (PostgreSQL)', async (t) => {
  const databaseUrl = await postgresUrl(t)
  if (!databaseUrl) return
  const set = await setup(t, { config: { databaseUrl } })
  if (!set) return
  assert.equal(set.dw.backend, 'postgres')
  await linkAndUnlink(set.dw, 'postgres')
})

test('provider tokens are kept, sealed, only when asked, and show nowhere', async (t) => {
  const set = await setup(t, { provider: { storeProviderTokens: true } })
  if (!set) return
  const { dw } = set
  const done = await signedIn(dw, 'keeper@example.org')
  const kept = await dw.oauth.providerTokens(done.userId, 'corp')
  assert.ok(kept, 'kept')
  assert.equal(typeof kept.accessToken, 'string')
  assert.ok(kept.accessToken.length > 0)
  assert.ok(Array.isArray(kept.scopes))
  assert.ok(kept.expiresAt === undefined || kept.expiresAt instanceof Date)
  assertHidden(kept, [kept.accessToken], 'ProviderTokens')
  assert.match(util.inspect(kept), /^ProviderTokens /)
  assert.match(util.inspect(kept), /accessToken: '\[hidden\]'/)
  assert.equal({ ...kept }.accessToken, undefined)
  await rejectsWith(dw.oauth.providerTokens(done.userId, 'elsewhere'), 'not_found')

  // Without storeProviderTokens: none kept.
  const plain = await setup(t)
  if (!plain) return
  const made = await signedIn(plain.dw, 'plain@example.org')
  assert.equal(await plain.dw.oauth.providerTokens(made.userId, 'corp'), null)
})

test('results keep the URL, the state and the tokens out of JSON and util.inspect, yet readable', async (t) => {
  const set = await setup(t)
  if (!set) return
  const { dw } = set
  const start = await dw.oauth.authorizationUrl('corp', CALLBACK)
  assert.ok(start.url.startsWith(`${set.issuer}/`), start.url)
  assert.equal(typeof start.state, 'string')
  assert.equal(start.expiresIn, 600)
  assertHidden(start, [start.url, start.state, set.issuer], 'an AuthorizationStart')
  assert.deepEqual(JSON.parse(JSON.stringify(start)), { expiresIn: 600 })
  assert.match(util.inspect(start), /^AuthorizationStart \{ url: '\[hidden\]', state: '\[hidden\]', expiresIn: 600 \}/)
  assert.deepEqual(Object.keys(start), ['expiresIn'])

  const { url } = await browse(start.url, { account: 'shown@example.org', stopAt: CALLBACK })
  const done = await dw.oauth.complete(url, start.state)
  const { accessToken, refreshToken } = tokens(done)
  assertHidden(done, [accessToken, refreshToken], 'an OAuthCompletion')
  assert.deepEqual(JSON.parse(JSON.stringify(done)).login, { tokenType: 'Bearer', expiresIn: 900, mfaRequired: false })
  assert.equal(JSON.parse(JSON.stringify(done)).userId, done.userId)

  // An identity's address is left out of util.inspect, as a User's is (this
  // provider's subject is the login typed, here the address itself).
  const [identity] = await dw.users.identities(done.userId)
  for (const text of [util.inspect(identity), util.inspect([identity], { depth: Infinity }), util.format('%o', identity)]) {
    assert.match(text, /email: '\[hidden\]'/)
  }
  assert.match(util.inspect(identity), /^Identity /)
  assert.match(util.inspect(identity), /email: '\[hidden\]'/)
  assert.equal(identity.email, 'shown@example.org', 'the property is readable')
  assert.ok(Object.keys(identity).includes('email'), 'and enumerable')

  // A link's start is hidden the same way.
  const reg = await dw.registerUser('ann', 'ann@example.com', PASSWORD)
  const linking = await dw.oauth.link(reg.user.id, 'corp', CALLBACK)
  assertHidden(linking, [linking.url, linking.state], 'the AuthorizationStart of a link')
})

test('providers() lists the configured providers in id order, synchronously, without the network', async () => {
  const dw = await open({
    oauthProviders: [
      { id: 'google', kind: 'google', clientId: '1234.apps.googleusercontent.com', clientSecret: 'from-the-console' },
      { id: 'corp', name: 'Corp SSO', issuer: 'https://login.example.com', clientId: 'doorward' },
      { id: 'gh', kind: 'github', clientId: 'gh', clientSecret: 'gh-secret' },
    ],
  })
  assert.ok(dw.oauth instanceof OAuth)
  const listed = dw.oauth.providers()
  assert.ok(Array.isArray(listed), 'an array, not a Promise')
  assert.deepEqual(
    listed.map((p) => ({ ...p })),
    [
      { id: 'corp', name: 'Corp SSO', kind: 'oidc' },
      { id: 'gh', name: 'GitHub', kind: 'github' },
      { id: 'google', name: 'Google', kind: 'google' },
    ],
  )
  assert.deepEqual((await open()).oauth.providers(), [])
  // An unknown provider is refused before any request.
  const unknown = await rejectsWith(dw.oauth.authorizationUrl('nope', CALLBACK), 'validation_error')
  assert.equal(unknown.field, 'provider')
  const reg = await dw.registerUser('john', 'john@example.com', PASSWORD)
  await rejectsWith(dw.oauth.link(reg.user.id, 'nope', CALLBACK), 'validation_error')
  // Without key material there is nothing to seal a request in flight with.
  const keyless = await open({ jwtSecret: undefined, oauthProviders: [{ id: 'corp', issuer: 'https://login.example.com', clientId: 'x' }] })
  await rejectsWith(keyless.oauth.authorizationUrl('corp', CALLBACK), 'config_error')
})

test('oauthProviders: camelCase keys, refused as config_error naming the provider, never its secret', async () => {
  const secret = 'a-provider-secret-never-shown'
  const base = { id: 'corp', issuer: 'https://login.example.com', clientId: 'doorward', clientSecret: secret }
  const cases = {
    'an unknown key': [{ ...base, clientSecrett: secret }, /client_secrett/],
    'an id with capitals': [{ ...base, id: 'Corp' }, /oauth_providers `Corp`/],
    'an oidc provider without its issuer': [{ ...base, issuer: undefined }, /needs its issuer/],
    'a plain http issuer that is not loopback': [{ ...base, issuer: 'http://login.example.com' }, /must be https/],
    'no client id': [{ ...base, clientId: '' }, /client_id is required/],
    'no openid scope': [{ ...base, scopes: ['email'] }, /openid/],
    'an apple provider without its secret': [{ id: 'apple', kind: 'apple', clientId: 'com.example' }, /client_secret/],
    'not one of the kinds': [{ ...base, kind: 'facebook' }, /facebook|unknown variant/],
  }
  for (const [what, [provider, message]] of Object.entries(cases)) {
    const err = await rejectsWith(Doorward.open({ ...CHEAP, oauthProviders: [provider] }), 'config_error')
    assert.match(err.message, message, what)
    for (const text of [err.message, err.stack, util.inspect(err)]) assert.ok(!text.includes(secret), `${what}: ${text}`)
  }
  const twice = await rejectsWith(Doorward.open({ ...CHEAP, oauthProviders: [base, base] }), 'config_error')
  assert.match(twice.message, /used twice/)
  await rejectsWith(Doorward.open({ ...CHEAP, oauthProviders: base }), 'config_error')
  // Accepted: scopes as text, every optional key; the open Doorward shows no secret.
  const dw = await Doorward.open({
    ...CHEAP,
    oauthProviders: [
      { ...base, name: 'Corp', scopes: 'openid, email', trustEmail: false, allowSignUp: false, storeProviderTokens: true },
      {
        id: 'ghe',
        kind: 'github',
        clientId: 'gh',
        clientSecret: secret,
        authorizationEndpoint: 'https://github.example.com/login/oauth/authorize',
        tokenEndpoint: 'https://github.example.com/login/oauth/access_token',
        apiUrl: 'https://github.example.com/api/v3',
      },
    ],
  })
  assert.deepEqual(dw.oauth.providers().map((p) => p.id), ['corp', 'ghe'])
  for (const text of renderings(dw)) assert.ok(!text.includes(secret), text)
  assert.ok(!util.inspect(dw, { showHidden: true, depth: Infinity }).includes(secret))
})

test('a provider that allows no sign-up answers not_found for an unknown identity', async (t) => {
  const set = await setup(t, { provider: { allowSignUp: false } })
  if (!set) return
  const { callback, state } = await signIn(set.dw, 'stranger@example.org')
  await rejectsWith(set.dw.oauth.complete(callback, state), 'not_found')
  assert.equal(await set.dw.users.count(), 0)
})

test('wrong argument types throw a TypeError with code ERR_INVALID_ARG_TYPE', async () => {
  const dw = await open({ oauthProviders: [{ id: 'corp', issuer: 'https://login.example.com', clientId: 'x' }] })
  const calls = {
    'authorizationUrl(1, uri)': () => dw.oauth.authorizationUrl(1, CALLBACK),
    'authorizationUrl(corp)': () => dw.oauth.authorizationUrl('corp'),
    'complete(5)': () => dw.oauth.complete(5),
    'complete(cb, 7)': () => dw.oauth.complete('code=x&state=y', 7),
    "complete(cb, state, 'client')": () => dw.oauth.complete('code=x&state=y', 'y', 'client'),
    'complete(cb, state, { ip: 5 })': () => dw.oauth.complete('code=x&state=y', 'y', { ip: 5 }),
    'link(id, corp)': () => dw.oauth.link('id', 'corp'),
    'unlink(id, {})': () => dw.oauth.unlink('id', {}),
    'providerTokens(null, corp)': () => dw.oauth.providerTokens(null, 'corp'),
    'users.identities(1)': () => dw.users.identities(1),
  }
  for (const [name, call] of Object.entries(calls)) {
    const err = await rejectsWithTypeError(call).catch((e) => {
      e.message = `${name}: ${e.message}`
      throw e
    })
    assert.ok(!(err instanceof DoorwardError), name)
  }
})

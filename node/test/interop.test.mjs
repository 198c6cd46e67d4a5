// doorward's tokens and hashes against the libraries Node hosts use: jose
// and jsonwebtoken for JWTs, argon2 and @node-rs/argon2 for argon2id. Each
// side must accept what the other makes, and doorward must refuse what its
// rules refuse even when another library signs it properly. Cheap (1 MiB
// hashes), so it runs in the normal suite; node/bench/compare.mjs times the
// same operations.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { createRequire } from 'node:module'

import * as jose from 'jose'
import jsonwebtoken from 'jsonwebtoken'
import argon2 from 'argon2'
import * as nodeRsArgon2 from '@node-rs/argon2'

import { Doorward, PasswordHasher } from 'doorward'

const require = createRequire(import.meta.url)
const { KEYS, PASSWORD, SECRET, decodeJwt, rejectsWith } = require('./helpers.js')

const ARGON2ID = 2 // @node-rs/argon2's Algorithm.Argon2id (a const enum in its types)
const pem = (name) => fs.readFileSync(path.join(KEYS, name), 'utf8')

const CASES = [
  { alg: 'HS256', config: { jwtSecret: SECRET }, jsonwebtoken: true },
  { alg: 'EdDSA', key: 'ed25519', jsonwebtoken: false }, // jsonwebtoken 9 has no EdDSA
  { alg: 'RS256', key: 'rsa', jsonwebtoken: true },
  { alg: 'ES256', key: 'ec', jsonwebtoken: true },
]

async function keysFor({ alg, key }) {
  if (alg === 'HS256') {
    const secret = new TextEncoder().encode(SECRET)
    return { joseSign: secret, joseVerify: secret, jwtSign: SECRET, jwtVerify: SECRET }
  }
  const priv = pem(`${key}.pem`)
  const pub = pem(`${key}.pub.pem`)
  return {
    config: { jwtAlgorithm: alg, jwtPrivateKey: priv, jwtPublicKey: pub },
    joseSign: await jose.importPKCS8(priv, alg),
    joseVerify: await jose.importSPKI(pub, alg),
    jwtSign: priv,
    jwtVerify: pub,
  }
}

for (const c of CASES) {
  test(`${c.alg} tokens verify both ways: doorward, jose${c.jsonwebtoken ? ', jsonwebtoken' : ''}`, async () => {
    const keys = await keysFor(c)
    const dw = await Doorward.open({
      databaseUrl: 'memory://',
      argon2MemoryKib: 64,
      argon2Iterations: 1,
      ...(c.config || keys.config),
    })
    const reg = await dw.registerUser('interop', 'interop@example.com', PASSWORD)
    const token = reg.tokens.accessToken
    const { header } = decodeJwt(token)
    assert.deepEqual({ alg: header.alg, typ: header.typ }, { alg: c.alg, typ: 'at+jwt' })
    assert.equal(typeof header.kid, 'string')

    // doorward's token in jose, every registered claim checked.
    const { payload, protectedHeader } = await jose.jwtVerify(token, keys.joseVerify, {
      algorithms: [c.alg],
      issuer: 'doorward',
      audience: 'doorward',
      typ: 'at+jwt',
      requiredClaims: ['exp', 'nbf', 'iat', 'iss', 'aud', 'sub', 'jti', 'sid'],
    })
    assert.equal(payload.sub, reg.user.id)
    assert.equal(protectedHeader.kid, header.kid)
    if (c.alg === 'EdDSA') {
      // The JWKS doorward publishes is what jose verifies with.
      const jwks = jose.createLocalJWKSet(dw.jwks())
      assert.equal((await jose.jwtVerify(token, jwks, { issuer: 'doorward', audience: 'doorward' })).payload.sub, reg.user.id)
    }

    // jose's token with the same claims and header in doorward.
    const fromJose = await new jose.SignJWT(payload)
      .setProtectedHeader({ alg: c.alg, typ: 'at+jwt', kid: header.kid })
      .sign(keys.joseSign)
    const principal = await dw.verifyToken(fromJose)
    assert.equal(principal.userId, reg.user.id)
    assert.equal(principal.sessionId, payload.sid)

    if (c.jsonwebtoken) {
      const claims = jsonwebtoken.verify(token, keys.jwtVerify, { algorithms: [c.alg], issuer: 'doorward', audience: 'doorward' })
      assert.equal(claims.sub, reg.user.id)
      const fromJsonwebtoken = jsonwebtoken.sign(payload, keys.jwtSign, {
        algorithm: c.alg,
        header: { alg: c.alg, typ: 'at+jwt', kid: header.kid },
      })
      assert.equal((await dw.verifyToken(fromJsonwebtoken)).userId, reg.user.id)
    }

    // What doorward refuses even when properly signed: no typ, another typ,
    // another audience, an unknown kid.
    const sign = (claims, h) => new jose.SignJWT(claims).setProtectedHeader({ alg: c.alg, ...h }).sign(keys.joseSign)
    await rejectsWith(dw.verifyToken(await sign(payload, { kid: header.kid })), 'token_invalid')
    await rejectsWith(dw.verifyToken(await sign(payload, { typ: 'JWT', kid: header.kid })), 'token_invalid')
    await rejectsWith(dw.verifyToken(await sign({ ...payload, aud: 'elsewhere' }, { typ: 'at+jwt', kid: header.kid })), 'token_invalid')
    await rejectsWith(dw.verifyToken(await sign(payload, { typ: 'at+jwt', kid: 'someone-else' })), 'token_invalid')
    // ...and a logout through doorward refuses the foreign token of that session too.
    await dw.logout(token)
    await rejectsWith(dw.verifyToken(fromJose), 'token_revoked')
  })
}

test('argon2id hashes verify both ways: doorward, argon2, @node-rs/argon2', async () => {
  const params = { memoryKib: 1024, iterations: 2, parallelism: 1 }
  const ours = new PasswordHasher(params)
  const node = { type: argon2.argon2id, memoryCost: 1024, timeCost: 2, parallelism: 1 }
  const rs = { algorithm: ARGON2ID, memoryCost: 1024, timeCost: 2, parallelism: 1 }

  const hashes = {
    doorward: await ours.hash(PASSWORD),
    argon2: await argon2.hash(PASSWORD, node),
    '@node-rs/argon2': await nodeRsArgon2.hash(PASSWORD, rs),
  }
  assert.match(hashes.doorward, /^\$argon2id\$v=19\$m=1024,t=2,p=1\$/)
  const verifiers = {
    doorward: (pw, h) => ours.verify(pw, h),
    argon2: (pw, h) => argon2.verify(h, pw),
    '@node-rs/argon2': (pw, h) => nodeRsArgon2.verify(h, pw),
  }
  for (const [maker, hash] of Object.entries(hashes)) {
    for (const [checker, verify] of Object.entries(verifiers)) {
      assert.equal(await verify(PASSWORD, hash), true, `${checker} accepts ${maker}'s hash ${hash}`)
      assert.equal(await verify('not the password', hash), false, `${checker} refuses a wrong password against ${maker}'s hash`)
    }
  }
})

test('doorward refuses stored hashes over its caps before any work', async () => {
  const ours = new PasswordHasher({ memoryKib: 1024, iterations: 1 })
  // 8 GiB asked for by a hash: refused, not attempted.
  const greedy = '$argon2id$v=19$m=8388608,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g'
  await rejectsWith(ours.verify(PASSWORD, greedy), 'internal')
})

// doorward against the libraries Node hosts use, on this machine:
//
//   token verification  doorward.verifyToken (statelessVerify: true, so no
//                       session lookup is timed) vs jose.jwtVerify and
//                       jsonwebtoken.verify, on the same HS256 and EdDSA
//                       tokens (jsonwebtoken 9 has no EdDSA)
//   argon2id hashing    doorward's PasswordHasher vs argon2 and
//                       @node-rs/argon2, m=19456 KiB, t=2, p=1
//
// First it checks interop (each library's tokens and hashes are accepted by
// the others), then prints a Markdown table: ops/s with one call in flight
// and with many, best of three runs each, the ratio to doorward, and the
// aims (verify >= 2x jose; hashing within 1.25x of the fastest), judged on
// each library's best mode.
//
//   cd node && npm run build        # a release addon: debug numbers mean nothing
//   cd bench && npm ci && node compare.mjs [--quick] [--strict]

import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'

import * as jose from 'jose'
import jsonwebtoken from 'jsonwebtoken'
import argon2 from 'argon2'
import * as nodeRsArgon2 from '@node-rs/argon2'

const here = path.dirname(fileURLToPath(import.meta.url))
const require = createRequire(import.meta.url)
const { Doorward, PasswordHasher } = require('../index.js')

const QUICK = process.argv.includes('--quick')
const RUN_MS = QUICK ? 150 : 1000 // each timed run of a verifier
const HASH_RUN = QUICK ? 4 : 24 // hashes per timed run
const RUNS = 3
const IN_FLIGHT = 64 // concurrent verifications in the "many" column
const HASH_IN_FLIGHT = 8 // concurrent hashes in the "many" column
const KEYS = path.resolve(here, '..', '..', 'tests', 'keys')
const SECRET = 'bench-secret-of-at-least-32-bytes-long!!'
const PASSWORD = 'correct horse battery staple'
const ARGON2ID = 2 // @node-rs/argon2's Algorithm.Argon2id (a const enum)
const M = 19456
const T = 2
const P = 1

// --- timing -------------------------------------------------------------------

/** Calls per second of `op` (async), `inFlight` at a time, for about RUN_MS. */
async function throughput(op, inFlight) {
  let count = 0
  const started = process.hrtime.bigint()
  const deadline = started + BigInt(RUN_MS) * 1_000_000n
  const worker = async () => {
    while (process.hrtime.bigint() < deadline) {
      await op()
      count += 1
    }
  }
  await Promise.all(Array.from({ length: inFlight }, worker))
  const seconds = Number(process.hrtime.bigint() - started) / 1e9
  return count / seconds
}

/** Calls per second of a synchronous `op`, for about RUN_MS. */
function throughputSync(op) {
  let count = 0
  const started = process.hrtime.bigint()
  const deadline = started + BigInt(RUN_MS) * 1_000_000n
  while (process.hrtime.bigint() < deadline) {
    for (let i = 0; i < 64; i++) op()
    count += 64
  }
  return count / (Number(process.hrtime.bigint() - started) / 1e9)
}

/** `total` calls of `op`, `inFlight` at a time: calls per second. */
async function batch(op, total, inFlight) {
  let next = 0
  const started = process.hrtime.bigint()
  const worker = async () => {
    while (next < total) {
      next += 1
      await op()
    }
  }
  await Promise.all(Array.from({ length: Math.min(inFlight, total) }, worker))
  return total / (Number(process.hrtime.bigint() - started) / 1e9)
}

async function best(measure) {
  let top = 0
  for (let i = 0; i < RUNS; i++) top = Math.max(top, await measure())
  return top
}

// --- tokens -------------------------------------------------------------------

async function tokenCase(alg) {
  const keyed =
    alg === 'HS256'
      ? { jwtSecret: SECRET }
      : {
          jwtAlgorithm: 'EdDSA',
          jwtPrivateKey: fs.readFileSync(path.join(KEYS, 'ed25519.pem'), 'utf8'),
          jwtPublicKey: fs.readFileSync(path.join(KEYS, 'ed25519.pub.pem'), 'utf8'),
        }
  const dw = await Doorward.open({
    databaseUrl: 'memory://',
    statelessVerify: true, // no session lookup: signature and claims only
    argon2MemoryKib: 64,
    argon2Iterations: 1,
    ...keyed,
  })
  const reg = await dw.registerUser('bench', 'bench@example.com', PASSWORD)
  const token = reg.tokens.accessToken
  const header = jose.decodeProtectedHeader(token)
  const claims = jose.decodeJwt(token)

  let joseSign, joseVerify, jwtSign, jwtVerify
  if (alg === 'HS256') {
    joseSign = joseVerify = new TextEncoder().encode(SECRET)
    jwtSign = jwtVerify = SECRET
  } else {
    joseSign = await jose.importPKCS8(keyed.jwtPrivateKey, 'EdDSA')
    joseVerify = await jose.importSPKI(keyed.jwtPublicKey, 'EdDSA')
  }
  const joseOptions = { algorithms: [alg], issuer: 'doorward', audience: 'doorward', typ: 'at+jwt' }
  const jwtOptions = { algorithms: [alg], issuer: 'doorward', audience: 'doorward' }
  const hasJsonwebtoken = alg === 'HS256' // jsonwebtoken 9 knows no EdDSA

  // Interop, before any timing: each library's token is accepted by the others.
  const foreignHeader = { alg, typ: 'at+jwt', kid: header.kid }
  const fromJose = await new jose.SignJWT(claims).setProtectedHeader(foreignHeader).sign(joseSign)
  assert.equal((await dw.verifyToken(fromJose)).userId, reg.user.id, `doorward accepts jose's ${alg} token`)
  assert.equal((await jose.jwtVerify(token, joseVerify, joseOptions)).payload.sub, reg.user.id, `jose accepts doorward's ${alg} token`)
  const checks = [`doorward -> jose`, `jose -> doorward`]
  if (hasJsonwebtoken) {
    const fromJwt = jsonwebtoken.sign(claims, jwtSign, { algorithm: alg, header: foreignHeader })
    assert.equal((await dw.verifyToken(fromJwt)).userId, reg.user.id, `doorward accepts jsonwebtoken's ${alg} token`)
    assert.equal(jsonwebtoken.verify(token, jwtVerify, jwtOptions).sub, reg.user.id, `jsonwebtoken accepts doorward's ${alg} token`)
    assert.equal((await jose.jwtVerify(fromJwt, joseVerify, joseOptions)).payload.sub, reg.user.id)
    assert.equal(jsonwebtoken.verify(fromJose, jwtVerify, jwtOptions).sub, reg.user.id)
    checks.push('doorward -> jsonwebtoken', 'jsonwebtoken -> doorward', 'jose <-> jsonwebtoken')
  }
  console.error(`interop ${alg}: ${checks.join(', ')}: ok`)

  const libraries = [
    { name: 'doorward', op: () => dw.verifyToken(token) },
    { name: 'jose', op: () => jose.jwtVerify(token, joseVerify, joseOptions) },
  ]
  if (hasJsonwebtoken) libraries.push({ name: 'jsonwebtoken', sync: () => jsonwebtoken.verify(token, jwtVerify, jwtOptions) })
  return { operation: `verify ${alg}`, libraries }
}

// --- hashing ------------------------------------------------------------------

async function hashCase() {
  const ours = new PasswordHasher({ memoryKib: M, iterations: T, parallelism: P })
  const nodeOptions = { type: argon2.argon2id, memoryCost: M, timeCost: T, parallelism: P }
  const rsOptions = { algorithm: ARGON2ID, memoryCost: M, timeCost: T, parallelism: P }
  const libraries = [
    { name: 'doorward', hash: (pw) => ours.hash(pw), verify: (pw, h) => ours.verify(pw, h) },
    { name: 'argon2', hash: (pw) => argon2.hash(pw, nodeOptions), verify: (pw, h) => argon2.verify(h, pw) },
    { name: '@node-rs/argon2', hash: (pw) => nodeRsArgon2.hash(pw, rsOptions), verify: (pw, h) => nodeRsArgon2.verify(h, pw) },
  ]
  // Interop: every hash verifies in every library, and a wrong password fails.
  for (const maker of libraries) {
    const hash = await maker.hash(PASSWORD)
    assert.match(hash, new RegExp(`^\\$argon2id\\$v=19\\$`), `${maker.name} makes argon2id v19`)
    for (const checker of libraries) {
      assert.equal(await checker.verify(PASSWORD, hash), true, `${checker.name} accepts ${maker.name}'s hash`)
      assert.equal(await checker.verify('not the password', hash), false, `${checker.name} refuses a wrong password`)
    }
  }
  console.error(`interop argon2id m=${M},t=${T},p=${P}: all ${libraries.length * libraries.length} pairs ok`)
  return {
    operation: `hash argon2id m=${M} t=${T} p=${P}`,
    libraries: libraries.map((l) => ({ name: l.name, op: () => l.hash(PASSWORD) })),
    hashing: true,
  }
}

// --- main ---------------------------------------------------------------------

const fmt = (n) => (n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(1))

async function measureCase(c) {
  const rows = []
  for (const lib of c.libraries) {
    let one, many
    if (lib.sync) {
      one = many = await best(async () => throughputSync(lib.sync))
    } else if (c.hashing) {
      one = await best(() => batch(lib.op, Math.max(2, HASH_RUN / 4), 1))
      many = await best(() => batch(lib.op, HASH_RUN, HASH_IN_FLIGHT))
    } else {
      one = await best(() => throughput(lib.op, 1))
      many = await best(() => throughput(lib.op, IN_FLIGHT))
    }
    rows.push({ name: lib.name, one, many, top: Math.max(one, many), sync: Boolean(lib.sync) })
    console.error(`  ${c.operation} ${lib.name}: ${fmt(one)} / ${fmt(many)} ops/s`)
  }
  return { ...c, rows }
}

const addon = path.resolve(here, '..', `doorward.${process.platform}-${process.arch}-gnu.node`)
const addonMiB = fs.existsSync(addon) ? (fs.statSync(addon).size / 2 ** 20).toFixed(0) : '?'
console.error(`addon ${path.basename(addon)} (${addonMiB} MiB; a debug build is far larger than a release one)`)

const cases = [await tokenCase('HS256'), await tokenCase('EdDSA'), await hashCase()]
const results = []
for (const c of cases) results.push(await measureCase(c))

const cpu = os.cpus()[0]?.model ?? 'unknown CPU'
const lines = []
lines.push(`Node ${process.version}, ${os.cpus().length} × ${cpu}, best of ${RUNS} runs${QUICK ? ' (--quick)' : ''}.`)
lines.push(
  `"1 in flight" awaits each call; "many" keeps ${IN_FLIGHT} verifications or ${HASH_IN_FLIGHT} hashes in flight ` +
    '(jsonwebtoken is synchronous: one number). Ratio: doorward\'s best ÷ the library\'s best.',
)
lines.push('')
lines.push('| operation | library | ops/s, 1 in flight | ops/s, many in flight | doorward ÷ library |')
lines.push('|---|---|--:|--:|--:|')
for (const r of results) {
  const ours = r.rows.find((x) => x.name === 'doorward')
  for (const row of r.rows) {
    const ratio = row.name === 'doorward' ? '—' : `${(ours.top / row.top).toFixed(2)}×`
    const many = row.sync ? '(sync)' : fmt(row.many)
    lines.push(`| ${r.operation} | ${row.name} | ${fmt(row.one)} | ${many} | ${ratio} |`)
  }
}
lines.push('')
let allMet = true
for (const r of results) {
  const ours = r.rows.find((x) => x.name === 'doorward')
  if (r.hashing) {
    const fastest = r.rows.reduce((a, b) => (b.top > a.top ? b : a))
    const slower = fastest.top / ours.top
    const met = slower <= 1.25
    allMet &&= met
    lines.push(
      `- ${r.operation}: doorward is ${slower <= 1 ? 'the fastest' : `${slower.toFixed(2)}× slower than ${fastest.name}`} ` +
        `(aim: within 1.25× of the fastest): ${met ? 'met' : 'NOT met'}`,
    )
  } else {
    const jose = r.rows.find((x) => x.name === 'jose')
    const ratio = ours.top / jose.top
    const met = ratio >= 2
    allMet &&= met
    lines.push(`- ${r.operation}: doorward ${ratio.toFixed(2)}× jose (aim: ≥ 2×): ${met ? 'met' : 'NOT met'}`)
  }
}
console.log(lines.join('\n'))
// The aims are reported, not enforced (numbers depend on the machine),
// unless --strict asks for a failing exit when one is missed.
if (process.argv.includes('--strict') && !allMet) process.exitCode = 1

// doorward against the libraries Node hosts use, on this machine:
//
//   token verification  doorward (statelessVerify: true, so no session
//                       lookup is timed) vs jose.jwtVerify and
//                       jsonwebtoken.verify, on the same HS256 and EdDSA
//                       tokens (jsonwebtoken 9 has no EdDSA). doorward is
//                       timed through verifyTokenSync (on the calling
//                       thread) and through verifyToken (a Promise), with 1
//                       and with 64 verifications in flight
//   argon2id hashing    doorward's PasswordHasher vs argon2 and
//                       @node-rs/argon2, m=19456 KiB, t=2, p=1, with 1 and 8
//                       hashes in flight
//
// First it checks interop (each library's tokens and hashes are accepted by
// the others), then prints a Markdown table of ops/s per library and mode
// (best of three runs each) and the aims, each judged against the peer's
// best mode:
//
//   verify HS256: verifyTokenSync >= 20x jose; verifyToken (1 and 64 in
//                 flight) >= 4x jose
//   verify EdDSA: doorward's best mode >= 3x jose
//   hash:         doorward's best mode >= 0.9x the fastest other library
//
//   cd node && npm run build        # a release addon: debug numbers mean nothing
//   cd bench && npm ci && node compare.mjs [--quick] [--strict] [--json PATH]
//
// --json PATH writes every measurement and the aims' rows (what scripts/bench
// puts in its table); --strict exits non-zero when an aim is missed.

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
const jsonFlag = process.argv.indexOf('--json')
const JSON_PATH = jsonFlag >= 0 ? process.argv[jsonFlag + 1] : null
if (jsonFlag >= 0 && !JSON_PATH) {
  console.error('usage: node compare.mjs [--quick] [--strict] [--json PATH]')
  process.exit(2)
}
const RUN_MS = QUICK ? 150 : 1000 // each timed run of a verifier
const HASH_RUN_MS = QUICK ? 300 : 2000 // each timed run of a hasher
const RUNS = 3
const IN_FLIGHT = 64 // concurrent verifications
const HASH_IN_FLIGHT = 8 // concurrent hashes
const KEYS = path.resolve(here, '..', '..', 'tests', 'keys')
const SECRET = 'bench-secret-of-at-least-32-bytes-long!!'
const PASSWORD = 'correct horse battery staple'
const ARGON2ID = 2 // @node-rs/argon2's Algorithm.Argon2id (a const enum)
const M = 19456
const T = 2
const P = 1

// --- timing -------------------------------------------------------------------

/** Calls per second of `op` (async), `inFlight` at a time, for about `ms`. */
async function throughput(op, inFlight, ms) {
  let count = 0
  const started = process.hrtime.bigint()
  const deadline = started + BigInt(ms) * 1_000_000n
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

/** Calls per second of a synchronous `op`, for about `ms`. */
function throughputSync(op, ms) {
  let count = 0
  const started = process.hrtime.bigint()
  const deadline = started + BigInt(ms) * 1_000_000n
  while (process.hrtime.bigint() < deadline) {
    for (let i = 0; i < 64; i++) op()
    count += 64
  }
  return count / (Number(process.hrtime.bigint() - started) / 1e9)
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

  // Interop, before any timing: each library's token is accepted by the others,
  // and doorward's two roads give the same answer.
  const foreignHeader = { alg, typ: 'at+jwt', kid: header.kid }
  const fromJose = await new jose.SignJWT(claims).setProtectedHeader(foreignHeader).sign(joseSign)
  assert.equal((await dw.verifyToken(fromJose)).userId, reg.user.id, `doorward accepts jose's ${alg} token`)
  assert.equal(dw.verifyTokenSync(fromJose).userId, reg.user.id, `verifyTokenSync accepts jose's ${alg} token`)
  assert.equal((await jose.jwtVerify(token, joseVerify, joseOptions)).payload.sub, reg.user.id, `jose accepts doorward's ${alg} token`)
  assert.deepEqual(dw.verifyTokenSync(token), await dw.verifyToken(token), 'verifyTokenSync and verifyToken agree')
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
    { name: 'doorward', sync: () => dw.verifyTokenSync(token), op: () => dw.verifyToken(token) },
    { name: 'jose', op: () => jose.jwtVerify(token, joseVerify, joseOptions) },
  ]
  if (hasJsonwebtoken) libraries.push({ name: 'jsonwebtoken', sync: () => jsonwebtoken.verify(token, jwtVerify, jwtOptions) })
  return { operation: `verify ${alg}`, alg, libraries, inFlight: IN_FLIGHT, ms: RUN_MS }
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
    const [, alg, v, params] = hash.split('$')
    assert.deepEqual([alg, v], ['argon2id', 'v=19'], `${maker.name} makes argon2id v19`)
    // The order of the parameters is each library's own (argon2 writes m,p,t).
    assert.deepEqual(params.split(',').sort(), [`m=${M}`, `p=${P}`, `t=${T}`], `${maker.name} keeps the parameters`)
    for (const checker of libraries) {
      assert.equal(await checker.verify(PASSWORD, hash), true, `${checker.name} accepts ${maker.name}'s hash`)
      assert.equal(await checker.verify('not the password', hash), false, `${checker.name} refuses a wrong password`)
    }
  }
  console.error(`interop argon2id m=${M},t=${T},p=${P}: all ${libraries.length * libraries.length} pairs ok`)
  return {
    operation: `hash argon2id m=${M} t=${T} p=${P}`,
    libraries: libraries.map((l) => ({ name: l.name, op: () => l.hash(PASSWORD) })),
    inFlight: HASH_IN_FLIGHT,
    ms: HASH_RUN_MS,
  }
}

// --- measuring ----------------------------------------------------------------

const fmt = (n) => (n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(1))

/** Each library of a case in each of its modes: ops/s, best of RUNS runs. */
async function measureCase(c) {
  const measured = []
  for (const lib of c.libraries) {
    const modes = {}
    if (lib.sync) modes.sync = await best(async () => throughputSync(lib.sync, c.ms))
    if (lib.op) {
      modes['1 in flight'] = await best(() => throughput(lib.op, 1, c.ms))
      modes[`${c.inFlight} in flight`] = await best(() => throughput(lib.op, c.inFlight, c.ms))
    }
    const [bestMode, top] = Object.entries(modes).reduce((a, b) => (b[1] > a[1] ? b : a))
    measured.push({ name: lib.name, modes, bestMode, top })
    const shown = Object.entries(modes).map(([m, v]) => `${m} ${fmt(v)}`)
    console.error(`  ${c.operation} ${lib.name}: ${shown.join(', ')} ops/s`)
  }
  return { ...c, measured }
}

const addon = path.resolve(here, '..', `doorward.${process.platform}-${process.arch}-gnu.node`)
const addonMiB = fs.existsSync(addon) ? (fs.statSync(addon).size / 2 ** 20).toFixed(0) : '?'
console.error(`addon ${path.basename(addon)} (${addonMiB} MiB; a debug build is far larger than a release one)`)

const cases = [await tokenCase('HS256'), await tokenCase('EdDSA'), await hashCase()]
const results = []
for (const c of cases) results.push(await measureCase(c))
const [hs256, eddsa, hashing] = results
const lib = (r, name) => r.measured.find((x) => x.name === name)

// --- aims ---------------------------------------------------------------------

const rows = []
/** One row of the aims' table: doorward's number against a peer's. */
function row(pathName, ours, oursLabel, peer, peerLabel, aim, minimum) {
  const ratio = ours / peer
  rows.push({
    path: pathName,
    doorward: `${fmt(ours)}/s ${oursLabel}`,
    peer: `${fmt(peer)}/s ${peerLabel}`,
    ratio,
    ratio_text: `${ratio.toFixed(ratio >= 10 ? 1 : 2)}× the speed`,
    aim: aim ?? '—',
    met: minimum === undefined ? null : ratio >= minimum,
    minimum: minimum ?? null,
    peer_rate: peer,
  })
}
const peerBest = (m) => `${m.name}, best: ${m.bestMode}`
for (const [r, name] of [
  [hs256, 'HS256'],
  [eddsa, 'EdDSA'],
]) {
  const ours = lib(r, 'doorward')
  const joseBest = lib(r, 'jose')
  if (name === 'HS256') {
    row(`verify ${name} from Node, sync`, ours.modes.sync, 'verifyTokenSync', joseBest.top, peerBest(joseBest), '≥ 20×', 20)
    for (const mode of ['1 in flight', `${IN_FLIGHT} in flight`]) {
      row(`verify ${name} from Node, Promise, ${mode}`, ours.modes[mode], 'verifyToken', joseBest.top, peerBest(joseBest), '≥ 4×', 4)
    }
    const jwt = lib(r, 'jsonwebtoken')
    row(`verify ${name} from Node, sync, vs jsonwebtoken`, ours.modes.sync, 'verifyTokenSync', jwt.top, 'jsonwebtoken (sync)')
  } else {
    row(`verify ${name} from Node`, ours.top, `(${ours.bestMode})`, joseBest.top, peerBest(joseBest), '≥ 3×', 3)
  }
}
{
  const ours = lib(hashing, 'doorward')
  const fastest = hashing.measured.filter((x) => x.name !== 'doorward').reduce((a, b) => (b.top > a.top ? b : a))
  row(`argon2id hash m=${M} t=${T} p=${P} from Node`, ours.top, `(${ours.bestMode})`, fastest.top, peerBest(fastest), '≥ 0.9× the fastest', 0.9)
}

// --- report -------------------------------------------------------------------

const cpu = os.cpus()[0]?.model ?? 'unknown CPU'
const versions = Object.fromEntries(
  ['jose', 'jsonwebtoken', 'argon2', '@node-rs/argon2'].map((name) => [
    name,
    JSON.parse(fs.readFileSync(path.join(here, 'node_modules', name, 'package.json'), 'utf8')).version,
  ]),
)
const about =
  `Node ${process.version}, ${os.cpus().length} × ${cpu}, ` +
  Object.entries(versions)
    .map(([n, v]) => `${n} ${v}`)
    .join(', ') +
  `, best of ${RUNS} runs${QUICK ? ' (--quick)' : ''}`
const lines = [`${about}.`, '']
lines.push('| operation | library | mode | ops/s |')
lines.push('|---|---|---|--:|')
for (const r of results) {
  for (const m of r.measured) {
    for (const [mode, value] of Object.entries(m.modes)) {
      lines.push(`| ${r.operation} | ${m.name} | ${mode}${mode === m.bestMode ? ' (best)' : ''} | ${fmt(value)} |`)
    }
  }
}
lines.push('')
lines.push('| path | doorward | peer | ratio | aim | |')
lines.push('|---|---|---|---|---|---|')
for (const r of rows) {
  const verdict = r.met === null ? '—' : r.met ? 'met' : 'NOT met'
  lines.push(`| ${r.path} | ${r.doorward} | ${r.peer} | ${r.ratio_text} | ${r.aim} | ${verdict} |`)
}
console.log(lines.join('\n'))

if (JSON_PATH) {
  const measurements = results.flatMap((r) =>
    r.measured.flatMap((m) =>
      Object.entries(m.modes).map(([mode, value]) => ({ operation: r.operation, library: m.name, mode, ops_per_sec: value })),
    ),
  )
  fs.writeFileSync(JSON_PATH, JSON.stringify({ about, quick: QUICK, runs: RUNS, versions, measurements, rows }, null, 2) + '\n')
}
// The aims are reported, not enforced (numbers depend on the machine),
// unless --strict asks for a failing exit when one is missed.
if (process.argv.includes('--strict') && rows.some((r) => r.met === false)) process.exitCode = 1

'use strict'
// Shared set-up for the tests: cheap instances, assertions on doorward
// errors, tokens re-signed by hand, a loopback webhook receiver, a loopback
// SMTP server and the reading of account mails, and the test services (PostgreSQL, Redis, S3,
// the OpenID provider of tests/oidc) by the project's rule: used when
// reachable, skipped when not, and failing instead under
// DOORWARD_REQUIRE_SERVICES=1.
//
// `node --test test/` runs every .js file under test/, this one included:
// run as an entry it checks the services rule itself (see the bottom).

const assert = require('node:assert/strict')
const { execFile } = require('node:child_process')
const crypto = require('node:crypto')
const fs = require('node:fs')
const http = require('node:http')
const net = require('node:net')
const os = require('node:os')
const path = require('node:path')
const { pathToFileURL } = require('node:url')
const { inspect } = require('node:util')

const doorward = require('../index.js')

const SECRET = 'node-test-secret-of-at-least-32-bytes!'
const PASSWORD = 'correct horse battery staple'
const KEYS = path.resolve(__dirname, '..', '..', 'tests', 'keys')
/** Cheap argon2: the tests exercise behaviour, not hashing cost. */
const CHEAP = Object.freeze({
  databaseUrl: 'memory://',
  jwtSecret: SECRET,
  argon2MemoryKib: 64,
  argon2Iterations: 1,
})
const POSTGRES_URL = process.env.DOORWARD_TEST_POSTGRES_URL || 'postgres://postgres@127.0.0.1:5432/test'
const REDIS_URL = process.env.DOORWARD_TEST_REDIS_URL || 'redis://127.0.0.1:6379'
const S3_ENDPOINT = process.env.DOORWARD_TEST_S3_ENDPOINT || 'http://127.0.0.1:9000'
const OIDC_URL = process.env.DOORWARD_TEST_OIDC_URL || 'http://127.0.0.1:9400'
const REQUIRED = process.env.DOORWARD_REQUIRE_SERVICES === '1'

/** A Doorward on the cheap in-memory defaults, `overrides` laid over them. */
function open(overrides = {}) {
  return doorward.Doorward.open({ ...CHEAP, ...overrides })
}

/** Registers `name` with `name@example.com` and PASSWORD. */
function register(dw, name = 'john', client) {
  return dw.registerUser(name, `${name}@example.com`, PASSWORD, client)
}

/**
 * Awaits `action` (a promise, or a function returning one or throwing) and
 * checks that it fails with a DoorwardError of `code`; returns the error.
 */
async function rejectsWith(action, code) {
  let err
  let resolved
  try {
    resolved = await (typeof action === 'function' ? action() : action)
  } catch (e) {
    err = e
  }
  assert.ok(err, `expected a rejection with code ${code}, but it resolved with ${inspect(resolved)}`)
  assert.ok(
    err instanceof doorward.DoorwardError,
    `expected a DoorwardError with code ${code}, got ${inspect(err)}`,
  )
  assert.ok(err instanceof Error, 'a DoorwardError is an Error')
  assert.equal(err.name, 'DoorwardError')
  assert.equal(err.code, code, `expected code ${code}, got ${err.code}: ${err.message}`)
  assert.ok(doorward.errorCodes().includes(err.code), `${err.code} is a stable code`)
  assert.ok(!err.message.startsWith('{"doorward"'), 'the message is the core message, not the transport JSON')
  return err
}

/** Checks that `action` fails with a TypeError of code ERR_INVALID_ARG_TYPE. */
async function rejectsWithTypeError(action) {
  let err
  try {
    await action()
  } catch (e) {
    err = e
  }
  assert.ok(err, 'expected a TypeError, but the call succeeded')
  assert.ok(err instanceof TypeError, `expected a TypeError, got ${inspect(err)}`)
  assert.equal(err.code, 'ERR_INVALID_ARG_TYPE')
  return err
}

/**
 * A temporary directory removed after the test. An instance still open on
 * a SQLite file there may create its `-wal` / `-shm` files while the
 * directory is being emptied (ENOTEMPTY): the removal is retried.
 */
function tempDir(t) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'doorward-node-'))
  t.after(() => fs.rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 20 }))
  return dir
}

// --- JWTs by hand -------------------------------------------------------------

const b64url = (buf) => Buffer.from(buf).toString('base64url')

/** The header and claims of a compact JWS, unverified. */
function decodeJwt(token) {
  const [header, payload] = token.split('.')
  return {
    header: JSON.parse(Buffer.from(header, 'base64url').toString('utf8')),
    claims: JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')),
  }
}

/** An HS256 compact JWS of `header` and `claims`, signed with `secret`. */
function signHs256(header, claims, secret) {
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`
  const signature = crypto.createHmac('sha256', secret).update(input).digest()
  return `${input}.${b64url(signature)}`
}

// --- services -----------------------------------------------------------------

/**
 * Marks `t` skipped because a service is missing, or throws when
 * DOORWARD_REQUIRE_SERVICES=1. Returns null, so callers can
 * `const url = await postgresUrl(t); if (!url) return`.
 */
function unavailable(t, service, url, why) {
  const message = `${service} not reachable at ${url}: ${why}`
  if (REQUIRED) {
    throw new Error(`required by DOORWARD_REQUIRE_SERVICES=1, but ${message}`)
  }
  t.skip(message)
  return null
}

let postgresProblemOnce
/** Why PostgreSQL cannot be used (asked once per file), or null. */
function postgresProblem() {
  postgresProblemOnce ??= (async () => {
    let pg
    try {
      pg = require('pg')
    } catch (err) {
      return `the pg package is missing (npm ci): ${err.message}`
    }
    const client = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 5000 })
    try {
      await client.connect()
      await client.query('SELECT 1')
      return null
    } catch (err) {
      return `${err.name}: ${err.message}`
    } finally {
      await client.end().catch(() => {})
    }
  })()
  return postgresProblemOnce
}

/** Runs `fn(client)` on a fresh connection to the test server. */
async function withPostgres(fn) {
  const pg = require('pg')
  const client = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 5000 })
  await client.connect()
  try {
    return await fn(client)
  } finally {
    await client.end().catch(() => {})
  }
}

/**
 * A fresh schema `dw_node_<unixtime>_<random>` in the test PostgreSQL, as a
 * database URL whose connections use it; dropped after the test. Schemas of
 * runs over an hour old are dropped on the way. Null (and `t` skipped) when
 * the server is unreachable.
 */
async function postgresUrl(t) {
  const problem = await postgresProblem()
  if (problem) return unavailable(t, 'PostgreSQL', POSTGRES_URL, problem)
  const now = Math.floor(Date.now() / 1000)
  const schema = `dw_node_${now}_${crypto.randomBytes(8).toString('hex')}`
  await withPostgres(async (client) => {
    const { rows } = await client.query(
      "SELECT nspname::text AS name FROM pg_namespace WHERE nspname LIKE 'dw\\_node\\_%'",
    )
    for (const { name } of rows) {
      const born = Number(name.split('_')[2])
      if (Number.isInteger(born) && born < now - 3600) {
        await client.query(`DROP SCHEMA IF EXISTS "${name}" CASCADE`).catch(() => {})
      }
    }
    await client.query(`CREATE SCHEMA "${schema}"`)
  })
  t.after(async () => {
    // Best effort: a schema left behind goes with a later run's sweep.
    await withPostgres(async (client) => {
      await client.query("SET lock_timeout = '2s'")
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
    }).catch(() => {})
  })
  const sep = POSTGRES_URL.includes('?') ? '&' : '?'
  return `${POSTGRES_URL}${sep}options=-c%20search_path%3D${schema}`
}

/** Parses one RESP reply from `buf` at `at`: [value, next offset], or null if incomplete. */
function parseResp(buf, at = 0) {
  const eol = buf.indexOf('\r\n', at)
  if (eol < 0) return null
  const type = String.fromCharCode(buf[at])
  const line = buf.toString('utf8', at + 1, eol)
  const next = eol + 2
  switch (type) {
    case '+':
      return [line, next]
    case '-':
      return [new Error(line), next]
    case ':':
      return [Number(line), next]
    case '$': {
      const len = Number(line)
      if (len < 0) return [null, next]
      if (buf.length < next + len + 2) return null
      return [buf.toString('utf8', next, next + len), next + len + 2]
    }
    case '*': {
      const count = Number(line)
      const items = []
      let offset = next
      for (let i = 0; i < count; i++) {
        const item = parseResp(buf, offset)
        if (!item) return null
        items.push(item[0])
        offset = item[1]
      }
      return [items, offset]
    }
    default:
      throw new Error(`unexpected RESP reply type ${JSON.stringify(type)}`)
  }
}

/**
 * Sends `commands` (arrays of strings) to the test Redis on one connection
 * and resolves with their replies: enough RESP for PING, SCAN and DEL,
 * without a client library.
 */
function redisCommands(commands, timeoutMs = 2000) {
  const url = new URL(REDIS_URL)
  const all = []
  if (url.password) all.push(url.username ? ['AUTH', decodeURIComponent(url.username), decodeURIComponent(url.password)] : ['AUTH', decodeURIComponent(url.password)])
  const db = url.pathname.replace(/^\//, '')
  if (db) all.push(['SELECT', db])
  const skip = all.length
  all.push(...commands)
  const wire = all
    .map((args) => `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(String(a))}\r\n${a}\r\n`).join('')}`)
    .join('')
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: url.hostname || '127.0.0.1', port: Number(url.port || 6379) })
    let buf = Buffer.alloc(0)
    const replies = []
    const timer = setTimeout(() => {
      socket.destroy()
      reject(new Error(`no answer within ${timeoutMs} ms`))
    }, timeoutMs)
    socket.on('connect', () => socket.write(wire))
    socket.on('error', (err) => {
      clearTimeout(timer)
      reject(err)
    })
    socket.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk])
      let parsed
      let offset = 0
      while (replies.length < all.length && (parsed = parseResp(buf, offset))) {
        replies.push(parsed[0])
        offset = parsed[1]
      }
      buf = buf.subarray(offset)
      if (replies.length === all.length) {
        clearTimeout(timer)
        socket.end()
        const failed = replies.find((r) => r instanceof Error)
        if (failed) reject(failed)
        else resolve(replies.slice(skip))
      }
    })
  })
}

let redisProblemOnce
/** Why Redis cannot be used (asked once per file), or null. */
function redisProblem() {
  redisProblemOnce ??= redisCommands([['PING']]).then(
    ([pong]) => (pong === 'PONG' ? null : `PING answered ${inspect(pong)}`),
    (err) => `${err.code || err.name}: ${err.message}`,
  )
  return redisProblemOnce
}

/** Every key under `prefix` (a full SCAN: one call may return none of them). */
async function redisKeys(prefix) {
  const found = []
  let cursor = '0'
  do {
    const [[next, keys]] = await redisCommands([['SCAN', cursor, 'MATCH', `${prefix}*`, 'COUNT', '1000']])
    cursor = next
    found.push(...keys)
  } while (cursor !== '0')
  return found
}

/** Deletes every key under `prefix`. */
async function redisDeletePrefix(prefix) {
  const keys = await redisKeys(prefix)
  for (let i = 0; i < keys.length; i += 500) await redisCommands([['DEL', ...keys.slice(i, i + 500)]])
}

/**
 * `redisUrl` and a `redisPrefix` of this test's own (its keys are deleted
 * afterwards). Null (and `t` skipped) when Redis is unreachable.
 */
async function redisConfig(t) {
  const problem = await redisProblem()
  if (problem) return unavailable(t, 'Redis', REDIS_URL, problem)
  const prefix = `dw_node_${crypto.randomBytes(8).toString('hex')}:`
  t.after(() => redisDeletePrefix(prefix).catch(() => {}))
  return { redisUrl: REDIS_URL, redisPrefix: prefix }
}

/**
 * One plain HTTP request (no signing): its status and body. Enough for the
 * loopback S3 server (moto accepts unsigned bucket creation) and presigned
 * URLs.
 */
function httpRequest(method, url, body) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, timeout: 5000 }, (res) => {
      const chunks = []
      res.on('data', (c) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }))
    })
    req.on('timeout', () => req.destroy(new Error('timed out')))
    req.on('error', reject)
    req.end(body)
  })
}

/**
 * The configuration of a bucket of this test's own on the loopback
 * S3-compatible server (moto, started by scripts/services). Null (and `t`
 * skipped) when the server is unreachable.
 */
async function s3Config(t) {
  const bucket = `dw-node-${crypto.randomBytes(8).toString('hex')}`
  let res
  try {
    res = await httpRequest('PUT', `${S3_ENDPOINT}/${bucket}`)
  } catch (err) {
    return unavailable(t, 'S3 (moto)', S3_ENDPOINT, `${err.code || err.name}: ${err.message}`)
  }
  if (res.status !== 200) {
    throw new Error(`the S3 server at ${S3_ENDPOINT} refused to create a bucket: ${res.status} ${res.body}`)
  }
  return {
    filesUrl: `s3://${bucket}`,
    filesS3Endpoint: S3_ENDPOINT,
    filesS3Region: 'us-east-1',
    filesS3AccessKeyId: 'test-access-key',
    filesS3SecretAccessKey: 'test-secret-key',
    filesS3AllowHttp: true,
  }
}

/**
 * A loopback webhook receiver: answers the statuses in `statuses` in turn,
 * then 200, and keeps every request (headers and raw body). Closed after
 * the test.
 */
async function receiver(t, statuses = []) {
  const requests = []
  const answers = [...statuses]
  const server = http.createServer((req, res) => {
    const chunks = []
    req.on('data', (c) => chunks.push(c))
    req.on('end', () => {
      requests.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') })
      res.statusCode = answers.length > 0 ? answers.shift() : 200
      res.end()
    })
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(() => {
    server.closeAllConnections()
    return new Promise((resolve) => server.close(resolve))
  })
  return { url: `http://127.0.0.1:${server.address().port}/hooks`, requests }
}

/**
 * A fresh issuer of the test OpenID provider (tests/oidc, started by
 * scripts/services) with `clients` (`client_id`, `client_secret` unless
 * public, `redirect_uris`): `{ issuer, id }`, closed after the test. Null
 * (and `t` skipped) when its control server is unreachable.
 */
async function oidcIssuer(t, clients) {
  let res
  try {
    res = await fetch(`${OIDC_URL}/issuers`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ clients }),
      signal: AbortSignal.timeout(5000),
    })
  } catch (err) {
    const why = err.cause ? `${err.cause.code || err.cause.name}: ${err.cause.message}` : `${err.name}: ${err.message}`
    return unavailable(t, 'the test OpenID provider', OIDC_URL, why)
  }
  const body = await res.text()
  if (res.status !== 201) throw new Error(`the test OpenID provider refused an issuer: ${res.status} ${body}`)
  const { issuer, id } = JSON.parse(body)
  t.after(() => fetch(`${OIDC_URL}/issuers/${id}`, { method: 'DELETE' }).then((r) => r.arrayBuffer(), () => {}))
  return { issuer, id: String(id) }
}

/** A new signing key for the issuer `id`; the old one leaves its key set. */
async function oidcRotate(id) {
  const res = await fetch(`${OIDC_URL}/issuers/${id}/rotate`, { method: 'POST' })
  assert.equal(res.status, 200, await res.clone().text())
  return (await res.json()).kid
}

/**
 * A scripted user at a browser (tests/oidc/login.mjs): follows redirects
 * from `url` with cookies per host, signs in on the provider's page as
 * `options.account` (or cancels), and stops at `options.stopAt`.
 */
async function browse(url, options) {
  const login = await import(pathToFileURL(path.resolve(__dirname, '..', '..', 'tests', 'oidc', 'login.mjs')).href)
  return login.browse(url, options)
}

// --- mail -----------------------------------------------------------------------

/** A message body in its Content-Transfer-Encoding, decoded to text. */
function decodeBody(body, encoding) {
  switch ((encoding || '7bit').toLowerCase()) {
    case 'quoted-printable':
      // Soft line breaks go, then every =XX is a byte of UTF-8.
      return Buffer.from(
        body.replace(/=\r?\n/g, '').replace(/=([0-9A-Fa-f]{2})/g, (_, hex) => String.fromCharCode(parseInt(hex, 16))),
        'latin1',
      ).toString('utf8')
    case 'base64':
      return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8')
    default:
      // 7bit or 8bit: the bytes as they came (read as latin1), in UTF-8.
      return Buffer.from(body, 'latin1').toString('utf8')
  }
}

/** One received message (RFC 5322 text) as { from, to, subject, text }. */
function parseMessage(envelope, raw) {
  const split = raw.indexOf('\r\n\r\n')
  const head = raw.slice(0, split).replace(/\r\n[ \t]+/g, ' ')
  const header = (name) => {
    const line = head.split('\r\n').find((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`))
    return line === undefined ? undefined : line.slice(name.length + 1).trim()
  }
  return {
    from: envelope.mailFrom && envelope.mailFrom.address,
    to: envelope.rcptTo.map((r) => r.address),
    subject: header('Subject'),
    text: decodeBody(raw.slice(split + 4), header('Content-Transfer-Encoding')),
  }
}

/**
 * A loopback SMTP server (npm's smtp-server, no TLS, no AUTH) that keeps
 * every message it receives as { from, to, subject, text }, the body
 * decoded. `url` is the `mailUrl` that reaches it. Closed after the test.
 */
async function smtpInbox(t) {
  const { SMTPServer } = require('smtp-server')
  const messages = []
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    closeTimeout: 200,
    onData(stream, session, callback) {
      const chunks = []
      stream.on('data', (c) => chunks.push(c))
      stream.on('end', () => {
        messages.push(parseMessage(session.envelope, Buffer.concat(chunks).toString('latin1')))
        callback()
      })
    },
  })
  await new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', resolve)
  })
  t.after(() => new Promise((resolve) => server.close(resolve)))
  return { url: `smtp://127.0.0.1:${server.server.address().port}`, messages }
}

/**
 * What a user reads in an account mail: the flow id and secret of its link
 * (the first word starting with `appUrl`), and its code (the word of 6 to
 * 8 digits).
 */
function flowMail(text, appUrl = 'https://app.example.com') {
  const words = text.split(/\s+/)
  const link = words.find((w) => w.startsWith(`${appUrl}/`))
  assert.ok(link, 'the mail has a link under appUrl')
  const url = new URL(link)
  const code = words.map((w) => w.replace(/\.$/, '')).find((w) => /^\d{6,8}$/.test(w))
  assert.ok(code, 'the mail has a code')
  return { link, path: url.pathname, flowId: url.searchParams.get('flow'), secret: url.searchParams.get('secret'), code }
}

/**
 * Flushes the outbox until `find()` returns something (the mail a flow
 * sends leaves through it), for at most `ms`; returns what it found.
 */
async function awaitMail(dw, find, what = 'the mail', ms = 20000) {
  const deadline = Date.now() + ms
  for (;;) {
    await dw.events.flush()
    const found = find()
    if (found) return found
    if (Date.now() > deadline) throw new Error(`${what} did not arrive within ${ms} ms`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/**
 * Runs `body` (an async function's body, with `dw` open on the in-memory
 * store, `config` laid over the defaults) in a child process and resolves
 * with its exit code and output. The timeout is a safety net for a hung
 * child, not a measurement: a child that does not exit on its own is
 * killed and reported as such.
 */
function child(body, config = {}) {
  const index = JSON.stringify(path.join(__dirname, '..', 'index.js'))
  const options = JSON.stringify({
    databaseUrl: 'memory://',
    jwtSecret: 'x'.repeat(40),
    argon2MemoryKib: 64,
    argon2Iterations: 1,
    ...config,
  })
  const script = `
    const { Doorward } = require(${index})
    ;(async () => {
      const dw = await Doorward.open(${options})
      ${body}
    })().catch((err) => { console.error(err); process.exit(2) })
  `
  return new Promise((resolve) => {
    execFile(process.execPath, ['-e', script], { timeout: 60000, killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
      resolve({ code: err ? (err.killed ? 'killed: did not exit on its own' : err.code) : 0, stdout, stderr })
    })
  })
}

/**
 * Poll `check` until it returns true, for at most `ms`. Cross-instance cache
 * invalidation rides Redis pub/sub: prompt, but not synchronous with the
 * write that sent it.
 */
async function eventually(check, ms = 5000) {
  const deadline = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not true within ${ms} ms: ${check}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

module.exports = {
  CHEAP,
  KEYS,
  OIDC_URL,
  PASSWORD,
  POSTGRES_URL,
  REDIS_URL,
  REQUIRED,
  S3_ENDPOINT,
  SECRET,
  child,
  decodeJwt,
  awaitMail,
  browse,
  eventually,
  flowMail,
  httpRequest,
  oidcIssuer,
  oidcRotate,
  open,
  postgresProblem,
  postgresUrl,
  redisCommands,
  redisConfig,
  redisKeys,
  redisProblem,
  register,
  rejectsWith,
  rejectsWithTypeError,
  receiver,
  s3Config,
  signHs256,
  smtpInbox,
  tempDir,
  withPostgres,
}

// Run as a test file (`node --test` runs every file under test/): the
// services rule on its own, so a run says plainly which services it used.
if (require.main === module) {
  const { test } = require('node:test')
  test('services: PostgreSQL is reachable, or skipped by the rule', async (t) => {
    const problem = await postgresProblem()
    if (problem) unavailable(t, 'PostgreSQL', POSTGRES_URL, problem)
  })
  test('services: Redis is reachable, or skipped by the rule', async (t) => {
    const problem = await redisProblem()
    if (problem) unavailable(t, 'Redis', REDIS_URL, problem)
  })
  test('services: S3 (moto) is reachable, or skipped by the rule', async (t) => {
    await s3Config(t)
  })
  test('services: the test OpenID provider is reachable, or skipped by the rule', async (t) => {
    await oidcIssuer(t, [{ client_id: 'probe', redirect_uris: ['http://127.0.0.1:1/callback'] }])
  })
}

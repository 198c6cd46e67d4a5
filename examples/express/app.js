'use strict'
// An Express application on doorward: registration, login (with a second
// factor when the account has one), token refresh, logout, the caller's
// profile, address, avatar and authenticator app, step-up, an admin-only
// listing, the admin console at /admin/, Prometheus metrics at /metrics,
// the account pages of accounts.js (verify an address, forgot and reset a
// password, sign in by email, confirm a new address), the second-factor
// pages of mfa.js, and the browser's pages: signing in with a password
// (signin.js), a passkey (passkeys.js) or a provider such as Google or a
// company's OpenID provider (oauth.js), adding passkeys and linking
// providers, on the session cookie of session.js.
// doorward keeps the users, sessions, roles and files and sends the account
// mails; its middleware authenticates requests and errorHandler() answers
// every doorward error with its HTTP status.
//
//   createApp(dw)  the application for an open Doorward (what the tests use)
//   main()         opens doorward from the environment and listens

const crypto = require('node:crypto')
const express = require('express')
const { Doorward, authenticate, consoleMiddleware, errorHandler, requirePermission, tokenResponse } = require('doorward')
const { accountPages } = require('./accounts.js')
const { enrolmentPage, keepPendingLogin, secondFactorPages } = require('./mfa.js')
const { oauthPages } = require('./oauth.js')
const { passkeyRoutes } = require('./passkeys.js')
const { signInPages } = require('./signin.js')

/** Where a login comes from, as doorward keeps it with the session. */
function clientInfo(req) {
  return { ip: req.ip, userAgent: req.get('user-agent') }
}

/**
 * The string fields `names` of the JSON body, or null after answering 422
 * (in errorHandler's shape) when one is missing or not a string.
 */
function stringFields(req, res, ...names) {
  const body = req.body && typeof req.body === 'object' ? req.body : {}
  for (const name of names) {
    if (typeof body[name] !== 'string') {
      res.status(422).json({ error: { code: 'validation_error', message: `${name} is required`, field: name } })
      return null
    }
  }
  return names.map((name) => body[name])
}

/** Largest avatar accepted: the body is refused past it, never buffered whole. */
const AVATAR_MAX_BYTES = 1024 * 1024

/**
 * Avatar content types served back as they came. Raster images only: an
 * SVG or HTML "avatar" served from this origin could run script.
 */
const AVATAR_TYPES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp'])

/** The Prometheus text exposition format. */
const METRICS_TYPE = 'text/plain; version=0.0.4; charset=utf-8'

/** Where a user's avatar is kept in doorward's files. */
const avatarKey = (userId) => `avatars/${userId}`

/** An answer in errorHandler's shape, for refusals the app makes itself. */
function refuse(res, status, code, message, field) {
  res.status(status).json({ error: { code, message, field } })
}

/** What the API shows of an account. */
function profile(user) {
  return {
    id: user.id,
    username: user.username,
    email: user.email,
    disabled: user.disabled,
    created_at: user.createdAt,
    last_login_at: user.lastLoginAt ?? null,
    email_verified_at: user.emailVerifiedAt ?? null,
  }
}

/** The application for an open Doorward. */
function createApp(dw) {
  const app = express()
  app.disable('x-powered-by')
  app.use(express.json({ limit: '16kb' }))

  // Express 5 passes a rejected promise of a handler on to the error
  // handlers, so handlers can simply be async.
  app.post('/register', async (req, res) => {
    const fields = stringFields(req, res, 'username', 'email', 'password')
    if (!fields) return
    const reg = await dw.registerUser(...fields, clientInfo(req))
    res.status(201).json({ user: profile(reg.user), ...tokenResponse(reg.tokens) })
  })

  // The tokens; or, for an account with a second factor, what the code
  // form needs to know, with the pending login in an HttpOnly cookie for
  // the form's POST (/login/mfa, mfa.js): its flow id is never in a body.
  app.post('/login', async (req, res) => {
    const fields = stringFields(req, res, 'login', 'password')
    if (!fields) return
    const result = await dw.login(...fields, clientInfo(req))
    if (!result.mfaRequired) return res.json(tokenResponse(result))
    keepPendingLogin(req, res, result)
    res.set('Cache-Control', 'no-store').json({
      mfa_required: true,
      methods: result.methods,
      expires_in: result.expiresIn,
      code_form: '/login/mfa',
    })
  })

  app.post('/refresh', async (req, res) => {
    const fields = stringFields(req, res, 'refresh_token')
    if (!fields) return
    res.json(tokenResponse(await dw.refreshToken(fields[0])))
  })

  app.post('/logout', authenticate(dw), async (req, res) => {
    await dw.logout(req.accessToken)
    res.status(204).end()
  })

  app.get('/me', authenticate(dw), async (req, res) => {
    const { userId, username, sessionId, roles, expiresAt, amr, aal, authTime } = req.principal
    const user = await dw.users.get(userId)
    res.json({
      principal: {
        user_id: userId,
        username,
        session_id: sessionId,
        roles,
        expires_at: expiresAt,
        amr,
        aal,
        auth_time: authTime,
      },
      profile: profile(user),
    })
  })

  // An authenticator app: the enrolment page shows a new secret as a QR
  // code (a POST: each one replaces a pending secret), and the first code
  // from the app confirms it, answering the recovery codes, shown once.
  app.post('/me/mfa/totp', authenticate(dw), async (req, res) => {
    enrolmentPage(res, await dw.mfa.startTotp(req.principal.userId))
  })

  app.post('/me/mfa/totp/confirm', authenticate(dw), async (req, res) => {
    const fields = stringFields(req, res, 'code')
    if (!fields) return
    const recovery = await dw.mfa.confirmTotp(req.principal.userId, fields[0])
    res.set('Cache-Control', 'no-store').json({ recovery_codes: recovery.codes })
  })

  app.get('/me/mfa', authenticate(dw), async (req, res) => {
    const status = await dw.mfa.status(req.principal.userId)
    res.json({ totp: status.totp, recovery_codes_left: status.recoveryCodesLeft, enabled: status.enabled })
  })

  // Removing the app needs an authentication of the last few minutes
  // (freshAuthMaxAge): an older token is 401 step_up_required.
  app.delete('/me/mfa/totp', authenticate(dw), async (req, res) => {
    await dw.mfa.disableTotp(req.accessToken)
    res.status(204).end()
  })

  // Prove who you are again ({method: password | totp | recovery_code,
  // proof}): a new session's tokens; the old token stops working.
  app.post('/me/step-up', authenticate(dw), async (req, res) => {
    const fields = stringFields(req, res, 'method', 'proof')
    if (!fields) return
    const pair = await dw.stepUp(req.accessToken, ...fields, clientInfo(req))
    res.set('Cache-Control', 'no-store').json(tokenResponse(pair))
  })

  // A new address, proven from it: doorward mails a link and a code there
  // (confirmed on the /email-change page) and a notice to the old one.
  app.post('/me/email', authenticate(dw), async (req, res) => {
    const fields = stringFields(req, res, 'new_email', 'password')
    if (!fields) return
    const flow = await dw.users.requestEmailChange(req.principal.userId, ...fields)
    res.status(202).json({ flow_id: flow.flowId, expires_in: flow.expiresIn })
  })

  // The raw body, whatever its type, up to the cap; the content type is
  // checked (and kept) by the route.
  const rawAvatar = express.raw({ type: () => true, limit: AVATAR_MAX_BYTES })

  app.put('/me/avatar', authenticate(dw), (req, res, next) => {
    rawAvatar(req, res, (err) => {
      if (err && err.type === 'entity.too.large') {
        return refuse(res, 413, 'validation_error', `the avatar is larger than ${AVATAR_MAX_BYTES} bytes`, 'avatar')
      }
      next(err)
    })
  }, async (req, res) => {
    const type = (req.get('content-type') || '').split(';')[0].trim().toLowerCase()
    if (!AVATAR_TYPES.has(type)) {
      return refuse(res, 415, 'validation_error', `the avatar must be one of ${[...AVATAR_TYPES].join(', ')}`, 'content_type')
    }
    if (!Buffer.isBuffer(req.body) || req.body.length === 0) {
      return refuse(res, 422, 'validation_error', 'the avatar is empty', 'avatar')
    }
    const info = await dw.files.put(avatarKey(req.principal.userId), req.body, type)
    res.json({ avatar: { size: info.size, content_type: info.contentType, updated_at: info.createdAt } })
  })

  // Public, like most avatars; a missing one is 404 not_found.
  app.get('/users/:id/avatar', async (req, res) => {
    const { info, data } = await dw.files.get(avatarKey(req.params.id))
    res.set({
      'Content-Type': info.contentType || 'application/octet-stream',
      'X-Content-Type-Options': 'nosniff',
      'Content-Security-Policy': "default-src 'none'; sandbox",
      'Cache-Control': 'no-cache',
    })
    if (info.etag) res.set('ETag', info.etag)
    // res.send answers 304 when If-None-Match matches the ETag.
    res.send(data)
  })

  app.get('/admin/users', authenticate(dw), requirePermission('admin:*'), async (req, res) => {
    const cursor = typeof req.query.cursor === 'string' ? req.query.cursor : undefined
    const limit = typeof req.query.limit === 'string' ? Number(req.query.limit) : undefined
    const page = await dw.users.list(cursor, limit)
    res.json({ users: page.items.map(profile), next_cursor: page.nextCursor ?? null })
  })

  // doorward's counters, latencies and gauges as Prometheus text. Open to
  // anyone here; in production keep it off the public internet (an
  // internal port, or a network rule that lets only the scraper in).
  app.get('/metrics', async (req, res) => {
    const text = await dw.metricsText()
    // end(), not send(): send() would reorder the content type's parameters.
    res.set('Content-Type', METRICS_TYPE).end(text)
  })

  // HTML pages for browsers, answering their own errors as pages (the
  // passkey pages' JSON calls answer theirs with errorHandler below).
  app.use(secondFactorPages(dw, clientInfo))
  app.use(accountPages(dw, clientInfo))
  app.use(signInPages(dw, clientInfo))
  app.use(passkeyRoutes(dw, clientInfo))
  app.use(oauthPages(dw, clientInfo))

  // The admin console at /admin/: the Rust router `doorward console`
  // serves, with its own sign-in (accounts whose roles grant console:read
  // or console:write, as admin's do), cookies and CSRF tokens. After the
  // routes above, so GET /admin/users stays the API's; express.json() has
  // read the console's JSON bodies by then, and the middleware hands over
  // what it read.
  app.use('/admin', consoleMiddleware(dw))

  // Last: every doorward error as its status and { error: { code, message, field } }.
  app.use(errorHandler())
  return app
}

/**
 * The configuration from the environment: DOORWARD_CONFIG (a TOML file)
 * if set, otherwise DOORWARD_DATABASE_URL (default: a SQLite file in the
 * working directory), DOORWARD_JWT_SECRET, DOORWARD_REDIS_URL, and for the
 * account mails DOORWARD_MAIL_URL (`smtp://host:port`; without it the
 * account pages answer 500 config_error), DOORWARD_MAIL_FROM and
 * DOORWARD_APP_URL: the public URL the mailed links point at, and the
 * origin passkeys are bound to (its host is the WebAuthn relying party
 * id). By default, the address this process listens on, with a loopback
 * address named `localhost`: WebAuthn allows plain http on localhost only.
 */
function configFromEnv(env = process.env) {
  if (env.DOORWARD_CONFIG) return env.DOORWARD_CONFIG
  let jwtSecret = env.DOORWARD_JWT_SECRET
  if (!jwtSecret) {
    jwtSecret = crypto.randomBytes(32).toString('base64url')
    console.warn('DOORWARD_JWT_SECRET is not set: using a random secret, so tokens end with this process')
  }
  return {
    databaseUrl: env.DOORWARD_DATABASE_URL || 'sqlite://doorward-example.db',
    jwtSecret,
    redisUrl: env.DOORWARD_REDIS_URL || undefined,
    mailUrl: env.DOORWARD_MAIL_URL || undefined,
    mailFrom: env.DOORWARD_MAIL_FROM || undefined,
    appUrl: env.DOORWARD_APP_URL || `http://${publicHost(env.HOST || '127.0.0.1')}:${env.PORT || 3000}`,
  }
}

/** The name a browser uses for `host`: `localhost` for a loopback address. */
function publicHost(host) {
  return ['127.0.0.1', '::1', '[::1]', 'localhost'].includes(host) ? 'localhost' : host
}

async function main() {
  const dw = await Doorward.open(configFromEnv())
  const app = createApp(dw)
  const host = process.env.HOST || '127.0.0.1'
  const port = Number(process.env.PORT ?? 3000)
  const server = app.listen(port, host, () => {
    const { address, port: bound } = server.address()
    console.log(`doorward example (${dw.backend}) listening on http://${address}:${bound}`)
    console.log(`sign in at http://${publicHost(address)}:${bound}/login/password (passkeys need this host name)`)
  })
  for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => server.close(() => process.exit(0)))
}

module.exports = { AVATAR_MAX_BYTES, createApp, configFromEnv, main }

if (require.main === module) {
  main().catch((err) => {
    console.error(err)
    process.exit(1)
  })
}

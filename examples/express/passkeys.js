'use strict'
// Passkeys: the enrolment page of a signed-in user and the passkey
// sign-in page. doorward makes the WebAuthn options, keeps each ceremony
// and checks every answer; these routes forward JSON between the browser
// and doorward. The browser's half is a static script,
// public/passkeys.js (the pages allow scripts from this origin only, and
// no inline script), which reads the options with
// `PublicKeyCredential.parseCreationOptionsFromJSON` /
// `parseRequestOptionsFromJSON` and posts back `credential.toJSON()`.
//
//   GET    /me/passkeys          the page: the account's passkeys, "Add a passkey"
//   POST   /me/passkeys/options  {}                  -> the creation options
//   POST   /me/passkeys          {name, credential}  -> 201 {passkey}
//   DELETE /me/passkeys/:id      204 (a token authenticated in the last ten minutes)
//   GET    /login/passkey        the page: "Sign in with a passkey" (a username is optional)
//   POST   /login/passkey/options {username?}        -> the request options
//   POST   /login/passkey        {credential}        -> the session cookie, {location: "/account"}
//
// The /me routes take the browser session's cookie (session.js) or a
// bearer token. A passkey sign-in starts the same browser session as the
// password page, at level 2 (a passkey verifies its user). WebAuthn works
// on https origins and on http://localhost only: doorward's appUrl (or
// webauthnOrigins) must be the origin the browser shows.
//
//   passkeyRoutes(dw, clientInfo)  an Express router with these routes

const path = require('node:path')
const express = require('express')
const { PAGE_CSP, escape, page, pageError } = require('./pages.js')
const { ACCOUNT_PAGE, signInFirst, signedIn, startSession } = require('./session.js')

/** Where the browser script is served from (express.static of public/). */
const SCRIPT = '/static/passkeys.js'

/**
 * The passkey pages' policy: the pages' own, plus scripts and fetches to
 * this origin (the static script and its JSON calls); no inline script.
 */
const PASSKEY_CSP = `${PAGE_CSP}; script-src 'self'; connect-src 'self'`

/** Sign-ins started per client address (each keeps a ceremony in the store for five minutes). */
const OPTIONS_QUOTA = '30/1m'

/** What the API shows of a passkey. */
function passkeyView(p) {
  return {
    id: p.id,
    name: p.name,
    created_at: p.createdAt,
    last_used_at: p.lastUsedAt ?? null,
    backup_eligible: p.backupEligible,
    backup_state: p.backupState,
    sign_count: p.signCount,
  }
}

/** A date as the page shows it: `2026-05-01 09:30 UTC`. */
const shown = (date) => `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`

/** One passkey in the page's list (the script adds new ones the same way). */
function passkeyItem(p) {
  const used = p.lastUsedAt ? `last used ${shown(p.lastUsedAt)}` : 'not used yet'
  return `<li>${escape(p.name)}: added ${escape(shown(p.createdAt))}, ${escape(used)}</li>`
}

/** The field `name` of the JSON body if it is an object (the browser's answer), else null. */
function objectField(req, name) {
  const value = req.body && typeof req.body === 'object' ? req.body[name] : undefined
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? value : null
}

/** 422 in errorHandler's shape, for a body the route cannot use. */
function invalid(res, field, message) {
  res.status(422).json({ error: { code: 'validation_error', message, field } })
}

function passkeyRoutes(dw, clientInfo) {
  const api = express.Router()
  const pages = express.Router()

  api.use('/static', express.static(path.join(__dirname, 'public'), {
    index: false,
    setHeaders(res) {
      res.set({ 'X-Content-Type-Options': 'nosniff', 'Cache-Control': 'no-cache' })
    },
  }))

  // --- enrolment (signed in) ---------------------------------------------------

  pages.get('/me/passkeys', signedIn(dw), async (req, res) => {
    const passkeys = await dw.passkeys.list(req.principal.userId)
    const list = passkeys.map(passkeyItem).join('')
    page(
      res,
      'Your passkeys',
      `<p>Signed in as <strong>${escape(req.principal.username)}</strong>.</p>` +
        `<ul id="passkeys">${list}</ul>` +
        (passkeys.length ? '' : '<p id="no-passkeys">No passkeys yet.</p>') +
        '<form id="enrol"><label>Name <input name="name" value="This device" maxlength="64" required></label> ' +
        '<button type="submit">Add a passkey</button></form>' +
        '<p id="status" role="status"></p>' +
        `<p><a href="${ACCOUNT_PAGE}">Your account</a></p>` +
        `<script src="${SCRIPT}"></script>`,
      200,
      PASSKEY_CSP,
    )
  })

  api.post('/me/passkeys/options', signedIn(dw), async (req, res) => {
    const options = await dw.passkeys.startRegistration(req.principal.userId)
    res.set('Cache-Control', 'no-store').json(options)
  })

  api.post('/me/passkeys', signedIn(dw), async (req, res) => {
    const name = req.body && typeof req.body.name === 'string' ? req.body.name : null
    if (name === null) return invalid(res, 'name', 'name is required')
    const credential = objectField(req, 'credential')
    if (!credential) return invalid(res, 'credential', 'credential must be the object of credential.toJSON()')
    const passkey = await dw.passkeys.finishRegistration(req.principal.userId, credential, name)
    res.status(201).json({ passkey: passkeyView(passkey) })
  })

  // Removing one needs an authentication of the last few minutes
  // (freshAuthMaxAge): an older token is 401 step_up_required.
  api.delete('/me/passkeys/:id', signedIn(dw), async (req, res) => {
    await dw.passkeys.remove(req.accessToken, req.params.id)
    res.status(204).end()
  })

  // --- sign-in -------------------------------------------------------------------

  pages.get('/login/passkey', (req, res) => {
    page(
      res,
      'Sign in with a passkey',
      '<form id="sign-in"><label>Username (optional) ' +
        '<input name="username" autocomplete="username webauthn"></label> ' +
        '<button type="submit">Sign in with a passkey</button></form>' +
        '<p id="status" role="status"></p>' +
        '<p>Or <a href="/login/password">sign in with your password</a>.</p>' +
        `<script src="${SCRIPT}"></script>`,
      200,
      PASSKEY_CSP,
    )
  })

  // With a username, its passkeys; without (or for an unknown name), any
  // passkey of this site the browser holds (a discoverable credential).
  api.post('/login/passkey/options', async (req, res) => {
    await dw.limits.limit(`passkey-sign-in:${req.ip}`, OPTIONS_QUOTA)
    const username = req.body && typeof req.body.username === 'string' ? req.body.username : undefined
    const options = await dw.passkeys.startAuthentication(username)
    res.set('Cache-Control', 'no-store').json(options)
  })

  // A refused passkey is 401 invalid_credentials; an answer to no open
  // sign-in (or one finished already) 400 flow_invalid.
  api.post('/login/passkey', async (req, res) => {
    const credential = objectField(req, 'credential')
    if (!credential) return invalid(res, 'credential', 'credential must be the object of credential.toJSON()')
    const pair = await dw.passkeys.finishAuthentication(credential, clientInfo(req))
    startSession(req, res, pair)
    res.set('Cache-Control', 'no-store').json({ location: ACCOUNT_PAGE })
  })

  pages.use(signInFirst)
  pages.use(pageError)
  // The JSON routes' errors go on to the application's errorHandler().
  const router = express.Router()
  router.use(api)
  router.use(pages)
  return router
}

module.exports = { PASSKEY_CSP, SCRIPT, passkeyRoutes }

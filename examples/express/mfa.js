'use strict'
// Second factors: the enrolment page (the QR code an authenticator app
// scans), and the second step of a login. doorward makes the secret, the
// QR code and the recovery codes, checks every code and decides when a
// login needs one; these routes render and forward.
//
// When a login (POST /login, or a sign-in by email) answers an
// MfaChallenge, its flow id, which proves the password was right, is kept
// in an HttpOnly, SameSite=Strict cookie sent only to /login/mfa: no script
// can read it, no other site can post with it, and it never appears in a
// page or a JSON body. The code form posts there, and completeMfa turns it
// and the code into the session's tokens.
//
//   keepPendingLogin(req, res, challenge)  sets that cookie
//   secondFactorPage(res, { browser })     the code form
//   enrolmentPage(res, enrolment)          the QR code page
//   secondFactorPages(dw, clientInfo)      GET and POST /login/mfa

const express = require('express')
const { tokenResponse } = require('doorward')
const { PAGE_CSP, cookie, escape, form, page, pageError, text } = require('./pages.js')
const { ACCOUNT_PAGE, startSession } = require('./session.js')

/** The cookie that keeps a pending login, and the only path it is sent to. */
const PENDING_COOKIE = 'doorward_mfa'
const PENDING_PATH = '/login/mfa'

/**
 * The enrolment page's policy: the pages' own, plus images from this
 * origin or `data:` URIs, which is how the QR code comes; nothing else.
 */
const ENROLMENT_CSP = `${PAGE_CSP}; img-src 'self' data:`

/** The cookie's attributes (the same to set and to clear it). */
function pendingCookie(req) {
  return { httpOnly: true, sameSite: 'strict', secure: req.secure, path: PENDING_PATH }
}

/** Keeps `challenge.flowId` in the HttpOnly cookie for as long as the pending login lives. */
function keepPendingLogin(req, res, challenge) {
  res.cookie(PENDING_COOKIE, challenge.flowId, { ...pendingCookie(req), maxAge: challenge.expiresIn * 1000 })
}

/** The pending login's flow id from the cookie, or '' (which doorward refuses as flow_invalid). */
function pendingLogin(req) {
  return cookie(req, PENDING_COOKIE)
}

/**
 * The code form: a code from the authenticator app, or a recovery code.
 * `browser`: the login came from the password page (signin.js), so the
 * form's POST starts the browser session and goes on to /account rather
 * than answering the tokens.
 */
function secondFactorPage(res, { browser = false } = {}) {
  const hidden = browser ? { session: 'browser' } : {}
  const totp = form(PENDING_PATH, { method: 'totp', ...hidden }, [['code', 'text']], 'Sign in')
  const recovery = form(PENDING_PATH, { method: 'recovery_code', ...hidden }, [['code', 'text']], 'Use a recovery code')
  page(
    res,
    'Enter your code',
    `<p>Enter the code your authenticator app shows.</p>${totp}` +
      `<p>No access to the app? Each recovery code works once.</p>${recovery}`,
  )
}

/**
 * The enrolment page: the QR code (a `data:image/png` URI made by
 * doorward, so the page's policy allows `img-src data:`) and the secret to
 * type in instead. Nothing changes for logins until a code confirms it.
 */
function enrolmentPage(res, enrolment) {
  page(
    res,
    'Set up your authenticator app',
    '<p>Scan this code with your authenticator app:</p>' +
      `<p><img src="${escape(enrolment.qrCode)}" alt="QR code of your authenticator key" width="200" height="200"></p>` +
      `<p>Or type this key into the app: <code>${escape(enrolment.secret)}</code></p>` +
      '<p>Then confirm with the code the app shows (POST /me/mfa/totp/confirm) to get your recovery codes.</p>',
    200,
    ENROLMENT_CSP,
  )
}

/** GET /login/mfa, the code form, and its POST, which completes the pending login. */
function secondFactorPages(dw, clientInfo) {
  const router = express.Router()
  const posted = express.urlencoded({ extended: false, limit: '16kb' })

  router.get(PENDING_PATH, (req, res) => secondFactorPage(res))

  // The session's tokens, as /login gives them; or, for a login from the
  // password page (`session=browser`), the browser session's cookie and
  // the account page. A wrong code is a 401 page and the pending login
  // stays (doorward allows a few attempts, each counted towards the
  // lockout); a used or expired one is 400 / 410.
  router.post(PENDING_PATH, posted, async (req, res) => {
    const pair = await dw.completeMfa(pendingLogin(req), text(req.body, 'method'), text(req.body, 'code'), clientInfo(req))
    res.clearCookie(PENDING_COOKIE, pendingCookie(req))
    if (text(req.body, 'session') === 'browser') {
      startSession(req, res, pair)
      return res.redirect(303, ACCOUNT_PAGE)
    }
    res.set('Cache-Control', 'no-store').json(tokenResponse(pair))
  })

  router.use(pageError)
  return router
}

module.exports = { ENROLMENT_CSP, PENDING_COOKIE, enrolmentPage, keepPendingLogin, secondFactorPage, secondFactorPages }

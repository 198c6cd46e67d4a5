'use strict'
// Signing in from a browser with a password, the page a signed-in browser
// sees, and signing out. Each starts or ends the browser session of
// session.js (an HttpOnly cookie with the access token); passkeys.js
// starts the same session from a passkey.
//
//   GET  /login/password  the form (login, password), and a "Sign in with ..."
//                         link per configured provider (oauth.js)
//   POST /login/password  the session cookie, then 303 to /account; for an
//                         account with a second factor, the code form of
//                         mfa.js, whose POST does the same
//   GET  /account         "Signed in as <username>": how (amr, aal), links
//                         to the passkey page, the sign-in providers to link
//                         or unlink, a sign-out button (account-page.js)
//   POST /sign-out        logout, the cookie cleared, a "Signed out" page
//
//   signInPages(dw, clientInfo)  an Express router with these pages

const express = require('express')
const { DoorwardError } = require('doorward')
const { accountPage } = require('./account-page.js')
const { form, page, pageError, text } = require('./pages.js')
const { keepPendingLogin, secondFactorPage } = require('./mfa.js')
const { providerLinks } = require('./oauth.js')
const {
  ACCOUNT_PAGE,
  SIGN_IN_LINKS,
  endSession,
  sessionToken,
  signInFirst,
  signedIn,
  startSession,
} = require('./session.js')

function signInPages(dw, clientInfo) {
  const router = express.Router()
  const posted = express.urlencoded({ extended: false, limit: '16kb' })

  router.get('/login/password', (req, res) => {
    page(
      res,
      'Sign in',
      form('/login/password', {}, [['login', 'text'], ['password', 'password']], 'Sign in') +
        '<p>Or <a href="/login/passkey">sign in with a passkey</a>.</p>' +
        providerLinks(dw),
    )
  })

  router.post('/login/password', posted, async (req, res) => {
    const result = await dw.login(text(req.body, 'login'), text(req.body, 'password'), clientInfo(req))
    if (result.mfaRequired) {
      keepPendingLogin(req, res, result)
      return secondFactorPage(res, { browser: true })
    }
    startSession(req, res, result)
    res.redirect(303, ACCOUNT_PAGE)
  })

  router.get(ACCOUNT_PAGE, signedIn(dw), (req, res) => accountPage(res, dw, req.principal))

  // Ends the session; a token already expired or revoked has none to end.
  // The cookie goes either way.
  router.post('/sign-out', posted, async (req, res) => {
    const token = sessionToken(req)
    if (token) {
      await dw.logout(token).catch((err) => {
        if (!(err instanceof DoorwardError) || !err.code.startsWith('token_')) throw err
      })
    }
    endSession(req, res)
    page(res, 'Signed out', `<p>You are signed out.</p>${SIGN_IN_LINKS}`)
  })

  // A page without a session (or with an expired one) says how to get one.
  router.use(signInFirst)
  router.use(pageError)
  return router
}

module.exports = { signInPages }

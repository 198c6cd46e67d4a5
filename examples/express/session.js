'use strict'
// The browser session of the example's pages. The JSON API takes a bearer
// token, which a page cannot send on a navigation; so a sign-in from a
// page (the password page of signin.js, its second step at /login/mfa, or
// a passkey, passkeys.js) keeps the session's access token in a cookie
// instead:
//
//   doorward_session  HttpOnly (no script reads it), SameSite=Strict (no
//                     other site's page sends it, so no cross-site request
//                     acts with it), Path=/, Secure behind HTTPS, for the
//                     access token's lifetime (accessTtl, 15 minutes).
//
// Its refresh token is not kept: when the access token expires, the user
// signs in again. The token is doorward's like any other: verifyToken
// checks it on each request, logout (POST /sign-out) ends it.
//
//   startSession(req, res, pair)  sets the cookie
//   endSession(req, res)          clears it
//   sessionToken(req)             the cookie's token, or ''
//   signedIn(dw)                  middleware: req.principal and req.accessToken from a
//                                 bearer header or the cookie, else a 401 token_invalid
//   signInFirst                   error middleware of the pages: a 401 page with the
//                                 ways to sign in, for a missing or refused token

const { DoorwardError, bearerToken } = require('doorward')
const { cookie, page } = require('./pages.js')

const SESSION_COOKIE = 'doorward_session'
/** Where a browser goes once signed in: the page that shows who it is. */
const ACCOUNT_PAGE = '/account'

/** Links to the two ways in. */
const SIGN_IN_LINKS =
  '<p><a href="/login/password">Sign in with your password</a> or ' +
  '<a href="/login/passkey">sign in with a passkey</a>.</p>'

/** The cookie's attributes (the same to set and to clear it). */
function sessionCookie(req) {
  return { httpOnly: true, sameSite: 'strict', secure: req.secure, path: '/' }
}

/** Keeps `pair.accessToken` in the session cookie for as long as it lives. */
function startSession(req, res, pair) {
  res.cookie(SESSION_COOKIE, pair.accessToken, { ...sessionCookie(req), maxAge: pair.expiresIn * 1000 })
}

function endSession(req, res) {
  res.clearCookie(SESSION_COOKIE, sessionCookie(req))
}

function sessionToken(req) {
  return cookie(req, SESSION_COOKIE)
}

/**
 * Verifies the request's access token, from `Authorization: Bearer` (an
 * API client) or the session cookie (a page), and sets `req.principal` and
 * `req.accessToken`. Without one, or with one doorward refuses, the
 * request fails with a DoorwardError (401).
 */
function signedIn(dw) {
  return async function signedInOnly(req, res, next) {
    const token = bearerToken(req.get('authorization')) || sessionToken(req)
    if (!token) return next(new DoorwardError('sign in first', 'token_invalid'))
    req.principal = await dw.verifyToken(token)
    req.accessToken = token
    next()
  }
}

/** A page's answer to a missing, expired or revoked token: how to sign in. */
function signInFirst(err, req, res, next) {
  if (!(err instanceof DoorwardError) || !err.code.startsWith('token_')) return next(err)
  page(res, 'Sign in first', SIGN_IN_LINKS, 401)
}

module.exports = {
  ACCOUNT_PAGE,
  SESSION_COOKIE,
  SIGN_IN_LINKS,
  endSession,
  sessionToken,
  signInFirst,
  signedIn,
  startSession,
}

'use strict'
// Signing in with a provider (OAuth 2.0 / OpenID Connect: `oauthProviders`
// in doorward's configuration), and linking one to a signed-in account.
// doorward keeps each authorization server-side (PKCE, the nonce), trades
// the code, checks the ID token and decides which account it signs in;
// these routes redirect, keep the state in a cookie and forward the
// callback.
//
//   GET  /auth/:provider           302 to the provider, the state in the cookie below
//   GET  /auth/:provider/callback  the provider's answer: the browser session and
//                                  the account page; for an account with a second
//                                  factor, the code form of mfa.js; 409 when an
//                                  account has this identity's address already
//   POST /auth/:provider/callback  the same, for a provider that posts its answer
//                                  (Apple's form_post): the body is the callback
//   POST /auth/:provider/link      (session) link the provider to the signed-in
//                                  account: the same dance; its callback says "linked"
//   POST /auth/:provider/unlink    (session) unlink it, then 303 to /account
//
// The state of a sign-in in flight is kept in a cookie:
//
//   doorward_oauth  HttpOnly, SameSite=Lax (a provider's redirect back is a
//                   navigation from another site, which Lax cookies go
//                   along with and Strict ones do not), Path=/auth, Secure
//                   behind HTTPS, for the ten minutes a sign-in may take.
//
// doorward refuses a callback whose state is not the cookie's, so a
// callback started in another browser (a login CSRF) signs nobody in.
// Apple posts its answer from its own site, which no SameSite=Lax cookie
// accompanies: for a provider of kind `apple` the cookie is
// SameSite=None and Secure, which needs HTTPS (as Apple's redirect URIs
// do anyway).
//
//   oauthPages(dw, clientInfo)  an Express router with these routes
//   providerLinks(dw)           the sign-in page's "Sign in with ..." links
//
// The account page (account-page.js) lists the providers with their
// "Link" and "Unlink" buttons.

const express = require('express')
const { DoorwardError } = require('doorward')
const { cookie, escape, page, pageError } = require('./pages.js')
const { keepPendingLogin, secondFactorPage } = require('./mfa.js')
const { accountPage } = require('./account-page.js')
const { ACCOUNT_PAGE, SIGN_IN_LINKS, signInFirst, signedIn, startSession } = require('./session.js')

const STATE_COOKIE = 'doorward_oauth'
const STATE_PATH = '/auth'

/** The configured provider `id`, or undefined. */
function providerOf(dw, id) {
  return dw.oauth.providers().find((p) => p.id === id)
}

/** The state cookie's attributes (the same to set and to clear it). */
function stateCookie(req, provider) {
  const formPost = provider !== undefined && provider.kind === 'apple'
  return {
    httpOnly: true,
    sameSite: formPost ? 'none' : 'lax',
    secure: formPost || req.secure,
    path: STATE_PATH,
  }
}

/**
 * This app's callback for `provider`, as the browser reaches this app:
 * the redirect URI registered at the provider
 * (`http://localhost:3000/auth/<id>/callback`). Behind a proxy, tell
 * Express so (`app.set('trust proxy', ...)`), or req.protocol is `http`.
 */
function callbackUrl(req, provider) {
  return `${req.protocol}://${req.get('host')}${STATE_PATH}/${encodeURIComponent(provider)}/callback`
}

/** Keeps `start.state` in the cookie for as long as the authorization may take. */
function keepState(req, res, provider, start) {
  res.cookie(STATE_COOKIE, start.state, { ...stateCookie(req, provider), maxAge: start.expiresIn * 1000 })
}

/** The "Sign in with ..." links of the sign-in page: one per configured provider. */
function providerLinks(dw) {
  const providers = dw.oauth.providers()
  if (providers.length === 0) return ''
  const links = providers.map(
    (p) => `<a href="${STATE_PATH}/${escape(encodeURIComponent(p.id))}">Sign in with ${escape(p.name)}</a>`,
  )
  return `<p>${links.join(' · ')}</p>`
}

function oauthPages(dw, clientInfo) {
  const router = express.Router()
  /** The name sign-in buttons show for the provider `id`. */
  const nameOf = (id) => providerOf(dw, id)?.name ?? id
  const posted = express.urlencoded({ extended: false, limit: '16kb' })
  // A form post's body as it came: doorward reads the callback from it.
  const postedCallback = express.text({ type: 'application/x-www-form-urlencoded', limit: '16kb' })

  // Start: the provider's URL, the state in the cookie. An unknown
  // provider is a 422 page (validation_error on `provider`).
  router.get(`${STATE_PATH}/:provider`, async (req, res) => {
    const { provider } = req.params
    const start = await dw.oauth.authorizationUrl(provider, callbackUrl(req, provider))
    keepState(req, res, providerOf(dw, provider), start)
    res.set('Cache-Control', 'no-store').redirect(302, start.url)
  })

  // The provider's answer: the URL (or, posted, the body) is the callback,
  // and the cookie's state the one expected. The cookie goes either way:
  // a state is answered once.
  async function complete(req, res, callback) {
    const expected = cookie(req, STATE_COOKIE)
    res.clearCookie(STATE_COOKIE, stateCookie(req, providerOf(dw, req.params.provider)))
    const done = await dw.oauth.complete(callback, expected, clientInfo(req))
    const name = nameOf(done.provider)
    if (!done.login) {
      // A link's callback: it signs nobody in.
      return page(
        res,
        `${name} is linked`,
        `<p id="linked">Your ${escape(name)} account is linked: you can sign in with it from now on.</p>` +
          `<p><a href="${ACCOUNT_PAGE}">Your account</a></p>`,
      )
    }
    if (done.login.mfaRequired) {
      keepPendingLogin(req, res, done.login)
      return secondFactorPage(res, { browser: true })
    }
    // The account page itself rather than a redirect to it: this request
    // comes from the provider's site, and a browser keeps the session's
    // SameSite=Strict cookie from every request of a redirect that
    // started on another site, so /account would answer "Sign in first".
    startSession(req, res, done.login)
    const principal = await dw.verifyToken(done.login.accessToken)
    const how = done.newUser ? `Welcome! Your account was created with ${name}.` : `Signed in with ${name}.`
    await accountPage(res, dw, principal, `<p id="signed-in-with">${escape(how)}</p>`)
  }

  router.get(`${STATE_PATH}/:provider/callback`, (req, res) => complete(req, res, req.originalUrl))
  router.post(`${STATE_PATH}/:provider/callback`, postedCallback, (req, res) =>
    complete(req, res, typeof req.body === 'string' ? req.body : ''),
  )

  // Linking starts from the account page's form. A form's submission may
  // not be redirected to another site under the pages' `form-action
  // 'self'` (Chrome and Safari check the redirect too), so this answers a
  // page that goes on to the provider by itself (Refresh), with a link.
  router.post(`${STATE_PATH}/:provider/link`, posted, signedIn(dw), async (req, res) => {
    const { provider } = req.params
    const start = await dw.oauth.link(req.principal.userId, provider, callbackUrl(req, provider))
    keepState(req, res, providerOf(dw, provider), start)
    const name = nameOf(provider)
    res.set('Refresh', `0; url=${start.url}`)
    page(
      res,
      `Linking ${name}`,
      `<p>On to ${escape(name)}… <a id="continue" href="${escape(start.url)}">Continue to ${escape(name)}</a></p>`,
    )
  })

  // The account's last way in (no password, passkey or other provider)
  // cannot go: a 422 page.
  router.post(`${STATE_PATH}/:provider/unlink`, posted, signedIn(dw), async (req, res) => {
    await dw.oauth.unlink(req.principal.userId, req.params.provider)
    res.redirect(303, ACCOUNT_PAGE)
  })

  // An account has this identity or its address: sign in the other way,
  // then link the provider from the account page.
  router.use((err, req, res, next) => {
    if (!(err instanceof DoorwardError) || err.code !== 'account_exists') return next(err)
    const name = escape(nameOf(err.provider ?? req.params.provider))
    page(
      res,
      'You already have an account',
      `<p id="account-exists">An account with this ${name} identity or its email address exists already. ` +
        `Sign in with your password, then link ${name} from your account page.</p>${SIGN_IN_LINKS}`,
      409,
    )
  })
  router.use(signInFirst)
  router.use(pageError)
  return router
}

module.exports = { STATE_COOKIE, oauthPages, providerLinks }

'use strict'
// The account pages: verify an address, forgot and reset a password, sign
// in by email, confirm a change of address. doorward makes the links and
// codes, mails them and checks them; these routes only render forms and
// forward what is posted.
//
// A link from a mail is never consumed by a GET: the GET shows a form whose
// button POSTs it, so a mail scanner that opens every link (Outlook Safe
// Links and the like) cannot use it up before the user does. The pages are
// HTML with every value escaped, for browsers posting forms; a doorward
// error is a small page with the status the core gives its code.
//
//   accountPages(dw, clientInfo)  an Express router with the pages

const express = require('express')
const { DoorwardError, HTTP_STATUS, tokenResponse } = require('doorward')

/** HTML text: `&`, `<`, `>`, `"` and `'` escaped. */
function escape(value) {
  return String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}

/**
 * Every page: never cached (a link page holds its secret), no Referer
 * carrying a link's query anywhere, no script, forms posting here only.
 */
const PAGE_HEADERS = Object.freeze({
  'Cache-Control': 'no-store',
  'Referrer-Policy': 'no-referrer',
  'Content-Security-Policy': "default-src 'none'; form-action 'self'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
})

/** Answers a minimal HTML page. */
function page(res, title, body, status = 200) {
  res
    .status(status)
    .set(PAGE_HEADERS)
    .type('html')
    .send(
      '<!doctype html><html lang="en"><head><meta charset="utf-8">' +
        `<title>${escape(title)}</title></head><body><h1>${escape(title)}</h1>${body}</body></html>`,
    )
}

/** A POST form: hidden values, then labelled inputs `[name, type]`, then a button. */
function form(action, hidden, inputs, button) {
  const fields = Object.entries(hidden).map(
    ([name, value]) => `<input type="hidden" name="${escape(name)}" value="${escape(value)}">`,
  )
  for (const [name, type] of inputs) {
    fields.push(`<label>${escape(name)} <input name="${escape(name)}" type="${escape(type)}" required></label>`)
  }
  return `<form method="post" action="${escape(action)}">${fields.join('')}<button>${escape(button)}</button></form>`
}

/** A string field of a query or a form body; anything else (absent, repeated) is ''. */
function text(source, name) {
  const value = source && source[name]
  return typeof value === 'string' ? value : ''
}

/** The link's secret, or the code the user typed. */
function secretPosted(req) {
  return text(req.body, 'secret') || text(req.body, 'code')
}

/**
 * The GET of a mailed link: a button that posts its flow and secret, or,
 * without a secret (the user came to type the code), a code field.
 */
function confirmOrCode(req, action, button) {
  const flow = text(req.query, 'flow')
  const secret = text(req.query, 'secret')
  if (secret) return form(action, { flow, secret }, [], button)
  return form(action, { flow }, [['code', 'text']], button)
}

/**
 * A doorward error as a page with the core's status for its code (and
 * `Retry-After` on a 429); a server-side failure says no more than that.
 */
function pageError(err, req, res, next) {
  if (!(err instanceof DoorwardError)) return next(err)
  const status = HTTP_STATUS[err.code] ?? 500
  if (status === 429 && typeof err.retryAfter === 'number') {
    res.set('Retry-After', String(Math.max(1, Math.ceil(err.retryAfter))))
  }
  const message = status >= 500 ? 'Something went wrong on our side; try again later.' : err.message
  page(res, 'That did not work', `<p>${escape(message)}</p>`, status)
}

/** The account pages for an open Doorward; `clientInfo(req)` is where a request comes from. */
function accountPages(dw, clientInfo) {
  const router = express.Router()
  const posted = express.urlencoded({ extended: false, limit: '16kb' })

  router.get('/verify', (req, res) => {
    page(res, 'Confirm your address', confirmOrCode(req, '/verify', 'Confirm my address'))
  })

  router.post('/verify', posted, async (req, res) => {
    await dw.verifyEmail(text(req.body, 'flow'), secretPosted(req))
    page(res, 'Verified', '<p>Your email address is verified.</p>')
  })

  router.get('/forgot', (req, res) => {
    page(res, 'Forgot your password?', form('/forgot', {}, [['email', 'email']], 'Send a link'))
  })

  router.post('/forgot', posted, async (req, res) => {
    const flow = await dw.requestPasswordReset(text(req.body, 'email'), clientInfo(req))
    // The same page whether the address has an account or not.
    const codeForm = form('/reset', { flow: flow.flowId }, [['code', 'text'], ['password', 'password']], 'Reset')
    page(res, 'Check your mail', `<p>If an account uses this address, a mail is on its way.</p>${codeForm}`)
  })

  router.get('/reset', (req, res) => {
    const hidden = { flow: text(req.query, 'flow') }
    const inputs = [['password', 'password']]
    if (text(req.query, 'secret')) hidden.secret = text(req.query, 'secret')
    else inputs.unshift(['code', 'text'])
    page(res, 'Choose a new password', form('/reset', hidden, inputs, 'Set password'))
  })

  router.post('/reset', posted, async (req, res) => {
    await dw.resetPassword(text(req.body, 'flow'), secretPosted(req), text(req.body, 'password'))
    page(res, 'Password changed', '<p>Your password is changed. Sign in with it.</p>')
  })

  router.get('/sign-in/email', (req, res) => {
    if (text(req.query, 'flow')) {
      return page(res, 'Sign in', confirmOrCode(req, '/sign-in/email/complete', 'Sign me in'))
    }
    page(res, 'Sign in by email', form('/sign-in/email', {}, [['email', 'email']], 'Mail me'))
  })

  router.post('/sign-in/email', posted, async (req, res) => {
    const flow = await dw.requestSignIn(text(req.body, 'email'), clientInfo(req))
    const codeForm = form('/sign-in/email/complete', { flow: flow.flowId }, [['code', 'text']], 'Sign in')
    page(res, 'Check your mail', `<p>If an account uses this address, a mail is on its way.</p>${codeForm}`)
  })

  // The one page answering JSON: the session's tokens, as /login gives them.
  router.post('/sign-in/email/complete', posted, async (req, res) => {
    const pair = await dw.completeSignIn(text(req.body, 'flow'), secretPosted(req), clientInfo(req))
    res.set('Cache-Control', 'no-store').json(tokenResponse(pair))
  })

  router.get('/email-change', (req, res) => {
    page(res, 'Confirm your new address', confirmOrCode(req, '/email-change', 'Use this address'))
  })

  router.post('/email-change', posted, async (req, res) => {
    const user = await dw.users.confirmEmailChange(text(req.body, 'flow'), secretPosted(req))
    page(res, 'Address changed', `<p>Your address is now ${escape(user.email)}.</p>`)
  })

  // Errors of the routes above only; the JSON API keeps errorHandler().
  router.use(pageError)
  return router
}

module.exports = { accountPages, escape }

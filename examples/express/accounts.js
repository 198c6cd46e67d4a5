'use strict'
// The account pages: verify an address, forgot and reset a password, sign
// in by email (with the second-factor step of mfa.js when the account has
// one), confirm a change of address. doorward makes the links and codes,
// mails them and checks them; these routes only render forms and forward
// what is posted.
//
// A link from a mail is never consumed by a GET: the GET shows a form whose
// button POSTs it, so a mail scanner that opens every link (Outlook Safe
// Links and the like) cannot use it up before the user does. The pages are
// HTML with every value escaped, for browsers posting forms; a doorward
// error is a small page with the status the core gives its code.
//
//   accountPages(dw, clientInfo)  an Express router with the pages

const express = require('express')
const { tokenResponse } = require('doorward')
const { escape, form, page, pageError, text } = require('./pages.js')
const { keepPendingLogin, secondFactorPage } = require('./mfa.js')

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

  // The one page answering JSON: the session's tokens, as /login gives
  // them; or, for an account with a second factor, the code form of
  // mfa.js, the pending login kept in an HttpOnly cookie.
  router.post('/sign-in/email/complete', posted, async (req, res) => {
    const result = await dw.completeSignIn(text(req.body, 'flow'), secretPosted(req), clientInfo(req))
    if (result.mfaRequired) {
      keepPendingLogin(req, res, result)
      return secondFactorPage(res)
    }
    res.set('Cache-Control', 'no-store').json(tokenResponse(result))
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

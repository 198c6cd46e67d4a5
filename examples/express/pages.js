'use strict'
// The HTML of the example's pages (accounts.js, mfa.js, signin.js,
// passkeys.js): minimal pages with every value escaped, POST forms, the
// request's cookies, and doorward errors answered as a page with the
// status the core gives their code.

const { DoorwardError, HTTP_STATUS } = require('doorward')

/** HTML text: `&`, `<`, `>`, `"` and `'` escaped. */
function escape(value) {
  return String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}

/** Nothing loaded, no script or style, forms posting here only, no framing. */
const PAGE_CSP = "default-src 'none'; form-action 'self'; frame-ancestors 'none'"

/**
 * Every page: never cached (a link page holds its secret), no Referer
 * carrying a link's query anywhere, no script, forms posting here only.
 */
const PAGE_HEADERS = Object.freeze({
  'Cache-Control': 'no-store',
  'Referrer-Policy': 'no-referrer',
  'Content-Security-Policy': PAGE_CSP,
  'X-Content-Type-Options': 'nosniff',
})

/**
 * Answers a minimal HTML page with PAGE_HEADERS; `csp` replaces their
 * policy on a page that needs more (the enrolment page's QR code image).
 */
function page(res, title, body, status = 200, csp = PAGE_CSP) {
  res
    .status(status)
    .set(PAGE_HEADERS)
    .set('Content-Security-Policy', csp)
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

/** The value of the request's cookie `name`, or '' (absent, or not URI-decodable). */
function cookie(req, name) {
  for (const part of (req.get('cookie') || '').split(';')) {
    const [key, ...value] = part.trim().split('=')
    if (key !== name) continue
    try {
      return decodeURIComponent(value.join('='))
    } catch {
      return ''
    }
  }
  return ''
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

module.exports = { PAGE_CSP, cookie, escape, form, page, pageError, text }

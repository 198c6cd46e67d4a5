'use strict'
// Express / Connect middleware: plain (req, res, next) functions, no
// framework dependency.

/** The HTTP status that answers each error code (the core's table). */
const binding = require('./binding.js')
const HTTP_STATUS = Object.freeze(
  Object.fromEntries(binding.errorCodes().map((code) => [code, binding.httpStatus(code)])),
)

function doorwardError(message, code) {
  // Loaded lazily: index.js requires this file while it is being built.
  const { DoorwardError } = require('./index.js')
  return new DoorwardError(message, code)
}

/** The token of an `Authorization: Bearer <token>` header value, or null. */
function bearerToken(header) {
  if (typeof header !== 'string') return null
  const [scheme, ...rest] = header.trim().split(/\s+/)
  const token = rest.join(' ')
  return scheme && scheme.toLowerCase() === 'bearer' && token ? token : null
}

/**
 * Verifies the request's bearer token with `dw` and sets `req.principal`
 * (and `req.accessToken`). Without a valid token the request fails with
 * a `DoorwardError` (401), unless `optional` is set.
 */
function authenticate(dw, { optional = false } = {}) {
  if (!dw || typeof dw.verifyToken !== 'function') {
    throw new TypeError('authenticate(dw) needs an open Doorward')
  }
  return function doorwardAuthenticate(req, res, next) {
    req.doorward = dw
    const token = bearerToken(req.headers && req.headers.authorization)
    if (!token) {
      if (optional) return next()
      const err = doorwardError('a bearer access token is required', 'token_invalid')
      err.missingToken = true
      return next(err)
    }
    dw.verifyToken(token).then(
      (principal) => {
        req.accessToken = token
        req.principal = principal
        next()
      },
      (err) => (optional && err && typeof err.code === 'string' && err.code.startsWith('token_') ? next() : next(err)),
    )
  }
}

/**
 * Admits only requests whose principal (set by `authenticate`) holds
 * `permission`: 401 without a principal, 403 without the permission.
 */
function requirePermission(permission) {
  return function doorwardRequirePermission(req, res, next) {
    if (!req.principal || !req.doorward) {
      const err = doorwardError('a bearer access token is required', 'token_invalid')
      err.missingToken = true
      return next(err)
    }
    req.doorward.require(req.principal.userId, String(permission)).then(() => next(), next)
  }
}

/**
 * An Express error handler answering a DoorwardError with the core's HTTP
 * answer to it (the same in every language): its status, `WWW-Authenticate`
 * per RFC 6750 on a 401, `Retry-After` on a 429, and
 * `{ error: { code, message, field } }`, where server-side failures say no
 * more than their code. Other errors go on to `next`.
 */
function errorHandler() {
  // Four parameters: how Express recognises an error handler.
  return function doorwardErrorHandler(err, req, res, next) {
    const { DoorwardError } = require('./index.js')
    if (!(err instanceof DoorwardError)) return next(err)
    const answer = binding.httpErrorResponse({
      code: String(err.code),
      message: String(err.message),
      field: typeof err.field === 'string' ? err.field : undefined,
      retryAfter: typeof err.retryAfter === 'number' ? err.retryAfter : undefined,
      missingToken: err.missingToken === true,
    })
    for (const [name, value] of Object.entries(answer.headers)) res.setHeader(name, value)
    res.statusCode = answer.status
    res.setHeader('Content-Type', 'application/json; charset=utf-8')
    res.end(answer.body)
  }
}

module.exports = { HTTP_STATUS, authenticate, bearerToken, errorHandler, requirePermission }

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
 * An Express error handler answering a DoorwardError with its HTTP status
 * and `{ error: { code, message, field } }`; other errors go on to `next`.
 * Server-side failures say no more than their code.
 */
function errorHandler() {
  // Four parameters: how Express recognises an error handler.
  return function doorwardErrorHandler(err, req, res, next) {
    const { DoorwardError } = require('./index.js')
    if (!(err instanceof DoorwardError)) return next(err)
    const status = HTTP_STATUS[err.code] || 500
    if (status === 401) {
      const refused = err.code.startsWith('token_') && !err.missingToken
      res.setHeader('WWW-Authenticate', refused ? 'Bearer error="invalid_token"' : 'Bearer')
    }
    if (status === 429 && typeof err.retryAfter === 'number') {
      res.setHeader('Retry-After', String(Math.max(1, Math.ceil(err.retryAfter))))
    }
    const message = status >= 500 ? 'the server could not complete the request' : err.message
    res.statusCode = status
    res.setHeader('Content-Type', 'application/json; charset=utf-8')
    res.end(JSON.stringify({ error: { code: err.code, message, field: err.field ?? null } }))
  }
}

module.exports = { HTTP_STATUS, authenticate, bearerToken, errorHandler, requirePermission }

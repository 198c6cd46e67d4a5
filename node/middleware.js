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

/** Consoles kept per mount path: a mount with a parameter keeps a bounded number. */
const CONSOLES_KEPT = 16

/**
 * The admin console as Express / Connect middleware:
 * `app.use('/admin', consoleMiddleware(dw))`. It answers every request
 * under its mount (the page at `/admin/`, its files, its JSON API under
 * `/admin/api/`): everything it does is the Rust router's, the one
 * `doorward console` serves; this only carries the request over and
 * writes the answer back.
 *
 * The mount path is `req.baseUrl` (Express; Connect's is worked out from
 * `req.originalUrl`), the path the whole `req.originalUrl`, the headers
 * `req.rawHeaders` as they came (the cookies' `Secure` and `__Host-` depend
 * on `Host` and `X-Forwarded-Proto`), and the client's address `req.ip`
 * (which follows Express's `trust proxy`) or the socket's. The body is
 * read from the request, at most `Console.MAX_BODY` bytes (413 past it,
 * the rest never kept); after a body parser (`express.json()`) has read
 * it, its result is handed over instead, JSON again. A mount path the
 * console cannot live under (not a plain path) is a 500 `config_error`.
 */
function consoleMiddleware(dw) {
  // Loaded lazily, as index.js requires this file while it is being built;
  // the Console checks `dw` itself.
  const { Console } = require('./lib/console.js')
  const consoles = new Map()
  const consoleAt = (prefix) => {
    let console_ = consoles.get(prefix)
    if (!console_) {
      console_ = new Console(dw, prefix)
      if (consoles.size >= CONSOLES_KEPT) consoles.delete(consoles.keys().next().value)
      consoles.set(prefix, console_)
    }
    return console_
  }
  consoleAt('')
  return function doorwardConsole(req, res, next) {
    const original = typeof req.originalUrl === 'string' ? req.originalUrl : req.url
    const prefix = mountPath(req, original)
    let console_
    try {
      console_ = consoleAt(prefix)
    } catch (err) {
      if (err && err.code === 'validation_error') {
        return answerError(res, 500, 'config_error', 'the console cannot be mounted here')
      }
      return next(err)
    }
    const headers = []
    if (Array.isArray(req.rawHeaders)) {
      for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) headers.push([req.rawHeaders[i], req.rawHeaders[i + 1]])
    } else {
      // A request object made by hand: its parsed headers.
      for (const [name, value] of Object.entries(req.headers || {})) {
        for (const one of [].concat(value)) headers.push([name, String(one)])
      }
    }
    requestBody(req, headers, Console.MAX_BODY)
      .then((body) => {
        if (body === null) return tooLarge(res)
        return console_
          .handle({
            method: req.method,
            path: original,
            headers,
            body,
            clientIp: typeof req.ip === 'string' ? req.ip : req.socket && req.socket.remoteAddress,
          })
          .then((answer) => {
            const grouped = new Map()
            for (const [name, value] of answer.headers) {
              if (!grouped.has(name)) grouped.set(name, [])
              grouped.get(name).push(value)
            }
            res.statusCode = answer.status
            for (const [name, values] of grouped) {
              res.setHeader(name, values.length === 1 && name !== 'set-cookie' ? values[0] : values)
            }
            res.end(answer.body)
          })
      })
      .catch(next)
  }
}

/** The path the console is mounted at, without a trailing slash. */
function mountPath(req, original) {
  if (typeof req.baseUrl === 'string') return req.baseUrl.replace(/\/+$/, '')
  // Connect: its mount takes the prefix off `req.url`, not off `originalUrl`.
  const whole = original.split('?')[0]
  const rest = (req.url || '/').split('?')[0]
  const prefix = rest !== '/' && whole.endsWith(rest) ? whole.slice(0, whole.length - rest.length) : whole
  return prefix.replace(/\/+$/, '')
}

/**
 * The request's body as a Buffer, or null when it is over `limit`: one
 * whose Content-Length says so is not read at all, and of one sent in
 * chunks nothing past the limit is kept. What a body parser already read is taken from `req.body`
 * (a Buffer or a string as they were, anything else as JSON), and the
 * headers then give its new length.
 */
function requestBody(req, headers, limit) {
  if (req.readableEnded || req._body === true) {
    const body = req.body
    let bytes
    if (body === undefined || body === null) bytes = Buffer.alloc(0)
    else if (Buffer.isBuffer(body)) bytes = body
    else if (typeof body === 'string') bytes = Buffer.from(body)
    else bytes = Buffer.from(JSON.stringify(body))
    const kept = headers.filter(([name]) => !['content-length', 'transfer-encoding'].includes(name.toLowerCase()))
    headers.length = 0
    headers.push(...kept, ['content-length', String(bytes.length)])
    return Promise.resolve(bytes.length > limit ? null : bytes)
  }
  const declared = Number((req.headers || {})['content-length'])
  if (Number.isFinite(declared) && declared > limit) return Promise.resolve(null)
  return new Promise((resolve, reject) => {
    const chunks = []
    let size = 0
    const finish = (value, err) => {
      req.off('data', onData)
      req.off('end', onEnd)
      req.off('error', onError)
      if (err) reject(err)
      else resolve(value)
    }
    const onData = (chunk) => {
      size += chunk.length
      if (size > limit) {
        finish(null)
        // The rest is let through unkept, so the connection ends cleanly
        // once the 413 is written (Connection: close) rather than reset.
        return req.resume()
      }
      chunks.push(chunk)
    }
    const onEnd = () => finish(Buffer.concat(chunks))
    const onError = (err) => finish(undefined, err)
    req.on('data', onData)
    req.on('end', onEnd)
    req.on('error', onError)
  })
}

/** 413 in the console's error shape; the connection closes rather than read the rest. */
function tooLarge(res) {
  res.setHeader('Connection', 'close')
  answerError(res, 413, 'validation_error', 'the body is larger than the console reads', 'body')
}

/** An answer the console's router never saw, in its error shape. */
function answerError(res, status, code, message, field) {
  const answer = binding.httpErrorResponse({ code, message, field })
  res.statusCode = status
  res.setHeader('Content-Type', 'application/json')
  res.setHeader('Cache-Control', 'no-store')
  res.setHeader('X-Content-Type-Options', 'nosniff')
  res.end(answer.body)
}

module.exports = { HTTP_STATUS, authenticate, bearerToken, consoleMiddleware, errorHandler, requirePermission }

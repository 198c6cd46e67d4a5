'use strict'
// The doorward package for Node.js: the native addon (binding.js, built by
// `npm run build`), with its errors turned into DoorwardError, its token
// pairs, webhooks, users and mail messages made safe to log, event subscriptions and
// streams (events.js), and the Express/Connect middleware.

const { inspect } = require('node:util')
const binding = require('./binding.js')

binding._exportSpansAtExit()

const CODES = Object.freeze(binding.errorCodes())

/** Any doorward failure; `code` is the stable machine code. */
class DoorwardError extends Error {
  constructor(message, code, field, retryAfter) {
    super(message)
    this.name = 'DoorwardError'
    this.code = code
    if (field != null) this.field = field
    if (retryAfter != null) this.retryAfter = retryAfter
  }
}

// N-API's argument checks, by the status napi-rs puts in `code`.
const ARGUMENT_ERRORS = new Set([
  'InvalidArg',
  'ObjectExpected',
  'StringExpected',
  'NameExpected',
  'FunctionExpected',
  'NumberExpected',
  'BooleanExpected',
  'ArrayExpected',
  'BigintExpected',
  'DateExpected',
])

const MARKER = '{"doorward":'

/** The error a caller should see for an error of the addon. */
function convert(err) {
  if (err instanceof Error && typeof err.message === 'string' && err.message.startsWith(MARKER)) {
    const { code, message, field, retryAfter } = JSON.parse(err.message).doorward
    return new DoorwardError(message, code, field, retryAfter)
  }
  if (err instanceof Error && ARGUMENT_ERRORS.has(err.code)) {
    const type = new TypeError(err.message)
    type.code = 'ERR_INVALID_ARG_TYPE'
    return type
  }
  return err
}

const isObject = (v) => v !== null && typeof v === 'object' && !(v instanceof Date)

function hideFromInspect(obj, shown) {
  Object.defineProperty(obj, inspect.custom, {
    value(depth, options, show) {
      const name = shown.name
      return `${name} ${show(shown.fields(this), options)}`
    },
    enumerable: false,
  })
}

/**
 * Results by shape: a token pair keeps its tokens, and a webhook its
 * secret, out of JSON.stringify, spreads and util.inspect (read them as
 * properties); a user keeps its email, and a mail message its recipient
 * and body, out of util.inspect.
 */
function harden(value) {
  if (Array.isArray(value)) {
    value.forEach(harden)
    return value
  }
  if (!isObject(value) || Object.getPrototypeOf(value) !== Object.prototype) return value
  for (const key of Object.keys(value)) harden(value[key])
  if (typeof value.accessToken === 'string' && typeof value.refreshToken === 'string') {
    for (const key of ['accessToken', 'refreshToken']) {
      Object.defineProperty(value, key, { enumerable: false })
    }
    hideFromInspect(value, {
      name: 'TokenPair',
      fields: (p) => ({ tokenType: p.tokenType, expiresIn: p.expiresIn, accessToken: '[hidden]', refreshToken: '[hidden]' }),
    })
  } else if (typeof value.secret === 'string' && typeof value.url === 'string' && /^wh_/.test(value.id)) {
    Object.defineProperty(value, 'secret', { enumerable: false })
    hideFromInspect(value, {
      name: 'Webhook',
      fields: (w) => ({ ...w, secret: '[hidden]' }),
    })
  } else if (
    typeof value.to === 'string' &&
    typeof value.subject === 'string' &&
    typeof value.text === 'string' &&
    typeof value.from === 'string'
  ) {
    hideFromInspect(value, {
      name: 'Message',
      fields: (m) => ({ ...m, to: '[hidden]', text: '[hidden]' }),
    })
  } else if (typeof value.email === 'string' && typeof value.username === 'string') {
    hideFromInspect(value, {
      name: 'User',
      fields: (u) => {
        const { email, ...rest } = u
        return { ...rest, email: '[hidden]' }
      },
    })
  }
  return value
}

// Per class of the addon: the methods that return a value rather than a
// Promise, and which argument of a method is an options object (N-API
// reads properties of whatever it is given, so a string there would pass
// as `{}`).
const CLASSES = {
  Doorward: { sync: ['jwks'], objectAt: { registerUser: 3, login: 2, issueTokens: 1 } },
  Users: { objectAt: { update: 1 } },
  Roles: {},
  Sessions: {},
  Limits: {},
  PasswordHasher: {},
  Files: { objectAt: { list: 0 } },
  Events: { objectAt: { subscribe: 1, list: 0, deliveries: 0 } },
  Webhooks: {},
  Audit: { objectAt: { list: 0, export: 0 } },
  Mail: { sync: ['sent'] },
  Subscription: { sync: ['close'] },
}

function argumentError(message) {
  const err = new TypeError(message)
  err.code = 'ERR_INVALID_ARG_TYPE'
  return err
}

function wrap(fn, sync, name, objectAt) {
  return function doorwardCall(...args) {
    let out
    try {
      const arg = objectAt === undefined ? undefined : args[objectAt]
      if (arg != null && (typeof arg !== 'object' || Array.isArray(arg))) {
        throw argumentError(`argument ${objectAt + 1} of ${name} must be an object`)
      }
      out = fn.apply(this, args)
    } catch (err) {
      // An argument the addon refused: a Promise-returning method says so
      // by rejecting, as it would for any other failure.
      if (sync) throw convert(err)
      return Promise.reject(convert(err))
    }
    if (out && typeof out.then === 'function') {
      return out.then(harden, (err) => {
        throw convert(err)
      })
    }
    return harden(out)
  }
}

// Patch each class of the addon once, so every instance (and every
// sub-API a getter returns) converts errors and hardens results.
for (const [className, { sync = [], objectAt = {} }] of Object.entries(CLASSES)) {
  const cls = binding[className]
  for (const name of Object.getOwnPropertyNames(cls.prototype)) {
    const descriptor = Object.getOwnPropertyDescriptor(cls.prototype, name)
    if (name === 'constructor' || typeof descriptor.value !== 'function') continue
    const value = wrap(descriptor.value, sync.includes(name), name, objectAt[name])
    Object.defineProperty(cls.prototype, name, { ...descriptor, value })
  }
}

// Subscriptions call JavaScript handlers; dw.events.stream() iterates.
const { EventStream } = require('./events.js').install(binding, { harden, argumentError })

/**
 * Open the store the configuration names (migrating it and seeding the
 * built-in roles): an object with camelCase keys, or a TOML file path.
 */
Object.defineProperty(binding.Doorward, 'open', { value: wrap(binding._open, false), enumerable: false })

/**
 * Argon2id hashing with the core's parameters and caps, off the event
 * loop. A subclass only so that a bad option throws a DoorwardError (or a
 * TypeError), like every other call.
 */
class PasswordHasher extends binding.PasswordHasher {
  constructor(options) {
    if (options != null && (typeof options !== 'object' || Array.isArray(options))) {
      throw argumentError('PasswordHasher options must be an object')
    }
    try {
      super(options)
    } catch (err) {
      throw convert(err)
    }
  }
}

/** The OAuth 2.0 token response body (RFC 6749 §5.1) for a token pair. */
function tokenResponse(pair) {
  return {
    access_token: pair.accessToken,
    refresh_token: pair.refreshToken,
    token_type: pair.tokenType,
    expires_in: pair.expiresIn,
  }
}

/** Every stable error code, in documentation order. */
function errorCodes() {
  return [...CODES]
}

const EVENT_TYPES = Object.freeze(binding.eventTypes())

/** Every event type name, in the core's order. */
function eventTypes() {
  return [...EVENT_TYPES]
}

const _panicForTests = wrap(binding._panicForTests, false)

module.exports = {
  Doorward: binding.Doorward,
  Users: binding.Users,
  Roles: binding.Roles,
  Sessions: binding.Sessions,
  Limits: binding.Limits,
  Files: binding.Files,
  Events: binding.Events,
  EventStream,
  Subscription: binding.Subscription,
  Webhooks: binding.Webhooks,
  Audit: binding.Audit,
  Mail: binding.Mail,
  PasswordHasher,
  DoorwardError,
  errorCodes,
  eventTypes,
  tokenResponse,
  _panicForTests,
  ...require('./middleware.js'),
}

'use strict'
// The doorward package for Node.js: the native addon (binding.js, built by
// `npm run build`) behind the wrapper classes of lib/ (TypeScript, compiled
// by the same build), one per sub-API, and the Express/Connect middleware,
// the admin console's among them.

require('./binding.js')._exportSpansAtExit()

const { Doorward, tokenResponse, _panicForTests } = require('./lib/client.js')
const { DoorwardError, errorCodes } = require('./lib/errors.js')
const { Events, Subscription, eventTypes } = require('./lib/events.js')

module.exports = {
  Doorward,
  Users: require('./lib/users.js').Users,
  Roles: require('./lib/roles.js').Roles,
  Sessions: require('./lib/sessions.js').Sessions,
  Limits: require('./lib/limits.js').Limits,
  Files: require('./lib/files.js').Files,
  Events,
  EventStream: require('./lib/stream.js').EventStream,
  Subscription,
  Webhooks: require('./lib/webhooks.js').Webhooks,
  Audit: require('./lib/audit.js').Audit,
  Mail: require('./lib/mail.js').Mail,
  Mfa: require('./lib/mfa.js').Mfa,
  Passkeys: require('./lib/passkeys.js').Passkeys,
  OAuth: require('./lib/oauth.js').OAuth,
  PasswordHasher: require('./lib/password.js').PasswordHasher,
  Console: require('./lib/console.js').Console,
  DoorwardError,
  errorCodes,
  eventTypes,
  tokenResponse,
  // The package's version, the one every doorward package shares (scripts/version).
  version: require('./package.json').version,
  _panicForTests,
  ...require('./middleware.js'),
}

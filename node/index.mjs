// ES module entry: the same objects as the CommonJS entry.
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const doorward = require('./index.js')

export const {
  Doorward,
  Users,
  Roles,
  Sessions,
  Limits,
  Files,
  Events,
  EventStream,
  Subscription,
  Webhooks,
  Audit,
  Mail,
  Mfa,
  Passkeys,
  OAuth,
  PasswordHasher,
  Console,
  DoorwardError,
  errorCodes,
  eventTypes,
  tokenResponse,
  HTTP_STATUS,
  authenticate,
  bearerToken,
  consoleMiddleware,
  errorHandler,
  requirePermission,
  version,
  _panicForTests,
} = doorward
export default doorward

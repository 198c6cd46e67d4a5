'use strict'
// The CommonJS entry, and the ES module entry reached from CommonJS by a
// dynamic import: the same objects, so a DoorwardError from one is an
// instance of the other's class.

const { test } = require('node:test')
const assert = require('node:assert/strict')

const cjs = require('../index.js')
const { open, rejectsWith } = require('./helpers.js')

test('require("doorward") (self-reference) is require("../index.js")', () => {
  assert.equal(require('doorward'), cjs)
  assert.equal(require.resolve('doorward'), require.resolve('../index.js'))
})

test('import("doorward") from CommonJS gives the same objects', async () => {
  const esm = await import('doorward')
  assert.equal(esm.default, cjs)
  for (const name of ['Doorward', 'Users', 'Roles', 'Sessions', 'Limits', 'PasswordHasher', 'DoorwardError', 'errorCodes', 'tokenResponse', 'HTTP_STATUS', 'authenticate', 'bearerToken', 'errorHandler', 'requirePermission']) {
    assert.ok(name in esm, `${name} is a named ESM export`)
    assert.equal(esm[name], cjs[name], `${name} is the same object`)
  }
  const dw = await esm.Doorward.open({ databaseUrl: 'memory://', jwtSecret: 'x'.repeat(32) })
  const err = await rejectsWith(dw.verifyToken('nope'), 'token_invalid')
  assert.ok(err instanceof esm.DoorwardError)
  const other = await open()
  assert.ok(other instanceof esm.Doorward, 'instances opened through either entry are of one class')
})

// The ES module entry (`import ... from 'doorward'`, the package resolving
// itself through its "exports") gives the very objects of the CommonJS
// entry, and works on its own.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'

import doorwardDefault, * as esm from 'doorward'
import { Doorward, DoorwardError, PasswordHasher, authenticate, errorCodes, tokenResponse } from 'doorward'

const require = createRequire(import.meta.url)
const cjs = require('../index.js')
const { CHEAP, PASSWORD, rejectsWith } = require('./helpers.js')

test('the ESM entry resolves to index.mjs and re-exports the CommonJS objects', () => {
  assert.equal(import.meta.resolve('doorward'), new URL('../index.mjs', import.meta.url).href)
  assert.equal(doorwardDefault, cjs, 'the default export is the CommonJS module')
  assert.equal(require('doorward'), cjs, 'require("doorward") is index.js')
  for (const name of Object.keys(esm)) {
    if (name === 'default') continue
    assert.equal(esm[name], cjs[name], `${name} is the same object in both entries`)
  }
  assert.equal(Doorward, cjs.Doorward)
  assert.equal(DoorwardError, cjs.DoorwardError)
  assert.equal(Doorward.open, cjs.Doorward.open)
})

test('every public CommonJS export is a named ESM export', () => {
  const publicNames = Object.keys(cjs).filter((n) => !n.startsWith('_'))
  const missing = publicNames.filter((n) => !(n in esm))
  assert.deepEqual(missing, [], `named exports missing from index.mjs: ${missing.join(', ')}`)
})

test(
  '_panicForTests, declared in index.d.ts, is a named export of index.mjs',
  () => {
    assert.equal(esm._panicForTests, cjs._panicForTests)
  },
)

test('a flow through the ESM entry', async () => {
  const dw = await Doorward.open({ ...CHEAP })
  assert.ok(dw instanceof cjs.Doorward)
  const reg = await dw.registerUser('esm', 'esm@example.com', PASSWORD)
  const principal = await dw.verifyToken(reg.tokens.accessToken)
  assert.equal(principal.userId, reg.user.id)
  const err = await rejectsWith(dw.login('esm', 'not the password'), 'invalid_credentials')
  assert.ok(err instanceof DoorwardError, 'an ESM-imported DoorwardError matches')
  assert.ok(err instanceof cjs.DoorwardError)
  assert.equal(tokenResponse(reg.tokens).access_token, reg.tokens.accessToken)
  assert.deepEqual(errorCodes(), cjs.errorCodes())
  assert.equal(typeof authenticate(dw), 'function')
  const hasher = new PasswordHasher({ memoryKib: 64, iterations: 1 })
  assert.ok(hasher instanceof cjs.PasswordHasher)
  assert.equal(await hasher.verify('x', await hasher.hash('x')), true)
})

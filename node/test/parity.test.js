'use strict'
// What the Node package exports against tests/api.json, the manifest of
// public operations that every language's suite checks its own surface with
// (its `about` says how). Names are the manifest's in camelCase. Read from
// the exported classes' prototypes and from the sub-APIs an open Doorward
// hands out, so it holds whatever shape the classes take (the addon's own,
// or wrappers around it).

const { test } = require('node:test')
const assert = require('node:assert/strict')

const MANIFEST = require('../../tests/api.json')
const doorward = require('../index.js')
const { open } = require('./helpers.js')

const camel = (name) => name.replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase())
const pascal = (name) => camel(name).replace(/^./, (c) => c.toUpperCase())
/**
 * The exported class of `api`: its Rust type's name when that spells the
 * API's name in another case (`OAuth` for `oauth`), else the API's name in
 * PascalCase.
 */
const className = (api) =>
  (MANIFEST.apis[api].rust ?? []).find((name) => name.toLowerCase() === pascal(api).toLowerCase()) ?? pascal(api)

/** Whether Node has `operation` of `api` (or `api` itself). */
function has(api, operation) {
  return MANIFEST.differences.every((d) => {
    const applies = d.api === api && (d.operation === undefined || d.operation === operation)
    return !applies || d.in.includes('node')
  })
}

/**
 * The Node names of `api`: its operations Node has, and on the root its
 * sub-API getters. Constructors are each language's own way to build (a
 * static `open`, or `new`), checked apart.
 */
function expected(api) {
  const spec = MANIFEST.apis[api]
  const names = spec.operations.filter((op) => has(api, op))
  if (spec.reached === 'root') {
    for (const [name, sub] of Object.entries(MANIFEST.apis)) {
      if (sub.reached === 'accessor' && has(name)) names.push(name)
    }
  }
  return new Set(names.map(camel))
}

/** The public methods and getters along a prototype chain. */
function names(proto) {
  const out = new Set()
  for (let p = proto; p && p !== Object.prototype && p !== Function.prototype; p = Object.getPrototypeOf(p)) {
    for (const name of Object.getOwnPropertyNames(p)) {
      if (name !== 'constructor' && !name.startsWith('_')) out.add(name)
    }
  }
  return out
}

function compare(label, api, proto) {
  const want = expected(api)
  const got = names(proto)
  const missing = [...want].filter((n) => !got.has(n))
  const extra = [...got].filter((n) => !want.has(n))
  assert.deepEqual(
    missing,
    [],
    `${label} lacks ${missing.join(', ')}: tests/api.json lists them for Node (add them to the binding, or a difference with its reason)`,
  )
  assert.deepEqual(
    extra,
    [],
    `${label} has ${extra.join(', ')}, which tests/api.json does not give Node (list them in apis.${api}.operations, with a difference if other languages lack them)`,
  )
}

test('Doorward and each sub-API it hands out have the operations of tests/api.json', async () => {
  const Doorward = doorward.Doorward
  assert.equal(typeof Doorward, 'function', 'Doorward is exported')
  assert.equal(typeof Doorward[camel(MANIFEST.apis.doorward.constructor)], 'function', 'Doorward.open')
  compare('Doorward', 'doorward', Doorward.prototype)
  const dw = await open()
  for (const [api, spec] of Object.entries(MANIFEST.apis)) {
    if (spec.reached !== 'accessor' || !has(api)) continue
    const sub = dw[camel(api)]
    assert.ok(sub !== null && typeof sub === 'object', `dw.${camel(api)} is a sub-API`)
    const Class = doorward[className(api)]
    assert.equal(typeof Class, 'function', `${className(api)} is exported`)
    assert.ok(sub instanceof Class, `dw.${camel(api)} is a ${className(api)}`)
    compare(`dw.${camel(api)} (${className(api)})`, api, Object.getPrototypeOf(sub))
  }
})

test('each class the host constructs or receives has the operations of tests/api.json', () => {
  for (const [api, spec] of Object.entries(MANIFEST.apis)) {
    if (spec.reached === 'root' || spec.reached === 'accessor' || !has(api)) continue
    const Class = doorward[className(api)]
    assert.equal(typeof Class, 'function', `${className(api)} is exported (tests/api.json: ${api})`)
    compare(className(api), api, Class.prototype)
  }
})

test('what tests/api.json keeps from Node is not exported', () => {
  for (const [api, spec] of Object.entries(MANIFEST.apis)) {
    if (spec.reached !== 'root' && !has(api)) {
      assert.equal(doorward[className(api)], undefined, `${className(api)} is exported: say so in tests/api.json`)
    }
  }
})

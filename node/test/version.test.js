'use strict'
// One version for every package: the Node package's `version` is its
// package.json's, which is the Cargo workspace's (the version of the
// crates, of `doorward --version` and of the Python package).
// scripts/version checks and sets them all.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')

const doorward = require('../index.js')

const ROOT = path.join(__dirname, '..', '..')

/** `version` of Cargo.toml's [workspace.package] table. */
function workspaceVersion() {
  const text = fs.readFileSync(path.join(ROOT, 'Cargo.toml'), 'utf8')
  const table = text.split(/^\[workspace\.package\][ \t]*$/m)[1]
  assert.ok(table !== undefined, 'Cargo.toml has a [workspace.package] table')
  const found = table.split(/^\[/m)[0].match(/^version[ \t]*=[ \t]*"([^"]+)"/m)
  assert.ok(found, 'Cargo.toml [workspace.package] sets version')
  return found[1]
}

test('version is the package.json version', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8'))
  assert.equal(typeof doorward.version, 'string')
  assert.equal(doorward.version, pkg.version)
  assert.equal(doorward.version, require('doorward/package.json').version)
})

test('version is the Cargo workspace version (the crates, the CLI, the Python package)', () => {
  assert.equal(
    doorward.version,
    workspaceVersion(),
    'node/package.json and Cargo.toml disagree: scripts/version X.Y.Z sets every place',
  )
})

test('the ES module entry exports the same version', async () => {
  const esm = await import('doorward')
  assert.equal(esm.version, doorward.version)
  assert.equal(esm.default.version, doorward.version)
})

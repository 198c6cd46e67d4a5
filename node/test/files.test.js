'use strict'
// dw.files on every backend the configuration can name: memory://, a
// temporary folder (file:///dir) and S3 (the loopback moto server, skipped
// unless reachable). The same calls, the same answers.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')

const { Files } = require('../index.js')
const { httpRequest, open, rejectsWith, rejectsWithTypeError, s3Config, tempDir } = require('./helpers.js')

/** Each backend as a test-context → config overrides function (null: skipped). */
const BACKENDS = {
  memory: async () => ({ filesUrl: 'memory://' }),
  folder: async (t) => ({ filesUrl: `file://${tempDir(t)}` }),
  s3: (t) => s3Config(t),
}

for (const [name, configFor] of Object.entries(BACKENDS)) {
  test(`files on ${name}: put, get, head, list and delete`, async (t) => {
    const overrides = await configFor(t)
    if (!overrides) return
    const dw = await open(overrides)
    assert.ok(dw.files instanceof Files)
    const info = await dw.files.put('avatars/1.png', Buffer.from('\x89PNG-one', 'latin1'), 'image/png')
    assert.equal(info.key, 'avatars/1.png')
    assert.equal(info.size, 8)
    assert.equal(info.contentType, 'image/png')
    assert.ok(info.createdAt instanceof Date)
    assert.equal(typeof info.etag, 'string')
    // A plain Uint8Array is as good as a Buffer, and no content type is kept as none.
    await dw.files.put('avatars/2.bin', new Uint8Array([1, 2, 3]))
    await dw.files.put('docs/readme.txt', Buffer.from('hi'), 'text/plain')

    const { info: got, data } = await dw.files.get('avatars/1.png')
    assert.ok(Buffer.isBuffer(data))
    assert.equal(data.toString('latin1'), '\x89PNG-one')
    assert.equal(got.contentType, 'image/png')
    assert.equal(got.size, 8)
    const bin = await dw.files.get('avatars/2.bin')
    assert.deepEqual([...bin.data], [1, 2, 3])

    const head = await dw.files.head('avatars/1.png')
    assert.equal(head.size, 8)
    assert.equal(head.contentType, 'image/png')
    assert.equal(head.etag, got.etag)

    const first = await dw.files.list({ prefix: 'avatars', limit: 1 })
    assert.deepEqual(first.items.map((f) => f.key), ['avatars/1.png'])
    assert.equal(typeof first.nextCursor, 'string')
    const rest = await dw.files.list({ prefix: 'avatars', cursor: first.nextCursor, limit: 1 })
    assert.deepEqual(rest.items.map((f) => f.key), ['avatars/2.bin'])
    assert.equal(rest.nextCursor, undefined)
    const all = await dw.files.list()
    assert.deepEqual(all.items.map((f) => f.key), ['avatars/1.png', 'avatars/2.bin', 'docs/readme.txt'])

    assert.equal(await dw.files.delete('avatars/1.png'), true)
    assert.equal(await dw.files.delete('avatars/1.png'), false, 'deleting again is not an error')
    await rejectsWith(dw.files.get('avatars/1.png'), 'not_found')
    await rejectsWith(dw.files.head('avatars/1.png'), 'not_found')
  })

  test(`files on ${name}: putFile and getToFile stream through files on disk`, async (t) => {
    const overrides = await configFor(t)
    if (!overrides) return
    const dw = await open(overrides)
    const dir = tempDir(t)
    const source = path.join(dir, 'report.pdf')
    const body = Buffer.alloc(64 * 1024, 7)
    fs.writeFileSync(source, body)
    const info = await dw.files.putFile('reports/1.pdf', source, 'application/pdf')
    assert.equal(info.size, body.length)
    const target = path.join(dir, 'copy.pdf')
    const written = await dw.files.getToFile('reports/1.pdf', target)
    assert.equal(written.contentType, 'application/pdf')
    assert.ok(fs.readFileSync(target).equals(body))
    await rejectsWith(dw.files.putFile('reports/2.pdf', path.join(dir, 'missing.pdf')), 'validation_error')
    await rejectsWith(dw.files.getToFile('reports/none.pdf', path.join(dir, 'none.pdf')), 'not_found')
    assert.ok(!fs.existsSync(path.join(dir, 'none.pdf')), 'nothing is written for a missing object')
  })
}

test('files on a folder are plain files under it', async (t) => {
  const dir = tempDir(t)
  const dw = await open({ filesUrl: `file://${dir}` })
  await dw.files.put('a/b.txt', Buffer.from('hello'), 'text/plain')
  assert.equal(fs.readFileSync(path.join(dir, 'a', 'b.txt'), 'utf8'), 'hello')
  assert.equal((await dw.files.head('a/b.txt')).contentType, 'text/plain', 'kept beside the file')
})

test('files: a bad key is a validation_error on key, and nothing is written', async () => {
  const dw = await open({ filesUrl: 'memory://' })
  for (const key of ['', '../escape', '/absolute', 'a//b', 'a/./b', 'back\\slash', '.doorward/x', 'ctl\u0007']) {
    const err = await rejectsWith(dw.files.put(key, Buffer.from('x')), 'validation_error')
    assert.equal(err.field, 'key', `key ${JSON.stringify(key)}`)
  }
  assert.equal((await rejectsWith(dw.files.get('../x'), 'validation_error')).field, 'key')
  assert.equal((await rejectsWith(dw.files.delete('a/../b'), 'validation_error')).field, 'key')
  assert.deepEqual((await dw.files.list()).items, [])
})

test('files: filesMaxBytes caps a body before anything is written', async () => {
  const dw = await open({ filesUrl: 'memory://', filesMaxBytes: 4 })
  await dw.files.put('small', Buffer.from('1234'))
  const err = await rejectsWith(dw.files.put('big', Buffer.from('12345')), 'validation_error')
  assert.equal(err.field, 'data')
  await rejectsWith(dw.files.head('big'), 'not_found')
})

test('files: list limits, cursors and argument types are checked', async () => {
  const dw = await open({ filesUrl: 'memory://' })
  for (const limit of [0, 1001, -1, 1.5]) {
    assert.equal((await rejectsWith(dw.files.list({ limit }), 'validation_error')).field, 'limit')
  }
  assert.equal((await rejectsWith(dw.files.list({ cursor: '../x' }), 'validation_error')).field, 'cursor')
  await rejectsWithTypeError(() => dw.files.list('avatars'))
  await rejectsWithTypeError(() => dw.files.put('a', 'a string is not bytes'))
})

test('files: presigned URLs need S3, and are checked', async () => {
  const dw = await open({ filesUrl: 'memory://' })
  await rejectsWith(dw.files.presignGet('a', 60), 'config_error')
  await rejectsWith(dw.files.presignPut('a', 60), 'config_error')
  assert.equal((await rejectsWith(dw.files.presignGet('a', 0), 'validation_error')).field, 'expires_in')
  assert.equal((await rejectsWith(dw.files.presignGet('a', 8 * 24 * 3600), 'validation_error')).field, 'expires_in')
})

test('files on S3: presigned URLs let a client GET and PUT without credentials', async (t) => {
  const overrides = await s3Config(t)
  if (!overrides) return
  const dw = await open(overrides)
  await dw.files.put('shared/a.txt', Buffer.from('from the server'), 'text/plain')
  const getUrl = await dw.files.presignGet('shared/a.txt', 300)
  assert.match(getUrl, /X-Amz-Signature=/)
  const got = await httpRequest('GET', getUrl)
  assert.equal(got.status, 200)
  assert.equal(got.body.toString(), 'from the server')
  const putUrl = await dw.files.presignPut('shared/b.txt', 300)
  const put = await httpRequest('PUT', putUrl, Buffer.from('from a browser'))
  assert.equal(put.status, 200)
  assert.equal((await dw.files.get('shared/b.txt')).data.toString(), 'from a browser')
})

test('files: storing and deleting write FileStored and FileDeleted events', async () => {
  const dw = await open({ filesUrl: 'memory://' })
  await dw.files.put('x/1', Buffer.from('1'))
  await dw.files.delete('x/1')
  const types = (await dw.events.list()).items.map((e) => [e.type, e.subject])
  assert.deepEqual(types, [
    ['FileStored', 'x/1'],
    ['FileDeleted', 'x/1'],
  ])
})

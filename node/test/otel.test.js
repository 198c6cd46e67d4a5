'use strict'
// Spans reach an OTLP/HTTP collector when `otelEndpoint` is set, the last
// of them exported as the process exits. In a child process: the exporter
// is installed once per process.

const test = require('node:test')
const assert = require('node:assert/strict')
const { PASSWORD, child, receiver } = require('./helpers.js')

test('spans are exported over OTLP, the last at exit', async (t) => {
  const collector = await receiver(t)
  const otelEndpoint = collector.url.replace(/\/hooks$/, '')
  const { code, stdout, stderr } = await child(
    `
      const reg = await dw.registerUser('john', 'john@example.com', ${JSON.stringify(PASSWORD)})
      await dw.users.get(reg.user.id)
      console.log(reg.user.id)
    `,
    { otelEndpoint, otelServiceName: 'node-app' },
  )
  assert.equal(code, 0, stderr)
  const userId = stdout.trim()
  const body = collector.requests.map((r) => r.body).join('')
  assert.deepEqual([...new Set(collector.requests.map((r) => r.headers['content-type']))], ['application/x-protobuf'])
  // OTLP protobuf carries names and string attributes as plain UTF-8.
  for (const name of ['node-app', 'user_registration', 'create_user', 'users.get', userId]) {
    assert.ok(body.includes(name), name)
  }
  assert.ok(!body.includes(PASSWORD))
})

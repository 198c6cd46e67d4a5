'use strict'
// Spans reach an OTLP/HTTP collector when `otelEndpoint` is set, the last
// of them exported as the process exits. In a child process: the exporter
// is installed once per process.

const test = require('node:test')
const assert = require('node:assert/strict')
const { execFile } = require('node:child_process')
const path = require('node:path')

const { PASSWORD, receiver } = require('./helpers.js')

test('spans are exported over OTLP, the last at exit', async (t) => {
  const collector = await receiver(t)
  const endpoint = collector.url.replace(/\/hooks$/, '')
  const index = JSON.stringify(path.join(__dirname, '..', 'index.js'))
  const script = `
    const { Doorward } = require(${index})
    ;(async () => {
      const dw = await Doorward.open({
        databaseUrl: 'memory://', jwtSecret: 'x'.repeat(40), argon2MemoryKib: 64, argon2Iterations: 1,
        otelEndpoint: ${JSON.stringify(endpoint)}, otelServiceName: 'node-app',
      })
      const reg = await dw.registerUser('john', 'john@example.com', ${JSON.stringify(PASSWORD)})
      await dw.users.get(reg.user.id)
      console.log(reg.user.id)
    })().catch((err) => { console.error(err); process.exit(2) })
  `
  const userId = await new Promise((resolve, reject) => {
    execFile(process.execPath, ['-e', script], { timeout: 60000, killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${err.message}\n${stderr}`))
      else resolve(stdout.trim())
    })
  })
  const body = collector.requests.map((r) => r.body).join('')
  assert.deepEqual([...new Set(collector.requests.map((r) => r.headers['content-type']))], ['application/x-protobuf'])
  // OTLP protobuf carries names and string attributes as plain UTF-8.
  for (const name of ['node-app', 'user_registration', 'create_user', 'users.get', userId]) {
    assert.ok(body.includes(name), name)
  }
  assert.ok(!body.includes(PASSWORD))
})

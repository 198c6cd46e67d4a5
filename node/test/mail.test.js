'use strict'
// dw.mail and dw.metricsText(): the in-memory mailer and the welcome mail
// (delivered through the outbox, so after events.flush()), custom welcome
// templates, send without a mailer, and the Prometheus text of an instance.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const { inspect } = require('node:util')

const { Mail } = require('../index.js')
const { open, register, rejectsWith } = require('./helpers.js')

// The welcome mail alone: registration's verification mail has its tests in
// flows.test.js.
const MEMORY = Object.freeze({ mailUrl: 'memory://', verifyEmailOnRegister: false })

test('mail: a registration sends the welcome mail to the new user', async () => {
  const dw = await open(MEMORY)
  assert.ok(dw.mail instanceof Mail)
  await register(dw, 'john')
  await dw.events.flush()
  const sent = dw.mail.sent()
  assert.equal(sent.length, 1)
  const [message] = sent
  assert.equal(message.to, 'john@example.com')
  assert.equal(message.subject, 'Welcome, john')
  assert.equal(message.from, 'doorward <noreply@localhost>')
  assert.match(message.text, /john/)
  const shown = inspect(message)
  assert.match(shown, /Welcome, john/)
  assert.ok(!shown.includes('john@example.com'), shown)
})

test('mail: the welcome subject, body and sender come from the configuration', async () => {
  const dw = await open({
    ...MEMORY,
    mailFrom: 'Example <hello@example.com>',
    welcomeSubject: 'Hi {username}',
    welcomeText: 'Your id is {user_id}.',
  })
  const reg = await register(dw, 'jane')
  await dw.events.flush()
  const [message] = dw.mail.sent()
  assert.equal(message.subject, 'Hi jane')
  assert.equal(message.text, `Your id is ${reg.user.id}.`)
  assert.equal(message.from, 'Example <hello@example.com>')
})

test('mail: no welcome mail when welcomeMail is off', async () => {
  const dw = await open({ ...MEMORY, welcomeMail: false })
  await register(dw, 'john')
  await dw.events.flush()
  assert.deepEqual(dw.mail.sent(), [])
})

test('mail: send goes through the mailer now', async () => {
  const dw = await open(MEMORY)
  assert.equal(await dw.mail.send('ann@example.com', 'Report', 'All good.'), undefined)
  const [message] = dw.mail.sent()
  assert.deepEqual(
    [message.to, message.subject, message.text],
    ['ann@example.com', 'Report', 'All good.'],
  )
})

test('mail: send without a mailer is a config_error, and so is sent()', async () => {
  const dw = await open()
  await rejectsWith(dw.mail.send('ann@example.com', 'Report', 'All good.'), 'config_error')
  await rejectsWith(() => dw.mail.sent(), 'config_error')
})

test('metricsText: Prometheus text with the registration counted', async () => {
  const dw = await open()
  await register(dw, 'john')
  const text = await dw.metricsText()
  assert.equal(typeof text, 'string')
  const lines = text.split('\n')
  assert.ok(lines.includes('doorward_registrations_total 1'), text)
  assert.ok(lines.some((l) => l.startsWith('doorward_active_sessions')), text)
  assert.ok(
    lines.some((l) => l.startsWith('doorward_operation_duration_seconds_bucket{operation="auth.register_user"')),
    text,
  )
  assert.ok(!text.includes('john@example.com'))
})

test('metricsText: each instance counts its own', async () => {
  const [first, second] = [await open(), await open()]
  await register(first, 'john')
  assert.ok((await first.metricsText()).split('\n').includes('doorward_registrations_total 1'))
  assert.ok(!(await second.metricsText()).split('\n').includes('doorward_registrations_total 1'))
})

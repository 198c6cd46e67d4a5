// The same flow as flow.mjs from CommonJS (require), with the second
// factor's shape checked on the way: tests/dist/install.sh runs both.
const assert = require('node:assert/strict')
const { mkdtempSync, rmSync } = require('node:fs')
const { tmpdir } = require('node:os')
const { join } = require('node:path')
const { Doorward, DoorwardError, version } = require('doorward')

async function main() {
  const folder = mkdtempSync(join(tmpdir(), 'doorward-cjs-'))
  try {
    const dw = await Doorward.open({
      databaseUrl: `sqlite://${folder}/app.db`,
      jwtSecret: 'a-secret-of-at-least-thirty-two-bytes!',
      statelessVerify: true,
    })
    const reg = await dw.registerUser('maria', 'maria@example.com', 'correct horse battery')
    const pair = await dw.login('maria', 'correct horse battery')
    assert.equal(pair.mfaRequired, false)
    // Stateless: answered on this thread, no Promise.
    const principal = dw.verifyTokenSync(pair.accessToken)
    assert.equal(principal.userId, reg.user.id)
    await assert.rejects(dw.login('maria', 'wrong password'), (err) => {
      assert.ok(err instanceof DoorwardError)
      assert.equal(err.code, 'invalid_credentials')
      return true
    })
    const loaded = Object.keys(require.cache).filter((path) => path.endsWith('.node'))
    assert.ok(loaded.some((path) => path.includes('doorward-linux-x64-gnu')), loaded.join(', '))
    console.log(`node CommonJS flow (doorward ${version}): register, login, verifyTokenSync, a wrong password refused`)
  } finally {
    rmSync(folder, { recursive: true, force: true })
  }
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})

// The first minutes of a Node user, from ESM, against the installed
// tarballs: register, log in, verify, check a permission, refresh, and see
// a replayed refresh token refused. Run by tests/dist/install.sh in an
// empty project.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Doorward, DoorwardError, version } from 'doorward'

const folder = mkdtempSync(join(tmpdir(), 'doorward-esm-'))
try {
  const dw = await Doorward.open({
    databaseUrl: `sqlite://${folder}/app.db`,
    jwtSecret: 'a-secret-of-at-least-thirty-two-bytes!',
  })
  const reg = await dw.registerUser('john', 'john@example.com', 'correct horse battery')
  const pair = await dw.login('john', 'correct horse battery')
  assert.equal(pair.mfaRequired, false)
  const principal = await dw.verifyToken(pair.accessToken)
  assert.equal(principal.userId, reg.user.id)
  assert.equal(await dw.can(principal.userId, 'users:read'), true)
  assert.equal(await dw.can(principal.userId, 'posts:publish'), false)
  await dw.refreshToken(reg.tokens.refreshToken)
  await assert.rejects(dw.refreshToken(reg.tokens.refreshToken), (err) => {
    assert.ok(err instanceof DoorwardError)
    assert.equal(err.code, 'token_reused')
    return true
  })
  // The addon came from the platform package, not from a build.
  const require = createRequire(import.meta.url)
  const addon = require.resolve('doorward-linux-x64-gnu')
  assert.ok(addon.includes(join('node_modules', 'doorward-linux-x64-gnu')), addon)
  console.log(`node ESM flow (doorward ${version}, addon ${addon}): register, login, verify, can, refresh, replay refused`)
} finally {
  rmSync(folder, { recursive: true, force: true })
}

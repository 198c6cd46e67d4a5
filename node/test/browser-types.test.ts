// The passkey types of index.d.ts against the browser's own (TypeScript's
// DOM library): the options doorward gives are what
// `PublicKeyCredential.parseCreationOptionsFromJSON` /
// `parseRequestOptionsFromJSON` take, and `credential.toJSON()` is what
// `finishRegistration` / `finishAuthentication` take. Checked by
// `npm run typecheck` (test/tsconfig.browser.json); never run.

import type { PasskeyCreationOptions, PasskeyCredentialJSON, PasskeyRequestOptions } from 'doorward'

export async function enrol(options: PasskeyCreationOptions): Promise<PasskeyCredentialJSON> {
  const publicKey = PublicKeyCredential.parseCreationOptionsFromJSON(options.publicKey)
  const credential = (await navigator.credentials.create({ publicKey })) as PublicKeyCredential
  return credential.toJSON()
}

export async function signIn(options: PasskeyRequestOptions): Promise<PasskeyCredentialJSON> {
  const publicKey = PublicKeyCredential.parseRequestOptionsFromJSON(options.publicKey)
  const credential = (await navigator.credentials.get({ publicKey })) as PublicKeyCredential
  return credential.toJSON()
}

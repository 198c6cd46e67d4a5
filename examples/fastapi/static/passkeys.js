// The browser half of the passkey pages, served as a file because the
// pages' Content-Security-Policy runs no inline script. doorward makes the
// options and checks the answers; this only hands them between the server
// and navigator.credentials, in the WebAuthn JSON forms:
// PublicKeyCredential.parseCreationOptionsFromJSON / parseRequestOptionsFromJSON
// read the options, credential.toJSON() writes the answer.
//
// GET /me/passkeys: "Add a passkey"  -> POST /me/passkeys/options, create(), POST /me/passkeys?name=
// GET /login/passkey: "Sign in ..."   -> POST /login/passkey/options, get(), POST /login/passkey
//
// The /me routes take the bearer token like every /me route of the
// example: a fetch() sends what the page's own request was authenticated
// with (this script adds nothing).
'use strict'

function say(text) {
  document.getElementById('passkey-status').textContent = text
}

/** POST `body` as JSON; the JSON answer, or an Error with doorward's message. */
async function post(url, body, headers = {}) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify(body),
  })
  const answer = await response.json().catch(() => ({}))
  if (!response.ok) {
    throw new Error((answer.error && answer.error.message) || `HTTP ${response.status}`)
  }
  return answer
}

/** Whether this browser has passkeys and the WebAuthn JSON methods. */
function supported() {
  return (
    typeof PublicKeyCredential !== 'undefined' &&
    typeof PublicKeyCredential.parseCreationOptionsFromJSON === 'function' &&
    typeof PublicKeyCredential.parseRequestOptionsFromJSON === 'function'
  )
}

async function addPasskey() {
  const name = document.getElementById('passkey-name').value
  const options = await post('/me/passkeys/options', {})
  const credential = await navigator.credentials.create({
    publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(options.publicKey),
  })
  const added = await post(`/me/passkeys?name=${encodeURIComponent(name)}`, credential.toJSON())
  const item = document.createElement('li')
  item.textContent = `${added.name}, added just now`
  document.getElementById('passkey-list').append(item)
  say(`Added the passkey "${added.name}".`)
}

async function signIn() {
  const username = document.getElementById('passkey-username').value.trim()
  const options = await post('/login/passkey/options', username ? { username } : {})
  const credential = await navigator.credentials.get({
    publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(options.publicKey),
  })
  const tokens = await post('/login/passkey', credential.toJSON())
  // The same token pair /login gives. An application keeps the session (in
  // an HttpOnly cookie of its own, say); the example shows whose it is.
  const me = await fetch('/me', { headers: { Authorization: `Bearer ${tokens.access_token}` } })
  const { principal } = await me.json()
  say(`Signed in as ${principal.username} (assurance level ${principal.aal}).`)
}

/** Run `action` on clicks of the button `id`, if this page has it. */
function onClick(id, action) {
  const button = document.getElementById(id)
  if (!button) return
  button.addEventListener('click', async () => {
    if (!supported()) {
      say('This browser cannot use passkeys here.')
      return
    }
    button.disabled = true
    try {
      await action()
    } catch (err) {
      // NotAllowedError: the user cancelled, or the time ran out.
      say(err.name === 'NotAllowedError' ? 'Cancelled.' : `That did not work: ${err.message}`)
    } finally {
      button.disabled = false
    }
  })
}

onClick('add-passkey', addPasskey)
onClick('sign-in-with-passkey', signIn)

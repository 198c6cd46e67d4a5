// The browser's half of the passkey pages (passkeys.js serves this file;
// the pages' policy allows no inline script). The server's JSON goes to
// the browser's WebAuthn API and the credential it makes comes back as
// JSON: nothing here decides anything.
//
//   #enrol    (GET /me/passkeys)    POST /me/passkeys/options, navigator.credentials.create(),
//                                   POST /me/passkeys {name, credential}
//   #sign-in  (GET /login/passkey)  POST /login/passkey/options {username?},
//                                   navigator.credentials.get(), POST /login/passkey {credential},
//                                   then the page it names
'use strict'

;(() => {
  const status = document.getElementById('status')
  const say = (text) => {
    status.textContent = text
  }

  /** POSTs `body` as JSON (the session cookie goes along); the JSON answer, or throws with the server's message. */
  async function post(path, body) {
    const res = await fetch(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      credentials: 'same-origin',
      body: JSON.stringify(body),
    })
    const data = await res.json().catch(() => null)
    if (!res.ok) throw new Error((data && data.error && data.error.message) || `${res.status} ${res.statusText}`)
    return data
  }

  /** Whether the browser has WebAuthn with its JSON helpers. */
  const supported =
    typeof window.PublicKeyCredential === 'function' &&
    typeof PublicKeyCredential.parseCreationOptionsFromJSON === 'function' &&
    typeof PublicKeyCredential.parseRequestOptionsFromJSON === 'function'

  /** Runs `action` on the form's submission, its button disabled meanwhile and a failure said. */
  function onSubmit(form, failed, action) {
    const button = form.querySelector('button')
    if (!supported) {
      button.disabled = true
      say('This browser cannot use passkeys.')
      return
    }
    form.addEventListener('submit', async (event) => {
      event.preventDefault()
      button.disabled = true
      say('')
      try {
        await action(new FormData(form))
      } catch (err) {
        // NotAllowedError: the user cancelled, or no passkey was chosen in time.
        say(`${failed}: ${err.message}`)
      } finally {
        button.disabled = false
      }
    })
  }

  const enrol = document.getElementById('enrol')
  if (enrol) {
    onSubmit(enrol, 'No passkey was added', async (data) => {
      const options = await post('/me/passkeys/options', {})
      const credential = await navigator.credentials.create({
        publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(options.publicKey),
      })
      const { passkey } = await post('/me/passkeys', { name: data.get('name'), credential: credential.toJSON() })
      const item = document.createElement('li')
      const added = `${new Date(passkey.created_at).toISOString().slice(0, 16).replace('T', ' ')} UTC`
      item.textContent = `${passkey.name}: added ${added}, not used yet`
      document.getElementById('passkeys').append(item)
      document.getElementById('no-passkeys')?.remove()
      say(`Passkey "${passkey.name}" added.`)
    })
  }

  const signIn = document.getElementById('sign-in')
  if (signIn) {
    onSubmit(signIn, 'Not signed in', async (data) => {
      const username = String(data.get('username') || '').trim()
      // No username: the browser offers the passkeys it holds for this site.
      const options = await post('/login/passkey/options', username ? { username } : {})
      const credential = await navigator.credentials.get({
        publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(options.publicKey),
      })
      const { location } = await post('/login/passkey', { credential: credential.toJSON() })
      window.location.assign(location)
    })
  }
})()

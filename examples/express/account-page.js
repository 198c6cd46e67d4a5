'use strict'
// The page a signed-in browser sees: at GET /account (signin.js), and at
// the end of a sign-in with a provider (oauth.js), which shows it at once
// rather than redirecting (see there). It names the user and how the
// session was authenticated, links to the passkeys, lists the sign-in
// providers (linked ones with "Unlink", the others with "Link"), and has
// a "Sign out" button.
//
//   accountPage(res, dw, principal, note)  answers the page (`note`: HTML above it)

const { escape, form, page } = require('./pages.js')

/**
 * The configured providers, each linked one with an "Unlink" button and
 * each other one with a "Link" button (oauth.js serves both); nothing when
 * none is configured.
 */
async function providerSection(dw, userId) {
  const providers = dw.oauth.providers()
  if (providers.length === 0) return ''
  const linked = new Map((await dw.users.identities(userId)).map((i) => [i.provider, i]))
  const rows = providers.map((p) => {
    const action = `/auth/${encodeURIComponent(p.id)}`
    const identity = linked.get(p.id)
    if (!identity) return `<li>${escape(p.name)}: ${form(`${action}/link`, {}, [], `Link ${p.name}`)}</li>`
    const as = identity.email ? ` as ${escape(identity.email)}` : ''
    return `<li>${escape(p.name)}: linked${as}. ${form(`${action}/unlink`, {}, [], `Unlink ${p.name}`)}</li>`
  })
  return `<h2>Sign-in providers</h2><ul id="providers">${rows.join('')}</ul>`
}

async function accountPage(res, dw, principal, note = '') {
  const { userId, username, amr, aal } = principal
  page(
    res,
    'Your account',
    note +
      `<p id="who">Signed in as <strong id="username">${escape(username)}</strong>.</p>` +
      `<p>This session: ${escape(amr.join(', ') || 'issued')}, level ${escape(aal)}.</p>` +
      '<p><a href="/me/passkeys">Your passkeys</a></p>' +
      (await providerSection(dw, userId)) +
      form('/sign-out', {}, [], 'Sign out'),
  )
}

module.exports = { accountPage }

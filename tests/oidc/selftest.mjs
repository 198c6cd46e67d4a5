// Self-test of the test OpenID provider: `node tests/oidc/selftest.mjs`.
// Starts server.mjs as a child on a free port (or uses the control server at
// $OIDC_CONTROL_URL, e.g. http://127.0.0.1:9400) and runs one login dance
// after another against issuers of its own. Exits non-zero on failure.

import { spawn } from 'node:child_process';
import { createHash, createPublicKey, randomBytes, verify } from 'node:crypto';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

import { browse, CookieJar } from './login.mjs';

const REDIRECT_URI = 'http://127.0.0.1:1/cb';
const b64url = (buffer) => Buffer.from(buffer).toString('base64url');
const json64 = (part) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));

let failures = 0;
let passed = 0;
function check(condition, message, detail) {
  if (condition) {
    passed += 1;
    console.log(`ok - ${message}`);
  } else {
    failures += 1;
    console.log(`not ok - ${message}${detail === undefined ? '' : `: ${JSON.stringify(detail)}`}`);
  }
}

async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function startControl() {
  if (process.env.OIDC_CONTROL_URL) return { url: process.env.OIDC_CONTROL_URL, child: undefined };
  const port = await freePort();
  const child = spawn(process.execPath, [fileURLToPath(new URL('./server.mjs', import.meta.url))], {
    env: { ...process.env, OIDC_CONTROL_PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (data) => { output += data; });
  child.stderr.on('data', (data) => { output += data; });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i += 1) {
    try {
      if ((await fetch(`${url}/health`)).ok) return { url, child, output: () => output };
    } catch { /* not yet */ }
    if (child.exitCode !== null) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  child.kill();
  throw new Error(`server.mjs did not start:\n${output}`);
}

function pkce() {
  const verifier = b64url(randomBytes(32));
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

function authorizationUrl(issuer, params) {
  const url = new URL('/auth', issuer);
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined) url.searchParams.set(key, value);
  }
  return url.href;
}

function authParams(clientId, extra = {}) {
  const { verifier, challenge } = pkce();
  const params = {
    response_type: 'code',
    client_id: clientId,
    redirect_uri: REDIRECT_URI,
    scope: 'openid email profile',
    state: b64url(randomBytes(12)),
    nonce: b64url(randomBytes(12)),
    code_challenge: challenge,
    code_challenge_method: 'S256',
    ...extra,
  };
  return { params, verifier };
}

async function token(issuer, form, { clientId, secret } = {}) {
  const headers = { 'content-type': 'application/x-www-form-urlencoded' };
  if (secret !== undefined) {
    headers.authorization = `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64')}`;
  }
  const response = await fetch(new URL('/token', issuer), {
    method: 'POST', headers, body: new URLSearchParams(form).toString(),
  });
  return { status: response.status, body: await response.json() };
}

async function jwks(issuer) {
  return (await (await fetch(new URL('/jwks', issuer))).json()).keys;
}

function verifyJwt(jwt, keys) {
  const [header, payload, signature] = jwt.split('.');
  const { kid, alg } = json64(header);
  const jwk = keys.find((key) => key.kid === kid);
  const valid = jwk !== undefined && alg === 'RS256' && verify(
    'sha256',
    Buffer.from(`${header}.${payload}`),
    createPublicKey({ key: jwk, format: 'jwk' }),
    Buffer.from(signature, 'base64url'),
  );
  return { kid, valid, claims: json64(payload) };
}

// One full login of `account` at `issuer` for the confidential client.
async function login(issuer, account, { jar, extra } = {}) {
  const { params, verifier } = authParams('web', extra);
  const { url } = await browse(authorizationUrl(issuer, params), { account, stopAt: REDIRECT_URI, jar });
  const query = new URL(url).searchParams;
  const exchanged = await token(issuer, {
    grant_type: 'authorization_code', code: query.get('code'), redirect_uri: REDIRECT_URI, code_verifier: verifier,
  }, { clientId: 'web', secret: 'web-secret' });
  return { params, query, exchanged };
}

async function main(control) {
  const post = async (path, body) => {
    const response = await fetch(`${control}${path}`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: body && JSON.stringify(body),
    });
    return { status: response.status, body: await response.json() };
  };

  check((await (await fetch(`${control}/health`)).text()) === 'ok', 'GET /health says ok');

  const created = await post('/issuers', {
    clients: [
      { client_id: 'web', client_secret: 'web-secret', redirect_uris: [REDIRECT_URI] },
      { client_id: 'spa', redirect_uris: [REDIRECT_URI] },
    ],
    accounts: { bob: { name: 'Bob Builder' } },
  });
  const { issuer, id } = created.body;
  check(created.status === 201 && /^http:\/\/127\.0\.0\.1:\d+$/.test(issuer) && issuer.endsWith(`:${id}`),
    'POST /issuers answers the issuer and its id', created);

  const discovery = await (await fetch(`${issuer}/.well-known/openid-configuration`)).json();
  check(discovery.issuer === issuer && discovery.code_challenge_methods_supported.join() === 'S256',
    'discovery document names the issuer, S256 only', discovery);

  // The scripted login.
  const { params, verifier } = authParams('web');
  const jar = new CookieJar();
  const { url } = await browse(authorizationUrl(issuer, params), { account: 'alice', stopAt: REDIRECT_URI, jar });
  const query = new URL(url).searchParams;
  check(url.startsWith(REDIRECT_URI) && query.get('code') && query.get('state') === params.state
    && query.get('iss') === issuer, 'browse() comes back to redirect_uri with code, state and iss', url);

  const exchanged = await token(issuer, {
    grant_type: 'authorization_code', code: query.get('code'), redirect_uri: REDIRECT_URI, code_verifier: verifier,
  }, { clientId: 'web', secret: 'web-secret' });
  check(exchanged.status === 200 && exchanged.body.id_token && exchanged.body.access_token,
    'code exchanged at the token endpoint (client_secret_basic + code_verifier)', exchanged);

  const keys = await jwks(issuer);
  const idToken = verifyJwt(exchanged.body.id_token, keys);
  check(keys.length === 1 && idToken.valid, 'ID token signed by the (only) key in the JWKS', { keys, kid: idToken.kid });
  const { claims } = idToken;
  check(claims.iss === issuer && claims.aud === 'web' && claims.nonce === params.nonce && claims.sub === 'alice',
    'ID token iss, aud, nonce, sub', claims);
  check(claims.email === 'alice@example.test' && claims.email_verified === true
    && claims.name === 'alice' && claims.preferred_username === 'alice',
    'ID token carries email, email_verified, name, preferred_username', claims);

  const userinfo = await (await fetch(`${issuer}/me`, {
    headers: { authorization: `Bearer ${exchanged.body.access_token}` },
  })).json();
  check(userinfo.sub === 'alice' && userinfo.email === 'alice@example.test', 'userinfo answers the claims', userinfo);

  const replay = await token(issuer, {
    grant_type: 'authorization_code', code: query.get('code'), redirect_uri: REDIRECT_URI, code_verifier: verifier,
  }, { clientId: 'web', secret: 'web-secret' });
  check(replay.status === 400 && replay.body.error === 'invalid_grant', 'a code is redeemed once only', replay);

  // Accounts.
  const unverified = await login(issuer, 'unverified-carol');
  const carol = json64(unverified.exchanged.body.id_token.split('.')[1]);
  check(carol.email === 'unverified-carol@example.test' && carol.email_verified === false,
    'an account starting with "unverified" has email_verified false', carol);
  const withAt = json64((await login(issuer, 'dave@corp.example')).exchanged.body.id_token.split('.')[1]);
  check(withAt.email === 'dave@corp.example' && withAt.preferred_username === 'dave' && withAt.email_verified === true,
    'an account with @ is its own email', withAt);
  const bob = json64((await login(issuer, 'bob')).exchanged.body.id_token.split('.')[1]);
  check(bob.name === 'Bob Builder' && bob.email === 'bob@example.test', '"accounts" overrides claims', bob);

  // PKCE.
  {
    const attempt = await login(issuer, 'alice');
    check(attempt.exchanged.status === 200, 'control: a fresh login exchanges fine', attempt.exchanged);
    const { params: p } = authParams('web');
    const { url: u } = await browse(authorizationUrl(issuer, p), { account: 'alice', stopAt: REDIRECT_URI });
    const code = new URL(u).searchParams.get('code');
    const tampered = await token(issuer, {
      grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: pkce().verifier,
    }, { clientId: 'web', secret: 'web-secret' });
    check(tampered.status === 400 && tampered.body.error === 'invalid_grant', 'a wrong code_verifier is refused', tampered);
    const { params: p2 } = authParams('web');
    const { url: u2 } = await browse(authorizationUrl(issuer, p2), { account: 'alice', stopAt: REDIRECT_URI });
    const absent = await token(issuer, {
      grant_type: 'authorization_code', code: new URL(u2).searchParams.get('code'), redirect_uri: REDIRECT_URI,
    }, { clientId: 'web', secret: 'web-secret' });
    check(absent.status === 400 && absent.body.error === 'invalid_grant', 'a missing code_verifier is refused', absent);
    const { params: p3 } = authParams('web', { code_challenge: undefined, code_challenge_method: undefined });
    const { url: u3 } = await browse(authorizationUrl(issuer, p3), { account: 'alice', stopAt: REDIRECT_URI });
    check(new URL(u3).searchParams.get('error') === 'invalid_request',
      'an authorization request without code_challenge is refused (confidential client too)', u3);
  }

  // Public client: no secret, client_id in the body.
  {
    const { params: p, verifier: v } = authParams('spa');
    const { url: u } = await browse(authorizationUrl(issuer, p), { account: 'erin', stopAt: REDIRECT_URI });
    const exchangedPublic = await token(issuer, {
      grant_type: 'authorization_code', code: new URL(u).searchParams.get('code'), redirect_uri: REDIRECT_URI,
      code_verifier: v, client_id: 'spa',
    });
    check(exchangedPublic.status === 200 && json64(exchangedPublic.body.id_token.split('.')[1]).sub === 'erin',
      'public client (token_endpoint_auth_method none) exchanges its code', exchangedPublic);
  }

  // Cancel.
  {
    const { params: p } = authParams('web');
    const { url: u } = await browse(authorizationUrl(issuer, p), { cancel: true, stopAt: REDIRECT_URI });
    const q = new URL(u).searchParams;
    check(q.get('error') === 'access_denied' && q.get('state') === p.state,
      'cancel: true comes back with error=access_denied and the state', u);
  }

  // prompt.
  {
    const { params: p } = authParams('web', { prompt: 'none' });
    const { url: u } = await browse(authorizationUrl(issuer, p), { stopAt: REDIRECT_URI });
    check(new URL(u).searchParams.get('error') === 'login_required', 'prompt=none without a session: login_required', u);
    const { params: p2 } = authParams('web', { prompt: 'none' });
    const { url: u2 } = await browse(authorizationUrl(issuer, p2), { stopAt: REDIRECT_URI, jar });
    check(new URL(u2).searchParams.get('code'), 'prompt=none with the session cookie: a code, no login form', u2);
    const { params: p3 } = authParams('web');
    const { url: u3 } = await browse(authorizationUrl(issuer, p3), { stopAt: REDIRECT_URI, jar });
    check(new URL(u3).searchParams.get('code'), 'a second login in the same browser needs no form (SSO)', u3);
    const { params: p4 } = authParams('web', { prompt: 'login' });
    const forced = await browse(authorizationUrl(issuer, p4), { stopAt: REDIRECT_URI, jar }).then(
      () => 'no form', (error) => error.message,
    );
    check(/login form/.test(forced), 'prompt=login shows the login form again', forced);
  }

  // offline_access: oidc-provider grants it with prompt=consent only; no consent page here.
  {
    const attempt = await login(issuer, 'frank', { extra: { scope: 'openid email offline_access', prompt: 'consent' } });
    check(attempt.exchanged.status === 200 && attempt.exchanged.body.refresh_token,
      'offline_access + prompt=consent: a refresh token, still one login form', attempt.exchanged);
    const refreshed = await token(issuer, {
      grant_type: 'refresh_token', refresh_token: attempt.exchanged.body.refresh_token,
    }, { clientId: 'web', secret: 'web-secret' });
    check(refreshed.status === 200 && refreshed.body.id_token, 'refresh_token grant works', refreshed);
  }

  // Rotation.
  {
    const oldKid = (await jwks(issuer))[0].kid;
    const { params: p, verifier: v } = authParams('web');
    const { url: u } = await browse(authorizationUrl(issuer, p), { account: 'alice', stopAt: REDIRECT_URI, jar });
    const rotated = await post(`/issuers/${id}/rotate`);
    const keysAfter = await jwks(issuer);
    check(rotated.status === 200 && rotated.body.kid && rotated.body.kid !== oldKid,
      'rotate answers a new kid', { oldKid, rotated });
    check(keysAfter.length === 1 && keysAfter[0].kid === rotated.body.kid && !keysAfter.some((k) => k.kid === oldKid),
      'after rotation the JWKS holds the new key only', keysAfter);
    const late = await token(issuer, {
      grant_type: 'authorization_code', code: new URL(u).searchParams.get('code'), redirect_uri: REDIRECT_URI,
      code_verifier: v,
    }, { clientId: 'web', secret: 'web-secret' });
    const lateToken = verifyJwt(late.body.id_token, keysAfter);
    check(late.status === 200 && lateToken.valid && lateToken.kid === rotated.body.kid,
      'a code issued before rotation is redeemed after it, signed with the new key', { late, lateToken });
    const again = await login(issuer, 'alice', { jar });
    check(again.exchanged.status === 200 && verifyJwt(again.exchanged.body.id_token, keysAfter).valid,
      'same issuer URL, same clients, same session after rotation', again.exchanged);
  }

  // Isolation.
  {
    const other = await post('/issuers', { clients: [{ client_id: 'web', client_secret: 'other', redirect_uris: [REDIRECT_URI] }] });
    const otherKeys = await jwks(other.body.issuer);
    check(other.body.issuer !== issuer && otherKeys[0].kid !== (await jwks(issuer))[0].kid,
      'a second issuer has its own port and key', { other, otherKeys });
    const { params: p } = authParams('spa');
    const result = await browse(authorizationUrl(other.body.issuer, p), { account: 'alice', stopAt: REDIRECT_URI });
    check(result.status === 400 && /invalid_client/.test(result.body),
      "one issuer's clients are unknown to another", { status: result.status });
    const bad = await post('/issuers', { clients: [] });
    check(bad.status === 400 && bad.body.error, 'POST /issuers without clients: 400', bad);
    const badClient = await post('/issuers', { clients: [{ client_id: 'x', redirect_uris: ['not a url'] }] });
    check(badClient.status === 400 && badClient.body.error, 'POST /issuers with bad client metadata: 400', badClient);
    const deleted = await fetch(`${control}/issuers/${other.body.id}`, { method: 'DELETE' });
    const gone = await fetch(`${other.body.issuer}/jwks`).then(() => 'still up', () => 'gone');
    check(deleted.status === 200 && gone === 'gone', 'DELETE /issuers/<id> closes it', { status: deleted.status, gone });
  }
}

const started = await startControl();
try {
  await main(started.url);
} catch (error) {
  failures += 1;
  console.log(`not ok - unexpected error: ${error.stack}`);
} finally {
  if (started.child) {
    started.child.kill();
    const noise = started.output().split('\n').filter((line) => line && !line.startsWith('OpenID provider control server on'));
    check(noise.length === 0, 'server.mjs printed nothing besides its start line', noise);
  }
}
console.log(`${passed} passed, ${failures} failed`);
process.exit(failures ? 1 : 0);

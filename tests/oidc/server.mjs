// A throw-away OpenID provider for doorward's OAuth/OIDC tests.
//
// `node tests/oidc/server.mjs` starts a control server on
// 127.0.0.1:${OIDC_CONTROL_PORT:-9400}. Every test asks it for an issuer of
// its own (POST /issuers): a new oidc-provider instance on a fresh port, with
// its own signing key, clients and storage. See README.md for the API.

import { generateKeyPair, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { promisify } from 'node:util';

// oidc-provider announces its development-only defaults (in-memory storage,
// devInteractions, default TTLs, the runtime it prefers, ...) with
// console.warn / console.info. They are what a test provider wants, so they
// are dropped; everything else still reaches stderr. This has to happen
// before the module is loaded, hence the dynamic imports.
for (const level of ['warn', 'info']) {
  const original = console[level].bind(console);
  console[level] = (first, ...rest) => {
    if (typeof first === 'string' && first.includes('oidc-provider ')) return;
    original(first, ...rest);
  };
}

const { default: Provider, interactionPolicy } = await import('oidc-provider');
// The same in-memory storage oidc-provider uses by default, but one per
// issuer, kept across key rotations (sessions, grants and codes survive).
const { createMemoryAdapter } = await import('oidc-provider/lib/adapters/memory_adapter.js');

const CONTROL_PORT = Number(process.env.OIDC_CONTROL_PORT || 9400);
const HOST = '127.0.0.1';
// Fixed test keys: cookies stay valid across key rotations.
const COOKIE_KEYS = ['doorward-test-cookie-key-1', 'doorward-test-cookie-key-2'];

const generateRsa = promisify(generateKeyPair);

async function signingKey() {
  const { privateKey } = await generateRsa('rsa', { modulusLength: 2048 });
  const jwk = privateKey.export({ format: 'jwk' });
  return { ...jwk, kid: randomBytes(12).toString('base64url'), alg: 'RS256', use: 'sig' };
}

// Claims of an account: the account id is whatever was typed as the login.
function accountClaims(id, overrides = {}) {
  const email = id.includes('@') ? id : `${id}@example.test`;
  return {
    sub: id,
    email,
    email_verified: !id.startsWith('unverified'),
    name: id,
    preferred_username: email.split('@')[0],
    ...overrides,
    sub: id, // oidc-provider insists on sub === the account id
  };
}

// Every test client is first-party: the requested scopes and claims are
// granted without a consent page, so the user sees one login form only.
async function loadExistingGrant(ctx) {
  const { oidc } = ctx;
  const accountId = oidc.session.accountId;
  const clientId = oidc.client.clientId;
  const grantId = oidc.result?.consent?.grantId || oidc.session.grantIdFor(clientId);
  let grant = grantId ? await oidc.provider.Grant.find(grantId) : undefined;
  if (!grant || grant.accountId !== accountId || grant.clientId !== clientId) {
    grant = new oidc.provider.Grant({ accountId, clientId });
  }
  const scopes = [...oidc.requestParamOIDCScopes].join(' ');
  if (scopes) grant.addOIDCScope(scopes);
  const claims = [...oidc.requestParamClaims];
  if (claims.length) grant.addOIDCClaims(claims);
  await grant.save();
  return grant;
}

function interactions() {
  const policy = interactionPolicy.base();
  // No consent page, not even for prompt=consent (which oidc-provider
  // requires before it grants offline_access) or native clients.
  const consent = policy.get('consent');
  consent.checks.remove('consent_prompt');
  consent.checks.remove('native_client_prompt');
  return { policy };
}

function clientMetadata(client) {
  if (!client || typeof client.client_id !== 'string' || !Array.isArray(client.redirect_uris)) {
    throw new Error('each client needs a client_id and redirect_uris');
  }
  const metadata = {
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: client.client_secret === undefined ? 'none' : 'client_secret_basic',
    ...client,
  };
  if (client.client_secret === undefined) delete metadata.client_secret;
  return metadata;
}

function makeProvider(issuer, { clients, accounts, adapter, jwk }) {
  const provider = new Provider(issuer, {
    adapter,
    clients,
    jwks: { keys: [jwk] },
    cookies: { keys: COOKIE_KEYS },
    responseTypes: ['code'],
    scopes: ['openid', 'email', 'profile', 'offline_access'],
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name', 'preferred_username'],
    },
    // Claims of the requested scopes go into the ID token too.
    conformIdTokenClaims: false,
    // PKCE (S256, the only method oidc-provider 9 knows) for every client,
    // not only the public ones.
    pkce: { required: () => true },
    features: { devInteractions: { enabled: true } },
    interactions: interactions(),
    loadExistingGrant,
    async findAccount(ctx, id) {
      return {
        accountId: id,
        async claims() {
          return accountClaims(id, accounts?.[id]);
        },
      };
    },
  });
  provider.on('server_error', (ctx, error) => {
    console.error(`[${issuer}] ${ctx.method} ${ctx.path}:`, error);
  });
  return provider;
}

const issuers = new Map(); // id (port) -> entry

async function createIssuer({ clients, accounts } = {}) {
  if (!Array.isArray(clients) || clients.length === 0) {
    throw new Error('"clients" must be a non-empty array');
  }
  if (accounts !== undefined && (accounts === null || typeof accounts !== 'object')) {
    throw new Error('"accounts" must be an object');
  }
  const entry = {
    clients: clients.map(clientMetadata),
    accounts,
    adapter: createMemoryAdapter(),
    handler: null,
    provider: null,
    kid: null,
  };
  const server = createServer((req, res) => entry.handler(req, res));
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, HOST, resolve);
  });
  const { port } = server.address();
  entry.server = server;
  entry.issuer = `http://${HOST}:${port}`;
  entry.id = String(port);
  try {
    await installProvider(entry);
  } catch (error) {
    server.close();
    throw error;
  }
  issuers.set(entry.id, entry);
  return { issuer: entry.issuer, id: entry.id };
}

// A new Provider (same issuer, port, clients and storage) with a new key.
async function installProvider(entry) {
  const jwk = await signingKey();
  const provider = makeProvider(entry.issuer, { ...entry, jwk });
  // Static clients are checked when first used: surface bad metadata now.
  for (const { client_id: clientId } of entry.clients) {
    await provider.Client.find(clientId);
  }
  entry.provider = provider;
  entry.handler = provider.callback();
  entry.kid = jwk.kid;
  return jwk.kid;
}

async function closeIssuer(entry) {
  issuers.delete(entry.id);
  entry.server.closeAllConnections?.();
  await new Promise((resolve) => entry.server.close(() => resolve()));
}

function send(res, status, body) {
  const json = typeof body !== 'string';
  const text = json ? JSON.stringify(body) : body;
  res.writeHead(status, {
    'content-type': json ? 'application/json' : 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

async function readJson(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  const text = Buffer.concat(chunks).toString('utf8');
  return text.trim() ? JSON.parse(text) : {};
}

async function control(req, res) {
  const { pathname } = new URL(req.url, `http://${HOST}`);
  const parts = pathname.split('/').filter(Boolean);

  if (req.method === 'GET' && pathname === '/health') return send(res, 200, 'ok');

  if (parts[0] === 'issuers') {
    if (parts.length === 1 && req.method === 'POST') {
      let body;
      try {
        body = await readJson(req);
      } catch {
        return send(res, 400, { error: 'body is not JSON' });
      }
      try {
        return send(res, 201, await createIssuer(body));
      } catch (error) {
        return send(res, 400, { error: error.error_description || error.message });
      }
    }
    const entry = issuers.get(parts[1]);
    if (parts.length >= 2 && !entry) return send(res, 404, { error: 'no such issuer' });
    if (parts.length === 2 && req.method === 'GET') {
      return send(res, 200, { issuer: entry.issuer, id: entry.id, kid: entry.kid });
    }
    if (parts.length === 2 && req.method === 'DELETE') {
      await closeIssuer(entry);
      return send(res, 200, { closed: entry.id });
    }
    if (parts.length === 3 && parts[2] === 'rotate' && req.method === 'POST') {
      return send(res, 200, { kid: await installProvider(entry) });
    }
  }
  return send(res, 404, { error: 'not found' });
}

const controlServer = createServer((req, res) => {
  control(req, res).catch((error) => {
    console.error('control server:', error);
    if (!res.headersSent) send(res, 500, { error: String(error?.message || error) });
  });
});

controlServer.on('error', (error) => {
  console.error(`cannot listen on ${HOST}:${CONTROL_PORT}: ${error.message}`);
  process.exit(1);
});

controlServer.listen(CONTROL_PORT, HOST, () => {
  console.error(`OpenID provider control server on http://${HOST}:${CONTROL_PORT}`);
});

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => process.exit(0));
}

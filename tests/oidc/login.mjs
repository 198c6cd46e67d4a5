// A scripted user at a browser, for the OpenID provider of server.mjs.
//
//   import { browse } from './login.mjs';
//   const { url } = await browse(authorizationUrl, { account: 'alice', stopAt: redirectUri });
//
//   node tests/oidc/login.mjs <url> <account> [stopAt] [--cancel]
//
// browse() GETs `url` and follows redirects by hand, keeping cookies per
// host:port. A page holding a login form (inputs `login` and `password`) is
// submitted with login=<account>, password=anything and the form's hidden
// inputs; with `cancel: true` the page's "[ Cancel ]" link is followed
// instead (the provider then redirects with error=access_denied).
// When a redirect's Location starts with `stopAt` it is not requested and
// { url } is returned; otherwise the final non-redirect response is
// returned as { url, status, body }.

import { pathToFileURL } from 'node:url';

const MAX_STEPS = 30;

export class CookieJar {
  #cookies = new Map(); // "host:port" -> Map("name;path" -> { name, value, path, expires })

  store(url, setCookieHeaders) {
    const { host, pathname } = new URL(url);
    const cookies = this.#cookies.get(host) ?? new Map();
    this.#cookies.set(host, cookies);
    for (const header of setCookieHeaders) {
      const [pair, ...attributes] = header.split(';');
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      let path = pathname.slice(0, pathname.lastIndexOf('/')) || '/';
      let expires;
      for (const attribute of attributes) {
        const [key, ...rest] = attribute.split('=');
        const val = rest.join('=').trim();
        switch (key.trim().toLowerCase()) {
          case 'path':
            if (val.startsWith('/')) path = val;
            break;
          case 'expires':
            expires ??= Date.parse(val);
            break;
          case 'max-age':
            expires = Date.now() + Number(val) * 1000;
            break;
          default:
        }
      }
      const key = `${name};${path}`;
      if (expires !== undefined && expires <= Date.now()) cookies.delete(key);
      else cookies.set(key, { name, value, path, expires });
    }
  }

  header(url) {
    const { host, pathname } = new URL(url);
    const now = Date.now();
    const matching = [...(this.#cookies.get(host)?.values() ?? [])].filter(
      ({ path, expires }) => (expires === undefined || expires > now)
        && (pathname === path
          || (pathname.startsWith(path) && (path.endsWith('/') || pathname[path.length] === '/'))),
    );
    // Longer paths first, as browsers do.
    matching.sort((a, b) => b.path.length - a.path.length);
    return matching.map(({ name, value }) => `${name}=${value}`).join('; ');
  }
}

const decode = (text) => text
  .replace(/&quot;/g, '"')
  .replace(/&#0*39;|&#x0*27;|&apos;/gi, "'")
  .replace(/&lt;/g, '<')
  .replace(/&gt;/g, '>')
  .replace(/&#x([0-9a-f]+);/gi, (_, hex) => String.fromCodePoint(parseInt(hex, 16)))
  .replace(/&#([0-9]+);/g, (_, dec) => String.fromCodePoint(Number(dec)))
  .replace(/&amp;/g, '&');

function attributes(tag) {
  const result = {};
  const re = /([^\s=<>"'/]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>"']+)))?/g;
  let match;
  re.exec(tag); // the tag name
  while ((match = re.exec(tag))) {
    result[match[1].toLowerCase()] = decode(match[2] ?? match[3] ?? match[4] ?? '');
  }
  return result;
}

// The first form with inputs `login` and `password`: { action, method, fields }.
export function findLoginForm(html, pageUrl) {
  for (const [, open, inner] of html.matchAll(/(<form\b[^>]*>)([\s\S]*?)<\/form>/gi)) {
    const inputs = [...inner.matchAll(/<input\b[^>]*>/gi)].map(([tag]) => attributes(tag));
    const names = new Set(inputs.map((input) => input.name));
    if (!names.has('login') || !names.has('password')) continue;
    const form = attributes(open);
    const fields = {};
    for (const input of inputs) {
      if (input.name && (input.type ?? 'text').toLowerCase() === 'hidden') {
        fields[input.name] = input.value ?? '';
      }
    }
    return {
      action: new URL(form.action || pageUrl, pageUrl).href,
      method: (form.method || 'get').toUpperCase(),
      fields,
    };
  }
  return undefined;
}

// The page's cancel link (devInteractions: <a href="/interaction/<uid>/abort">[ Cancel ]</a>).
export function findCancelLink(html, pageUrl) {
  for (const [, open, text] of html.matchAll(/(<a\b[^>]*>)([\s\S]*?)<\/a>/gi)) {
    const { href } = attributes(open);
    if (href && (/cancel/i.test(text) || /\/abort(?:$|[?#])/.test(href))) {
      return new URL(href, pageUrl).href;
    }
  }
  return undefined;
}

export async function browse(url, {
  account, stopAt, cancel = false, jar = new CookieJar(), password = 'anything',
} = {}) {
  let request = { url: new URL(url).href, method: 'GET', body: undefined };
  for (let step = 0; step < MAX_STEPS; step += 1) {
    const headers = { accept: 'text/html,application/json;q=0.9,*/*;q=0.8' };
    const cookie = jar.header(request.url);
    if (cookie) headers.cookie = cookie;
    if (request.body !== undefined) headers['content-type'] = 'application/x-www-form-urlencoded';
    const response = await fetch(request.url, {
      method: request.method, headers, body: request.body, redirect: 'manual',
    });
    jar.store(request.url, response.headers.getSetCookie());

    const location = response.headers.get('location');
    if (response.status >= 300 && response.status < 400 && location) {
      await response.arrayBuffer();
      const next = new URL(location, request.url).href;
      if (stopAt && next.startsWith(stopAt)) return { url: next };
      request = { url: next, method: 'GET', body: undefined };
      continue;
    }

    const body = await response.text();
    const form = /html/i.test(response.headers.get('content-type') ?? '')
      ? findLoginForm(body, request.url)
      : undefined;
    if (form) {
      if (cancel) {
        const abort = findCancelLink(body, request.url);
        if (!abort) throw new Error(`login page at ${request.url} has no cancel link`);
        request = { url: abort, method: 'GET', body: undefined };
        continue;
      }
      if (account === undefined) throw new Error(`login form at ${request.url} but no account given`);
      const fields = new URLSearchParams({ ...form.fields, login: account, password });
      request = form.method === 'POST'
        ? { url: form.action, method: 'POST', body: fields.toString() }
        : { url: `${form.action.split('?')[0]}?${fields}`, method: 'GET', body: undefined };
      continue;
    }
    return { url: request.url, status: response.status, body };
  }
  throw new Error(`more than ${MAX_STEPS} requests, giving up at ${request.url}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2);
  const cancel = args.includes('--cancel');
  const [url, account, stopAt] = args.filter((arg) => arg !== '--cancel');
  if (!url || (account === undefined && !cancel)) {
    console.error('usage: node tests/oidc/login.mjs <url> <account> [stopAt] [--cancel]');
    process.exit(2);
  }
  try {
    const result = await browse(url, { account, stopAt, cancel });
    if (result.status === undefined) {
      console.log(result.url);
    } else {
      console.log(result.status);
      console.log(result.body);
    }
  } catch (error) {
    console.error(error.message);
    process.exit(1);
  }
}

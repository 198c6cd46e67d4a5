// The doorward console: a page per hash route, drawn with DOM calls
// (textContent, never innerHTML), talking only to this origin's api/.

// Where the console is mounted (`/`, `/admin/`): the page says.
const base = document.querySelector('meta[name="doorward-console-base"]').content;
const main = document.getElementById('main');
const nav = document.getElementById('nav');
const who = document.getElementById('who');
let session = null;

// --- the API --------------------------------------------------------------

class ApiError extends Error {
  constructor(status, body) {
    const detail = (body && body.error) || {};
    super(detail.message || `HTTP ${status}`);
    this.status = status;
    this.code = detail.code || 'http_error';
    this.field = detail.field || null;
  }
}

async function call(method, path, body) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (session && method !== 'GET') headers['X-CSRF-Token'] = session.csrf_token;
  const response = await fetch(`${base}api/${path}`, {
    method,
    headers,
    credentials: 'same-origin',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 204) return null;
  const type = response.headers.get('Content-Type') || '';
  const data = type.includes('json') ? await response.json() : await response.text();
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

let refreshing = null;

// One refresh at a time: two would present one refresh token twice, which
// the core treats as theft and answers by ending the session.
async function api(method, path, body) {
  try {
    return await call(method, path, body);
  } catch (err) {
    if (!(err instanceof ApiError) || err.code !== 'token_expired' || !session) throw err;
    refreshing = refreshing || call('POST', 'session/refresh').finally(() => { refreshing = null; });
    await refreshing;
    return call(method, path, body);
  }
}

// --- drawing --------------------------------------------------------------

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
    else if (key === 'class') el.className = value;
    else el.setAttribute(key, value === true ? '' : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

function show(...nodes) {
  main.replaceChildren(...nodes.filter((n) => n !== null && n !== undefined && n !== false));
}

function when(iso) {
  return iso ? new Date(iso).toLocaleString() : '–';
}

function problem(err) {
  return h('p', { class: 'error', role: 'alert' }, `${err.code}: ${err.message}`);
}

// Runs an action and redraws; errors appear where `where` says.
function action(fn, where) {
  return async (event) => {
    if (event) event.preventDefault();
    try {
      await fn(event);
      await route();
    } catch (err) {
      if (where) where.replaceChildren(problem(err));
      else show(problem(err));
    }
  };
}

// --- signing in -----------------------------------------------------------

function signInPage(message) {
  nav.hidden = true;
  who.replaceChildren();
  const status = h('div', {}, message ? problem(message) : null);
  const form = h('form', { class: 'card', id: 'sign-in' },
    h('h1', {}, 'Sign in to the console'),
    h('input', { name: 'login', placeholder: 'username or email', autocomplete: 'username', required: true }),
    h('input', { name: 'password', type: 'password', placeholder: 'password', autocomplete: 'current-password', required: true }),
    h('button', { class: 'primary', type: 'submit' }, 'Sign in'),
    status);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    try {
      const answer = await call('POST', 'session', { login: data.get('login'), password: data.get('password') });
      if (answer.mfa_required) return secondFactorPage(answer);
      session = answer;
      await route();
    } catch (err) {
      status.replaceChildren(problem(err));
    }
  });
  show(form);
}

function secondFactorPage(challenge) {
  const status = h('div');
  const methods = challenge.methods.filter((m) => m !== 'passkey');
  const form = h('form', { class: 'card', id: 'second-factor' },
    h('h1', {}, 'Second factor'),
    h('select', { name: 'method' }, methods.map((m) => h('option', { value: m }, m))),
    h('input', { name: 'code', placeholder: 'code', autocomplete: 'one-time-code', required: true }),
    h('button', { class: 'primary', type: 'submit' }, 'Continue'),
    status);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    try {
      session = await call('POST', 'session/mfa', { flow_id: challenge.flow_id, method: data.get('method'), code: data.get('code') });
      await route();
    } catch (err) {
      status.replaceChildren(problem(err));
    }
  });
  show(form);
}

function header() {
  nav.hidden = false;
  const page = (location.hash.split('/')[1] || 'dashboard').split('?')[0];
  for (const link of nav.querySelectorAll('a')) {
    link.classList.toggle('active', link.getAttribute('href') === `#/${page}`);
  }
  who.replaceChildren(
    h('span', {}, session.username, session.can_write ? '' : ' (read only)'),
    h('button', { id: 'sign-out', onclick: action(async () => { await api('DELETE', 'session'); session = null; }) }, 'Sign out'));
}

// --- Dashboard --------------------------------------------------------------

// The SVG namespace, as the HTML parser gives it (the files name no URL).
const SVG = (() => {
  const t = document.createElement('template');
  t.innerHTML = '<svg></svg>';
  return t.content.firstChild.namespaceURI;
})();

function svg(tag, attrs, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) el.setAttribute(key, String(value));
  el.append(...children);
  return el;
}

// Bars for each series, stacked; drawn here, with no chart library.
function bars(id, title, points, series) {
  const width = 720;
  const height = 160;
  const top = Math.max(1, ...points.map((p) => series.reduce((sum, s) => sum + p[s.key], 0)));
  const step = width / points.length;
  const chart = svg('svg', { id, viewBox: `0 0 ${width} ${height + 20}`, role: 'img', 'aria-label': title, class: 'chart' });
  points.forEach((p, i) => {
    let y = height;
    for (const s of series) {
      const size = (p[s.key] / top) * (height - 24);
      if (size > 0) {
        y -= size;
        const bar = svg('rect', { x: i * step + 1, y, width: Math.max(1, step - 2), height: size, class: s.class });
        bar.append(svg('title', {}, `${p.label}: ${p[s.key]} ${s.name}`));
        chart.append(bar);
      }
    }
  });
  chart.append(svg('text', { x: 0, y: height + 16, class: 'axis' }, points[0].label),
    svg('text', { x: width, y: height + 16, class: 'axis end' }, points[points.length - 1].label),
    svg('text', { x: width, y: 12, class: 'axis end' }, `max ${top}`));
  return h('figure', {}, h('figcaption', {}, title), chart);
}

async function dashboardPage() {
  const d = await api('GET', 'dashboard');
  const tile = (label, value, id) => h('div', { class: 'tile', id }, h('div', { class: 'value' }, String(value)), h('div', { class: 'muted' }, label));
  const days = d.users_per_day.map((p) => ({ label: new Date(p.day).toLocaleDateString(), count: p.count }));
  const hours = d.logins_per_hour.map((p) => ({ label: new Date(p.hour).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }), succeeded: p.succeeded, failed: p.failed }));
  show(h('h1', {}, 'Dashboard'),
    h('div', { class: 'tiles' },
      tile('accounts', d.users_total, 'users-total'),
      tile('live sessions', d.active_sessions, 'active-sessions'),
      tile('locked out now', d.locked_accounts, 'locked'),
      tile('outbox backlog', d.outbox_backlog, 'backlog'),
      tile('deliveries waiting', d.pending_deliveries, 'pending'),
      tile('dead letters', d.dead_letters, 'dead')),
    bars('new-users', 'New accounts per day (30 days)', days, [{ key: 'count', name: 'accounts', class: 'bar' }]),
    bars('logins', 'Logins per hour (24 hours): succeeded and failed', hours,
      [{ key: 'succeeded', name: 'succeeded', class: 'bar' }, { key: 'failed', name: 'failed', class: 'bar bad' }]));
}

// --- Sessions -------------------------------------------------------------

async function sessionsPage(params) {
  const query = new URLSearchParams({ limit: '100' });
  if (params.get('cursor')) query.set('cursor', params.get('cursor'));
  const page = await api('GET', `sessions?${query}`);
  const status = h('div', { id: 'status' });
  const rows = page.items.map((s) => h('tr', {},
    h('td', {}, h('a', { href: `#/users/${s.user_id}` }, h('code', {}, s.user_id))),
    h('td', {}, when(s.created_at)), h('td', {}, when(s.expires_at)), h('td', {}, s.ip || '–'), h('td', {}, s.user_agent || '–'),
    h('td', {}, session.can_write ? h('button', { 'data-session': s.id, onclick: action(() => api('DELETE', `sessions/${encodeURIComponent(s.id)}`), status) }, 'Revoke') : '')));
  show(h('h1', {}, 'Sessions'), status,
    h('table', { id: 'all-sessions' },
      h('thead', {}, h('tr', {}, h('th', {}, 'Account'), h('th', {}, 'Started'), h('th', {}, 'Expires'), h('th', {}, 'Address'), h('th', {}, 'Agent'), h('th'))),
      h('tbody', {}, rows)),
    rows.length ? null : h('p', { class: 'muted' }, 'No live session.'),
    page.next_cursor ? h('p', {}, h('a', { href: `#/sessions?cursor=${encodeURIComponent(page.next_cursor)}` }, 'Next page')) : null);
}

// --- Users ----------------------------------------------------------------

async function usersPage(params) {
  const q = params.get('q') || '';
  const cursor = params.get('cursor');
  const query = new URLSearchParams({ limit: '50' });
  if (q) query.set('q', q);
  if (cursor) query.set('cursor', cursor);
  const page = await api('GET', `users?${query}`);
  const search = h('form', { class: 'inline', id: 'user-search' },
    h('input', { name: 'q', value: q, placeholder: 'start of a name or address' }),
    h('button', { type: 'submit' }, 'Search'));
  search.addEventListener('submit', (event) => {
    event.preventDefault();
    const value = new FormData(search).get('q');
    location.hash = value ? `#/users?q=${encodeURIComponent(value)}` : '#/users';
  });
  const rows = page.items.map((u) => {
    const row = h('tr', { class: 'link', 'data-user': u.id },
      h('td', {}, u.username),
      h('td', {}, u.email),
      h('td', {}, u.disabled ? h('span', { class: 'flag bad' }, 'disabled') : '',
        u.email_verified_at ? h('span', { class: 'flag' }, 'verified') : ''),
      h('td', {}, when(u.created_at)));
    row.addEventListener('click', () => { location.hash = `#/users/${u.id}`; });
    return row;
  });
  const more = page.next_cursor
    ? h('p', {}, h('a', { href: `#/users?${new URLSearchParams({ q, cursor: page.next_cursor })}` }, 'Next page'))
    : null;
  show(h('h1', {}, 'Users'), search,
    h('table', { id: 'users' },
      h('thead', {}, h('tr', {}, h('th', {}, 'Username'), h('th', {}, 'Email'), h('th', {}, 'State'), h('th', {}, 'Created'))),
      h('tbody', {}, rows)),
    rows.length ? null : h('p', { class: 'muted' }, 'No account matches.'),
    more);
}

async function userPage(id) {
  const d = await api('GET', `users/${encodeURIComponent(id)}`);
  const [roles, status] = [await api('GET', 'roles'), h('div', { id: 'status' })];
  const u = d.user;
  const path = `users/${encodeURIComponent(u.id)}`;
  const write = session.can_write;
  const info = h('div', { class: 'grid' },
    h('span', { class: 'muted' }, 'id'), h('code', {}, u.id),
    h('span', { class: 'muted' }, 'email'), h('span', {}, u.email, u.email_verified_at ? ' (verified)' : ' (not verified)'),
    h('span', { class: 'muted' }, 'created'), h('span', {}, when(u.created_at)),
    h('span', { class: 'muted' }, 'last login'), h('span', {}, when(u.last_login_at)),
    h('span', { class: 'muted' }, 'state'), h('span', {}, u.disabled ? 'disabled' : 'active',
      u.locked_until ? ` · locked until ${when(u.locked_until)}` : '',
      u.failed_logins ? ` · ${u.failed_logins} failed logins` : ''));
  const actions = write ? h('div', { class: 'actions' },
    u.disabled
      ? h('button', { id: 'enable', onclick: action(() => api('POST', `${path}/enable`), status) }, 'Enable')
      : h('button', { id: 'disable', onclick: action(() => api('POST', `${path}/disable`), status) }, 'Disable'),
    h('button', { id: 'unlock', onclick: action(() => api('POST', `${path}/unlock`), status) }, 'Unlock'),
    h('button', { id: 'send-reset', onclick: action(() => api('POST', `${path}/reset`), status) }, 'Send a password reset'),
    h('button', {
      id: 'delete', class: 'danger',
      onclick: action(async () => {
        const typed = prompt(`Type ${u.username} to delete this account for good.`);
        if (typed === null) return;
        await api('DELETE', path, { confirm: typed });
        location.hash = '#/users';
      }, status),
    }, 'Delete')) : null;
  // A new password for the account (every session of it ends); typed into
  // a password field, never a prompt that would show it.
  const setPassword = h('form', { class: 'inline', id: 'set-password' },
    h('input', { name: 'password', type: 'password', placeholder: 'new password', autocomplete: 'new-password', required: true }),
    h('button', { type: 'submit' }, 'Set the password'));
  setPassword.addEventListener('submit', action(() => api('POST', `${path}/password`, { password: new FormData(setPassword).get('password') }), status));
  const grant = h('form', { class: 'inline', id: 'grant' },
    h('select', { name: 'role' }, roles.filter((r) => !d.roles.includes(r.name)).map((r) => h('option', { value: r.name }, r.name))),
    h('button', { type: 'submit' }, 'Grant'));
  grant.addEventListener('submit', action(() => api('POST', `${path}/roles`, { role: new FormData(grant).get('role') }), status));
  const roleRows = d.roles.map((r) => h('tr', {}, h('td', {}, r),
    h('td', {}, write ? h('button', { 'data-revoke': r, onclick: action(() => api('DELETE', `${path}/roles/${encodeURIComponent(r)}`), status) }, 'Revoke') : '')));
  const sessionRows = d.sessions.map((s) => h('tr', {}, h('td', {}, h('code', {}, s.id)), h('td', {}, when(s.created_at)),
    h('td', {}, s.ip || '–'), h('td', {}, s.user_agent || '–'),
    h('td', {}, write ? h('button', { 'data-session': s.id, onclick: action(() => api('DELETE', `${path}/sessions/${encodeURIComponent(s.id)}`), status) }, 'Revoke') : '')));
  const factors = h('div', { class: 'grid', id: 'factors' },
    h('span', { class: 'muted' }, 'second factor'), h('span', {}, d.mfa.enabled ? 'required at login' : 'none'),
    h('span', { class: 'muted' }, 'authenticator app'), h('span', {}, d.mfa.totp ? `yes · ${d.mfa.recovery_codes_left} recovery codes left` : 'no'),
    h('span', { class: 'muted' }, 'passkeys'), h('span', {}, d.passkeys.length
      ? d.passkeys.map((p) => `${p.name} (added ${when(p.created_at)}, last used ${when(p.last_used_at)})`).join(' · ') : 'none'),
    h('span', { class: 'muted' }, 'sign-in providers'), h('span', {}, d.identities.length
      ? d.identities.map((i) => `${i.provider}${i.email ? ` (${i.email})` : ''}`).join(' · ') : 'none'));
  const auditRows = d.audit.slice().reverse().map((a) => h('tr', {},
    h('td', {}, when(a.occurred_at)), h('td', {}, a.event_type), h('td', {}, a.outcome || ''), h('td', {}, a.ip || '')));
  show(h('h1', {}, u.username), status, info, actions, write ? setPassword : null,
    h('h2', {}, 'Factors'), factors,
    h('h2', {}, 'Roles'), h('table', { id: 'roles' }, h('tbody', {}, roleRows)), write ? grant : null,
    h('h2', {}, 'Sessions'),
    write && d.sessions.length ? h('button', { id: 'revoke-all', onclick: action(() => api('DELETE', `${path}/sessions`), status) }, 'Revoke all') : null,
    h('table', { id: 'sessions' },
      h('thead', {}, h('tr', {}, h('th', {}, 'Session'), h('th', {}, 'Started'), h('th', {}, 'Address'), h('th', {}, 'Agent'), h('th'))),
      h('tbody', {}, sessionRows)),
    d.sessions.length ? null : h('p', { class: 'muted' }, 'No live session.'),
    h('h2', {}, 'Audit'),
    h('table', { id: 'user-audit' }, h('tbody', {}, auditRows)));
}

// --- Roles ----------------------------------------------------------------

async function rolesPage() {
  const roles = await api('GET', 'roles');
  const status = h('div', { id: 'status' });
  const create = h('form', { class: 'inline', id: 'create-role' },
    h('input', { name: 'name', placeholder: 'name', required: true }),
    h('input', { name: 'permissions', placeholder: 'permissions, space separated (posts:*)' }),
    h('input', { name: 'description', placeholder: 'description' }),
    h('button', { type: 'submit' }, 'Create'));
  create.addEventListener('submit', action(() => {
    const data = new FormData(create);
    const permissions = String(data.get('permissions') || '').split(/\s+/).filter(Boolean);
    return api('POST', 'roles', { name: data.get('name'), permissions, description: data.get('description') });
  }, status));
  const rows = roles.map((r) => h('tr', {},
    h('td', {}, h('a', { href: `#/roles/${encodeURIComponent(r.name)}` }, r.name)), h('td', {}, r.permissions.join(' ')), h('td', {}, r.description),
    h('td', {}, r.builtin ? h('span', { class: 'muted' }, 'built-in')
      : session.can_write ? h('button', { class: 'danger', 'data-delete': r.name, onclick: action(() => api('DELETE', `roles/${encodeURIComponent(r.name)}`), status) }, 'Delete') : '')));
  show(h('h1', {}, 'Roles'), status, session.can_write ? create : null,
    h('table', { id: 'roles' },
      h('thead', {}, h('tr', {}, h('th', {}, 'Name'), h('th', {}, 'Permissions'), h('th', {}, 'Description'), h('th'))),
      h('tbody', {}, rows)));
}

async function holdersPage(name, params) {
  const query = new URLSearchParams({ limit: '100' });
  if (params.get('cursor')) query.set('cursor', params.get('cursor'));
  const page = await api('GET', `roles/${encodeURIComponent(name)}/holders?${query}`);
  const rows = page.items.map((u) => {
    const row = h('tr', { class: 'link', 'data-user': u.id }, h('td', {}, u.username), h('td', {}, u.email), h('td', {}, when(u.created_at)));
    row.addEventListener('click', () => { location.hash = `#/users/${u.id}`; });
    return row;
  });
  show(h('h1', {}, `Holders of ${name}`), h('p', {}, h('a', { href: '#/roles' }, 'All roles')),
    h('table', { id: 'holders' },
      h('thead', {}, h('tr', {}, h('th', {}, 'Username'), h('th', {}, 'Email'), h('th', {}, 'Created'))),
      h('tbody', {}, rows)),
    rows.length ? null : h('p', { class: 'muted' }, 'Nobody holds this role.'),
    page.next_cursor ? h('p', {}, h('a', { href: `#/roles/${encodeURIComponent(name)}?cursor=${encodeURIComponent(page.next_cursor)}` }, 'Next page')) : null);
}

// --- Audit ----------------------------------------------------------------

async function auditPage(params) {
  const query = new URLSearchParams({ limit: '100' });
  for (const key of ['user_id', 'type', 'since', 'until', 'cursor']) {
    const value = params.get(key);
    if (value) query.set(key, key === 'since' || key === 'until' ? new Date(value).toISOString() : value);
  }
  const page = await api('GET', `audit?${query}`);
  const verdict = h('div', { id: 'verdict' });
  const filter = h('form', { class: 'inline', id: 'audit-filter' },
    h('input', { name: 'user_id', placeholder: 'user id', value: params.get('user_id') || '' }),
    h('input', { name: 'type', placeholder: 'event type', value: params.get('type') || '' }),
    h('input', { name: 'since', type: 'datetime-local', value: params.get('since') || '' }),
    h('input', { name: 'until', type: 'datetime-local', value: params.get('until') || '' }),
    h('button', { type: 'submit' }, 'Filter'));
  filter.addEventListener('submit', (event) => {
    event.preventDefault();
    const chosen = new URLSearchParams();
    for (const [key, value] of new FormData(filter)) if (value) chosen.set(key, value);
    location.hash = `#/audit?${chosen}`;
  });
  const verify = h('button', {
    id: 'verify',
    onclick: async () => {
      try {
        const v = await api('GET', 'audit/verify');
        verdict.replaceChildren(v.ok
          ? h('p', { class: 'ok' }, `The chain holds: ${v.rows} rows verified.`)
          : h('p', { class: 'error' }, `Broken at row ${v.first_bad_seq}: ${v.problem}`));
      } catch (err) {
        verdict.replaceChildren(problem(err));
      }
    },
  }, 'Verify the chain');
  const rows = page.items.map((a) => h('tr', {},
    h('td', {}, String(a.seq)), h('td', {}, when(a.occurred_at)), h('td', {}, a.event_type),
    h('td', {}, a.outcome || ''), h('td', {}, h('code', {}, a.actor || '')), h('td', {}, h('code', {}, a.subject || '')), h('td', {}, a.ip || '')));
  const next = new URLSearchParams(params);
  if (page.next_cursor) next.set('cursor', page.next_cursor);
  show(h('h1', {}, 'Audit log'), filter,
    h('div', { class: 'actions' }, verify, h('a', { href: `${base}api/audit/export`, download: 'audit.jsonl' }, 'Export JSON Lines')),
    verdict,
    h('table', { id: 'audit' },
      h('thead', {}, h('tr', {}, h('th', {}, '#'), h('th', {}, 'When'), h('th', {}, 'Type'), h('th', {}, 'Outcome'), h('th', {}, 'Actor'), h('th', {}, 'Subject'), h('th', {}, 'Address'))),
      h('tbody', {}, rows)),
    page.next_cursor ? h('p', {}, h('a', { href: `#/audit?${next}` }, 'Next page')) : null);
}

// --- Webhooks and events --------------------------------------------------

async function webhooksPage(params) {
  const filter = params.get('status') || '';
  const query = new URLSearchParams({ limit: '100' });
  if (filter) query.set('status', filter);
  if (params.get('cursor')) query.set('cursor', params.get('cursor'));
  const [hooks, deliveries] = await Promise.all([api('GET', 'webhooks'), api('GET', `deliveries?${query}`)]);
  const status = h('div', { id: 'status' });
  const write = session.can_write;
  const add = h('form', { class: 'inline', id: 'add-webhook' },
    h('input', { name: 'url', type: 'url', placeholder: "the receiver's URL", required: true, size: 40 }),
    h('input', { name: 'event_types', placeholder: 'event types, space separated (all when empty)', size: 36 }),
    h('button', { type: 'submit' }, 'Add'));
  add.addEventListener('submit', async (event) => {
    event.preventDefault();
    const data = new FormData(add);
    const types = String(data.get('event_types') || '').split(/\s+/).filter(Boolean);
    try {
      const created = await api('POST', 'webhooks', { url: data.get('url'), event_types: types });
      await route();
      // The secret is shown this once: the receiver verifies signatures with it.
      document.getElementById('status').replaceChildren(h('p', { class: 'ok', id: 'new-secret' },
        `Added ${created.id}. Its signing secret, shown only now: `, h('code', {}, created.secret)));
    } catch (err) {
      status.replaceChildren(problem(err));
    }
  });
  const test = (id) => async () => {
    try {
      const result = await api('POST', `webhooks/${encodeURIComponent(id)}/test`);
      status.replaceChildren(result.ok
        ? h('p', { class: 'ok' }, `The receiver of ${id} answered the test.`)
        : h('p', { class: 'error' }, `The test to ${id} failed: ${result.error}`));
    } catch (err) {
      status.replaceChildren(problem(err));
    }
  };
  const hookRows = hooks.map((w) => h('tr', {},
    h('td', {}, h('code', {}, w.id)), h('td', {}, w.url), h('td', {}, w.event_types.length ? w.event_types.join(' ') : 'all'),
    h('td', {}, when(w.created_at)),
    h('td', {}, write ? h('div', { class: 'actions' },
      h('button', { 'data-test': w.id, onclick: test(w.id) }, 'Send a test'),
      h('button', { class: 'danger', 'data-remove': w.id, onclick: action(() => api('DELETE', `webhooks/${encodeURIComponent(w.id)}`), status) }, 'Remove')) : '')));
  const tabs = h('div', { class: 'actions', id: 'delivery-filter' }, ['', 'pending', 'delivered', 'dead'].map((s) =>
    h('a', { href: s ? `#/webhooks?status=${s}` : '#/webhooks', class: s === filter ? 'active' : null }, s || 'all')));
  const deliveryRows = deliveries.items.map((d) => h('tr', {},
    h('td', {}, String(d.id)), h('td', {}, h('code', {}, d.webhook_id)), h('td', {}, d.event_type),
    h('td', {}, h('span', { class: d.status === 'dead' ? 'flag bad' : 'flag' }, d.status)), h('td', {}, String(d.attempts)),
    h('td', {}, d.last_error || ''), h('td', {}, when(d.updated_at)),
    h('td', {}, write && d.status === 'dead' ? h('button', { 'data-replay': d.id, onclick: action(() => api('POST', `deliveries/${d.id}/replay`), status) }, 'Replay') : '')));
  const next = new URLSearchParams(params);
  if (deliveries.next_cursor) next.set('cursor', deliveries.next_cursor);
  show(h('h1', {}, 'Webhooks and events'), status, write ? add : null,
    h('table', { id: 'webhooks' },
      h('thead', {}, h('tr', {}, h('th', {}, 'Webhook'), h('th', {}, 'URL'), h('th', {}, 'Events'), h('th', {}, 'Added'), h('th'))),
      h('tbody', {}, hookRows)),
    hookRows.length ? null : h('p', { class: 'muted' }, 'No webhook.'),
    h('h2', {}, 'Deliveries'), tabs,
    h('table', { id: 'deliveries' },
      h('thead', {}, h('tr', {}, h('th', {}, '#'), h('th', {}, 'Webhook'), h('th', {}, 'Event'), h('th', {}, 'Status'), h('th', {}, 'Attempts'), h('th', {}, 'Last error'), h('th', {}, 'Updated'), h('th'))),
      h('tbody', {}, deliveryRows)),
    deliveryRows.length ? null : h('p', { class: 'muted' }, 'No delivery.'),
    deliveries.next_cursor ? h('p', {}, h('a', { href: `#/webhooks?${next}` }, 'Next page')) : null);
}

// --- Configuration --------------------------------------------------------

async function configPage() {
  const entries = await api('GET', 'config');
  const shown = (e) => (e.value === null ? h('span', { class: 'muted' }, 'unset')
    : typeof e.value === 'string' ? e.value : JSON.stringify(e.value));
  const rows = entries.map((e) => h('tr', { 'data-key': e.key },
    h('td', {}, h('code', {}, e.key)),
    h('td', { class: e.secret ? 'muted' : null }, shown(e)),
    h('td', {}, h('span', { class: `flag source-${e.source}` }, e.source))));
  show(h('h1', {}, 'Configuration'),
    h('p', { class: 'muted' }, 'What this instance runs with, read-only. Secrets are never shown; passwords in URLs are redacted.'),
    h('table', { id: 'config' },
      h('thead', {}, h('tr', {}, h('th', {}, 'Key'), h('th', {}, 'Value'), h('th', {}, 'From'))),
      h('tbody', {}, rows)));
}

// --- Monitoring -----------------------------------------------------------

async function monitoringPage() {
  const m = await api('GET', 'metrics');
  const ms = (v) => (v === null || v === undefined ? '–' : v < 10 ? v.toFixed(2) : v.toFixed(0));
  const labels = (l) => Object.entries(l).map(([k, v]) => `${k}=${v}`).join(' ');
  const operations = m.operations.filter((o) => o.calls > 0 || o.errors > 0).map((o) => h('tr', { 'data-operation': o.operation },
    h('td', {}, h('code', {}, o.operation)), h('td', { class: 'num' }, String(o.calls)), h('td', { class: o.errors ? 'num error' : 'num' }, String(o.errors)),
    h('td', { class: 'num' }, ms(o.mean_ms)), h('td', { class: 'num' }, ms(o.p50_ms)), h('td', { class: 'num' }, ms(o.p90_ms)), h('td', { class: 'num' }, ms(o.p99_ms))));
  const series = m.series.map((s) => h('tr', {},
    h('td', {}, h('code', {}, s.name), h('div', { class: 'muted' }, s.help)), h('td', {}, labels(s.labels)),
    h('td', {}, s.kind), h('td', { class: 'num' }, String(s.value))));
  show(h('h1', {}, 'Monitoring'),
    h('h2', {}, 'Operations since start (milliseconds; percentiles estimated from the latency histogram)'),
    h('table', { id: 'operations' },
      h('thead', {}, h('tr', {}, h('th', {}, 'Operation'), h('th', {}, 'Calls'), h('th', {}, 'Errors'), h('th', {}, 'Mean'), h('th', {}, 'p50'), h('th', {}, 'p90'), h('th', {}, 'p99'))),
      h('tbody', {}, operations)),
    h('h2', {}, 'Counters and gauges'),
    h('table', { id: 'series' },
      h('thead', {}, h('tr', {}, h('th', {}, 'Metric'), h('th', {}, 'Labels'), h('th', {}, 'Kind'), h('th', {}, 'Value'))),
      h('tbody', {}, series)));
}

// --- routing --------------------------------------------------------------

async function route() {
  if (!session) {
    try {
      session = await call('GET', 'session');
    } catch (err) {
      return signInPage(err.status === 401 ? null : err);
    }
  }
  header();
  const [path, search] = (location.hash.slice(1) || '/dashboard').split('?');
  const params = new URLSearchParams(search || '');
  const parts = path.split('/').filter(Boolean);
  try {
    if (parts[0] === 'users' && parts[1]) await userPage(decodeURIComponent(parts[1]));
    else if (parts[0] === 'roles' && parts[1]) await holdersPage(decodeURIComponent(parts[1]), params);
    else if (parts[0] === 'roles') await rolesPage();
    else if (parts[0] === 'audit') await auditPage(params);
    else if (parts[0] === 'sessions') await sessionsPage(params);
    else if (parts[0] === 'webhooks') await webhooksPage(params);
    else if (parts[0] === 'config') await configPage();
    else if (parts[0] === 'monitoring') await monitoringPage();
    else if (parts[0] === 'users') await usersPage(params);
    else await dashboardPage();
  } catch (err) {
    if (err.status === 401) {
      session = null;
      return signInPage(err);
    }
    show(problem(err));
  }
}

window.addEventListener('hashchange', route);
route();

// The dashboard: a header (node, views, live indicator), one view at a time chosen by the hash route, and one events
// stream whose events make the shown view read again what they touch.

import * as api from './api.js';
import { EventStream } from './events.js';
import { h, replace } from './dom.js';
import { absolute, relative } from './format.js';
import { confirm, toast } from './ui.js';
import * as services from './views/services.js';
import * as service from './views/service.js';
import * as deploy from './views/deploy.js';
import * as nodes from './views/nodes.js';
import * as capabilities from './views/capabilities.js';
import * as plugins from './views/plugins.js';

const views = { services, service, deploy, nodes, capabilities, plugins };
const $ = selector => document.querySelector(selector);

/** #/services/ID → service with its id; an unknown route shows the services. */
function route() {
  const parts = location.hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(part => {
    try {
      return decodeURIComponent(part);
    } catch {
      return part;  // a malformed %-escape: taken as it is
    }
  });
  if (parts[0] === 'services' && parts[1]) return { name: 'service', nav: 'services', params: { id: parts[1] } };
  const name = views[parts[0]] && parts[0] !== 'service' ? parts[0] : 'services';
  return { name, nav: name, params: {} };
}

/** What views get from the page. */
const ctx = {
  toast,
  confirm,
  navigate: hash => { location.hash = hash; },
  readOnly: api.readOnly,
  /** Marks a control that changes the node: disabled while the token is read-only. */
  guard(el) {
    el.classList.add('needs-admin');
    if (api.readOnly()) {
      el.disabled = true;
      el.title = 'Needs an admin token';
    }
    return el;
  },
};

let current = null;
let needToken = false;  // the node refused us: the token form is shown and no view asks anything until a token is given

/** The header's link of the route's view is the current page. */
function highlightNav(r = route()) {
  for (const link of document.querySelectorAll('.nav a')) {
    if (link.dataset.route === r.nav) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
}

function show() {
  const r = route();
  // A read the old view scheduled must not run after it is gone (its title, its peers asked again).
  if (current?.pending) clearTimeout(current.pending);
  current?.view.unmount?.();
  current = null;
  highlightNav(r);
  const root = $('#view');
  if (needToken) {
    replace(root);
    return;
  }
  replace(root);
  const view = views[r.name].mount(root, ctx, r.params);
  current = { name: r.name, view, pending: null, running: false, again: false };
  document.title = `${view.title ?? 'Motey'} · Motey`;
  run(current);
}

/** Reads the view's data now, unless a read is under way: then once more after it (what changed meanwhile). */
async function run(c) {
  if (c !== current) return;
  if (c.running) { c.again = true; return; }
  c.running = true;
  try {
    await c.view.refresh();
  } finally {
    c.running = false;
    if (c.again && c === current) { c.again = false; run(c); }
  }
}

/**
 * Reads the view's data again soon: events come in bursts (a deploy is a dozen image events), so the first one starts
 * a short timer and the rest of the burst rides on it; a refresh never overlaps the previous one.
 */
function schedule(delay = 150) {
  const c = current;
  if (!c || c.pending) return;
  c.pending = setTimeout(() => {
    c.pending = null;
    run(c);
  }, delay);
}

// ---- the own node's address ---------------------------------------------------------------------------------------

/** Returns false when the node wants a (different) token. */
async function loadNodeAddress() {
  try {
    const list = await api.get('/v1/nodes');
    const self = list.find(n => n.self);
    if (self) $('[data-testid="node-address"]').textContent = self.ip;
    return true;
  } catch (error) {
    // until a token lets us ask, the page's host stands for the node
    return error.status !== 401;
  }
}

/** What this token may do, before any control is drawn: a read token sees no enabled change button. */
async function loadRole() {
  try {
    const security = await api.get('/v1/security');
    if (security?.role) api.setRole(security.role);
  } catch {
    // an agent without the role (or a refusal, handled by the api's listeners): a refused change still tells
  }
  showRole();
}

/**
 * Asks one thing first: when the node wants a token, the form is all the page shows (one refused request in the
 * console, not one per view part); else the view and the events stream start.
 */
async function start() {
  stream.stop();
  highlightNav();
  needToken = false;
  if (!(await loadNodeAddress())) return;
  await loadRole();
  show();
  stream.start();
}

/** A 401 from any request: stop asking, show the form. */
function needAuth(error) {
  needToken = true;
  stream.stop();
  setLive('reconnecting');
  current?.view.unmount?.();
  current = null;
  replace($('#view'));
  showTokenForm(error);
}

// ---- token and role -------------------------------------------------------------------------------------------------

function showTokenForm(error) {
  const auth = $('#auth');
  if (auth.querySelector('[data-testid="token-form"]')) return;
  const input = h('input', { id: 'token-input', type: 'password', testid: 'token-input', autocomplete: 'off', spellcheck: false, required: true,
    placeholder: 'token from [WEBSERVER] tokens' });
  const form = h('form', { class: 'card auth-card', testid: 'token-form', 'aria-labelledby': 'token-title' },
    h('h2', { id: 'token-title' }, api.token() ? 'This token was not accepted' : 'This node asks for a token'),
    h('p', { class: 'muted' }, api.token() && error?.message ? `${error.message}. ` : '',
      'Paste a token from the node\'s [WEBSERVER] tokens file: a read token shows everything; an admin token may also ',
      'deploy, delete and change capabilities. It is kept in this browser tab only, never in the address.'),
    h('div', { class: 'field-row' },
      h('label', { for: 'token-input' }, 'Token'),
      input,
      h('button', { type: 'submit', class: 'btn btn-primary', testid: 'token-submit' }, 'Use token')));
  form.addEventListener('submit', e => {
    e.preventDefault();
    const value = input.value.trim();
    if (value) api.setToken(value);
  });
  replace(auth, form);
  input.focus();
}

function showRole() {
  const auth = $('#auth');
  $('[data-testid="token-clear"]').hidden = !api.token();
  document.body.classList.toggle('readonly', api.readOnly());
  if (auth.querySelector('[data-testid="token-form"]')) return;
  if (api.readOnly()) {
    replace(auth, h('div', { class: 'note', testid: 'readonly-note', role: 'note' },
      h('strong', null, 'Read-only. '),
      'This token may read but not change anything: deploying, deleting and changing capabilities need an admin token. ',
      'Use "Forget token" to enter another one.'));
    for (const el of document.querySelectorAll('.needs-admin')) {
      el.disabled = true;
      el.title = 'Needs an admin token';
    }
  } else replace(auth);
}

api.on('unauthorized', needAuth);
api.on('forbidden', () => showRole());
api.on('token', () => {
  replace($('#auth'));
  showRole();
  start();
});

$('[data-testid="token-clear"]').addEventListener('click', () => {
  api.clearToken();
  toast('Token forgotten.');
});

// ---- live events ----------------------------------------------------------------------------------------------------

function setLive(state) {
  const el = $('[data-testid="live-status"]');
  el.textContent = state;
  el.className = `live-status is-${state}`;
  el.title = state === 'live' ? 'Following this node\'s events' : 'The events stream is down; trying again';
}

const stream = new EventStream({
  onStatus: setLive,
  // (Re)connected: read again, since whatever happened before the stream began (the view's first read may have been
  // answered just before a change) or while it was down came as no event.
  // The node's address too: a page opened while the agent was down shows the URL's host until then.
  onOpen: () => { loadNodeAddress(); schedule(0); },
  onEvent: (type, data) => {
    if (type === 'reset') { loadNodeAddress(); schedule(0); return; }
    if (type === 'node') loadNodeAddress();
    const wants = current?.view.wants;
    if (wants && wants(type, data)) schedule();
  },
  onError: error => {
    if (error.status === 401) needAuth(error);
  },
});

// ---- start ----------------------------------------------------------------------------------------------------------

// Relative times ("12 s ago") move on by themselves; the exact time is their title.
setInterval(() => {
  for (const el of document.querySelectorAll('.rel-time[data-time]')) {
    el.textContent = relative(el.dataset.time);
    if (!el.title) el.title = absolute(el.dataset.time);
  }
}, 1000);

$('[data-testid="node-address"]').textContent = location.hostname;
// The skip link moves the focus, not the route: as a plain #view link it would change the hash and show the services.
$('.skip').addEventListener('click', e => {
  e.preventDefault();
  $('#view').focus();
});
window.addEventListener('hashchange', () => {
  show();
  $('#view').focus({ preventScroll: true });
});
showRole();
start();

// The API of the page's own origin, with the session's token. Every answer that is not 2xx or 304 becomes an ApiError
// whose message is the problem's detail (the agent answers RFC 9457 problem details), so views can show it as is.

const TOKEN_KEY = 'motey.token';
const ROLE_KEY = 'motey.readonly';

/** An answer that was not a success: status, the problem details (when the body was one) and a readable message. */
export class ApiError extends Error {
  constructor(status, problem, fallback) {
    super(problem?.detail || problem?.title || fallback || `HTTP ${status}`);
    this.name = 'ApiError';
    this.status = status;
    this.problem = problem ?? null;
  }
}

const listeners = { unauthorized: [], forbidden: [], token: [] };

/** unauthorized: a 401 (no or unknown token); forbidden: a 403 (a read token on a change); token: set or forgotten. */
export function on(kind, fn) {
  listeners[kind].push(fn);
}

function emit(kind, arg) {
  for (const fn of listeners[kind]) fn(arg);
}

// The token lives in sessionStorage only: gone with the tab, never in the URL or a cookie.
export function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(value) {
  sessionStorage.setItem(TOKEN_KEY, value);
  sessionStorage.removeItem(ROLE_KEY);
  emit('token', value);
}

export function clearToken() {
  sessionStorage.removeItem(TOKEN_KEY);
  sessionStorage.removeItem(ROLE_KEY);
  emit('token', null);
}

/** The role GET /v1/security reports for this session's token: 'read' makes the page read-only, 'admin' not. */
export function setRole(role) {
  if (role === 'read') sessionStorage.setItem(ROLE_KEY, 'read');
  else sessionStorage.removeItem(ROLE_KEY);
}

/**
 * Whether this session's token may only read: as the node says (GET /v1/security's role), or learnt from a refused
 * change (403) on an agent that does not say. The page then offers no change controls.
 */
export function readOnly() {
  return sessionStorage.getItem(ROLE_KEY) === 'read';
}

export function headers(extra = {}) {
  const h = { ...extra };
  const t = token();
  if (t) h.Authorization = `Bearer ${t}`;
  return h;
}

/**
 * Fetches path and returns the Response when it succeeded (2xx, 304), else throws an ApiError. Used as is for streams;
 * call() below reads JSON bodies.
 */
export async function send(method, path, { body, type, accept = 'application/json', signal } = {}) {
  const init = { method, headers: headers({ Accept: accept }), signal, cache: 'no-store' };
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    init.headers['Content-Type'] = type ?? 'application/json';
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (error) {
    if (error.name === 'AbortError') throw error;
    // fetch says only "Failed to fetch": the agent is down, restarting or out of reach.
    throw new ApiError(0, null, 'no answer from the node (is the agent running?); the page reads again when it is back');
  }
  if (response.ok || response.status === 304) return response;
  let problem = null;
  try {
    if ((response.headers.get('Content-Type') || '').includes('json')) problem = await response.json();
  } catch {
    // a body that is not JSON: the status says enough
  }
  const error = new ApiError(response.status, problem, response.statusText);
  if (response.status === 401) emit('unauthorized', error);
  if (response.status === 403) {
    sessionStorage.setItem(ROLE_KEY, 'read');
    emit('forbidden', error);
  }
  throw error;
}

/** The answer's JSON, or null when it had none (201 without body, 202, 204, 304). */
export async function call(method, path, options) {
  const response = await send(method, path, options);
  const text = response.status === 204 || response.status === 304 ? '' : await response.text();
  return text ? JSON.parse(text) : null;
}

export const get = (path, options) => call('GET', path, options);

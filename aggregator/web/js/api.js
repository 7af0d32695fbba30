// The JSON API of docs/api.md. The session is the HttpOnly cookie the
// server sets; the CSRF value from signing in goes with every request that
// changes state (header X-CSRF-Token). It is kept in sessionStorage so a
// reload of the tab keeps working; it is worthless without the cookie.

const CSRF_KEY = 'cc-csrf';

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message || code || `HTTP ${status}`);
    this.status = status;
    this.code = code;
  }
}

function csrf() {
  try {
    return sessionStorage.getItem(CSRF_KEY);
  } catch {
    return null;
  }
}

export function hasCsrf() {
  return Boolean(csrf());
}

function setCsrf(value) {
  try {
    if (value) sessionStorage.setItem(CSRF_KEY, value);
    else sessionStorage.removeItem(CSRF_KEY);
  } catch {
    // storage off: state changes will ask to sign in again
  }
}

let onUnauthenticated = () => {};
export function setUnauthenticatedHandler(fn) {
  onUnauthenticated = fn;
}

async function request(method, path, body) {
  const headers = { Accept: 'application/json' };
  const init = { method, headers, credentials: 'same-origin', cache: 'no-store' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  if (method !== 'GET' && method !== 'HEAD') {
    const token = csrf();
    if (token) headers['X-CSRF-Token'] = token;
  }
  let res;
  try {
    res = await fetch(`/api/v1${path}`, init);
  } catch (e) {
    throw new ApiError(0, 'network', e.message);
  }
  if (res.status === 204) return null;
  let data = null;
  const type = res.headers.get('Content-Type') || '';
  if (type.startsWith('application/json')) {
    try {
      data = await res.json();
    } catch {
      data = null;
    }
  }
  if (!res.ok) {
    const err = data && data.error ? data.error : {};
    const e = new ApiError(res.status, err.code, err.message);
    if (res.status === 401 && path !== '/session') onUnauthenticated(e);
    throw e;
  }
  return data;
}

export async function login(username, password) {
  const data = await request('POST', '/session', { username, password });
  setCsrf(data.csrf);
  return { username: data.username, role: data.role };
}

export async function logout() {
  try {
    await request('DELETE', '/session');
  } finally {
    setCsrf(null);
  }
}

export function forgetSession() {
  setCsrf(null);
}

export const me = () => request('GET', '/me');
export const federation = () => request('GET', '/federation');
export const submitQuery = (doc) => request('POST', '/queries', doc);
export const listQueries = () => request('GET', '/queries');
export const getQuery = (id) => request('GET', `/queries/${encodeURIComponent(id)}`);
export const getResult = (id) => request('GET', `/queries/${encodeURIComponent(id)}/result`);
export const audit = () => request('GET', '/audit');
export const resultCsvUrl = (id) => `/api/v1/queries/${encodeURIComponent(id)}/result.csv`;

// The API client: the session token (in memory, and in sessionStorage so a reload keeps the session; never in a
// cookie or localStorage), JSON in and out, and every error answer as an ApiError carrying its problem JSON.

const tokenKey = 'weighin.token';
let token = sessionStorage.getItem(tokenKey);
let onSessionEnded = () => {};

/** An error answer (problem JSON), or no answer at all (status 0). */
export class ApiError extends Error {
  constructor(status, problem, retryAfter) {
    super(problem?.detail || (status === 0 ? 'The server cannot be reached. Check the connection and try again.'
      : `The server answered ${status}.`));
    this.status = status;
    this.code = problem?.code;
    this.errors = Array.isArray(problem?.errors) ? problem.errors : [];
    this.row = problem?.row;
    this.retryAfter = retryAfter;
  }
}

export const signedIn = () => token !== null;

/** Keeps the session's token (null forgets it). */
export function setToken(value) {
  token = value;
  if (value === null) sessionStorage.removeItem(tokenKey);
  else sessionStorage.setItem(tokenKey, value);
}

/** Called when the server no longer accepts the token (it expired, or the password changed elsewhere). */
export function whenSessionEnds(callback) {
  onSessionEnded = callback;
}

/** One call: `json` is sent as JSON, `body` as `type`; the answer's JSON (null for 204), or the Response with `raw`. */
export async function call(method, path, { query = {}, json, body, type, headers = {}, raw = false } = {}) {
  const url = new URL(path, location.origin);
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== '') url.searchParams.set(name, value);
  }
  const sent = { ...headers };
  if (token !== null) sent.Authorization = `Bearer ${token}`;
  if (json !== undefined) {
    sent['Content-Type'] = 'application/json';
    body = JSON.stringify(json);
  } else if (type) {
    sent['Content-Type'] = type;
  }
  let response;
  try {
    response = await fetch(url, { method, headers: sent, body, cache: 'no-store' });
  } catch {
    throw new ApiError(0, null);
  }
  if (!response.ok) {
    let problem = null;
    try { problem = await response.json(); } catch { /* not JSON: the status says it all */ }
    if (response.status === 401 && token !== null) {
      setToken(null);
      onSessionEnded();
    }
    throw new ApiError(response.status, problem, response.headers.get('Retry-After'));
  }
  if (raw) return response;
  return response.status === 204 ? null : response.json();
}

// Accounts.
export const register = (body) => call('POST', '/v1/users', { json: body });
export async function logIn(email, password) {
  const answer = await call('POST', '/v1/tokens', { json: { email, password } });
  setToken(answer.token);
  return answer.user;
}
export async function logOut() {
  try { await call('DELETE', '/v1/tokens/current'); } finally { setToken(null); }
}
export const me = () => call('GET', '/v1/me');
export const updateMe = (changes) => call('PATCH', '/v1/me', { json: changes });
export const changePassword = (current, next) =>
  call('PUT', '/v1/me/password', { json: { current_password: current, new_password: next } });
export async function deleteAccount() {
  await call('DELETE', '/v1/me');
  setToken(null);
}

// Entries.
/** Every entry from `from` (a date, or undefined for all), newest first, a page of 1,000 at a time (at most `max`). */
export async function entries(from, max = 10000) {
  const all = [];
  let cursor;
  do {
    const page = await call('GET', '/v1/entries', { query: { from, limit: 1000, cursor } });
    all.push(...page.entries);
    cursor = page.next_cursor;
  } while (cursor && all.length < max);
  return { entries: all, complete: !cursor };
}
export const createEntry = (body, key) => call('POST', '/v1/entries', { json: body, headers: { 'Idempotency-Key': key } });
export const updateEntry = (id, changes) => call('PATCH', `/v1/entries/${encodeURIComponent(id)}`, { json: changes });
export const deleteEntry = (id) => call('DELETE', `/v1/entries/${encodeURIComponent(id)}`);
export const exportEntries = (format) => call('GET', '/v1/entries/export', { query: { format }, raw: true });
export const importEntries = (text, type) => call('POST', '/v1/entries/import', { body: text, type });

// Statistics, trend and goal.
export const stats = (from) => call('GET', '/v1/stats', { query: { from } });
export const trend = (from) => call('GET', '/v1/trend', { query: { from, method: 'ema' } });
/** The goal, or null when there is none (the API answers 404). */
export async function goal() {
  try {
    return await call('GET', '/v1/goal');
  } catch (error) {
    if (error.status === 404) return null;
    throw error;
  }
}
export const setGoal = (body) => call('PUT', '/v1/goal', { json: body });
export const clearGoal = () => call('DELETE', '/v1/goal');
/** The goal's progress, or null when there is no goal (cleared elsewhere since: the API answers 404). */
export async function progress() {
  try {
    return await call('GET', '/v1/goal/progress');
  } catch (error) {
    if (error.status === 404) return null;
    throw error;
  }
}

// Not yet in the API (API.md Part 2), and so not called here: the change feed (GET /v1/changes) would let the app
// refresh only what changed instead of reading the range again; personal access tokens (/v1/me/tokens) and webhooks
// (/v1/webhooks) get their calls here, next to the forms that use them in the Settings section.

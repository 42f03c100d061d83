// The only module that talks to the server. Errors come back as ApiError with a message that
// says what went wrong and, where we know it, what to do.

import { askKey, forgetKey, getKey } from './auth.js';

export class ApiError extends Error {
  constructor(message, status = 0, parameter = null) {
    super(message);
    this.status = status;
    this.parameter = parameter; // the request parameter at fault, when the server names one
  }
}

/** A query string from an object; arrays become repeated parameters, empty values are left out. */
export function query(params = {}) {
  const out = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    for (const v of Array.isArray(value) ? value : [value]) {
      if (v !== undefined && v !== null && v !== '') out.append(key, String(v));
    }
  }
  const text = out.toString();
  return text ? `?${text}` : '';
}

/** The human message inside an error response (FastAPI's `detail`, or our `error`). */
function messageOf(body, status) {
  if (body && typeof body === 'object') {
    // picsift's errors: {error: code, parameter, message}; FastAPI's own: {detail}.
    const detail = body.message ?? body.detail ?? body.error;
    if (typeof detail === 'string') return detail;
    if (Array.isArray(detail)) {
      return detail
        .map(
          (d) =>
            `${(d.loc || []).filter((p) => p !== 'query' && p !== 'body').join('.')}: ${d.msg}`,
        )
        .join('; ');
    }
    if (detail && typeof detail === 'object' && detail.message) return detail.message;
  }
  if (typeof body === 'string' && body.trim()) return body.trim().slice(0, 300);
  return `the server answered ${status}`;
}

async function send(path, options, key) {
  const headers = { Accept: 'application/json', ...(options.headers || {}) };
  if (key) headers.Authorization = `Bearer ${key}`;
  try {
    return await fetch(path, { ...options, headers });
  } catch (err) {
    if (err.name === 'AbortError') throw err;
    throw new ApiError(
      'Cannot reach the picsift server. Is `picsift serve` still running? Reload when it is.',
    );
  }
}

// The key last traded for a read cookie, until when the cookie holds, and the trade under way.
let readCookie = { key: null, until: 0, trade: null };

/**
 * With closed reads, <img> tags cannot send the key: trade it for the server's read cookie
 * (HttpOnly, reads only), again a minute before the server ends that session
 * (PICSIFT_SESSION_TTL), so a page left open keeps showing images. Calls made during a trade
 * wait for it; a trade that failed is tried again by the next call. A server with open reads
 * answers without a cookie.
 */
async function ensureReadCookie(key) {
  if (!key) return;
  if (readCookie.key === key && readCookie.trade) return readCookie.trade;
  if (readCookie.key === key && Date.now() < readCookie.until) return;
  const mine = { key, until: 0, trade: null };
  mine.trade = (async () => {
    try {
      const response = await send('api/session', { method: 'POST' }, key);
      const body = response.ok ? await response.json() : null;
      // Open reads (or a refused key, which the call itself then asks again for) need no
      // cookie: no trade again for this key.
      mine.until = body?.expires_in
        ? Date.now() + Math.max(body.expires_in - 60, 1) * 1000
        : Infinity;
    } catch {
      /* unreachable server: the request itself will say so, and the next call trades again */
    } finally {
      mine.trade = null;
    }
  })();
  readCookie = mine;
  return mine.trade;
}

/**
 * Call the API. `params` become the query string; `json` or `form` the body. Returns parsed JSON,
 * or the Response itself with `raw: true`. On 401 the user is asked for the API key once and
 * the call is retried with it (403 is not about the key: e.g. a path outside the allowed ones).
 *
 * `token` makes it a coder's call: the bearer token is `token` (a coder's key, to sign in
 * with) or none (null: the coder's cookie speaks for them), never the admin key, and a 401 is
 * the caller's to answer (the admin key would make a coding write the admin's, which the
 * server refuses without a named coder).
 */
export async function api(
  path,
  { method = 'GET', params, json, form, raw = false, signal, token } = {},
) {
  const options = { method, signal, headers: {} };
  if (json !== undefined) {
    options.body = JSON.stringify(json);
    options.headers['Content-Type'] = 'application/json';
  } else if (form) {
    options.body = form;
  }
  const url = `api/${path.replace(/^\/+/, '')}${query(params)}`;
  const coderCall = token !== undefined;
  let key = coderCall ? token : getKey();
  if (!coderCall) await ensureReadCookie(key);
  let response = await send(url, options, key);
  if (response.status === 401 && !coderCall) {
    if (key) forgetKey();
    const reason = key
      ? 'The saved API key was refused. Enter the current key of this server.'
      : method === 'GET'
        ? 'This server does not show its images without an API key.'
        : 'Changing things on this server (jobs, renames, merges, uploads) needs its API key.';
    key = await askKey(reason);
    if (!key) throw new ApiError('No API key given, so the server refused this.', response.status);
    await ensureReadCookie(key);
    response = await send(url, options, key);
  }
  if (!response.ok) {
    let body = null;
    const text = await response.text();
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
    throw new ApiError(messageOf(body, response.status), response.status, body?.parameter);
  }
  if (raw) return response;
  return response.status === 204 ? null : response.json();
}

/** The list inside a response that is either a list or an object holding one under `key`. */
export function listOf(data, ...keys) {
  if (Array.isArray(data)) return data;
  for (const key of keys) if (data && Array.isArray(data[key])) return data[key];
  return [];
}

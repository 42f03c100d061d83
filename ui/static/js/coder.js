// The coder signed in in this browser, the codebook, and the coder's own latest codes.
// Signing in trades a coder's key for the server's cookie (HttpOnly, coding writes only): the
// key is never kept, and this page only asks the server who the cookie signs in. Coding writes
// go with the cookie and without the admin key (see `api`'s `token`), one at a time, so the
// server keeps each image's codes in the order they were given.

import { api } from './api.js';
import { toast } from './dom.js';

let coder = null; // the signed-in coder's name, or null
let book = []; // the codebook: [{code, description}], in the server's order
let mine = new Map(); // image id -> the coder's latest codes ([]: seen, no code)
let generation = 0; // bumped by every sign in and out, so a late answer is dropped
let queue = Promise.resolve();
let saving = 0;
let lastError = null;
const listeners = new Set();

/** The signed-in coder's name, or null. */
export const coderName = () => coder;

/** The codebook as last read: `[{code, description}]`. */
export const codebook = () => book;

/** The coder's latest codes for an image: a list ([] for seen, no code), or undefined. */
export const myCodes = (id) => mine.get(id);

/** How many coding writes are under way, and the last one's failure (null once one succeeds). */
export const savingState = () => ({ saving, error: lastError });

/**
 * Call `fn(what, id)` on every change: `coder` (signed in or out, or the codebook read
 * again), `codes` (the coder's codes for image `id`), `saving` (a write started or ended).
 */
export const onCoding = (fn) => listeners.add(fn);

function tell(what, id = null) {
  for (const fn of listeners) fn(what, id);
}

/** Codes in the codebook's order (a code no longer in it last). */
export function inBookOrder(codes) {
  const order = new Map(book.map((c, i) => [c.code, i]));
  const rank = (code) => order.get(code) ?? book.length;
  return [...codes].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

/** Read the codebook again (codes may have been added since). */
export async function refreshCodebook() {
  const mineNow = generation;
  const codes = await api('codes');
  if (mineNow !== generation) return;
  book = codes;
  tell('coder');
}

/**
 * Be `name` (null: nobody): read the codebook and, from the coding log, the coder's latest
 * codes. The name is set once those are in, so a signed-in coder always has them.
 */
async function become(name) {
  const mineNow = ++generation;
  let codes = [];
  const given = new Map();
  if (name) {
    const [read, latest] = await Promise.all([
      api('codes'),
      api('codings', { params: { coder: name } }),
    ]);
    codes = read;
    for (const entry of latest) given.set(entry.image_id, entry.codes);
  }
  if (mineNow !== generation) return;
  coder = name;
  book = codes;
  mine = given;
  lastError = null;
  tell('coder');
}

/**
 * Sign in with a coder's key: the server sets its cookie and names the coder. Rejects with
 * the ApiError (401: the key is no coder's).
 */
export async function signIn(key) {
  const answer = await api('coders/session', { method: 'POST', token: key.trim() });
  await become(answer.coder);
  return answer.coder;
}

/** Sign out: the server forgets the cookie. */
export async function signOut() {
  await api('coders/session', { method: 'DELETE' });
  await become(null);
}

/** Ask the server who this browser's cookie signs in (the state survives reloads). */
export async function initCoder() {
  try {
    const { coder: name } = await api('coders/session');
    await become(name);
  } catch (err) {
    toast(`Could not read who is coding: ${err.message}`);
  }
}

/** A write that failed: put the image's codes back, and sign out where the cookie is gone. */
function failed(err, id, wanted, before, mineNow) {
  lastError = err;
  if (mineNow !== generation) return;
  if (mine.get(id) === wanted) {
    if (before === undefined) mine.delete(id);
    else mine.set(id, before);
    tell('codes', id);
  }
  // No cookie (it ended, or a new key was made for the coder): the server asks for a key
  // (401) or, where it has none, for a coder to name (422 on `coder`).
  if (err.status === 401 || (err.status === 422 && err.parameter === 'coder')) {
    toast('Your coding session has ended: sign in again (the last change was not saved).');
    become(null);
  } else toast(`The codes were not saved: ${err.message}`);
}

/**
 * Record the coder's codes for image `id` (none: seen, no code), replacing theirs. Shown at
 * once; written in turn after the writes before it; put back if the server refuses.
 */
export function setCodes(id, codes) {
  if (!coder) return Promise.resolve();
  const before = mine.get(id);
  const wanted = inBookOrder(new Set(codes));
  const mineNow = generation;
  mine.set(id, wanted);
  tell('codes', id);
  saving += 1;
  tell('saving');
  const path = `images/${encodeURIComponent(id)}/codes`;
  const write = queue
    .then(() => api(path, { method: 'PUT', json: { codes: wanted }, token: null }))
    .then(() => {
      lastError = null;
    })
    .catch((err) => failed(err, id, wanted, before, mineNow))
    .finally(() => {
      saving -= 1;
      tell('saving');
    });
  queue = write;
  return write;
}

/** Apply `code` to image `id`, or take it off. */
export function toggleCode(id, code) {
  const now = mine.get(id) ?? [];
  return setCodes(id, now.includes(code) ? now.filter((c) => c !== code) : [...now, code]);
}

/**
 * The coder moves on from image `id`: one they left without any coding is recorded as seen
 * with no code, so agreement counts it (nothing is written without a codebook).
 */
export function leave(id) {
  if (coder && id && book.length && !mine.has(id)) setCodes(id, []);
}

// The view state lives in the URL (bookmarkable, shareable, the back button works). The search
// parameters carry the API's own names, so a URL and its API request read the same.

/** Parameters that may repeat (`topic=3&topic=7`). */
export const LISTS = ['topic', 'exclude_topic', 'dataset', 'author', 'tag'];
/** Single-valued search parameters, as the API names them. */
export const SCALARS = [
  'q',
  'not',
  'text',
  'date_from',
  'date_to',
  'has_caption',
  'group_by',
  'min_score',
  'mode',
  'variant',
  'selection',
  'sort',
  'code',
  'coder',
];
/**
 * UI-only parameters: which view, which image is open, "more like this" image, the order of
 * the Circulation view's groups (not `sort`: that is the search API's own).
 */
const UI = ['view', 'image', 'like', 'circulation_sort'];
export const VIEWS = ['grid', 'map', 'circulation', 'agreement', 'jobs'];

function parse(search) {
  const params = new URLSearchParams(search);
  const state = {};
  for (const key of LISTS) state[key] = params.getAll(key).filter(Boolean);
  for (const key of [...SCALARS, ...UI]) state[key] = params.get(key) || '';
  if (!VIEWS.includes(state.view)) state.view = 'grid';
  return state;
}

function serialise(state) {
  const params = new URLSearchParams();
  for (const key of [...UI, ...SCALARS, ...LISTS]) {
    if (key === 'view' && state.view === 'grid') continue;
    const value = state[key];
    for (const v of Array.isArray(value) ? value : [value]) if (v) params.append(key, v);
  }
  const text = params.toString();
  return text ? `?${text}` : location.pathname;
}

/** Whether a state ranks by score (text, a stored or an uploaded image), so a cut applies. */
export const isRanked = (state) => Boolean(state.q || state.like || state.upload);

/**
 * The API parameters of a state: the search and its filters, without the UI's own keys. A
 * minimum score in the URL stays there but cuts only a ranking: browsing has no scores. The
 * mode (image, text, hybrid) is a text search's.
 */
export function searchParams(state) {
  const out = {};
  for (const key of [...SCALARS, ...LISTS]) {
    const value = state[key];
    if (Array.isArray(value) ? value.length : value) out[key] = value;
  }
  if (!isRanked(state)) delete out.min_score;
  // A search from an image ranks by the image (a text mode's BM25 cut means nothing to it);
  // hybrid ranks by fused rank, with no score to cut.
  if (state.like || state.upload || !state.q) {
    if (out.mode === 'text') delete out.min_score;
    delete out.mode;
  }
  if (out.mode === 'hybrid') delete out.min_score;
  if (!sortable(state)) delete out.sort;
  return out;
}

/**
 * Whether the list of `state` can be sorted by engagement: browsing can, and a ranking with an
 * end (a minimum score, or a text-mode ranking, which ends where its words stop matching); the
 * API sorts a ranking whole, so one without an end it refuses.
 */
export function sortable(state) {
  if (!isRanked(state)) return true;
  const textMode = state.q && !state.like && !state.upload && state.mode === 'text';
  const hybrid = state.q && !state.like && !state.upload && state.mode === 'hybrid';
  return !hybrid && (textMode || Boolean(state.min_score));
}

/** The keys that start a search from an image: a text mode's BM25 cut does not carry over. */
export const fromImage = (patch) => ({
  ...patch,
  ...(current.mode === 'text' ? { min_score: '' } : {}),
});

/** The URL of a state with some keys changed (for links that work with a middle click). */
export function hrefFor(state, patch) {
  return serialise({ ...state, ...patch });
}

const listeners = new Set();
let current = parse(location.search);
// Image files to search by are not in the URL (files do not fit there): each upload gets an
// id, kept in its history entries, so Back and Forward find the search they belong to. The
// files live only as long as the page: the ids start with the page's load time, so an entry
// from before a reload never finds a later file.
const uploadFiles = new Map();
const pageLoaded = Date.now();
let uploads = 0; // uploads so far (the same file dropped twice searches again)
let uploadId = ''; // the upload the current entry searches by; '' for none

/** The current state (read-only copy). */
export const getState = () => ({
  ...current,
  upload: uploadFiles.get(uploadId) ?? null,
  uploads: uploadId,
});

/** Call `fn(state, previous)` after every change, from the UI or the back button. */
export function subscribe(fn) {
  listeners.add(fn);
}

function notify(previous) {
  const state = getState();
  for (const fn of listeners) fn(state, previous);
}

/**
 * Change the state: `patch` keys replace the current values. A new history entry is pushed
 * unless `replace` (for changes that should not fill the back button's list). Starting or
 * leaving an upload search pushes one though the URL stays the same, so Back undoes it.
 */
export function update(patch, { replace = false } = {}) {
  const previous = getState();
  if ('upload' in patch) {
    uploadId = '';
    if (patch.upload) {
      uploads += 1;
      uploadId = `${pageLoaded}.${uploads}`;
      uploadFiles.set(uploadId, patch.upload);
    }
  }
  const { upload: _ignored, ...rest } = patch;
  current = { ...current, ...rest };
  const url = serialise(current);
  const entry = uploadId ? { upload: uploadId } : null;
  if (replace) history.replaceState(entry, '', url);
  else if (uploadId !== previous.uploads || url !== (location.search || location.pathname)) {
    history.pushState(entry, '', url);
  }
  notify(previous);
}

/** Key of everything that decides the result list (changes of it reload the grid). */
export function resultsKey(state) {
  return JSON.stringify([searchParams(state), state.like, state.upload ? state.uploads : 0]);
}

window.addEventListener('popstate', (e) => {
  const previous = getState();
  current = parse(location.search);
  uploadId = uploadFiles.has(e.state?.upload) ? e.state.upload : '';
  notify(previous);
});

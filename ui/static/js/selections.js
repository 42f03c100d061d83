// Saved selections in the sidebar: each with its size, where it came from and when; a click
// opens it in the grid (`?selection=NAME`, a URL to share), Delete removes it (the images
// stay). The list is read again after every save and delete.

import { api } from './api.js';
import { onCatalog } from './catalog.js';
import { fill, formatDate, h, notice, num, plural, toast } from './dom.js';
import { getState, hrefFor, LISTS, SCALARS, subscribe, update } from './state.js';

/** How each source reads in the list. */
const SOURCES = {
  search: 'from a search',
  similar: 'similar images',
  upload: 'like an uploaded image',
  map: 'from the map',
  picked: 'picked by hand',
};

const section = () => document.getElementById('selections');
let saved = { list: null, error: null }; // the server's list (newest first), or why it failed
const listeners = new Set();

/** The selections as last read: a list (null until read). */
export const savedSelections = () => saved.list;

/** Call `fn(list)` after every read of the list. */
export const onSaved = (fn) => listeners.add(fn);

/** Read the list again (after a save or a delete); the sidebar redraws. */
export async function refreshSaved() {
  try {
    saved = { list: await api('selections'), error: null };
  } catch (err) {
    saved = { list: null, error: err };
  }
  render();
  for (const fn of listeners) fn(saved.list);
}

/**
 * The state patch that opens selection `name` in the grid: its images and nothing else (the
 * query, filters and the open image cleared), so the URL reads `?selection=NAME`.
 */
export function openPatch(name) {
  const patch = { view: 'grid', image: '', like: '', upload: null, selection: name };
  for (const key of LISTS) patch[key] = [];
  for (const key of SCALARS) if (key !== 'selection') patch[key] = '';
  return patch;
}

/**
 * Delete the saved selection `item` (a list entry: `name`, `images`), once the user confirms;
 * a grid showing it shows every image instead.
 */
export async function deleteSelection(item) {
  const held = plural(item.images, 'image');
  if (!confirm(`Delete the saved selection “${item.name}” (${held})? Its images stay.`)) return;
  try {
    await api(`selections/${encodeURIComponent(item.name)}`, { method: 'DELETE' });
    toast(`Deleted the selection “${item.name}”.`);
    // The grid would ask for a selection that is gone: show every image instead.
    if (getState().selection === item.name) update({ selection: '' });
  } catch (err) {
    toast(`Delete failed: ${err.message}`);
  }
  await refreshSaved();
}

function entry(item, state) {
  const gone = item.present != null && item.present < item.images ? item.images - item.present : 0;
  const current = state.selection === item.name && state.view === 'grid';
  return h(
    'li',
    { class: `saved-item${current ? ' current' : ''}`, dataset: { name: item.name } },
    h(
      'a',
      {
        class: 'saved-name',
        href: hrefFor(state, openPatch(item.name)),
        'aria-current': current ? 'true' : null,
        title: item.description || null,
        onClick: (e) => {
          if (e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return;
          e.preventDefault();
          update(openPatch(item.name));
        },
      },
      item.name,
    ),
    h(
      'p',
      { class: 'saved-meta' },
      [
        h('span', { class: 'saved-count' }, plural(item.images, 'image')),
        gone ? h('span', { class: 'saved-gone' }, `${num(gone)} no longer in the store`) : null,
        SOURCES[item.source] ?? item.source,
        formatDate(item.created_at, false),
      ]
        .filter(Boolean)
        .flatMap((part, i) => (i ? [' · ', part] : [part])),
    ),
    item.description ? h('p', { class: 'saved-description' }, item.description) : null,
    h(
      'button',
      {
        class: 'small',
        'aria-label': `Delete selection ${item.name}`,
        onClick: () => deleteSelection(item),
      },
      'Delete',
    ),
  );
}

function render() {
  const body = section()?.querySelector('.selections-body');
  if (!body) return;
  if (saved.error) {
    return fill(
      body,
      notice(
        'error',
        'The saved selections could not be loaded.',
        [saved.error.message],
        [h('button', { onClick: refreshSaved }, 'Try again')],
      ),
    );
  }
  if (!saved.list) return fill(body, notice('loading', 'Loading saved selections…'));
  if (!saved.list.length) {
    return fill(
      body,
      notice('empty', 'No saved selections yet.', [
        'Save what the grid shows with “Save…” above it, or a box or lasso on the map.',
      ]),
    );
  }
  const state = getState();
  fill(
    body,
    h(
      'ul',
      { class: 'saved-list', 'aria-label': 'Saved selections' },
      saved.list.map((item) => entry(item, state)),
    ),
  );
}

/**
 * Build the sidebar's list of saved selections, read it with the catalog (a job may have
 * removed some of their images) and keep its current one marked.
 */
export function initSelections() {
  section().append(h('div', { class: 'selections-body' }));
  subscribe((state, previous) => {
    if (state.selection !== previous.selection || state.view !== previous.view) render();
  });
  onCatalog(({ status, error }) => {
    // A server that did not answer (or a key the user would not give) fails this read too:
    // say so rather than ask for the key again.
    if (!status && error) {
      saved = { list: null, error };
      render();
    } else refreshSaved();
  });
  render();
}

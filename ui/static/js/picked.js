// Hand-picked selections (source `picked`), changed one image at a time. The API has no append:
// an image is added by reading the selection's ids, appending it (no repeats) and saving them
// again with `replace`, keeping its description and how it was made (its version goes up by
// one, as for any replacement, so an export names the version it came from). The API keeps no
// empty selection: taking off the last image is refused here, and the caller offers Delete.
// Two people changing one selection at once can lose a change: the API has no conditional write.

import { ApiError, api } from './api.js';
import { refreshSaved, savedSelections } from './selections.js';

/** How a selection started here says it was made (its `view`). */
const PICKED_VIEW = { picked: 'image by image in the web UI' };
const listeners = new Set();
let known = { name: '', version: 0, ids: [] }; // the ids of the selection last read

const path = (name) => `selections/${encodeURIComponent(name)}`;

/** The hand-picked selections as last listed, newest first ([] until the list is read). */
export const pickedSelections = () =>
  (savedSelections() ?? []).filter((item) => item.source === 'picked');

/** The list's entry of selection `name`, or null. */
export const listed = (name) => savedSelections()?.find((item) => item.name === name) ?? null;

/** The list's entry of the hand-picked selection the grid of `state` shows, else null. */
export function pickedShown(state) {
  const item = state.selection ? listed(state.selection) : null;
  return item?.source === 'picked' ? item : null;
}

/** Call `fn({name, id, change})` after an image was `added` or `removed` here. */
export const onPicked = (fn) => listeners.add(fn);

function changed(name, id, change) {
  refreshSaved();
  for (const fn of listeners) fn({ name, id, change });
}

/** Selection `name` with its ids, read now; null when there is none. */
async function read(name) {
  try {
    const found = await api(path(name));
    known = { name: found.name, version: found.version, ids: found.ids };
    return found;
  } catch (err) {
    if (err.status === 404) return null;
    throw err;
  }
}

/**
 * Where image `id` is in the selection `item` (a list entry): its place from 1, or 0 when it is
 * not in it. The ids are read again only when the list says the selection changed.
 */
export async function placeIn(item, id) {
  if (known.name !== item.name || known.version !== item.version) await read(item.name);
  return known.ids.indexOf(id) + 1;
}

/** Save `ids` as the hand-picked selection `name` (`found`: as it was, or null for a new one). */
async function save(name, ids, found, description = '') {
  const made = await api('selections', {
    method: 'POST',
    json: {
      name,
      source: 'picked',
      ids,
      view: found?.view ?? PICKED_VIEW,
      description: found?.description ?? description,
      replace: Boolean(found),
    },
  });
  known = { name: made.name, version: made.version, ids };
  return made;
}

/**
 * Add image `id` at the end of the hand-picked selection `name`, or at `at` (a place from 0),
 * starting a new one (with `description`) when there is none of that name. Resolves to
 * `{selection, added, place}`: the selection as saved (or as it is, `added` false, when the
 * image was in it already) and the image's place in it, from 1.
 *
 * Throws ApiError: the name is a selection made another way (`parameter` name), or the API's
 * refusal (a bad name, no key).
 */
export async function addImage(name, id, { description = '', at = null } = {}) {
  const found = await read(name);
  if (found && found.source !== 'picked') {
    throw new ApiError(
      `“${name}” is a saved selection of another kind (${found.source}): only a hand-picked ` +
        'one takes images one by one. Choose another name.',
      422,
      'name',
    );
  }
  const ids = found?.ids ?? [];
  if (ids.includes(id)) return { selection: found, added: false, place: ids.indexOf(id) + 1 };
  const place = at === null ? ids.length : Math.min(at, ids.length);
  const next = [...ids.slice(0, place), id, ...ids.slice(place)];
  const selection = await save(name, next, found, description);
  changed(selection.name, id, 'added');
  return { selection, added: true, place: place + 1 };
}

/**
 * Take image `id` out of the hand-picked selection `name`. Resolves to `{selection, removed,
 * place}`: the selection as saved (or as it is, `removed` false, when the image was not in it)
 * and where the image was (from 0, to put it back); `{selection, empty: true}`, saving nothing,
 * when it is the selection's last image (the API refuses an empty selection).
 */
export async function removeImage(name, id) {
  const found = await read(name);
  if (!found) throw new ApiError(`There is no saved selection “${name}” any more.`, 404);
  const place = found.ids.indexOf(id);
  if (place < 0) return { selection: found, removed: false, place };
  const rest = found.ids.filter((other) => other !== id);
  if (!rest.length) return { selection: found, empty: true, place };
  const selection = await save(found.name, rest, found);
  changed(selection.name, id, 'removed');
  return { selection, removed: true, place };
}

// "Save…" above the grid: the grid's list kept as a saved selection. A text search or a
// browsing view is saved as its query, filters and cut (source `search`: the server resolves
// them as the export does, so the selection is the list the export would write); a list of
// similar images or an uploaded image's as the ids the grid ranks down to its cut.

import { cutText, num } from './dom.js';
import { summaryFor, viewImages, viewParams } from './exporter.js';
import { modeOf, Results } from './results.js';
import { saveDialog } from './savedialog.js';
import { getState, searchParams } from './state.js';

const PAGE = 1000; // the search API's largest page: a list to its cut is read in few requests

/** What the list of similar images is like, as a phrase. */
const likeWhat = (state) =>
  state.upload ? `your file ${state.upload.name}` : `image ${state.like.slice(0, 8)}`;

/**
 * What saving `state` keeps, as a phrase (`images`), or why it cannot be saved (`refused`);
 * `summary`: the grid's count (see `Results.summary`).
 */
export function saveScope(state, summary) {
  const mode = modeOf(state);
  if (mode !== 'like' && mode !== 'upload') return viewImages(state, summary, 'save');
  const cut = searchParams(state).min_score;
  if (!cut) {
    return {
      refused:
        'A list of similar images ranks every image, so it has no end to save: set a ' +
        'minimum score (above the grid) to save the images that match, rather than a ' +
        'page of them.',
    };
  }
  const known = summary?.matched != null;
  const count = known ? ` (${num(summary.matched)}${summary.matchedCapped ? '+' : ''})` : '';
  return { images: `every image at score ≥ ${cutText(cut)}${count} like ${likeWhat(state)}` };
}

/** The ids of the grid's list of `state`, every page down to its cut, in the grid's order. */
async function rankedIds(state) {
  const list = new Results(state, PAGE);
  while (!list.done) await list.more();
  return list.hits.map((hit) => hit.id);
}

/** The API's request for `state`: `{source, params}` or `{source, ids, view}`. */
async function requestFor(state, summary) {
  const mode = modeOf(state);
  if (mode !== 'like' && mode !== 'upload') {
    return { source: 'search', params: viewParams(state, summary) };
  }
  const params = searchParams(state);
  const from = mode === 'like' ? { image: state.like } : { file: state.upload.name };
  return {
    source: mode === 'like' ? 'similar' : 'upload',
    ids: await rankedIds(state),
    // How the list was made: what it is like, its cut and its filters, as the API reads them.
    view: { ...from, min_score: Number(params.min_score), params },
  };
}

/** A name to start from: the search's words, else nothing. */
const suggestion = (state) => (modeOf(state) === 'text' ? state.q : '');

/** Open the save dialog for the grid's list. */
export async function saveView() {
  const state = getState();
  const summary = await summaryFor(state).catch(() => null);
  const scope = saveScope(state, summary);
  saveDialog({ ...scope, name: suggestion(state), request: () => requestFor(state, summary) });
}

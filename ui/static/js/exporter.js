// Export of the current view (query, filters, score cut) as CSV or NDJSON, one row per post,
// through the API (so the methods manifest and the bearer key come along). Where the API
// cannot export what the grid shows, the buttons say so (see `exportScope`) instead of
// exporting another set.

import { api } from './api.js';
import { cutText, num, toast } from './dom.js';
import { currentResults } from './grid.js';
import { modeOf, Results } from './results.js';
import { getState, resultsKey, searchParams } from './state.js';

const FORMATS = { csv: 'CSV', ndjson: 'NDJSON', gexf: 'GEXF network' };

function filename(response, format) {
  const header = response.headers.get('Content-Disposition') || '';
  const match = header.match(/filename\*?=(?:UTF-8'')?"?([^";]+)"?/i);
  if (match) return decodeURIComponent(match[1]);
  const day = new Date().toISOString().slice(0, 10);
  return `picsift-export-${day}.${format}`;
}

function save(blob, name) {
  const url = URL.createObjectURL(blob);
  const link = Object.assign(document.createElement('a'), { href: url, download: name });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/**
 * The images of a ranked view, exactly the grid's list: everything at or above its cut,
 * else as many best matches as the grid ranks (`summary.matched`: the grid's count, see
 * `Results.summary`; undefined while it loads). `refused` where the count is not known;
 * `verb` says what the refusal is about ("export", "save").
 */
function rankedImages(state, summary, verb) {
  const cut = searchParams(state).min_score;
  const known = summary?.matched != null;
  const count = known ? `${num(summary.matched)}${summary.matchedCapped ? '+' : ''}` : '';
  if (cut) {
    return { images: `every image at score ≥ ${cutText(cut)}${known ? ` (${count})` : ''}` };
  }
  if (summary === undefined) return { images: 'the ranked images (counting them…)' };
  if (known && !summary.matchedCapped) return { images: `all ${count} ranked images` };
  // A text or hybrid ranking is as deep as its legs (the manifest says when one was full).
  if (known && summary.mode && summary.mode !== 'image') {
    return { images: `the ${count} images of the ${summary.mode} ranking` };
  }
  const why = known ? `Over ${num(summary.matched)} images are ranked` : 'The grid was not counted';
  return { refused: `${why}: set a minimum score (above the grid) to ${verb} what matches.` };
}

/**
 * The images a text search or browsing view holds for the export API (and a saved
 * selection), as a phrase, or why that API cannot give what the grid shows (`refused`);
 * `summary` as for `rankedImages`.
 */
export function viewImages(state, summary, verb = 'export') {
  const { images, refused } =
    modeOf(state) === 'text'
      ? rankedImages(state, summary, verb)
      : { images: 'every image the filters match' };
  if (refused) return { refused };
  return { images: `${images}${state.group_by ? `, one image per ${state.group_by}` : ''}` };
}

/**
 * What the export of `state` holds, as a phrase for the Export buttons, and why it is refused
 * (`refused`) where the export API cannot give what the grid shows; `summary` as for
 * `rankedImages`.
 */
export function exportScope(state, summary) {
  const mode = modeOf(state);
  if (mode === 'upload' || mode === 'like') {
    return {
      refused:
        'Lists of similar images cannot be exported: the export follows a text search and ' +
        'filters only. Go back to text search to export.',
    };
  }
  const { images, refused } = viewImages(state, summary);
  return refused ? { refused } : { what: `${images}, one row per post` };
}

/**
 * The summary of the grid's list for `state`: the grid's own when it shows that list, else
 * the first page of the same list.
 */
export function summaryFor(state) {
  const list = currentResults();
  return (list?.key === resultsKey(state) ? list : new Results(state)).ready();
}

/**
 * Download the export of `params` (the API's, `format` among them) and its methods manifest
 * (software, model, topic run, query, filters, counts) beside it; `prefix` goes before the
 * server's file name (e.g. `picsift-variant-1a2b3c4d-`).
 */
export async function download(params, prefix = '') {
  const format = params.format;
  toast(`Preparing the ${FORMATS[format]} export…`);
  try {
    const response = await api('export', { params, raw: true });
    const name = filename(response, format).replace(/^picsift-/, prefix || 'picsift-');
    save(await response.blob(), name);
    const manifest = await api('export/manifest', { params });
    const manifestName = `${name.replace(/\.[^.]+$/, '')}.manifest.json`;
    save(new Blob([JSON.stringify(manifest, null, 2)], { type: 'application/json' }), manifestName);
    toast(`Export saved as ${name}, its methods manifest as ${manifestName}.`);
  } catch (err) {
    toast(`Export failed: ${err.message}`);
  }
}

/**
 * Download the current view in `format`: 'csv' or 'ndjson' (a row per post and image), or
 * 'gexf' (their image-account network, for Gephi).
 */
export async function exportView(format) {
  const state = getState();
  const summary = modeOf(state) === 'text' ? await summaryFor(state).catch(() => null) : null;
  const { refused } = exportScope(state, summary);
  if (refused) {
    toast(refused);
    return;
  }
  await download({ ...viewParams(state, summary), format });
}

/**
 * The export API's parameters for the grid's list of `state` (a text search or browsing;
 * `summary` as for `rankedImages`): its query, filters and cut.
 */
export function viewParams(state, summary) {
  // Without a cut the API wants a limit for a ranking: the grid ranks `matched` images.
  const params = searchParams(state);
  if (params.q && !params.min_score) params.limit = summary.matched;
  // What the grid ranked by, also where the server chose it (no mode asked).
  if (params.q && summary?.mode) params.mode = summary.mode;
  // The export follows the ranking; the grid's sort changes the order, not the images.
  delete params.sort;
  return params;
}

// Export of the current view (query and filters) as CSV or NDJSON, one row per post, through
// the API (so the methods manifest and the bearer key come along). Where the API cannot export
// what the grid shows, the buttons say so (see `exportScope`) instead of exporting another set.

import { api } from './api.js';
import { toast } from './dom.js';
import { modeOf } from './results.js';
import { getState, searchParams } from './state.js';

function filename(response, format) {
  const header = response.headers.get('Content-Disposition') || '';
  const match = header.match(/filename\*?=(?:UTF-8'')?"?([^";]+)"?/i);
  if (match) return decodeURIComponent(match[1]);
  const day = new Date().toISOString().slice(0, 10);
  return `picsift-export-${day}.${format === 'ndjson' ? 'ndjson' : 'csv'}`;
}

function save(blob, name) {
  const url = URL.createObjectURL(blob);
  const link = Object.assign(document.createElement('a'), { href: url, download: name });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** Images a text search exports (the API's default for a ranked export). */
const RANKED = 1000;

/**
 * What the export of `state` holds, as a phrase for the Export buttons, and why it is refused
 * (`refused`) where the export API cannot give what the grid shows.
 */
export function exportScope(state) {
  const mode = modeOf(state);
  if (mode === 'upload' || mode === 'like') {
    return {
      refused:
        'Lists of similar images cannot be exported: the export follows a text search and ' +
        'filters only. Go back to text search to export.',
    };
  }
  const images =
    mode === 'text'
      ? `up to the ${RANKED.toLocaleString()} best matches`
      : 'every image the filters match';
  const group = state.group_by ? `, one image per ${state.group_by}` : '';
  return { what: `${images}${group}, one row per post` };
}

/** Download the rows of the current view in `format` ('csv' or 'ndjson'). */
export async function exportView(format) {
  const state = getState();
  const { refused } = exportScope(state);
  if (refused) {
    toast(refused);
    return;
  }
  toast(`Preparing the ${format.toUpperCase()} export…`);
  try {
    const params = { ...searchParams(state), format, limit: state.q ? RANKED : null };
    const response = await api('export', { params, raw: true });
    const name = filename(response, format);
    save(await response.blob(), name);
    // The methods manifest (software, model, topic run, query, filters, counts) goes beside it.
    const manifest = await api('export/manifest', { params });
    const manifestName = `${name.replace(/\.[^.]+$/, '')}.manifest.json`;
    save(new Blob([JSON.stringify(manifest, null, 2)], { type: 'application/json' }), manifestName);
    toast(`Export saved as ${name}, its methods manifest as ${manifestName}.`);
  } catch (err) {
    toast(`Export failed: ${err.message}`);
  }
}

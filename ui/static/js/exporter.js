// Export of the current view (query and filters) as CSV or NDJSON, one row per post, through
// the API (so the methods manifest and the bearer key come along).

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

/** Download the rows of the current view in `format` ('csv' or 'ndjson'). */
export async function exportView(format) {
  const state = getState();
  const mode = modeOf(state);
  if (mode === 'upload' || mode === 'like') {
    toast('Export follows the text query and filters; image similarity is not part of it.');
  }
  toast(`Preparing the ${format.toUpperCase()} export…`);
  try {
    const response = await api('export', {
      params: { ...searchParams(state), format },
      raw: true,
    });
    const blob = await response.blob();
    const url = URL.createObjectURL(blob);
    const link = Object.assign(document.createElement('a'), {
      href: url,
      download: filename(response, format),
    });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
    toast(`Export saved as ${link.download}.`);
  } catch (err) {
    toast(`Export failed: ${err.message}`);
  }
}

// The search bar: a text query (ranked by the image, the images' text, or both), an image file,
// or an image dropped anywhere on the page.

import { getCatalog, onCatalog } from './catalog.js';
import { toast } from './dom.js';
import { onResults } from './grid.js';
import { fromImage, getState, subscribe, update } from './state.js';

const MAX_UPLOAD_BYTES = 20 * 1024 * 1024;

function searchByFile(file) {
  if (!file) return;
  if (!file.type.startsWith('image/')) {
    toast(`${file.name} is not an image: drop a JPEG, PNG, GIF or WebP file.`);
    return;
  }
  if (file.size > MAX_UPLOAD_BYTES) {
    toast(`${file.name} is over 20 MB: use a smaller image.`);
    return;
  }
  update(fromImage({ upload: file, like: '', image: '', view: 'grid' }));
}

function wireDrop() {
  const overlay = document.getElementById('drop-overlay');
  let depth = 0; // dragenter/leave fire for every child element crossed
  const hasFiles = (e) => [...(e.dataTransfer?.types || [])].includes('Files');
  window.addEventListener('dragenter', (e) => {
    if (!hasFiles(e)) return;
    depth += 1;
    overlay.hidden = false;
  });
  window.addEventListener('dragleave', () => {
    depth = Math.max(0, depth - 1);
    if (!depth) overlay.hidden = true;
  });
  window.addEventListener('dragover', (e) => {
    if (hasFiles(e)) e.preventDefault();
  });
  window.addEventListener('drop', (e) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    depth = 0;
    overlay.hidden = true;
    searchByFile(e.dataTransfer.files[0]);
  });
}

const MODE_NAMES = { image: 'by image', text: 'by text', hybrid: 'image + text' };

/**
 * The mode menu: Auto lets the server choose (hybrid where the images have text) and says what
 * it chose; a store made before text search (no text vectors) offers the image mode only, and
 * says how to get the others.
 */
function wireMode(select) {
  const auto = select.querySelector('option[value=""]');
  onResults((list) => {
    const chosenHere = list.state.q && !list.state.like && !list.state.upload && !list.state.mode;
    const chosen = chosenHere ? MODE_NAMES[list.summary?.mode] : null;
    auto.textContent = chosen ? `Auto: ${chosen}` : 'Auto';
  });
  select.addEventListener('change', () => {
    // A cut is on one mode's score (cosine, BM25): another mode starts without one. Text mode
    // has no image ranking to subtract from.
    const dropNot = select.value === 'text' && getState().not;
    if (dropNot) toast(`“Less like ${getState().not}” left out: text mode ranks by words only.`);
    const patch = { mode: select.value, min_score: '', image: '', view: 'grid' };
    update(dropNot ? { ...patch, not: '' } : patch);
  });
  onCatalog(() => {
    const status = getCatalog().status;
    // An empty store has no text vectors yet either, but its first index makes them.
    const indexed = status && status.images + status.frames > 0;
    const none = indexed && !(status.text_languages ?? []).length;
    for (const option of select.options) {
      if (!['text', 'hybrid'].includes(option.value)) continue;
      option.disabled = Boolean(none);
      option.title = none
        ? 'This store was made before text search: run picsift store migrate'
        : `Text searched in ${(status?.text_languages ?? []).join(', ')}`;
    }
  });
}

/** Wire the search form, the mode menu, the file button, drag and drop, and "/". */
export function initSearchBar() {
  const form = document.getElementById('search-form');
  const input = document.getElementById('q');
  const mode = document.getElementById('mode');
  const file = document.getElementById('upload');
  // The field being typed in keeps its text, unless the query itself changed (Back, Forward).
  const sync = (state, previous) => {
    if (document.activeElement !== input || state.q !== previous?.q) input.value = state.q;
    mode.value = Object.hasOwn(MODE_NAMES, state.mode) ? state.mode : '';
  };
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const q = input.value.trim();
    // A new text query replaces an image query; filters stay. Its results are in the grid
    // (the map shows the whole collection).
    update({ q, like: '', upload: null, image: '', view: 'grid' });
  });
  file.addEventListener('change', () => {
    searchByFile(file.files[0]);
    file.value = '';
  });
  document.addEventListener('keydown', (e) => {
    const typing = /^(INPUT|TEXTAREA|SELECT)$/.test(e.target.tagName) || e.target.isContentEditable;
    if (e.key === '/' && !typing && !document.querySelector('dialog[open]')) {
      e.preventDefault();
      input.focus();
      input.select();
    }
  });
  wireMode(mode);
  wireDrop();
  subscribe(sync);
  sync(getState());
}

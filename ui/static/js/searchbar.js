// The search bar: a text query, an image file, or an image dropped anywhere on the page.

import { toast } from './dom.js';
import { getState, subscribe, update } from './state.js';

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
  update({ upload: file, like: '', image: '', view: 'grid' });
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

/** Wire the search form, the file button, drag and drop, and the "/" shortcut. */
export function initSearchBar() {
  const form = document.getElementById('search-form');
  const input = document.getElementById('q');
  const file = document.getElementById('upload');
  // The field being typed in keeps its text, unless the query itself changed (Back, Forward).
  const sync = (state, previous) => {
    if (document.activeElement !== input || state.q !== previous?.q) input.value = state.q;
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
  wireDrop();
  subscribe(sync);
  sync(getState());
}

// Coding mode in the grid, while a coder is signed in: a bar with the codebook as numbered
// toggles and a current image (outlined). Keys: 1–9 toggle that code on the current image,
// 0 or S records it as seen with no code, N or → moves to the next image, P or ← to the
// previous (Enter opens it). Moving on from an image left without any coding records it as
// seen, so agreement can count it; every toggle is written at once.

import { redrawBadges } from './codebadges.js';
import {
  codebook,
  coderName,
  leave,
  myCodes,
  onCoding,
  savingState,
  setCodes,
  toggleCode,
} from './coder.js';
import { code, fill, h, notice, num } from './dom.js';
import { loadMore, onResults } from './grid.js';
import { getState, subscribe, update } from './state.js';

/** Codes with a number key (the rest are toggled with a click). */
const KEYED = 9;
let current = ''; // the current image's id

const bar = () => document.getElementById('coding-bar');
const tiles = () => [...document.querySelectorAll('#grid .tile-link')];

/** The current image's tile: the one marked, else the first (which becomes current). */
function currentTile() {
  const list = tiles();
  const found = list.find((t) => t.dataset.id === current) ?? list[0] ?? null;
  if (found) mark(found.dataset.id);
  return found;
}

/** Make image `id` the current one: outline its tile and show its codes in the bar. */
function mark(id) {
  current = id;
  for (const t of document.querySelectorAll('#grid .coding-current')) {
    if (t.dataset.id !== id) t.classList.remove('coding-current');
  }
  document
    .querySelector(`#grid .tile-link[data-id="${CSS.escape(id)}"]`)
    ?.classList.add('coding-current');
  pressed();
}

/** Move to the next (`delta` 1) or previous (-1) image, loading the next page at the end. */
async function move(delta) {
  const from = currentTile();
  if (!from) return;
  let list = tiles();
  let i = list.indexOf(from) + delta;
  if (i >= list.length && (await loadMore()).length) list = tiles();
  i = Math.max(0, Math.min(i, list.length - 1));
  const target = list[i];
  // N on the last image moves on from it too: the coder is done with it.
  if (delta > 0 || target !== from) leave(from.dataset.id);
  if (target === from) return say(delta > 0 ? 'That was the last image.' : 'The first image.');
  mark(target.dataset.id);
  target.focus({ preventScroll: true });
  target.scrollIntoView({ block: 'nearest' });
}

function say(text) {
  const el = bar()?.querySelector('.coding-where');
  if (el) el.textContent = text;
}

/** Keep the bar's toggles, position and saving state in step with the current image. */
function pressed() {
  const el = bar();
  if (!el || el.hidden) return;
  const codes = myCodes(current);
  for (const button of el.querySelectorAll('.code-toggle')) {
    button.setAttribute('aria-pressed', String(Boolean(codes?.includes(button.dataset.code))));
  }
  el.querySelector('.code-none')?.setAttribute('aria-pressed', String(codes?.length === 0));
  const list = tiles();
  const at = list.findIndex((t) => t.dataset.id === current);
  const state = codes === undefined ? 'not coded yet' : codes.length ? 'coded' : 'seen, no code';
  say(at < 0 ? '' : `Image ${num(at + 1)} of ${num(list.length)} loaded: ${state}.`);
}

function savingText() {
  const el = bar()?.querySelector('.coding-saving');
  if (!el) return;
  const { saving, error } = savingState();
  el.textContent = saving ? 'Saving…' : error ? 'Not saved' : 'All saved';
  el.classList.toggle('error-text', !saving && Boolean(error));
}

function toggle(c) {
  const tile = currentTile();
  if (tile) toggleCode(tile.dataset.id, c);
}

function none() {
  const tile = currentTile();
  if (tile) setCodes(tile.dataset.id, []);
}

function codeButton(c, i) {
  return h(
    'button',
    {
      type: 'button',
      class: 'code-toggle',
      dataset: { code: c.code },
      'aria-pressed': 'false',
      'aria-keyshortcuts': i < KEYED ? String(i + 1) : null,
      title: c.description || null,
      onClick: () => toggle(c.code),
    },
    i < KEYED ? h('kbd', {}, String(i + 1)) : null,
    h('bdi', {}, c.code),
  );
}

/** Draw the bar for the signed-in coder (hidden when nobody is). */
function render() {
  const el = bar();
  const name = coderName();
  el.hidden = !name;
  if (!name) {
    for (const t of document.querySelectorAll('#grid .coding-current')) {
      t.classList.remove('coding-current');
    }
    return;
  }
  const book = codebook();
  if (!book.length) {
    return fill(
      el,
      notice('empty', 'The codebook is empty: there is nothing to code with yet.', [
        'Add codes with ',
        code('picsift codes add NAME --description "…"'),
        ', then reload.',
      ]),
    );
  }
  fill(
    el,
    h(
      'div',
      { class: 'row coding-codes', role: 'group', 'aria-label': 'Codes for the current image' },
      book.map(codeButton),
      h(
        'button',
        {
          type: 'button',
          class: 'code-none',
          'aria-pressed': 'false',
          'aria-keyshortcuts': '0 S',
          title: 'Seen: none of the codes applies (takes off any given)',
          onClick: none,
        },
        h('kbd', {}, '0'),
        'Seen, no code',
      ),
    ),
    h(
      'p',
      { class: 'hint coding-keys' },
      h('kbd', {}, 'N'),
      ' or ',
      h('kbd', {}, '→'),
      ' next, ',
      h('kbd', {}, 'P'),
      ' or ',
      h('kbd', {}, '←'),
      ' previous: moving on from an image without a code records it as seen. ',
      h('kbd', {}, 'Enter'),
      ' opens it. ',
      h('span', { class: 'coding-where', role: 'status' }),
      ' ',
      h('span', { class: 'coding-saving', 'aria-live': 'polite' }),
      ' ',
      h(
        'button',
        {
          type: 'button',
          class: 'link',
          onClick: () => update({ coder: name, code: '', view: 'grid' }),
        },
        'Show the images I coded',
      ),
    ),
  );
  currentTile();
  pressed();
  savingText();
}

/** Whether a key press is the coding mode's: on the grid, not typing, no dialog open. */
function ours(e) {
  if (!coderName() || getState().view !== 'grid' || getState().image) return false;
  if (e.ctrlKey || e.metaKey || e.altKey || e.defaultPrevented) return false;
  if (document.querySelector('dialog[open]')) return false;
  const t = e.target;
  if (/^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName) || t.isContentEditable) return false;
  // Keys elsewhere (the sidebar, the timeline, the score cut) are those controls' own.
  return t === document.body || t.id === 'main' || Boolean(t.closest?.('#grid, #coding-bar'));
}

function onKey(e) {
  if (!ours(e)) return;
  const book = codebook();
  const key = e.key.length === 1 ? e.key.toLowerCase() : e.key;
  if (/^[1-9]$/.test(key) && Number(key) <= Math.min(book.length, KEYED)) {
    toggle(book[Number(key) - 1].code);
  } else if (key === '0' || key === 's') none();
  else if (key === 'n' || key === 'ArrowRight') move(1);
  else if (key === 'p' || key === 'ArrowLeft') move(-1);
  else return;
  e.preventDefault();
}

/**
 * Build the coding bar above the grid and wire the keys; the bar shows while a coder is
 * signed in, and the tiles' badges follow their codes.
 */
export function initCoding() {
  const el = h('section', { id: 'coding-bar', class: 'coding-bar', 'aria-label': 'Coding' });
  el.hidden = true;
  document.getElementById('view-grid').prepend(el);
  onCoding((what, id) => {
    if (what === 'coder') {
      render();
      redrawBadges();
    } else if (what === 'codes') {
      redrawBadges(id);
      if (id === current) pressed();
    } else savingText();
  });
  // A new list starts at its first image; the detail view's image becomes the current one.
  onResults(() => {
    current = getState().image;
    setTimeout(() => coderName() && currentTile(), 0);
  });
  subscribe((state) => {
    if (state.image && coderName()) mark(state.image);
  });
  document.addEventListener('keydown', onKey);
  // A tile focused by Tab or a click becomes the current one.
  document.getElementById('grid').addEventListener('focusin', (e) => {
    const tile = e.target.closest?.('.tile-link');
    if (tile && coderName()) mark(tile.dataset.id);
  });
  render();
}

// The coding part of the detail view, while a coder is signed in: the coder's codes as
// toggles (number keys too), the other coders' latest codes, and the zero-shot suggestions of
// the codebook, marked as suggestions (dashed, "suggested"): one click applies one as the
// coder's own code. A suggestion is never stored or counted as a coder.

import { api } from './api.js';
import {
  codebook,
  coderName,
  inBookOrder,
  myCodes,
  onCoding,
  setCodes,
  toggleCode,
} from './coder.js';
import { fill, h } from './dom.js';

const KEYED = 9;

const panel = () => document.querySelector('#detail .coding-panel');

/** `text` with a capital first letter. */
const sentence = (text) => text.charAt(0).toUpperCase() + text.slice(1);

/** A coder's codes as a phrase ("seen, no code" for none). */
const codesText = (codes) => (codes.length ? inBookOrder(codes).join(', ') : 'seen, no code');

function toggles(id) {
  const codes = myCodes(id);
  return h(
    'div',
    { class: 'row coding-codes', role: 'group', 'aria-label': 'Your codes for this image' },
    codebook().map((c, i) =>
      h(
        'button',
        {
          type: 'button',
          class: 'code-toggle',
          dataset: { code: c.code },
          'aria-pressed': String(Boolean(codes?.includes(c.code))),
          'aria-keyshortcuts': i < KEYED ? String(i + 1) : null,
          title: c.description || null,
          onClick: () => toggleCode(id, c.code),
        },
        i < KEYED ? h('kbd', {}, String(i + 1)) : null,
        h('bdi', {}, c.code),
      ),
    ),
    h(
      'button',
      {
        type: 'button',
        class: 'code-none',
        'aria-pressed': String(codes?.length === 0),
        'aria-keyshortcuts': '0 S',
        title: 'Seen: none of the codes applies (takes off any given)',
        onClick: () => setCodes(id, []),
      },
      h('kbd', {}, '0'),
      'Seen, no code',
    ),
  );
}

function mineText(id) {
  const codes = myCodes(id);
  return codes === undefined ? 'You have not coded it yet.' : `Yours: ${codesText(codes)}.`;
}

/** The other coders' latest codes for the image (the signed-in coder's are the toggles). */
async function others(id, el) {
  try {
    const given = (await api(`images/${encodeURIComponent(id)}/codes`)).filter(
      (c) => c.coder !== coderName(),
    );
    fill(
      el,
      given.length
        ? h(
            'ul',
            { class: 'other-codes' },
            given.map((c) =>
              h('li', {}, h('strong', {}, h('bdi', {}, c.coder)), ': ', codesText(c.codes)),
            ),
          )
        : h('p', { class: 'muted' }, 'No other coder has coded it yet.'),
    );
  } catch (err) {
    fill(el, h('p', { class: 'error-text' }, `The other coders’ codes: ${err.message}`));
  }
}

function suggestionButton(id, s, readAs) {
  const applied = Boolean(myCodes(id)?.includes(s.code));
  return h(
    'button',
    {
      type: 'button',
      class: 'suggestion',
      dataset: { code: s.code },
      disabled: applied,
      title:
        `Zero-shot: the image stands out for “${readAs ?? s.code}” ` +
        `(${s.margin.toFixed(3)} above the code’s edge). A suggestion, not a coding: ` +
        'click to apply it as your code.',
      onClick: () => {
        const now = myCodes(id) ?? [];
        if (!now.includes(s.code)) setCodes(id, [...now, s.code]);
      },
    },
    h('span', { class: 'suggested-tag' }, 'suggested'),
    h('bdi', {}, s.code),
    applied ? ' ✓ applied' : ' + apply',
  );
}

/** The codebook's zero-shot suggestions for the image, or why there are none. */
async function suggestions(id, el) {
  try {
    const answer = await api(`images/${encodeURIComponent(id)}/codes/suggestions`);
    el.answer = answer;
    drawSuggestions(id, el);
  } catch (err) {
    fill(el, h('p', { class: 'error-text' }, `Suggestions could not be read: ${err.message}`));
  }
}

function drawSuggestions(id, el) {
  const answer = el.answer;
  if (!answer) return;
  const list = answer.suggestions ?? [];
  fill(
    el,
    list.length
      ? h(
          'div',
          { class: 'row suggestions', role: 'group', 'aria-label': 'Suggested codes' },
          list.map((s) => suggestionButton(id, s, answer.read_as?.[s.code])),
        )
      : h('p', { class: 'muted' }, answer.why ? `None: ${answer.why}.` : 'No code stands out.'),
    answer.note ? h('p', { class: 'hint' }, `${sentence(answer.note)}.`) : null,
  );
}

/**
 * The place of the coding section in the detail view of image `id`: the section while a coder
 * is signed in (and from when one signs in), empty otherwise.
 */
export function codingPanel(id) {
  const slot = h('div', { class: 'coding-slot', dataset: { id } });
  drawPanel(slot);
  return slot;
}

/**
 * Fill a coding slot for the signed-in coder (empty for none); the other coders' codes and
 * the suggestions come in after it is shown.
 */
function drawPanel(slot) {
  const id = slot.dataset.id;
  if (!coderName()) return fill(slot);
  const loading = () => h('p', { class: 'muted' }, 'Loading…');
  const othersEl = h('div', { class: 'coding-others' }, loading());
  const suggested = h('div', { class: 'coding-suggestions' }, loading());
  const el = h(
    'section',
    { class: 'coding-panel', dataset: { id }, 'aria-label': 'Coding' },
    h(
      'h3',
      {},
      'Your codes ',
      h('span', { class: 'muted' }, '(coding as ', h('bdi', {}, coderName()), ')'),
    ),
    toggles(id),
    h('p', { class: 'muted coding-mine', role: 'status' }, mineText(id)),
    h('h3', {}, 'Other coders'),
    othersEl,
    h('h3', {}, 'Suggested ', h('span', { class: 'muted' }, '(zero-shot, not a coder)')),
    suggested,
  );
  fill(slot, el);
  others(id, othersEl);
  suggestions(id, suggested);
}

/**
 * Bring the shown panel's toggles and suggestions up to the coder's codes (in place: the
 * button just pressed keeps the focus).
 */
function refresh(id) {
  const el = panel();
  if (!el || el.dataset.id !== id) return;
  const codes = myCodes(id);
  for (const button of el.querySelectorAll('.code-toggle')) {
    button.setAttribute('aria-pressed', String(Boolean(codes?.includes(button.dataset.code))));
  }
  el.querySelector('.code-none').setAttribute('aria-pressed', String(codes?.length === 0));
  el.querySelector('.coding-mine').textContent = mineText(id);
  // A suggestion just applied is drawn anew (and disabled): its code's toggle takes the focus.
  const focused = el.querySelector('.coding-suggestions')?.contains(document.activeElement)
    ? document.activeElement.dataset.code
    : null;
  drawSuggestions(id, el.querySelector('.coding-suggestions'));
  if (focused) {
    el.querySelector(`.code-toggle[data-code="${CSS.escape(focused)}"]`)?.focus();
  }
}

/** Number keys code the image the detail view shows (0 or S: seen, no code). */
export function initCodingPanel() {
  onCoding((what, id) => {
    if (what === 'codes') refresh(id);
    // Signed in or out (or the codebook read again) while an image is shown.
    const slot = document.querySelector('#detail .coding-slot');
    if (what === 'coder' && slot) drawPanel(slot);
  });
  document.getElementById('detail').addEventListener('keydown', (e) => {
    const el = panel();
    if (!el || !coderName() || e.ctrlKey || e.metaKey || e.altKey) return;
    if (/^(INPUT|TEXTAREA|SELECT)$/.test(e.target.tagName)) return;
    const book = codebook();
    const key = e.key.toLowerCase();
    if (/^[1-9]$/.test(key) && Number(key) <= Math.min(book.length, KEYED)) {
      toggleCode(el.dataset.id, book[Number(key) - 1].code);
    } else if (key === '0' || key === 's') setCodes(el.dataset.id, []);
    else return;
    e.preventDefault();
  });
}

// Above the grid: what the list shows, one removable chip per active filter, and export.

import { labelOf, onCatalog } from './catalog.js';
import { cutText, fill, h } from './dom.js';
import { exportScope, exportView } from './exporter.js';
import { currentResults, onResults } from './grid.js';
import { topicColour, topicName } from './palette.js';
import { modeOf } from './results.js';
import { saveView } from './saveview.js';
import { getState, resultsKey, searchParams, subscribe, update } from './state.js';

const NAMES = {
  text: 'words',
  not: 'less like',
  dataset: 'dataset',
  author: 'author',
  tag: 'tag',
  date_from: 'from',
  date_to: 'to',
  has_caption: 'captioned',
  group_by: 'one per',
  selection: 'selection',
  code: 'code',
  coder: 'coder',
};

/** What a code or coder filter keeps, as the chip's tooltip says it. */
const CODING_TITLES = {
  code: 'The images a coder applied this code to (remove this filter)',
  coder: 'The images this coder coded, or with a code, applied it to (remove this filter)',
};

const CAPTIONED = { true: 'yes', false: 'no' };

/** A topic's name for a chip; a value from the URL that is no topic id shows as typed. */
const topicChip = (t) => (/^-?\d+$/.test(t) ? topicName(t, labelOf(t)) : `“${t}”`);

function chip(text, patch, colour, title = 'Remove this filter') {
  return h(
    'li',
    {},
    h(
      'button',
      {
        class: 'chip',
        style: colour ? { '--c': colour } : null,
        'aria-label': `Remove filter ${text}`,
        title,
        onClick: () => update(patch),
      },
      colour ? h('span', { class: 'swatch', 'aria-hidden': 'true' }) : null,
      text,
      h('span', { 'aria-hidden': 'true', class: 'x' }, '×'),
    ),
  );
}

/**
 * The chip of a variant group: the picture (the group's id is the id of one of its images)
 * and the group's short id.
 */
function variantChip(id) {
  const thumb = h('img', {
    class: 'chip-thumb',
    src: `api/images/${encodeURIComponent(id)}/thumb`,
    alt: '',
  });
  thumb.addEventListener('error', () => thumb.remove(), { once: true });
  const item = chip(`same picture (group ${id.slice(0, 8)})`, { variant: '' });
  item.querySelector('.chip').prepend(thumb);
  return item;
}

function chipsOf(state) {
  const out = [];
  if (state.selection) out.push(chip(`selection: ${state.selection}`, { selection: '' }));
  if (state.variant) out.push(variantChip(state.variant));
  for (const key of ['code', 'coder']) {
    if (state[key]) {
      out.push(chip(`${NAMES[key]}: ${state[key]}`, { [key]: '' }, null, CODING_TITLES[key]));
    }
  }
  for (const t of state.topic) {
    out.push(
      chip(
        `topic ${topicChip(t)}`,
        { topic: state.topic.filter((x) => x !== t) },
        topicColour(t),
      ),
    );
  }
  for (const t of state.exclude_topic) {
    out.push(
      chip(
        `not ${topicChip(t)}`,
        { exclude_topic: state.exclude_topic.filter((x) => x !== t) },
        topicColour(t),
      ),
    );
  }
  for (const key of ['dataset', 'author', 'tag']) {
    for (const v of state[key])
      out.push(chip(`${NAMES[key]}: ${v}`, { [key]: state[key].filter((x) => x !== v) }));
  }
  for (const key of ['text', 'not', 'date_from', 'date_to', 'has_caption', 'group_by']) {
    if (state[key]) {
      const value = key === 'has_caption' ? (CAPTIONED[state[key]] ?? state[key]) : state[key];
      out.push(chip(`${NAMES[key]}: ${value}`, { [key]: '' }));
    }
  }
  // The cut only shows where it cuts: searchParams leaves it out when browsing.
  const cut = searchParams(state).min_score;
  if (cut) out.push(chip(`score ≥ ${cutText(cut)}`, { min_score: '' }));
  return out;
}

function heading(state) {
  const mode = modeOf(state);
  if (mode === 'upload') {
    return [`Images like your file ${state.upload.name}`, state.q ? ` and “${state.q}”` : ''];
  }
  if (mode === 'like') {
    return [
      'Images like ',
      h('img', {
        class: 'like-thumb',
        src: `api/images/${encodeURIComponent(state.like)}/thumb`,
        alt: 'the chosen image',
      }),
    ];
  }
  if (mode === 'text') return [`Results for “${state.q}”`];
  if (state.selection) return [`The saved selection “${state.selection}”`];
  if (state.code) {
    return [`Images coded “${state.code}”`, state.coder ? ` by ${state.coder}` : ''];
  }
  if (state.coder) return [`Images ${state.coder} coded`];
  return [state.variant ? 'The copies of one picture' : 'All images'];
}

/** The map draws the whole collection: say so, rather than a search heading it ignores. */
function mapNote(state) {
  const searched = Object.keys(searchParams(state)).some((k) => k !== 'topic') || state.upload;
  return h(
    'p',
    { class: 'what', id: 'what' },
    'The map shows every image; topics ticked in the sidebar are highlighted.',
    searched
      ? h(
          'button',
          { class: 'link', onClick: () => update({ view: 'grid' }) },
          'Show the search and filters in the grid',
        )
      : null,
  );
}

function render(bar, state) {
  if (state.view === 'map') return fill(bar, mapNote(state));
  const chips = chipsOf(state);
  const mode = modeOf(state);
  fill(
    bar,
    h(
      'p',
      { class: 'what', id: 'what' },
      heading(state),
      mode === 'like' || mode === 'upload'
        ? h(
            'button',
            { class: 'link', onClick: () => update({ like: '', upload: null }) },
            'back to text search',
          )
        : null,
    ),
    chips.length ? h('ul', { class: 'chips', 'aria-label': 'Active filters' }, chips) : null,
    exportGroup(state),
  );
}

function exportGroup(state) {
  const list = currentResults();
  const { what, refused } = exportScope(
    state,
    list?.key === resultsKey(state) ? list.summary : undefined,
  );
  const button = (format, text, title) =>
    h(
      'button',
      {
        disabled: Boolean(refused),
        'aria-describedby': 'export-scope',
        title,
        onClick: () => exportView(format),
      },
      text,
    );
  return h(
    'div',
    { class: 'export row', role: 'group', 'aria-label': 'Save or export this view' },
    h(
      'button',
      {
        class: 'save-view',
        title: 'Keep these images under a name, to reopen, search within and share',
        onClick: saveView,
      },
      'Save…',
    ),
    h('span', { class: 'muted' }, 'Export:'),
    button('csv', 'CSV'),
    button('ndjson', 'NDJSON'),
    button(
      'gexf',
      'Network (GEXF)',
      'The accounts that posted these images and the images, as a GEXF network for Gephi ' +
        '(copies of one picture are one node)',
    ),
    h('span', { class: 'muted export-scope', id: 'export-scope' }, refused ?? `(${what})`),
  );
}

/** Keep the chips bar in step with the URL. */
export function initChips() {
  const bar = document.getElementById('chips');
  subscribe((state) => render(bar, state));
  onCatalog(() => render(bar, getState()));
  onResults(() => render(bar, getState())); // the export's scope counts the grid's list
  render(bar, getState());
}

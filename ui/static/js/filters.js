// The filter form in the sidebar: words, dataset, author, tag, date range, captions, grouping.
// Every change goes to the URL at once (a date once it is whole); the form mirrors the URL
// (back button included).

import { getCatalog, onCatalog } from './catalog.js';
import { fill, h } from './dom.js';
import { clearedFilters } from './grid.js';
import { getState, subscribe, update } from './state.js';

const split = (text) =>
  text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

function field(id, label, control, hint) {
  return h(
    'div',
    { class: 'field' },
    h('label', { for: id }, label),
    control,
    hint ? h('p', { class: 'hint', id: `${id}-hint` }, hint) : null,
  );
}

function select(id, options) {
  return h(
    'select',
    { id, name: id },
    options.map(([value, text]) => h('option', { value }, text)),
  );
}

function datasetOptions() {
  const datasets = getCatalog().status?.datasets ?? {};
  const names = Array.isArray(datasets) ? datasets : Object.keys(datasets);
  const current = getState().dataset.filter((d) => !names.includes(d));
  return [
    ['', 'All datasets'],
    ...[...names, ...current].map((name) => {
      const count = Array.isArray(datasets) ? null : datasets[name];
      return [name, count != null ? `${name} (${count.toLocaleString()} images)` : name];
    }),
  ];
}

function build(form) {
  fill(
    form,
    field(
      'f-text',
      'Words in captions, post text or hashtags',
      h('input', { id: 'f-text', type: 'search', 'aria-describedby': 'f-text-hint' }),
      'Exact words, e.g. farmers',
    ),
    field(
      'f-not',
      'Less like (subtracted from the query)',
      h('input', { id: 'f-not', type: 'search' }),
    ),
    field('f-dataset', 'Dataset', select('f-dataset', datasetOptions())),
    field(
      'f-author',
      'Author',
      h('input', { id: 'f-author', type: 'text', 'aria-describedby': 'f-author-hint' }),
      'Several: separate with commas',
    ),
    field('f-tag', 'Tag', h('input', { id: 'f-tag', type: 'text' })),
    h(
      'div',
      { class: 'field-pair' },
      field('f-from', 'From', h('input', { id: 'f-from', type: 'date' })),
      field('f-to', 'To', h('input', { id: 'f-to', type: 'date' })),
    ),
    field(
      'f-caption',
      'Captions',
      select('f-caption', [
        ['', 'With or without'],
        ['true', 'Captioned only'],
        ['false', 'Not captioned yet'],
      ]),
    ),
    field(
      'f-group',
      'One image per',
      select('f-group', [
        ['', 'image (no grouping)'],
        ['post', 'post'],
        ['author', 'author'],
        ['video', 'video (its best frame)'],
      ]),
    ),
    h(
      'div',
      { class: 'row' },
      h('button', { type: 'submit', class: 'primary' }, 'Apply'),
      h('button', { type: 'button', onClick: () => update(clearedFilters()) }, 'Clear filters'),
    ),
  );
}

function read(form) {
  const v = (id) => form.querySelector(`#${id}`).value.trim();
  return {
    text: v('f-text'),
    not: v('f-not'),
    dataset: v('f-dataset') ? [v('f-dataset')] : [],
    author: split(v('f-author')),
    tag: split(v('f-tag')),
    date_from: v('f-from'),
    date_to: v('f-to'),
    has_caption: v('f-caption'),
    group_by: v('f-group'),
  };
}

function activeCount(state) {
  return (
    ['text', 'not', 'date_from', 'date_to', 'has_caption', 'group_by'].filter((k) => state[k])
      .length +
    state.dataset.length +
    state.author.length +
    state.tag.length
  );
}

const FIELDS = {
  'f-text': (state) => state.text,
  'f-not': (state) => state.not,
  'f-dataset': (state) => state.dataset[0] ?? '',
  'f-author': (state) => state.author.join(', '),
  'f-tag': (state) => state.tag.join(', '),
  'f-from': (state) => state.date_from,
  'f-to': (state) => state.date_to,
  'f-caption': (state) => state.has_caption,
  'f-group': (state) => state.group_by,
};

/**
 * Show `state` in the form. The field being typed in keeps its text unless its own value
 * changed since `previous` (Back and Forward change it under the cursor).
 */
function mirror(form, state, previous) {
  const n = activeCount(state);
  const section = document.getElementById('filters');
  section.querySelector('h2').textContent = n ? `Filters (${n} active)` : 'Filters';
  if (n) section.open = true;
  for (const [id, valueOf] of Object.entries(FIELDS)) {
    const el = form.querySelector(`#${id}`);
    const changed = previous && valueOf(previous) !== valueOf(state);
    if (el && (document.activeElement !== el || changed)) el.value = valueOf(state);
  }
  // Subtracting terms works on the image ranking: text mode ranks by words alone.
  const not = form.querySelector('#f-not');
  not.disabled = state.mode === 'text';
  not.title = not.disabled ? 'Text mode ranks by words only; choose another mode to use it' : '';
}

/**
 * Whether a date field holds a whole date (or none): Chromium reports every keystroke of the
 * year as a change (0002, 0020, 0202, 2024), and a half-typed date as bad input.
 */
const dateDone = (el) => !el.validity.badInput && (!el.value || /^[1-9]\d{3}-/.test(el.value));

/** Build the filter form and keep it in step with the URL. */
export function initFilters() {
  const section = document.getElementById('filters');
  const form = h('form', { class: 'filters', 'aria-label': 'Filters' });
  section.append(form);
  build(form);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    update(read(form));
  });
  form.addEventListener('change', (e) => {
    if (e.target.tagName === 'SELECT' || (e.target.type === 'date' && dateDone(e.target))) {
      update(read(form));
    }
  });
  onCatalog(() => {
    fill(
      form.querySelector('#f-dataset'),
      datasetOptions().map(([value, text]) => h('option', { value }, text)),
    );
    mirror(form, getState());
  });
  subscribe((state, previous) => mirror(form, state, previous));
  mirror(form, getState());
}

// Above the grid: how many images the list holds (under its cut), whether the query matches
// anything at all (the relevance verdict), the minimum-score control and the query's score
// distribution with its edge.

import { cutText, fill, h, notice, num } from './dom.js';
import { onResults } from './grid.js';
import { modeOf } from './results.js';
import { scoreDistribution } from './scoredist.js';
import { getState, isRanked, sortable, subscribe, update } from './state.js';

const WEAK = /^no strong matches\b/i;
// What the last text search ranked by, as the server said (it chooses when no mode is asked).
let rankedBy = 'image';

/** The mode a text search of `state` ranks by: the one asked for, else the server's choice. */
const modeFor = (state) => state.mode || rankedBy;

/** "37 images at score ≥ 0.30", "10,000+ images, ranked"; '' when the server did not count. */
function countText(summary, state) {
  if (!summary || summary.matched === null) return '';
  const capped = summary.matchedCapped;
  const one = summary.matched === 1 && !capped;
  const images = `${num(summary.matched)}${capped ? '+' : ''} image${one ? '' : 's'}`;
  const edge = summary.relevance?.edge ?? null;
  let text;
  if (summary.mode === 'text') {
    const cut = summary.minScore !== null ? ` at BM25 ≥ ${cutText(summary.minScore)}` : '';
    text = `${images} with a word of the query in their text${cut}`;
  } else if (summary.mode === 'hybrid') {
    text = `${images}, ranked by image and text (fused by rank)`;
  } else if (summary.minScore !== null) {
    const atEdge = edge !== null && Math.abs(summary.minScore - edge) < 1e-9;
    text = `${images} at score ≥ ${cutText(summary.minScore)}${atEdge ? ' (the edge)' : ''}`;
  } else text = modeOf(state) === 'browse' ? images : `${images}, ranked`;
  return state.group_by ? `${text}, shown one per ${state.group_by}` : text;
}

/** The API's verdict words as a sentence: capital first, full stop last. */
const sentence = (text) =>
  `${text.charAt(0).toUpperCase()}${text.slice(1)}${/[.!?]$/.test(text) ? '' : '.'}`;

/**
 * The relevance verdict: a notice when nothing stands out, else the strong count. In hybrid
 * mode it is the image ranking's (the tiles' evidence says what the text adds).
 */
function verdict(relevance, state, mode) {
  if (!relevance?.verdict) return null;
  const by = mode === 'hybrid' ? ' by the image' : '';
  if (WEAK.test(relevance.verdict)) {
    // "no strong matches: <why>": the title says the first part, the body the reason.
    const colon = relevance.verdict.indexOf(':');
    const rest = colon < 0 ? '' : relevance.verdict.slice(colon + 1).trim();
    const title = `No strong matches${by} for “${state.q}”.`;
    return notice('weak', title, rest ? [sentence(rest)] : []);
  }
  if (relevance.strong === null || relevance.edge === null) {
    const said = by ? `By the image: ${relevance.verdict}` : relevance.verdict;
    return h('p', { class: 'strong-count muted' }, sentence(said));
  }
  const n = `${num(relevance.strong)}${relevance.strong_capped ? '+' : ''}`;
  return h(
    'p',
    { class: 'strong-count' },
    h('strong', {}, `${n} strong match${relevance.strong === 1 ? '' : 'es'}${by}`),
    ` (score above the edge, ${cutText(relevance.edge)})`,
  );
}

/**
 * A valid minimum score typed in `input`: its text, '' for blank, null for an invalid one. A
 * cosine is within -1..1; a BM25 score (text mode) is 0 or more.
 */
function typedCut(input) {
  const text = input.value.trim();
  if (!text) return '';
  const value = Number(text);
  const textMode = modeFor(getState()) === 'text';
  const inRange = textMode ? value >= 0 : value >= -1 && value <= 1;
  return input.validity.valid && inRange ? text : null;
}

function cutForm() {
  const input = h('input', {
    id: 'min-score',
    type: 'number',
    step: 'any',
    min: -1,
    max: 1,
    placeholder: 'none',
    inputmode: 'decimal',
    'aria-describedby': 'min-score-hint',
  });
  const apply = () => {
    const cut = typedCut(input);
    input.setAttribute('aria-invalid', String(cut === null));
    if (cut !== null) update({ min_score: cut });
  };
  input.addEventListener('change', apply);
  return h(
    'form',
    {
      class: 'cut-form row',
      'aria-label': 'Minimum score',
      onSubmit: (e) => {
        e.preventDefault();
        apply();
      },
    },
    h('label', { for: 'min-score' }, 'Min score'),
    input,
    h(
      'button',
      {
        type: 'button',
        id: 'cut-edge',
        class: 'small',
        onClick: (e) => update({ min_score: e.currentTarget.dataset.edge }),
      },
      'Cut at the edge',
    ),
    h(
      'button',
      { type: 'button', id: 'cut-none', class: 'small', onClick: () => update({ min_score: '' }) },
      'No cut',
    ),
    h('p', { class: 'hint', id: 'min-score-hint' }, 'From -1 to 1; blank shows the whole ranking.'),
  );
}

/** The order of the list: by score (or newest first), or the most engaged first. */
function sortForm() {
  const select = h(
    'select',
    { id: 'sort', 'aria-describedby': 'sort-hint', onChange: (e) => update({ sort: e.target.value }) },
    h('option', { value: '' }, 'Best match'),
    h('option', { value: 'engagement' }, 'Most engaged'),
  );
  return h(
    'div',
    { class: 'sort-form row' },
    h('label', { for: 'sort' }, 'Order'),
    select,
    h('p', { class: 'hint', id: 'sort-hint' }),
  );
}

function showSort(panel, state) {
  const select = panel.querySelector('#sort');
  const able = sortable(state);
  select.options[0].textContent = isRanked(state) ? 'Best match' : 'Newest first';
  select.options[1].disabled = !able;
  select.value = able ? state.sort : '';
  const hybrid = state.q && !state.like && !state.upload && state.mode === 'hybrid';
  let hint = 'Likes, comments and shares summed over each image’s posts.';
  if (!able) {
    hint = hybrid
      ? 'A hybrid ranking has no end to sort: rank by image with a minimum score, or by text.'
      : 'Set a minimum score to sort this ranking by engagement: it is sorted whole.';
  }
  fill(panel.querySelector('#sort-hint'), hint);
}

function showCut(panel, state, previous) {
  const form = panel.querySelector('.cut-form');
  // A search from an image ranks by the image; a text search by its mode. Hybrid ranks by
  // fused rank, which measures nothing to cut at (a hit's evidence does).
  const mode = state.q && !state.like && !state.upload ? modeFor(state) : 'image';
  form.hidden = !isRanked(state) || mode === 'hybrid';
  const input = form.querySelector('#min-score');
  const bm25 = mode === 'text';
  input.min = bm25 ? 0 : -1;
  if (bm25) input.removeAttribute('max');
  else input.max = 1;
  form.querySelector('#min-score-hint').textContent = bm25
    ? 'A BM25 score, 0 or more; blank shows every image with a word of the query.'
    : 'From -1 to 1; blank shows the whole ranking.';
  if (document.activeElement !== input || state.min_score !== previous?.min_score) {
    input.value = state.min_score;
    input.removeAttribute('aria-invalid');
  }
  form.querySelector('#cut-none').hidden = !state.min_score;
}

function showSummary(panel, list) {
  const state = list.state;
  panel.setAttribute('aria-busy', String(Boolean(list.loading)));
  if (list.loading) return; // the last list's numbers stay, dimmed, until these are in
  const summary = list.summary ?? null;
  const relevance = summary?.relevance ?? null;
  fill(panel.querySelector('.match-count'), countText(summary, state));
  fill(panel.querySelector('.verdict'), verdict(relevance, state, summary?.mode));
  // The cosine distribution is the image ranking's: a fused ranking's grid is not in its order.
  const cosines = summary?.mode === 'hybrid' ? null : relevance;
  fill(panel.querySelector('.dist'), scoreDistribution(cosines, summary?.minScore ?? null));
  const edgeButton = panel.querySelector('#cut-edge');
  const edge = relevance?.edge ?? null;
  // With nothing above the edge, a cut there would empty the grid: the notice says enough.
  edgeButton.hidden = edge === null || relevance.strong === 0;
  if (edge !== null) {
    edgeButton.textContent = `Cut at the edge (${cutText(edge)})`;
    edgeButton.disabled = summary.minScore === edge;
    edgeButton.dataset.edge = String(edge);
  }
}

/** Build the panel above the grid and keep it in step with the URL and the results. */
export function initRanking() {
  const panel = document.getElementById('ranking');
  fill(
    panel,
    h('p', { class: 'match-count', role: 'status' }),
    h('div', { class: 'verdict' }),
    h('div', { class: 'ranking-tools' }, cutForm(), sortForm(), h('div', { class: 'dist' })),
  );
  subscribe((state, previous) => {
    showCut(panel, state, previous);
    showSort(panel, state);
  });
  showCut(panel, getState());
  showSort(panel, getState());
  onResults((list) => {
    const auto = list.state.q && !list.state.like && !list.state.upload && !list.state.mode;
    if (auto && list.summary) {
      rankedBy = list.summary.mode;
      showCut(panel, getState(), getState());
    }
    showSummary(panel, list);
  });
}

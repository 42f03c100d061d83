// The result grid: tiles with their score (always shown: phones have no hover), topic on hover
// and the signed-in coder's codes, more pages as you scroll, and states that say what to do
// when there is nothing to show.

import { getCatalog, isEmptyStore, labelOf, onCatalog } from './catalog.js';
import { codeBadges } from './codebadges.js';
import { code, fill, h, notice, num, plural, scoreText } from './dom.js';
import { evidenceChip } from './evidence.js';
import { topicColour, topicName } from './palette.js';
import { onPicked } from './picked.js';
import { tileRemover } from './pickedtiles.js';
import { BROWSE_MAX, Results } from './results.js';
import {
  getState,
  hrefFor,
  resultsKey,
  searchParams,
  sortable,
  subscribe,
  update,
} from './state.js';
import { frameLabel, isFrame, timeBadge } from './video.js';

let results = null;
let key = null;
let observer = null;
let pending = null; // the page being added, shared by the scroll watcher and the detail view
const listeners = new Set();
const root = () => document.getElementById('grid');

/** The result list on screen (the detail view walks it with previous/next). */
export const currentResults = () => results;

/** Call `fn(results)` when a new list starts loading and when its first page is in. */
export const onResults = (fn) => listeners.add(fn);

function announce(list) {
  for (const fn of listeners) fn(list);
}

/** Alt text of an image: its caption, else a plain description. */
export function altText(hit) {
  if (hit.caption) return hit.caption;
  return `${isFrame(hit) ? 'Video frame' : 'Image'} ${hit.id.slice(0, 8)} (no caption yet)`;
}

/** A hit's topic name: the catalog's current label (renames), else the search's. */
const topicOf = (hit) => topicName(hit.topic, labelOf(hit.topic) || hit.topicLabel);

/** Whether the grid's list is sorted by engagement (asked for, and the list has an end). */
const sortedByEngagement = (state) => state.sort === 'engagement' && sortable(state);

/** How engaged an image's posts were, where the list is sorted by it. */
function engagedBadge(hit) {
  const counted = hit.engagement_posts ?? 0;
  const text = counted ? `${num(hit.engagement)} engaged` : 'no counts';
  const title = counted
    ? `${num(hit.engagement)} likes, comments and shares over ${plural(counted, 'post')}`
    : 'None of its posts has like, comment or share counts';
  return h('span', { class: 'engaged', title }, text);
}

function tile(hit, state) {
  const label = topicOf(hit);
  return h(
    'li',
    { class: 'tile' },
    h(
      'a',
      {
        href: hrefFor(state, { image: hit.id }),
        class: 'tile-link',
        dataset: { id: hit.id },
        'aria-label': [
          altText(hit),
          frameLabel(hit),
          label,
          hit.evidence
            ? evidenceChip(hit.evidence)
            : hit.score !== null && `score ${scoreText(hit.score)}`,
          sortedByEngagement(state) && engagedBadge(hit).title,
        ]
          .filter(Boolean)
          .join('; '),
        onClick: (e) => {
          if (e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return;
          e.preventDefault();
          update({ image: hit.id });
        },
      },
      h('img', { src: hit.thumbUrl, alt: altText(hit), loading: 'lazy', decoding: 'async' }),
      // A text or hybrid hit's score is a fused rank: the chip shows its evidence instead.
      hit.score !== null
        ? h(
            'span',
            { class: 'score', 'aria-hidden': 'true' },
            hit.evidence ? evidenceChip(hit.evidence) : scoreText(hit.score),
          )
        : null,
      timeBadge(hit),
      sortedByEngagement(state) ? engagedBadge(hit) : null,
      h(
        'span',
        { class: 'tile-info', 'aria-hidden': 'true' },
        h('span', { class: 'topic-pill', style: { '--c': topicColour(hit.topic) } }, label),
      ),
      codeBadges(hit.id),
    ),
    tileRemover(hit.id, altText(hit), state),
  );
}

function emptyState(state) {
  if (isEmptyStore(getCatalog().status)) {
    return notice(
      'empty',
      'No images yet.',
      [
        'Index a 4CAT export or a folder: run ',
        code('picsift index export.zip'),
        ' or open Jobs and index a path or an uploaded zip.',
      ],
      [h('button', { class: 'primary', onClick: () => update({ view: 'jobs' }) }, 'Open Jobs')],
    );
  }
  const params = searchParams(state);
  if (params.min_score) {
    return notice(
      'empty',
      `No image scores ≥ ${params.min_score}.`,
      ['Lower the minimum score (the distribution above shows where the scores lie).'],
      [h('button', { onClick: () => update({ min_score: '' }) }, 'Remove the cut')],
    );
  }
  const filtered = Object.keys(params).some((k) => k !== 'q');
  return notice(
    'empty',
    'Nothing matches.',
    [filtered ? 'Remove a filter (the chips above) or try other words.' : 'Try other words.'],
    filtered ? [h('button', { onClick: () => update(clearedFilters()) }, 'Clear all filters')] : [],
  );
}

/** A state patch that removes every filter but keeps the query. */
export function clearedFilters() {
  return {
    topic: [],
    exclude_topic: [],
    dataset: [],
    author: [],
    tag: [],
    not: '',
    text: '',
    date_from: '',
    date_to: '',
    has_caption: '',
    group_by: '',
    min_score: '',
    variant: '',
    selection: '',
    code: '',
    coder: '',
  };
}

/** The filter form's names for the API's parameter names in a server message. */
const FORM_NAMES = {
  date_from: 'From',
  date_to: 'To',
  has_caption: 'Captions',
  min_score: 'Min score',
};

function errorState(err) {
  // A shared link to a selection deleted since (or misspelt): say which, offer the rest.
  if (err.status === 404 && err.parameter === 'selection') {
    return notice(
      'error',
      `There is no saved selection “${getState().selection}”.`,
      [
        `${err.message.replace(/\.$/, '')}. It may have been deleted: the sidebar lists the ` +
          'saved selections.',
      ],
      [h('button', { onClick: () => update({ selection: '' }) }, 'Show every image')],
    );
  }
  // A code or coder misspelt in a link (or a code not added to this store's codebook).
  if (err.status === 404 && ['code', 'coder'].includes(err.parameter)) {
    const name = `“${getState()[err.parameter]}”`;
    return notice(
      'error',
      err.parameter === 'code'
        ? `There is no code ${name} in the codebook.`
        : `There is no coder ${name}.`,
      [`${err.message.replace(/\.$/, '')}. The Agreement view lists the codes.`],
      [h('button', { onClick: () => update({ [err.parameter]: '' }) }, 'Remove this filter')],
    );
  }
  // A request the server refused as asked (bad input) fails the same way again: no retry.
  if ([400, 404, 422].includes(err.status)) {
    const message = err.message.replace(
      /\b(date_from|date_to|has_caption|min_score)\b/g,
      (name) => `“${FORM_NAMES[name]}”`,
    );
    return notice('error', 'This search cannot run as asked.', [message]);
  }
  return notice(
    'error',
    'The search failed.',
    [err.message],
    [h('button', { onClick: () => load(getState(), true) }, 'Try again')],
  );
}

function endText(list) {
  if (!list.done) return 'Loading more…';
  if (list.viaExport && list.hits.length >= BROWSE_MAX) {
    const first = num(list.hits.length);
    return `The first ${first} images. Type what you look for, or add filters, to see others.`;
  }
  return `${plural(list.hits.length, 'image')}: that is all.`;
}

/** Add the next page to the grid (one at a time: concurrent callers share it). */
function more() {
  if (!pending) {
    const page = addPage().finally(() => {
      if (pending === page) pending = null;
    });
    pending = page;
  }
  return pending;
}

async function addPage() {
  const list = root().querySelector('.tiles');
  const state = getState();
  const mine = results;
  const first = mine.summary === undefined;
  try {
    const fresh = await mine.more();
    if (mine !== results) return; // the query changed while this page loaded
    if (first) announce(mine);
    if (!mine.hits.length) {
      fill(root(), emptyState(state));
    } else {
      list.append(...fresh.map((hit) => tile(hit, state)));
      root().querySelector('.grid-end').textContent = endText(mine);
      if (!mine.done) watchEnd();
    }
  } catch (err) {
    if (mine !== results) return;
    if (first) announce(mine);
    if (!mine.hits.length) fill(root(), errorState(err));
    else root().querySelector('.grid-end').replaceChildren(errorState(err));
  }
  root().setAttribute('aria-busy', 'false');
}

function watchEnd() {
  observer?.disconnect();
  const end = root().querySelector('.grid-end');
  if (!end) return;
  observer = new IntersectionObserver(
    (entries) => {
      if (entries.some((e) => e.isIntersecting)) {
        observer.disconnect();
        more();
      }
    },
    { rootMargin: '800px 0px' },
  );
  observer.observe(end);
}

/** Load the first page of the list for `state` (again, with `force`). */
export function load(state, force = false) {
  const next = resultsKey(state);
  if (next === key && !force) return;
  key = next;
  observer?.disconnect();
  pending = null;
  results = new Results(state);
  fill(
    root(),
    h('ol', { class: 'tiles', 'aria-label': 'Images' }),
    h('p', { class: 'grid-end', role: 'status' }, notice('loading', 'Searching…')),
  );
  root().setAttribute('aria-busy', 'true');
  more();
  announce(results); // after more(): the list says it is loading
}

/** Load more when the detail view walks past the last loaded image. */
export async function loadMore() {
  if (!results || results.done) return [];
  const before = results.hits.length;
  await more();
  return results.hits.slice(before);
}

/** Redraw the loaded tiles with the catalog's topic names (after a rename or merge). */
function relabel() {
  const list = root().querySelector('.tiles');
  if (!results || !list) return;
  const state = getState();
  const byId = new Map(results.hits.map((hit) => [hit.id, hit]));
  for (const link of list.querySelectorAll('.tile-link')) {
    const hit = byId.get(link.dataset.id);
    if (hit) link.parentElement.replaceWith(tile(hit, state));
  }
}

/**
 * Take image `id` off the grid: it left the selection shown. The focus moves to the next tile;
 * a list that is grouped or loading a page is read again instead (its pages would shift).
 */
function dropHit(id) {
  const state = getState();
  if (!results || results.key !== resultsKey(state)) return;
  if (results.loading || searchParams(state).group_by) return load(state, true);
  if (!results.drop(id)) return;
  const item = root().querySelector(`.tile-link[data-id="${CSS.escape(id)}"]`)?.parentElement;
  const next = item?.nextElementSibling ?? item?.previousElementSibling;
  const focused = item?.contains(document.activeElement);
  item?.remove();
  if (focused) (next?.querySelector('.tile-remove') ?? next?.querySelector('.tile-link'))?.focus();
  const end = root().querySelector('.grid-end');
  if (end && results.hits.length) end.textContent = endText(results);
  announce(results); // the counts above the grid follow
}

/** The list loads only when it is on screen (or the detail view walks it). */
const wanted = (state) => state.view === 'grid' || state.image;

/** Re-render when the state asks for another list. */
export function initGrid() {
  onCatalog(relabel);
  // An image taken out of the selection shown leaves the grid; one put in, the list is read
  // again (to show it in its place).
  onPicked(({ name, id, change }) => {
    if (getState().selection !== name) return;
    if (change === 'removed') dropHit(id);
    else if (wanted(getState())) load(getState(), true);
  });
  subscribe((state) => wanted(state) && load(state));
  if (wanted(getState())) load(getState());
}

// The Circulation view: the variant groups (copies of one picture, re-encoded, resized,
// cropped or with text added) by how far they spread, each with its images, posts, accounts,
// datasets, posts per week and engagement; a group opens in the grid or exports its posts.
// Its order is `circulation_sort=` in the URL.

import { api } from './api.js';
import { getCatalog, isEmptyStore, onCatalog } from './catalog.js';
import { code, fill, formatDate, h, notice, num, plural } from './dom.js';
import { download } from './exporter.js';
import { altText, clearedFilters } from './grid.js';
import { groupVariantsButton } from './jobs.js';
import { engagementText, weekBars } from './spread.js';
import { getState, hrefFor, subscribe, update } from './state.js';

/** The API's orders, as the sort menu names them (the first is the default). */
const SORTS = {
  posts: 'Posts',
  accounts: 'Accounts',
  images: 'Images',
  engagement: 'Engagement',
  first_seen: 'First seen',
};
const PAGE = 50; // groups per "Show more"
const STRIP = 6; // thumbnails of a group's images
const DATASETS_SHOWN = 3;

const view = () => document.getElementById('view-circulation');
let limit = PAGE;
let asked = 0; // the latest request: an older answer that comes later is dropped
let strips = null; // loads a card's thumbnails when it comes near the screen

const sortOf = (state) => (state.circulation_sort in SORTS ? state.circulation_sort : 'posts');

/**
 * The state that shows a variant group's images in the grid: that group alone, with no other
 * filter, query or open image (the grid then shows exactly the group).
 */
export function groupPatch(variant) {
  return {
    ...clearedFilters(),
    q: '',
    like: '',
    upload: null,
    variant,
    view: 'grid',
    image: '',
  };
}

/** A link to a variant group's images in the grid (a middle click opens a new tab). */
export function groupLink(variant, text, attrs = {}) {
  const patch = groupPatch(variant);
  return h(
    'a',
    {
      ...attrs,
      href: hrefFor(getState(), patch),
      onClick: (e) => {
        if (e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return;
        e.preventDefault();
        update(patch);
      },
    },
    text,
  );
}

/** Download a group's posts (`format` csv) or its image-account network (gexf). */
function exportGroup(variant, format) {
  return download({ variant, format }, `picsift-variant-${variant.slice(0, 8)}-`);
}

function thumb(hit) {
  const id = String(hit.id);
  return h(
    'li',
    {},
    h(
      'a',
      {
        class: 'strip-link',
        href: hrefFor(getState(), { image: id }),
        dataset: { id },
        onClick: (e) => {
          if (e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return;
          e.preventDefault();
          update({ image: id });
        },
      },
      h('img', {
        src: (hit.thumb_url ?? `api/images/${id}/thumb`).replace(/^\//, ''),
        alt: altText({ ...hit, id }),
        loading: 'lazy',
        decoding: 'async',
      }),
    ),
  );
}

/** The first thumbnails of a group's images (the newest first), and how many more it has. */
async function loadStrip(list) {
  const { variant, images } = list.dataset;
  try {
    const data = await api('search', { params: { variant, limit: STRIP } });
    const hits = data.hits ?? [];
    const rest = Number(images) - hits.length;
    fill(
      list,
      hits.map(thumb),
      rest > 0 ? h('li', { class: 'strip-more' }, `+${num(rest)}`) : null,
    );
  } catch (err) {
    fill(list, h('li', { class: 'muted' }, `Thumbnails could not be loaded: ${err.message}`));
  }
  list.setAttribute('aria-busy', 'false');
}

function watchStrips() {
  strips?.disconnect();
  strips = new IntersectionObserver(
    (entries) => {
      for (const entry of entries.filter((e) => e.isIntersecting)) {
        strips.unobserve(entry.target);
        loadStrip(entry.target);
      }
    },
    { rootMargin: '400px 0px' },
  );
  for (const list of view().querySelectorAll('.strip')) strips.observe(list);
}

function seen(group) {
  if (!group.first_seen) return 'no post has a time';
  const first = formatDate(group.first_seen, false);
  const last = formatDate(group.last_seen, false);
  return first === last ? `on ${first}` : `${first} to ${last}`;
}

function datasets(names) {
  if (!names.length) return 'none named';
  const shown = names.slice(0, DATASETS_SHOWN).join(', ');
  const rest = names.length - DATASETS_SHOWN;
  return rest > 0 ? `${shown} and ${num(rest)} more` : shown;
}

/** The group's counts, the one the list is sorted by in bold. */
function counts(group, sort) {
  return [
    ['images', plural(group.images, 'image')],
    ['posts', plural(group.posts, 'post')],
    ['accounts', plural(group.accounts, 'account')],
  ].map(([key, text], i) => [i ? ' · ' : '', key === sort ? h('strong', {}, text) : text]);
}

function fact(term, value, strong = false) {
  return [h('dt', {}, term), h('dd', {}, strong ? h('strong', {}, value) : value)];
}

function card(group, rank, sort) {
  const short = group.variant.slice(0, 8);
  return h(
    'li',
    { class: 'group-card', dataset: { variant: group.variant } },
    h(
      'ul',
      {
        class: 'strip',
        'aria-label': `Images of group ${short}`,
        'aria-busy': 'true',
        dataset: { variant: group.variant, images: group.images },
      },
    ),
    h(
      'div',
      { class: 'group-text' },
      h(
        'h3',
        { class: 'group-title' },
        h('span', { class: 'rank' }, `${num(rank)}.`),
        ' ',
        counts(group, sort),
      ),
      h(
        'dl',
        { class: 'group-facts' },
        fact('Seen', seen(group), sort === 'first_seen'),
        fact(group.datasets.length === 1 ? 'Dataset' : 'Datasets', datasets(group.datasets)),
        fact('Engagement', engagementText(group), sort === 'engagement'),
        fact('Group', code(short)),
      ),
      weekBars(group.weeks),
      h(
        'div',
        { class: 'row group-actions' },
        groupLink(group.variant, 'Show in grid', { class: 'button primary' }),
        h('button', { onClick: () => exportGroup(group.variant, 'csv') }, 'Export posts (CSV)'),
        h(
          'button',
          {
            onClick: () => exportGroup(group.variant, 'gexf'),
            title: 'Who posted the picture: the accounts and the picture as a GEXF network for Gephi',
          },
          'Network (GEXF)',
        ),
      ),
    ),
  );
}

function sortMenu(sort) {
  return h(
    'div',
    { class: 'row' },
    h('label', { for: 'circulation-sort' }, 'Sort by'),
    h(
      'select',
      {
        id: 'circulation-sort',
        title:
          'Most posts, accounts, images or engagement (likes, comments and shares) first; ' +
          'or the earliest first post first',
        onChange: (e) =>
          update({ circulation_sort: e.target.value === 'posts' ? '' : e.target.value }),
      },
      Object.entries(SORTS).map(([value, text]) =>
        h('option', { value, selected: value === sort }, text),
      ),
    ),
  );
}

function summary(data, sort) {
  const shown = data.groups.length;
  const order = sort === 'first_seen' ? 'the earliest first' : `the most ${sort} first`;
  return h(
    'p',
    { class: 'circulation-count', role: 'status' },
    `${plural(data.total, 'group')} of two or more images in the store`,
    shown < data.total ? `; the first ${num(shown)}, ${order}` : `, ${order}`,
    '.',
  );
}

function emptyState() {
  if (isEmptyStore(getCatalog().status)) {
    return notice('empty', 'No images yet.', [
      'Index a 4CAT export with ',
      code('picsift index export.zip'),
      ' or from the Jobs page; copies of one picture are grouped as they are indexed.',
    ]);
  }
  return notice(
    'empty',
    'No variant groups yet.',
    [
      'No two images are grouped as the same picture (re-encoded, resized, cropped or with ',
      'text added). Indexing groups new images; for those indexed before, run ',
      code('picsift variants'),
      ' or the Variants job (Group variants, here or on the Jobs page).',
    ],
    [groupVariantsButton()],
  );
}

function render(data, sort) {
  const head = h(
    'header',
    { class: 'circulation-head' },
    h('h2', {}, 'Circulation: the same picture, posted again'),
    sortMenu(sort),
  );
  if (!data.groups.length) return fill(view(), head, emptyState());
  fill(
    view(),
    head,
    summary(data, sort),
    h(
      'ol',
      { class: 'groups', 'aria-label': 'Variant groups' },
      data.groups.map((g, i) => card(g, i + 1, sort)),
    ),
    data.groups.length < data.total
      ? h(
          'button',
          {
            class: 'more-groups',
            onClick: () => {
              limit += PAGE;
              show();
            },
          },
          `Show ${num(Math.min(PAGE, data.total - data.groups.length))} more groups`,
        )
      : null,
  );
  watchStrips();
}

/** Load the groups in the URL's order and show them. */
async function show() {
  const sort = sortOf(getState());
  const mine = ++asked;
  if (!getCatalog().loaded) return fill(view(), notice('loading', 'Loading the groups…'));
  view().setAttribute('aria-busy', 'true');
  if (!view().querySelector('.groups')) fill(view(), notice('loading', 'Loading the groups…'));
  try {
    const data = await api('variants', { params: { sort, limit } });
    if (mine === asked) render(data, sort);
  } catch (err) {
    if (mine !== asked) return;
    fill(
      view(),
      notice(
        'error',
        'The variant groups could not be loaded.',
        [err.message],
        [h('button', { onClick: () => show() }, 'Try again')],
      ),
    );
  }
  if (mine === asked) view().setAttribute('aria-busy', 'false');
}

/** Show the groups when the view opens, in the order the URL asks; again after a job. */
export function initCirculation() {
  subscribe((state, previous) => {
    if (state.view !== 'circulation') return;
    if (previous.view !== 'circulation' || sortOf(state) !== sortOf(previous)) {
      if (previous.view !== 'circulation') limit = PAGE;
      show();
    }
  });
  onCatalog(() => getState().view === 'circulation' && show());
  if (getState().view === 'circulation') show();
}

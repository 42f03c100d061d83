// The topic map view: every image at its 2-D place, coloured by topic. Drag to pan, wheel to
// zoom, click a point to open it, box or lasso to select; ticked topics stay bright.

import { api, listOf } from './api.js';
import { getCatalog, labelOf, onCatalog } from './catalog.js';
import { code, fill, h, notice, num, plural } from './dom.js';
import { fitTopicsButton } from './jobs.js';
import { MapCanvas } from './mapcanvas.js';
import { topicColour, topicName } from './palette.js';
import { saveDialog } from './savedialog.js';
import { getState, hrefFor, subscribe, update } from './state.js';

const PAGE = 20_000; // the API's largest page of map points
const MAX_POINTS = 300_000; // more than this, and the map shows the server's grid of cells
const BINS = 256;
const MAX_VERTICES = 256; // of a lasso kept in a saved selection's view
const view = () => document.getElementById('view-map');
let map = null;
let points = null; // {xs, ys, topics, ids, summary, cells}
let loading = null;
const thumbUrl = (id) => `api/images/${encodeURIComponent(id)}/thumb`;

/** Map points of a page of points ({points: [{id, x, y, topic}]}) or of cells ({cells:
 * [{x, y, topic, sample}]}: a cell stands for its sample image). */
export function mapPoints(raw) {
  return listOf(raw, 'points', 'cells').map((p) => ({
    x: p.x,
    y: p.y,
    topic: p.topic ?? -1,
    id: p.id ?? p.sample ?? '',
  }));
}

/** Every point, page by page; past MAX_POINTS the server's cells (one sample image each). */
async function fetchAll() {
  const all = [];
  let offset = 0;
  let summary = '';
  let cells = false;
  for (;;) {
    const raw = await api('topics/map', { params: { mode: 'points', limit: PAGE, offset } });
    if (raw?.total > MAX_POINTS) {
      const binned = await api('topics/map', { params: { mode: 'bins', bins: BINS } });
      all.push(...mapPoints(binned));
      summary = `${num(raw.total)} images, shown as ${num(all.length)} cells (one image each)`;
      cells = true;
      break;
    }
    const got = mapPoints(raw);
    all.push(...got);
    const next = raw?.next_offset;
    if (next === undefined || next === null || !got.length) break;
    offset = next;
    fill(
      view().querySelector('.map-info'),
      `Loading… ${num(all.length)} of ${num(raw.total ?? 0)} points`,
    );
  }
  const ok = all.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
  return {
    xs: Float32Array.from(ok, (p) => p.x),
    ys: Float32Array.from(ok, (p) => -p.y), // y up
    topics: Int32Array.from(ok, (p) => p.topic),
    ids: ok.map((p) => String(p.id)),
    summary: summary || `${num(ok.length)} images`,
    cells,
  };
}

function toolbar() {
  const tools = [
    ['pan', 'Pan & zoom'],
    ['box', 'Box select'],
    ['lasso', 'Lasso select'],
  ];
  return h(
    'div',
    { class: 'map-toolbar row', role: 'toolbar', 'aria-label': 'Map tools' },
    h(
      'div',
      { class: 'segmented', role: 'radiogroup', 'aria-label': 'Mouse tool' },
      tools.map(([tool, label]) =>
        h(
          'button',
          {
            role: 'radio',
            'aria-checked': String(tool === 'pan'),
            dataset: { tool },
            onClick: (e) => {
              map.tool = tool;
              for (const b of e.target.parentElement.children)
                b.setAttribute('aria-checked', String(b === e.target));
            },
          },
          label,
        ),
      ),
    ),
    h('button', { onClick: () => map.fit(), title: 'Show every point (key 0)' }, 'Fit all'),
    h('p', { class: 'map-info muted', role: 'status' }),
    h(
      'p',
      { class: 'hint' },
      'Wheel or +/- zooms, drag pans (Shift+drag pans in any tool), click opens an image.',
    ),
  );
}

/** Topic colours; pressing a topic keeps it bright on the map (the same as ticking it). */
function legend() {
  const topics = getCatalog().topics;
  if (!topics.length) return null;
  const ticked = getState().topic;
  return h(
    'ul',
    { class: 'legend', 'aria-label': 'Topic colours: press one to highlight it' },
    topics.slice(0, 60).map((t) => {
      const id = String(t.topic);
      return h(
        'li',
        {},
        h(
          'button',
          {
            class: 'legend-item',
            dataset: { topic: id },
            'aria-pressed': String(ticked.includes(id)),
            onClick: () => {
              const now = getState().topic;
              update({ topic: now.includes(id) ? now.filter((x) => x !== id) : [...now, id] });
            },
          },
          h('span', {
            class: 'swatch',
            style: { '--c': topicColour(t.topic) },
            'aria-hidden': 'true',
          }),
          topicName(t.topic, t.label),
        ),
      );
    }),
  );
}

function showHover(i, x, y) {
  const tip = view().querySelector('.map-tip');
  if (i < 0) return (tip.hidden = true);
  const id = points.ids[i];
  fill(
    tip,
    id ? h('img', { src: thumbUrl(id), alt: '' }) : null,
    h('span', {}, topicName(points.topics[i], labelOf(points.topics[i]))),
  );
  Object.assign(tip.style, { left: `${x + 14}px`, top: `${y + 14}px` });
  tip.hidden = false;
}

/** At most `n` of the vertices of `path`, evenly spaced (a lasso's path has one per move). */
function thinned(path, n) {
  if (path.length <= n) return path;
  return Array.from({ length: n }, (_, k) => path[Math.floor((k * path.length) / n)]);
}

/**
 * How a box or lasso (`shape`, see mapinput.js) chose its images, for a saved selection: the
 * shape in the coordinates of /api/topics/map (the map draws y up), the topics highlighted,
 * the topic run that placed the points.
 */
function shapeView(shape) {
  const polygon = shape.polygon.map(([x, y]) => [x, -y]);
  const xs = polygon.map((p) => p[0]);
  const ys = polygon.map((p) => p[1]);
  return {
    tool: shape.tool,
    bounds: { x0: Math.min(...xs), y0: Math.min(...ys), x1: Math.max(...xs), y1: Math.max(...ys) },
    ...(shape.tool === 'lasso' ? { polygon: thinned(polygon, MAX_VERTICES) } : {}),
    topics_highlighted: getState().topic.map(Number),
    topic_run: getCatalog().status?.topic_run ?? null,
    map_images: points.ids.length,
  };
}

/** The button that saves the selected points as a selection (not a map of cells' samples). */
function saveButton(indices, shape) {
  const ids = indices.map((i) => points.ids[i]).filter(Boolean);
  const where = shape.tool === 'lasso' ? 'lasso' : 'box';
  return h(
    'button',
    {
      disabled: points.cells,
      title: points.cells
        ? 'The map shows cells, one sample image each: a box here holds samples, not every ' +
          'image in it, so it cannot be saved as a selection.'
        : 'Keep these images under a name, to reopen, search within and share',
      onClick: () =>
        saveDialog({
          images: `the ${plural(ids.length, 'image')} in the ${where} on the map`,
          request: async () => ({ source: 'map', ids, view: shapeView(shape) }),
        }),
    },
    `Save ${plural(ids.length, 'image')}…`,
  );
}

function showSelection(indices, shape) {
  const panel = view().querySelector('.map-selection');
  if (!indices.length) return fill(panel);
  const counts = new Map();
  for (const i of indices) counts.set(points.topics[i], (counts.get(points.topics[i]) ?? 0) + 1);
  const topics = [...counts.entries()].sort((a, b) => b[1] - a[1]);
  const state = getState();
  fill(
    panel,
    h('h3', {}, `${plural(indices.length, 'image')} selected`),
    h(
      'p',
      {},
      topics
        .slice(0, 8)
        .map(([t, n]) =>
          h(
            'span',
            { class: 'topic-pill', style: { '--c': topicColour(t) } },
            `${topicName(t, labelOf(t))}: ${num(n)}`,
          ),
        ),
    ),
    h(
      'div',
      { class: 'row' },
      h(
        'button',
        {
          class: 'primary',
          onClick: () =>
            update({ topic: topics.map(([t]) => String(t)), exclude_topic: [], view: 'grid' }),
        },
        'Show these topics in the grid',
      ),
      saveButton(indices, shape),
      h(
        'button',
        {
          onClick: () => {
            map.selected = new Uint8Array(map.n);
            map.redraw();
            showSelection([]);
          },
        },
        'Clear selection',
      ),
    ),
    h(
      'ol',
      { class: 'tiles small' },
      indices.slice(0, 60).map(
        (i) =>
          points.ids[i] &&
          h(
            'li',
            { class: 'tile' },
            h(
              'a',
              {
                class: 'tile-link',
                href: hrefFor(state, { image: points.ids[i] }),
                onClick: (e) => {
                  e.preventDefault();
                  update({ image: points.ids[i] });
                },
              },
              h('img', {
                src: thumbUrl(points.ids[i]),
                alt: `Image in ${topicName(points.topics[i], labelOf(points.topics[i]))}`,
                loading: 'lazy',
              }),
            ),
          ),
      ),
    ),
  );
}

function applyTopics(state) {
  for (const item of view().querySelectorAll('.legend-item')) {
    item.setAttribute('aria-pressed', String(state.topic.includes(item.dataset.topic)));
  }
  map?.highlight(state.topic.length ? new Set(state.topic.map(Number)) : null);
}

function emptyMap() {
  return notice(
    'empty',
    'No topic map yet.',
    [
      'The map places images once topics are fitted: run ',
      code('picsift topics fit'),
      ' or press Fit topics.',
    ],
    [fitTopicsButton()],
  );
}

async function show(force = false) {
  if (loading || (points && !force)) return applyTopics(getState());
  const root = view();
  fill(
    root,
    toolbar(),
    h(
      'div',
      { class: 'map-wrap' },
      h('canvas', {
        class: 'map-canvas',
        tabindex: 0,
        'aria-label': 'Topic map. Arrow keys pan, plus and minus zoom, 0 fits all.',
      }),
      h('div', { class: 'map-tip', hidden: true, 'aria-hidden': 'true' }),
    ),
    legend(),
    h('section', { class: 'map-selection', 'aria-live': 'polite' }),
  );
  fill(root.querySelector('.map-info'), notice('loading', 'Loading the map…'));
  map = new MapCanvas(root.querySelector('canvas'), {
    thumbUrl,
    onHover: showHover,
    onOpen: (i) => points.ids[i] && update({ image: points.ids[i] }),
    onSelect: showSelection,
  });
  try {
    loading = fetchAll();
    points = await loading;
    if (!points.xs.length) return fill(root, emptyMap());
    map.setData(points);
    applyTopics(getState());
    fill(root.querySelector('.map-info'), points.summary);
  } catch (err) {
    points = null;
    fill(
      root,
      err.status === 404
        ? emptyMap()
        : notice(
            'error',
            'The map could not be loaded.',
            [err.message],
            [h('button', { onClick: () => show(true) }, 'Try again')],
          ),
    );
  } finally {
    loading = null;
  }
}

/** Show the map when its view is chosen; reload it after a new topic fit. */
export function initMap() {
  subscribe((state, previous) => {
    if (state.view !== 'map') return;
    if (previous.view !== 'map') show();
    else applyTopics(state);
  });
  onCatalog(() => {
    if (getState().view === 'map') show(true);
    else points = null;
  });
  if (getState().view === 'map') show();
}

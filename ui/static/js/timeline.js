// Topics over time: posts per topic per week (or day) as stacked bars. Clicking a bar segment
// shows that topic in that period in the grid; Enter on a focused bar, the whole period.

import { api, listOf } from './api.js';
import { labelOf, onCatalog } from './catalog.js';
import { code, fill, h, notice, num, s } from './dom.js';
import { topicColour, topicName } from './palette.js';
import { getState, searchParams, subscribe, update } from './state.js';

const HEIGHT = 120;
const DAY = 86_400_000;
let data = null;
let lastKey = null;

/** Rows of {period, topic, count} from the API's {interval, rows: [{period, topic, posts}]}. */
export function timelineRows(raw) {
  return listOf(raw, 'rows')
    .map((r) => ({
      period: String(r.period).slice(0, 10),
      topic: Number(r.topic),
      count: r.posts ?? 0,
    }))
    .filter((r) => r.period && r.count > 0);
}

const addDays = (iso, n) => new Date(Date.parse(iso) + n * DAY).toISOString().slice(0, 10);

function nextPeriod(iso, interval) {
  if (interval === 'day') return addDays(iso, 1);
  if (interval === 'month') {
    const d = new Date(Date.parse(iso));
    const next = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1));
    return next.toISOString().slice(0, 10);
  }
  return addDays(iso, 7);
}

/** One column per period from the first to the last, the empty ones too (a linear axis). */
function columns(rows, interval) {
  const byPeriod = new Map();
  for (const r of rows) {
    if (!byPeriod.has(r.period)) byPeriod.set(r.period, []);
    byPeriod.get(r.period).push(r);
  }
  const periods = new Set(byPeriod.keys());
  const last = [...periods].sort().at(-1);
  for (let p = [...periods].sort()[0]; p && p < last; p = nextPeriod(p, interval)) {
    periods.add(p);
  }
  return [...periods].sort().map((period) => {
    const parts = byPeriod.get(period) ?? [];
    return {
      period,
      total: parts.reduce((n, part) => n + part.count, 0),
      parts: parts.sort((a, b) => (a.topic === -1) - (b.topic === -1) || a.topic - b.topic),
    };
  });
}

function chart(cols, interval, width) {
  const state = getState();
  const days = interval === 'day' ? 1 : interval === 'month' ? 30 : 7;
  const max = Math.max(...cols.map((c) => c.total));
  const slot = width / cols.length;
  const barW = Math.min(48, Math.max(2, slot * 0.8));
  const svg = s('svg', {
    width,
    height: HEIGHT + 20,
    role: 'group',
    'aria-label': `Posts per ${interval} and topic`,
  });
  cols.forEach((col, i) => {
    const end = addDays(col.period, days - 1);
    const active = state.date_from === col.period && state.date_to === end;
    const label = `${interval} of ${col.period}: ${num(col.total)} posts`;
    const g = s('g', {
      class: `bar${active ? ' active' : ''}`,
      tabindex: 0,
      role: 'button',
      'aria-label': `${label}. Enter shows this ${interval}.`,
    });
    const pick = (topic) =>
      update({
        date_from: col.period,
        date_to: end,
        view: 'grid',
        ...(topic === undefined ? {} : { topic: [String(topic)], exclude_topic: [] }),
      });
    g.append(
      s('rect', {
        x: i * slot,
        y: 0,
        width: slot,
        height: HEIGHT,
        class: 'bar-bg',
        onClick: () => pick(),
      }),
    );
    let y = HEIGHT;
    for (const part of col.parts) {
      const hgt = (part.count / max) * (HEIGHT - 4);
      y -= hgt;
      g.append(
        s(
          'rect',
          {
            x: i * slot + (slot - barW) / 2,
            y,
            width: barW,
            height: Math.max(hgt, 0.5),
            fill: topicColour(part.topic),
            class: 'seg',
            onClick: () => pick(part.topic),
          },
          s(
            'title',
            {},
            `${col.period} · ${topicName(part.topic, labelOf(part.topic))}: ` +
              `${num(part.count)} posts`,
          ),
        ),
      );
    }
    g.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' || e.key === ' ') {
        e.preventDefault();
        pick();
      }
    });
    svg.append(g);
  });
  const tick = (i, anchor) =>
    s(
      'text',
      {
        x: Math.min(width - 2, Math.max(2, i * slot + slot / 2)),
        y: HEIGHT + 15,
        'text-anchor': anchor,
        class: 'tick',
      },
      cols[i].period,
    );
  svg.append(tick(0, 'start'));
  if (cols.length > 2) svg.append(tick(cols.length - 1, 'end'));
  svg.append(s('text', { x: 2, y: 12, class: 'tick' }, `${num(max)} posts`));
  return svg;
}

function render() {
  const body = document.querySelector('#timeline .timeline-body');
  if (!data) return;
  if (data.error)
    return fill(body, notice('error', 'Topics over time could not be loaded.', [data.error]));
  const cols = columns(data.rows, data.interval);
  if (!cols.length) {
    return fill(
      body,
      notice('empty', 'No dated posts to chart.', [
        'The chart counts posts per topic; it fills in once topics are fitted (',
        code('picsift topics fit'),
        ') and the posts have timestamps.',
      ]),
    );
  }
  const width = Math.max(240, body.clientWidth || 600);
  fill(
    body,
    chart(cols, data.interval, width),
    h(
      'p',
      { class: 'hint' },
      'Click a bar segment to see that topic in that period; ' +
        'Enter on a focused bar shows the whole period.',
    ),
  );
}

async function load(force = false) {
  const state = getState();
  const { q, not, date_from, date_to, group_by, min_score, ...filters } = searchParams(state);
  const key = JSON.stringify(filters);
  if (key === lastKey && !force) return render();
  lastKey = key;
  const interval = 'week';
  try {
    const raw = await api('topics/timeline', { params: { ...filters, interval } });
    if (lastKey !== key) return;
    data = { rows: timelineRows(raw), interval: raw?.interval ?? interval };
  } catch (err) {
    data = { rows: [], interval, error: err.message };
  }
  render();
}

/** Load the chart when it is open, again when the filters change. */
export function initTimeline() {
  const details = document.getElementById('timeline');
  const saved = localStorage.getItem('picsift.timeline');
  if (saved) details.open = saved === 'open';
  details.addEventListener('toggle', () => {
    localStorage.setItem('picsift.timeline', details.open ? 'open' : 'closed');
    if (details.open) load();
  });
  const refresh = (force) => details.open && getState().view === 'grid' && load(force);
  subscribe(() => refresh(false));
  onCatalog(() => refresh(true));
  new ResizeObserver(() => details.open && render()).observe(details);
}

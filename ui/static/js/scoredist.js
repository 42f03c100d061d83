// The score distribution of a query: its scores over a sample of the store as a small
// histogram, with the edge (where images stand out) and the grid's cut marked.

import { cutText, h, num, s } from './dom.js';

const W = 300; // viewBox units; the SVG stretches to its box, lines keep their width
const H = 60;

/**
 * The x range of the chart: the sample's scores, widened to show the edge (a query with no
 * strong match has its edge beyond every score, and that gap is the point).
 */
function range(histogram, edge) {
  const lo = Math.min(histogram.lo, edge ?? histogram.lo);
  const hi = Math.max(histogram.hi, edge ?? histogram.hi);
  const pad = Math.max((hi - lo) * 0.04, 1e-3);
  return [lo - pad, hi + pad];
}

function marker(x, kind) {
  return s('line', {
    class: `mark mark-${kind}`,
    x1: x,
    x2: x,
    y1: 0,
    y2: H,
    'vector-effect': 'non-scaling-stroke',
  });
}

/** Where `score` falls on the chart, from 0 to W (outside the range: at its end). */
function scale(histogram, edge) {
  const [lo, hi] = range(histogram, edge);
  return (score) => ((Math.min(Math.max(score, lo), hi) - lo) / (hi - lo)) * W;
}

function chart(relevance, cut) {
  const { histogram, edge } = relevance;
  const x = scale(histogram, edge);
  const bin = (histogram.hi - histogram.lo) / histogram.counts.length;
  const top = Math.max(...histogram.counts, 1);
  const bars = histogram.counts.map((count, i) => {
    const start = histogram.lo + i * bin;
    // A bin of a few images must still show: at least a sliver.
    const height = count ? Math.max((count / top) * (H - 2), 1.5) : 0;
    return s('rect', {
      class: edge !== null && start + bin > edge ? 'bar bar-strong' : 'bar',
      x: x(start),
      width: Math.max(x(start + bin) - x(start) - 0.6, 0.6),
      y: H - height,
      height,
    });
  });
  const parts = [`Scores of ${num(relevance.sample)} sampled images`];
  if (edge !== null) parts.push(`edge at ${cutText(edge)}`);
  if (cut !== null) parts.push(`cut at ${cutText(cut)}`);
  return s(
    'svg',
    {
      viewBox: `0 0 ${W} ${H}`,
      preserveAspectRatio: 'none',
      role: 'img',
      'aria-label': `${parts.join(', ')}.`,
    },
    bars,
    // What the cut leaves out, dimmed: the grid shows the bars right of the cut.
    cut !== null ? s('rect', { class: 'cut-away', x: 0, y: 0, width: x(cut), height: H }) : null,
    edge !== null ? marker(x(edge), 'edge') : null,
    cut !== null ? marker(x(cut), 'cut') : null,
  );
}

function key(kind, text) {
  return h('span', { class: `key key-${kind}` }, text);
}

/**
 * The distribution figure for a text query's `relevance` (the API's) and the grid's `cut`
 * (null for none), or null when the server sent no histogram.
 */
export function scoreDistribution(relevance, cut) {
  if (!relevance?.histogram?.counts?.length) return null;
  const { histogram, edge, median, method } = relevance;
  const x = scale(histogram, edge);
  return h(
    'figure',
    { class: 'score-dist', id: 'score-dist', title: method || null },
    chart(relevance, cut),
    h(
      'div',
      { class: 'axis', 'aria-hidden': 'true' },
      // Under the first and the last bar (the chart may run on to show the edge).
      [histogram.lo, histogram.hi].map((score) =>
        h('span', { style: { left: `${(x(score) / W) * 100}%` } }, score.toFixed(2)),
      ),
    ),
    h(
      'p',
      { class: 'keys' },
      edge !== null ? key('edge', `edge ${cutText(edge)}`) : key('none', 'no edge'),
      cut !== null ? key('cut', `cut ${cutText(cut)}`) : null,
      median !== null ? h('span', { class: 'muted' }, `median ${cutText(median)}`) : null,
    ),
    h(
      'figcaption',
      { class: 'method' },
      `Scores of this query over ${num(relevance.sample)} sampled images. `,
      method || '',
    ),
  );
}

// How one variant group spread, in words and small bars: its posts per week and its engagement,
// each sum said over how many of its posts it is (a sum over 3 of 40 posts is not the whole).

import { formatDate, h, num, plural } from './dom.js';

const WEEK = 7 * 86_400_000;
/** Bars at most: a longer span shows several weeks a bar (a stray 1970 post time spans 2,800). */
const MAX_BARS = 120;
/** The metrics of the API's `engagement`, in the order they are told. */
const METRICS = ['likes', 'comments', 'shares', 'plays'];
const WORDS = { likes: 'like', comments: 'comment', shares: 'share', plays: 'play' };

/** Every Monday from the first week's to the last's, the empty weeks too (a linear axis). */
export function weekColumns(weeks) {
  const mondays = Object.keys(weeks ?? {}).sort();
  if (!mondays.length) return [];
  const out = [];
  const last = Date.parse(mondays.at(-1));
  for (let t = Date.parse(mondays[0]); t <= last; t += WEEK) {
    const monday = new Date(t).toISOString().slice(0, 10);
    out.push({ monday, weeks: 1, posts: weeks[monday] ?? 0 });
  }
  return out;
}

/** Columns of several weeks each, where there are more than MAX_BARS weeks. */
function bucketed(columns) {
  const size = Math.ceil(columns.length / MAX_BARS);
  if (size <= 1) return columns;
  const out = [];
  for (let i = 0; i < columns.length; i += size) {
    const part = columns.slice(i, i + size);
    out.push({
      monday: part[0].monday,
      weeks: part.length,
      posts: part.reduce((n, c) => n + c.posts, 0),
    });
  }
  return out;
}

const weekOf = (col) =>
  col.weeks > 1
    ? `${col.weeks} weeks from ${formatDate(col.monday, false)}`
    : `week of ${formatDate(col.monday, false)}`;

/** One week's slot (its share of the width) holding its bar, or a base line when empty. */
function bar(col, max) {
  return h(
    'span',
    {
      class: 'week-slot',
      title: `${weekOf(col)}: ${plural(col.posts, 'post')}`,
      dataset: { week: col.monday, posts: col.posts },
    },
    h('span', {
      class: col.posts ? 'week' : 'week empty',
      style: { height: col.posts ? `${Math.max(8, (100 * col.posts) / max)}%` : null },
    }),
  );
}

/**
 * Posts per week (`weeks`: the API's Monday -> posts) as bars from the first week to the
 * last, with the first and last week written under them.
 */
export function weekBars(weeks) {
  const every = weekColumns(weeks);
  const columns = bucketed(every);
  if (!columns.length) return h('p', { class: 'muted' }, 'No post has a time.');
  const max = Math.max(...columns.map((c) => c.posts));
  const peak = columns.find((c) => c.posts === max);
  const first = columns[0];
  const last = columns.at(-1);
  const span = plural(every.length, 'week');
  const each = first.weeks > 1 ? `, ${first.weeks} weeks a bar` : '';
  return h(
    'figure',
    { class: 'weeks' },
    h('figcaption', { class: 'muted' }, `Posts per week: ${span}${each}, most ${num(max)}`),
    h(
      'div',
      {
        class: 'week-bars',
        role: 'img',
        'aria-label':
          `Posts per week over ${span}${each}, ${weekOf(first)} to ${weekOf(last)}; ` +
          `most: ${plural(max, 'post')} (${weekOf(peak)})`,
      },
      columns.map((col) => bar(col, max)),
    ),
    h(
      'div',
      { class: 'week-axis', 'aria-hidden': 'true' },
      h('span', {}, weekOf(first)),
      columns.length > 1 ? h('span', {}, weekOf(last)) : null,
    ),
  );
}

/** "a, b and c" */
function joined(items) {
  return items.length > 1 ? `${items.slice(0, -1).join(', ')} and ${items.at(-1)}` : items[0];
}

function over(counted, posts) {
  if (counted >= posts) return posts === 1 ? 'over its one post' : `over all ${num(posts)} posts`;
  return `over ${num(counted)} of ${plural(posts, 'post')}`;
}

/**
 * A group's engagement in words: each sum with the number of posts it is over ("155 likes
 * and 9 comments over 3 of 8 posts; 5,200 plays over 1 of 8 posts"), metrics over the same
 * posts together; "no engagement counts" where no post had any.
 */
export function engagementText(group) {
  const sums = group.engagement ?? {};
  const counted = METRICS.filter((m) => typeof sums[m] === 'number');
  if (!counted.length) return `no engagement counts in its ${plural(group.posts, 'post')}`;
  const byPosts = new Map(); // posts a sum is over -> the metrics summed over that many
  for (const m of counted) {
    const n = group.engagement_posts?.[m] ?? 0;
    byPosts.set(n, [...(byPosts.get(n) ?? []), m]);
  }
  return [...byPosts]
    .map(([n, metrics]) => {
      const parts = metrics.map((m) => plural(sums[m], WORDS[m]));
      return `${joined(parts)} ${over(n, group.posts)}`;
    })
    .join('; ');
}

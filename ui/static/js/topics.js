// The topic sidebar: one card per topic (collage, label, keywords, count), tick to show only
// those topics, exclude to hide one, outliers (-1) marked as such; rename and merge for users
// with the API key.

import { api } from './api.js';
import { getCatalog, isEmptyStore, onCatalog, reload } from './catalog.js';
import { code, fill, h, notice, num, plural, toast } from './dom.js';
import { fitTopicsButton } from './jobs.js';
import { topicColour, topicName } from './palette.js';
import { getState, subscribe, update } from './state.js';

const section = () => document.getElementById('topics');
let filterText = '';

function toggle(list, value, on) {
  const rest = list.filter((x) => x !== value);
  return on ? [...rest, value] : rest;
}

async function saveLabel(t, label) {
  try {
    await api(`topics/${t.topic}`, { method: 'PATCH', json: { label } });
    toast(`Topic ${t.topic} is now “${label}”.`);
    await reload();
    // The card was rebuilt under the focus: give it back to the card's Rename button.
    section()
      .querySelector(`.topic-card[data-topic="${t.topic}"] .topic-actions button:last-child`)
      ?.focus();
  } catch (err) {
    toast(`Rename failed: ${err.message}`);
    renderList();
  }
}

/** Swap a card's title for a small rename form. */
function rename(t, cardEl) {
  const input = h('input', {
    type: 'text',
    value: t.label,
    'aria-label': `New name for topic ${t.topic}`,
    required: true,
  });
  const form = h(
    'form',
    { class: 'rename row' },
    input,
    h('button', { type: 'submit', class: 'small primary' }, 'Save'),
    h('button', { type: 'button', class: 'small', onClick: renderList }, 'Cancel'),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const label = input.value.trim();
    if (label && label !== t.label) saveLabel(t, label);
    else renderList();
  });
  form.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') {
      e.preventDefault();
      renderList();
    }
  });
  cardEl.querySelector('.topic-title').replaceWith(form);
  input.focus();
  input.select();
}

async function merge(ids) {
  const names = ids.map((id) =>
    topicName(id, getCatalog().topics.find((t) => t.topic === Number(id))?.label),
  );
  if (!confirm(`Merge ${names.join(', ')} into topic ${ids[0]}?`)) return;
  try {
    await api('topics/merge', { method: 'POST', json: { topics: ids.map(Number) } });
    toast(`Merged ${ids.length} topics into topic ${ids[0]}.`);
    update({ topic: [ids[0]] });
    await reload();
  } catch (err) {
    toast(`Merge failed: ${err.message}`);
  }
}

/** The topic's collage; a plain box when it has none (e.g. a topic made by a merge). */
function collage(t) {
  const img = h('img', {
    class: 'collage',
    src: t.collageUrl,
    alt: '',
    loading: 'lazy',
    width: 64,
    height: 64,
  });
  img.addEventListener(
    'error',
    () =>
      img.replaceWith(h('span', { class: 'collage missing', 'aria-hidden': 'true' }, 'no collage')),
    { once: true },
  );
  return img;
}

function card(t, state) {
  const id = String(t.topic);
  const included = state.topic.includes(id);
  const excluded = state.exclude_topic.includes(id);
  const name = topicName(t.topic, t.label);
  const box = `topic-${id.replace('-', 'm')}`;
  return h(
    'li',
    {
      class: ['topic-card', t.outlier && 'outlier', included && 'included', excluded && 'excluded']
        .filter(Boolean)
        .join(' '),
      style: { '--c': topicColour(t.topic) },
      dataset: { topic: id },
    },
    collage(t),
    h(
      'div',
      { class: 'topic-text' },
      h(
        'div',
        { class: 'topic-title' },
        h('input', {
          type: 'checkbox',
          id: box,
          checked: included,
          onChange: (e) => {
            const now = getState();
            update({
              topic: toggle(now.topic, id, e.target.checked),
              exclude_topic: now.exclude_topic.filter((x) => x !== id),
              view: now.view === 'jobs' ? 'grid' : now.view,
            });
          },
        }),
        h('label', { for: box }, h('span', { class: 'swatch', 'aria-hidden': 'true' }), name),
      ),
      h(
        'p',
        { class: 'topic-count' },
        plural(t.count, 'image'),
        t.outlier ? h('span', { class: 'badge' }, 'not in any topic') : null,
      ),
      t.keywords.length ? h('p', { class: 'keywords' }, t.keywords.slice(0, 6).join(', ')) : null,
      h(
        'div',
        { class: 'topic-actions' },
        h(
          'button',
          {
            class: 'small',
            'aria-pressed': String(excluded),
            title: 'Hide the images of this topic',
            'aria-label': `Exclude ${name}`,
            onClick: () => {
              const now = getState();
              update({
                exclude_topic: toggle(now.exclude_topic, id, !now.exclude_topic.includes(id)),
                topic: now.topic.filter((x) => x !== id),
              });
            },
          },
          excluded ? 'Excluded' : 'Exclude',
        ),
        // Outliers are not a topic: they can be hidden, not renamed or merged.
        t.outlier
          ? null
          : h(
              'button',
              {
                class: 'small',
                'aria-label': `Rename ${name}`,
                onClick: (e) => rename(t, e.target.closest('.topic-card')),
              },
              'Rename',
            ),
      ),
    ),
  );
}

function header(topics, state) {
  const ticked = state.topic.filter((id) => id !== '-1');
  return h(
    'div',
    { class: 'topics-head' },
    h(
      'p',
      { class: 'muted' },
      `${plural(topics.filter((t) => !t.outlier).length, 'topic')}; ` +
        'tick to show only those, or exclude.',
    ),
    topics.length > 12
      ? h('input', {
          type: 'search',
          class: 'topic-filter',
          placeholder: 'Find a topic…',
          value: filterText,
          'aria-label': 'Find a topic by label or keyword',
          onInput: (e) => {
            filterText = e.target.value;
            renderList();
          },
        })
      : null,
    ticked.length >= 2
      ? h(
          'button',
          { class: 'small', onClick: () => merge(ticked) },
          `Merge ${ticked.length} ticked topics`,
        )
      : null,
  );
}

function matches(t) {
  const needle = filterText.trim().toLowerCase();
  return !needle || `${t.topic} ${t.label} ${t.keywords.join(' ')}`.toLowerCase().includes(needle);
}

function renderList() {
  const list = section().querySelector('.topic-list');
  if (!list) return;
  const state = getState();
  fill(
    list,
    getCatalog()
      .topics.filter(matches)
      .map((t) => card(t, state)),
  );
}

function render() {
  const { topics, loaded, status } = getCatalog();
  const body =
    section().querySelector('.topics-body') ||
    section().appendChild(h('div', { class: 'topics-body' }));
  if (!loaded) return fill(body, notice('loading', 'Loading topics…'));
  if (getCatalog().topicsError) {
    return fill(
      body,
      notice(
        'error',
        'The topics could not be loaded.',
        [getCatalog().topicsError.message],
        [h('button', { onClick: () => reload() }, 'Try again')],
      ),
    );
  }
  if (!topics.length) {
    const noImages = isEmptyStore(status);
    return fill(
      body,
      notice(
        'empty',
        'No topics yet.',
        noImages
          ? ['Index images first (Jobs, or ', code('picsift index'), '), then fit topics.']
          : ['Run ', code('picsift topics fit'), ' or press Fit topics.'],
        noImages ? [] : [fitTopicsButton()],
      ),
    );
  }
  const state = getState();
  fill(body, header(topics, state), h('ul', { class: 'topic-list', 'aria-label': 'Topics' }));
  renderList();
  const total = topics.reduce((sum, t) => sum + (t.outlier ? 0 : t.count || 0), 0);
  body.append(
    h(
      'p',
      { class: 'muted' },
      `${num(total)} images in topics of run ${status?.topic_run ?? '?'}.`,
    ),
  );
}

/** Build the sidebar's topic list and keep it in step with the URL and the catalog. */
export function initTopics() {
  onCatalog(render);
  subscribe((state, previous) => {
    if (
      String(state.topic) !== String(previous.topic) ||
      String(state.exclude_topic) !== String(previous.exclude_topic)
    )
      render();
  });
  render();
}

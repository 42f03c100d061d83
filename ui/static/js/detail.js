// The detail view of one image: large image, caption, topic, the text read in it (OCR), the posts
// that used it (the first ones, the rest a page at a time: one image can carry 50,000 posts),
// "more like this", and previous/next with the arrow keys; while a coder is signed in, the coding
// panel (see codingpanel.js); "Add to a selection…" (see pickpanel.js). Its state is `image=` in
// the URL.

import { api } from './api.js';
import { labelOf } from './catalog.js';
import { groupLink } from './circulation.js';
import { coderName, leave } from './coder.js';
import { codingPanel } from './codingpanel.js';
import { fill, formatDate, h, notice, num, plural, safeUrl } from './dom.js';
import { evidenceBlock, highlighted, matchedWords } from './evidence.js';
import { altText, currentResults, loadMore } from './grid.js';
import { ocrBlock } from './ocrtext.js';
import { topicColour, topicName } from './palette.js';
import { pickPanel } from './pickpanel.js';
import { fromImage, getState, subscribe, update } from './state.js';
import { timeText, videoParts } from './video.js';

const dialog = () => document.getElementById('detail');
let shown = '';
let shownAt = null; // where the shown image was in the list ({list, i}): it may leave the list
let marked = []; // the words a text or hybrid search matched in the shown image's text

function neighbours(id) {
  const list = currentResults();
  const hits = list?.hits ?? [];
  const i = hits.findIndex((hit) => hit.id === id);
  if (i >= 0 && id === shown) shownAt = { list, i };
  // The shown image was taken out of the list (out of the selection the grid shows): its
  // neighbours are those around the place it left.
  const left = i < 0 && id === shown && shownAt?.list === list ? shownAt.i : -1;
  if (left >= 0) return { i: left, hits, prev: hits[left - 1] ?? null, next: hits[left] ?? null };
  return { i, hits, prev: i > 0 ? hits[i - 1] : null, next: i >= 0 ? hits[i + 1] : null };
}

/** Pages the detail view loads to find an image that is further down the list. */
const FIND_PAGES = 20;
/** Posts read per "Show more posts" (the server gives 1,000 at most). */
const POSTS_PAGE = 100;

/**
 * `neighbours(id)`, paging on while the image is not among the loaded hits (a shared link or
 * the map can open one further down the list).
 */
async function find(id) {
  let found = neighbours(id);
  for (let pages = 0; found.i < 0 && pages < FIND_PAGES; pages++) {
    if (!(await loadMore()).length) break;
    found = neighbours(id);
  }
  return found;
}

async function step(delta) {
  const say = (text) => {
    const el = dialog().querySelector('.detail-nav-msg');
    if (el) el.textContent = text;
  };
  const { i, prev } = await find(shown);
  let { next } = neighbours(shown);
  if (i < 0) {
    const list = currentResults();
    return say(
      list?.done
        ? 'This image is not in the current result list.'
        : `This image is not among the first ${plural(list?.hits.length ?? 0, 'result')}.`,
    );
  }
  if (delta > 0 && !next) {
    await loadMore();
    ({ next } = neighbours(shown));
  }
  const target = delta > 0 ? next : prev;
  // A coder walking on from an image they left uncoded has seen it (see coder.js `leave`).
  if (target) leave(shown);
  // Walking does not fill the back button's list: back leaves the detail view.
  if (target) update({ image: target.id }, { replace: true });
  else say(delta > 0 ? 'This is the last image.' : 'This is the first image.');
}

function post(p) {
  const when = formatDate(p.timestamp);
  const tags = Array.isArray(p.hashtags) ? p.hashtags : [];
  return h(
    'li',
    { class: 'post' },
    h(
      'p',
      { class: 'post-head' },
      // <bdi> and dir=auto: a right-to-left override (U+202E) in a scraped name or text
      // turns only its own field around, never the words next to it.
      h('strong', {}, h('bdi', {}, p.author || 'unknown author')),
      when ? h('time', { datetime: p.timestamp }, when) : null,
      h('span', { class: 'muted' }, p.dataset ? ['dataset ', h('bdi', {}, p.dataset)] : ''),
    ),
    p.body ? h('p', { class: 'post-body', dir: 'auto' }, highlighted(p.body, marked)) : null,
    tags.length
      ? h(
          'p',
          { class: 'muted', dir: 'auto' },
          highlighted(tags.map((t) => `#${t}`).join(' '), marked),
        )
      : null,
    h(
      'p',
      { class: 'post-foot' },
      h('span', { class: 'muted' }, 'post ', h('bdi', {}, p.post_id || '?')),
      safeUrl(p.url)
        ? h(
            'a',
            { href: safeUrl(p.url), target: '_blank', rel: 'noopener noreferrer' },
            'Open the original post ↗',
          )
        : null,
    ),
  );
}

/**
 * The image's posts: those that came with it, then a button that reads the next page from
 * `images/{id}/posts` until all `total` are shown.
 */
function postList(id, first, total) {
  const list = h('ol', { class: 'posts' }, first.map(post));
  const status = h('span', { class: 'muted', role: 'status' });
  let shown = first.length;
  const more = h('button', {
    class: 'more-posts',
    onClick: async () => {
      more.disabled = true;
      try {
        const page = await api(`images/${encodeURIComponent(id)}/posts`, {
          params: { offset: shown, limit: POSTS_PAGE },
        });
        list.append(...page.posts.map(post));
        // An image re-indexed meanwhile may have fewer posts: stop at its end.
        shown = page.next_offset === null ? total : shown + page.posts.length;
        status.textContent = '';
      } catch (err) {
        status.textContent = `More posts could not be loaded: ${err.message}`;
      }
      more.disabled = false;
      label();
    },
  });
  const label = () => {
    const left = total - shown;
    more.hidden = left <= 0;
    more.textContent = `Show ${num(Math.min(POSTS_PAGE, left))} more (${num(left)} not shown)`;
  };
  label();
  return [list, h('p', { class: 'row' }, more, status)];
}

/** "Same picture as 3 other images", linking to the group in the grid (2 images or more). */
function samePicture(image) {
  if (!image.variant || !(image.variant_size >= 2)) return null;
  return h(
    'p',
    { class: 'same-picture' },
    `Same picture as ${plural(image.variant_size - 1, 'other image')}: `,
    groupLink(image.variant, `show all ${num(image.variant_size)} in the grid`),
  );
}

function render(image, hit) {
  const id = String(image.id ?? shown);
  const topic = image.topic ?? hit?.topic ?? null;
  const label = image.topic_label ?? hit?.topicLabel ?? labelOf(topic);
  const caption = image.caption ?? hit?.caption ?? null;
  const posts = image.posts ?? hit?.posts ?? [];
  const total = image.n_posts ?? hit?.n_posts ?? posts.length;
  const file = (image.file_url ?? `api/images/${id}/file`).replace(/^\//, '');
  const thumb = (image.thumb_url ?? `api/images/${id}/thumb`).replace(/^\//, '');
  const video = image.video ?? null;
  marked = matchedWords(hit?.evidence);
  // A frame is no file of its own: its image is its thumbnail (the file is the video).
  const img = h('img', {
    src: video ? thumb : file,
    alt: altText({ id, caption, video }),
    class: 'detail-img',
  });
  img.addEventListener(
    'error',
    () => {
      if (!img.src.endsWith(thumb)) img.src = thumb;
    },
    { once: true },
  );
  const frames = video
    ? videoParts(video, id, img, (frame) => update({ image: frame }, { replace: true }))
    : null;
  return h(
    'div',
    { class: 'detail-inner' },
    h(
      'header',
      { class: 'detail-head' },
      h(
        'h2',
        { id: 'detail-title' },
        highlighted(caption, marked) ||
          (video ? 'Video frame without a caption' : 'Image without a caption'),
      ),
      h(
        'div',
        { class: 'row' },
        h(
          'button',
          {
            onClick: () => step(-1),
            'aria-keyshortcuts': 'ArrowLeft',
            title: 'Previous image (←)',
            dataset: { nav: 'prev' },
          },
          '← Previous',
        ),
        h(
          'button',
          {
            onClick: () => step(1),
            'aria-keyshortcuts': 'ArrowRight',
            title: 'Next image (→)',
            dataset: { nav: 'next' },
          },
          'Next →',
        ),
        h(
          'button',
          {
            class: 'close',
            onClick: close,
            'aria-label': 'Close (Escape)',
            dataset: { nav: 'close' },
          },
          '✕',
        ),
      ),
    ),
    h('p', { class: 'detail-nav-msg muted', role: 'status' }),
    h(
      'div',
      { class: 'detail-body' },
      h('div', { class: 'detail-media' }, h('figure', {}, img, frames?.caption), frames?.strip),
      h(
        'div',
        { class: 'detail-meta' },
        h(
          'p',
          {},
          h(
            'button',
            {
              class: 'topic-pill',
              style: { '--c': topicColour(topic) },
              disabled: topic === null,
              title: 'Show only this topic',
              onClick: () =>
                update({ topic: [String(topic)], exclude_topic: [], image: '', view: 'grid' }),
            },
            topicName(topic, label),
          ),
        ),
        codingPanel(id),
        // A text or hybrid hit's score is a fused rank: its evidence says what it rests on.
        hit?.evidence
          ? evidenceBlock(hit.evidence, currentResults()?.summary?.mode)
          : hit?.score != null
            ? h('p', { class: 'muted' }, `score ${hit.score.toFixed(3)}`)
            : null,
        image.width
          ? h(
              'p',
              { class: 'muted' },
              `${image.width} × ${image.height}${image.format ? ` ${image.format}` : ''}`,
            )
          : null,
        (image.tags ?? []).length
          ? h('p', { class: 'muted' }, `tags: ${image.tags.join(', ')}`)
          : null,
        ocrBlock(image.ocr, marked),
        samePicture(image),
        pickPanel(id),
        h(
          'div',
          { class: 'row' },
          h(
            'button',
            {
              class: 'primary',
              onClick: () =>
                update(fromImage({ like: id, q: '', upload: null, image: '', view: 'grid' })),
            },
            'More like this',
          ),
          h(
            'a',
            {
              class: 'button',
              // A media fragment: the browser opens the video at the frame (the file
              // route answers its byte ranges).
              href: video ? `${file}#t=${video.frame_time}` : file,
              target: '_blank',
              rel: 'noopener',
            },
            video ? `Open the video at ${timeText(video.frame_time)} ↗` : 'Open file ↗',
          ),
        ),
        h('h3', { class: 'posts-head' }, plural(total, 'post')),
        total
          ? postList(id, posts, total)
          : h(
              'p',
              { class: 'muted' },
              `No post uses this ${video ? 'video' : 'image'} (it came from a folder).`,
            ),
      ),
    ),
  );
}

async function open(id) {
  shown = id;
  shownAt = null;
  const hit = neighbours(id).hits.find((x) => x.id === id);
  const d = dialog();
  // Walking from image to image keeps the focus on the button used (Next stays on Next).
  const focused = d.contains(document.activeElement) ? document.activeElement.dataset.nav : '';
  if (!d.open) {
    d.showModal();
    fill(d, h('div', { class: 'detail-inner' }, notice('loading', 'Loading the image…')));
  }
  d.setAttribute('aria-busy', 'true');
  try {
    const image = await api(`images/${encodeURIComponent(id)}`);
    if (shown !== id) return;
    fill(d, render(image, hit));
  } catch (err) {
    if (shown !== id) return;
    fill(
      d,
      h(
        'div',
        { class: 'detail-inner' },
        notice(
          'error',
          'This image could not be loaded.',
          [err.message],
          [h('button', { class: 'close', onClick: close }, 'Close')],
        ),
      ),
    );
  }
  d.setAttribute('aria-busy', 'false');
  const target = d.querySelector(`[data-nav="${focused || 'close'}"]`) ?? d.querySelector('button');
  target?.focus({ preventScroll: true });
}

function close() {
  if (getState().image) update({ image: '' });
}

/** Open and close the detail view with the URL; arrow keys walk the result list. */
export function initDetail() {
  const d = dialog();
  d.addEventListener('close', () => {
    shown = '';
    close();
  });
  // Escape: the URL changes at once ('close' comes a task later, after the dialog is hidden).
  d.addEventListener('cancel', () => {
    shown = '';
    close();
  });
  d.addEventListener('keydown', (e) => {
    if (/^(INPUT|TEXTAREA|SELECT)$/.test(e.target.tagName)) return;
    // A coder walks with N and P too, as in the grid's coding mode.
    const coding = coderName() && !e.ctrlKey && !e.metaKey && !e.altKey;
    if (e.key === 'ArrowRight' || (coding && e.key.toLowerCase() === 'n')) step(1);
    else if (e.key === 'ArrowLeft' || (coding && e.key.toLowerCase() === 'p')) step(-1);
    else return;
    e.preventDefault();
  });
  // A click on the backdrop (outside the dialog box) closes it.
  d.addEventListener('click', (e) => {
    if (e.target === d) d.close();
  });
  const sync = (state) => {
    if (state.image && state.image !== shown) open(state.image);
    else if (!state.image && d.open) {
      shown = '';
      d.close();
    }
  };
  subscribe(sync);
  sync(getState());
}

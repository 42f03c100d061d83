// What a text or hybrid hit's rank rests on (the API's `evidence`): its scores, and the words
// of its text the query matched, marked where the text is shown.

import { h } from './dom.js';

const PART_NAMES = {
  ocr: 'text in the image',
  caption: 'caption',
  body: 'post text',
  hashtags: 'hashtags',
  transcript: 'transcript',
};

/** Every word the query matched, in any part of the text. */
export const matchedWords = (evidence) => Object.values(evidence?.matched ?? {}).flat();

/** `text` with each of `words` (whole words, any case) in a <mark>; `text` itself when none. */
export function highlighted(text, words) {
  if (!text || !words?.length) return text;
  const escaped = words.map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  const edge = '[\\p{L}\\p{N}_]'; // a word goes on: no match inside a longer word
  const pattern = new RegExp(`(?<!${edge})(?:${escaped.join('|')})(?!${edge})`, 'giu');
  const out = [];
  let last = 0;
  for (const m of text.matchAll(pattern)) {
    out.push(text.slice(last, m.index), h('mark', {}, m[0]));
    last = m.index + m[0].length;
  }
  out.push(text.slice(last));
  return out;
}

/** The tile's chip in text and hybrid modes: the best BM25 score, else the image's. */
export function evidenceChip(evidence) {
  const text = Math.max(0, ...Object.values(evidence.text));
  return text > 0 ? `text ${text.toFixed(1)}` : `image ${evidence.image?.toFixed(2) ?? '–'}`;
}

/** The detail's "Why it is here": both scores, and the words matched by part. */
export function evidenceBlock(evidence, mode) {
  if (!evidence) return null;
  const languages = Object.entries(evidence.text)
    .map(([language, score]) => `${language} ${score.toFixed(2)}`)
    .join(', ');
  const image = evidence.image === null ? '–' : evidence.image.toFixed(3);
  const parts = Object.entries(evidence.matched).map(
    ([part, words]) => `${PART_NAMES[part] ?? part}: ${words.join(', ')}`,
  );
  return h(
    'section',
    { class: 'evidence' },
    h('h3', {}, 'Why it is here'),
    h(
      'p',
      {},
      `Ranked by ${mode === 'hybrid' ? 'image and text, fused by rank' : 'its text'}. `,
      `Image score ${image} (cosine); text score (BM25) ${languages}.`,
    ),
    parts.length
      ? h('p', {}, 'Words of the query in its ', parts.join('; '), '.')
      : h('p', { class: 'muted' }, 'No word of the query is in its text: the image placed it.'),
  );
}

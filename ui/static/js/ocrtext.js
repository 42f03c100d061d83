// The text read in an image (OCR), as the detail view shows it.

import { code, h, plural } from './dom.js';
import { highlighted } from './evidence.js';

const LANG = { deu: 'de', eng: 'en' }; // Tesseract's language names as HTML's

/**
 * The text read in the image (OCR): its lines, and how they were read; or that it was not read
 * yet, or that none was found (a store searched by text must say where it cannot look). The
 * `marked` words (a text search's matches) are marked in it.
 */
export function ocrBlock(ocr, marked = []) {
  if (ocr === undefined) return null; // a hit, not yet the image's detail
  const head = h('h3', {}, 'Text in the image');
  if (ocr === null) {
    return h(
      'section',
      { class: 'ocr' },
      head,
      h(
        'p',
        { class: 'muted' },
        'Not read yet: run ',
        code('picsift ocr'),
        ' (or Jobs → Read text).',
      ),
    );
  }
  if (!ocr.text) {
    return h('section', { class: 'ocr' }, head, h('p', { class: 'muted' }, 'No text found.'));
  }
  const how =
    `Read by OCR from the ${ocr.source} (${ocr.languages}), ${plural(ocr.words, 'word')}, ` +
    `mean confidence ${Math.round(ocr.confidence)}; words under ${ocr.min_confidence} left out.`;
  return h(
    'section',
    { class: 'ocr' },
    head,
    h('p', { class: 'ocr-text', lang: LANG[ocr.language] ?? null }, highlighted(ocr.text, marked)),
    h('p', { class: 'muted' }, how),
  );
}

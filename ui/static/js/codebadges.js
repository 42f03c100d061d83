// The signed-in coder's own codes on a grid tile: a small badge per code, "seen" for an image
// they looked at and left without a code, nothing where they have not coded it (or nobody is
// signed in).

import { coderName, myCodes } from './coder.js';
import { h } from './dom.js';

/** The badges of image `id` for the signed-in coder (an empty element when none). */
export function codeBadges(id) {
  const codes = coderName() ? myCodes(id) : undefined;
  const el = h('span', { class: 'code-badges', dataset: { id } });
  if (codes === undefined) return el;
  el.title = codes.length ? `Your codes: ${codes.join(', ')}` : 'You saw it: no code applies';
  if (!codes.length) el.append(h('span', { class: 'code-badge code-seen' }, 'seen'));
  for (const c of codes) el.append(h('span', { class: 'code-badge' }, h('bdi', {}, c)));
  return el;
}

/** Redraw the badges of image `id` (every tile's without one) in the grid. */
export function redrawBadges(id = null) {
  const selector = id ? `.code-badges[data-id="${CSS.escape(id)}"]` : '.code-badges';
  for (const el of document.querySelectorAll(`#grid ${selector}`)) {
    el.replaceWith(codeBadges(el.dataset.id));
  }
}

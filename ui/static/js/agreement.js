// The Agreement view (`?view=agreement`): per code of the codebook, the coders' Krippendorff's
// alpha over the images two or more of them saw (or why it is undefined), how often the code
// was applied, and the images they disagree on (a thumbnail each, who applied the code and who
// did not), each opening the image; a code's images open in the grid or export as CSV, and the
// coding log downloads whole.

import { api } from './api.js';
import { onCatalog } from './catalog.js';
import { code, fill, h, notice, num, plural, toast } from './dom.js';
import { download } from './exporter.js';
import { clearedFilters } from './grid.js';
import { getState, hrefFor, subscribe, update } from './state.js';

const view = () => document.getElementById('view-agreement');
let asked = 0; // the latest read: an older answer that comes in later is dropped

/** A state patch that shows the images code `c` was applied to in the grid, nothing else. */
function codePatch(c) {
  return { ...clearedFilters(), q: '', like: '', upload: null, image: '', view: 'grid', code: c };
}

/** The alpha of a code, or why it is undefined (`images`: how many two coders saw). */
function alphaText(alpha, images) {
  if (alpha !== null) return `α = ${alpha.toFixed(3)}`;
  return images < 2
    ? 'α undefined: fewer than 2 images seen by two or more coders'
    : 'α undefined: no variation (every coder gave every shared image the same value)';
}

/** Open image `id` in the detail view (a link that also works with a middle click). */
function imageLink(id, child) {
  return h(
    'a',
    {
      href: hrefFor(getState(), { image: id }),
      class: 'disagreement-image',
      dataset: { id },
      onClick: (e) => {
        if (e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return;
        e.preventDefault();
        update({ image: id });
      },
    },
    child,
  );
}

const names = (list) => list.map((name, i) => [i ? ', ' : '', h('bdi', {}, name)]);

function disagreement(d) {
  const thumb = h('img', {
    src: `api/images/${encodeURIComponent(d.image_id)}/thumb`,
    alt: `Image ${d.image_id.slice(0, 8)}`,
    loading: 'lazy',
  });
  return h(
    'li',
    { class: 'disagreement', dataset: { image: d.image_id } },
    imageLink(d.image_id, thumb),
    h(
      'p',
      {},
      h('span', { class: 'applied-by' }, 'applied by ', names(d.applied_by)),
      h('br'),
      h('span', { class: 'not-applied-by muted' }, 'not by ', names(d.not_applied_by)),
    ),
  );
}

/**
 * Links to code `c`'s images: in the grid, and as a CSV export; none where no image has it
 * (`applied`: in the coders' latest codings).
 */
function codeActions(c, applied) {
  if (!applied) return null;
  const slug = c.replace(/[^\w-]+/g, '_').slice(0, 40);
  return h(
    'p',
    { class: 'row' },
    h(
      'a',
      {
        href: hrefFor(getState(), codePatch(c)),
        onClick: (e) => {
          if (e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return;
          e.preventDefault();
          update(codePatch(c));
        },
      },
      'Show its images in the grid',
    ),
    h(
      'button',
      {
        type: 'button',
        class: 'small',
        title: 'Every image a coder applied this code to, one row per post, with the codes',
        onClick: () => download({ code: c, format: 'csv' }, `picsift-code-${slug}-`),
      },
      'Export CSV',
    ),
  );
}

function codeCard(c, described, images) {
  return h(
    'article',
    { class: 'agreement-code', dataset: { code: c.code } },
    h(
      'header',
      { class: 'agreement-head' },
      h('h3', {}, h('bdi', {}, c.code)),
      h(
        'p',
        { class: `agreement-alpha${c.alpha === null ? ' undefined' : ''}` },
        alphaText(c.alpha, images),
      ),
    ),
    described ? h('p', { class: 'muted' }, described) : null,
    h(
      'p',
      { class: 'agreement-applied' },
      `Applied ${plural(c.applied, 'time')} in all, ${num(c.applied_shared)} on the shared images.`,
    ),
    codeActions(c.code, c.applied),
    c.disagreements.length
      ? [
          h('h4', {}, `The coders differ on ${plural(c.disagreements.length, 'image')}`),
          h('ul', { class: 'disagreements' }, c.disagreements.map(disagreement)),
        ]
      : h('p', { class: 'muted' }, 'No image to resolve: the coders agree on every shared one.'),
  );
}

async function downloadLog() {
  try {
    const log = await api('codes/log');
    const blob = new Blob([JSON.stringify(log, null, 2)], { type: 'application/json' });
    const link = h('a', { href: URL.createObjectURL(blob), download: 'picsift-coding-log.json' });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 60_000);
  } catch (err) {
    toast(`The coding log could not be read: ${err.message}`);
  }
}

function render(data, book) {
  if (!book.length) {
    return fill(
      view(),
      notice('empty', 'No codes yet.', [
        'Add a codebook with ',
        code('picsift codes add NAME --description "…"'),
        ' and coders with ',
        code('picsift coders add NAME'),
        '; a coder signs in with “Code…” at the top.',
      ]),
    );
  }
  const described = new Map(book.map((c) => [c.code, c.description]));
  fill(
    view(),
    h(
      'header',
      { class: 'agreement-intro' },
      h('h2', {}, 'Coders’ agreement'),
      h(
        'p',
        { class: 'agreement-summary' },
        data.images
          ? [
              `${plural(data.images, 'image')} seen by two or more coders (`,
              names(data.coders),
              ').',
            ]
          : 'No image has been seen by two coders yet: agreement needs images coded twice.',
      ),
      h('p', { class: 'muted agreement-method' }, `${data.method}.`),
      h(
        'p',
        { class: 'row' },
        h('button', { type: 'button', onClick: show }, 'Read again'),
        h('button', { type: 'button', onClick: downloadLog }, 'Download the coding log (JSON)'),
      ),
    ),
    h(
      'div',
      { class: 'agreement-codes' },
      data.codes.map((c) => codeCard(c, described.get(c.code), data.images)),
    ),
  );
}

/** Read the agreement and the codebook, and show them. */
async function show() {
  const mine = ++asked;
  view().setAttribute('aria-busy', 'true');
  if (!view().querySelector('.agreement-codes')) {
    fill(view(), notice('loading', 'Reading the codings…'));
  }
  try {
    const [data, book] = await Promise.all([api('codes/agreement'), api('codes')]);
    if (mine === asked) render(data, book);
  } catch (err) {
    if (mine !== asked) return;
    fill(
      view(),
      notice(
        'error',
        'The agreement could not be read.',
        [err.message],
        [h('button', { onClick: show }, 'Try again')],
      ),
    );
  }
  if (mine === asked) view().setAttribute('aria-busy', 'false');
}

/** Show the agreement when the view opens (again after a job, and on coming back to it). */
export function initAgreement() {
  subscribe((state, previous) => {
    if (state.view === 'agreement' && previous.view !== 'agreement') show();
  });
  onCatalog(() => getState().view === 'agreement' && show());
  if (getState().view === 'agreement') show();
}

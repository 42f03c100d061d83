// Jobs: index a server path or an uploaded archive, caption, read text (OCR), group variants,
// fit topics; each job shows its progress until it ends. The list is the server's
// (GET /api/jobs), so every browser sees it.

import { api, listOf } from './api.js';
import { getCatalog, onCatalog, reload } from './catalog.js';
import { code, fill, h, notice, num, toast } from './dom.js';
import { getState, subscribe } from './state.js';

const POLL_MS = 1000;
const ENDED = new Set(['done', 'failed', 'cancelled']);
const FAILED = new Set(['failed', 'cancelled']);
const jobs = new Map(); // id -> normalised job
const polling = new Set();
const listeners = new Set();

/** A job (the API's JobOut) as the UI uses it. */
function normalise(raw, kind) {
  const p = raw.progress ?? {};
  const state = String(raw.state ?? 'queued');
  return {
    id: String(raw.id),
    kind: raw.kind ?? kind ?? 'job',
    state,
    ended: ENDED.has(state),
    failed: FAILED.has(state),
    stage: p.stage ?? '',
    done: p.done ?? 0,
    total: p.total ?? 0,
    error: raw.error ?? '',
    result: raw.result ?? null,
  };
}

function tell(job) {
  jobs.set(job.id, job);
  for (const fn of listeners) fn(job);
}

async function poll(id, kind) {
  polling.add(id);
  try {
    for (;;) {
      let job;
      try {
        job = normalise(await api(`jobs/${encodeURIComponent(id)}`), kind);
      } catch (err) {
        job = {
          ...(jobs.get(id) ?? { id, kind }),
          state: 'unknown',
          ended: true,
          failed: true,
          error: err.message,
        };
      }
      tell(job);
      if (job.ended) {
        if (!job.failed) await reload();
        return job;
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  } finally {
    polling.delete(id);
  }
}

/** The server's list of jobs; the running ones are followed until they end. */
async function refreshList() {
  try {
    const list = listOf(await api('jobs'), 'jobs').map((raw) => normalise(raw));
    for (const job of list.reverse()) {
      jobs.set(job.id, job);
      if (!job.ended && !polling.has(job.id)) poll(job.id, job.kind);
    }
  } catch {
    /* an older server without the list: show the jobs started here */
  }
  render();
}

/**
 * Start a job (`kind`: index, caption, ocr, variants, topics) and follow it; resolves to the
 * ended job.
 */
export async function startJob(kind, { json, form } = {}) {
  const raw = await api(`jobs/${kind}`, {
    method: 'POST',
    json: form ? undefined : (json ?? {}),
    form,
  });
  const job = normalise(raw, kind);
  tell(job);
  return poll(job.id, kind);
}

/** Call `fn(job)` on every job update. */
export function onJob(fn) {
  listeners.add(fn);
}

/** A "Fit topics" button that starts the job and reports its progress in place. */
export function fitTopicsButton(params = {}) {
  const button = h('button', { class: 'primary' }, 'Fit topics');
  button.addEventListener('click', async () => {
    button.disabled = true;
    button.textContent = 'Fitting topics…';
    try {
      const job = await startJob('topics', { json: params });
      if (job?.failed) toast(`Fitting topics failed: ${job.error || job.state}`);
    } catch (err) {
      toast(`Could not start fitting topics: ${err.message}`);
    }
    button.disabled = false;
    button.textContent = 'Fit topics';
  });
  return button;
}

/**
 * A "Group variants" button: groups the images without a variant group (the same picture
 * re-encoded, resized, cropped or with text added), reporting in place.
 */
export function groupVariantsButton() {
  const button = h('button', { class: 'primary' }, 'Group variants');
  button.addEventListener('click', async () => {
    button.disabled = true;
    button.textContent = 'Grouping variants…';
    try {
      const job = await startJob('variants');
      if (job?.failed) toast(`Grouping variants failed: ${job.error || job.state}`);
    } catch (err) {
      toast(`Could not start grouping variants: ${err.message}`);
    }
    button.disabled = false;
    button.textContent = 'Group variants';
  });
  return button;
}

function jobRow(job) {
  const pct = job.total ? Math.round((100 * job.done) / job.total) : null;
  return h(
    'li',
    { class: `job job-${job.failed ? 'failed' : job.ended ? 'done' : 'running'}` },
    h(
      'p',
      {},
      h('strong', {}, job.kind),
      ` · ${job.state}`,
      job.stage ? ` · ${job.stage}` : '',
      job.total ? ` · ${num(job.done)} / ${num(job.total)}` : '',
    ),
    job.ended
      ? null
      : h(
          'progress',
          {
            max: job.total || 1,
            value: job.total ? job.done : null,
            'aria-label': `${job.kind} progress`,
          },
          pct !== null ? `${pct}%` : '',
        ),
    job.error ? h('p', { class: 'error-text' }, String(job.error)) : null,
    job.result
      ? h(
          'details',
          {},
          h('summary', {}, 'Report'),
          h('pre', {}, JSON.stringify(job.result, null, 2)),
        )
      : null,
  );
}

function statusBlock() {
  const { status, error } = getCatalog();
  if (!status)
    return error ? notice('error', 'Cannot read the store status.', [error.message]) : null;
  const rows = [
    ['images', status.images],
    // A store with videos counts them and their frames (each frame a point of its own).
    ...(status.videos ? [['videos', status.videos], ['video frames', status.frames]] : []),
    ['posts', status.posts],
    ['topics', status.topics],
    ['captioned', status.captioned],
    // OCR: of the images and frames, how many had their text read (none found counts).
    ['text read', `${num(status.text_read)} of ${num(status.images + status.frames)}`],
    ['model', status.model],
    ['backend', status.backend],
    ['store', status.store],
    ['topic run', status.topic_run ?? 'none yet'],
  ];
  return h(
    'dl',
    { class: 'status' },
    rows.flatMap(([k, v]) => [
      h('dt', {}, k),
      h('dd', {}, typeof v === 'number' ? num(v) : String(v ?? '?')),
    ]),
  );
}

function formsBlock() {
  const path = h('input', {
    id: 'job-path',
    type: 'text',
    placeholder: '/data/scrapes/tiktok-export.zip',
    required: true,
  });
  const file = h('input', {
    id: 'job-file',
    type: 'file',
    accept: '.zip,.csv,.ndjson,.json',
    required: true,
  });
  const minSize = h('input', { id: 'job-min', type: 'number', min: 2, value: 5 });
  const run = (kind, options) =>
    startJob(kind, options)
      .then((job) => {
        if (job?.failed) toast(`${kind} failed: ${job.error || job.state}`);
      })
      .catch((err) => toast(`Could not start ${kind}: ${err.message}`));
  const onSubmit = (fn) => (e) => {
    e.preventDefault();
    fn();
  };
  return h(
    'div',
    { class: 'job-forms' },
    h(
      'form',
      { onSubmit: onSubmit(() => run('index', { json: { paths: [path.value.trim()] } })) },
      h('h3', {}, 'Index a path on the server'),
      h('label', { for: 'job-path' }, 'Folder, 4CAT zip, CSV or NDJSON (as the server sees it)'),
      path,
      h('button', { type: 'submit', class: 'primary' }, 'Index path'),
    ),
    h(
      'form',
      {
        onSubmit: onSubmit(() => {
          const form = new FormData();
          form.append('file', file.files[0]);
          run('index', { form });
        }),
      },
      h('h3', {}, 'Upload and index an archive'),
      h('label', { for: 'job-file' }, '4CAT zip or post table from this computer'),
      file,
      h('button', { type: 'submit', class: 'primary' }, 'Upload and index'),
    ),
    h(
      'form',
      {
        onSubmit: onSubmit(() =>
          run('topics', { json: { action: 'fit', min_topic_size: Number(minSize.value) || 5 } }),
        ),
      },
      h('h3', {}, 'Fit topics'),
      h('label', { for: 'job-min' }, 'Smallest topic (images)'),
      minSize,
      h('button', { type: 'submit', class: 'primary' }, 'Fit topics'),
    ),
    h(
      'form',
      { onSubmit: onSubmit(() => run('caption')) },
      h('h3', {}, 'Captions'),
      h('p', { class: 'muted' }, 'Caption the images that have none yet.'),
      h('button', { type: 'submit' }, 'Caption missing'),
    ),
    h(
      'form',
      { onSubmit: onSubmit(() => run('ocr')) },
      h('h3', {}, 'Text in images'),
      h(
        'p',
        { class: 'muted' },
        'Read the text (OCR) of the images and video frames that have none read yet.',
      ),
      h('button', { type: 'submit' }, 'Read text'),
    ),
    h(
      'form',
      { onSubmit: onSubmit(() => run('variants')) },
      h('h3', {}, 'Variant groups'),
      h(
        'p',
        { class: 'muted' },
        'Group the images that are the same picture (re-encoded, resized, cropped, with text ',
        'added); indexing does it for new images.',
      ),
      h('button', { type: 'submit' }, 'Group variants'),
    ),
  );
}

/** Build the page once (so typing in its forms is never lost); later only parts change. */
function build(view) {
  fill(
    view,
    h('h2', {}, 'Store'),
    h('div', { class: 'status-block' }),
    h('h2', {}, 'Start a job'),
    h(
      'p',
      { class: 'muted' },
      'One write job runs at a time; others wait their turn. ',
      'The same from a shell: ',
      code('picsift index'),
      ', ',
      code('picsift caption'),
      ', ',
      code('picsift ocr'),
      ', ',
      code('picsift variants'),
      ', ',
      code('picsift topics fit'),
      '.',
    ),
    formsBlock(),
    h('h2', {}, 'Jobs'),
    h('div', { class: 'jobs-block', 'aria-live': 'polite' }),
  );
}

function render() {
  const view = document.getElementById('view-jobs');
  if (view.hidden) return;
  if (!view.querySelector('.jobs-block')) build(view);
  fill(view.querySelector('.status-block'), statusBlock());
  const list = [...jobs.values()].reverse();
  fill(
    view.querySelector('.jobs-block'),
    list.length
      ? h('ol', { class: 'jobs' }, list.map(jobRow))
      : h('p', { class: 'muted' }, 'No jobs since the server started.'),
  );
}

/** Render the jobs page when shown, with the server's jobs. */
export function initJobs() {
  onJob(render);
  onCatalog(render);
  subscribe((state, previous) => {
    if (state.view === 'jobs' && previous.view !== 'jobs') refreshList();
  });
  if (getState().view === 'jobs') refreshList();
}

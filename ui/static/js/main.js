// Boot: wire the views to the URL state and load what the server holds.

import { initAgreement } from './agreement.js';
import { getCatalog, isEmptyStore, onCatalog, reload } from './catalog.js';
import { initChips } from './chips.js';
import { initCirculation } from './circulation.js';
import { initCoder } from './coder.js';
import { initCoding } from './coding.js';
import { initCodingPanel } from './codingpanel.js';
import { initDetail } from './detail.js';
import { code, fill, notice } from './dom.js';
import { initFilters } from './filters.js';
import { initGrid, load } from './grid.js';
import { initJobs, onJob } from './jobs.js';
import { initMap } from './map.js';
import { initPickedTiles } from './pickedtiles.js';
import { initPickPanel } from './pickpanel.js';
import { initRanking } from './ranking.js';
import { initSearchBar } from './searchbar.js';
import { initSelections } from './selections.js';
import { initSignIn } from './signin.js';
import { getState, resultsKey, subscribe, update, VIEWS } from './state.js';
import { initTimeline } from './timeline.js';
import { initTopics } from './topics.js';

function showView(state) {
  for (const name of VIEWS) {
    document.getElementById(`view-${name}`).hidden = name !== state.view;
  }
  // The chips and export are the grid's and the map's: the other views show their own.
  document.getElementById('chips').hidden = ['jobs', 'circulation', 'agreement'].includes(
    state.view,
  );
  for (const tab of document.querySelectorAll('.tabs a')) {
    if (tab.dataset.view === state.view) tab.setAttribute('aria-current', 'page');
    else tab.removeAttribute('aria-current');
  }
  document.title = state.q ? `${state.q} · picsift` : 'picsift';
}

function wireChrome() {
  for (const tab of document.querySelectorAll('.tabs a')) {
    tab.addEventListener('click', (e) => {
      if (e.metaKey || e.ctrlKey || e.shiftKey) return;
      e.preventDefault();
      update({ view: tab.dataset.view, image: '' });
    });
  }
  const toggle = document.getElementById('sidebar-toggle');
  const drawer = (open) => {
    document.body.classList.toggle('sidebar-open', open);
    toggle.setAttribute('aria-expanded', String(open));
  };
  toggle.addEventListener('click', () => {
    const open = !document.body.classList.contains('sidebar-open');
    drawer(open);
    if (open) document.getElementById('filters').open = true;
  });
  // On a phone the drawer sits above the results: after a change there, show what it did.
  subscribe((state, previous) => {
    if (!document.body.classList.contains('sidebar-open')) return;
    if (resultsKey(state) === resultsKey(previous)) return;
    drawer(false);
    document.getElementById('main').scrollIntoView({ block: 'start' });
  });
}

function banner() {
  const { status, error } = getCatalog();
  const el = document.getElementById('banner');
  if (error && !status) {
    fill(el, notice('error', 'The picsift server did not answer.', [error.message]));
  } else if (isEmptyStore(status)) {
    fill(
      el,
      notice('empty', 'This store is empty.', [
        'Index a 4CAT export with ',
        code('picsift index export.zip'),
        ' or from the Jobs page.',
      ]),
    );
  } else fill(el);
}

/** Wait until /healthz says the models are loaded, telling the user meanwhile. */
async function waitReady() {
  const el = document.getElementById('banner');
  for (let tries = 0; ; tries++) {
    try {
      const response = await fetch('healthz');
      const body = await response.json().catch(() => ({}));
      if (response.ok && (body.status ?? 'ok') === 'ok') break;
    } catch {
      /* not up yet */
    }
    if (tries === 1) fill(el, notice('loading', 'The server is starting (loading the models)…'));
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
  fill(el);
}

async function boot() {
  subscribe(showView);
  showView(getState());
  wireChrome();
  initSearchBar();
  initFilters();
  initChips();
  initRanking();
  initTopics();
  initSelections();
  initPickedTiles();
  initTimeline();
  initDetail();
  initCodingPanel();
  initPickPanel();
  initCoding();
  initSignIn();
  initMap();
  initCirculation();
  initAgreement();
  initJobs();
  onCatalog(banner);
  await waitReady();
  await reload();
  initGrid();
  initCoder(); // who this browser's cookie signs in: coding mode survives a reload
  // Fitting topics or indexing changes what the grid shows.
  onJob((job) => job.ended && !job.failed && load(getState(), true));
}

boot();

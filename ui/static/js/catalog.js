// What the server holds, loaded once and shared by the views: store status and the topic table.
// `reload()` after a job, rename or merge; views re-render through `onCatalog`.

import { api, listOf } from './api.js';

const catalog = { status: null, topics: [], error: null, topicsError: null, loaded: false };
const listeners = new Set();

/** A topic (the API's TopicOut) as the UI uses it. */
function normaliseTopic(t) {
  const topic = Number(t.topic);
  return {
    topic,
    label: t.label ?? '',
    keywords: t.keywords ?? [],
    count: t.count ?? 0,
    collageUrl: (t.collage_url ?? `api/topics/${topic}/collage`).replace(/^\//, ''),
    outlier: topic === -1,
    renamed: Boolean(t.renamed),
  };
}

/** Load status and topics again; listeners are told when both are in. */
export async function reload() {
  const [status, topics] = await Promise.allSettled([api('status'), api('topics')]);
  catalog.status = status.status === 'fulfilled' ? status.value : null;
  catalog.topics =
    topics.status === 'fulfilled' ? listOf(topics.value, 'topics').map(normaliseTopic) : [];
  const failed = [status, topics].find((r) => r.status === 'rejected');
  catalog.error = failed ? failed.reason : null;
  catalog.topicsError = topics.status === 'rejected' ? topics.reason : null;
  catalog.loaded = true;
  for (const fn of listeners) fn(catalog);
  return catalog;
}

/** The shared catalog (status, topics, error, loaded). */
export const getCatalog = () => catalog;

/** Call `fn(catalog)` after every reload. */
export function onCatalog(fn) {
  listeners.add(fn);
}

/** Whether a store status says the store holds nothing: no image and no video frame. */
export const isEmptyStore = (status) => Boolean(status) && status.images === 0 && !status.frames;

/** The label of a topic id ('' when unknown). */
export function labelOf(topic) {
  return catalog.topics.find((t) => t.topic === Number(topic))?.label ?? '';
}

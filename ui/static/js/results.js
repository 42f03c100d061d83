// The result list of the current state, page by page: a text search, images like a stored one,
// images like an uploaded one, or (no query) the filtered collection.

import { ApiError, api, listOf } from './api.js';
import { resultsKey, searchParams } from './state.js';

export const PAGE_SIZE = 60;
/** Without a query the list comes from the export (see `browseViaExport`); this far at most. */
export const BROWSE_MAX = 3000;
let searchNeedsQuery = false; // learnt from the server's first answer, kept for the page's life

/** A hit as the UI uses it (the architecture's hit shape, with defaults). */
function normaliseHit(hit) {
  const id = String(hit.id);
  return {
    ...hit,
    id,
    score: typeof hit.score === 'number' ? hit.score : null,
    topic: hit.topic ?? null,
    topicLabel: hit.topic_label ?? null,
    caption: hit.caption ?? null,
    thumbUrl: (hit.thumb_url ?? `/api/images/${id}/thumb`).replace(/^\//, ''),
    posts: hit.posts ?? [],
    // A frame of a video: the video's id and the frame's time (seconds); null for an image.
    videoId: hit.video_id ? String(hit.video_id) : null,
    frameTime: hit.video_id && Number.isFinite(hit.frame_time) ? hit.frame_time : null,
  };
}

/** Hits from export rows (one per post and image), in row order, one per image. */
export function hitsFromRows(rows) {
  const byId = new Map();
  for (const row of rows) {
    if (!byId.has(row.image_id)) {
      byId.set(row.image_id, {
        id: row.image_id,
        score: null,
        sha256: row.sha256,
        topic: row.topic,
        topic_label: row.topic_label,
        caption: row.caption,
        // A CSV row has '' where NDJSON has null; the export is read as NDJSON.
        video_id: row.video_id || null,
        frame_time: row.frame_time ?? null,
        posts: [],
      });
    }
    if (row.post_id) byId.get(row.image_id).posts.push(row);
  }
  return [...byId.values()];
}

/** What a first page says of the whole list (see `Results.summary`). */
function summaryOf(data) {
  if (typeof data?.matched !== 'number' && !data?.relevance) return null;
  return {
    matched: data.matched ?? null,
    matchedCapped: Boolean(data.matched_capped),
    minScore: data.min_score ?? null,
    relevance: data.relevance ?? null,
    mode: data.mode ?? 'image', // what a text search ranked by
  };
}

/** What kind of list a state asks for. */
export function modeOf(state) {
  if (state.upload) return 'upload';
  if (state.like) return 'like';
  if (state.q) return 'text';
  return 'browse';
}

export class Results {
  /** The list of `state`, `pageSize` hits a request (the API's limit: at most 1,000). */
  constructor(state, pageSize = PAGE_SIZE) {
    this.state = state;
    this.pageSize = pageSize;
    this.key = resultsKey(state);
    this.mode = modeOf(state);
    this.hits = [];
    this.seen = new Set();
    this.offset = 0; // hits the server returned so far, duplicates included
    this.done = false;
    this.loading = null;
    // The first page's word on the whole list (counts, the cut, relevance); null where the
    // server sent none (browsing via the export), undefined until the first page is in.
    this.summary = undefined;
  }

  /** The summary, once the first page is in (loading it if need be). */
  async ready() {
    while (this.summary === undefined) await this.more();
    return this.summary;
  }

  /** Whether this list is read from the export (browsing on a server whose search needs q). */
  get viaExport() {
    return this.mode === 'browse' && searchNeedsQuery;
  }

  request(offset) {
    const params = { ...searchParams(this.state), limit: this.pageSize, offset };
    if (this.mode === 'upload') {
      const form = new FormData();
      form.append('file', this.state.upload, this.state.upload.name);
      if (this.state.q) form.append('q', this.state.q);
      delete params.q;
      return api('search/image', { method: 'POST', params, form });
    }
    if (this.mode === 'like') {
      return api(`images/${encodeURIComponent(this.state.like)}/similar`, { params });
    }
    if (this.mode === 'browse') return this.browse(params);
    // Later pages rank as the first did, also where the server chose the mode (no mode asked).
    if (this.summary?.mode && !params.mode) params.mode = this.summary.mode;
    return api('search', { params });
  }

  async browse(params) {
    // Asked without a query, the server refuses `not` (422 on `q`): that says nothing about
    // browsing, and the export fallback would drop `not` and show what it should leave out.
    if (params.not) {
      throw new ApiError(
        '“Less like” subtracts from a search: type a search text, or remove “less like”.',
        422,
        'not',
      );
    }
    if (!searchNeedsQuery) {
      try {
        return await api('search', { params });
      } catch (err) {
        if (err.status !== 422 || err.parameter !== 'q') throw err;
        searchNeedsQuery = true;
      }
    }
    return this.browseViaExport(params);
  }

  /**
   * The filtered collection without a query, read from the export endpoint (NDJSON, filters
   * applied, stable order). The export has no offset, so each page asks for everything up to
   * its end: fine for the first few thousand images, hence BROWSE_MAX.
   */
  async browseViaExport({ limit, offset, group_by: _g, ...filters }) {
    const response = await api('export', {
      params: { ...filters, format: 'ndjson', limit: offset + limit },
      raw: true,
    });
    const rows = (await response.text())
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line));
    const hits = hitsFromRows(rows).slice(offset);
    const end = offset + hits.length;
    return { hits, next_offset: hits.length === limit && end < BROWSE_MAX ? end : null };
  }

  /**
   * Take image `id` off the list (it left the selection listed): the pages after it start one
   * earlier, and the count has one less. Returns whether it was in the list.
   */
  drop(id) {
    const i = this.hits.findIndex((hit) => hit.id === id);
    if (i < 0) return false;
    this.hits.splice(i, 1);
    if (!this.done) this.offset -= 1;
    if (typeof this.summary?.matched === 'number') {
      this.summary = { ...this.summary, matched: this.summary.matched - 1 };
    }
    return true;
  }

  /** Load the next page; resolves to the new hits. Concurrent calls share one request. */
  more() {
    if (this.done) return Promise.resolve([]);
    if (!this.loading) {
      this.loading = this.request(this.offset)
        .then((data) => {
          if (this.summary === undefined) this.summary = summaryOf(data);
          const page = listOf(data, 'hits').map(normaliseHit);
          // An image indexed between two pages shifts the order; never show it twice.
          const fresh = page.filter((hit) => !this.seen.has(hit.id));
          for (const hit of fresh) this.seen.add(hit.id);
          this.hits.push(...fresh);
          // The server says where the next page starts (null on the last page).
          this.done = data?.next_offset == null || !page.length;
          if (!this.done) this.offset = data.next_offset;
          return fresh;
        })
        .finally(() => {
          this.loading = null;
        });
    }
    return this.loading;
  }
}

// Video frames: a video is indexed as some of its frames, each a hit of its own with the
// video's id and the frame's time. Tiles show a time badge; the detail view of a frame shows
// the video's frames in a strip, any of them large on a click (or the arrow keys).

import { h } from './dom.js';

/** Whether a hit (or a detail) is a frame of a video. */
export const isFrame = (hit) => Boolean(hit?.videoId ?? hit?.video_id ?? hit?.video);

/** Seconds as a video player shows them: 3.4 -> "0:03", 3725 -> "1:02:05" ("0:03.4" with
 * `tenths`, for frames less than a second apart). */
export function timeText(seconds, tenths = false) {
  const t = Math.max(0, Number(seconds) || 0);
  const whole = tenths ? Math.floor(t * 10) / 10 : Math.floor(t);
  const hours = Math.floor(whole / 3600);
  const minutes = Math.floor((whole % 3600) / 60);
  const secs = whole % 60;
  const ss = (tenths ? secs.toFixed(1) : String(secs)).padStart(tenths ? 4 : 2, '0');
  return hours ? `${hours}:${String(minutes).padStart(2, '0')}:${ss}` : `${minutes}:${ss}`;
}

/** A `<time>` of a moment in a video (its `datetime` an ISO 8601 duration). */
function moment(seconds, tenths = false) {
  const t = Math.max(0, Number(seconds) || 0);
  return h('time', { datetime: `PT${Number(t.toFixed(3))}S` }, timeText(t, tenths));
}

/** "frame at 0:03" for a hit's label; '' for an image. */
export function frameLabel(hit) {
  if (!isFrame(hit)) return '';
  return Number.isFinite(hit.frameTime) ? `video frame at ${timeText(hit.frameTime)}` : 'video frame';
}

/** The badge a frame's tile wears, "▶ 0:03" (null for an image). */
export function timeBadge(hit) {
  if (!isFrame(hit)) return null;
  return h(
    'span',
    { class: 'time-badge', 'aria-hidden': 'true' },
    '▶',
    Number.isFinite(hit.frameTime) ? [' ', timeText(hit.frameTime)] : ' video',
  );
}

/** A thumbnail address from the server, relative to the page; anything else is not used. */
function thumbOf(frame) {
  const url = typeof frame.thumb === 'string' ? frame.thumb.replace(/^\//, '') : '';
  return url.startsWith('api/') ? url : `api/images/${encodeURIComponent(frame.id)}/thumb`;
}

/** The frames of a detail's `video`, in time order, with their times as numbers. */
function framesOf(video) {
  return (Array.isArray(video.frames) ? video.frames : [])
    .map((f) => ({ id: String(f.id), time: Number(f.frame_time) || 0, thumb: thumbOf(f) }))
    .sort((a, b) => a.time - b.time);
}

/** Whether two frames would read the same at whole seconds (then tenths are shown). */
function crowded(frames) {
  const texts = frames.map((f) => timeText(f.time));
  return new Set(texts).size < texts.length;
}

/**
 * The video part of a frame's detail view: the large image of the frame shown (the opened
 * one first), what it is ("▶ 0:03 of 0:10, frame 2 of 3"), and the strip of the video's frames.
 * `img` is the detail's large image; `openFrame(id)` shows a frame's own detail.
 *
 * @returns {{caption: Node, strip: Node|null}}
 */
export function videoParts(video, openedId, img, openFrame) {
  const frames = framesOf(video);
  const tenths = crowded(frames);
  const duration = Number.isFinite(video.duration) ? video.duration : null;
  const opened = frames.findIndex((f) => f.id === openedId);
  let current = opened;
  const where = h('span', {});
  const other = h(
    'button',
    { class: 'link', hidden: true, onClick: () => openFrame(frames[current].id) },
    'Show this frame’s details',
  );
  const caption = h('figcaption', { class: 'frame-caption' }, where, ' ', other);

  const describe = (i) => {
    const time = i >= 0 ? frames[i].time : Number(video.frame_time) || 0;
    where.replaceChildren(
      '▶ ',
      moment(time, tenths),
      ...(duration !== null ? [' of ', moment(duration)] : []),
      i >= 0 ? `, frame ${i + 1} of ${frames.length}` : '',
    );
    other.hidden = i === opened || i < 0;
  };
  describe(opened);
  if (frames.length < 2) return { caption, strip: null };

  const buttons = frames.map((frame, i) =>
    h(
      'button',
      {
        type: 'button',
        class: i === opened ? 'frame opened' : 'frame',
        'aria-current': i === opened ? 'true' : null,
        'aria-label': `Frame at ${timeText(frame.time, tenths)}${i === opened ? ' (this result)' : ''}`,
        tabindex: i === opened ? 0 : -1,
        dataset: { id: frame.id, time: String(frame.time) },
        onClick: () => show(i),
      },
      h('img', { src: frame.thumb, alt: '', loading: 'lazy', decoding: 'async' }),
      h('span', { class: 'frame-time' }, moment(frame.time, tenths)),
    ),
  );
  const alt = img.alt;
  const show = (i, focus = false) => {
    current = i;
    img.src = frames[i].thumb;
    img.alt = i === opened ? alt : `Video frame at ${timeText(frames[i].time, tenths)}`;
    img.dataset.frame = frames[i].id;
    buttons.forEach((button, k) => {
      if (k === i) button.setAttribute('aria-current', 'true');
      else button.removeAttribute('aria-current');
      button.tabIndex = k === i ? 0 : -1; // one tab stop; the arrow keys move along
    });
    describe(i);
    if (focus) buttons[i].focus();
    buttons[i].scrollIntoView({ block: 'nearest', inline: 'nearest' });
  };
  const strip = h(
    'ol',
    { class: 'frame-strip', 'aria-label': `Frames of this video (${frames.length})` },
    buttons.map((button) => h('li', {}, button)),
  );
  strip.addEventListener('keydown', (e) => {
    const i = buttons.indexOf(document.activeElement);
    if (i < 0) return;
    const to = { ArrowLeft: i - 1, ArrowRight: i + 1, Home: 0, End: frames.length - 1 }[e.key];
    if (to === undefined) return;
    // The arrow keys walk the frames here, not the result list (the dialog's own keys).
    e.preventDefault();
    e.stopPropagation();
    if (to >= 0 && to < frames.length) show(to, true);
  });
  return { caption, strip };
}

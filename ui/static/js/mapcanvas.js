// A canvas scatter plot for up to a few hundred thousand points: pixels are written straight
// into an ImageData buffer (one pass, no per-point draw calls), a uniform grid answers "which
// point is under the cursor", and when few points are in view their thumbnails are drawn.

import { attachInput } from './mapinput.js';
import { topicColour, topicRGBA } from './palette.js';

const GRID = 256;
const HIT_PX = 8;
const THUMB_PX = 44;
const THUMBS_WHEN_VISIBLE = 120;

/** Write one dot at (x, y) into the W x H pixel buffer; clipped only near the edges. */
function stamp(px, W, H, x, y, dot, colour) {
  const { r, lin, pairs } = dot;
  if (x >= r && y >= r && x < W - r && y < H - r) {
    const base = y * W + x;
    for (let k = 0; k < lin.length; k++) px[base + lin[k]] = colour;
    return;
  }
  for (let k = 0; k < pairs.length; k += 2) {
    const xx = x + pairs[k];
    const yy = y + pairs[k + 1];
    if (xx >= 0 && yy >= 0 && xx < W && yy < H) px[yy * W + xx] = colour;
  }
}

/** A Uint32Array with `fn(topic)` for each point, `fn` called once per distinct topic. */
function perTopic(topics, fn) {
  const cache = new Map();
  const out = new Uint32Array(topics.length);
  for (let i = 0; i < topics.length; i++) {
    const t = topics[i];
    if (!cache.has(t)) cache.set(t, fn(t));
    out[i] = cache.get(t);
  }
  return out;
}

export class MapCanvas {
  /**
   * @param {HTMLCanvasElement} canvas
   * @param {{onHover?: Function, onOpen?: Function, onSelect?: Function, thumbUrl?: Function}} hooks
   */
  constructor(canvas, hooks) {
    this.canvas = canvas;
    this.ctx = canvas.getContext('2d');
    this.hooks = hooks;
    this.tool = 'pan';
    this.k = 1;
    this.tx = 0;
    this.ty = 0;
    this.selected = new Uint8Array(0);
    this.bright = null; // per point: 1 = drawn bright, 0 = faded (null: all bright)
    this.hover = -1;
    this.drag = null;
    this.thumbs = new Map();
    this.dots = new Map(); // "radius width" -> pixel offsets of a dot
    this.frame = 0;
    new ResizeObserver(() => this.resize()).observe(canvas);
    attachInput(this);
  }

  /** Points as typed arrays: xs, ys (Float32Array), topics (Int32Array), ids (string[]). */
  setData({ xs, ys, topics, ids }) {
    Object.assign(this, { xs, ys, topics, ids, n: xs.length });
    this.selected = new Uint8Array(this.n);
    this.bright = null;
    // Colours per point, computed once: the draw loop only copies integers.
    this.colour = perTopic(topics, (t) => topicRGBA(t));
    this.fadedColour = perTopic(topics, (t) => topicRGBA(t, 40));
    this.index();
    this.fit();
  }

  /** Keep the points of these topics bright and fade the others (null: all bright). */
  highlight(topics) {
    this.bright = topics ? Uint8Array.from(this.topics, (t) => (topics.has(t) ? 1 : 0)) : null;
    this.redraw();
  }

  index() {
    let [x0, x1, y0, y1] = [Infinity, -Infinity, Infinity, -Infinity];
    for (let i = 0; i < this.n; i++) {
      x0 = Math.min(x0, this.xs[i]);
      x1 = Math.max(x1, this.xs[i]);
      y0 = Math.min(y0, this.ys[i]);
      y1 = Math.max(y1, this.ys[i]);
    }
    if (!this.n) [x0, x1, y0, y1] = [0, 1, 0, 1];
    this.bounds = { x0, y0, w: x1 - x0 || 1, h: y1 - y0 || 1 };
    const cell = new Int32Array(this.n);
    const start = new Int32Array(GRID * GRID + 1);
    for (let i = 0; i < this.n; i++) {
      cell[i] = this.cellOf(this.xs[i], this.ys[i]);
      start[cell[i] + 1]++;
    }
    for (let c = 0; c < GRID * GRID; c++) start[c + 1] += start[c];
    const fillAt = start.slice(0, GRID * GRID);
    const items = new Int32Array(this.n);
    for (let i = 0; i < this.n; i++) items[fillAt[cell[i]]++] = i;
    Object.assign(this, { cellStart: start, cellItems: items });
  }

  cellOf(x, y) {
    const { x0, y0, w, h } = this.bounds;
    const cx = Math.min(GRID - 1, Math.max(0, Math.floor(((x - x0) / w) * GRID)));
    const cy = Math.min(GRID - 1, Math.max(0, Math.floor(((y - y0) / h) * GRID)));
    return cy * GRID + cx;
  }

  /** Zoom and pan so that every point is in view. */
  fit() {
    const { width, height } = this.cssSize();
    const pad = 24;
    const { x0, y0, w, h } = this.bounds;
    this.k = Math.min((width - 2 * pad) / w, (height - 2 * pad) / h);
    this.tx = (width - w * this.k) / 2 - x0 * this.k;
    this.ty = (height - h * this.k) / 2 - y0 * this.k;
    this.fitK = this.k;
    this.redraw();
  }

  cssSize() {
    return { width: this.canvas.clientWidth || 600, height: this.canvas.clientHeight || 400 };
  }

  resize() {
    const dpr = window.devicePixelRatio || 1;
    const { width, height } = this.cssSize();
    const first = !this.canvas.width || this.canvas.width === 300;
    this.canvas.width = Math.round(width * dpr);
    this.canvas.height = Math.round(height * dpr);
    if (first && this.n) this.fit();
    else this.redraw();
  }

  /** Zoom by `factor` around the screen point (sx, sy). */
  zoom(factor, sx, sy) {
    const k = Math.min(Math.max(this.k * factor, 1e-6), 1e9);
    this.tx = sx - ((sx - this.tx) * k) / this.k;
    this.ty = sy - ((sy - this.ty) * k) / this.k;
    this.k = k;
    this.redraw();
  }

  pan(dx, dy) {
    this.tx += dx;
    this.ty += dy;
    this.redraw();
  }

  toData(sx, sy) {
    return [(sx - this.tx) / this.k, (sy - this.ty) / this.k];
  }

  redraw() {
    if (!this.frame) this.frame = requestAnimationFrame(() => this.draw());
  }

  draw() {
    this.frame = 0;
    const { width: W, height: H } = this.canvas;
    if (!W || !H || !this.n) return this.ctx.clearRect(0, 0, W, H);
    const dpr = W / this.cssSize().width;
    if (this.image?.width !== W || this.image?.height !== H) {
      this.image = this.ctx.createImageData(W, H);
    }
    const px = new Uint32Array(this.image.data.buffer);
    px.fill(0);
    const dot = this.dot(dpr, W);
    const ring = this.dot(dpr, W, 2);
    const visible = [];
    const bright = this.bright;
    // Faded points first, so bright ones are drawn over them.
    for (const pass of bright ? [0, 1] : [1]) {
      for (let i = 0; i < this.n; i++) {
        if (bright && bright[i] !== pass) continue;
        const x = Math.round((this.xs[i] * this.k + this.tx) * dpr);
        const y = Math.round((this.ys[i] * this.k + this.ty) * dpr);
        if (x < 0 || y < 0 || x >= W || y >= H) continue;
        if (pass && visible.length <= THUMBS_WHEN_VISIBLE) visible.push(i);
        if (this.selected[i]) stamp(px, W, H, x, y, ring, 0xff202020);
        stamp(px, W, H, x, y, dot, pass ? this.colour[i] : this.fadedColour[i]);
      }
    }
    this.ctx.putImageData(this.image, 0, 0);
    this.ctx.save();
    this.ctx.scale(dpr, dpr);
    if (visible.length <= THUMBS_WHEN_VISIBLE) this.drawThumbs(visible);
    this.drawOverlay();
    this.ctx.restore();
  }

  /** The pixels of a dot (offsets as pairs, and as buffer steps for width W): larger when
   * points are few or zoomed in, at least one pixel around the centre. */
  dot(dpr, W, extra = 0) {
    const { width, height } = this.cssSize();
    const spacing = Math.sqrt((width * height) / Math.max(1, this.n));
    const zoom = Math.sqrt(this.k / (this.fitK || this.k));
    const r = Math.round(Math.min(7, Math.max(1, (spacing / 10) * zoom)) * dpr) + extra;
    const key = `${r} ${W}`;
    if (!this.dots.has(key)) {
      const pairs = [];
      for (let dy = -r; dy <= r; dy++) {
        for (let dx = -r; dx <= r; dx++) if (dx * dx + dy * dy <= r * r + r) pairs.push(dx, dy);
      }
      const lin = Int32Array.from(
        { length: pairs.length / 2 },
        (_, k) => pairs[2 * k + 1] * W + pairs[2 * k],
      );
      this.dots.set(key, { r, lin, pairs: Int32Array.from(pairs) });
    }
    return this.dots.get(key);
  }

  drawThumbs(indices) {
    for (const i of indices) {
      const img = this.thumb(i);
      if (!img?.complete || !img.naturalWidth) continue;
      const x = this.xs[i] * this.k + this.tx - THUMB_PX / 2;
      const y = this.ys[i] * this.k + this.ty - THUMB_PX / 2;
      this.ctx.drawImage(img, x, y, THUMB_PX, THUMB_PX);
      this.ctx.lineWidth = 3;
      this.ctx.strokeStyle = topicColour(this.topics[i]);
      this.ctx.strokeRect(x, y, THUMB_PX, THUMB_PX);
    }
  }

  thumb(i) {
    const id = this.ids[i];
    if (!id || !this.hooks.thumbUrl) return null;
    if (!this.thumbs.has(id)) {
      if (this.thumbs.size > 600) this.thumbs.clear();
      const img = new Image();
      img.onload = () => this.redraw();
      img.src = this.hooks.thumbUrl(id);
      this.thumbs.set(id, img);
    }
    return this.thumbs.get(id);
  }

  drawOverlay() {
    const ctx = this.ctx;
    if (this.hover >= 0) {
      ctx.beginPath();
      ctx.arc(
        this.xs[this.hover] * this.k + this.tx,
        this.ys[this.hover] * this.k + this.ty,
        7,
        0,
        2 * Math.PI,
      );
      ctx.lineWidth = 2;
      ctx.strokeStyle = '#111';
      ctx.stroke();
    }
    const d = this.drag;
    if (!d || d.tool === 'pan') return;
    ctx.lineWidth = 1.5;
    ctx.setLineDash([5, 4]);
    ctx.strokeStyle = '#111';
    ctx.fillStyle = 'rgba(26, 86, 219, 0.08)';
    ctx.beginPath();
    if (d.tool === 'box') ctx.rect(d.x0, d.y0, d.x1 - d.x0, d.y1 - d.y0);
    else d.path.forEach(([x, y], j) => (j ? ctx.lineTo(x, y) : ctx.moveTo(x, y)));
    ctx.closePath();
    ctx.fill();
    ctx.stroke();
    ctx.setLineDash([]);
  }

  /** The index of the point nearest to the screen point (sx, sy) within a few pixels, or -1. */
  pick(sx, sy) {
    if (!this.n) return -1;
    const [x, y] = this.toData(sx, sy);
    const rad = HIT_PX / this.k;
    const { x0, y0, w, h } = this.bounds;
    const c0 = Math.max(0, Math.floor(((x - rad - x0) / w) * GRID));
    const c1 = Math.min(GRID - 1, Math.floor(((x + rad - x0) / w) * GRID));
    const r0 = Math.max(0, Math.floor(((y - rad - y0) / h) * GRID));
    const r1 = Math.min(GRID - 1, Math.floor(((y + rad - y0) / h) * GRID));
    let best = -1;
    let bestD = rad * rad;
    for (let row = r0; row <= r1; row++) {
      for (let col = c0; col <= c1; col++) {
        const c = row * GRID + col;
        for (let j = this.cellStart[c]; j < this.cellStart[c + 1]; j++) {
          const i = this.cellItems[j];
          const d = (this.xs[i] - x) ** 2 + (this.ys[i] - y) ** 2;
          if (d <= bestD) [best, bestD] = [i, d];
        }
      }
    }
    return best;
  }
}

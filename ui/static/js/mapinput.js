// Mouse, wheel, touch and keyboard input of the topic map: pan, zoom, click to open, box and
// lasso selection.

const CLICK_SLOP = 4;

function inPolygon(x, y, poly) {
  let inside = false;
  for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
    const [xi, yi] = poly[i];
    const [xj, yj] = poly[j];
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/**
 * The points inside a screen-space box or lasso (a list of [x, y]): their indices, and the
 * shape in data coordinates (`tool`, `polygon`: the box's four corners or the lasso's path).
 */
function select(map, drag) {
  const poly = (
    drag.tool === 'box'
      ? [
          [drag.x0, drag.y0],
          [drag.x1, drag.y0],
          [drag.x1, drag.y1],
          [drag.x0, drag.y1],
        ]
      : drag.path
  ).map(([sx, sy]) => map.toData(sx, sy));
  const xs = poly.map((p) => p[0]);
  const ys = poly.map((p) => p[1]);
  const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const out = [];
  for (let i = 0; i < map.n; i++) {
    const x = map.xs[i];
    const y = map.ys[i];
    if (x < x0 || x > x1 || y < y0 || y > y1) continue;
    if (drag.tool === 'box' || inPolygon(x, y, poly)) out.push(i);
  }
  return { chosen: out, shape: { tool: drag.tool, polygon: poly } };
}

function local(canvas, e) {
  const rect = canvas.getBoundingClientRect();
  return [e.clientX - rect.left, e.clientY - rect.top];
}

/** Attach the input handlers of a MapCanvas to its canvas element. */
export function attachInput(map) {
  const canvas = map.canvas;
  canvas.addEventListener('pointerdown', (e) => {
    const [x, y] = local(canvas, e);
    const tool = e.button === 1 || e.shiftKey ? 'pan' : map.tool;
    map.drag = { tool, x0: x, y0: y, x1: x, y1: y, path: [[x, y]], moved: 0 };
    canvas.setPointerCapture(e.pointerId);
  });
  canvas.addEventListener('pointermove', (e) => {
    const [x, y] = local(canvas, e);
    const d = map.drag;
    if (!d) {
      const i = map.pick(x, y);
      if (i !== map.hover) {
        map.hover = i;
        map.redraw();
        map.hooks.onHover?.(i, x, y);
      }
      canvas.style.cursor = i >= 0 ? 'pointer' : map.tool === 'pan' ? 'grab' : 'crosshair';
      return;
    }
    d.moved = Math.max(d.moved, Math.hypot(x - d.x0, y - d.y0));
    if (d.tool === 'pan') map.pan(x - d.x1, y - d.y1);
    else if (d.tool === 'lasso') d.path.push([x, y]);
    [d.x1, d.y1] = [x, y];
    map.redraw();
  });
  canvas.addEventListener('pointerup', (e) => {
    const d = map.drag;
    map.drag = null;
    if (!d) return;
    const [x, y] = local(canvas, e);
    if (d.moved < CLICK_SLOP) {
      const i = map.pick(x, y);
      if (i >= 0) map.hooks.onOpen?.(i);
    } else if (d.tool !== 'pan') {
      const { chosen, shape } = select(map, d);
      map.selected = new Uint8Array(map.n);
      for (const i of chosen) map.selected[i] = 1;
      map.hooks.onSelect?.(chosen, shape);
    }
    map.redraw();
  });
  canvas.addEventListener('pointerleave', () => {
    if (map.hover >= 0 && !map.drag) {
      map.hover = -1;
      map.hooks.onHover?.(-1);
      map.redraw();
    }
  });
  canvas.addEventListener(
    'wheel',
    (e) => {
      e.preventDefault();
      const [x, y] = local(canvas, e);
      map.zoom(Math.exp(-e.deltaY * 0.0015), x, y);
    },
    { passive: false },
  );
  canvas.addEventListener('keydown', (e) => {
    const { width, height } = map.cssSize();
    const step = 60;
    const actions = {
      '+': () => map.zoom(1.25, width / 2, height / 2),
      '=': () => map.zoom(1.25, width / 2, height / 2),
      '-': () => map.zoom(0.8, width / 2, height / 2),
      0: () => map.fit(),
      ArrowLeft: () => map.pan(step, 0),
      ArrowRight: () => map.pan(-step, 0),
      ArrowUp: () => map.pan(0, step),
      ArrowDown: () => map.pan(0, -step),
      Escape: () => {
        map.selected = new Uint8Array(map.n);
        map.hooks.onSelect?.([]);
        map.redraw();
      },
    };
    if (actions[e.key]) {
      e.preventDefault();
      actions[e.key]();
    }
  });
}

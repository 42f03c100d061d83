"""The topic map in a real browser: the served map, and the canvas at 100k points."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.ui.helpers import snap

pytestmark = pytest.mark.slow
N_POINTS = 100_000
FRAME_MS = 50  # 20 frames/s on a busy 2-core machine; it measured about 6 ms
# Where a dot is drawn, in page coordinates (the middle of the first dot found), how many
# opaque pixels there are, and the canvas's box.
PAINTED = """() => {
  const canvas = document.querySelector('.map-canvas');
  const {width, height} = canvas;
  const {data} = canvas.getContext('2d').getImageData(0, 0, width, height);
  let count = 0, first = null;
  for (let i = 3; i < data.length; i += 4) {
    if (data[i] !== 255) continue;
    count++;
    first = first || [(i >> 2) % width, Math.floor((i >> 2) / width)];
  }
  if (!first) return null;
  const box = canvas.getBoundingClientRect();
  const scale = canvas.width / box.width;
  return {count, x: box.left + first[0] / scale + 2, y: box.top + first[1] / scale + 2,
          box: [box.left, box.top, box.width, box.height]};
}"""


def test_map_renders_points_and_opens_an_image(page, fitted, shots):
    total = fitted.api("topics/map", mode="points", limit=1)["total"]
    page.goto("/?view=map")
    page.wait_for_function(
        "n => document.querySelector('.map-info')?.textContent === `${n} images`", arg=total
    )
    painted = page.wait_for_function(PAINTED).json_value()  # drawn on the next frame
    assert painted["count"] >= 4 * total  # every point is a dot of several pixels
    snap(page, shots, "map")

    # A dot's place is read again before each click: the page may still move the map as
    # the rest of it loads (in CI a click at a place read earlier once hit nothing).
    for _ in range(5):
        page.mouse.click(painted["x"], painted["y"])
        try:
            page.wait_for_url(re.compile(r"[?&]image="), timeout=3000)
            break
        except PlaywrightTimeout:
            painted = page.wait_for_function(PAINTED).json_value()
    else:
        raise AssertionError(f"no image opened by clicking a dot at {painted}")
    page.locator("#detail .post").first.wait_for()
    page.keyboard.press("Escape")
    page.locator("#detail").wait_for(state="hidden")

    left, top, width, height = painted["box"]
    page.get_by_role("radio", name="Box select").click()
    page.mouse.move(left + 2, top + 2)
    page.mouse.down()
    page.mouse.move(left + width / 2, top + height / 2, steps=4)
    page.mouse.move(left + width - 2, top + height - 2, steps=4)
    page.mouse.up()
    assert page.inner_text(".map-selection h3") == f"{total} images selected"
    snap(page, shots, "map-selection", full_page=True)


def test_map_stays_smooth_with_100k_points(page):
    """The map's canvas (the UI's own module) with 100k generated points in 40 clusters:
    drawing a zoomed frame and finding the point under the cursor stay fast."""
    page.goto("/?view=jobs")
    timing = page.evaluate(
        """async n => {
          const { MapCanvas } = await import('./js/mapcanvas.js');
          const canvas = document.createElement('canvas');
          canvas.style.cssText = 'width: 900px; height: 600px; display: block';
          document.body.prepend(canvas);
          const map = new MapCanvas(canvas, {});
          const xs = new Float32Array(n), ys = new Float32Array(n), topics = new Int32Array(n);
          let seed = 1;
          const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
          for (let i = 0; i < n; i++) {
            topics[i] = i % 40;
            xs[i] = (topics[i] % 8) * 3 + random();
            ys[i] = Math.floor(topics[i] / 8) * 3 + random();
          }
          map.setData({ xs, ys, topics, ids: Array.from({ length: n }, (_, i) => String(i)) });
          // The canvas takes its size from the page on the next frames.
          await new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)));
          const frames = [];
          for (let k = 0; k < 15; k++) {
            const t0 = performance.now();
            map.zoom(1.05, 450, 300);
            cancelAnimationFrame(map.frame);
            map.draw();
            frames.push(performance.now() - t0);
          }
          frames.sort((a, b) => a - b);
          const t0 = performance.now();
          for (let k = 0; k < 1000; k++) map.pick(random() * 900, random() * 600);
          const painted = new Uint32Array(
            canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data.buffer,
          ).filter((p) => p !== 0).length;
          return { frame: frames[7], pick: (performance.now() - t0) / 1000, painted };
        }""",
        N_POINTS,
    )
    assert timing["painted"] > 0.1 * 900 * 600
    assert timing["frame"] < FRAME_MS, timing
    assert timing["pick"] < 1, timing

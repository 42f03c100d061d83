"""Small steps the browser tests share."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import numpy as np

from picsift.models.toy import render

PAGE_SIZE = 60  # images per page of the grid (ui/static/js/results.js)


def search(page: Any, text: str) -> list[str]:
    """Type a query into the search bar, press Enter, and return the ids of the first page.
    Waits for this query in the URL: an earlier search's `q=` and settled grid would let a
    second search return before it has even started."""
    page.fill("#q", text)
    page.press("#q", "Enter")
    page.wait_for_url(lambda url: parse_qs(urlsplit(url).query).get("q") == [text])
    return tile_ids(page)


def tile_ids(page: Any) -> list[str]:
    """Ids of the grid's tiles once the list has settled (first page loaded)."""
    page.wait_for_function(
        "() => document.querySelector('#grid')?.getAttribute('aria-busy') === 'false'"
        " || document.querySelector('#grid > .notice')"
    )
    return page.eval_on_selector_all("#grid .tile-link", "els => els.map(e => e.dataset.id)")


def all_tile_ids(page: Any) -> list[str]:
    """Ids of every tile, after the grid has loaded its last page."""
    page.wait_for_function(
        "() => /that is all|first/i.test(document.querySelector('#grid .grid-end')?.textContent)"
        " || document.querySelector('#grid > .notice')"
    )
    return tile_ids(page)


def snap(page: Any, folder: Path, name: str, full_page: bool = False) -> Path:
    """Save a screenshot of the page as `folder/name.jpg` (JPEG keeps the committed set small)."""
    path = folder / f"{name}.jpg"
    page.wait_for_function(  # the images in view have loaded (thumbnails load lazily)
        """() => [...document.images].every((img) => {
          const box = img.getBoundingClientRect();
          return img.complete || box.bottom < 0 || box.top > innerHeight || !box.width;
        })"""
    )
    page.screenshot(path=path, type="jpeg", quality=80, full_page=full_page)
    return path


def shape_png(colour: str, shape: str, seed: int = 0) -> bytes:
    """A fresh toy shape image (not in the store) as PNG bytes."""
    image = render(colour, shape, np.random.default_rng(seed), size=160)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def wait_for_query(page: Any, key: str, value: str | None = None) -> None:
    """Wait until the page URL has `key` (with `value`) in its query string."""
    pattern = rf"[?&]{re.escape(key)}=" + (re.escape(value) if value is not None else "")
    page.wait_for_url(re.compile(pattern))

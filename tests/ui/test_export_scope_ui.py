"""Export never hands over another set than the grid's: where the export API cannot give what
the grid shows (similar images, an uploaded image), the Export buttons say so; one image per
author or post is exported as the grid shows it."""

from __future__ import annotations

import csv
import io
import re

import pytest

from tests.ui.helpers import all_tile_ids, shape_png, tile_ids

pytestmark = pytest.mark.slow


def export_buttons(page) -> list:
    chips = page.locator("#chips")
    return [chips.get_by_role("button", name=name) for name in ("CSV", "NDJSON")]


def test_similar_images_are_not_exported_as_something_else(page, served):
    liked = next(iter(served.truth))
    page.goto(f"/?like={liked}")
    assert tile_ids(page)
    assert all(button.is_disabled() for button in export_buttons(page))
    scope = page.inner_text("#export-scope")
    assert "cannot be exported" in scope and "text search" in scope
    downloads: list = []
    page.on("download", lambda d: downloads.append(d))
    toast = page.evaluate(
        """async () => {
          const { exportView } = await import('./js/exporter.js');
          await exportView('csv');
          return document.getElementById('toast').textContent;
        }"""
    )
    assert "cannot be exported" in toast
    page.wait_for_timeout(500)
    assert not downloads

    upload = {"name": "query.png", "mimeType": "image/png", "buffer": shape_png("red", "circle")}
    page.set_input_files("#upload", files=[upload])
    page.wait_for_function("() => /query.png/.test(document.getElementById('what').textContent)")
    assert all(button.is_disabled() for button in export_buttons(page))
    assert "cannot be exported" in page.inner_text("#export-scope")

    page.locator("#chips").get_by_role("button", name="back to text search").click()
    page.wait_for_function("() => !document.querySelector('#chips button[disabled]')")
    assert "every image the filters match" in page.inner_text("#export-scope")


def test_export_says_what_it_holds_and_follows_the_grouping(page, served):
    page.goto("/?q=red+circle")
    tile_ids(page)
    scope = page.locator("#export-scope")
    scope.filter(has_text=re.compile(r"all \d+ ranked")).wait_for()  # counted with page one
    assert f"all {len(served.truth)} ranked images, one row per post" in scope.inner_text()
    page.goto("/?q=red+circle&group_by=author")
    shown = all_tile_ids(page)
    assert "one image per author" in page.inner_text("#export-scope")
    with page.expect_download() as download:
        page.locator("#chips").get_by_role("button", name="CSV").click()
    rows = list(csv.DictReader(io.StringIO(download.value.path().read_text())))
    assert list(dict.fromkeys(r["image_id"] for r in rows)) == shown

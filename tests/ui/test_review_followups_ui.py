"""Smaller truths of the UI: the export's methods manifest, chips for URL values the UI does not
understand, refused searches, previous/next from a shared link, and the phone's filter drawer."""

from __future__ import annotations

import csv
import io
import json

import pytest

from tests.ui.helpers import PAGE_SIZE, tile_ids, wait_for_query

pytestmark = pytest.mark.slow


def test_export_comes_with_its_methods_manifest(page):
    page.goto("/?q=red+circle&author=user2")
    tile_ids(page)
    downloads: list = []
    page.on("download", lambda d: downloads.append(d))
    page.locator("#chips").get_by_role("button", name="CSV").click()
    page.wait_for_function("() => /manifest/.test(document.getElementById('toast').textContent)")
    page.wait_for_timeout(300)
    names = [d.suggested_filename for d in downloads]
    assert len(names) == 2 and names[1] == names[0].removesuffix(".csv") + ".manifest.json"
    rows = list(csv.DictReader(io.StringIO(downloads[0].path().read_text())))
    manifest = json.loads(downloads[1].path().read_text())
    assert manifest["query"]["q"] == ["red circle"]
    assert manifest["rows"] == len(rows)
    assert manifest["format"] == "csv"


def test_chips_show_url_values_as_given_and_refusals_offer_no_retry(page):
    page.goto("/?has_caption=maybe&topic=abc")
    chips = page.locator("#chips .chips")
    chips.wait_for()
    text = chips.inner_text()
    assert "captioned: maybe" in text and "captioned: no" not in text
    assert "topic “abc”" in text and "NaN" not in text

    page.goto("/?q=red&date_from=2024-04-10&date_to=2024-04-01")
    tile_ids(page)
    grid = page.locator("#grid")
    assert "cannot run as asked" in grid.inner_text()
    assert "“From”" in grid.inner_text() and "date_from" not in grid.inner_text()
    assert grid.get_by_role("button", name="Try again").count() == 0


def test_previous_and_next_from_a_link_to_an_image_further_down(page, served):
    hits = served.api("search", q="shape", limit=PAGE_SIZE + 12)["hits"]
    target = hits[PAGE_SIZE + 10]["id"]
    page.goto(f"/?q=shape&image={target}")
    page.locator("#detail .post").first.wait_for()
    page.locator("#detail").get_by_role("button", name="← Previous").click()
    wait_for_query(page, "image", hits[PAGE_SIZE + 9]["id"])
    page.locator("#detail").get_by_role("button", name="Next →").click()
    wait_for_query(page, "image", target)
    assert "not in the current result list" not in page.inner_text("#detail")


def test_the_phone_drawer_opens_on_filters_and_closes_on_a_change(browser, served):
    context = browser.new_context(base_url=served.url, viewport={"width": 390, "height": 844})
    page = context.new_page()
    try:
        page.goto("/?q=red")
        tile_ids(page)
        page.click("#sidebar-toggle")
        assert page.locator("#sidebar").is_visible()
        assert page.locator("#filters").get_attribute("open") is not None
        page.fill("#f-author", "user1")
        page.press("#f-author", "Enter")
        wait_for_query(page, "author", "user1")
        page.locator("#sidebar").wait_for(state="hidden")
        assert page.get_attribute("#sidebar-toggle", "aria-expanded") == "false"
        top = page.evaluate("document.getElementById('main').getBoundingClientRect().top")
        # The results are in view, near the top (scrolled to them: a fraction of a pixel above
        # is the layout's rounding, not a miss).
        assert -1 < top < 844 / 3
    finally:
        context.close()

"""The browser's Back and Forward buttons: the search box, the filter form and an image upload
follow the history entry, never the last thing typed or dropped."""

from __future__ import annotations

import pytest

from tests.ui.helpers import search, shape_png, tile_ids, wait_for_query

pytestmark = pytest.mark.slow


def heading(page, text: str) -> None:
    """Wait until the heading above the grid says `text`."""
    page.wait_for_function(
        "t => document.getElementById('what')?.textContent.includes(t)", arg=text
    )


def test_back_puts_the_old_query_into_the_focused_search_box(page):
    page.goto("/?q=green+triangle")
    tile_ids(page)
    search(page, "red circle")
    assert page.evaluate("document.activeElement.id") == "q"  # Enter leaves the focus there
    page.go_back()
    wait_for_query(page, "q", "green+triangle")
    heading(page, "green triangle")
    assert page.input_value("#q") == "green triangle"
    page.go_forward()
    wait_for_query(page, "q", "red+circle")
    assert page.input_value("#q") == "red circle"


def test_back_empties_the_focused_filter_field(page):
    page.goto("/?q=red")
    tile_ids(page)
    page.click("#filters summary")
    page.fill("#f-author", "user1")
    page.press("#f-author", "Enter")
    wait_for_query(page, "author", "user1")
    assert page.evaluate("document.activeElement.id") == "f-author"
    page.go_back()
    page.wait_for_url(lambda url: "author" not in url)
    assert page.input_value("#f-author") == ""
    page.press("#f-author", "Enter")  # Apply again does not bring the author back
    tile_ids(page)
    assert "author" not in page.url


def test_back_after_an_image_upload_returns_to_the_text_search(page, served):
    page.goto("/?q=green+triangle")
    tile_ids(page)
    search(page, "red circle")
    upload = {"name": "query.png", "mimeType": "image/png", "buffer": shape_png("blue", "square")}
    page.set_input_files("#upload", files=[upload])
    heading(page, "Images like your file query.png and “red circle”")
    tile_ids(page)

    page.go_back()  # the upload has its own history entry (its URL is the same)
    heading(page, "Results for “red circle”")
    assert "query.png" not in page.inner_text("#what")
    assert served.truth[tile_ids(page)[0]] == ("red", "circle")
    page.go_back()
    wait_for_query(page, "q", "green+triangle")
    heading(page, "Results for “green triangle”")
    assert "query.png" not in page.inner_text("#what")
    assert served.truth[tile_ids(page)[0]] == ("green", "triangle")
    assert page.input_value("#q") == "green triangle"

    page.go_forward()
    page.go_forward()  # Forward finds the uploaded file again
    heading(page, "Images like your file query.png and “red circle”")
    assert tile_ids(page)


def test_back_to_an_upload_from_before_a_reload_shows_its_text_search(page):
    first = {"name": "first.png", "mimeType": "image/png", "buffer": shape_png("red", "square")}
    later = {"name": "later.png", "mimeType": "image/png", "buffer": shape_png("blue", "circle")}
    page.goto("/?q=green+triangle")
    tile_ids(page)
    page.set_input_files("#upload", files=[first])
    heading(page, "Images like your file first.png")
    page.reload()  # the file is gone with the page; its history entry stays
    heading(page, "Results for “green triangle”")
    page.set_input_files("#upload", files=[later])
    heading(page, "Images like your file later.png")
    page.go_back()  # back onto the entry of first.png: not the later file
    heading(page, "Results for “green triangle”")
    assert "later.png" not in page.inner_text("#what")

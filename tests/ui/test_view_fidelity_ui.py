"""What the page says it shows is what it shows: "less like" without a query, dates typed digit
by digit, the weeks of "Topics over time", and searching from the map."""

from __future__ import annotations

import itertools
import json
import re

import pytest

from tests.ui.helpers import tile_ids, wait_for_query

pytestmark = pytest.mark.slow


def test_less_like_without_a_query_says_it_needs_one(page, served):
    page.goto("/?not=red")
    tile_ids(page)
    grid = page.locator("#grid")
    assert "Less like" in grid.inner_text() and "search text" in grid.inner_text()
    assert grid.locator(".tile-link").count() == 0
    assert grid.get_by_role("button", name="Try again").count() == 0  # it would fail again
    page.locator("#chips").get_by_role("button", name="Remove filter less like: red").click()
    page.wait_for_url(lambda url: "not=" not in url)
    newest = [hit["id"] for hit in served.api("search", limit=60)["hits"]]
    assert tile_ids(page) == newest  # browsing still asks the search, in its order


def test_typing_a_date_applies_it_once_when_whole(page):
    page.goto("/?q=red+circle")
    tile_ids(page)
    page.click("#filters summary")
    searches: list[str] = []
    page.on("request", lambda r: "/api/search" in r.url and searches.append(r.url))
    entries = page.evaluate("history.length")
    page.focus("#f-from")
    page.keyboard.type("04012024", delay=50)
    wait_for_query(page, "date_from", "2024-")
    tile_ids(page)
    page.wait_for_timeout(500)
    assert page.evaluate("history.length") == entries + 1
    assert len(searches) == 1 and re.search(r"date_from=2024-\d\d-\d\d", searches[0])


def test_topics_over_time_keeps_empty_weeks(page):
    weeks = ["2024-03-04", "2024-03-18", "2024-04-01", "2024-04-08", "2024-04-15", "2024-04-22"]
    rows = [{"period": w, "topic": 1, "posts": 3} for w in weeks]
    page.route(
        "**/api/topics/timeline*",
        lambda route: route.fulfill(
            content_type="application/json", body=json.dumps({"interval": "week", "rows": rows})
        ),
    )
    page.goto("/")
    page.locator("#timeline g.bar").first.wait_for()
    labels = page.eval_on_selector_all(
        "#timeline g.bar", "els => els.map(e => e.getAttribute('aria-label'))"
    )
    every = ["03-04", "03-11", "03-18", "03-25", "04-01", "04-08", "04-15", "04-22"]
    assert [label.split(":")[0] for label in labels] == [f"week of 2024-{w}" for w in every]
    assert "0 posts" in labels[1] and "0 posts" in labels[3]
    xs = page.eval_on_selector_all("#timeline .bar-bg", "els => els.map(e => +e.getAttribute('x'))")
    gaps = {round(b - a, 3) for a, b in itertools.pairwise(xs)}
    assert len(gaps) == 1  # one slot per week: a linear time axis


def test_the_map_says_it_shows_everything_and_search_goes_to_the_grid(page):
    page.goto("/?view=map&q=red+circle&author=user1")
    what = page.locator("#what")
    what.wait_for()
    assert "map shows every image" in what.inner_text()
    assert "Results for" not in page.inner_text("#chips")
    page.fill("#q", "green square")
    page.press("#q", "Enter")
    wait_for_query(page, "q", "green+square")
    assert "view=map" not in page.url
    assert tile_ids(page)
    assert page.locator("#view-grid").is_visible()
    assert "Results for “green square”" in page.inner_text("#what")

"""Topic names and counts stay true: tiles follow a rename at once, and the sidebar's total does
not count the outliers as in topics."""

from __future__ import annotations

import json
import re

import pytest

from tests.ui.conftest import give_key
from tests.ui.helpers import tile_ids

pytestmark = pytest.mark.slow


def test_tiles_show_a_new_topic_name_at_once(page, fitted):
    page.goto("/?q=green+circle")
    ids = tile_ids(page)
    topic = fitted.api(f"images/{ids[0]}")["topic"]
    if topic == -1:
        pytest.skip("the best green circle is an outlier in this fit")
    card = page.locator(f'.topic-card[data-topic="{topic}"]')
    card.get_by_role("button", name=re.compile("^Rename")).click()
    card.get_by_role("textbox").fill("round green things")
    card.get_by_role("button", name="Save").click()
    give_key(page)
    page.locator(".topic-card", has_text="round green things").wait_for()
    first = page.locator(f'#grid .tile-link[data-id="{ids[0]}"]')
    page.wait_for_function(
        "el => el.getAttribute('aria-label').includes('round green things')",
        arg=first.element_handle(),
    )
    assert first.locator(".topic-pill").inner_text() == f"{topic} · round green things"
    assert tile_ids(page) == ids  # the same list, relabelled, not reloaded
    focused = page.evaluate("document.activeElement.closest('.topic-card')?.dataset.topic")
    assert focused == str(topic)


def test_the_topic_total_leaves_out_the_outliers(page):
    topics = [
        {"topic": -1, "label": "Outliers", "keywords": [], "count": 7},
        {"topic": 0, "label": "red, circle", "keywords": ["red"], "count": 30},
        {"topic": 1, "label": "blue, square", "keywords": ["blue"], "count": 12},
    ]
    page.route(
        "**/api/topics",
        lambda route: route.fulfill(
            content_type="application/json", body=json.dumps({"topics": topics})
        ),
    )
    page.goto("/")
    outliers = page.locator('.topic-card[data-topic="-1"]')
    outliers.wait_for()
    assert "7 images" in outliers.inner_text()
    foot = page.locator("#topics p.muted", has_text="images in topics")
    assert foot.inner_text().startswith("42 images in topics")

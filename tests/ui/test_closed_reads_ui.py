"""A server with closed reads (PICSIFT_PUBLIC_READ=false): the UI asks for the key once, and
its images, which <img> tags fetch without the key, load through the read cookie."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.ui.conftest import Served, give_key, serve_corpus
from tests.ui.helpers import search

pytestmark = pytest.mark.slow
ALL_IMAGES_LOADED = """() => {
  const imgs = [...document.querySelectorAll('#grid img')];
  return imgs.length > 0 && imgs.every((img) => img.complete && img.naturalWidth > 0);
}"""


@pytest.fixture(scope="module")
def closed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    root = tmp_path_factory.mktemp("closed")
    # A session of 61 s: the page trades its key again after 1 s (a minute before the end).
    with serve_corpus(root, 24, PICSIFT_PUBLIC_READ="false", PICSIFT_SESSION_TTL="61") as corpus:
        yield corpus


def test_closed_reads_ask_for_the_key_once_and_show_the_images(browser: Any, closed: Served):
    context = browser.new_context(base_url=closed.url, viewport={"width": 1280, "height": 860})
    context.set_default_timeout(20_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto("/")
    give_key(page)
    ids = search(page, "red circle")
    assert ids and closed.truth[ids[0]] == ("red", "circle")
    page.wait_for_function(ALL_IMAGES_LOADED)
    page.reload()  # the saved key buys a new cookie without asking again
    search(page, "blue square")
    page.wait_for_function(ALL_IMAGES_LOADED)
    assert not page.locator("#key-dialog").is_visible()
    context.close()
    assert not errors, f"JavaScript errors: {errors}"


def test_an_open_page_trades_its_key_again_before_the_session_ends(browser: Any, closed: Served):
    context = browser.new_context(base_url=closed.url, viewport={"width": 1280, "height": 860})
    context.set_default_timeout(20_000)
    page = context.new_page()
    trades: list[str] = []
    page.on(
        "request",
        lambda r: trades.append(r.url) if r.method == "POST" and "/api/session" in r.url else None,
    )
    page.goto("/")
    give_key(page)
    search(page, "red circle")
    page.wait_for_function(ALL_IMAGES_LOADED)
    first = len(trades)
    page.wait_for_timeout(1500)
    search(page, "blue square")
    page.wait_for_function(ALL_IMAGES_LOADED)
    assert first >= 1 and len(trades) > first, trades
    context.close()


def test_a_trade_that_failed_is_tried_again(browser: Any, closed: Served):
    """The first trade never reaches the server (a dropped connection): the next call trades
    again, so the images still load (before the fix the page stopped trading for good)."""
    context = browser.new_context(base_url=closed.url, viewport={"width": 1280, "height": 860})
    context.set_default_timeout(20_000)
    page = context.new_page()
    trades: list[str] = []

    def drop_the_first(route: Any) -> None:
        trades.append("dropped" if not trades else "sent")
        if trades[-1] == "dropped":
            route.abort()
        else:
            route.continue_()

    page.route("**/api/session", drop_the_first)
    page.goto("/")
    give_key(page)
    search(page, "red circle")
    page.wait_for_function(ALL_IMAGES_LOADED)
    assert trades[:2] == ["dropped", "sent"], trades
    context.close()

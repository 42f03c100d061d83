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
    with serve_corpus(root, 24, PICSIFT_PUBLIC_READ="false") as corpus:
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

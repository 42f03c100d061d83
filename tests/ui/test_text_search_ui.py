"""Text and hybrid search (#19) in a real browser, over toy shapes whose posts say things in
German and English, indexed by the CLI: the mode menu ranks by the images' text, the tiles
show the text score, the detail says why an image is there and marks the matched words; hybrid
hides the score cut (a fused rank is no measure); the mode stays in the URL; with no mode the
server chooses (hybrid here: the posts have text) and the page says what it chose."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.text_corpus import write_corpus
from tests.ui.conftest import Served, index_and_serve, open_page
from tests.ui.helpers import search, snap, tile_ids

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def posts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    root = tmp_path_factory.mktemp("text-search")
    sources = write_corpus(root)
    with index_and_serve(root, sources) as url:
        yield Served(url, root, {}, {})


def image_id(served: Served, post: str) -> str:
    digest = hashlib.sha256((served.root / "media" / f"{post}.png").read_bytes()).hexdigest()
    return str(uuid.UUID(hex=digest[:32]))


def test_text_mode_finds_the_words_and_says_why(browser: Any, posts: Served, shots):
    with open_page(browser, posts.url) as page:
        page.goto("/")
        page.select_option("#mode", "text")
        ids = search(page, "Traktor")
        assert "mode=text" in page.url
        assert set(ids) == {image_id(posts, "101"), image_id(posts, "102")}
        chips = page.locator("#grid .tile .score").all_inner_texts()
        assert chips and all(c.startswith("text ") for c in chips)
        assert "with a word of the query in their text" in page.inner_text("#main")
        snap(page, shots, "text-search")

        page.locator(f'#grid .tile-link[data-id="{image_id(posts, "101")}"]').click()
        evidence = page.locator("#detail .evidence")
        evidence.wait_for()
        assert "Ranked by its text" in evidence.inner_text()
        assert "post text: Traktoren" in evidence.inner_text()
        assert page.locator("#detail .post-body mark").all_inner_texts() == ["Traktoren"]
        snap(page, shots, "text-search-detail")
        page.keyboard.press("Escape")

        page.select_option("#mode", "hybrid")
        page.wait_for_url(lambda url: "mode=hybrid" in url)
        assert len(tile_ids(page)) == 6  # the image leg ranks every image
        assert page.locator(".cut-form").is_hidden()
        page.reload()
        assert page.locator("#mode").input_value() == "hybrid"
        assert len(tile_ids(page)) == 6


def test_more_like_this_after_a_text_cut_searches_by_the_image(browser: Any, posts: Served):
    """A BM25 cut (text mode) is not a cosine: "More like this" from a hit drops it instead of
    sending it to the image search, which refused it (422)."""
    with open_page(browser, posts.url) as page:
        page.goto("/?q=Traktor&mode=text&min_score=1")
        assert len(tile_ids(page)) >= 1
        page.locator("#grid .tile-link").first.click()
        page.get_by_role("button", name="More like this").click()
        page.wait_for_url(lambda url: "like=" in url)
        assert len(tile_ids(page)) == 5  # every other image, by the image
        assert not page.locator("#grid .notice-error").count()
        assert "min_score" not in page.url  # no cut shown that is not applied


def test_auto_ranks_by_image_and_text_and_says_so(browser: Any, posts: Served, shots):
    with open_page(browser, posts.url) as page:
        page.goto("/")
        ids = search(page, "Traktor")
        assert "mode=" not in page.url and len(ids) == 6  # the image leg ranks every image
        page.wait_for_function(
            """() => document.querySelector('#mode option[value=""]').textContent
                 === 'Auto: image + text'"""
        )
        assert page.locator("#mode").input_value() == ""
        assert "ranked by image and text" in page.inner_text("#ranking .match-count")
        assert page.locator(".cut-form").is_hidden() and not page.locator("#score-dist").count()
        verdict = page.inner_text("#ranking .verdict")  # the image ranking's: 6 images
        assert verdict.startswith("By the image: cannot tell strong matches"), verdict
        assert page.locator("#grid .tile .score").first.inner_text().startswith("text ")
        snap(page, shots, "auto-search")

        exported = page.expect_request(lambda r: "/api/export?" in r.url)
        with exported as request, page.expect_download():
            page.locator("#chips").get_by_role("button", name="CSV").click()
        sent = parse_qs(urlsplit(request.value.url).query)
        assert sent["mode"] == ["hybrid"] and sent["limit"] == ["6"]  # what the grid ranked

        page.locator(f'#grid .tile-link[data-id="{image_id(posts, "102")}"]').click()
        evidence = page.locator("#detail .evidence")
        evidence.wait_for()
        assert "Ranked by image and text, fused by rank" in evidence.inner_text()
        page.keyboard.press("Escape")

        page.select_option("#mode", "image")
        page.wait_for_url(lambda url: "mode=image" in url)
        tile_ids(page)
        assert page.locator(".cut-form").is_visible()
        assert page.locator('#mode option[value=""]').inner_text() == "Auto"


def test_less_like_is_off_in_text_mode(browser: Any, posts: Served):
    """Text mode has no image ranking to subtract from: choosing it drops "less like" (and
    says so) instead of sending a search the server refuses."""
    with open_page(browser, posts.url) as page:
        page.goto("/?q=Traktor&not=field")
        tile_ids(page)
        assert not page.locator("#f-not").is_disabled()
        page.select_option("#mode", "text")
        page.wait_for_url(lambda url: "mode=text" in url and "not=" not in url)
        assert "left out: text mode ranks by words only" in page.inner_text("#toast")
        assert page.locator("#f-not").is_disabled()
        assert len(tile_ids(page)) == 2 and not page.locator("#grid .notice-error").count()

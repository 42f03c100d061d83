"""A ranked set has an edge, in the browser: tiles show their score without hover, the
min-score cut (in the URL) cuts the grid, its count at the top and the export alike, and the
query's score distribution marks the edge, with a notice when nothing stands out. All of it
on the image ranking (mode=image: the cosine); hybrid's verdict is in test_text_search_ui.py."""

from __future__ import annotations

import csv
import io
import math
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.ui.helpers import all_tile_ids, snap, tile_ids, wait_for_query

pytestmark = pytest.mark.slow
PHONE = {"width": 390, "height": 844}


def ranking(page) -> dict:
    """The panel above the grid once it shows the current list: count line, verdict."""
    page.wait_for_function(
        "() => document.getElementById('ranking').getAttribute('aria-busy') === 'false'"
        " && document.querySelector('#ranking .match-count').textContent"
    )
    return {
        "count": page.inner_text("#ranking .match-count"),
        "weak": page.locator("#ranking .notice-weak"),
        "strong": page.locator("#ranking .strong-count"),
    }


def test_tiles_show_their_score_without_hover(page, served):
    page.set_viewport_size(PHONE)
    page.goto("/?q=red+circle&mode=image")
    tile_ids(page)
    page.mouse.move(0, 0)
    hits = served.api("search", mode="image", q="red circle", limit=4)["hits"]
    tiles = page.locator("#grid .tile-link")
    for i, hit in enumerate(hits):
        score = tiles.nth(i).locator(".score")
        assert score.inner_text() == f"{hit['score']:.3f}"
        shown = score.evaluate(
            """el => {
              for (let e = el; e; e = e.parentElement) {
                const style = getComputedStyle(e);
                if (style.opacity === '0' || style.visibility === 'hidden') return false;
              }
              return true;
            }"""
        )
        assert shown, "the score must show without hovering (phones have no hover)"
        box, tile = score.bounding_box(), tiles.nth(i).bounding_box()
        assert tile["x"] <= box["x"] and box["x"] + box["width"] <= tile["x"] + tile["width"]
        assert float(score.evaluate("el => parseFloat(getComputedStyle(el).fontSize)")) >= 11


def test_min_score_cuts_the_grid_and_the_count_on_top(page, served, shots):
    page.goto("/?q=red+circle&mode=image")
    assert ranking(page)["count"] == f"{len(served.truth)} images, ranked"
    scores = [
        h["score"] for h in served.api("search", mode="image", q="red circle", limit=20)["hits"]
    ]
    cut = math.floor(scores[11] * 1000) / 1000
    matched = served.api("search", mode="image", q="red circle", min_score=cut, limit=1)["matched"]
    assert 12 <= matched < len(served.truth)

    page.fill("#min-score", str(cut))
    page.press("#min-score", "Enter")
    wait_for_query(page, "min_score", str(cut))
    assert ranking(page)["count"].startswith(f"{matched} images at score ≥ ")
    ids = all_tile_ids(page)
    assert len(ids) == matched
    shown = page.eval_on_selector_all("#grid .score", "els => els.map(e => +e.textContent)")
    assert min(shown) >= round(cut, 3)
    assert page.locator("#chips").get_by_role("button", name="Remove filter score ≥").count() == 1
    page.evaluate("window.scrollTo(0, 0)")
    snap(page, shots, "score-cut")

    page.locator("#cut-none").click()  # blank: the whole ranking again
    page.wait_for_url(lambda url: "min_score" not in url)
    assert ranking(page)["count"] == f"{len(served.truth)} images, ranked"
    assert page.input_value("#min-score") == ""


def test_the_cut_applies_to_similar_images(page, served):
    liked = served.api("search", mode="image", q="blue square", limit=1)["hits"][0]["id"]
    scores = [h["score"] for h in served.api(f"images/{liked}/similar", limit=20)["hits"]]
    cut = math.floor(scores[5] * 1000) / 1000
    matched = served.api(f"images/{liked}/similar", min_score=cut, limit=1)["matched"]
    page.goto(f"/?like={liked}&min_score={cut}")
    assert ranking(page)["count"].startswith(f"{matched} images at score ≥ ")
    assert len(all_tile_ids(page)) == matched
    assert page.locator("#score-dist").count() == 0  # relevance is for text queries


def test_the_distribution_marks_the_edge_and_cuts_there(page, served, shots):
    page.goto("/?q=red+circle&mode=image")
    ranking(page)
    relevance = served.api("search", mode="image", q="red circle", limit=1)["relevance"]
    figure = page.locator("#score-dist")
    assert figure.locator("rect.bar").count() == len(relevance["histogram"]["counts"])
    assert figure.locator("line.mark-edge").count() == 1
    assert figure.locator("line.mark-cut").count() == 0
    assert f"edge {relevance['edge']:.3f}".rstrip("0") in figure.inner_text()
    assert figure.get_attribute("title") == relevance["method"]
    assert relevance["method"] in figure.locator(".method").inner_text()
    snap(page, shots, "score-distribution")

    page.get_by_role("button", name="Cut at the edge").click()
    wait_for_query(page, "min_score")
    count = ranking(page)["count"]
    assert count.startswith(f"{relevance['strong']} images at score ≥ ")
    assert count.endswith("(the edge)")
    assert len(all_tile_ids(page)) == relevance["strong"]
    assert figure.locator("line.mark-cut").count() == 1
    assert page.get_by_role("button", name="Cut at the edge").is_disabled()


@pytest.mark.parametrize("query", ["tractor", "helicopter"])
def test_a_query_without_a_match_says_so(page, query, shots):
    page.goto(f"/?q={query}&mode=image")
    panel = ranking(page)
    assert panel["weak"].count() == 1
    assert panel["weak"].inner_text().startswith(f"No strong matches for “{query}”.")
    assert tile_ids(page)  # the ranking is still there, under the notice
    if query == "tractor":
        snap(page, shots, "no-strong-matches")


def test_with_no_mode_the_verdict_is_the_image_rankings(page):
    """The corpus's posts have text, so a query with no mode ranks hybrid: the verdict is the
    image ranking's and says so, with no cosine distribution (the grid is not in its order)."""
    page.goto("/?q=tractor")
    panel = ranking(page)
    assert panel["count"].endswith("ranked by image and text (fused by rank)")
    assert panel["weak"].inner_text().startswith("No strong matches by the image for “tractor”.")
    assert page.locator("#score-dist").count() == 0 and page.locator(".cut-form").is_hidden()


@pytest.mark.parametrize("query", ["red circle", "green triangle"])
def test_a_query_with_matches_shows_their_count(page, served, query):
    page.goto(f"/?q={query.replace(' ', '+')}&mode=image")
    panel = ranking(page)
    assert panel["weak"].count() == 0
    strong = served.api("search", mode="image", q=query, limit=1)["relevance"]["strong"]
    assert panel["strong"].inner_text().startswith(f"{strong} strong match")


def test_export_carries_the_cut_or_the_grids_count(page, served):
    cut = math.floor(
        served.api("search", mode="image", q="red circle", limit=20)["hits"][9]["score"] * 1000
    )
    cut /= 1000
    page.goto(f"/?q=red+circle&mode=image&min_score={cut}")
    shown = all_tile_ids(page)
    exported = page.expect_request(lambda r: "/api/export?" in r.url)
    with exported as request, page.expect_download() as download:
        page.locator("#chips").get_by_role("button", name="CSV").click()
    sent = parse_qs(urlsplit(request.value.url).query)
    assert sent["min_score"] == [str(cut)] and "limit" not in sent
    rows = list(csv.DictReader(io.StringIO(download.value.path().read_text())))
    assert list(dict.fromkeys(r["image_id"] for r in rows)) == shown

    page.goto("/?q=red+circle&mode=image")
    ranking(page)
    exported = page.expect_request(lambda r: "/api/export?" in r.url)
    with exported as request, page.expect_download():
        page.locator("#chips").get_by_role("button", name="CSV").click()
    sent = parse_qs(urlsplit(request.value.url).query)
    assert sent["limit"] == [str(len(served.truth))] and "min_score" not in sent


def test_the_panel_reads_on_a_phone(browser, served, shots):
    context = browser.new_context(base_url=served.url, viewport=PHONE, has_touch=True)
    page = context.new_page()
    page.goto("/?q=red+circle&mode=image")
    ranking(page)
    figure = page.locator("#score-dist").bounding_box()
    assert figure["x"] >= 0 and figure["x"] + figure["width"] <= PHONE["width"]
    snap(page, shots, "score-distribution-phone")
    context.close()

"""The web UI in a real browser: text and image search, the detail view with its posts, the
URL as the view's state, and export."""

from __future__ import annotations

import base64
import csv
import io
import json
import re

import httpx
import pytest

from tests.ui.helpers import PAGE_SIZE, search, shape_png, snap, tile_ids, wait_for_query

pytestmark = pytest.mark.slow
TOP = 8  # of the 12 images of each class, the first this many must all be of it


def classes(served, ids: list[str]) -> list[tuple[str, str]]:
    return [served.truth[i] for i in ids]


def test_typing_red_circle_shows_red_circles_first(page, fitted, shots):
    page.goto("/?mode=image")  # the image ranking (CLIP); Auto is in test_text_search_ui.py
    ids = search(page, "red circle")
    assert classes(fitted, ids[:TOP]) == [("red", "circle")] * TOP
    assert "q=red+circle" in page.url
    first = page.locator("#grid .tile-link").first
    first.hover()
    info = first.locator(".tile-info")
    page.wait_for_function("el => getComputedStyle(el).opacity === '1'", arg=info.element_handle())
    hit = fitted.api("search", q="red circle", mode="image", limit=1)["hits"][0]
    assert first.locator(".score").inner_text() == f"{hit['score']:.3f}"
    assert (hit["topic_label"] if hit["topic"] != -1 else "Outliers") in info.inner_text()
    assert first.locator("img").get_attribute("alt") == hit["caption"]
    snap(page, shots, "grid")


def test_search_by_an_uploaded_or_dropped_image(page, served):
    page.goto("/")
    upload = {"name": "query.png", "mimeType": "image/png", "buffer": shape_png("blue", "triangle")}
    page.set_input_files("#upload", files=[upload])
    ids = tile_ids(page)
    assert classes(served, ids[:TOP]) == [("blue", "triangle")] * TOP
    assert "query.png" in page.inner_text("#what")

    dropped = base64.b64encode(shape_png("yellow", "square", seed=1)).decode()
    page.evaluate(
        """b64 => {
          const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
          const data = new DataTransfer();
          data.items.add(new File([bytes], 'dropped.png', {type: 'image/png'}));
          for (const type of ['dragenter', 'dragover', 'drop']) {
            document.body.dispatchEvent(new DragEvent(type, {dataTransfer: data, bubbles: true}));
          }
        }""",
        dropped,
    )
    page.wait_for_function("() => /dropped.png/.test(document.querySelector('#what').textContent)")
    ids = tile_ids(page)
    assert classes(served, ids[:TOP]) == [("yellow", "square")] * TOP
    assert page.locator("#drop-overlay").is_hidden()


def test_detail_view_shows_every_post(page, served, shots):
    shared = next(i for i, n in served.posts.items() if n == 2)
    image = served.api(f"images/{shared}")
    page.goto(f"/?image={shared}")
    dialog = page.locator("#detail")
    posts = dialog.locator(".post")
    posts.first.wait_for()
    assert posts.count() == len(image["posts"]) == 2
    for post, expected in zip(posts.all(), image["posts"], strict=True):
        assert expected["author"] in post.inner_text()
        assert expected["body"] in post.inner_text()
        assert post.get_by_role("link").get_attribute("href") == expected["url"]
    assert dialog.locator(".detail-img").get_attribute("alt") == image["caption"]
    snap(page, shots, "detail")
    page.keyboard.press("Escape")
    dialog.wait_for(state="hidden")
    assert "image=" not in page.url


def test_detail_walks_the_results_with_the_keyboard(page, served):
    page.goto("/")
    ids = search(page, "green square")
    page.locator("#grid .tile-link").first.click()
    wait_for_query(page, "image", ids[0])
    page.locator("#detail .post").first.wait_for()
    page.keyboard.press("ArrowRight")
    wait_for_query(page, "image", ids[1])
    page.keyboard.press("ArrowLeft")
    wait_for_query(page, "image", ids[0])
    page.locator("#detail").get_by_role("button", name="More like this").click()
    wait_for_query(page, "like", ids[0])
    similar = tile_ids(page)
    assert ids[0] not in similar
    assert classes(served, similar[: TOP - 1]) == [("green", "square")] * (TOP - 1)


def test_walking_past_the_last_loaded_image_loads_the_next_page(page, served):
    page.goto("/?q=shape")
    ids = tile_ids(page)
    assert len(ids) == PAGE_SIZE < len(served.truth)
    page.locator("#grid .tile-link").last.click()
    wait_for_query(page, "image", ids[-1])
    page.keyboard.press("ArrowRight")
    page.wait_for_url(lambda url: "image=" in url and ids[-1] not in url)
    shown = page.eval_on_selector_all("#grid .tile-link", "els => els.map(e => e.dataset.id)")
    assert shown[:PAGE_SIZE] == ids and len(shown) > PAGE_SIZE
    assert len(set(shown)) == len(shown)  # the scroll watcher and the detail view share a page
    assert f"image={shown[PAGE_SIZE]}" in page.url


def test_links_of_scraped_posts_must_be_web_addresses(page):
    page.goto("/")
    checked = page.evaluate(
        """async () => {
          const { safeUrl } = await import('./js/dom.js');
          return ['https://www.tiktok.com/@a/video/1', ' http://x.example/ ', 'javascript:alert(1)',
                  'data:text/html,hi', '', null].map(safeUrl);
        }"""
    )
    web = ["https://www.tiktok.com/@a/video/1", "http://x.example/"]
    assert checked == [*web, None, None, None, None]


def test_keyboard_alone_opens_and_closes_an_image(page, served):
    page.goto("/")
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "q"
    page.keyboard.type("yellow triangle")
    page.keyboard.press("Enter")
    ids = tile_ids(page)
    tile = page.locator("#grid .tile-link").first
    tile.focus()
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"  # focus is visible
    page.keyboard.press("Enter")
    wait_for_query(page, "image", ids[0])
    page.locator("#detail .post").first.wait_for()
    assert page.evaluate("document.getElementById('detail').contains(document.activeElement)")
    page.keyboard.press("Escape")
    page.locator("#detail").wait_for(state="hidden")
    assert "image=" not in page.url


def test_the_url_reproduces_the_view_after_reload(page, fitted):
    page.goto("/")
    search(page, "yellow")
    page.click("#filters summary")
    page.fill("#f-author", "user1")
    page.press("#f-author", "Enter")
    wait_for_query(page, "author", "user1")
    card = page.locator(".topic-card").first
    topic = card.get_attribute("data-topic")
    card.get_by_role("button", name=re.compile("^Exclude")).click()
    wait_for_query(page, "exclude_topic", topic)
    ids = tile_ids(page)
    assert ids
    for image_id in ids:
        image = fitted.api(f"images/{image_id}")
        assert str(image["topic"]) != topic
        assert any(p["author"] == "user1" for p in image["posts"])
    page.locator("#grid .tile-link").nth(1).click()
    wait_for_query(page, "image", ids[1])
    url = page.url

    page.reload()
    page.locator("#detail .post").first.wait_for()
    assert page.url == url
    assert tile_ids(page) == ids
    assert page.input_value("#q") == "yellow"
    assert page.input_value("#f-author") == "user1"
    excluded = page.locator(f'.topic-card[data-topic="{topic}"]')
    assert "excluded" in excluded.get_attribute("class")

    page.go_back()  # the back button closes the detail view, then undoes the exclusion
    page.locator("#detail").wait_for(state="hidden")
    page.go_back()
    page.wait_for_url(lambda u: "exclude_topic" not in u)
    assert "excluded" not in excluded.get_attribute("class")


def test_export_downloads_the_rows_of_the_view(page, served):
    page.goto("/?q=red+circle&author=user2")
    ids = tile_ids(page)
    with page.expect_download() as download:
        page.locator("#chips").get_by_role("button", name="CSV").click()
    rows = list(csv.DictReader(io.StringIO(download.value.path().read_text())))
    # Without a cut the grid ranks every image the filters match; the export holds as many.
    matched = served.api("search", q="red circle", author="user2", limit=1)["matched"]
    params = {"q": "red circle", "author": "user2", "format": "csv", "limit": matched}
    direct = httpx.get(f"{served.url}/api/export", params=params, timeout=60).text
    expected = list(csv.DictReader(io.StringIO(direct)))
    assert rows == expected
    assert rows and {r["author"] for r in rows} == {"user2"}
    assert rows[0]["image_id"] == ids[0]
    assert download.value.suggested_filename.endswith(".csv")

    with page.expect_download(  # not the CSV's manifest, which may come after the CSV
        predicate=lambda d: d.suggested_filename.endswith(".ndjson")
    ) as download:
        page.locator("#chips").get_by_role("button", name="NDJSON").click()
    lines = download.value.path().read_text().splitlines()
    assert [json.loads(line)["post_id"] for line in lines] == [r["post_id"] for r in rows]

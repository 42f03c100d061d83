"""One image carrying 50,000 posts (a 50k-member zip of one picture) keeps search responses
small: a hit has `n_posts` and its first posts, and the rest are paged in stored order from
`GET /api/images/{id}/posts` (#23 item 10)."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from cli.main import app
from picsift.settings import Settings
from picsift.store import PointData
from picsift.store.edge import EdgeStore
from search.app import create_app
from search.posts import POSTS_IN_HIT, POSTS_PAGE_MAX
from tests.conftest import point_id

N_IMAGES = 30
BIG = 50_000
MEDIUM = 2_500  # paged through to the end
T0 = 1_700_000_000


def make_posts(n: int, prefix: str, full: bool) -> list[dict]:
    """`n` posts; `full` ones have text and an extra column (lean ones, like the members of a
    zip without a post table, write to the store five times faster)."""
    posts = []
    for i in range(n):
        post = {"dataset": "big", "post_id": f"{prefix}-{i:05d}", "ts": T0 + i}
        if full:
            post |= {"author": f"user{i % 7}", "timestamp": "2024-01-01T00:00:00", "url": ""}
            post |= {"body": f"post {i} of {prefix}", "extra": {"member": f"{prefix}/{i}.jpg"}}
        posts.append(post)
    return posts


def build(path: Path, encoder) -> str:
    """A closed store of toy shapes at `path`: image 0 has 50,000 posts, image 1 2,500, the
    others one each; image 0 is the newest, so a browse lists it first. Returns a query that
    ranks image 0 high."""
    from picsift.models.toy import sample

    shapes = sample(N_IMAGES, seed=7)
    vectors = encoder.embed_images([image for image, _, _ in shapes])
    points = []
    for i in range(N_IMAGES):
        posts = make_posts({0: BIG, 1: MEDIUM}.get(i, 1), f"img{i}", full=i > 0)
        payload = {"sha256": f"{i:064x}", "posts": posts, "n_posts": len(posts)}
        payload |= {"datasets": ["big"], "first_seen": T0 - i}
        points.append(PointData(point_id(i), vectors[i], payload))
    with EdgeStore(path) as store:
        store.ensure("toy", len(vectors[0]))
        store.images.upsert(points)
    return " ".join(shapes[0][1:])


@pytest.fixture(scope="module")
def encoder():
    from picsift.models.encoder import ClipEncoder
    from picsift.models.runtime import Runtime

    return ClipEncoder("toy", runtime=Runtime("cpu", "fp32", "test"))


@pytest.fixture(scope="module")
def built(tmp_path_factory, encoder) -> tuple[Path, Path, str]:
    """The store built once, and a copy of it for the CLI (which opens and locks a store
    itself, while the API test client holds the first)."""
    root = tmp_path_factory.mktemp("posts")
    query = build(root / "served", encoder)
    shutil.copytree(root / "served", root / "cli")
    return root / "served", root / "cli", query


@pytest.fixture(scope="module")
def big(built, encoder):
    """The API over the built store, and the query."""
    path, _, query = built
    store = EdgeStore(path)
    settings = Settings(store=str(path), caption_model="none")
    with TestClient(create_app(settings, store=store, encoder=encoder)) as client:
        yield client, query
    store.close()


@pytest.fixture
def closed(built) -> tuple[Path, str]:
    _, path, query = built
    return path, query


@pytest.mark.parametrize("params", [{"limit": 50}, {"limit": 50, "q": None}])
def test_a_50k_post_image_keeps_the_search_response_small(big, params):
    client, query = big
    if "q" in params:
        params = params | {"q": query}
    response = client.get("/api/search", params=params)
    assert response.status_code == 200, response.text
    assert len(response.content) < 100_000
    hit = next(h for h in response.json()["hits"] if h["id"] == point_id(0))
    assert hit["n_posts"] == BIG
    assert len(hit["posts"]) == POSTS_IN_HIT
    assert [p["post_id"] for p in hit["posts"]] == [f"img0-{i:05d}" for i in range(POSTS_IN_HIT)]
    assert hit["posts"][0] == {
        "dataset": "big",
        "post_id": "img0-00000",
        "author": "",
        "timestamp": "",
        "url": "",
    }


def test_the_image_detail_carries_the_first_posts_and_their_count(big):
    client, _ = big
    response = client.get(f"/api/images/{point_id(0)}")
    assert response.status_code == 200, response.text
    assert len(response.content) < 100_000
    detail = response.json()
    assert detail["n_posts"] == BIG and len(detail["posts"]) == POSTS_IN_HIT
    assert [p["post_id"] for p in detail["posts"]] == [f"img0-{i:05d}" for i in range(20)]
    assert {"body", "hashtags", "extra"} <= set(detail["posts"][0])


def test_grouped_hits_are_capped_too(big):
    client, _ = big
    response = client.get("/api/search", params={"limit": 50, "group_by": "author"})
    assert response.status_code == 200, response.text
    assert len(response.content) < 100_000
    assert all(len(h["posts"]) <= POSTS_IN_HIT for h in response.json()["hits"])


def test_the_rest_of_the_posts_page_in_stored_order(big):
    client, _ = big
    url = f"/api/images/{point_id(1)}/posts"
    seen, offset = [], POSTS_IN_HIT
    while offset is not None:
        body = client.get(url, params={"offset": offset, "limit": POSTS_PAGE_MAX}).json()
        assert body["n_posts"] == MEDIUM and body["offset"] == offset
        seen += body["posts"]
        offset = body["next_offset"]
    assert [p["post_id"] for p in seen] == [f"img1-{i:05d}" for i in range(POSTS_IN_HIT, MEDIUM)]
    assert seen[0]["body"] == f"post {POSTS_IN_HIT} of img1"
    assert seen[0]["extra"] == {"member": f"img1/{POSTS_IN_HIT}.jpg"}


def test_pages_of_the_50k_post_image_are_small(big):
    client, _ = big
    url = f"/api/images/{point_id(0)}/posts"
    response = client.get(url, params={"offset": 25_000})
    body = response.json()
    assert len(response.content) < 100_000
    assert [p["post_id"] for p in body["posts"]] == [f"img0-{i:05d}" for i in range(25_000, 25_100)]
    assert body["next_offset"] == 25_100
    last = client.get(url, params={"offset": BIG - 10, "limit": POSTS_PAGE_MAX}).json()
    assert len(last["posts"]) == 10 and last["next_offset"] is None
    past = client.get(url, params={"offset": BIG + 5}).json()
    assert past["posts"] == [] and past["next_offset"] is None


@pytest.mark.parametrize(
    ("image", "params", "status", "field", "said"),
    [
        ("not-a-uuid", {}, 422, "message", "'not-a-uuid' is not an image id"),
        (point_id(999), {}, 404, "message", f"no image {point_id(999)} in the store"),
        (point_id(0), {"limit": POSTS_PAGE_MAX + 1}, 422, "parameter", "limit"),
        (point_id(0), {"offset": -1}, 422, "parameter", "offset"),
    ],
)
def test_bad_post_pages_say_why(big, image, params, status, field, said):
    client, _ = big
    response = client.get(f"/api/images/{image}/posts", params=params)
    assert response.status_code == status
    assert said in response.json()[field]


def test_cli_search_counts_every_post(closed):
    path, query = closed
    result = CliRunner().invoke(app, ["--store", str(path), "search", query, "--limit", "30"])
    assert result.exit_code == 0, result.output
    assert f"... and {BIG - 3:,} more posts" in result.output


def test_the_export_still_writes_every_post(closed, tmp_path):
    path, _ = closed
    out = tmp_path / "all.csv"
    argv = ["--store", str(path), "export", "--out", str(out), "--dataset", "big"]
    result = CliRunner().invoke(app, argv)
    assert result.exit_code == 0, result.output
    with out.open(encoding="utf-8", newline="") as fh:
        ids = [row["post_id"] for row in csv.DictReader(fh) if row["image_id"] == point_id(0)]
    assert ids == [f"img0-{i:05d}" for i in range(BIG)]
    manifest = json.loads(out.with_name(out.name + ".manifest.json").read_text())
    assert manifest["rows"] == BIG + MEDIUM + N_IMAGES - 2


@pytest.fixture(scope="module")
def chromium():
    """Headless Debian Chromium, as the browser tests drive it."""
    from playwright.sync_api import sync_playwright

    from tests.ui.conftest import CHROMIUM, CHROMIUM_ARGS

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def served_small(tmp_path_factory):
    """`picsift serve` over six toy images; the last has two posts."""
    from tests.ui.conftest import serve_corpus

    with serve_corpus(tmp_path_factory.mktemp("ui-posts"), 6) as corpus:
        yield corpus


@pytest.mark.slow
def test_the_detail_view_pages_through_the_posts(chromium, served_small):
    """The detail route is made to answer with one post of two (as a capped one does for an
    image with thousands): the view says '2 posts' and reads the second from the posts page."""
    shared = next(i for i, n in served_small.posts.items() if n == 2)
    image = served_small.api(f"images/{shared}")
    context = chromium.new_context(base_url=served_small.url)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    capped = json.dumps(image | {"posts": image["posts"][:1], "n_posts": 2})
    page.route(f"**/api/images/{shared}", lambda route: route.fulfill(body=capped))
    page.goto(f"/?image={shared}")
    dialog = page.locator("#detail")
    dialog.locator(".post").first.wait_for()
    assert dialog.locator("h3.posts-head").inner_text() == "2 posts"
    assert dialog.locator(".post").count() == 1
    more = dialog.locator("button.more-posts")
    assert more.inner_text() == "Show 1 more (1 not shown)"
    more.click()
    dialog.locator(".post").nth(1).wait_for()
    assert image["posts"][1]["body"] in dialog.locator(".post").nth(1).inner_text()
    assert more.is_hidden()
    context.close()
    assert not errors, errors

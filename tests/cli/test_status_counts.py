"""`picsift status` counts distinct posts apart from image-post links, and prints stored dataset
names as escapes."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from cli.main import app
from picsift.settings import Settings
from picsift.store.base import PointData
from picsift.store.edge import EdgeStore
from picsift.store.status import POSTS_PAGE, store_status
from tests.conftest import point_id, unit_vectors

runner = CliRunner()
HOSTILE = "evil\x1b[2J\u202egpj"  # an ESC that clears the screen, a right-to-left override


def post(dataset: str, pid: str) -> dict:
    return {"dataset": dataset, "post_id": pid, "author": "u", "body": "x" * 50, "extra": {}}


# Image -> its posts: ("a", "p1") has three images; "p1" in dataset "b" is another post; the
# last image is in a dataset by its file alone.
POSTS = [
    [post("a", "p1"), post("b", "p1")],
    [post("a", "p1")],
    [post("a", "p1"), post("a", "p2")],
    [post("a", "p2"), post(HOSTILE, "p9")],
    [post(HOSTILE, "p9")],
    [],
]
DISTINCT = 4  # (a, p1), (b, p1), (a, p2), (HOSTILE, p9)
LINKS = 8


def fill(store) -> None:
    store.ensure("toy", 8)
    vectors = unit_vectors(len(POSTS), 8)
    store.images.upsert(
        [
            PointData(
                point_id(i),
                vectors[i],
                {
                    "posts": posts,
                    "n_posts": len(posts),
                    "datasets": sorted({p["dataset"] for p in posts}) or ["a"],
                },
            )
            for i, posts in enumerate(POSTS)
        ]
    )


def test_distinct_posts_and_links_on_both_backends(make_store):
    store = make_store()
    fill(store)
    status = store_status(store, Settings(store="unused"))
    assert (status["images"], status["posts"], status["post_links"]) == (6, DISTINCT, LINKS)


def test_distinct_posts_across_pages(make_store):
    """A post whose images fall on different scroll pages is still counted once."""
    store = make_store()
    store.ensure("toy", 8)
    n = POSTS_PAGE + 5
    vectors = unit_vectors(n, 8)
    store.images.upsert(
        [
            PointData(point_id(i), vectors[i], {"posts": [post("a", "shared"), post("a", str(i))]})
            for i in range(n)
        ]
    )
    status = store_status(store, Settings(store="unused"))
    assert (status["posts"], status["post_links"]) == (n + 1, 2 * n)


def test_cli_and_api_status_count_distinct_posts_and_escape_names(tmp_path):
    with EdgeStore(tmp_path / "s") as store:
        fill(store)
    base = ["--store", str(tmp_path / "s"), "status"]
    as_json = runner.invoke(app, [*base, "--json"])
    assert as_json.exit_code == 0, as_json.output
    assert "\x1b" not in as_json.output and "\u202e" not in as_json.output
    status = json.loads(as_json.output)
    assert (status["posts"], status["post_links"]) == (DISTINCT, LINKS)
    assert status["datasets"][HOSTILE] == 2  # the JSON still reads back exactly

    human = runner.invoke(app, base).output
    assert f"posts     {DISTINCT} ({LINKS} image-post links)" in human
    assert "\x1b" not in human and "\u202e" not in human
    assert "  dataset evil\\x1b[2J\\u202egpj: 2 images" in human

    from picsift.models.encoder import ClipEncoder
    from picsift.models.runtime import Runtime
    from search.app import create_app

    encoder = ClipEncoder("toy", runtime=Runtime("cpu", "fp32", "test"), batch_size=8)
    settings = Settings(store=str(tmp_path / "s"), caption_model="none")
    with EdgeStore(tmp_path / "s") as store:
        api = create_app(settings, store=store, encoder=encoder)
        with TestClient(api) as client:
            body = client.get("/api/status").json()
    assert (body["posts"], body["post_links"]) == (DISTINCT, LINKS)

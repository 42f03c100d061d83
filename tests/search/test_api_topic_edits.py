"""Topic writes and timelines over HTTP, through the topics stage's entry points
(topics.edits, topics.timeline), on their own store (these tests change it)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from picsift.settings import Settings
from picsift.store.edge import EdgeStore
from search.app import create_app
from tests.indexer.conftest import post_id, write_4cat_zip, write_tiktok_csv
from tests.search.conftest import Truth, index_sources, write_topic_run

pytest.importorskip("topics.edits", reason="the topics stage (issue #5) has no edits yet")
pytest.importorskip("topics.timeline", reason="the topics stage (issue #5) has no timeline yet")

N = 36


@pytest.fixture(scope="module")
def edits(tmp_path_factory, toy_clip):
    root = tmp_path_factory.mktemp("edits")
    images = write_4cat_zip(root / "a.zip", N, seed=41)
    write_tiktok_csv(root / "a.csv", N + 1, images)
    store = EdgeStore(root / "store")
    index_sources(store, toy_clip, store.directory, [root / "a.zip", root / "a.csv"])
    truth = Truth()
    by_post = {post_id(i): img for i, img in enumerate(images)}
    for record in store.images.scroll():
        _, colour, shape = by_post[record.payload["posts"][0]["post_id"]]
        truth.colour[record.id], truth.shape[record.id] = colour, shape
        truth.payload[record.id] = record.payload
    write_topic_run(store, store.directory, truth)
    settings = Settings(store=str(store.directory), caption_model="none")
    with TestClient(create_app(settings, store=store, encoder=toy_clip)) as client:
        client.truth = truth
        yield client
    store.close()


def test_rename_shows_everywhere(edits):
    response = edits.patch("/api/topics/2", json={"label": "  blue things "})
    assert response.status_code == 200, response.text
    assert response.json()["label"] == "blue things" and response.json()["renamed"] is True
    assert edits.get("/api/topics/2").json()["label"] == "blue things"
    hits = edits.get("/api/search", params={"q": "blue", "topic": 2, "limit": 3}).json()["hits"]
    assert {h["topic_label"] for h in hits} == {"blue things"}


def test_merge_moves_the_images(edits):
    before = {t["topic"]: t["count"] for t in edits.get("/api/topics").json()["topics"]}
    response = edits.post("/api/topics/merge", json={"topics": [0, 3], "label": "warm colours"})
    assert response.status_code == 200, response.text
    merged = response.json()
    assert merged["label"] == "warm colours" and merged["count"] == before[0] + before[3]
    hits = edits.get(
        "/api/search", params={"q": "shape", "topic": merged["topic"], "limit": 1000}
    ).json()["hits"]
    assert {edits.truth.colour[h["id"]] for h in hits} == {"red", "yellow"}


def test_unknown_topics_cannot_be_edited(edits):
    assert edits.patch("/api/topics/77", json={"label": "x"}).status_code == 404
    response = edits.post("/api/topics/merge", json={"topics": [1, 77]})
    assert response.status_code == 404 and "77" in response.json()["message"]


def test_timeline_counts_posts_per_topic(edits):
    body = edits.get("/api/topics/timeline", params={"interval": "day"}).json()
    assert body["interval"] == "day" and body["rows"]
    total = sum(len(p["posts"]) for p in edits.truth.payload.values())
    assert sum(r["posts"] for r in body["rows"]) == total
    one = edits.get("/api/topics/timeline", params={"topic": 1}).json()["rows"]
    assert one and {r["topic"] for r in one} == {1}
    bad = edits.get("/api/topics/timeline", params={"interval": "year"})
    assert bad.status_code == 422 and bad.json()["parameter"] == "interval"


def test_export_manifest_records_renames_merges_and_the_edit_log(edits):
    assert edits.patch("/api/topics/1", json={"label": "greens"}).status_code == 200
    manifest = edits.get("/api/export/manifest", params={"topic": 1}).json()
    topics = edits.get("/api/topics").json()["topics"]
    edited = {str(t["topic"]) for t in topics if t["renamed"] or t["merged_from"]}
    assert set(manifest["topic_edits"]) == edited and "1" in edited
    assert (
        manifest["topic_edits"]["1"] | {"label": "greens", "renamed": True}
        == (manifest["topic_edits"]["1"])
    )
    merged = [t for t in topics if t["merged_from"]]
    for topic in merged:
        assert manifest["topic_edits"][str(topic["topic"])]["merged_from"] == topic["merged_from"]
    log = [(e["edit"], e["topic"]) for e in manifest["topic_edit_log"]]
    assert ("rename", 1) in log and all(("merge", t["topic"]) in log for t in merged)


def test_topic_edit_errors_name_the_field(edits):
    for response in (
        edits.patch("/api/topics/-1", json={"label": "x"}),
        edits.post("/api/topics/merge", json={"topics": [1, -1]}),
        edits.patch("/api/topics/1", json={"label": "x\u0000y"}),
        edits.post("/api/topics/merge", json={"topics": [1, 2], "label": "a\u0007b"}),
    ):
        assert response.status_code == 422, response.text
    parameters = [
        edits.patch("/api/topics/-1", json={"label": "x"}).json()["parameter"],
        edits.post("/api/topics/merge", json={"topics": [1, -1]}).json()["parameter"],
        edits.patch("/api/topics/1", json={"label": "x\u0000y"}).json()["parameter"],
        edits.post("/api/topics/merge", json={"topics": [1, 99]}).json()["parameter"],
    ]
    assert parameters == ["topic_id", "topics", "label", "topics"]
    assert "\x00" not in edits.get("/api/topics/1").json()["label"]

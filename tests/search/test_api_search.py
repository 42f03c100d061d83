"""Search over HTTP: text, filters, paging, grouping, image-to-image, images and thumbnails."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from picsift.models.toy import render
from tests.indexer.conftest import DATASET

HIT_KEYS = {
    "id",
    "score",
    "sha256",
    "topic",
    "topic_label",
    "caption",
    "video_id",  # null for an image, as frame_time
    "frame_time",
    "thumb_url",
    "n_posts",
    "engagement",  # likes, comments and shares over its posts, and how many had them
    "engagement_posts",
    "posts",
    "evidence",  # text and hybrid modes: what the rank rests on; null in image mode
}


def search(client, mode="image", **params):
    """A search ranked by the image (CLIP), which these tests are about (see test_modes.py)."""
    response = client.get("/api/search", params={"mode": mode, **params})
    assert response.status_code == 200, response.text
    return response.json()


def test_red_circle_ranks_red_circles_first(client, corpus):
    truth = corpus.truth
    body = search(client, q="red circle", limit=5)
    reds = sum(1 for i in truth.colour if (truth.colour[i], truth.shape[i]) == ("red", "circle"))
    assert reds >= 5
    assert [(truth.colour[h["id"]], truth.shape[h["id"]]) for h in body["hits"]] == [
        ("red", "circle")
    ] * 5
    hit = body["hits"][0]
    assert set(hit) == HIT_KEYS and hit["topic_label"] == "red shapes"
    assert hit["video_id"] is None and hit["frame_time"] is None  # an image, not a frame
    assert set(hit["posts"][0]) == {"dataset", "post_id", "author", "timestamp", "url"}
    assert body["query"] == "red circle" and body["next_offset"] == 5


def test_topic_filter_returns_only_that_topic(client, corpus):
    colour = corpus.truth.colour
    hits = search(client, q="circle", topic=2, limit=1000)["hits"]
    assert {colour[h["id"]] for h in hits} == {"blue"}
    assert len(hits) == sum(c == "blue" for c in colour.values())
    hits = search(client, q="circle", topic=[0, 3], limit=1000)["hits"]
    assert {colour[h["id"]] for h in hits} == {"red", "yellow"}
    hits = search(client, q="circle", exclude_topic=[0, 1], limit=1000)["hits"]
    assert {colour[h["id"]] for h in hits} == {"blue", "yellow"}


def test_filters_combine(client, corpus):
    payload = corpus.truth.payload
    params = {
        "q": "square",
        "dataset": DATASET,
        "author": ["user1", "user2"],
        "date_from": "2023-11-20",
        "date_to": "2024-01-05",
        "topic": [1, 2],
        "limit": 1000,
    }
    hits = search(client, **params)["hits"]

    def matches(image_id: str) -> bool:
        p = payload[image_id]
        posts_ok = any(
            post["dataset"] == DATASET
            and post["author"] in ("user1", "user2")
            and post["ts"] is not None
            and 1_700_438_400 <= post["ts"] < 1_704_499_200
            for post in p["posts"]
        )
        return posts_ok and DATASET in p["datasets"] and p["topic"] in (1, 2)

    expected = {i for i in payload if matches(i)}
    assert expected and {h["id"] for h in hits} == expected


def test_keyword_and_caption_filters(client, corpus):
    payload = corpus.truth.payload
    hits = search(client, q="shape", text="#farmers", limit=1000)["hits"]
    expected = {
        i for i, p in payload.items() if any("farmers" in post["hashtags"] for post in p["posts"])
    }
    assert expected and {h["id"] for h in hits} == expected
    assert search(client, q="shape", has_caption="true")["hits"] == []  # no captions here
    assert len(search(client, q="shape", has_caption="false", limit=7)["hits"]) == 7


def test_pages_do_not_repeat(client):
    pages = [search(client, q="green", limit=25, offset=o)["hits"] for o in (0, 25, 50, 75, 100)]
    ids = [h["id"] for page in pages for h in page]
    assert len(ids) == 120 and len(set(ids)) == 120
    last = search(client, q="green", limit=25, offset=100)
    assert last["next_offset"] is None and len(last["hits"]) == 20


def test_group_by_author_and_post(client, corpus):
    first = next(
        p["dataset"] for d in corpus.truth.payload.values() for p in d["posts"] if p["author"]
    )
    body = search(client, q="red", group_by="author", limit=10, dataset=first)
    firsts = []
    for hit in body["hits"]:
        posts = corpus.truth.payload[hit["id"]]["posts"]
        firsts.append(min(posts, key=lambda p: p["ts"] or 0)["author"])
    assert len(firsts) == len(set(firsts)) == 3  # user0..user2: one hit each
    anonymous = search(client, q="red", group_by="author", limit=10, dataset="second")["hits"]
    assert len(anonymous) == 10  # zip B's posts have no author: each image is its own group
    assert body["group_by"] == "author"
    grouped = search(client, q="red", group_by="post", limit=200)["hits"]
    assert 0 < len(grouped) <= 120 and len({h["id"] for h in grouped}) == len(grouped)
    second = search(client, q="red", group_by="author", limit=2, offset=1, dataset=first)["hits"]
    assert [h["id"] for h in second] == [h["id"] for h in body["hits"][1:3]]


def test_negative_terms(client, corpus):
    colour = corpus.truth.colour
    plain = search(client, q="circle", limit=30)["hits"]
    minus = search(client, q="circle", **{"not": "red"}, limit=30)["hits"]
    assert sum(colour[h["id"]] == "red" for h in minus) < sum(
        colour[h["id"]] == "red" for h in plain
    )


def test_similar_to_a_stored_image(client, corpus):
    truth = corpus.truth
    seed = next(i for i in truth.colour if (truth.colour[i], truth.shape[i]) == ("blue", "square"))
    hits = client.get(f"/api/images/{seed}/similar", params={"limit": 5}).json()["hits"]
    assert seed not in {h["id"] for h in hits}
    assert all(truth.colour[h["id"]] == "blue" for h in hits)
    mixed = client.get(f"/api/images/{seed}/similar", params={"q": "triangle", "limit": 3})
    assert all(truth.colour[h["id"]] == "blue" for h in mixed.json()["hits"])
    filtered = client.get(f"/api/images/{seed}/similar", params={"topic": 0, "limit": 5})
    assert all(truth.colour[h["id"]] == "red" for h in filtered.json()["hits"])


def png(colour: str, shape: str, size: int = 96) -> bytes:
    buffer = io.BytesIO()
    render(colour, shape, np.random.default_rng(7), size=size).save(buffer, "PNG")
    return buffer.getvalue()


def test_similar_to_an_uploaded_image(client, corpus):
    truth = corpus.truth
    files = {"file": ("query.png", png("yellow", "triangle"), "image/png")}
    response = client.post("/api/search/image", files=files, params={"limit": 5})
    assert response.status_code == 200, response.text
    hits = response.json()["hits"]
    assert [truth.colour[h["id"]] for h in hits] == ["yellow"] * 5
    with_text = client.post(
        "/api/search/image", files=files, data={"q": "circle"}, params={"topic": 3, "limit": 3}
    )
    assert {truth.colour[h["id"]] for h in with_text.json()["hits"]} == {"yellow"}
    blank = client.post("/api/search/image", files=files, data={"q": " "}, params={"limit": 2})
    assert blank.status_code == 200  # an empty text box in the form is no query


def test_image_metadata_file_and_thumbnail(client, corpus):
    image_id = next(i for i, p in corpus.truth.payload.items() if len(p["posts"]) == 2)
    body = client.get(f"/api/images/{image_id}").json()
    stored = corpus.truth.payload[image_id]
    assert body["sha256"] == stored["sha256"] and body["n_posts"] == 2
    assert {p["post_id"] for p in body["posts"]} == {p["post_id"] for p in stored["posts"]}
    assert body["posts"][0]["body"] and body["topic_label"].endswith("shapes")
    assert body["files"][0]["name"].startswith("a.zip!")
    assert "/" not in body["files"][0]["name"]  # no server folders
    original = client.get(body["file_url"])
    assert original.status_code == 200 and original.headers["content-type"] == "image/jpeg"
    assert Image.open(io.BytesIO(original.content)).size == (160, 160)
    assert original.headers["x-content-type-options"] == "nosniff"
    thumb = client.get(body["thumb_url"])
    assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/jpeg"
    assert "immutable" in thumb.headers["cache-control"]


def test_missing_thumbnail_is_made_again(client, corpus):
    from picsift.thumbs import thumb_path

    image_id, payload = next(iter(corpus.truth.payload.items()))
    path = thumb_path(corpus.store.directory, payload["sha256"])
    path.unlink()
    response = client.get(f"/api/images/{image_id}/thumb")
    assert response.status_code == 200 and path.is_file()
    assert Image.open(io.BytesIO(response.content)).size == (160, 160)


def test_unknown_image_is_404(client):
    missing = "00000000-0000-0000-0000-000000000000"
    for suffix in ("", "/file", "/thumb", "/similar"):
        response = client.get(f"/api/images/{missing}{suffix}")
        assert response.status_code == 404, suffix
        assert response.json()["parameter"] == "id"


def test_query_vectors_are_cached_across_pages_and_filters(client, corpus):
    texts = client.app.state.picsift.service.texts
    calls = []
    real = texts.encoder.embed_texts
    texts.encoder.embed_texts = lambda batch: calls.append(list(batch)) or real(batch)
    try:
        search(client, q="a yellow square", limit=5)
        search(client, q="a yellow square", limit=5, offset=5, topic=3)
        search(client, q="a yellow square", dataset="second")
    finally:
        texts.encoder.embed_texts = real
    assert calls == [["a yellow square"]]

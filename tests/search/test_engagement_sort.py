"""Sorting by engagement: every image stores its likes, comments and shares summed over its
posts (`picsift.engagement`), browsing lists the most engaged first with nothing left out, and
a ranking is sorted whole within its end (a score cut, or a text ranking's last match), each hit
keeping its score; a ranking without an end is refused, naming `sort`."""

from __future__ import annotations

import uuid

import pytest

from picsift.engagement import engaged, image_engagement, metric
from picsift.errors import InputError
from picsift.store import PointData
from search.query import SearchRequest
from search.service import SearchService
from search.sorting import by_engagement
from tests.conftest import unit_vectors
from tests.search.test_api_search import search


def _all(client, **params) -> list[dict]:
    hits, offset = [], 0
    while offset is not None:
        body = search(client, limit=17, offset=offset, **params)
        hits += body["hits"]
        offset = body["next_offset"]
    return hits


def _descending(hits: list[dict]) -> bool:
    values = [h["engagement"] for h in hits]
    return values == sorted(values, reverse=True)


def test_a_post_counts_what_it_has_and_nothing_it_lacks():
    assert engaged({"extra": {"likes": "10", "comments": "2", "shares": "1"}}) == 13
    assert engaged({"extra": {"likes": "0"}}) == 0  # a count of none is a count
    assert engaged({"extra": {"likes": "n/a", "plays": "900"}}) is None  # plays are reach
    assert engaged({"extra": {"num_likes": "7", "likes_hidden": "yes"}}) is None
    assert engaged({"extra": {"num_comments": "-1"}}) is None  # Instagram's "unknown"
    assert metric({"extra": {"views": "40"}}, ("plays", "views")) == 40
    posts = [{"extra": {"likes": "5"}}, {"extra": {}}, {"extra": {"shares": "2"}}]
    assert image_engagement(posts) == {"engagement": 7, "engagement_posts": 2}


def test_indexing_stores_each_images_engagement(corpus):
    payloads = corpus.truth.payload
    for payload in payloads.values():
        assert {k: payload[k] for k in ("engagement", "engagement_posts")} == image_engagement(
            payload["posts"]
        )
    # zip A's table has likes; zip B's posts have no counts: 0 over none of its posts
    assert {p["engagement_posts"] > 0 for p in payloads.values()} == {True, False}


def test_browsing_by_engagement_lists_every_image_most_engaged_first(client, corpus):
    hits = _all(client, sort="engagement")
    payloads = corpus.truth.payload
    assert sorted(h["id"] for h in hits) == sorted(payloads)  # none left out, none twice
    assert _descending(hits)
    assert hits[0]["engagement"] == max(p["engagement"] for p in payloads.values())
    assert hits[-1]["engagement_posts"] == 0 and hits[-1]["score"] is None


def test_a_cut_ranking_is_sorted_whole_keeping_its_scores(client):
    cut = {"q": "red circle", "min_score": 0.2}
    ranked = _all(client, **cut)
    by_engagement = _all(client, sort="engagement", **cut)
    assert 0 < len(ranked) < 120
    assert sorted(h["id"] for h in by_engagement) == sorted(h["id"] for h in ranked)
    assert _descending(by_engagement)
    scores = {h["id"]: h["score"] for h in ranked}
    assert all(h["score"] == scores[h["id"]] for h in by_engagement)
    assert by_engagement != ranked


def test_a_text_ranking_ends_where_its_words_stop_matching(client):
    ranked = _all(client, mode="text", q="farmers")
    by_engagement = _all(client, mode="text", q="farmers", sort="engagement")
    assert sorted(h["id"] for h in by_engagement) == sorted(h["id"] for h in ranked)
    assert ranked and _descending(by_engagement)


@pytest.mark.parametrize("mode", ["image", "hybrid"])
def test_a_ranking_without_an_end_is_not_sorted(client, mode):
    response = client.get(
        "/api/search", params={"q": "red circle", "mode": mode, "sort": "engagement"}
    )
    assert response.status_code == 422, response.text
    assert response.json()["parameter"] == "sort"
    assert "needs where the ranking ends" in response.json()["message"]


def test_an_unknown_sort_is_named(client):
    response = client.get("/api/search", params={"sort": "likes"})
    assert response.status_code == 422
    assert "sort" in response.text


def test_both_backends_sort_the_same_way(make_store, toy_clip):
    store = make_store()
    store.ensure("toy", 8)
    vectors = unit_vectors(30, 8)
    engagement = [(i * 7) % 11 for i in range(30)]  # ties among them
    counted = [i % 4 != 0 for i in range(30)]  # every fourth image: no counts at all
    store.images.upsert(
        [
            PointData(
                str(uuid.UUID(int=i + 1)),
                vectors[i],
                {
                    "first_seen": i,
                    "engagement": e if counted[i] else 0,
                    "engagement_posts": int(counted[i]),
                    "posts": [],
                },
            )
            for i, e in enumerate(engagement)
        ]
    )
    service = SearchService(store, toy_clip)
    seen = []
    for offset in range(0, 30, 7):
        page = service.browse(SearchRequest(sort="engagement", limit=7, offset=offset))
        seen += page.hits
    with_counts = sorted((e for e, c in zip(engagement, counted, strict=True) if c), reverse=True)
    assert [h["engagement"] for h in seen[: len(with_counts)]] == with_counts
    # an image without counts is no zero: after every counted one (zeros too), newest first
    rest = seen[len(with_counts) :]
    assert [h["id"] for h in rest] == [
        str(uuid.UUID(int=i + 1)) for i in (28, 24, 20, 16, 12, 8, 4, 0)
    ]
    assert {h["engagement_posts"] for h in rest} == {0} and 0 in with_counts
    assert len({h["id"] for h in seen}) == 30
    first = str(uuid.UUID(int=1))
    ranked = service.similar(first, SearchRequest(min_score=0.0, limit=30))
    by_engagement = service.similar(
        first, SearchRequest(min_score=0.0, limit=30, sort="engagement")
    )
    assert 0 < len(ranked.hits) < 29
    assert {h["id"] for h in by_engagement.hits} == {h["id"] for h in ranked.hits}
    values = [h["engagement"] for h in by_engagement.hits]
    assert values == sorted(values, reverse=True)


def _post(dataset: str, author: str, likes: int) -> dict:
    return {
        "dataset": dataset,
        "post_id": f"{dataset}-{likes}",
        "author": author,
        "extra": {"likes": str(likes)},
    }


def test_post_filters_sum_only_the_posts_they_select(make_store, toy_clip):
    store = make_store()
    store.ensure("toy", 8)
    vectors = unit_vectors(2, 8)
    everywhere = [_post("march", "ann", 100), _post("april", "bob", 1)]
    once = [_post("april", "cy", 50)]
    store.images.upsert(
        [
            PointData(
                str(uuid.UUID(int=i + 1)),
                vectors[i],
                {"first_seen": i, "posts": posts}
                | image_engagement(posts)
                | {"datasets": sorted({p["dataset"] for p in posts})},
            )
            for i, posts in enumerate([everywhere, once])
        ]
    )
    service = SearchService(store, toy_clip)
    overall = service.browse(SearchRequest(sort="engagement")).hits
    assert [h["engagement"] for h in overall] == [101, 50]
    april = service.browse(SearchRequest(sort="engagement", datasets=("april",))).hits
    assert [(h["id"], h["engagement"]) for h in april] == [
        (str(uuid.UUID(int=2)), 50),
        (str(uuid.UUID(int=1)), 1),
    ]
    by_bob = service.browse(SearchRequest(sort="engagement", authors=("bob",))).hits
    assert [(h["engagement"], h["engagement_posts"]) for h in by_bob] == [(1, 1)]


def test_a_text_ranking_cut_at_its_depth_is_not_sorted_short(make_store):
    store = make_store()
    with pytest.raises(InputError, match=r"sort: more images match than the ranking holds"):
        by_engagement(store, [], SearchRequest(sort="engagement"), True, capped=True)

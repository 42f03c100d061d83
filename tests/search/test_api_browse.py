"""Browsing without a query: `GET /api/search` with filters only lists the matching images,
newest first (by first seen, ties by id), paged like a search, with no score."""

from __future__ import annotations

import pytest

from tests.indexer.conftest import DATASET
from tests.search.test_api_search import HIT_KEYS, search


def newest_first(payload: dict[str, dict], ids) -> list[str]:
    return sorted(ids, key=lambda i: (-payload[i]["first_seen"], i))


def test_browsing_a_topic_returns_exactly_its_images(client, corpus):
    colour = corpus.truth.colour
    body = search(client, topic=2, limit=1000)
    assert {h["id"] for h in body["hits"]} == {i for i, c in colour.items() if c == "blue"}
    assert body["query"] == "" and body["next_offset"] is None
    hit = body["hits"][0]
    assert set(hit) == HIT_KEYS and hit["score"] is None and hit["topic_label"] == "blue shapes"
    assert set(hit["posts"][0]) == {"dataset", "post_id", "author", "timestamp", "url"}


@pytest.mark.parametrize("limit", [17, 50])
def test_pages_cover_everything_newest_first_without_repeats(client, corpus, limit):
    payload = corpus.truth.payload
    seen, offset = [], 0
    while offset is not None:
        body = search(client, q="", limit=limit, offset=offset)
        assert len(body["hits"]) <= limit
        seen += [h["id"] for h in body["hits"]]
        offset = body["next_offset"]
    assert seen == newest_first(payload, payload)
    assert len({payload[i]["first_seen"] for i in seen}) < len(seen)  # ties were paged too


def test_filters_combine_when_browsing(client, corpus):
    payload = corpus.truth.payload
    params = {"dataset": DATASET, "date_from": "2023-11-20", "exclude_topic": [0], "limit": 1000}
    hits = search(client, **params)["hits"]

    def matches(p: dict) -> bool:
        return p["topic"] != 0 and any(
            post["dataset"] == DATASET and post["ts"] is not None and post["ts"] >= 1_700_438_400
            for post in p["posts"]
        )

    expected = [i for i in newest_first(payload, payload) if matches(payload[i])]
    assert expected and len(expected) < len(payload)
    assert [h["id"] for h in hits] == expected


def test_grouped_browsing_keeps_one_image_per_author(client, corpus):
    payload = corpus.truth.payload
    hits = search(client, group_by="author", dataset=DATASET, limit=100)["hits"]
    firsts = [min(payload[h["id"]]["posts"], key=lambda p: p["ts"] or 0)["author"] for h in hits]
    assert len(firsts) == len(set(firsts)) > 1
    second = search(client, group_by="author", dataset=DATASET, limit=1, offset=1)["hits"]
    assert [h["id"] for h in second] == [hits[1]["id"]]


def test_unknown_topic_and_subtracting_without_a_query_are_named(client):
    for params, parameter in (({"topic": 42}, "topic"), ({"not": "red"}, "q")):
        response = client.get("/api/search", params=params)
        assert response.status_code == 422 and response.json()["parameter"] == parameter

"""Export with `group_by`, as search groups; what the manifest says about the ranking."""

from __future__ import annotations

import json

import pytest


def _search_ids(client, **params) -> list[str]:
    response = client.get("/api/search", params={"limit": 1000, **params})
    assert response.status_code == 200, response.text
    return [h["id"] for h in response.json()["hits"]]


def _export_ids(client, **params) -> list[str]:
    response = client.get("/api/export", params={"format": "ndjson", **params})
    assert response.status_code == 200, response.text
    ids = [json.loads(line)["image_id"] for line in response.text.splitlines()]
    return list(dict.fromkeys(ids))


@pytest.mark.parametrize("group_by", ["author", "post"])
@pytest.mark.parametrize("q", ["red", None])
def test_export_groups_like_search(client, group_by, q):
    params = {"group_by": group_by} | ({"q": q, "min_score": -1} if q else {})
    expected = _search_ids(client, **params)
    assert _export_ids(client, **params) == expected
    assert _export_ids(client, limit=2, **params) == expected[:2]
    manifest = client.get("/api/export/manifest", params=params).json()
    assert manifest["images"] == len(expected)
    assert f"one image per {group_by}" in manifest["selection"]
    assert manifest["filters"]["group_by"] == group_by


def test_one_image_per_author_is_fewer_images(client):
    assert len(_export_ids(client, group_by="author")) < len(_export_ids(client))


def test_bad_group_by_is_refused(client):
    response = client.get("/api/export", params={"group_by": "day"})
    assert response.status_code == 422 and response.json()["parameter"] == "group_by"


def test_manifest_says_how_the_ranking_was_searched_and_what_the_store_held(client, corpus):
    params = {"q": "red", "limit": 50, "mode": "image"}
    manifest = client.get("/api/export/manifest", params=params).json()
    assert "approximate (HNSW) search with ef 100" in manifest["selection"]
    assert "deeper ranks by exact search" in manifest["selection"]
    assert manifest["store"]["images"] == len(corpus.truth.colour)
    assert sum(manifest["store"]["images_per_dataset"].values()) >= len(corpus.truth.colour)

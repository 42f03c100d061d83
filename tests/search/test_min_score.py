"""A ranked set has an edge: `min_score` ends a ranking, `matched` counts it, `relevance` says
where the strong matches end, and an export of a ranking must say where to cut it. These are
the image ranking's (mode=image, the cosine); text and hybrid modes are in test_modes.py."""

from __future__ import annotations

import json

import pytest

from picsift.errors import InputError
from search import matches
from search.query import SearchRequest
from search.service import SearchService
from tests.search.test_api_search import png


def search(client, mode="image", **params) -> dict:
    response = client.get("/api/search", params={"mode": mode, **params})
    assert response.status_code == 200, response.text
    return response.json()


def cut_between(hits: list[dict], rank: int) -> float:
    """A score halfway between the hit at `rank` (kept) and the first lower one (dropped),
    so no hit sits on the threshold itself."""
    kept = hits[rank]["score"]
    lower = next(h["score"] for h in hits[rank:] if h["score"] < kept)
    return (kept + lower) / 2


def test_min_score_ends_the_ranking(client):
    whole = search(client, q="red circle", limit=200)
    assert whole["matched"] == 120 and whole["min_score"] is None
    cut = cut_between(whole["hits"], 20)
    above = [h["id"] for h in whole["hits"] if h["score"] >= cut]
    body = search(client, q="red circle", limit=200, min_score=cut)
    assert [h["id"] for h in body["hits"]] == above and 20 < len(above) < 120
    assert body["min_score"] == cut and body["matched"] == len(above)
    assert body["matched_capped"] is False and body["next_offset"] is None


def test_pages_with_min_score_partition_one_ranking(client):
    cut = cut_between(search(client, q="green", limit=200)["hits"], 40)
    whole = search(client, q="green", limit=200, min_score=cut)
    ids, offset = [], 0
    while offset is not None:
        page = search(client, q="green", limit=7, offset=offset, min_score=cut)
        ids += [h["id"] for h in page["hits"]]
        assert page["matched"] == whole["matched"]
        offset = page["next_offset"]
    assert ids == [h["id"] for h in whole["hits"]] and len(ids) == whole["matched"] > 40


def test_grouped_search_with_min_score_keeps_the_groups_above_it(client):
    grouped = search(client, q="blue", group_by="author", limit=200)["hits"]
    cut = cut_between(search(client, q="blue", limit=200)["hits"], 30)
    body = search(client, q="blue", group_by="author", limit=200, min_score=cut)
    want = [h["id"] for h in grouped if h["score"] >= cut]
    assert [h["id"] for h in body["hits"]] == want and 0 < len(want) < len(grouped)


def test_image_searches_take_min_score_and_count_matches(client, corpus):
    files = {"file": ("query.png", png("yellow", "triangle"), "image/png")}
    whole = client.post("/api/search/image", files=files, params={"limit": 200}).json()
    cut = cut_between(whole["hits"], 10)
    body = client.post(
        "/api/search/image", files=files, params={"limit": 200, "min_score": cut}
    ).json()
    assert [h["id"] for h in body["hits"]] == [h["id"] for h in whole["hits"] if h["score"] >= cut]
    assert body["matched"] == len(body["hits"]) and whole["matched"] == 120
    assert body["relevance"] is None and whole["relevance"] is None  # text queries only
    seed = body["hits"][0]["id"]
    url = f"/api/images/{seed}/similar"
    similar = client.get(url, params={"limit": 200}).json()
    assert similar["matched"] == 119  # itself left out
    cut = cut_between(similar["hits"], 5)
    near = client.get(url, params={"limit": 200, "min_score": cut}).json()
    assert [h["id"] for h in near["hits"]] == [
        h["id"] for h in similar["hits"] if h["score"] >= cut
    ]
    assert near["matched"] == len(near["hits"]) and near["relevance"] is None


def test_matched_counts_the_filters_without_min_score(client, corpus):
    greens = sum(c == "green" for c in corpus.truth.colour.values())
    assert search(client, q="circle", topic=1, limit=3)["matched"] == greens
    browse = search(client, topic=1, limit=3)
    assert browse["matched"] == greens and browse["relevance"] is None
    second = sum("second" in p["datasets"] for p in corpus.truth.payload.values())
    assert search(client, dataset="second", limit=3)["matched"] == second


def test_matched_is_capped(corpus, monkeypatch):
    monkeypatch.setattr(matches, "MATCH_COUNT_CAP", 25)
    service = SearchService(corpus.store, corpus.encoder)
    ranked = service.search(SearchRequest(q=("red",), min_score=-1.0))
    assert (ranked.matched, ranked.matched_capped) == (25, True)
    plain = service.search(SearchRequest(q=("red",), mode="image"))
    assert (plain.matched, plain.matched_capped) == (120, False)  # a filter count is exact


def test_relevance_of_a_text_query(client):
    body = search(client, q="red circle", limit=3)
    relevance = body["relevance"]
    assert set(relevance) == {
        "edge",
        "strong",
        "strong_capped",
        "verdict",
        "median",
        "histogram",
        "sample",
        "method",
    }
    assert relevance["sample"] == 120 == sum(relevance["histogram"]["counts"])
    assert relevance["histogram"]["lo"] <= relevance["median"] <= relevance["histogram"]["hi"]
    above = search(client, q="red circle", limit=200, min_score=relevance["edge"])
    assert relevance["strong"] == above["matched"] > 0
    assert relevance["method"].startswith("An image is a strong match")


@pytest.mark.parametrize(
    ("q", "strong"),
    [("tractor", False), ("helicopter", False), ("red circle", True), ("green triangle", True)],
)
def test_verdict_says_whether_anything_stands_out(client, q, strong):
    verdict = search(client, q=q, limit=3)["relevance"]["verdict"]
    assert verdict.startswith("no strong matches") is not strong, verdict


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/api/search", {"q": "red", "min_score": 1.5}),
        ("/api/search", {"q": "red", "min_score": -2}),
        ("/api/search", {"q": "red", "min_score": "nan"}),
        ("/api/search", {"q": "red", "min_score": "high"}),
        ("/api/search", {"min_score": 0.2}),  # browsing has no scores
        ("/api/export", {"q": "red", "min_score": 3}),
        ("/api/export", {"min_score": 0.2}),
    ],
)
def test_bad_min_score_is_a_422_naming_it(client, path, params):
    response = client.get(path, params=params)
    assert response.status_code == 422, response.text
    assert response.json()["parameter"] == "min_score"


def test_min_score_outside_the_api_is_checked_too(corpus):
    service = SearchService(corpus.store, corpus.encoder)
    with pytest.raises(InputError, match=r"min_score: a cosine similarity, within -1\.\.1"):
        service.search(SearchRequest(q=("red",), min_score=float("nan")))


@pytest.mark.parametrize("path", ["/api/export", "/api/export/manifest"])
def test_export_of_a_ranking_without_a_cut_is_refused(client, path):
    response = client.get(path, params={"q": "red circle", "mode": "image"})
    assert response.status_code == 422
    body = response.json()
    assert body["parameter"] == "limit"
    assert body["message"].startswith(
        "limit: export of a ranked query needs a cut: limit=N (the best N) and/or min_score=S"
    )
    edge = search(client, q="red circle", limit=1)["relevance"]["edge"]
    assert f"the strong-match edge for this query is {edge:.2f}" in body["message"]
    assert client.get(path, params={"topic": 0}).status_code == 200  # browsing needs no cut


def test_export_with_min_score_writes_the_images_above_it(client):
    ranking = search(client, q="red circle", limit=200)["hits"]
    cut = cut_between(ranking, 15)
    params = {"q": "red circle", "min_score": cut, "format": "ndjson", "mode": "image"}
    rows = [json.loads(line) for line in client.get("/api/export", params=params).iter_lines()]
    ids = list(dict.fromkeys(r["image_id"] for r in rows))
    assert ids == [h["id"] for h in ranking if h["score"] >= cut]
    assert min(r["score"] for r in rows) >= cut
    both = client.get("/api/export", params={**params, "limit": 5}).iter_lines()
    assert list(dict.fromkeys(json.loads(line)["image_id"] for line in both)) == ids[:5]


def test_manifest_records_the_cut(client):
    relevance = search(client, q="green triangle", limit=1)["relevance"]
    params = {"q": "green triangle", "min_score": 0.3, "limit": 40, "mode": "image"}
    manifest = client.get("/api/export/manifest", params=params).json()
    assert manifest["cut"] == {
        "limit": 40,
        "min_score": 0.3,
        "depth_reached": None,  # a text or hybrid ranking's
        "edge": relevance["edge"],
        "strong": relevance["strong"],
        "strong_capped": False,
        "verdict": relevance["verdict"],
        "method": relevance["method"],
    }
    assert "min_score" not in manifest["filters"]
    assert "scoring at least 0.3" in manifest["selection"]
    browse = client.get("/api/export/manifest", params={"topic": 2}).json()["cut"]
    assert browse["limit"] is None and browse["edge"] is None and browse["verdict"] is None


def test_calibration_and_counts_follow_the_store(tmp_path, toy_clip, monkeypatch):
    from picsift.store import PointData
    from search import matches

    monkeypatch.setattr(matches, "SIZE_CHECK_S", 0.0)  # look at the size on every query
    from picsift.store.edge import EdgeStore
    from tests.conftest import point_id, unit_vectors

    vectors = unit_vectors(80, toy_clip.dim, seed=2)
    with EdgeStore(tmp_path / "s") as store:
        store.ensure("toy", toy_clip.dim)
        store.images.upsert([PointData(point_id(i), vectors[i], {}) for i in range(60)])
        service = SearchService(store, toy_clip)
        request = SearchRequest(q=("red",), tags=("x",))
        first = service.search(request)
        assert (first.matched, first.relevance["sample"]) == (0, 60)
        store.images.upsert([PointData(point_id(i), vectors[i], {}) for i in range(60, 80)])
        grown = service.search(request)  # more images: calibrated again
        assert grown.relevance["sample"] == 80
        store.images.set_payload([point_id(i) for i in range(10)], {"tags": ["x"]})
        service.invalidate()  # what the API does when a job or an edit changed payloads
        assert service.search(request).matched == 10


def test_the_store_size_is_looked_at_once_in_a_while(tmp_path, toy_clip, monkeypatch):
    """An exact count costs 10 ms at 100k images: not on every query (it was twice)."""
    from picsift.store import PointData
    from picsift.store.edge import EdgeStore
    from tests.conftest import point_id, unit_vectors

    vectors = unit_vectors(60, toy_clip.dim, seed=3)
    with EdgeStore(tmp_path / "s") as store:
        store.ensure("toy", toy_clip.dim)
        store.images.upsert([PointData(point_id(i), vectors[i], {}) for i in range(60)])
        service = SearchService(store, toy_clip)
        counted = []
        real_count = store.images.count

        def count(flt=None):
            counted.append(flt)
            return real_count(flt)

        monkeypatch.setattr(store.images, "count", count)
        for query in ("red", "blue", "green circle"):
            service.search(SearchRequest(q=(query,)))
        # once each: the size, the calibration's image count, the unfiltered match count
        assert counted.count(None) <= 3


def test_strong_is_what_a_cut_at_the_edge_shows(client):
    found = client.get("/api/search", params={"q": "red circle", "mode": "image"}).json()
    found = found["relevance"]
    assert found["strong"] > 0 and not found["strong_capped"]
    params = {"q": "red circle", "min_score": found["edge"], "limit": 200}
    cut = client.get("/api/search", params=params).json()
    assert len(cut["hits"]) == cut["matched"] == found["strong"]

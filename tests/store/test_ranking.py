"""Paging a query: every page is a slice of one ranking, also where HNSW answers."""

from __future__ import annotations

import numpy as np
import pytest

from picsift.store import filters as f
from picsift.store import ranking
from picsift.store.base import PointData
from picsift.store.edge import EdgeStore
from tests.conftest import point_id, unit_vectors

pytestmark = [
    pytest.mark.filterwarnings("ignore:Payload indexes have no effect"),
    pytest.mark.filterwarnings("ignore:Local mode performs exact"),
]


def clustered(n: int, dim: int, seed: int = 5) -> np.ndarray:
    """Unit vectors in clusters of a subspace plus noise, dense in near-ties like CLIP's."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(40, 48))
    local = centres[rng.integers(0, 40, n)] + 0.35 * rng.normal(size=(n, 48))
    vectors = local @ rng.normal(size=(48, dim)) + 0.5 * rng.normal(size=(n, dim))
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)


def hnsw_store(path, vectors: np.ndarray) -> EdgeStore:
    """An embedded store past the indexing threshold (10 MB of vectors), so an HNSW index
    answers; a sparse graph (m=4) makes each approximate search see different candidates."""
    store = EdgeStore(path, hnsw_m=4, hnsw_ef_construct=8)
    store.ensure("toy", vectors.shape[1])
    for start in range(0, len(vectors), 2000):
        store.images.upsert(
            [
                PointData(point_id(i), vectors[i], {"i": i})
                for i in range(start, min(start + 2000, len(vectors)))
            ]
        )
    store.images.optimize()
    return store


def _paged(collection, query, size: int, depth: int, **kw) -> list[str]:
    return [
        h.id
        for offset in range(0, depth, size)
        for h in collection.ranking(query, limit=size, offset=offset, **kw)
    ]


def test_pages_on_an_hnsw_index_partition_one_ranking(tmp_path):
    vectors = clustered(12_000, 512)
    with hnsw_store(tmp_path / "s", vectors) as store:
        for query in vectors[:5]:
            whole = [h.id for h in store.images.ranking(query, limit=1200, with_payload=False)]
            assert len(set(whole)) == 1200
            for size in (20, 150):  # 150 crosses both window edges inside a page
                assert _paged(store.images, query, size, 1200, with_payload=False) == whole
            # the engine's own paging repeats hits here: the reason for `ranking`
            plain = [
                h.id
                for offset in range(0, 200, 20)
                for h in store.images.query(query, limit=20, offset=offset, with_payload=False)
            ]
            assert len(set(plain)) < len(plain)


def test_ranking_pages_are_the_exact_order_on_both_backends(make_store, monkeypatch):
    monkeypatch.setattr(ranking, "RANK_WINDOWS", (10, 50))  # small windows: all three stages
    store = make_store()
    store.ensure("toy", 16)
    vectors = unit_vectors(300, 16, seed=2)
    store.images.upsert(
        [PointData(point_id(i), v, {"i": i, "odd": i % 2}) for i, v in enumerate(vectors)]
    )
    query = vectors[0]
    exact = [point_id(int(i)) for i in np.argsort(-(vectors @ query), kind="stable")]
    assert _paged(store.images, query, 7, 300, with_payload=False) == exact
    odd = f.Filter(must=(f.Match("odd", 1),))
    hits = [
        h
        for o in range(0, 160, 40)
        for h in store.images.ranking(query, filter=odd, limit=40, offset=o)
    ]
    odd_ids = {point_id(i) for i in range(1, 300, 2)}
    assert [h.id for h in hits] == [i for i in exact if i in odd_ids]
    assert all(h.payload["odd"] == 1 for h in hits)
    assert store.images.ranking(query, limit=5, offset=300) == []


def test_tied_scores_are_ranked_by_id_on_every_page(make_store, monkeypatch):
    """Copies of one vector score exactly alike; the engine orders such ties differently for
    different limits, which once moved a tied point across a page edge at rank 1,011."""
    monkeypatch.setattr(ranking, "RANK_WINDOWS", (10, 50))
    store = make_store()
    store.ensure("toy", 16)
    distinct = unit_vectors(60, 16, seed=4)
    vectors = np.repeat(distinct, 5, axis=0)  # five points for each score
    order = np.random.default_rng(1).permutation(len(vectors))  # ids unrelated to ties
    store.images.upsert([PointData(point_id(int(order[i])), v, {}) for i, v in enumerate(vectors)])
    query = distinct[0]
    scores = vectors @ query
    expected = [
        point_id(int(order[i]))
        for i in sorted(range(len(vectors)), key=lambda i: (-scores[i], point_id(int(order[i]))))
    ]
    for size in (7, 13, 64):
        assert _paged(store.images, query, size, 300, with_payload=False) == expected


def test_a_window_short_of_its_size_does_not_end_the_ranking(make_store, monkeypatch):
    """A sparse HNSW graph can reach fewer points than a window asks for (189 of 1,100 in one
    run); the ranking must go on by exact search instead of ending there."""
    monkeypatch.setattr(ranking, "RANK_WINDOWS", (10, 50))
    store = make_store()
    store.ensure("toy", 16)
    vectors = unit_vectors(200, 16, seed=3)
    store.images.upsert([PointData(point_id(i), v, {}) for i, v in enumerate(vectors)])
    engine_query = store.images.query

    def short_of_size(vector, *, exact=False, limit=10, **kw):
        hits = engine_query(vector, exact=exact, limit=limit, **kw)
        return hits if exact else hits[: limit // 2]

    monkeypatch.setattr(store.images, "query", short_of_size)
    query = vectors[0]
    exact = [point_id(int(i)) for i in np.argsort(-(vectors @ query), kind="stable")]
    ranked = [h.id for h in store.images.ranking(query, limit=200, with_payload=False)]
    assert sorted(ranked) == sorted(exact)
    assert _paged(store.images, query, 9, 200, with_payload=False) == ranked

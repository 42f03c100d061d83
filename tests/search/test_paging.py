"""Search pages on a store big enough for HNSW: pages are slices of one ranking."""

from __future__ import annotations

from dataclasses import replace

from picsift.store import PointData
from search.grouping import first_of_groups
from search.query import SearchRequest
from search.service import SearchService
from tests.conftest import point_id, unit_vectors
from tests.store.test_ranking import clustered, hnsw_store


def test_similar_pages_concatenate_to_the_top_hits_without_repeats(tmp_path):
    vectors = clustered(12_000, 512, seed=7)
    with hnsw_store(tmp_path / "s", vectors) as store:
        service = SearchService(store, encoder=None)
        for image in (point_id(0), point_id(11)):
            whole = service.similar(image, SearchRequest(limit=500)).hits
            pages = [
                hit
                for offset in range(0, 500, 50)
                for hit in service.similar(image, SearchRequest(limit=50, offset=offset)).hits
            ]
            assert [h["id"] for h in pages] == [h["id"] for h in whole]
            assert len({h["id"] for h in pages}) == 500
            assert image not in {h["id"] for h in pages}


def test_grouped_scans_read_contiguous_growing_batches(tmp_path):
    vectors = clustered(12_000, 512, seed=3)
    with hnsw_store(tmp_path / "s", vectors) as store:
        reads: list[tuple[int, int]] = []

        def fetch(limit: int, offset: int) -> list:
            reads.append((offset, limit))
            return store.images.ranking(vectors[0], limit=limit, offset=offset)

        firsts = list(first_of_groups(fetch, "author", scan_max=6000))
        assert len({h.id for h in firsts}) == len(firsts) == 6000  # no posts: one group each
        assert [h.id for h in firsts] == [
            h.id for h in store.images.ranking(vectors[0], limit=6000)
        ]
        assert reads == [(0, 200), (200, 400), (600, 800), (1400, 1600), (3000, 3000)]


def _cut_at(hits: list, rank: int) -> float:
    """A score between the hit at `rank` and the next lower one (none on the threshold)."""
    lower = next(h.score for h in hits[rank:] if h.score < hits[rank].score)
    return (hits[rank].score + lower) / 2


def test_a_score_threshold_cuts_one_ranking_where_hnsw_answers(tmp_path):
    vectors = clustered(12_000, 512, seed=9)
    with hnsw_store(tmp_path / "s", vectors) as store:
        service = SearchService(store, encoder=None)
        image = point_id(3)
        whole = [
            hit
            for offset in range(0, 3000, 1000)
            for hit in service.similar(image, SearchRequest(limit=1000, offset=offset)).hits
        ]
        exact = store.images.query(vectors[3], limit=3000, exact=True, with_payload=False)
        cut = _cut_at(exact, 1500)  # past the approximate windows: the exact stage ends it
        request = SearchRequest(limit=250, min_score=cut)
        pages = [
            hit
            for offset in range(0, 2000, 250)
            for hit in service.similar(image, replace(request, offset=offset)).hits
        ]
        assert [h["id"] for h in pages] == [h["id"] for h in whole if h["score"] >= cut]
        assert len(pages) == 1500  # 1,501 at or above it, less the image itself
        assert service.similar(image, request).matched == 1500


def test_score_threshold_on_both_backends(make_store):
    store = make_store()
    store.ensure("toy", 32)
    vectors = unit_vectors(1500, 32, seed=4)
    store.images.upsert([PointData(point_id(i), v, {}) for i, v in enumerate(vectors)])
    full = store.images.ranking(vectors[0], limit=1500, with_payload=False)
    cut = _cut_at(full, 1200)
    cut_ranking = store.images.ranking(
        vectors[0], limit=1500, with_payload=False, score_threshold=cut
    )
    assert [h.id for h in cut_ranking] == [h.id for h in full if h.score >= cut]
    assert len(cut_ranking) > 1200

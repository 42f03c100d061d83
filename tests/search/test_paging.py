"""Search pages on a store big enough for HNSW: pages are slices of one ranking."""

from __future__ import annotations

from search.query import SearchRequest
from search.service import SearchService, first_of_groups
from tests.conftest import point_id
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

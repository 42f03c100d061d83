"""Paging by a field, newest first with ties by id (browsing without a query), on both
backends."""

from __future__ import annotations

import pytest

from picsift.store import filters as f
from picsift.store.base import PointData
from tests.conftest import point_id, unit_vectors

pytestmark = [
    pytest.mark.filterwarnings("ignore:Payload indexes have no effect"),
    pytest.mark.filterwarnings("ignore:Local mode performs exact"),
]

N = 150


def _store(make_store):
    store = make_store()
    store.ensure("toy", 8)
    vectors = unit_vectors(N, 8, 1)
    # 23 distinct times over 150 points: every value is shared by six or seven points.
    points = [
        PointData(point_id(i), vectors[i], {"first_seen": 1_700_000_000 + (i * 7) % 23 * 3600})
        for i in range(N)
    ]
    for i, point in enumerate(points):
        point.payload["topic"] = i % 3
    store.images.upsert(points)
    store.images.optimize()
    return store, {p.id: p.payload for p in points}


@pytest.mark.parametrize("page_size", [4, 25, 1000])
def test_pages_follow_newest_first_ties_by_id_without_gaps(make_store, page_size):
    store, payloads = _store(make_store)
    only = f.Filter(must=(f.MatchAny("topic", (0, 2)),))
    expected = sorted(
        (i for i, p in payloads.items() if p["topic"] in (0, 2)),
        key=lambda i: (-payloads[i]["first_seen"], i),
    )
    got = []
    for offset in range(0, len(expected) + page_size, page_size):
        page = store.images.newest("first_seen", only, limit=page_size, offset=offset)
        assert len(page) == min(page_size, max(0, len(expected) - offset))
        got += [r.id for r in page]
    assert got == expected
    assert store.images.newest("first_seen", only, limit=5, offset=len(expected)) == []


def test_newest_returns_asked_payload_and_skips_points_without_the_field(make_store):
    store, payloads = _store(make_store)
    store.images.delete_payload_keys([point_id(0)], ["first_seen"])
    page = store.images.newest("first_seen", limit=N, with_payload=["topic"])
    assert len(page) == N - 1 and point_id(0) not in {r.id for r in page}
    assert all(r.payload == {"topic": payloads[r.id]["topic"]} for r in page)
    empty = f.Filter(must=(f.Match("topic", 9),))
    assert store.images.newest("first_seen", empty, limit=10) == []

"""One suite, both backends: every test here runs on Qdrant Edge and on qdrant-client."""

from __future__ import annotations

import numpy as np
import pytest

from picsift.errors import ModelMismatchError, StoreError
from picsift.store import filters as f
from picsift.store.base import PointData
from tests.conftest import point_id, unit_vectors

pytestmark = [
    pytest.mark.filterwarnings("ignore:Payload indexes have no effect"),
    pytest.mark.filterwarnings("ignore:Local mode performs exact"),
]

DIM = 16


def _posts(i: int) -> list[dict]:
    posts = [
        {
            "dataset": "tiktok-a" if i % 2 else "tiktok-b",
            "post_id": str(7321692663852404001 + i),
            "author": f"user{i % 7}",
            "ts": 1_700_000_000 + i * 3600,
            "body": "tractor protest in the city" if i % 10 == 0 else "just a post",
            "hashtags": ["farmers"] if i % 3 == 0 else [],
        }
    ]
    if i % 5 == 0:  # some images circulated in a second dataset
        posts.append({**posts[0], "dataset": "telegram", "post_id": f"t{i}"})
    return posts


def _points(n: int, seed: int = 0) -> list[PointData]:
    vectors = unit_vectors(n, DIM, seed)
    return [
        PointData(
            point_id(i),
            vectors[i],
            {
                "sha256": f"{i:064x}",
                "posts": _posts(i),
                "n_posts": len(_posts(i)),
                "topic": i % 4,
                "caption": f"a red circle number {i}" if i % 4 == 0 else None,
            },
        )
        for i in range(n)
    ]


def test_ensure_records_model_and_schema(make_store):
    store = make_store()
    assert not store.exists
    with pytest.raises(StoreError, match="index some images first"):
        _ = store.images
    meta = store.ensure("sentence-transformers/clip-ViT-B-32", DIM)
    assert meta.vector_name == "clip-ViT-B-32"
    assert (meta.schema_version, meta.text_languages) == (2, ("german", "english"))
    assert store.images.metadata()["model"] == "sentence-transformers/clip-ViT-B-32"
    assert make_store().meta == meta


def test_other_model_is_a_clear_error(make_store):
    make_store().ensure("toy", DIM)
    store = make_store()
    with pytest.raises(ModelMismatchError, match=r"built with model 'toy'.*not 'clip-ViT-B-32'"):
        store.ensure("clip-ViT-B-32", 512)
    with pytest.raises(ModelMismatchError, match="16-d"):
        store.check_model("toy", 32)
    store.check_model("toy", DIM)


def test_10k_upserts_then_filtered_query_returns_only_matches(make_store):
    store = make_store()
    store.ensure("toy", DIM)
    points = _points(10_000)
    for start in range(0, len(points), 1000):
        store.images.upsert(points[start : start + 1000])
    store.images.optimize()
    assert store.images.count() == 10_000

    only_a = f.Filter(must=(f.Match("posts[].dataset", "tiktok-a"),))
    hits = store.images.query(points[3].vector, filter=only_a, limit=50)
    assert len(hits) == 50
    assert all(any(p["dataset"] == "tiktok-a" for p in h.payload["posts"]) for h in hits)
    assert hits[0].id == point_id(3) and hits[0].score == pytest.approx(1.0, abs=1e-4)

    # topics 1 or 2, not in telegram, in a time window
    flt = f.Filter(
        must=(
            f.MatchAny("topic", (1, 2)),
            f.Range("posts[].ts", gte=1_700_000_000, lt=1_700_000_000 + 5000 * 3600),
        ),
        must_not=(f.Match("posts[].dataset", "telegram"),),
    )
    hits = store.images.query(points[0].vector, filter=flt, limit=100)
    assert hits
    for hit in hits:
        assert hit.payload["topic"] in (1, 2)
        assert all(p["dataset"] != "telegram" for p in hit.payload["posts"])
        assert int(hit.id.replace("-", ""), 16) - 1 < 5000
    expected = sum(1 for i in range(5000) if i % 4 in (1, 2) and i % 5 != 0)
    assert store.images.count(flt) == expected


def test_exact_and_approximate_search_agree_on_top_hit(make_store):
    store = make_store()
    store.ensure("toy", DIM)
    points = _points(2000)
    store.images.upsert(points)
    store.images.optimize()
    query = points[42].vector + 0.01 * unit_vectors(1, DIM, 9)[0]
    exact = store.images.query(query, exact=True, limit=10)
    approx = store.images.query(query, limit=10)
    assert exact[0].id == approx[0].id == point_id(42)
    assert [h.score for h in exact] == sorted((h.score for h in exact), reverse=True)


def test_pagination_with_offset(make_store):
    store = make_store()
    store.ensure("toy", DIM)
    points = _points(300)
    store.images.upsert(points)
    first = store.images.query(points[0].vector, limit=20, exact=True)
    second = store.images.query(points[0].vector, limit=10, offset=10, exact=True)
    assert [h.id for h in second] == [h.id for h in first[10:]]


def test_retrieve_existing_and_vectors(make_store):
    store = make_store()
    store.ensure("toy", DIM)
    points = _points(20)
    store.images.upsert(points)
    missing = point_id(999)
    assert store.images.existing([point_id(1), missing]) == {point_id(1)}
    (rec,) = store.images.retrieve([point_id(5)], with_vectors=True)
    np.testing.assert_allclose(rec.vector, points[5].vector, atol=1e-6)
    assert rec.payload["posts"][0]["post_id"] == "7321692663852404006"  # exact 19-digit string
    (rec,) = store.images.retrieve([point_id(5)], with_payload=["topic"])
    assert rec.payload == {"topic": 1}


def test_batch_set_payload_and_delete_keys(make_store):
    store = make_store()
    store.ensure("toy", DIM)
    store.images.upsert(_points(600))
    store.images.set_payloads(
        (point_id(i), {"topic": 100 + i, "topic_run": "r1"}) for i in range(600)
    )
    assert store.images.facet("topic_run") == {"r1": 600}
    (rec,) = store.images.retrieve([point_id(7)])
    assert rec.payload["topic"] == 107 and rec.payload["sha256"] == f"{7:064x}"  # merged
    store.images.delete_payload_keys([point_id(7)], ["topic_run"])
    (rec,) = store.images.retrieve([point_id(7)])
    assert "topic_run" not in rec.payload and rec.payload["topic"] == 107


def test_scroll_pages_through_everything_with_vectors(make_store):
    store = make_store()
    store.ensure("toy", DIM)
    store.images.upsert(_points(1234))
    seen = list(store.images.scroll(with_vectors=True, with_payload=["topic"], page_size=100))
    assert len(seen) == 1234 and len({r.id for r in seen}) == 1234
    assert all(r.vector is not None and r.vector.shape == (DIM,) for r in seen)
    only = list(store.images.scroll(f.Filter(must=(f.Match("topic", 3),)), page_size=50))
    assert len(only) == sum(1 for i in range(1234) if i % 4 == 3)


def test_facet_and_count_per_field(make_store):
    store = make_store()
    store.ensure("toy", DIM)
    store.images.upsert(_points(100))
    assert store.images.facet("topic") == {0: 25, 1: 25, 2: 25, 3: 25}
    datasets = store.images.facet("posts[].dataset")  # counts images, not posts
    assert datasets == {"tiktok-a": 50, "tiktok-b": 50, "telegram": 20}
    assert store.images.count(f.Filter(must=(f.Match("posts[].hashtags", "farmers"),))) == 34


def test_text_empty_and_id_filters(make_store):
    store = make_store()
    store.ensure("toy", DIM)
    store.images.upsert(_points(100))
    red = store.images.count(f.Filter(must=(f.Text("caption", "RED circle"),)))
    assert red == 25
    assert store.images.count(f.Filter(must=(f.Text("posts[].body", "tractor"),))) == 10
    assert store.images.count(f.Filter(must=(f.IsEmpty("caption"),))) == 75
    assert store.images.count(f.Filter(must_not=(f.IsEmpty("caption"),))) == 25
    ids = (point_id(1), point_id(2))
    assert store.images.count(f.Filter(must=(f.HasId(ids),))) == 2
    either = f.Filter(should=(f.Match("topic", 1), f.Match("topic", 2)))
    assert store.images.count(either) == 50


def test_delete_by_id_and_by_filter(make_store):
    store = make_store()
    store.ensure("toy", DIM)
    store.images.upsert(_points(100))
    store.images.delete([point_id(0), point_id(1)])
    assert store.images.count() == 98
    store.images.delete_where(f.Filter(must=(f.Match("topic", 3),)))
    assert store.images.count() == 98 - 25
    with pytest.raises(ValueError):
        store.images.delete_where(f.Filter())


def test_upsert_is_idempotent(make_store):
    store = make_store()
    store.ensure("toy", DIM)
    points = _points(50)
    store.images.upsert(points)
    store.images.upsert(points)
    assert store.images.count() == 50


def test_topic_collection_is_separate(make_store):
    store = make_store()
    store.ensure("toy", DIM)
    store.images.upsert(_points(10))
    centroids = unit_vectors(3, DIM, 5)
    store.topics.upsert(
        [
            PointData(point_id(t), centroids[t], {"topic": t, "run": "r1", "label": f"t{t}"})
            for t in range(3)
        ]
    )
    assert store.topics.count() == 3 and store.images.count() == 10
    (hit,) = store.topics.query(centroids[2], limit=1)
    assert hit.payload["label"] == "t2"
    reopened = make_store()
    assert reopened.topics.count() == 3


def test_nested_conditions_hold_for_the_same_post(make_store):
    store = make_store()
    store.ensure("toy", DIM)
    vectors = unit_vectors(3, DIM)
    posts = [
        [{"author": "ann", "ts": 100}, {"author": "bob", "ts": 200}],  # ann, but not at 200
        [{"author": "ann", "ts": 200}],
        [],
    ]
    store.images.upsert(
        [PointData(point_id(i), vectors[i], {"posts": p}) for i, p in enumerate(posts)]
    )
    ann, late = f.MatchAny("author", ("ann",)), f.Range("ts", gte=150)
    same_post = f.Filter(must=(f.Nested("posts", f.Filter(must=(ann, late))),))
    any_posts = f.Filter(
        must=(f.MatchAny("posts[].author", ("ann",)), f.Range("posts[].ts", gte=150))
    )
    assert store.images.count(any_posts) == 2
    assert {r.id for r in store.images.scroll(same_post)} == {point_id(1)}
    assert [h.id for h in store.images.query(vectors[0], filter=same_post)] == [point_id(1)]

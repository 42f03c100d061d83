"""The search service (shared by the API and `picsift search`) on a toy-model store."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from cli.main import app
from picsift.errors import InputError
from picsift.store.base import PointData
from picsift.store.edge import EdgeStore
from search.encoding import combine
from search.query import SearchRequest
from search.service import SearchService
from tests.conftest import point_id

N = 72


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """A store of 72 toy shapes; topic = colour index, two datasets, dated posts."""
    from picsift.models.encoder import ClipEncoder
    from picsift.models.runtime import Runtime
    from picsift.models.toy import COLORS, sample

    encoder = ClipEncoder("toy", runtime=Runtime("cpu", "fp32", "test"))
    shapes = sample(N, seed=99)
    vectors = encoder.embed_images([img for img, _, _ in shapes])
    path = tmp_path_factory.mktemp("search") / "store"
    truth = {}
    with EdgeStore(path) as store:
        store.ensure("toy", encoder.dim)
        points = []
        for i, (_, colour, shape) in enumerate(shapes):
            dataset = "tiktok" if i % 2 else "telegram"
            ts = 1_700_000_000 + i * 86_400
            post = {"dataset": dataset, "post_id": str(9_000_000_000_000_000_000 + i)}
            post |= {"author": f"user{i % 4}", "ts": ts, "timestamp": f"day {i}", "url": ""}
            post |= {"body": f"look at this {shape}", "hashtags": [colour]}
            payload = {
                "sha256": f"{i:064x}",
                "posts": [post],
                "datasets": [dataset],
                "topic": COLORS.index(colour),
                "caption": f"a {colour} {shape}" if i % 3 else None,
                "tags": [shape],
            }
            points.append(PointData(point_id(i), vectors[i], payload))
            truth[point_id(i)] = (colour, shape, dataset, ts, payload)
        store.images.upsert(points)
        store.topics.upsert(
            [
                PointData(point_id(t), vectors[0], {"topic": t, "run": "r1", "label": c})
                for t, c in enumerate(COLORS)
            ]
        )
    store = EdgeStore(path)
    yield SearchService(store, encoder), truth, path
    store.close()


def run(service, **kw):
    return service.search(SearchRequest(**kw)).hits


def test_red_circle_ranks_red_circles_first(corpus):
    service, truth, _ = corpus
    hits = run(service, q=("red circle",), limit=5)
    reds = sum(1 for c, s, *_ in truth.values() if (c, s) == ("red", "circle"))
    assert all(truth[h["id"]][:2] == ("red", "circle") for h in hits[: min(5, reds)])
    assert hits[0]["topic"] == 0 and hits[0]["topic_label"] == "red"
    assert hits[0]["thumb_url"] == f"/api/images/{hits[0]['id']}/thumb"
    assert set(hits[0]["posts"][0]) == {"dataset", "post_id", "author", "timestamp", "url"}


def test_topic_filters(corpus):
    service, truth, _ = corpus
    hits = run(service, q=("circle",), topics=(1, 2), limit=100)
    assert hits and {truth[h["id"]][0] for h in hits} <= {"green", "blue"}
    assert len(hits) == sum(1 for c, *_ in truth.values() if c in ("green", "blue"))
    hits = run(service, q=("circle",), exclude_topics=(0,), limit=100)
    assert all(truth[h["id"]][0] != "red" for h in hits)


def test_combined_filters(corpus):
    service, truth, _ = corpus
    hits = run(
        service,
        q=("square",),
        datasets=("tiktok",),
        authors=("user1", "user3"),
        date_from="2023-11-20",
        date_to="2024-01-10",
        has_caption=True,
        tags=("square",),
        limit=100,
    )
    expected = {
        i
        for i, (c, s, d, ts, p) in truth.items()
        if d == "tiktok"
        and p["posts"][0]["author"] in ("user1", "user3")
        and 1_700_438_400 <= ts < 1_704_931_200
        and p["caption"]
        and s == "square"
    }
    assert expected and {h["id"] for h in hits} == expected


def test_keyword_matches_caption_body_or_hashtag(corpus):
    service, truth, _ = corpus
    hits = run(service, q=("shape",), text="triangle", limit=100)
    assert {h["id"] for h in hits} == {i for i, v in truth.items() if v[1] == "triangle"}
    hits = run(service, q=("shape",), text="#yellow", limit=100)
    assert {h["id"] for h in hits} == {i for i, v in truth.items() if v[0] == "yellow"}


def test_pages_do_not_repeat(corpus):
    service, _, _ = corpus
    pages = [run(service, q=("blue",), limit=10, offset=o) for o in (0, 10, 20)]
    ids = [h["id"] for page in pages for h in page]
    assert len(ids) == 30 and len(set(ids)) == 30
    assert ids[:10] == [h["id"] for h in run(service, q=("blue",), limit=10)]


def test_negative_terms_push_away(corpus):
    service, truth, _ = corpus
    plain = run(service, q=("circle",), limit=20)
    minus_red = run(service, q=("circle",), not_=("red",), limit=20)
    reds = lambda hits: sum(truth[h["id"]][0] == "red" for h in hits)  # noqa: E731
    assert reds(minus_red) < reds(plain)


def test_query_vectors_are_cached(corpus):
    service, _, _ = corpus
    calls = []
    real = service.texts.encoder.embed_texts
    service.texts.encoder.embed_texts = lambda texts: calls.append(texts) or real(texts)
    try:
        run(service, q=("a green triangle",), limit=5)
        run(service, q=("a green triangle",), limit=5, offset=5, topics=(1,))
    finally:
        service.texts.encoder.embed_texts = real
    assert calls == [["a green triangle"]]


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"q": ("",)}, "q: the query is empty"),
        ({"q": ("x" * 1001,)}, "over the 1,000 limit"),
        ({"q": ("a",), "limit": 0}, "limit: must be within 1..1000"),
        ({"q": ("a",), "limit": 5000}, "limit"),
        ({"q": ("a",), "offset": -1}, "offset"),
        ({"q": ("a",), "date_from": "yesterday"}, "date_from: 'yesterday' is not a date"),
    ],
)
def test_bad_requests_name_the_parameter(corpus, kw, message):
    service, _, _ = corpus
    with pytest.raises(InputError, match=message):
        service.search(SearchRequest(**kw))


def test_combine_normalises():
    import numpy as np

    v = combine(np.array([[1.0, 0.0]]), np.array([[0.0, 1.0]]))
    assert np.allclose(v, [2**-0.5, -(2**-0.5)])


def test_cli_json_has_the_hit_shape(tmp_path):
    from tests.indexer.conftest import write_4cat_zip

    write_4cat_zip(tmp_path / "images.zip", 6, seed=11)
    runner = CliRunner()
    base = ["--store", str(tmp_path / "store"), "--model", "toy"]
    runner.invoke(app, [*base, "index", str(tmp_path / "images.zip"), "--no-captions"])
    result = runner.invoke(app, [*base, "search", "red", "circle", "--json", "--limit", "3"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["query"] == "red circle" and len(out["hits"]) == 3
    keys = {"id", "score", "sha256", "topic", "topic_label", "caption", "thumb_url"}
    keys |= {"video_id", "frame_time", "n_posts", "engagement", "engagement_posts"}
    assert set(out["hits"][0]) == keys | {"posts", "evidence"}
    human = runner.invoke(app, [*base, "search", "red", "circle", "--limit", "2"])
    assert human.output.startswith("6 images match\ncannot tell strong matches")
    assert human.output.splitlines()[2].startswith("  1. ")

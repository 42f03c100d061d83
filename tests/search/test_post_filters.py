"""Author, dataset and date filters hold for the same post of an image: in search, export
and the timeline. Images of the reviewer's cases, with vectors from the toy CLIP."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from fastapi.testclient import TestClient

from picsift.settings import Settings
from picsift.store import PointData
from picsift.store.edge import EdgeStore
from tests.conftest import point_id


def _post(dataset: str, post_id: str, author: str, day: str) -> dict:
    when = dt.datetime.fromisoformat(day).replace(hour=12, tzinfo=dt.UTC)
    return {
        "dataset": dataset,
        "post_id": post_id,
        "author": author,
        "ts": int(when.timestamp()),
        "timestamp": when.isoformat(),
    }


IMAGES = {  # id -> (text for its vector, posts, datasets)
    point_id(0): (
        "red circle",
        [_post("d1", "10", "citizen_1", "2024-03-22"), _post("d1", "11", "bot_11", "2024-03-30")],
        ["d1"],
    ),
    point_id(1): ("red square", [_post("d1", "12", "citizen_1", "2024-03-30")], ["d1"]),
    point_id(2): (
        "blue circle",
        [
            _post("d1", "13", "citizen_9", "2024-03-25"),
            _post("second", "20", "second_reposter", "2024-03-26"),
        ],
        ["d1", "second"],
    ),
    point_id(3): ("blue square", [], ["second"]),  # in `second` by its file alone
}


@pytest.fixture(scope="module")
def client(tmp_path_factory, toy_clip):
    from search.app import create_app

    root = tmp_path_factory.mktemp("posts")
    store = EdgeStore(root / "store")
    store.ensure(toy_clip.model_id, toy_clip.dim)
    texts = [text for text, _, _ in IMAGES.values()]
    vectors = toy_clip.embed_texts(texts)
    store.images.upsert(
        [
            PointData(i, v, {"posts": posts, "datasets": ds, "topic": 0, "first_seen": n})
            for n, ((i, (_, posts, ds)), v) in enumerate(zip(IMAGES.items(), vectors, strict=True))
        ]
    )
    settings = Settings(store=str(store.directory), caption_model="none")
    with TestClient(create_app(settings, store=store, encoder=toy_clip)) as test_client:
        yield test_client
    store.close()


def _ids(client, **params) -> set[str]:
    response = client.get("/api/search", params={"limit": 50, **params})
    assert response.status_code == 200, response.text
    return {hit["id"] for hit in response.json()["hits"]}


def _rows(client, **params) -> list[dict]:
    response = client.get("/api/export", params={"format": "csv", **params})
    assert response.status_code == 200, response.text
    return list(csv.DictReader(io.StringIO(response.text)))


ON_30 = {"author": "citizen_1", "date_from": "2024-03-30", "date_to": "2024-03-30"}


def test_author_and_date_must_hold_for_one_post_in_search(client):
    assert _ids(client, q="red", **ON_30) == {point_id(1)}
    assert _ids(client, **ON_30) == {point_id(1)}
    assert _ids(client, dataset="second", author="citizen_9") == set()
    assert _ids(client, dataset="d1", author="citizen_9") == {point_id(2)}


def test_export_writes_only_matching_posts_and_no_phantom_rows(client):
    rows = _rows(client, **ON_30)
    assert [(r["post_id"], r["image_id"]) for r in rows] == [("12", point_id(1))]
    assert _rows(client, dataset="second", author="citizen_9") == []
    ranked = _rows(client, q="red", limit=10, **ON_30)
    assert [r["post_id"] for r in ranked] == ["12"]


def test_dataset_alone_keeps_images_in_it_by_file(client):
    rows = {(r["image_id"], r["post_id"], r["dataset"]) for r in _rows(client, dataset="second")}
    assert rows == {(point_id(2), "20", "second"), (point_id(3), "", "second")}


def test_timeline_counts_only_the_posts_inside_the_filters(client):
    def periods(**params) -> dict[str, int]:
        response = client.get("/api/topics/timeline", params={"interval": "day", **params})
        assert response.status_code == 200, response.text
        return {row["period"]: row["posts"] for row in response.json()["rows"]}

    assert periods(date_from="2024-03-22", date_to="2024-03-22") == {"2024-03-22": 1}
    assert periods(dataset="second") == {"2024-03-26": 1}
    assert periods(author="citizen_1") == {"2024-03-22": 1, "2024-03-30": 1}

"""How variant groups circulated: posts counted once per group, accounts, weeks, engagement
summed over the posts that have it (and saying how many did), sorted by spread; from the
library, the API and the CLI."""

from __future__ import annotations

import json
import uuid

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from cli.main import app
from picsift.settings import Settings
from picsift.store import PointData
from picsift.store.edge import EdgeStore
from search.app import create_app
from search.circulation import circulation
from tests.conftest import unit_vectors

DAY = 86_400
MONDAY = 1_700_438_400  # 2023-11-20 00:00 UTC


def _post(dataset, post_id, author, day, **extra):
    return {
        "dataset": dataset,
        "post_id": post_id,
        "author": author,
        "ts": MONDAY + day * DAY,
        "extra": extra,
    }


GROUP_A = "00000000-0000-0000-0000-00000000000a"
GROUP_B = "00000000-0000-0000-0000-00000000000b"
IMAGES = [  # (group, size, posts)
    (
        GROUP_A,
        3,
        [_post("tiktok", "t1", "ann", 0, likes="10", comments="2", shares="1", plays="100")],
    ),
    (
        GROUP_A,
        3,
        [
            _post("tiktok", "t1", "ann", 0, likes="10"),  # the same post again
            _post("instagram", "i1", "bob", 8, num_likes="5", num_comments="-1"),
        ],
    ),
    (
        GROUP_A,
        3,
        [
            _post("instagram", "i2", "cy", 9, num_likes="7", likes_hidden="yes"),
            _post("telegram", "g1", "dee", 10, views="40"),
        ],
    ),
    (GROUP_B, 2, [_post("tiktok", "t2", "ann", 1, likes="500")]),
    (GROUP_B, 2, [_post("tiktok-week2", "t3", "ann", 2, likes="not a number")]),
    (None, 1, [_post("tiktok", "t4", "eve", 3, likes="9999")]),  # no copies: not a group
]


def _fill(store):
    store.ensure("toy", 8)
    vectors = unit_vectors(len(IMAGES), 8)
    store.images.upsert(
        [
            PointData(
                str(uuid.UUID(int=i + 1)),
                vectors[i],
                {"variant": g or str(uuid.UUID(int=i + 1)), "variant_size": n, "posts": p},
            )
            for i, (g, n, p) in enumerate(IMAGES)
        ]
    )


def test_groups_are_summed_over_their_posts(make_store):
    store = make_store()
    _fill(store)
    done = circulation(store, "posts")
    assert done["total"] == 2 and [g["variant"] for g in done["groups"]] == [GROUP_A, GROUP_B]
    a = done["groups"][0]
    assert (a["images"], a["posts"], a["accounts"]) == (3, 4, 4)
    assert a["datasets"] == ["instagram", "telegram", "tiktok"]
    assert a["first_seen"] == "2023-11-20T00:00:00+00:00" and a["last_seen"].startswith(
        "2023-11-30"
    )
    assert a["weeks"] == {"2023-11-20": 1, "2023-11-27": 3}
    # likes: t1's 10 and i1's 5 (i2's are hidden); comments: t1's 2 (i1's -1 is unknown)
    assert a["engagement"] == {"likes": 15, "comments": 2, "shares": 1, "plays": 140}
    assert a["engagement_posts"] == {"likes": 2, "comments": 1, "shares": 1, "plays": 2}
    assert a["engaged"] == 18
    by_engagement = circulation(store, "engagement")["groups"]
    assert [g["variant"] for g in by_engagement] == [GROUP_B, GROUP_A]
    assert by_engagement[0]["engagement_posts"] == {"likes": 1}  # "not a number" is no count
    # ann posted it in two scrapes (datasets): one account
    assert (by_engagement[0]["accounts"], by_engagement[0]["datasets"]) == (
        1,
        ["tiktok", "tiktok-week2"],
    )
    assert circulation(store, "posts", limit=1)["groups"][0]["variant"] == GROUP_A


@pytest.fixture
def edge(tmp_path):
    store = EdgeStore(tmp_path / "store")
    _fill(store)
    store.close()
    return tmp_path / "store"


def test_the_api_and_the_cli_list_the_groups(edge, toy_clip):
    runner = CliRunner()
    listed = runner.invoke(app, ["--store", str(edge), "circulation", "--sort", "accounts"])
    assert listed.exit_code == 0, listed.output
    assert "2 groups of two or more images; by accounts:" in listed.output
    assert f"{GROUP_A}: 3 images, 4 posts, 4 accounts, 2023-11-20 to 2023-11-30" in listed.output
    assert "likes 15 (2 posts)" in listed.output
    as_json = runner.invoke(app, ["--store", str(edge), "circulation", "--json", "--limit", "1"])
    assert [g["variant"] for g in json.loads(as_json.output)["groups"]] == [GROUP_A]
    store = EdgeStore(edge)
    with TestClient(create_app(Settings(store=str(edge)), store=store, encoder=toy_clip)) as client:
        answer = client.get("/api/variants", params={"sort": "engagement"}).json()
        assert [g["variant"] for g in answer["groups"]] == [GROUP_B, GROUP_A]
        assert client.get("/api/variants", params={"sort": "likes"}).status_code == 422
    store.close()


def test_odd_counts_and_times_are_left_out_not_fatal(make_store):
    store = make_store()
    store.ensure("toy", 8)
    odd = [
        {"dataset": "tiktok", "post_id": "x", "ts": 1_700_000_000_000, "extra": {"likes": "inf"}},
        {"dataset": "tiktok", "post_id": "y", "ts": None, "extra": {"likes": "1e3"}},
    ]
    store.images.upsert(
        [
            PointData(
                str(uuid.UUID(int=i + 1)),
                v,
                {"variant": GROUP_A, "variant_size": 2, "posts": [odd[i]]},
            )
            for i, v in enumerate(unit_vectors(2, 8))
        ]
    )
    (group,) = circulation(store)["groups"]
    assert group["first_seen"] is None and group["weeks"] == {}  # milliseconds: no time here
    assert group["engagement"] == {"likes": 1000} and group["engagement_posts"] == {"likes": 1}

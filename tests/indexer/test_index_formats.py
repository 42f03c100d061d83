"""`picsift index` end to end over every 4CAT format: 4CAT and Zeeschuimer NDJSON with an image
zip, video-frame archives (zipped and unpacked), both store backends, a new scrape on top of an
old one, a single image file and a folder holding a zip.

Real toy model and real stores, no mocks. Every test checks the counts and the provenance that
ends up in the store: post ids as exact strings, authors, timestamps, urls, datasets, files.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
from qdrant_client import QdrantClient
from typer.testing import CliRunner

from cli.main import app
from indexer.cache import IndexCache
from indexer.pipeline import Indexer
from indexer.sources import collect
from picsift.store.edge import EdgeStore
from picsift.store.server import ServerStore
from tests.indexer.conftest import DATASET, index, post_id, write_4cat_zip, write_tiktok_csv
from tests.indexer.fixtures_formats import frame_archive, image_archive, jpegs
from tests.indexer.fixtures_media import unpack, write_zip
from tests.indexer.fixtures_tables import fourcat_line, tiktok_item, write_ndjson, zeeschuimer_line

runner = CliRunner()

SCRAPE_A = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"
SCRAPE_B = "f9e8d7c6b5a4039281706f5e4d3c2b1a"
VIDEO_DATASET = "5e4d3c2b1a0f9e8d7c6b5a4039281706"
TS0 = 1_700_000_000  # 2023-11-14 22:13:20 UTC; post i is i hours later
ISO = [f"2023-11-14T{h}:13:20Z" for h in (22, 23)] + [
    f"2023-11-15T{h:02d}:13:20Z" for h in range(4)
]


def stored(store: Path) -> dict[str, dict]:
    """Payloads of the embedded store, by sha256."""
    with EdgeStore(store) as s:
        return {r.payload["sha256"]: r.payload for r in s.images.scroll()}


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def counts(report: dict) -> tuple[int, ...]:
    keys = ("found", "new", "known", "posts_linked", "posts_without_media")
    return tuple(report[k] for k in keys)


# 1-2. NDJSON tables (4CAT's stored file, Zeeschuimer's export) with a 4CAT image zip


def raw_tiktok(i: int) -> dict:
    """Raw TikTok item of post i; post 1's id is a JSON number (must stay exact)."""
    return tiktok_item(
        int(post_id(i)) if i == 1 else post_id(i),
        desc=f"post {i} #protest",
        createTime=TS0 + i * 3600,
        author={"uniqueId": f"user{i % 2}", "nickname": f"User {i % 2}"},
        textExtra=[{"hashtagName": "protest"}, {"hashtagName": ""}, {"hashtagName": f"tag{i}"}],
    )


def mapped_post(i: int) -> dict:
    """Post i as 4CAT maps the raw item, in the stored payload shape (some `extra` columns)."""
    return {
        "dataset": DATASET,
        "post_id": post_id(i),
        "author": f"user{i % 2}",
        "timestamp": ISO[i],
        "ts": TS0 + i * 3600,
        "url": f"https://www.tiktok.com/@user{i % 2}/video/{post_id(i)}",
        "body": f"post {i} #protest",
        "hashtags": ["protest", f"tag{i}"],
        "extra": {
            "author_full": f"User {i % 2}",
            "plays": 340,
            "likes": 12,
            "music_name": "original sound",
            "thumbnail_url": f"https://p16-sign.tiktokcdn.com/{post_id(i)}~cover.jpeg",
            "location_created": "NL",
            "collected_from_url": "https://www.tiktok.com/",
        },
    }


def _matches(stored: dict, expected: dict) -> bool:
    """The stored post is `expected`, its `extra` holding (at least) those columns."""
    extra = stored["extra"]
    return {**stored, "extra": {k: extra.get(k) for k in expected["extra"]}} == expected


@pytest.mark.parametrize("line", [fourcat_line, zeeschuimer_line], ids=["4cat", "zeeschuimer"])
def test_ndjson_posts_join_zip_images_by_id(tmp_path, line):
    archive = tmp_path / "images.zip"
    write_4cat_zip(archive, 4)  # image i <- post i; image 3 also <- post 4
    write_ndjson(tmp_path / "posts.ndjson", [line(raw_tiktok(i)) for i in range(6)])
    report = index(tmp_path / "store", archive, tmp_path / "posts.ndjson")
    assert counts(report) == (4, 4, 0, 5, 1)  # post 5 has no image
    assert report["failed"] == [] and report["warnings"] == []
    payloads = sorted(stored(tmp_path / "store").values(), key=lambda p: p["files"][0]["member"])
    for i, payload in enumerate(payloads):
        posts = [0], [1], [2], [3, 4]
        assert len(payload["posts"]) == len(posts[i])
        assert all(map(_matches, payload["posts"], [mapped_post(j) for j in posts[i]]))
        assert payload["files"] == [
            {"path": str(archive.resolve()), "member": f"{post_id(i)}.jpeg", "dataset": DATASET}
        ]
        assert payload["datasets"] == [DATASET] and payload["n_posts"] == len(posts[i])
        assert payload["first_seen"] == TS0 + i * 3600


# 3. Video-frame archives: zipped and unpacked


@pytest.mark.parametrize("unpacked", [False, True], ids=["zip", "folder"])
def test_video_frames_link_to_their_videos_posts(tmp_path, unpacked):
    a, b, c, d, e = jpegs(5, seed=7)
    p0, p1, p2, p3 = (post_id(10 + k) for k in range(4))
    videos = {
        f"{p0}.mp4": ([p0], [a, b, c]),
        "clip b.mp4": ([p1, p2], [d, a]),  # its 2nd frame is the other video's 1st
        f"{p3}.mp4": (None, [e]),  # older video zip: keyed by the video id, no post_ids
    }
    archive = frame_archive(tmp_path / "frames.zip", videos, VIDEO_DATASET)
    source = (unpack(archive, tmp_path / "frames") if unpacked else archive).resolve()
    report = index(tmp_path / "store", source)
    assert counts(report) == (6, 5, 0, 0, 0)  # 6 frames, 5 distinct
    assert report["failed"] == []
    assert report["warnings"] == [f"{source.name}: .metadata.json records 1 failed download(s)"]

    def at(stem: str, n: int) -> tuple[str, str | None]:
        member = f"{stem}/video_frame_{n:07d}.jpeg"
        return (str(source / member), None) if unpacked else (str(source), member)

    expected = {
        sha(a): ({p0, p1, p2}, {at(p0, 1), at("clip b", 2)}),
        sha(b): ({p0}, {at(p0, 2)}),
        sha(c): ({p0}, {at(p0, 3)}),
        sha(d): ({p1, p2}, {at("clip b", 1)}),
        sha(e): ({p3}, {at(p3, 1)}),
    }
    payloads = stored(tmp_path / "store")
    assert set(payloads) == set(expected)
    for digest, (post_ids, files) in expected.items():
        payload = payloads[digest]
        assert {p["post_id"] for p in payload["posts"]} == post_ids
        assert payload["n_posts"] == len(post_ids) == len(payload["posts"])
        assert all(p["dataset"] == VIDEO_DATASET and p["author"] == "" for p in payload["posts"])
        assert {(f["path"], f["member"]) for f in payload["files"]} == files
        assert {f["dataset"] for f in payload["files"]} == {VIDEO_DATASET}
        assert payload["datasets"] == [VIDEO_DATASET]


def test_frames_without_metadata_get_no_shared_frame_name_post_id(tmp_path):
    a, b = jpegs(2, seed=8)
    p0, p1 = post_id(10), post_id(11)
    frames = {f"{p0}/video_frame_0000001.jpeg": a, f"{p1}/video_frame_0000001.jpeg": b}
    found = collect([write_zip(tmp_path / "frames.zip", frames)])
    ids = [item.post_ids for item in found.media]
    assert ids[0] != ids[1], ids
    assert not any(i.startswith("video_frame_") for post_ids in ids for i in post_ids), ids


# 4. Server backend (qdrant-client) against the embedded one (Qdrant Edge)


def comparable(payload: dict) -> dict:
    """The payload less what depends on when it was indexed."""
    out = {k: v for k, v in payload.items() if k != "indexed_at"}
    if all(p["ts"] is None for p in payload["posts"]):
        del out["first_seen"]  # the indexing time when no post has a date
    return out


def snapshot(store) -> dict[str, tuple[dict, np.ndarray]]:
    return {r.id: (comparable(r.payload), r.vector) for r in store.images.scroll(with_vectors=True)}


@pytest.mark.filterwarnings("ignore:Payload indexes have no effect", "ignore:Local mode")
def test_server_backend_stores_what_embedded_stores(tmp_path, toy_encoder):
    archive = tmp_path / "images.zip"
    images = write_4cat_zip(archive, 6)  # posts 0..5, image 5 also <- post 6
    write_tiktok_csv(tmp_path / "first.csv", 4, images)
    write_tiktok_csv(tmp_path / "all.csv", 8, images)
    runs = [
        ([archive, tmp_path / "first.csv"], None, (6, 6, 0, 4, 0)),  # zip + CSV together
        ([tmp_path / "all.csv"], DATASET, (0, 0, 0, 7, 1)),  # a fuller table afterwards
        ([archive, tmp_path / "first.csv"], None, (6, 0, 6, 4, 0)),  # the first run again
    ]
    results = {}
    with EdgeStore(tmp_path / "edge") as edge, ServerStore(QdrantClient(":memory:")) as server:
        for name, store in (("embedded", edge), ("server", server)):
            cache = IndexCache(tmp_path / name)
            indexer = Indexer(store, toy_encoder, cache, tmp_path / name)
            results[name] = []
            for sources, dataset, expected in runs:
                found = collect(sources, dataset)
                report = indexer.run(found.media, found.posts)
                assert counts(report.to_dict()) == expected, (name, sources)
                assert report.failed == [] and found.failed == []
                results[name].append(snapshot(store))
            cache.close()
    for step, (embedded, server) in enumerate(zip(*results.values(), strict=True)):
        assert set(server) == set(embedded), step
        for point_id, (payload, vector) in server.items():
            assert payload == embedded[point_id][0], (step, point_id)
            assert np.allclose(vector, embedded[point_id][1], atol=1e-6)
    by_post = {
        p["post_id"]: (pl, p) for pl, _ in results["server"][-1].values() for p in pl["posts"]
    }
    assert sorted(by_post) == [post_id(i) for i in range(7)]
    payload, post = by_post[post_id(2)]
    assert (post["dataset"], post["author"], post["ts"]) == (DATASET, "user2", TS0 + 2 * 86_400)
    assert post["timestamp"] == "2023-11-16T22:13:20Z"
    assert post["url"] == f"https://www.tiktok.com/@user2/video/{post_id(2)}"
    assert post["extra"]["Transcript"] == "transcript 2"
    assert payload["files"] == [
        {"path": str(archive.resolve()), "member": f"{post_id(2)}.jpeg", "dataset": DATASET}
    ]
    shared, post6 = by_post[post_id(6)]
    assert post6["author"] == "user0" and post6["hashtags"] == ["protest"]  # from all.csv
    assert shared["n_posts"] == 2 and by_post[post_id(5)][0] is shared


# 5. A new scrape on top of an indexed one


def test_new_scrape_adds_its_images_and_posts_to_known_ones(tmp_path):
    old, new = jpegs(5, seed=5), jpegs(3, seed=6)
    a_ids = [post_id(20 + i) for i in range(5)]
    b_ids = [a_ids[0]] + [post_id(30 + i) for i in range(4)]  # post a0 was scraped again
    first = {f"{pid}.jpeg": (data, [pid]) for pid, data in zip(a_ids, old, strict=True)}
    later = {f"{pid}.jpeg": (data, [pid]) for pid, data in zip(b_ids, old[:2] + new, strict=True)}
    image_archive(tmp_path / "a.zip", first, SCRAPE_A)
    image_archive(tmp_path / "b.zip", later, SCRAPE_B)
    assert counts(index(tmp_path / "store", tmp_path / "a.zip")) == (5, 5, 0, 0, 0)
    report = index(tmp_path / "store", tmp_path / "b.zip")
    assert counts(report)[:3] == (5, 3, 2)
    assert report["failed"] == [] and report["warnings"] == []

    payloads = stored(tmp_path / "store")
    assert len(payloads) == 8
    for data, a_id, b_id in ((old[0], a_ids[0], b_ids[0]), (old[1], a_ids[1], b_ids[1])):
        payload = payloads[sha(data)]
        assert payload["datasets"] == sorted([SCRAPE_A, SCRAPE_B])
        posts = {(p["dataset"], p["post_id"]) for p in payload["posts"]}
        assert posts == {(SCRAPE_A, a_id), (SCRAPE_B, b_id)} and payload["n_posts"] == 2
        files = {(Path(f["path"]).name, f["member"], f["dataset"]) for f in payload["files"]}
        assert files == {("a.zip", f"{a_id}.jpeg", SCRAPE_A), ("b.zip", f"{b_id}.jpeg", SCRAPE_B)}
    for data, pid in zip(old[2:], a_ids[2:], strict=True):
        assert [p["post_id"] for p in payloads[sha(data)]["posts"]] == [pid]
        assert payloads[sha(data)]["datasets"] == [SCRAPE_A]
    for data, pid in zip(new, b_ids[2:], strict=True):
        assert [p["post_id"] for p in payloads[sha(data)]["posts"]] == [pid]
        assert payloads[sha(data)]["datasets"] == [SCRAPE_B]

    out = runner.invoke(app, ["--store", str(tmp_path / "store"), "status", "--json"])
    status = json.loads(out.output)
    assert (status["images"], status["posts"]) == (8, 10)
    assert status["datasets"] == {SCRAPE_A: 5, SCRAPE_B: 5}


# 6. Odd sources: one image file; a folder that only holds a zip


def test_single_image_file_alone_and_with_its_table(tmp_path):
    loose, named = jpegs(2, seed=9)
    (tmp_path / "photo.jpg").write_bytes(loose)
    report = index(tmp_path / "store", tmp_path / "photo.jpg")
    assert counts(report) == (1, 1, 0, 0, 0) and report["warnings"] == []
    payload = stored(tmp_path / "store")[sha(loose)]
    assert payload["posts"] == [] and payload["n_posts"] == 0  # no table: no post
    assert payload["datasets"] == ["photo"]  # the file name, as for any source
    assert payload["files"] == [
        {"path": str((tmp_path / "photo.jpg").resolve()), "member": None, "dataset": "photo"}
    ]

    pid = post_id(40)
    (tmp_path / f"{pid}.jpeg").write_bytes(named)
    write_ndjson(tmp_path / "post.ndjson", [fourcat_line(raw_tiktok(0) | {"id": pid})])
    args = (tmp_path / f"{pid}.jpeg", tmp_path / "post.ndjson", "--dataset", "handpicked")
    report = index(tmp_path / "store", *args)
    assert counts(report) == (1, 1, 0, 1, 0)
    payload = stored(tmp_path / "store")[sha(named)]
    (post,) = payload["posts"]
    assert (post["dataset"], post["post_id"], post["author"]) == ("handpicked", pid, "user0")
    assert post["url"] == f"https://www.tiktok.com/@user0/video/{pid}"
    assert (post["timestamp"], post["ts"]) == (ISO[0], TS0)
    assert payload["datasets"] == ["handpicked"]


def folder_with_zip(tmp_path: Path) -> Path:
    (tmp_path / "downloads").mkdir()
    files = {f"{post_id(50)}.jpeg": (jpegs(1, seed=4)[0], [post_id(50)])}
    image_archive(tmp_path / "downloads" / "scrape.zip", files, DATASET)
    return tmp_path / "downloads"


def test_folder_holding_a_zip_skips_it_with_a_warning(tmp_path):
    # Documented: a folder is searched recursively for images; zips inside are not opened.
    folder = folder_with_zip(tmp_path)
    report = index(tmp_path / "store", folder)
    assert counts(report) == (0, 0, 0, 0, 0) and report["failed"] == []
    (warning,) = report["warnings"]
    assert warning.startswith("downloads: 1 zip archive(s) inside downloads were not opened")
    assert f"picsift index {folder / 'scrape.zip'}" in warning
    assert stored(tmp_path / "store") == {}


def test_folder_holding_a_zip_names_the_zip_in_its_warning(tmp_path):
    found = collect([folder_with_zip(tmp_path)])
    assert found.media == []
    assert any("scrape.zip" in w for w in found.warnings), found.warnings

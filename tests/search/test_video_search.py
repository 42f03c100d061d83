"""Videos indexed as frames, through the API on both backends: frame hits name their video and
time, group_by=video keeps one per video, similar search from a frame leaves its own video out,
the detail has the video's frame strip, the original is the video (checked against its hash),
exports carry the frame columns and status counts images, videos and frames apart."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from qdrant_client import QdrantClient

from picsift.settings import Settings
from picsift.store.edge import EdgeStore
from picsift.store.server import ServerStore
from picsift.store.status import store_status
from search.export import COLUMNS
from tests.search.conftest import index_sources
from tests.search.video_helpers import CLIP, IMAGES, OTHER, write_media


@dataclass
class Videos:
    client: TestClient
    store: object
    media: Path
    clip: str  # the video id of clip.mp4
    other: str


@pytest.fixture(scope="module", params=["embedded", "server"])
def videos(request, tmp_path_factory, toy_clip):
    """The media folder indexed by the real indexer on one backend, and the app over it."""
    from search.app import create_app

    root = tmp_path_factory.mktemp(f"videos-{request.param}")
    write_media(root / "media")
    if request.param == "embedded":
        store = EdgeStore(root / "store")
        settings = Settings(store=str(store.directory), caption_model="none")
    else:
        store = ServerStore(QdrantClient(":memory:"), location=":memory:")
        settings = Settings(store="http://qdrant:6333", data=root / "data", caption_model="none")
    index_sources(store, toy_clip, settings.data_dir, [root / "media"])
    ids = {
        Path(r.payload["files"][0]["path"]).name: r.payload["video_id"]
        for r in store.images.scroll(with_payload=["files", "video_id", "frame_index"])
        if r.payload.get("frame_index") == 0
    }
    with TestClient(create_app(settings, store=store, encoder=toy_clip)) as client:
        yield Videos(client, store, root / "media", ids["clip.mp4"], ids["other.mp4"])
    store.close()


def search(videos: Videos, **params) -> list[dict]:
    response = videos.client.get("/api/search", params=params)
    assert response.status_code == 200, response.text
    return response.json()["hits"]


def frame_at(videos: Videos, video: str, seconds: float) -> dict:
    """The hit of a video's frame nearest `seconds`, from a browse of everything."""
    hits = [h for h in search(videos, limit=100) if h["video_id"] == video]
    return min(hits, key=lambda h: abs(h["frame_time"] - seconds))


def test_a_text_query_finds_the_frame_where_it_appears(videos):
    hits = search(videos, q="red circle", limit=5)
    top = hits[0]
    assert top["video_id"] == videos.clip and top["frame_time"] == pytest.approx(3.0, abs=0.5)
    assert top["sha256"] == "" and top["thumb_url"] == f"/api/images/{top['id']}/thumb"
    images = [h for h in hits if h["sha256"]]
    assert images and all(h["video_id"] is None and h["frame_time"] is None for h in images)


def test_group_by_video_keeps_the_best_frame_of_each_video(videos):
    ranked = search(videos, q="red", limit=100)
    grouped = search(videos, q="red", limit=100, group_by="video")
    frames = [h for h in grouped if h["video_id"]]
    assert sorted(h["video_id"] for h in frames) == sorted([videos.clip, videos.other])
    for hit in frames:  # the first frame of its video in rank order, with its time
        assert hit == next(h for h in ranked if h["video_id"] == hit["video_id"])
    assert [h["id"] for h in grouped if not h["video_id"]] == [
        h["id"] for h in ranked if not h["video_id"]
    ]
    browsed = search(videos, limit=100, group_by="video")
    assert len(browsed) == len(IMAGES) + 2


def test_similar_from_a_frame_leaves_its_own_video_out(videos):
    frame = frame_at(videos, videos.clip, 3.0)
    response = videos.client.get(f"/api/images/{frame['id']}/similar", params={"limit": 100})
    assert response.status_code == 200, response.text
    hits = response.json()["hits"]
    assert hits and all(h["video_id"] != videos.clip for h in hits)
    assert any(h["video_id"] == videos.other for h in hits)  # other videos still match
    image = next(h for h in hits if not h["video_id"])
    from_image = videos.client.get(f"/api/images/{image['id']}/similar", params={"limit": 100})
    assert {h["video_id"] for h in from_image.json()["hits"]} >= {videos.clip, videos.other}


def test_detail_of_a_frame_has_its_video_and_frames_in_time_order(videos):
    frame = frame_at(videos, videos.clip, 7.0)
    body = videos.client.get(f"/api/images/{frame['id']}").json()
    video = body["video"]
    assert video["id"] == videos.clip and video["frame_time"] == frame["frame_time"]
    assert video["duration"] == pytest.approx(10.0, abs=0.2)
    times = [f["frame_time"] for f in video["frames"]]
    assert times == sorted(times) and len(times) >= len(CLIP)
    assert frame["id"] in [f["id"] for f in video["frames"]]
    for scene_start, _ in CLIP:
        assert min(abs(t - scene_start) for t in times) < 0.5
    stored = videos.store.images.retrieve([frame["id"]])[0].payload
    assert video["sha256"] == stored["video_sha256"] and len(times) == stored["video_frames"]
    for strip in video["frames"]:
        thumb = videos.client.get(strip["thumb"])
        assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/jpeg"
    image = next(h for h in search(videos, limit=100) if not h["video_id"])
    assert videos.client.get(f"/api/images/{image['id']}").json()["video"] is None


def test_the_original_of_a_frame_is_its_video_while_it_is_unchanged(videos):
    frame = frame_at(videos, videos.other, 0.0)
    path = videos.media / "other.mp4"
    response = videos.client.get(f"/api/images/{frame['id']}/file")
    assert response.status_code == 200, response.text
    assert response.content == path.read_bytes()
    assert response.headers["content-type"] == "video/mp4"
    saved = path.read_bytes()
    try:
        path.write_bytes(saved[:-10] + b"0123456789")
        changed = videos.client.get(f"/api/images/{frame['id']}/file")
        assert changed.status_code == 409
        assert f"the video of frame {frame['id']} changed" in changed.json()["message"]
        path.unlink()
        gone = videos.client.get(f"/api/images/{frame['id']}/file")
        assert gone.status_code == 410 and "no longer where it was indexed" in gone.text
    finally:
        path.write_bytes(saved)


def test_a_lost_frame_thumbnail_is_made_again_from_its_video(videos):
    frame = frame_at(videos, videos.other, 4.0)  # its cut: the video is decoded up to 4 s
    key = videos.store.images.retrieve([frame["id"]])[0].payload["frame_key"]
    (thumb,) = videos.media.parent.rglob(f"thumbs/{key[:2]}/{key}.jpg")
    made = thumb.read_bytes()
    thumb.unlink()
    response = videos.client.get(f"/api/images/{frame['id']}/thumb")
    assert response.status_code == 200, response.text
    assert response.content == made and thumb.read_bytes() == made  # the same frame, kept

    video = videos.media / "other.mp4"
    saved = video.read_bytes()
    try:
        thumb.unlink()
        video.unlink()
        gone = videos.client.get(f"/api/images/{frame['id']}/thumb")
        assert gone.status_code == 404
        assert gone.json()["message"] == (
            f"id: video frame {frame['id']} has no thumbnail, and the video of frame "
            f"{frame['id']} is no longer where it was indexed"
        )
    finally:
        video.write_bytes(saved)
    assert videos.client.get(f"/api/images/{frame['id']}/thumb").status_code == 200


@pytest.mark.parametrize(
    ("asked", "part"),
    [
        ("bytes=0-99", slice(0, 100)),
        ("bytes=100-", slice(100, None)),
        ("bytes=-50", slice(-50, None)),
        ("bytes=10-999999999", slice(10, None)),
    ],
)
def test_a_byte_range_of_the_video_is_answered_as_a_browser_seeks(videos, asked, part):
    frame = frame_at(videos, videos.other, 0.0)
    data = (videos.media / "other.mp4").read_bytes()
    response = videos.client.get(f"/api/images/{frame['id']}/file", headers={"Range": asked})
    assert response.status_code == 206, response.text
    assert response.content == data[part]
    start, stop, _ = part.indices(len(data))
    assert response.headers["content-range"] == f"bytes {start}-{stop - 1}/{len(data)}"
    assert response.headers["content-length"] == str(len(data[part]))
    assert response.headers["accept-ranges"] == "bytes"


@pytest.mark.parametrize("asked", ["bytes=0-9,20-29", "bytes=9-3", "items=0-9", "bytes=-"])
def test_other_ranges_get_the_whole_video(videos, asked):
    frame = frame_at(videos, videos.other, 0.0)
    data = (videos.media / "other.mp4").read_bytes()
    response = videos.client.get(f"/api/images/{frame['id']}/file", headers={"Range": asked})
    assert (response.status_code, response.content) == (200, data)


def test_a_range_past_the_end_is_416_naming_the_size(videos):
    frame = frame_at(videos, videos.other, 0.0)
    size = (videos.media / "other.mp4").stat().st_size
    for asked in (f"bytes={size}-", "bytes=-0"):
        response = videos.client.get(f"/api/images/{frame['id']}/file", headers={"Range": asked})
        assert response.status_code == 416, asked
        assert response.headers["content-range"] == f"bytes */{size}"
        assert response.json()["parameter"] == "range" and f"{size:,} bytes" in response.text


def test_export_names_the_video_and_time_of_frames(videos):
    response = videos.client.get("/api/export", params={"q": "red circle", "limit": 100})
    assert response.status_code == 200, response.text
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert {"video_id", "frame_time"} <= set(COLUMNS) and list(rows[0]) == list(COLUMNS)
    assert rows[0]["video_id"] == videos.clip and float(rows[0]["frame_time"]) == pytest.approx(
        3.0, abs=0.5
    )
    images = [r for r in rows if r["sha256"]]
    assert len(images) == len(IMAGES)
    assert all(r["video_id"] == "" and r["frame_time"] == "" for r in images)
    grouped = videos.client.get(
        "/api/export", params={"q": "red", "limit": 100, "group_by": "video", "format": "ndjson"}
    )
    lines = [line for line in grouped.text.splitlines() if line]
    assert len(lines) == len(IMAGES) + 2  # posts none: one row per image and per video
    manifest = videos.client.get(
        "/api/export/manifest", params={"q": "red", "limit": 100, "group_by": "video"}
    ).json()
    assert "one frame per video" in manifest["selection"]
    assert (manifest["store"]["images"], manifest["store"]["videos"]) == (len(IMAGES), 2)


def test_status_counts_images_videos_and_frames_apart(videos):
    frames = videos.store.images.count() - len(IMAGES)
    status = store_status(videos.store, Settings(store="unused"))
    assert (status["images"], status["videos"], status["frames"]) == (len(IMAGES), 2, frames)
    assert frames >= len(CLIP) + len(OTHER)
    served = videos.client.get("/api/status").json()
    assert (served["images"], served["videos"], served["frames"]) == (len(IMAGES), 2, frames)

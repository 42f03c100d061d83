"""Videos indexed as their frames: scene cuts found from the picture, one point a kept frame
carrying the video's posts, idempotent re-index, and bad files failing alone (both backends)."""

from __future__ import annotations

import shutil
import uuid
import zipfile
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from indexer.cache import IndexCache
from indexer.records import MediaItem
from indexer.run import Sources, run_index
from indexer.video import FramePlan, extract_frames
from picsift.store import Filter, Match
from picsift.thumbs import thumb_path
from tests.indexer.conftest import shape_images
from tests.videos import write_audio, write_video

SCENES = [(0, "blue square"), (3, "red circle"), (7, "green triangle")]


def item(path: Path, member: str | None = None) -> MediaItem:
    return MediaItem(path, member, path.stat().st_size, path.stat().st_mtime, "d", (), "video")


@pytest.mark.parametrize(
    ("name", "codec"),
    [("a.mp4", None), ("a.webm", None), ("a.mov", None), ("a.mkv", "mpeg4")],
)
def test_cuts_are_found_from_the_picture_in_every_codec(tmp_path, name, codec):
    # x264 puts a keyframe at a cut, mpeg4 every half second, VP9 where it likes: only the
    # picture tells where the scenes change.
    path = write_video(tmp_path / name, SCENES, duration=10, codec=codec)
    video = extract_frames(item(path), FramePlan())
    assert [f.time for f in video.frames] == [0.0, 3.0, 7.0]
    assert (video.width, video.height, video.duration, video.warning) == (96, 128, 10.0, None)
    assert (
        video.format == f"video/{'mpeg4' if codec else {'.webm': 'vp9'}.get(path.suffix, 'h264')}"
    )


def ramp(path: Path, seconds: int, fps: int = 10) -> Path:
    """A grey picture brightening slowly: no cut anywhere, but far from its start by the end."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = 64, 64, "yuv420p"
        for n in range(seconds * fps):
            level = 40 + n * 150 // (seconds * fps)
            frame = av.VideoFrame.from_ndarray(np.full((64, 64, 3), level, np.uint8), "rgb24")
            frame.pts, frame.time_base = n, Fraction(1, fps)
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return path


def test_a_floor_keeps_a_frame_every_few_seconds_of_slow_change(tmp_path):
    video = extract_frames(item(ramp(tmp_path / "ramp.mp4", 12)), FramePlan(every=5))
    assert [f.time for f in video.frames] == [0.0, 5.0, 10.0]


def test_near_identical_frames_are_dropped(tmp_path):
    still = write_video(tmp_path / "still.mp4", [(0, "red circle")], duration=12)
    assert [f.time for f in extract_frames(item(still), FramePlan(every=2)).frames] == [0.0]


def test_the_cap_keeps_the_frames_that_changed_most(tmp_path):
    path = write_video(tmp_path / "a.mp4", SCENES, duration=10)
    video = extract_frames(item(path), FramePlan(max_frames=2))
    novelty = {f.time: f.novelty for f in extract_frames(item(path), FramePlan()).frames}
    kept = max((3.0, 7.0), key=novelty.get)
    assert [f.time for f in video.frames] == [0.0, kept]


def test_a_zip_member_is_read_from_the_archive(tmp_path):
    path = write_video(tmp_path / "a.webm", SCENES, duration=10)
    archive = tmp_path / "v.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        z.write(path, "videos/a.webm")
    video = extract_frames(item(archive, "videos/a.webm"), FramePlan())
    assert [f.time for f in video.frames] == [0.0, 3.0, 7.0]


@pytest.fixture
def corpus(tmp_path):
    """Two videos (one twice, under another post id), toy images, and bad video files."""
    src = tmp_path / "src"
    src.mkdir()
    write_video(src / "7001.mp4", SCENES, duration=10)
    shutil.copy(src / "7001.mp4", src / "7003.mp4")
    write_video(
        src / "7002.webm", [(0, "yellow triangle"), (4, "green circle")], duration=8, seed=2
    )
    for i, (image, _, _) in enumerate(shape_images(4)):
        image.save(src / f"{8000 + i}.jpg")
    write_audio(src / "7004.m4a")
    (src / "7005.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 200)
    whole = (src / "7002.webm").read_bytes()
    (src / "7006.webm").write_bytes(whole[: len(whole) * 2 // 3])  # cut inside its 2nd scene
    return src


def index(store, encoder, data_dir: Path, *sources: Path) -> dict:
    cache = IndexCache(data_dir)
    try:
        run = run_index(store, encoder, cache, data_dir, Sources(sources, "tiktok"))
    finally:
        cache.close()
    return run.report


def frames_of(store, post_id: str) -> list:
    flt = Filter(must=(Match("posts[].post_id", post_id),))
    return sorted(store.images.scroll(flt), key=lambda r: r.payload.get("frame_time") or 0)


def test_videos_are_indexed_as_frames_carrying_their_posts(make_store, toy_encoder, corpus):
    store = make_store()
    data = corpus.parent / "data"
    report = index(store, toy_encoder, data, corpus)

    assert (report["new"], report["new_videos"], report["new_frames"]) == (4, 3, 6)
    failed = {Path(f["path"]).name: f["reason"] for f in report["failed"]}
    assert failed == {
        "7004.m4a": "audio only: the file has no video stream",
        "7005.mp4": "not a readable video: Invalid data found when processing input",
    }
    truncated = f"{corpus / '7006.webm'}: its picture ends at 3.9 s of the 8.0 s the file declares"
    assert any(w.startswith(truncated) for w in report["warnings"])

    frames = frames_of(store, "7001")
    assert [f.payload["frame_time"] for f in frames] == [0.0, 3.0, 7.0]
    first = frames[0].payload
    video_sha = first["video_sha256"]
    assert {f.payload["video_id"] for f in frames} == {str(uuid.UUID(hex=video_sha[:32]))}
    assert {(p["post_id"]) for p in first["posts"]} == {"7001", "7003"}  # one video, two posts
    assert {Path(f["path"]).name for f in first["files"]} == {"7001.mp4", "7003.mp4"}
    assert first["sha256"] == "" and first["format"] == "video/h264"
    assert [f.payload["frame_index"] for f in frames] == [0, 1, 2]
    assert {f.payload["video_frames"] for f in frames} == {3}
    assert first["video_duration"] == 10.0 and (first["width"], first["height"]) == (96, 128)
    assert all(thumb_path(data, f.payload["frame_key"]).is_file() for f in frames)
    assert len({f.id for f in frames}) == 3

    # The toy CLIP finds the moment the red circle appears.
    vector = toy_encoder.embed_texts(["a red circle"])[0]
    best = store.images.query(vector, limit=1)[0]
    assert (best.payload["video_sha256"], best.payload["frame_time"]) == (video_sha, 3.0)


def test_reindexing_a_video_writes_nothing_new_and_joins_new_posts(make_store, toy_encoder, corpus):
    store = make_store()
    data = corpus.parent / "data"
    index(store, toy_encoder, data, corpus)
    before = {r.id: r.payload for r in store.images.scroll()}

    again = index(store, toy_encoder, data, corpus)
    assert (again["new"], again["new_videos"], again["known_videos"]) == (0, 0, 3)
    assert {r.id: r.payload for r in store.images.scroll()} == before

    elsewhere = corpus.parent / "more"
    elsewhere.mkdir()
    shutil.copy(corpus / "7002.webm", elsewhere / "9001.webm")
    report = index(store, toy_encoder, data, elsewhere)
    assert (report["new_videos"], report["known_videos"], report["new_frames"]) == (0, 1, 0)
    frames = frames_of(store, "9001")
    assert len(frames) == 2 and all(
        {p["post_id"] for p in f.payload["posts"]} == {"7002", "9001"} for f in frames
    )


def test_videos_in_a_zip_are_indexed(make_store, toy_encoder, tmp_path):
    path = write_video(tmp_path / "7001.mp4", SCENES, duration=10)
    archive = tmp_path / "videos.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.write(path, "7001.mp4")
        z.writestr("notes.txt", "not a video")
    store = make_store()
    report = index(store, toy_encoder, tmp_path / "data", archive)
    assert (report["new_videos"], report["new_frames"], report["failed"]) == (1, 3, [])
    files = frames_of(store, "7001")[0].payload["files"]
    assert files == [{"path": str(archive), "member": "7001.mp4", "dataset": "tiktok"}]


def test_picsift_index_captions_frames_and_counts_videos_apart(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from cli.main import app
    from picsift.store.edge import EdgeStore

    monkeypatch.setenv("PICSIFT_CAPTION_MODEL", "toy")
    src = tmp_path / "src"
    src.mkdir()
    write_video(src / "7001.mp4", SCENES, duration=10)
    shutil.copy(src / "7001.mp4", src / "7003.mp4")
    shape_images(1)[0][0].save(src / "8000.jpg")
    store = tmp_path / "store"
    argv = ["--store", str(store), "--model", "toy", "index", str(src)]
    result = CliRunner().invoke(app, argv, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert (
        "found 3 files: 1 new images, 1 new videos (3 frames kept), 0 already indexed, 0 failed, "
        "1 more copies of the same content"
    ) in result.output
    assert "captions: 4 written, 0 failed" in result.output
    with EdgeStore(store) as opened:
        captions = {
            r.payload.get("frame_time"): r.payload["caption"] for r in opened.images.scroll()
        }
    assert len(captions) == 4 and all(captions.values())

"""Videos on the command line: `picsift search` prints where in its video a frame hit is and
keeps one hit per video with --group-by video; `picsift status` counts videos and frames apart
from images; `picsift export` writes the frame columns."""

from __future__ import annotations

import csv
import json

import pytest
from typer.testing import CliRunner

from cli.main import app
from picsift.store.edge import EdgeStore
from tests.search.conftest import index_sources
from tests.search.video_helpers import IMAGES, write_media

runner = CliRunner()


@pytest.fixture(scope="module")
def video_store(tmp_path_factory):
    """A closed embedded store of the media folder, and its frames' payloads by id."""
    from picsift.models.encoder import ClipEncoder
    from picsift.models.runtime import Runtime

    toy_clip = ClipEncoder("toy", runtime=Runtime("cpu", "fp32", "test"), batch_size=16)
    root = tmp_path_factory.mktemp("video-cli")
    write_media(root / "media")
    with EdgeStore(root / "store") as store:
        index_sources(store, toy_clip, store.directory, [root / "media"])
        frames = {
            r.id: r.payload for r in store.images.scroll() if r.payload.get("video_id") is not None
        }
    return root / "store", frames


def picsift(store, *args: str) -> str:
    result = runner.invoke(app, ["--store", str(store), *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_search_prints_the_frame_time_of_frame_hits(video_store):
    store, frames = video_store
    out = picsift(store, "search", "red", "circle", "--limit", "3")
    first = out.splitlines()[2]  # after the match count and the relevance verdict
    frame_id = first.split()[2]
    payload = frames[frame_id]
    assert f"  video {payload['video_id']} @ {payload['frame_time']:.1f} s" in first
    assert payload["frame_time"] == pytest.approx(3.0, abs=0.5)


def test_search_group_by_video_keeps_one_hit_per_video(video_store):
    store, frames = video_store
    found = json.loads(
        picsift(store, "search", "red", "--limit", "100", "--group-by", "video", "--json")
    )
    videos = [h["video_id"] for h in found["hits"] if h["video_id"]]
    assert len(videos) == len(set(videos)) == len({p["video_id"] for p in frames.values()})
    assert len(found["hits"]) == len(IMAGES) + 2
    refused = runner.invoke(app, ["--store", str(store), "search", "red", "--group-by", "clip"])
    assert "group_by: must be 'post', 'author' or 'video'" in str(refused.exception)


def test_status_counts_videos_and_frames_apart(video_store):
    store, frames = video_store
    status = json.loads(picsift(store, "status", "--json"))
    assert (status["images"], status["videos"], status["frames"]) == (len(IMAGES), 2, len(frames))
    assert f"videos    2 ({len(frames)} frames)" in picsift(store, "status")


def test_export_writes_the_frame_columns(video_store, tmp_path):
    store, frames = video_store
    out = tmp_path / "out.csv"
    picsift(store, "export", "--out", str(out), "--group-by", "video")
    rows = list(csv.DictReader(out.open(encoding="utf-8", newline="")))
    by_video = [r for r in rows if r["video_id"]]
    assert len(by_video) == 2 and len(rows) == len(IMAGES) + 2
    for row in by_video:
        assert float(row["frame_time"]) == frames[row["image_id"]]["frame_time"]

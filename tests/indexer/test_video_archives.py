"""4CAT's video zips indexed as their frames: "Download videos" and the "Download TikTok videos"
preset, written as 4CAT writes them (`tests.fourcat.videos`) around real toy-shape videos,
through `indexer.run.run_index` with the toy model and an embedded store. Every frame point
must carry the posts its video's `.metadata.json` entry names, be named by the video's hash and
its time, and stay one point however often the video is seen or indexed."""

from __future__ import annotations

import hashlib
import uuid
import zipfile
from pathlib import Path

import pytest

from indexer.cache import IndexCache
from indexer.reader import MediaReader
from indexer.run import Sources, run_index
from picsift.store.edge import EdgeStore
from picsift.thumbs import thumb_path
from tests.fourcat import archives, tables
from tests.fourcat import videos as video_zips
from tests.fourcat.items import TIKTOK_IDS, instagram_items, tiktok_expected, tiktok_items

TIKTOK = archives.key("tiktok-search/cats")
INSTAGRAM = archives.key("instagram-search/cats")
UPLOAD = archives.key("upload-search/tiktok-cats")
FIRST, SECOND, THIRD = TIKTOK_IDS
SCENES = {
    FIRST: [(0, "blue square"), (1, "red circle")],
    SECOND: [(0, "green triangle"), (1, "yellow circle")],
    THIRD: [(0, "red square")],
}


def toy(post_id: str) -> bytes:
    """The real video of a post: two seconds of its scenes."""
    return video_zips.toy_video(SCENES[post_id], seed=TIKTOK_IDS.index(post_id))


def index(store_dir: Path, encoder, *sources: Path) -> dict:
    """One `run_index` over the sources (the store's own folder as the data folder, as the
    embedded store's default); the report."""
    cache = IndexCache(store_dir)
    try:
        with EdgeStore(store_dir) as store, MediaReader() as reader:
            run = run_index(store, encoder, cache, store_dir, Sources(sources), read=reader.read)
    finally:
        cache.close()
    return run.report


def frame_points(store_dir: Path) -> dict[str, dict]:
    """Every frame point's payload, by point id."""
    with EdgeStore(store_dir) as store:
        return {r.id: r.payload for r in store.images.scroll() if "video_sha256" in r.payload}


def by_video(points: dict[str, dict]) -> dict[str, list[tuple[str, dict]]]:
    """The frame points of each video (by its sha256), in time order."""
    out: dict[str, list[tuple[str, dict]]] = {}
    for point_id, payload in points.items():
        out.setdefault(payload["video_sha256"], []).append((point_id, payload))
    return {sha: sorted(frames, key=lambda f: f[1]["frame_time"]) for sha, frames in out.items()}


def listed_videos(archive: Path) -> dict[str, tuple[str, set[str]]]:
    """Each video member of a 4CAT video zip: (sha256 of its bytes, the post ids of the
    `.metadata.json` entry that lists it)."""
    posts_of = {
        file["filename"]: set(entry["post_ids"])
        for entry in archives.read_metadata(archive).values()
        for file in entry.get("files", [])
    }
    with zipfile.ZipFile(archive) as zf:
        return {
            name: (hashlib.sha256(zf.read(name)).hexdigest(), ids) for name, ids in posts_of.items()
        }


def assert_frames_of(store_dir: Path, archive: Path, members: set[str]) -> dict:
    """Every listed video in `members` is indexed as frames that carry its entry's posts and are
    named as the contract names them; no other video is. Returns the frames by video."""
    listed = {name: v for name, v in listed_videos(archive).items() if name in members}
    videos = by_video(frame_points(store_dir))
    assert set(videos) == {sha for sha, _ in listed.values()}
    for name, (sha, post_ids) in listed.items():
        frames = videos[sha]
        times = [p["frame_time"] for _, p in frames]
        assert times[0] == 0.0 and times == sorted(set(times))
        for n, (point_id, payload) in enumerate(frames):
            assert {p["post_id"] for p in payload["posts"]} >= post_ids
            assert payload["n_posts"] == len(payload["posts"])
            assert (payload["frame_index"], payload["video_frames"]) == (n, len(frames))
            assert payload["video_id"] == str(uuid.UUID(hex=sha[:32]))
            assert payload["sha256"] == "" and payload["format"] == "video/h264"
            millis = round(payload["frame_time"] * 1000)
            key = hashlib.sha256(f"{sha}@{millis}".encode()).hexdigest()
            assert payload["frame_key"] == key and point_id == str(uuid.UUID(hex=key[:32]))
            assert payload["frame_time"] == round(payload["frame_time"], 3)
            assert payload["video_duration"] == pytest.approx(2.0, abs=0.11)
            assert thumb_path(store_dir, key).exists()
            assert (str(archive), name) in {(f["path"], f["member"]) for f in payload["files"]}
    return videos


def preset(folder: Path, **kw) -> tuple[Path, str]:
    return video_zips.tiktok_video_preset(folder, tiktok_items(), source_key=TIKTOK, **kw)


def tiktok_table(folder: Path) -> Path:
    return tables.fourcat_csv(folder / f"tiktok-cats-{TIKTOK}.csv", "tiktok", tiktok_items())


# --- the TikTok preset and the video downloader ------------------------------------------------


def test_preset_frames_carry_the_posts_of_their_video(tmp_path, toy_encoder):
    # "Download TikTok videos" downloads from a hidden step: from_dataset is that step's key,
    # and the videos are file.mp4, file-1.mp4, file-2.mp4 (TikTok's CDN paths end in `/`).
    videos, helper = preset(tmp_path, videos={p: toy(p) for p in TIKTOK_IDS})
    assert {e["from_dataset"] for e in archives.read_metadata(videos).values()} == {helper}
    store = tmp_path / "store"
    report = index(store, toy_encoder, tiktok_table(tmp_path), videos)

    assert report["failed"] == [] and report["skipped"] == []
    assert (report["new_videos"], report["posts_linked"]) == (3, 3)
    frames = assert_frames_of(store, videos, {"file.mp4", "file-1.mp4", "file-2.mp4"})
    assert report["new_frames"] == sum(map(len, frames.values()))
    sha_of = {name: sha for name, (sha, _) in listed_videos(videos).items()}
    assert [p["frame_time"] for _, p in frames[sha_of["file.mp4"]]] == [0.0, 1.0]  # the cut
    assert [p["frame_time"] for _, p in frames[sha_of["file-2.mp4"]]] == [0.0]  # one scene
    for name, (sha, (post_id,)) in listed_videos(videos).items():
        assert {p["post_id"] for _, x in frames[sha] for p in x["posts"]} == {post_id}, name


@pytest.mark.parametrize("order", ["one run", "table first", "videos first"])
def test_preset_videos_join_the_dataset_of_their_table(tmp_path, toy_encoder, order):
    # The preset's videos name the hidden step's key; the table is named with its own
    # (`tiktok-cats-<key>.csv`): the videos join the table's dataset, whichever comes first.
    videos, helper = preset(tmp_path, videos={p: toy(p) for p in TIKTOK_IDS})
    table = tiktok_table(tmp_path)
    store = tmp_path / "store"
    runs = {"one run": [(table, videos)], "table first": [(table,), (videos,)]}
    warnings = []
    for sources in runs.get(order, [(videos,), (table,)]):
        warnings += index(store, toy_encoder, *sources)["warnings"]
    assert any(
        w.startswith(f"dataset {helper!r}: its video frames are of 3 posts") for w in warnings
    )
    expected = {e.post_id: e for e in tiktok_expected()}
    points = frame_points(store)
    assert {p["post_id"] for x in points.values() for p in x["posts"]} == set(TIKTOK_IDS)
    for payload in points.values():
        (post,) = payload["posts"]
        entry = expected[post["post_id"]]
        assert (post["dataset"], post["author"], post["url"]) == (TIKTOK, entry.author, entry.url)
        assert {f["dataset"] for f in payload["files"]} == {TIKTOK}
    again = index(store, toy_encoder, videos)
    assert (again["new_videos"], again["known_videos"]) == (0, 3)
    assert not any("join" in w for w in again["warnings"]), "the alias holds: nothing to join"


def test_video_downloader_on_an_instagram_dataset(tmp_path, toy_encoder):
    # Instagram's `media_urls`: the video post's video is a file, the photos of the other posts
    # are "Not a Video" entries (no file, success false).
    video_post = "C3cDeFgHiJk"
    videos = video_zips.video_downloader_zip(
        tmp_path, "instagram", instagram_items(), source_key=INSTAGRAM,
        videos={video_post: toy(FIRST)},
    )  # fmt: skip
    (name,) = listed_videos(videos)
    table = tables.fourcat_csv(
        tmp_path / f"instagram-cats-{INSTAGRAM}.csv", "instagram", instagram_items()
    )
    store = tmp_path / "store"
    report = index(store, toy_encoder, table, videos)

    assert report["failed"] == [] and report["new_videos"] == 1
    frames = assert_frames_of(store, videos, {name})
    posts = {
        (p["dataset"], p["post_id"]) for f in frames.values() for _, x in f for p in x["posts"]
    }
    assert posts == {(INSTAGRAM, video_post)}


@pytest.mark.parametrize("shared", ["one URL", "same bytes at two URLs"])
def test_a_video_of_two_posts_is_indexed_once_with_both(tmp_path, toy_encoder, shared):
    if shared == "one URL":
        # An uploaded TikTok CSV whose two posts give one video URL: one entry, both post ids.
        items = tiktok_items()
        items[1]["video"]["downloadAddr"] = items[0]["video"]["downloadAddr"]
        given = {FIRST: toy(FIRST), THIRD: toy(THIRD)}
        videos = video_zips.video_downloader_zip(
            tmp_path, "tiktok", items, source_key=UPLOAD, videos=given
        )
        members = {f"{FIRST}.mp4"}
    else:
        # The preset: the same video downloaded for two posts, as two files.
        videos, _ = preset(
            tmp_path, videos={FIRST: toy(FIRST), SECOND: toy(FIRST), THIRD: toy(THIRD)}
        )
        members = {"file.mp4", "file-1.mp4"}
    store = tmp_path / "store"
    report = index(store, toy_encoder, videos)

    listed = listed_videos(videos)
    (sha,) = {listed[m][0] for m in members}
    frames = assert_frames_of(store, videos, set(listed))
    assert (report["failed"], report["new_videos"]) == ([], 2)
    assert report["new_frames"] == sum(map(len, frames.values()))
    assert len(frames[sha]) == 2
    for _, payload in frames[sha]:
        assert sorted(p["post_id"] for p in payload["posts"]) == [FIRST, SECOND]
        assert {f["member"] for f in payload["files"]} == members


def test_reindexing_writes_no_new_point(tmp_path, toy_encoder):
    videos, _ = preset(tmp_path, videos={p: toy(p) for p in TIKTOK_IDS})
    table = tiktok_table(tmp_path)
    store = tmp_path / "store"
    index(store, toy_encoder, table, videos)
    before = frame_points(store)

    again = index(store, toy_encoder, table, videos)
    assert (again["new_videos"], again["known_videos"], again["new_frames"]) == (0, 3, 0)
    assert again["new"] == 0 and again["failed"] == []
    assert frame_points(store) == before
    alone = index(store, toy_encoder, videos)  # the zip alone, a third time
    assert (alone["new_frames"], alone["known_videos"]) == (0, 3)
    assert frame_points(store) == before


# --- what goes wrong ------------------------------------------------------------------------


def test_a_failed_download_is_reported(tmp_path, toy_encoder):
    videos, _ = preset(tmp_path, videos={p: toy(p) for p in TIKTOK_IDS}, fail=[THIRD])
    (entry,) = [e for e in archives.read_metadata(videos).values() if not e["success"]]
    assert entry["post_ids"] == [THIRD] and "Code 404" in entry["error"]
    store = tmp_path / "store"
    report = index(store, toy_encoder, tiktok_table(tmp_path), videos)

    assert any(".metadata.json records 1 failed download(s)" in w for w in report["warnings"])
    assert report["failed"] == [] and report["new_videos"] == 2
    assert_frames_of(store, videos, {"file.mp4", "file-1.mp4"})
    posts = {p["post_id"] for x in frame_points(store).values() for p in x["posts"]}
    assert posts == {FIRST, SECOND}


@pytest.mark.parametrize("broken", ["placeholder bytes", "cut in half"])
def test_a_broken_video_fails_alone_with_its_reason(tmp_path, toy_encoder, broken):
    given = {FIRST: toy(FIRST), SECOND: toy(SECOND)}
    if broken == "cut in half":  # a download that broke off: MP4's index (moov) is at the end
        given[THIRD] = toy(THIRD)[: len(toy(THIRD)) // 2]
    videos, _ = preset(tmp_path, videos=given)  # no video given: placeholder bytes
    store = tmp_path / "store"
    report = index(store, toy_encoder, tiktok_table(tmp_path), videos)

    (failure,) = report["failed"]
    assert failure["path"] == f"{videos}!file-2.mp4"
    assert failure["reason"].startswith("not a readable video: "), failure
    assert report["new_videos"] == 2
    assert_frames_of(store, videos, {"file.mp4", "file-1.mp4"})

    again = index(store, toy_encoder, videos)  # still named on the next run, never indexed
    assert again["failed"] == report["failed"] and again["new_frames"] == 0

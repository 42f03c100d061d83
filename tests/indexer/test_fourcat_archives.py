"""Every 4CAT media archive with every post table, indexed as a researcher would: table and
archive in one run, the archive later, the table later. Archives and tables are written as
4CAT's and Zeeschuimer's own code writes them (tests/fourcat). Real toy model, real store, the
`picsift index` command; every image must end up with exactly its posts, each with author,
UTC time, URL, body and hashtags, and every file that is not indexed must be named.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections.abc import Callable
from pathlib import Path, PurePosixPath

import pytest

from indexer.listing import NOT_MEDIA
from indexer.media import scan_media
from picsift.models.decode import Unreadable, read_media
from picsift.store.edge import EdgeStore
from tests.fourcat import archives, tables
from tests.fourcat import videos as video_zips
from tests.fourcat.items import (
    Expected,
    instagram_expected,
    instagram_items,
    iso,
    telegram_expected,
    telegram_messages,
    tiktok_expected,
    tiktok_items,
)
from tests.indexer.conftest import index

TIKTOK = archives.key("tiktok-search/cats")
INSTAGRAM = archives.key("instagram-search/cats")
TELEGRAM = archives.key("telegram-search/catnews")
SOURCE = {"tiktok": TIKTOK, "instagram": INSTAGRAM, "telegram": TELEGRAM}
ITEMS = {"tiktok": tiktok_items, "instagram": instagram_items, "telegram": telegram_messages}
EXPECTED = {
    "tiktok": tiktok_expected,
    "instagram": instagram_expected,
    "telegram": telegram_expected,
}
TABLES: dict[str, Callable[..., Path]] = {
    "csv": tables.fourcat_csv,
    "api-stream": tables.api_stream,
    "4cat-ndjson": tables.fourcat_ndjson,
    "zeeschuimer-ndjson": tables.zeeschuimer_ndjson,
    "zeeschuimer-csv": tables.zeeschuimer_csv,
}
EXTENSION = {"csv": "csv", "zeeschuimer-csv": "csv"}


def stored(store: Path) -> dict[str, list[dict]]:
    """Each stored image's posts, by sha256."""
    with EdgeStore(store) as s:
        return {r.payload["sha256"]: r.payload["posts"] for r in s.images.scroll()}


def table(folder: Path, platform: str, writer: str) -> Path:
    """The platform's posts as `writer` writes them, named as 4CAT names its result files."""
    name = f"{platform}-cats-{SOURCE[platform]}.{EXTENSION.get(writer, 'ndjson')}"
    return TABLES[writer](folder / name, platform, ITEMS[platform]())


def members(archive: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(archive) as zf:
        return {i.filename: zf.read(i) for i in zf.infolist() if not i.is_dir()}


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- what each archive is, from its writer -----------------------------------------------------


def truth_by_url(archive: Path, expected: list[Expected]) -> dict[str, set[str]]:
    """An image downloader's zip: each post's images are the files of its image URLs."""
    files, meta = members(archive), archives.read_metadata(archive)
    out: dict[str, set[str]] = {}
    for entry in expected:
        for url in entry.image_urls:
            out.setdefault(sha(files[meta[url]["filename"]]), set()).add(entry.post_id)
    return out


def truth_by_name(archive: Path) -> dict[str, set[str]]:
    """TikTok's and Telegram's image downloaders name each file `<post id>.jpeg`."""
    out: dict[str, set[str]] = {}
    for name, data in members(archive).items():
        if name != archives.METADATA:
            out.setdefault(sha(data), set()).add(PurePosixPath(name).stem)
    return out


def truth_of_frames(archive: Path) -> dict[str, set[str]]:
    """A frame zip: each frame belongs to the posts of the video its folder is named after."""
    meta = archives.read_metadata(archive)
    posts_of = {
        PurePosixPath(f["filename"]).stem: set(entry["post_ids"])
        for entry in meta.values()
        for f in entry.get("files", [])
    }
    out: dict[str, set[str]] = {}
    for name, data in members(archive).items():
        folder = PurePosixPath(name).parent.name
        if name.endswith(".jpeg") and folder in posts_of:
            out.setdefault(sha(data), set()).update(posts_of[folder])
    return out


def tiktok_frames(folder: Path) -> Path:
    videos, _ = video_zips.tiktok_video_preset(folder, tiktok_items(), source_key=TIKTOK)
    return video_zips.video_frames_zip(folder, videos)


def tiktok_scenes(folder: Path) -> Path:
    videos, _ = video_zips.tiktok_video_preset(folder, tiktok_items(), source_key=TIKTOK)
    return video_zips.scene_frames_zip(folder, videos, scenes={"file": 2, "file-2": 1})


ARCHIVES: dict[str, tuple[str, Callable[[Path], Path], Callable[[Path], dict]]] = {
    "tiktok-thumbnails": (
        "tiktok",
        lambda d: archives.tiktok_images_zip(
            d, tiktok_items(), kind="thumbnail", source_key=TIKTOK
        ),
        truth_by_name,
    ),
    "tiktok-music": (
        "tiktok",
        lambda d: archives.tiktok_images_zip(d, tiktok_items(), kind="music", source_key=TIKTOK),
        truth_by_name,
    ),
    "tiktok-avatars": (
        "tiktok",
        lambda d: archives.tiktok_images_zip(d, tiktok_items(), kind="avatar", source_key=TIKTOK),
        truth_by_name,
    ),
    "tiktok-frames": ("tiktok", tiktok_frames, truth_of_frames),
    "tiktok-scene-frames": ("tiktok", tiktok_scenes, truth_of_frames),
    "instagram-images": (
        "instagram",
        lambda d: archives.image_downloader_zip(
            d, "instagram", instagram_items(), source_key=INSTAGRAM
        ),
        lambda z: truth_by_url(z, instagram_expected()),
    ),
    "telegram-images": (
        "telegram",
        lambda d: archives.telegram_media_zip(d, telegram_messages(), source_key=TELEGRAM),
        truth_by_name,
    ),
}
CASES = [
    ("tiktok-thumbnails", "csv"),
    ("tiktok-thumbnails", "zeeschuimer-csv"),
    ("tiktok-music", "zeeschuimer-ndjson"),
    ("tiktok-avatars", "api-stream"),
    ("tiktok-frames", "4cat-ndjson"),
    ("tiktok-scene-frames", "csv"),
    ("instagram-images", "csv"),
    ("instagram-images", "4cat-ndjson"),
    ("instagram-images", "zeeschuimer-ndjson"),
    ("instagram-images", "api-stream"),
    ("telegram-images", "csv"),
    ("telegram-images", "4cat-ndjson"),
    ("telegram-images", "api-stream"),
]
ORDERS = {
    "together": lambda store, t, a: [index(store, t, a)],
    "archive-later": lambda store, t, a: [index(store, t), index(store, a)],
    "table-later": lambda store, t, a: [index(store, a), index(store, t)],
}


def post_fields(post: dict) -> tuple:
    return (post["author"], post["ts"], post["timestamp"], post["url"], post["body"])


def expected_fields(entry: Expected) -> tuple:
    return (entry.author, entry.ts, iso(entry.ts), entry.url, entry.body)


@pytest.mark.slow
@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize(("archive", "writer"), CASES)
def test_every_post_gets_its_images_in_every_order(tmp_path, archive, writer, order):
    platform, write_archive, truth_of = ARCHIVES[archive]
    zip_path = write_archive(tmp_path)
    table_path = table(tmp_path, platform, writer)
    reports = ORDERS[order](tmp_path / "store", table_path, zip_path)
    truth = truth_of(zip_path)
    expected = {e.post_id: e for e in EXPECTED[platform]()}

    images = stored(tmp_path / "store")
    assert {s: {p["post_id"] for p in posts} for s, posts in images.items()} == truth
    for posts in images.values():
        for post in posts:
            entry = expected[post["post_id"]]
            assert post_fields(post) == expected_fields(entry), post["post_id"]
            assert tuple(post["hashtags"]) == entry.hashtags
    assert len({p["dataset"] for posts in images.values() for p in posts}) == 1

    linked = set().union(*truth.values())
    last = reports[-1]
    assert last["failed"] == []
    assert last["posts_linked"] == len(linked)
    if order != "archive-later":  # there the table's run counts the posts without images
        assert last["posts_without_media"] == len(expected) - len(linked)
    assert sum(r["found"] for r in reports) == sum(
        1 for n in members(zip_path) if not n.endswith((".log", archives.METADATA))
    )
    skipped = {PurePosixPath(s["path"].split("!")[-1]).name for r in reports for s in r["skipped"]}
    logs = {PurePosixPath(n).name for n in members(zip_path) if n.endswith(".log")}
    assert skipped == logs


# --- the findings, one by one ----------------------------------------------------------------


def test_mpo_photo_is_an_image(tmp_path):
    # 4CAT names a multi-picture JPEG (phone HDR photos) `.mpo` after Pillow's format.
    zip_path = archives.image_downloader_zip(
        tmp_path, "instagram", instagram_items(), source_key=INSTAGRAM
    )
    scan = scan_media(zip_path)
    assert {m.member: m.post_ids for m in scan.media}["carousel-b.mpo"] == ("C2bCdEfGhIj",)
    assert scan.skipped == [] and scan.warnings == []


def test_every_skipped_file_is_named_with_its_reason(tmp_path):
    # The preset's videos here are placeholder bytes: read as videos, each fails alone.
    videos, _ = video_zips.tiktok_video_preset(tmp_path, tiktok_items(), source_key=TIKTOK)
    frames = video_zips.video_frames_zip(tmp_path, videos)
    report = index(tmp_path / "store", videos, frames)
    named = {s["path"]: s["reason"] for s in report["skipped"]}
    logs = [n for n in members(frames) if n.endswith(".log")]
    assert named == {f"{frames}!{n}": NOT_MEDIA for n in logs}
    unreadable = "not a readable video: Invalid data found when processing input"
    assert {f["path"]: f["reason"] for f in report["failed"]} == {
        f"{videos}!{n}": unreadable for n in ("file.mp4", "file-1.mp4", "file-2.mp4")
    }
    assert any(
        w.startswith(f"{frames.name}: skipped {len(logs)} file(s) that are neither images nor")
        for w in report["warnings"]
    )


def test_a_few_bytes_named_jpg_fail_alone(tmp_path):
    # Pillow's BMP check read 4 bytes from a 3-byte head: struct.error, which no caller caught.
    with pytest.raises(Unreadable, match="not an image"):
        read_media(lambda: io.BytesIO(b"id\n"), 3)
    (tmp_path / "imgs").mkdir()
    (tmp_path / "imgs" / "tiny.jpg").write_bytes(b"id\n")
    (tmp_path / "imgs" / "notes").write_bytes(b"#")
    report = index(tmp_path / "store", tmp_path / "imgs")
    assert [(f["path"], f["reason"]) for f in report["failed"]] == [
        (str(tmp_path / "imgs" / "tiny.jpg"), "not an image (unknown format)")
    ]
    assert report["skipped"] == [{"path": str(tmp_path / "imgs" / "notes"), "reason": NOT_MEDIA}]


def test_shared_sound_cover_links_every_post_that_used_it(tmp_path):
    # The music cover zip is keyed by URL: of two posts sharing a sound, the first's entry is
    # overwritten and its file `<post id>.jpeg` is listed nowhere.
    zip_path = archives.tiktok_images_zip(tmp_path, tiktok_items(), kind="music", source_key=TIKTOK)
    first, second, _ = (e.post_id for e in tiktok_expected())
    assert f"{first}.jpeg" not in {e["filename"] for e in archives.read_metadata(zip_path).values()}
    scan = scan_media(zip_path)
    assert {m.member: m.post_ids for m in scan.media}[f"{first}.jpeg"] == (first,)
    index(tmp_path / "store", table(tmp_path, "tiktok", "csv"), zip_path)
    shared = {
        frozenset(p["post_id"] for p in posts) for posts in stored(tmp_path / "store").values()
    }
    assert frozenset({first, second}) in shared


def test_scenes_of_a_video_without_scenes_are_no_failure(tmp_path):
    scan = scan_media(tiktok_scenes(tmp_path))
    assert scan.failed == []
    (warning,) = scan.warnings
    assert warning.startswith(
        "1 video(s) listed in .metadata.json have no frames in this archive (file-1.mp4)"
    )


def test_frames_of_a_video_ffmpeg_could_not_read_are_named(tmp_path):
    videos, _ = video_zips.tiktok_video_preset(tmp_path, tiktok_items(), source_key=TIKTOK)
    scan = scan_media(video_zips.video_frames_zip(tmp_path, videos, failed=["file-1"]))
    assert scan.failed == []
    assert any(
        w.startswith("1 video(s) listed in .metadata.json have no frames") for w in scan.warnings
    )


def test_listed_file_missing_from_an_image_archive_is_still_a_failure(tmp_path):
    zip_path = archives.telegram_media_zip(tmp_path, telegram_messages(), source_key=TELEGRAM)
    smaller = tmp_path / "smaller.zip"
    with zipfile.ZipFile(smaller, "w") as out:
        for name, data in members(zip_path).items():
            if name != "catnews-101.jpeg":
                out.writestr(name, data)
    scan = scan_media(smaller)
    assert [f.reason for f in scan.failed] == ["listed in .metadata.json but not in the archive"]


def frame_runs(tmp_path: Path) -> tuple[Path, Path, Path, str]:
    thumbs = archives.tiktok_images_zip(
        tmp_path, tiktok_items(), kind="thumbnail", source_key=TIKTOK
    )
    videos, helper = video_zips.tiktok_video_preset(tmp_path, tiktok_items(), source_key=TIKTOK)
    return (
        table(tmp_path, "tiktok", "csv"),
        thumbs,
        video_zips.video_frames_zip(tmp_path, videos),
        helper,
    )


def assert_frames_have_their_posts(store: Path, frames: Path) -> None:
    expected = {e.post_id: e for e in tiktok_expected()}
    images = stored(store)
    for digest, post_ids in truth_of_frames(frames).items():
        posts = images[digest]
        assert {p["post_id"] for p in posts} == post_ids
        assert {p["dataset"] for p in posts} == {TIKTOK}
        assert [post_fields(p) for p in posts] == [
            expected_fields(expected[p["post_id"]]) for p in posts
        ]


def test_frames_indexed_later_follow_the_hidden_step_to_the_posts(tmp_path):
    # "Download TikTok videos" downloads from a hidden step: its frames' from_dataset is that
    # step's key, which no table has.
    csv_path, thumbs, frames, helper = frame_runs(tmp_path)
    assert {e["from_dataset"] for e in archives.read_metadata(frames).values()} == {helper}
    store = tmp_path / "store"
    index(store, csv_path, thumbs)
    report = index(store, frames)
    assert report["posts_linked"] == 3
    assert any(
        w.startswith(f"dataset {helper!r}: its video frames are of 3 posts")
        for w in report["warnings"]
    )
    assert_frames_have_their_posts(store, frames)
    again = index(store, frames)
    assert (again["known"], again["found"]) == (6, 6)
    assert not any("join" in w for w in again["warnings"]), "the alias holds: nothing to join"
    assert_frames_have_their_posts(store, frames)


def test_frames_and_thumbnails_before_their_table(tmp_path):
    csv_path, thumbs, frames, _ = frame_runs(tmp_path)
    store = tmp_path / "store"
    index(store, thumbs)
    index(store, frames)
    report = index(store, csv_path)
    assert (report["posts_linked"], report["posts_without_media"]) == (3, 0)
    assert_frames_have_their_posts(store, frames)


def test_table_thumbnails_and_frames_in_one_run(tmp_path):
    csv_path, thumbs, frames, _ = frame_runs(tmp_path)
    report = index(tmp_path / "store", csv_path, thumbs, frames)
    assert (report["posts_linked"], report["posts_without_media"]) == (3, 0)
    assert_frames_have_their_posts(tmp_path / "store", frames)


def test_table_of_another_dataset_says_none_matched(tmp_path):
    zip_path = archives.telegram_media_zip(tmp_path, telegram_messages(), source_key=TELEGRAM)
    report = index(tmp_path / "store", table(tmp_path, "instagram", "csv"), zip_path)
    assert report["posts_linked"] == 0
    assert any(
        "none of its 5 posts matched any of the 2 files of this run" in w
        for w in report["warnings"]
    )

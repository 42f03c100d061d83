"""Media sources: folders, zips and 4CAT media archives become items linked to their posts."""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import pytest

from indexer.listing import IMAGE_EXTENSIONS, NOT_MEDIA
from indexer.media import is_media_source, scan_media
from indexer.records import Failure
from tests.indexer.fixtures_media import (
    DATASET,
    POST_A,
    POST_B,
    POST_C,
    POST_D,
    POST_E,
    VIDEO_DATASET,
    VIDEO_POST,
    image_bytes,
    image_downloader_zip,
    tiktok_thumbnails_zip,
    unpack,
    video_frames_zip,
    write_zip,
)


def links(result) -> dict[str, tuple[str, ...]]:
    """Name inside the source -> post ids."""
    return {
        item.member if item.member is not None else item.path.name: item.post_ids
        for item in result.media
    }


def test_image_downloader_zip_links_every_file_to_its_posts(tmp_path):
    source = image_downloader_zip(tmp_path / "images.zip")
    result = scan_media(source, None)

    assert result.dataset == DATASET
    assert links(result) == {
        "empty.jpg": (POST_A,),
        "logo.jpg": (POST_E,),
        "photo-1.jpg": (POST_B, POST_C),
        "photo.jpg": (POST_A,),
        "shared.png": (POST_B, POST_D),
    }
    assert [item.member for item in result.media] == sorted(links(result))
    assert {item.dataset for item in result.media} == {DATASET}
    assert {item.path for item in result.media} == {source}
    assert result.failed == []
    assert result.warnings == [".metadata.json records 1 failed download(s)"]


def test_members_carry_uncompressed_size_and_the_zips_mtime(tmp_path):
    source = image_downloader_zip(tmp_path / "images.zip")
    os.utime(source, (1_700_000_000, 1_700_000_000))
    with zipfile.ZipFile(source) as archive:
        sizes = {info.filename: info.file_size for info in archive.infolist()}
    result = scan_media(source, None)
    assert {item.member: item.size for item in result.media} == {
        name: size for name, size in sizes.items() if name != ".metadata.json"
    }
    assert {item.mtime for item in result.media} == {1_700_000_000}
    empty = next(item for item in result.media if item.member == "empty.jpg")
    assert empty.size == 0 and empty.location == f"{source}!empty.jpg"


def test_dataset_argument_overrides_the_metadata(tmp_path):
    result = scan_media(image_downloader_zip(tmp_path / "images.zip"), "my-corpus")
    assert result.dataset == "my-corpus"
    assert {item.dataset for item in result.media} == {"my-corpus"}


def test_tiktok_thumbnails_with_metadata(tmp_path):
    result = scan_media(tiktok_thumbnails_zip(tmp_path / "thumbs.zip"), None)
    assert links(result) == {f"{POST_A}.jpeg": (POST_A,), f"{POST_B}.jpeg": (POST_B,)}
    assert result.dataset == DATASET
    assert result.warnings == [] and result.failed == []


def test_tiktok_thumbnails_without_metadata_take_the_stem_when_asked(tmp_path):
    source = tiktok_thumbnails_zip(tmp_path / "tiktok thumbs.zip", with_metadata=False)
    result = scan_media(source, None, stem_post_ids=True)
    assert links(result) == {f"{POST_A}.jpeg": (POST_A,), f"{POST_B}.jpeg": (POST_B,)}
    assert result.dataset == "tiktok thumbs"
    assert result.warnings == ["no usable .metadata.json: post ids taken from file names"]


def test_without_metadata_and_not_asked_there_are_no_post_ids(tmp_path):
    source = tiktok_thumbnails_zip(tmp_path / "thumbs.zip", with_metadata=False)
    result = scan_media(source, None)
    assert links(result) == {f"{POST_A}.jpeg": (), f"{POST_B}.jpeg": ()}
    assert result.warnings == [] and result.failed == []


NAMED_IN_REPORT = "each is named with the reason in the report's skipped list"


def test_metadata_wins_over_file_stems(tmp_path):
    metadata = {"https://x/1": {"filename": "cover.jpeg", "success": True, "post_ids": [POST_C]}}
    source = write_zip(tmp_path / "z.zip", {"cover.jpeg": image_bytes()}, metadata)
    assert links(scan_media(source, None, stem_post_ids=True)) == {"cover.jpeg": (POST_C,)}


EXPECTED_FRAMES = {
    f"{VIDEO_POST}/video_frame_0000001.jpeg": (VIDEO_POST,),
    f"{VIDEO_POST}/video_frame_0000002.jpeg": (VIDEO_POST,),
    "clip b/clip b_scene_1.jpeg": (POST_A, POST_B),
    "clip b/clip b_scene_2.jpeg": (POST_A, POST_B),
}


def test_video_frame_archive_links_frames_through_their_folder(tmp_path):
    source = video_frames_zip(tmp_path / "frames.zip")
    result = scan_media(source, None)
    assert links(result) == EXPECTED_FRAMES
    assert result.dataset == VIDEO_DATASET
    assert result.failed == []
    log = f"{VIDEO_POST}/ffmpeg_error.log"
    assert result.warnings == [
        ".metadata.json records 1 failed download(s)",
        f"skipped 1 file(s) that are neither images nor videos ({log}): {NAMED_IN_REPORT}",
    ]
    assert result.skipped == [Failure(f"{source}!{log}", NOT_MEDIA)]


def test_unpacked_frame_archive_gives_the_same_links(tmp_path):
    folder = unpack(video_frames_zip(tmp_path / "frames.zip"), tmp_path / "frames")
    result = scan_media(folder, None)
    by_name = {item.path.relative_to(folder).as_posix(): item.post_ids for item in result.media}
    assert by_name == EXPECTED_FRAMES
    assert all(item.member is None for item in result.media)
    assert result.dataset == VIDEO_DATASET
    assert result.failed == []


def test_unpacked_image_archive_reads_the_metadata_and_sizes(tmp_path):
    folder = unpack(image_downloader_zip(tmp_path / "images.zip"), tmp_path / "unzipped")
    result = scan_media(folder, None)
    assert links(result)["shared.png"] == (POST_B, POST_D)
    assert result.dataset == DATASET
    shared = next(item for item in result.media if item.path.name == "shared.png")
    assert shared.size == (folder / "shared.png").stat().st_size
    assert shared.mtime == (folder / "shared.png").stat().st_mtime


def test_old_tiktok_video_metadata_keyed_by_video_id(tmp_path):
    metadata = {VIDEO_POST: {"filename": f"{VIDEO_POST}.mp4", "success": True}}
    members = {f"{VIDEO_POST}/video_frame_0000001.jpeg": image_bytes()}
    result = scan_media(write_zip(tmp_path / "f.zip", members, metadata), None)
    assert [item.post_ids for item in result.media] == [(VIDEO_POST,)]


@pytest.fixture
def nested_folder(tmp_path) -> Path:
    root = tmp_path / "my images"
    (root / "a" / "b c").mkdir(parents=True)
    (root / ".git").mkdir()
    (root / "a" / "b c" / "ünïcödé 画像.png").write_bytes(image_bytes("PNG"))
    (root / "top.JPG").write_bytes(image_bytes())
    (root / "a" / "notes.txt").write_text("not an image")
    (root / ".hidden.jpg").write_bytes(image_bytes())
    (root / ".git" / "inside.jpg").write_bytes(image_bytes())
    (root / "a" / "loop").symlink_to(root, target_is_directory=True)
    (root / "alias.jpg").symlink_to(root / "top.JPG")
    return root


def test_nested_folder_with_awkward_names(nested_folder):
    result = scan_media(nested_folder, None)
    names = [item.path.relative_to(nested_folder).as_posix() for item in result.media]
    assert names == ["a/b c/ünïcödé 画像.png", "alias.jpg", "top.JPG"]
    assert result.dataset == "my images"
    assert all(item.post_ids == () and item.member is None for item in result.media)
    assert result.warnings == [
        f"skipped 1 file(s) that are neither images nor videos (a/notes.txt): {NAMED_IN_REPORT}"
    ]
    assert result.skipped == [Failure(str(nested_folder / "a" / "notes.txt"), NOT_MEDIA)]
    assert result.failed == []
    alias = result.media[1]
    assert alias.size == (nested_folder / "top.JPG").stat().st_size


def test_nested_folder_with_stem_post_ids(nested_folder):
    result = scan_media(nested_folder, "ds", stem_post_ids=True)
    assert [item.post_ids for item in result.media] == [("ünïcödé 画像",), ("alias",), ("top",)]


def test_nested_zip_without_metadata(tmp_path):
    members = {"x/y/one.jpg": image_bytes(), "two.gif": image_bytes("GIF"), "x/readme.md": b"#"}
    result = scan_media(write_zip(tmp_path / "plain.zip", members), None)
    assert [item.member for item in result.media] == ["two.gif", "x/y/one.jpg"]
    assert result.dataset == "plain"
    assert result.warnings == [
        f"skipped 1 file(s) that are neither images nor videos (x/readme.md): {NAMED_IN_REPORT}"
    ]


def test_broken_symlink_is_reported(tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "gone.jpg").symlink_to(tmp_path / "nowhere.jpg")
    result = scan_media(tmp_path / "src", None)
    assert result.media == []
    link = tmp_path / "src" / "gone.jpg"
    assert result.failed == [Failure(str(link), "cannot read file: broken link")]


def test_corrupt_zip_is_one_failure(tmp_path):
    source = tmp_path / "broken.zip"
    source.write_bytes(b"PK\x03\x04 this is not really a zip")
    result = scan_media(source, None)
    assert result.media == [] and result.dataset == "broken"
    assert len(result.failed) == 1
    assert result.failed[0].path == str(source)
    assert result.failed[0].reason.startswith("not a readable zip archive: ")


def test_missing_source_and_unknown_file_are_failures(tmp_path):
    (tmp_path / "table.csv").write_text("id\n1\n")
    missing = scan_media(tmp_path / "nope", "ds")
    other = scan_media(tmp_path / "table.csv", None)
    assert missing.failed == [Failure(str(tmp_path / "nope"), "does not exist")]
    assert other.failed == [
        Failure(str(tmp_path / "table.csv"), "not a folder, zip archive, image or video file")
    ]


def test_unreadable_folder_is_one_failure(tmp_path, monkeypatch):
    real_listdir = os.listdir

    def deny(path):
        if Path(path) == tmp_path:
            raise PermissionError(13, "Permission denied", str(path))
        return real_listdir(path)

    monkeypatch.setattr(os, "listdir", deny)
    result = scan_media(tmp_path, None)
    assert result.failed == [Failure(str(tmp_path), "cannot read folder: Permission denied")]


def test_unreadable_subfolder_is_reported_and_the_rest_kept(tmp_path, monkeypatch):
    (tmp_path / "locked").mkdir()
    (tmp_path / "locked" / "x.jpg").write_bytes(image_bytes())
    (tmp_path / "ok.jpg").write_bytes(image_bytes())
    real_scandir = os.scandir

    def deny(path="."):
        if Path(path) == tmp_path / "locked":
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", deny)
    result = scan_media(tmp_path, None)
    assert [item.path.name for item in result.media] == ["ok.jpg"]
    assert result.failed == [
        Failure(str(tmp_path / "locked"), "cannot read folder: Permission denied")
    ]


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        (b"{not json", "not valid JSON: "),
        (b"[]", "expected an object keyed by URL, got a list"),
        (
            json.dumps({"https://x/a.jpg": {"filename": "a.jpg", "post_ids": POST_A}}).encode(),
            "entry 'https://x/a.jpg': 'post_ids' is a string, expected a list",
        ),
        (
            json.dumps({"https://x/a.jpg": {"files": [{"filename": 3}]}}).encode(),
            "entry 'https://x/a.jpg': 'filename' is a number, expected a string",
        ),
    ],
)
def test_malformed_metadata_is_a_failure_and_images_are_kept(tmp_path, raw, problem):
    source = write_zip(tmp_path / "m.zip", {f"{POST_A}.jpeg": image_bytes()}, raw)
    result = scan_media(source, None, stem_post_ids=True)
    assert links(result) == {f"{POST_A}.jpeg": (POST_A,)}
    assert result.dataset == "m"
    [failure] = result.failed
    assert failure.path == f"{source}!.metadata.json"
    assert failure.reason.startswith(f"malformed .metadata.json: {problem}")
    assert result.warnings == ["no usable .metadata.json: post ids taken from file names"]


def test_one_bad_metadata_entry_keeps_the_good_ones(tmp_path):
    metadata = {
        "https://x/a.jpg": {"filename": "a.jpg", "success": True, "post_ids": [POST_A]},
        "https://x/b.jpg": {"filename": "b.jpg", "success": True, "post_ids": POST_B},
        "https://x/c.jpg": ["not", "an", "object"],
        "https://x/d.jpg": {"filename": "d.jpg", "success": True, "post_ids": [POST_B]},
    }
    members = {"a.jpg": image_bytes(), "b.jpg": image_bytes("PNG"), "d.jpg": image_bytes()}
    source = write_zip(tmp_path / "m.zip", members, metadata)
    result = scan_media(source, None)
    assert links(result) == {"a.jpg": (POST_A,), "b.jpg": (), "d.jpg": (POST_B,)}
    location = f"{source}!.metadata.json"
    assert [(f.path, f.reason) for f in result.failed] == [
        (
            location,
            "malformed .metadata.json: entry 'https://x/b.jpg': 'post_ids' is a string, "
            "expected a list; its other entries are used",
        ),
        (
            location,
            "malformed .metadata.json: entry 'https://x/c.jpg' is a list, not an object; "
            "its other entries are used",
        ),
    ]


def test_malformed_metadata_in_a_folder_names_the_file(tmp_path):
    (tmp_path / ".metadata.json").write_text("{")
    (tmp_path / "a.png").write_bytes(image_bytes("PNG"))
    result = scan_media(tmp_path, "ds")
    assert [f.path for f in result.failed] == [str(tmp_path / ".metadata.json")]
    assert links(result) == {"a.png": ()}


def test_metadata_file_missing_from_archive_and_unlisted_files(tmp_path):
    metadata = {
        "https://x/kept.jpg": {"filename": "kept.jpg", "success": True, "post_ids": [POST_A]},
        "https://x/lost.jpg": {"filename": "lost.jpg", "success": True, "post_ids": [POST_B]},
    }
    members = {"kept.jpg": image_bytes(), "extra1.png": image_bytes("PNG"), "extra2.bmp": b"BM"}
    source = write_zip(tmp_path / "m.zip", members, metadata)
    result = scan_media(source, None)
    assert links(result) == {"extra1.png": (), "extra2.bmp": (), "kept.jpg": (POST_A,)}
    assert result.failed == [
        Failure(f"{source}!lost.jpg", "listed in .metadata.json but not in the archive")
    ]
    assert result.warnings == ["2 image(s) not listed in .metadata.json, indexed without post ids"]


def test_zip_slip_members_and_directories_are_ignored(tmp_path):
    members = {
        "../evil.jpg": image_bytes(),
        "/etc/abs.jpg": image_bytes(),
        "ok/../../up.jpg": image_bytes(),
        "C:\\win.jpg": image_bytes(),
        "safe/fine.jpg": image_bytes(),
        "safe/": b"",
        "__MACOSX/safe/._fine.jpg": b"\0",
    }
    result = scan_media(write_zip(tmp_path / "slip.zip", members), None)
    assert [item.member for item in result.media] == ["safe/fine.jpg"]
    assert result.warnings == ["ignored 4 zip member(s) with an absolute path or '..' in the name"]


def test_single_image_file_is_a_source(tmp_path):
    image = tmp_path / f"{POST_C}.webp"
    image.write_bytes(image_bytes("WEBP"))
    result = scan_media(image, None, stem_post_ids=True)
    assert [(i.path, i.member, i.post_ids) for i in result.media] == [(image, None, (POST_C,))]
    assert result.dataset == POST_C


def test_is_media_source(tmp_path):
    (tmp_path / "a.zip").write_bytes(b"")
    (tmp_path / "b.JPEG").write_bytes(b"")
    (tmp_path / "c.csv").write_text("id\n")
    assert is_media_source(tmp_path)
    assert is_media_source(tmp_path / "a.zip") and is_media_source(tmp_path / "b.JPEG")
    assert not is_media_source(tmp_path / "c.csv")
    assert not is_media_source(tmp_path / "missing.zip")
    assert {".jpg", ".jpeg", ".png", ".gif", ".webp", ".bmp", ".tif", ".tiff"} <= IMAGE_EXTENSIONS

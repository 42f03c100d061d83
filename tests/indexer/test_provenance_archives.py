"""Provenance from media archives that are not laid out as 4CAT writes them: `.metadata.json`
in a subfolder (an archive unzipped and zipped again, a folder of unpacked archives)."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from indexer.media import scan_media
from indexer.sources import collect
from tests.indexer.conftest import DATASET, post_id, write_4cat_zip, write_tiktok_csv
from tests.indexer.fixtures_media import image_bytes, unpack
from tests.indexer.test_provenance import index, posts


def rezip(archive: Path, out: Path, top: str) -> Path:
    """`archive` unzipped and zipped again with every member under `top/`."""
    with zipfile.ZipFile(archive) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            dst.writestr(f"{top}/{info.filename}", src.read(info))
    return out


def test_rezipped_archive_with_a_top_folder_links_by_its_metadata(tmp_path):
    images = write_4cat_zip(tmp_path / "images.zip", 3, shared=False)
    rezip(tmp_path / "images.zip", tmp_path / "rezipped.zip", "images-k15")
    write_tiktok_csv(tmp_path / "tiktok.csv", 3, images)
    store = tmp_path / "store"
    report = index(store, tmp_path / "tiktok.csv", tmp_path / "rezipped.zip")
    assert (report["posts_linked"], report["posts_without_media"]) == (3, 0)
    assert report["warnings"] == []
    stored = posts(store)
    assert set(stored) == {(DATASET, post_id(i)) for i in range(3)}
    assert stored[(DATASET, post_id(1))]["author"] == "user1"


def test_folder_of_unpacked_archives_uses_each_ones_metadata(tmp_path):
    write_4cat_zip(tmp_path / "a.zip", 2, shared=False)
    parent = tmp_path / "parent"
    unpack(tmp_path / "a.zip", parent / "images-k15")
    (parent / "images-k16").mkdir()
    (parent / "images-k16" / "photo.jpg").write_bytes(image_bytes())
    meta = {"https://x/photo.jpg": {"filename": "photo.jpg", "success": True, "post_ids": ["9"]}}
    (parent / "images-k16" / ".metadata.json").write_text(json.dumps(meta))
    (parent / "loose.jpg").write_bytes(image_bytes(color=(1, 2, 3)))
    result = scan_media(parent, None, stem_post_ids=True)
    by_name = {item.path.relative_to(parent).as_posix(): item.post_ids for item in result.media}
    assert by_name == {
        f"images-k15/{post_id(0)}.jpeg": (post_id(0),),
        f"images-k15/{post_id(1)}.jpeg": (post_id(1),),
        "images-k16/photo.jpg": ("9",),
        "loose.jpg": (),
    }
    assert result.dataset == DATASET
    assert result.warnings == ["1 image(s) not listed in .metadata.json, indexed without post ids"]


def test_nested_metadata_names_its_missing_files_with_their_folder(tmp_path):
    write_4cat_zip(tmp_path / "images.zip", 2, shared=False)
    rezipped = rezip(tmp_path / "images.zip", tmp_path / "rezipped.zip", "top")
    with zipfile.ZipFile(rezipped) as src, zipfile.ZipFile(tmp_path / "cut.zip", "w") as dst:
        for info in src.infolist():
            if not info.filename.endswith(f"{post_id(1)}.jpeg"):
                dst.writestr(info, src.read(info))
    result = scan_media(tmp_path / "cut.zip", None)
    assert [f.path for f in result.failed] == [f"{tmp_path / 'cut.zip'}!top/{post_id(1)}.jpeg"]


def test_unpacked_thumbnails_folder_alone_joins_a_later_table(tmp_path):
    images = write_4cat_zip(tmp_path / "images.zip", 3, shared=False)
    folder = unpack(tmp_path / "images.zip", tmp_path / "thumbs")
    (folder / ".metadata.json").unlink()
    (folder / "photo_1.jpg").write_bytes(image_bytes())  # a name that is no post id
    store = tmp_path / "store"
    report = index(store, folder)
    assert report["warnings"] == [
        "thumbs: no usable .metadata.json: post ids taken from file names"
    ]
    write_tiktok_csv(tmp_path / "tiktok.csv", 3, images)
    report = index(store, tmp_path / "tiktok.csv")
    assert (report["posts_linked"], report["posts_without_media"]) == (3, 0)
    stored = posts(store)
    assert set(stored) == {("thumbs", post_id(i)) for i in range(3)}
    assert stored[("thumbs", post_id(2))]["author"] == "user2"


def test_image_column_leaves_archives_given_beside_the_table_as_media(tmp_path):
    write_4cat_zip(tmp_path / "images.zip", 2, shared=False)
    (tmp_path / "pics").mkdir()
    (tmp_path / "pics" / "a.png").write_bytes(image_bytes("PNG"))
    (tmp_path / "table.csv").write_text("id,image_file,body\n42,pics/a.png,hi\n")
    found = collect([tmp_path / "table.csv", tmp_path / "images.zip"], None, "image_file")
    assert found.failed == []
    assert sorted(item.member or item.path.name for item in found.media) == [
        f"{post_id(0)}.jpeg",
        f"{post_id(1)}.jpeg",
        "a.png",
    ]
    assert [(p.post_id, p.body) for p in found.posts] == [("42", "hi")]

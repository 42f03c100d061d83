"""Image tables (`--image-column`): a CSV or Parquet table that names one image file per row
resolves relative, absolute and Colab paths, takes the post id from a column or the file name,
and names the missing column or the missing `pyarrow` package."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from indexer.records import Failure
from indexer.tables import read_image_table
from picsift.errors import InputError
from tests.indexer.fixtures_tables import DATASET, POST_A, POST_B, POST_C, write_csv

# --- image tables ----------------------------------------------------------------------------


def test_image_table_resolves_paths_and_ids(tmp_path: Path) -> None:
    table_dir = tmp_path / "export"
    (table_dir / "images").mkdir(parents=True)
    absolute = tmp_path / "elsewhere" / f"{POST_C}.png"
    rows = [
        {"post_id": POST_A, "image_file": f"images/{POST_A}.jpg", "body": "first", "label": "cat"},
        {
            "post_id": POST_A,
            "image_file": f"images/{POST_A}-2.jpg",
            "body": "first",
            "label": "cat",
        },
        {"post_id": "", "image_file": f"images/{POST_B}.jpg", "body": "stem id", "label": ""},
        {"post_id": "", "image_file": "", "body": "no image", "label": ""},
        {"post_id": "", "image_file": str(absolute), "body": "absolute", "label": ""},
    ]
    path = write_csv(table_dir / "table.csv", ["post_id", "image_file", "body", "label"], rows)
    result, pairs = read_image_table(path, "image_file", DATASET)

    assert pairs == [
        (table_dir / "images" / f"{POST_A}.jpg", POST_A),
        (table_dir / "images" / f"{POST_A}-2.jpg", POST_A),
        (table_dir / "images" / f"{POST_B}.jpg", POST_B),
        (absolute, POST_C),
    ]
    assert [(post.post_id, post.body) for post in result.posts] == [
        (POST_A, "first"),
        (POST_B, "stem id"),
        (POST_C, "absolute"),
    ]
    assert result.posts[0].extra == {"label": "cat"}
    assert result.failed == [Failure(f"{path}:5", "empty 'image_file' cell, no image")]
    assert result.warnings == []


def test_image_table_finds_colab_paths_under_its_folder(tmp_path: Path) -> None:
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / f"{POST_A}.jpg").write_bytes(b"jpeg")
    rows = [{"image_file": f"/content/media/images/{POST_A}.jpg"}]
    path = write_csv(tmp_path / "table.csv", ["image_file"], rows)
    result, pairs = read_image_table(path, "Image_File", DATASET)

    assert pairs == [(tmp_path / "images" / f"{POST_A}.jpg", POST_A)]
    assert [post.post_id for post in result.posts] == [POST_A]
    (warning,) = result.warnings
    assert "1 row(s) name an absolute image path that does not exist here" in warning


def test_image_table_without_the_column(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "t.csv", ["id", "path"], [{"id": "1", "path": "a.jpg"}])

    with pytest.raises(
        InputError, match=r"no column 'image_file'; the table has columns 'id', 'path'"
    ):
        read_image_table(path, "image_file", DATASET)


def test_parquet_without_pyarrow_names_the_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "t.parquet"
    path.write_bytes(b"PAR1 not really")
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)

    with pytest.raises(InputError, match=r"needs the 'pyarrow' package"):
        read_image_table(path, "image_file", DATASET)


def test_parquet_image_table(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    table = pa.table({"id": [int(POST_A), int(POST_B)], "image_file": ["a.jpg", None]})
    pq.write_table(table, tmp_path / "t.parquet")
    result, pairs = read_image_table(tmp_path / "t.parquet", "image_file", DATASET)

    assert pairs == [(tmp_path / "a.jpg", POST_A)]
    assert result.failed == [
        Failure(f"{tmp_path / 't.parquet'}:row 2", "empty 'image_file' cell, no image")
    ]

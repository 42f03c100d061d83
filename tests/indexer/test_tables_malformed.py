"""Bad post-table input: rows without ids, unreadable timestamps, duplicate ids, odd encodings,
empty files, spreadsheet-rounded ids and missing files give failures or warnings that name the
file, line and column, and the good rows are still kept."""

from __future__ import annotations

from pathlib import Path

from indexer.records import Failure, Post
from indexer.tables import read_posts
from tests.indexer.fixtures_tables import (
    DATASET,
    ISO,
    POST_A,
    POST_B,
    POST_C,
    TIKTOK_COLUMNS,
    TS,
    tiktok_row,
    write_csv,
)


def by_id(posts: list[Post]) -> dict[str, Post]:
    return {post.post_id: post for post in posts}


# --- bad CSV input ---------------------------------------------------------------------------


def test_row_without_id_fails_with_line_and_column(tmp_path: Path) -> None:
    rows = [tiktok_row(POST_A), tiktok_row(""), tiktok_row(POST_C)]
    path = write_csv(tmp_path / "t.csv", TIKTOK_COLUMNS, rows)
    result = read_posts(path, DATASET)

    assert [post.post_id for post in result.posts] == [POST_A, POST_C]
    assert result.failed == [Failure(f"{path}:3", "empty 'id' cell, the row has no post id")]


def test_csv_without_id_column_is_one_failure(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "noid.csv", ["author", "body"], [{"author": "a", "body": "b"}])
    result = read_posts(path, DATASET)

    assert result.posts == []
    (failure,) = result.failed
    assert failure.path == str(path)
    assert "no 'id' column" in failure.reason
    assert "columns 'author', 'body'" in failure.reason


def test_unreadable_timestamps_give_one_warning(tmp_path: Path) -> None:
    rows = [
        {"id": "1", "timestamp": "2024-01-31 12:00:00"},
        {"id": "2", "timestamp": "31/01/2024 noon"},
        {"id": "3", "timestamp": "soon"},
        {"id": "4", "timestamp": ""},
    ]
    path = write_csv(tmp_path / "ts.csv", ["id", "timestamp"], rows)
    result = read_posts(path, DATASET)

    posts = by_id(result.posts)
    assert (posts["1"].timestamp, posts["1"].ts) == (ISO, TS)
    for post_id in ("2", "3", "4"):
        assert (posts[post_id].timestamp, posts[post_id].ts) == ("", None)
    assert result.warnings == [
        f"{path}: 2 row(s) have a timestamp that cannot be read, those posts have no date "
        "(first at line 3, column 'timestamp', value '31/01/2024 noon')"
    ]


def test_unix_timestamp_is_the_fallback(tmp_path: Path) -> None:
    rows = [{"id": "1", "timestamp": "", "unix_timestamp": str(TS)}]
    path = write_csv(tmp_path / "ts.csv", ["id", "timestamp", "unix_timestamp"], rows)
    result = read_posts(path, DATASET)

    assert (result.posts[0].timestamp, result.posts[0].ts) == (ISO, TS)
    assert result.posts[0].extra == {}
    assert result.warnings == []


def test_duplicate_ids_keep_the_first_and_warn_once(tmp_path: Path) -> None:
    rows = [tiktok_row(POST_A, body="first"), tiktok_row(POST_A, body="again"),
            tiktok_row(POST_B, body=""), tiktok_row(POST_A, body="third")]  # fmt: skip
    path = write_csv(tmp_path / "dup.csv", TIKTOK_COLUMNS, rows)
    result = read_posts(path, DATASET)

    assert [(post.post_id, post.body) for post in result.posts] == [(POST_A, "first"), (POST_B, "")]
    assert result.warnings == [
        f"{path}: 2 row(s) repeat an earlier post id, only the first row of each id is kept "
        f"(first at line 3, id '{POST_A}')"
    ]


def test_utf8_bom(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "bom.csv", ["id", "body"], [{"id": POST_A, "body": "café"}],
                     encoding="utf-8-sig")  # fmt: skip
    result = read_posts(path, DATASET)

    assert [(post.post_id, post.body) for post in result.posts] == [(POST_A, "café")]
    assert result.warnings == []


def test_latin1_falls_back_with_a_warning(tmp_path: Path) -> None:
    rows = [{"id": "1", "body": "plain"}, {"id": "2", "body": "café über"}]
    path = write_csv(tmp_path / "latin.csv", ["id", "body"], rows, encoding="latin-1")
    result = read_posts(path, DATASET)

    assert [post.body for post in result.posts] == ["plain", "café über"]
    (warning,) = result.warnings
    assert warning.startswith(f"{path}: not valid UTF-8 (first at line 3); read as latin-1")


def test_empty_and_header_only_files_warn(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    header_only = tmp_path / "header.csv"
    header_only.write_text("id,body\n", encoding="utf-8")

    assert read_posts(empty, DATASET).warnings == [f"{empty}: empty file, no posts"]
    result = read_posts(header_only, DATASET)
    assert (result.posts, result.failed) == ([], [])
    assert result.warnings == [f"{header_only}: only a header row, no posts"]


def test_spreadsheet_rounded_ids_are_flagged(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "excel.csv", ["id"], [{"id": "7.32169E+18"}, {"id": "12"}])
    result = read_posts(path, DATASET)

    assert [post.post_id for post in result.posts] == ["7.32169E+18", "12"]
    (warning,) = result.warnings
    assert "1 row(s) have an id in scientific notation" in warning
    assert "line 2, id '7.32169E+18'" in warning


def test_missing_file_is_a_failure(tmp_path: Path) -> None:
    result = read_posts(tmp_path / "gone.csv", DATASET)

    (failure,) = result.failed
    assert failure.path == str(tmp_path / "gone.csv")
    assert failure.reason.startswith("cannot read the file")

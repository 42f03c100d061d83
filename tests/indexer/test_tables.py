"""Post tables and image tables: every 4CAT/Zeeschuimer variant maps to the same `Post` fields."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from indexer.records import Failure, Post
from indexer.tables import is_post_table, read_image_table, read_posts
from indexer.tables_common import parse_timestamp
from picsift.errors import InputError
from tests.indexer.fixtures_tables import (
    DATASET,
    EARLY_2024_COLUMNS,
    ISO,
    POST_A,
    POST_B,
    POST_C,
    TIKTOK_COLUMNS,
    TS,
    fourcat_line,
    tiktok_item,
    tiktok_row,
    write_csv,
    write_ndjson,
    zeeschuimer_line,
)


def by_id(posts: list[Post]) -> dict[str, Post]:
    return {post.post_id: post for post in posts}


# --- 4CAT CSV --------------------------------------------------------------------------------


def test_tiktok_csv_maps_every_field(tmp_path: Path) -> None:
    columns = [*TIKTOK_COLUMNS, "Audio transcription", "Transcript"]
    rows = [
        tiktok_row(POST_A, **{"Audio transcription": "meow meow", "Transcript": "hand-made"}),
        tiktok_row(POST_B, author="dogs", hashtags="", body="no tags here"),
    ]
    result = read_posts(write_csv(tmp_path / "tiktok.csv", columns, rows), DATASET)

    assert result.failed == []
    assert result.warnings == []
    assert [post.post_id for post in result.posts] == [POST_A, POST_B]
    post = result.posts[0]
    assert post.post_id == "7321692663852404001"
    assert post.dataset == DATASET
    assert post.author == "cats.daily"
    assert post.body == "a cat on a keyboard #cats #fyp"
    assert post.timestamp == ISO
    assert post.ts == TS
    assert post.url == f"https://www.tiktok.com/@cats.daily/video/{POST_A}"
    assert post.hashtags == ("cats", "fyp")
    assert post.extra["thread_id"] == POST_A
    assert post.extra["likes"] == "12"
    assert post.extra["author_followers"] == "1200"
    assert post.extra["challenges"] == "cats,fyp"
    assert post.extra["thumbnail_url"] == f"https://p16-sign.tiktokcdn.com/{POST_A}~tplv.jpeg"
    assert post.extra["Audio transcription"] == "meow meow"
    assert post.extra["Transcript"] == "hand-made"
    assert post.extra["warning"] == ""
    mapped = {"id", "author", "body", "timestamp", "unix_timestamp", "tiktok_url", "hashtags"}
    assert mapped.isdisjoint(post.extra)
    assert set(post.extra) == set(columns) - mapped
    other = result.posts[1]
    assert (other.author, other.body, other.hashtags) == ("dogs", "no tags here", ())
    assert other.url == f"https://www.tiktok.com/@dogs/video/{POST_B}"


def test_early_2024_tiktok_csv_lacks_some_columns(tmp_path: Path) -> None:
    rows = [{k: v for k, v in tiktok_row(POST_C).items() if k in EARLY_2024_COLUMNS}]
    result = read_posts(write_csv(tmp_path / "old.csv", EARLY_2024_COLUMNS, rows), DATASET)

    (post,) = result.posts
    assert (post.post_id, post.author, post.ts, post.hashtags) == (
        POST_C,
        "cats.daily",
        TS,
        ("cats", "fyp"),
    )
    assert "collected_from_url" not in post.extra
    assert "is_sensitive" not in post.extra
    assert post.extra["music_name"] == "original sound"
    assert result.failed == result.warnings == []


def test_ids_stay_exact_strings(tmp_path: Path) -> None:
    rows = [tiktok_row("0012"), tiktok_row("9223372036854775808")]
    result = read_posts(write_csv(tmp_path / "ids.csv", TIKTOK_COLUMNS, rows), DATASET)

    assert [post.post_id for post in result.posts] == ["0012", "9223372036854775808"]


def test_generic_telegram_like_csv(tmp_path: Path) -> None:
    columns = ["id", "thread_id", "chat", "author", "author_name", "body", "timestamp",
               "unix_timestamp", "views", "link", "hashtags"]  # fmt: skip
    row = {
        "id": "nieuws-4521",
        "thread_id": "nieuws-4521",
        "chat": "nieuws",
        "author": "nieuwsbot",
        "author_name": "Nieuws",
        "body": "Breaking: cats",
        "timestamp": "2023-05-01 08:30:00",
        "unix_timestamp": "1682929800",
        "views": "1500",
        "link": "https://t.me/nieuws/4521",
        "hashtags": "#breaking, #cats",
    }
    result = read_posts(write_csv(tmp_path / "telegram.csv", columns, [row]), DATASET)

    (post,) = result.posts
    assert post.post_id == "nieuws-4521"
    assert post.author == "nieuwsbot"
    assert post.body == "Breaking: cats"
    assert (post.timestamp, post.ts) == ("2023-05-01T08:30:00Z", 1682929800)
    assert post.url == "https://t.me/nieuws/4521"
    assert post.hashtags == ("breaking", "cats")
    assert post.extra == {
        "thread_id": "nieuws-4521",
        "chat": "nieuws",
        "author_name": "Nieuws",
        "views": "1500",
    }


def test_wide_ndjson_to_csv_output_keeps_raw_columns(tmp_path: Path) -> None:
    columns = ["id", "author", "body", "timestamp", "desc", "stats.playCount", "video.cover", "url"]
    row = {
        "id": POST_A,
        "author": "cats.daily",
        "body": "cat",
        "timestamp": "2024-01-31 12:00:00",
        "desc": "cat",
        "stats.playCount": "340",
        "video.cover": "https://cdn/cover.jpeg",
        "url": f"https://www.tiktok.com/@cats.daily/video/{POST_A}",
    }
    result = read_posts(write_csv(tmp_path / "wide.csv", columns, [row]), DATASET)

    (post,) = result.posts
    assert post.url == row["url"]
    assert post.extra == {
        "desc": "cat",
        "stats.playCount": "340",
        "video.cover": "https://cdn/cover.jpeg",
    }


def test_tsv_and_semicolon_tables(tmp_path: Path) -> None:
    rows = [{"id": POST_A, "body": "tab, separated", "timestamp": str(TS)}]
    tsv = write_csv(tmp_path / "posts.tsv", ["id", "body", "timestamp"], rows, delimiter="\t")
    semi = write_csv(tmp_path / "excel.csv", ["id", "body", "timestamp"], rows, delimiter=";")

    for path in (tsv, semi):
        (post,) = read_posts(path, DATASET).posts
        assert (post.post_id, post.body, post.timestamp) == (POST_A, "tab, separated", ISO)


def test_very_large_field(tmp_path: Path) -> None:
    body = "x" * 300_000
    path = write_csv(tmp_path / "big.csv", ["id", "body"], [{"id": POST_A, "body": body}])

    (post,) = read_posts(path, DATASET).posts
    assert post.body == body


def test_duplicate_header_names_are_kept_apart(tmp_path: Path) -> None:
    path = tmp_path / "dup.csv"
    path.write_text("id,note,note,\nA1,first,second,third\n", encoding="utf-8")

    (post,) = read_posts(path, DATASET).posts
    assert post.extra == {"note": "first", "note (2)": "second", "column 4": "third"}


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


# --- NDJSON ----------------------------------------------------------------------------------


def test_fourcat_ndjson_with_import_meta(tmp_path: Path) -> None:
    plain_author = tiktok_item(POST_B, author="dogs", nickname="Dogs", textExtra=[])
    lines = [fourcat_line(tiktok_item(POST_A)), fourcat_line(plain_author)]
    result = read_posts(write_ndjson(tmp_path / "tiktok.ndjson", lines), DATASET)

    assert result.failed == result.warnings == []
    a, b = result.posts
    assert a.post_id == "7321692663852404001"
    assert a.author == "cats.daily"
    assert a.body == "a cat on a keyboard #cats #fyp"
    assert (a.timestamp, a.ts) == (ISO, TS)
    assert a.url == f"https://www.tiktok.com/@cats.daily/video/{POST_A}"
    assert a.hashtags == ("cats", "fyp")
    assert a.extra == {
        "author_full": "Cats Daily",
        "plays": 340,
        "likes": 12,
        "comments": 3,
        "shares": 1,
        "music_name": "original sound",
        "music_author": "Cats",
        "thumbnail_url": f"https://p16-sign.tiktokcdn.com/{POST_A}~cover.jpeg",
        "location_created": "NL",
        "collected_from_url": "https://www.tiktok.com/tag/cats",
        "timestamp_collected": 1706800000000,
    }
    assert (b.author, b.extra["author_full"]) == ("dogs", "Dogs")
    assert b.url == f"https://www.tiktok.com/@dogs/video/{POST_B}"
    assert b.hashtags == ("cats", "fyp")  # from `challenges` when textExtra has none


def test_zeeschuimer_ndjson(tmp_path: Path) -> None:
    item = tiktok_item(POST_C, createTime=str(TS + 60), desc="second")
    result = read_posts(write_ndjson(tmp_path / "zs.ndjson", [zeeschuimer_line(item)]), DATASET)

    (post,) = result.posts
    assert (post.post_id, post.author, post.body) == (POST_C, "cats.daily", "second")
    assert (post.timestamp, post.ts) == ("2024-01-31T12:01:00Z", TS + 60)
    assert post.extra["collected_from_url"] == "https://www.tiktok.com/tag/cats"
    assert "user_agent" not in post.extra


def test_generic_raw_items(tmp_path: Path) -> None:
    instagram = {
        "id": "3300000000000000001_42",
        "user": {"pk": 42, "username": "catlover"},
        "caption": {"text": "sunny cat"},
        "taken_at": 1706702400,
        "like_count": 7,
        "image_versions2": {"candidates": []},
        "hashtags": ["#sun", "cat"],
    }
    telegram = {"id": 4521, "message": "hello", "date": "2024-01-31T13:00:00+01:00", "views": 9}
    lines = [zeeschuimer_line(instagram, "instagram.com"), telegram]
    result = read_posts(write_ndjson(tmp_path / "mixed.jsonl", lines), DATASET)

    assert result.failed == []
    ig, tg = result.posts
    assert (ig.post_id, ig.author, ig.body) == ("3300000000000000001_42", "catlover", "sunny cat")
    assert (ig.timestamp, ig.ts, ig.hashtags) == (ISO, TS, ("sun", "cat"))
    assert ig.extra == {
        "like_count": 7,
        "collected_from_url": "https://www.instagram.com/tag/cats",
        "timestamp_collected": 1706800000000,
    }
    assert (tg.post_id, tg.author, tg.body, tg.timestamp) == ("4521", "", "hello", ISO)
    assert tg.extra == {"views": 9}


def test_bad_ndjson_lines_fail_and_the_rest_is_kept(tmp_path: Path) -> None:
    lines = [
        fourcat_line(tiktok_item(POST_A)),
        '{"id": "1", "desc": broken',
        "",
        {"desc": "no id here", "createTime": TS},
        [1, 2],
        fourcat_line(tiktok_item(POST_B)),
        fourcat_line(tiktok_item(POST_A)),
    ]
    path = write_ndjson(tmp_path / "bad.ndjson", lines)
    result = read_posts(path, DATASET)

    assert [post.post_id for post in result.posts] == [POST_A, POST_B]
    assert [failure.path for failure in result.failed] == [f"{path}:2", f"{path}:4", f"{path}:5"]
    assert result.failed[0].reason == "invalid JSON (Expecting value at column 21)"
    assert result.failed[1].reason == "no usable 'id' field in the item (keys: desc, createTime)"
    assert result.failed[2].reason == "expected a JSON object, got list"
    assert result.warnings == [
        f"{path}: 1 row(s) repeat an earlier post id, only the first row of each id is kept "
        f"(first at line 7, id '{POST_A}')"
    ]


def test_ndjson_detected_by_content_and_bad_create_time(tmp_path: Path) -> None:
    lines = [tiktok_item(POST_A, createTime="not a time")]
    path = write_ndjson(tmp_path / "export.csv", lines)
    result = read_posts(path, DATASET)

    (post,) = result.posts
    assert (post.post_id, post.timestamp, post.ts) == (POST_A, "", None)
    assert result.warnings == [
        f"{path}: 1 row(s) have a timestamp that cannot be read, those posts have no date "
        "(first at line 1, column 'createTime', value 'not a time')"
    ]


def test_json_array(tmp_path: Path) -> None:
    path = tmp_path / "posts.json"
    path.write_text(json.dumps([tiktok_item(POST_A), {"body": "no id"}], indent=2), "utf-8")
    result = read_posts(path, DATASET)

    assert [post.post_id for post in result.posts] == [POST_A]
    assert result.posts[0].hashtags == ("cats", "fyp")
    assert [failure.path for failure in result.failed] == [f"{path}:item 2"]


# --- timestamps ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-01-31 12:00:00", (ISO, TS)),
        ("2024-01-31T12:00:00Z", (ISO, TS)),
        ("2024-01-31T13:00:00+01:00", (ISO, TS)),
        ("2024-01-31T07:00:00.250-05:00", (ISO, TS)),
        (TS, (ISO, TS)),
        (TS + 0.9, (ISO, TS)),
        (str(TS), (ISO, TS)),
        (TS * 1000, (ISO, TS)),
        (str(TS * 1000 + 999), (ISO, TS)),
        ("", ("", None)),
        (None, ("", None)),
        ("yesterday", None),
        (True, None),
        ("2024-13-45 99:00:00", None),
        (float("nan"), None),
    ],
)
def test_parse_timestamp(value: object, expected: tuple[str, int | None] | None) -> None:
    assert parse_timestamp(value) == expected


# --- detection -------------------------------------------------------------------------------


def test_is_post_table(tmp_path: Path) -> None:
    csv_file = write_csv(tmp_path / "posts.CSV", ["id"], [{"id": "1"}])
    ndjson = write_ndjson(tmp_path / "posts.ndjson", [tiktok_item(POST_A)])
    (tmp_path / "posts.json").write_text("[]", "utf-8")
    (tmp_path / ".metadata.json").write_text('{"https://x/a.jpg": {"filename": "a.jpg"}}')
    (tmp_path / "photo.csv").write_bytes(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR")
    (tmp_path / "notes.txt").write_text("id,body\n")
    (tmp_path / "folder.csv").mkdir()

    assert is_post_table(csv_file)
    assert is_post_table(ndjson)
    assert is_post_table(tmp_path / "posts.json")
    assert not is_post_table(tmp_path / ".metadata.json")
    assert not is_post_table(tmp_path / "photo.csv")
    assert not is_post_table(tmp_path / "notes.txt")
    assert not is_post_table(tmp_path / "folder.csv")
    assert not is_post_table(tmp_path / "missing.csv")


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

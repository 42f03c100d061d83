"""Post tables as CSV: every 4CAT export variant (TikTok, early-2024 TikTok, Telegram-like, wide
NDJSON-to-CSV output, TSV and semicolon tables) maps to the same `Post` fields; plus the
timestamp parsing shared by every table format and which files count as a post table."""

from __future__ import annotations

from pathlib import Path

import pytest

from indexer.tables import is_post_table, read_posts
from indexer.tables_common import parse_timestamp
from tests.indexer.fixtures_tables import (
    DATASET,
    EARLY_2024_COLUMNS,
    ISO,
    POST_A,
    POST_B,
    POST_C,
    TIKTOK_COLUMNS,
    TS,
    tiktok_item,
    tiktok_row,
    write_csv,
    write_ndjson,
)

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

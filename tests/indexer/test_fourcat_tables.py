"""Every post table 4CAT and Zeeschuimer write, read into the same posts: TikTok, Instagram and
Telegram as CSV, 4CAT's stored NDJSON, Zeeschuimer's NDJSON and CSV, and 4CAT's API stream
(see tests/fourcat/tables.py for how each writer is restated)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from indexer.records import Post
from indexer.tables import read_posts
from tests.fourcat import tables
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

DATASET = "0123456789abcdef0123456789abcdef"
ITEMS = {"tiktok": tiktok_items, "instagram": instagram_items, "telegram": telegram_messages}
EXPECTED = {
    "tiktok": tiktok_expected,
    "instagram": instagram_expected,
    "telegram": telegram_expected,
}
WRITERS = {
    "csv": lambda path, platform, items: tables.fourcat_csv(path, platform, items),
    "api-stream": lambda path, platform, items: tables.api_stream(path, platform, items),
    "api-stream-keep": lambda path, platform, items: tables.api_stream(
        path, platform, items, keep_missing=True
    ),
    "4cat-ndjson": tables.fourcat_ndjson,
    "zeeschuimer-ndjson": tables.zeeschuimer_ndjson,
    "zeeschuimer-csv": tables.zeeschuimer_csv,
}
CASES = [
    (platform, writer)
    for platform in ITEMS
    for writer in WRITERS
    if not (platform == "telegram" and writer.startswith("zeeschuimer"))  # 4CAT collects it
]


def _fields(post: Post) -> tuple:
    return (post.post_id, post.author, post.ts, post.timestamp, post.url, post.body, post.hashtags)


def _expected(entry: Expected) -> tuple:
    return (
        entry.post_id,
        entry.author,
        entry.ts,
        iso(entry.ts),
        entry.url,
        entry.body,
        entry.hashtags,
    )


@pytest.mark.parametrize(("platform", "writer"), CASES)
def test_every_writer_gives_4cats_posts(tmp_path: Path, platform: str, writer: str) -> None:
    path = WRITERS[writer](tmp_path / f"{platform}.{writer}", platform, ITEMS[platform]())
    result = read_posts(path, DATASET)

    assert result.failed == []
    assert [_fields(p) for p in result.posts] == [_expected(e) for e in EXPECTED[platform]()]
    for post, entry in zip(result.posts, EXPECTED[platform](), strict=True):
        for column, value in entry.extra.items():
            assert str(post.extra[column]) == value, (post.post_id, column)
    expected_warnings = []
    if platform == "instagram" and writer in ("4cat-ndjson", "zeeschuimer-ndjson"):
        expected_warnings.append("1 row(s) are left out: an Instagram ad, which 4CAT leaves out")
    if platform == "instagram" and writer == "zeeschuimer-csv":
        expected_warnings.append("2 row(s) have the time 0 (1970-01-01)")  # no missing_fields
    assert len(result.warnings) == len(expected_warnings), result.warnings
    for warning, start in zip(result.warnings, expected_warnings, strict=True):
        assert warning.startswith(f"{path}: {start}")


def test_instagram_ids_are_shortcodes_with_url_and_caption_hashtags(tmp_path: Path) -> None:
    """Finding 1: the raw `id` (`3301..._4433221100`) is not 4CAT's post id."""
    path = tables.zeeschuimer_ndjson(tmp_path / "ig.ndjson", "instagram", instagram_items())
    first = read_posts(path, DATASET).posts[0]

    assert first.post_id == "C1aBcDeFgHi"
    assert first.url == "https://www.instagram.com/p/C1aBcDeFgHi"
    assert first.hashtags == ("cats", "sofa")
    assert first.extra["author_id"] == "4433221100"


def test_telegram_message_ids_are_per_chat(tmp_path: Path) -> None:
    """Finding 2: message 101 of two chats are two posts, `<chat>-101`, with their authors."""
    path = tables.fourcat_ndjson(tmp_path / "tg.ndjson", "telegram", telegram_messages())
    result = read_posts(path, DATASET)

    assert result.warnings == []
    assert [(p.post_id, p.author) for p in result.posts[:2]] == [
        ("catnews-101", "editor"),
        ("2222222222-101", "Ann Lee"),
    ]
    assert result.posts[0].extra["attachment_filename"] == "catnews-101.jpeg"


def test_polaris_time_stays_unknown(tmp_path: Path) -> None:
    """Finding 5: Polaris items have no time; 4CAT writes 0, picsift keeps it unknown."""
    for writer in ("csv", "4cat-ndjson", "api-stream"):
        path = WRITERS[writer](tmp_path / f"ig.{writer}", "instagram", instagram_items())
        polaris = next(p for p in read_posts(path, DATASET).posts if p.post_id == "C4dEfGhIjKl")
        assert (polaris.timestamp, polaris.ts) == ("", None), writer


def test_zero_time_without_missing_fields_is_unknown(tmp_path: Path) -> None:
    path = tables.zeeschuimer_csv(tmp_path / "zs.csv", "instagram", instagram_items())
    result = read_posts(path, DATASET)

    assert {p.post_id for p in result.posts if p.ts is None} == {"C4dEfGhIjKl", "C5eFgHiJkLm"}
    assert "column 'unix_timestamp'" in result.warnings[0]


def test_server_local_timestamp_is_not_read(tmp_path: Path) -> None:
    """Finding 7: Instagram's and Telegram's `timestamp` is the 4CAT server's local time
    (2 hours ahead here); `unix_timestamp` is the moment."""
    for platform in ("instagram", "telegram"):
        path = tables.fourcat_csv(tmp_path / f"{platform}.csv", platform, ITEMS[platform]())
        first = path.read_text("utf-8").splitlines()[1]
        assert "2024-01-31 14:00:00" in first  # what 4CAT wrote, in its server's time
        post = read_posts(path, DATASET).posts[0]
        assert (post.timestamp, post.ts) == ("2024-01-31T12:00:00Z", 1706702400), platform


def test_api_stream_tiktok_url_is_the_post_url(tmp_path: Path) -> None:
    """Finding 9."""
    path = tables.api_stream(tmp_path / "stream.ndjson", "tiktok", tiktok_items())
    post = read_posts(path, DATASET).posts[0]

    assert post.url == "https://www.tiktok.com/@cats.daily/video/7321692663852404001"
    assert "tiktok_url" not in post.extra


def test_ndjson_collected_from_url_is_source_platform_url(tmp_path: Path) -> None:
    """Finding 11: as 4CAT's CSV, `source_platform_url`, not Zeeschuimer's `source_url`."""
    for platform in ("tiktok", "instagram"):
        path = tables.zeeschuimer_ndjson(
            tmp_path / f"{platform}.ndjson", platform, ITEMS[platform]()
        )
        post = read_posts(path, DATASET).posts[0]
        assert post.extra["collected_from_url"] == tables.source_platform_url(platform)


def test_challenges_are_not_hashtags(tmp_path: Path) -> None:
    """Finding 11: 4CAT's `hashtags` come from the text only, in NDJSON as in the CSV."""
    csv_post, ndjson_post = (
        read_posts(WRITERS[w](tmp_path / w, "tiktok", tiktok_items()), DATASET).posts[1]
        for w in ("csv", "4cat-ndjson")
    )
    assert csv_post.hashtags == ndjson_post.hashtags == ()
    assert csv_post.extra["challenges"] == ndjson_post.extra["challenges"] == "dogs"


def test_newest_zeeschuimer_capture_wins(tmp_path: Path) -> None:
    """Finding 11: a post captured twice (Zeeschuimer inserts the second capture beside the
    first) is read from its newest capture, in the place of the first."""
    items = tiktok_items()
    later = json.loads(json.dumps(items[2])) | {"desc": "third, edited #news"}
    later["stats"]["playCount"] = 9999
    path = tables.zeeschuimer_ndjson(tmp_path / "zs.ndjson", "tiktok", items, again={2: later})
    result = read_posts(path, DATASET)

    assert [p.post_id for p in result.posts] == [items[2]["id"], items[0]["id"], items[1]["id"]]
    third = result.posts[0]
    assert (third.body, third.extra["plays"]) == ("third, edited #news", 9999)
    assert len(result.warnings) == 1
    assert "captured again (Zeeschuimer), the newest capture of each is kept" in result.warnings[0]


def test_annotation_columns_are_kept(tmp_path: Path) -> None:
    items = tiktok_items()
    notes = {items[0]["id"]: "meow meow"}
    path = tables.fourcat_csv(tmp_path / "t.csv", "tiktok", items, annotations=notes)
    posts = read_posts(path, DATASET).posts

    assert posts[0].extra[tables.ANNOTATION] == "meow meow"
    assert posts[0].extra["missing_fields"] == ""

"""Post tables as NDJSON and JSON: 4CAT NDJSON with import metadata, Zeeschuimer lines, generic
raw Instagram/Telegram items and JSON arrays map to the same `Post` fields as the CSV exports;
broken lines fail one by one and the rest is kept."""

from __future__ import annotations

import json
from pathlib import Path

from indexer.tables import read_posts
from tests.indexer.fixtures_tables import (
    DATASET,
    ISO,
    POST_A,
    POST_B,
    POST_C,
    TS,
    fourcat_line,
    tiktok_item,
    write_ndjson,
    zeeschuimer_line,
)

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
    expected_extra = {
        "author_full": "Cats Daily",
        "plays": 340,
        "likes": 12,
        "comments": 3,
        "shares": 1,
        "music_name": "original sound",
        "music_author": "Cats",
        "thumbnail_url": f"https://p16-sign.tiktokcdn.com/{POST_A}~cover.jpeg",
        "location_created": "NL",
        "collected_from_url": "https://www.tiktok.com/",  # source_platform_url, as 4CAT
    }
    assert {k: a.extra.get(k) for k in expected_extra} == expected_extra
    assert (b.author, b.extra["author_full"]) == ("dogs", "Dogs")
    assert b.url == f"https://www.tiktok.com/@dogs/video/{POST_B}"
    assert b.hashtags == ()  # 4CAT takes hashtags from textExtra only, not from challenges
    assert b.extra["challenges"] == "cats,fyp"


def test_zeeschuimer_ndjson(tmp_path: Path) -> None:
    item = tiktok_item(POST_C, createTime=str(TS + 60), desc="second")
    result = read_posts(write_ndjson(tmp_path / "zs.ndjson", [zeeschuimer_line(item)]), DATASET)

    (post,) = result.posts
    assert (post.post_id, post.author, post.body) == (POST_C, "cats.daily", "second")
    assert (post.timestamp, post.ts) == ("2024-01-31T12:01:00Z", TS + 60)
    assert post.extra["collected_from_url"] == "https://www.tiktok.com/"
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
    lines = [zeeschuimer_line(instagram, "9gag.com"), telegram]
    result = read_posts(write_ndjson(tmp_path / "mixed.jsonl", lines), DATASET)

    assert result.failed == []
    ig, tg = result.posts
    assert (ig.post_id, ig.author, ig.body) == ("3300000000000000001_42", "catlover", "sunny cat")
    assert (ig.timestamp, ig.ts, ig.hashtags) == (ISO, TS, ("sun", "cat"))
    assert ig.extra == {
        "like_count": 7,
        "collected_from_url": "https://www.9gag.com/",
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
    no_id = "no usable post id in the tiktok item (keys: desc, createTime)"
    assert result.failed[1].reason == no_id
    assert result.failed[2].reason == "expected a JSON object, got list"
    assert result.warnings == [
        f"{path}: 1 row(s) hold a post captured again (Zeeschuimer), the newest capture of each "
        f"is kept (first at line 7, id '{POST_A}')"
    ]


def test_ndjson_detected_by_content_and_bad_create_time(tmp_path: Path) -> None:
    lines = [tiktok_item(POST_A, createTime="not a time")]
    path = write_ndjson(tmp_path / "export.csv", lines)
    result = read_posts(path, DATASET)

    (post,) = result.posts
    assert (post.post_id, post.timestamp, post.ts) == (POST_A, "", None)
    assert result.warnings == [
        f"{path}: 1 row(s) have a timestamp that cannot be read, those posts have no date "
        "(first at line 1, column 'unix_timestamp', value 'not a time')"
    ]


def test_json_array(tmp_path: Path) -> None:
    path = tmp_path / "posts.json"
    path.write_text(json.dumps([tiktok_item(POST_A), {"body": "no id"}], indent=2), "utf-8")
    result = read_posts(path, DATASET)

    assert [post.post_id for post in result.posts] == [POST_A]
    assert result.posts[0].hashtags == ("cats", "fyp")
    assert [failure.path for failure in result.failed] == [f"{path}:item 2"]

"""Small post tables shaped like 4CAT's and Zeeschuimer's exports, written by the tests."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

DATASET = "a1b2c3d4e5f60718293a4b5c6d7e8f90"

POST_A = "7321692663852404001"
POST_B = "7321692663852404002"
POST_C = "7321692663852404003"

# 2024-01-31 12:00:00 UTC
TS = 1706702400
ISO = "2024-01-31T12:00:00Z"

TIKTOK_COLUMNS = [
    "collected_from_url", "id", "thread_id", "author", "author_full", "author_followers",
    "author_likes", "author_videos", "author_avatar", "body", "stickers", "timestamp",
    "unix_timestamp", "is_duet", "is_ad", "is_paid_partnership", "is_sensitive",
    "is_photosensitive", "music_name", "music_id", "music_url", "music_thumbnail", "music_author",
    "video_url", "tiktok_url", "thumbnail_url", "likes", "comments", "shares", "plays", "hashtags",
    "challenges", "diversification_labels", "location_created", "effects", "warning",
]  # fmt: skip
EARLY_2024_MISSING = [
    "collected_from_url",
    "is_paid_partnership",
    "is_sensitive",
    "is_photosensitive",
]
EARLY_2024_COLUMNS = [c for c in TIKTOK_COLUMNS if c not in EARLY_2024_MISSING]


def tiktok_row(post_id: str, **values: str) -> dict[str, str]:
    """A row of a 4CAT TikTok CSV, every column filled; `values` override the defaults."""
    author = values.get("author", "cats.daily")
    row = {column: "" for column in TIKTOK_COLUMNS}
    row.update(
        collected_from_url="https://www.tiktok.com/tag/cats",
        id=post_id,
        thread_id=post_id,
        author=author,
        author_full="Cats Daily",
        author_followers="1200",
        body="a cat on a keyboard #cats #fyp",
        timestamp="2024-01-31 12:00:00",
        unix_timestamp=str(TS),
        is_duet="no",
        music_name="original sound",
        tiktok_url=f"https://www.tiktok.com/@{author}/video/{post_id}",
        thumbnail_url=f"https://p16-sign.tiktokcdn.com/{post_id}~tplv.jpeg",
        likes="12",
        comments="3",
        shares="1",
        plays="340",
        hashtags="cats,fyp",
        challenges="cats,fyp",
        location_created="NL",
    )
    row.update(values)
    return row


def write_csv(
    path: Path,
    columns: list[str],
    rows: list[dict[str, str]],
    *,
    encoding: str = "utf-8",
    delimiter: str = ",",
) -> Path:
    """A CSV with `columns` as header; missing cells are empty, as 4CAT writes them."""
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, delimiter=delimiter, restval="")
        writer.writeheader()
        writer.writerows(rows)
    return path


def tiktok_item(post_id: str, **values: Any) -> dict[str, Any]:
    """A raw TikTok item as intercepted by Zeeschuimer; `values` override top-level keys."""
    item: dict[str, Any] = {
        "id": post_id,
        "desc": "a cat on a keyboard #cats #fyp",
        "createTime": TS,
        "author": {"id": "6800000000000000001", "uniqueId": "cats.daily", "nickname": "Cats Daily"},
        "authorStats": {"followerCount": 1200},
        "music": {"id": "7000000000000000001", "title": "original sound", "authorName": "Cats"},
        "video": {
            "cover": f"https://p16-sign.tiktokcdn.com/{post_id}~cover.jpeg",
            "downloadAddr": "https://v16.tiktokcdn.com/video.mp4",
            "shareCover": ["https://p16-sign.tiktokcdn.com/share.jpeg"],
        },
        "stats": {"playCount": 340, "diggCount": 12, "commentCount": 3, "shareCount": 1},
        "textExtra": [
            {"hashtagName": "cats", "start": 20},
            {"hashtagName": "", "userUniqueId": "someone"},
            {"hashtagName": "fyp", "start": 26},
        ],
        "challenges": [{"title": "cats"}, {"title": "fyp"}],
        "locationCreated": "NL",
    }
    item.update(values)
    return item


def zeeschuimer_line(item: dict[str, Any], platform: str = "tiktok.com") -> dict[str, Any]:
    """A line of a Zeeschuimer export: the item under `data`, collection metadata beside it."""
    return {
        "item_id": item.get("id"),
        "timestamp_collected": 1706800000000,
        "source_platform": platform,
        "source_platform_url": f"https://www.{platform}/",
        "source_url": f"https://www.{platform}/tag/cats",
        "user_agent": "Mozilla/5.0",
        "data": item,
    }


def fourcat_line(item: dict[str, Any], platform: str = "tiktok.com") -> dict[str, Any]:
    """A line of 4CAT's stored NDJSON: the item with the Zeeschuimer wrapper as `__import_meta`."""
    wrapper = zeeschuimer_line(item, platform)
    del wrapper["data"]
    return {**item, "__import_meta": wrapper}


def write_ndjson(path: Path, lines: list[dict[str, Any] | str]) -> Path:
    """One JSON object a line; strings are written as they are (for malformed lines)."""
    text = "\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines)
    path.write_text(text + "\n", encoding="utf-8")
    return path

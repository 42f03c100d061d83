"""Post tables written as 4CAT and Zeeschuimer write them, from the raw items of
`tests.fourcat.items`.

- 4CAT's stored NDJSON (`backend/lib/search.py` `import_from_file` with `format_import_item`):
  the platform item, Zeeschuimer's envelope moved under `__import_meta`.
- Zeeschuimer's NDJSON export (`js/zs-background.js`, `popup/interface.js` `get_ndjson_blob`):
  the stored Dexie rows, the item under `data`; its CSV export (`get_csv_blob`): the mapped item,
  `;`-separated, quoted only where needed.
- 4CAT's CSV (`webtool/views/views_dataset.py` `get_mapped_result`): `csv.DictWriter` over
  `iterate_items`, so the mapped columns, then `missing_fields`, then one column per annotation.
- 4CAT's API stream (`webtool/views/api_tool.py` `dataset_items`, `?stream=true`): the same
  mapped items as JSON lines; with `missing_fields=keep` a missing value is
  `{"__missing": true, "value": default}`.

The mapped columns restate what each data source's `map_item` writes (4CAT 227bead1), with the
4CAT server's local time (`datetime.fromtimestamp`) in Instagram's and Telegram's `timestamp`.
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from tests.fourcat.items import T0

SERVER_TZ = timezone(timedelta(hours=2))  # the 4CAT server's local time (Amsterdam, summer)
ANNOTATION = "Audio transcription"
ZS_PLATFORM = {"tiktok": "tiktok.com", "instagram": "instagram.com"}
# SearchInstagram.HASHTAG_REGEX: `#` and what follows up to white space or a listed mark.
_IG_HASHTAG = re.compile("#([^\\s!@#$%\u02c6&*()_+{}:\"|<>?\\[\\];',./`~'\u2018\u2019]+)")


class Missing:
    """4CAT's MissingMappedField: written as its default, named in `missing_fields`."""

    def __init__(self, default: Any) -> None:
        self.default = default


def _server_time(ts: int | float) -> str:
    return datetime.fromtimestamp(ts, SERVER_TZ).strftime("%Y-%m-%d %H:%M:%S")


def _utc_time(ts: int | float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S")


def envelope(platform: str, item: dict[str, Any], n: int, captured: int) -> dict[str, Any]:
    """Zeeschuimer's stored row around `item` (`captured` in ms, for both capture times)."""
    domain = ZS_PLATFORM[platform]
    return {
        "id": n,
        "nav_index": f"1:{n}:0",
        "item_id": item["id"],
        "timestamp_collected": captured,
        "last_updated": captured,
        "source_platform": domain,
        "source_platform_url": f"https://www.{domain}/explore/tags/cats/",
        "source_url": f"https://www.{domain}/api/feed/?cursor={n}",
        "user_agent": "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
        "data": item,
    }


def source_platform_url(platform: str) -> str:
    return f"https://www.{ZS_PLATFORM[platform]}/explore/tags/cats/"


# --- what map_item writes --------------------------------------------------------------------


def mapped(platform: str, item: dict[str, Any]) -> dict[str, Any] | None:
    """The mapped item 4CAT's `map_item` makes of `item` (Missing for missing fields), None
    for an item it leaves out (an Instagram ad)."""
    return {"tiktok": _tiktok, "instagram": _instagram, "telegram": _telegram}[platform](item)


def _tiktok(post: dict[str, Any]) -> dict[str, Any]:
    author = post["author"]
    return {
        "collected_from_url": source_platform_url("tiktok"),
        "id": post["id"],
        "thread_id": post["id"],
        "author": author["uniqueId"],
        "author_full": author["nickname"],
        "author_followers": post["authorStats"]["followerCount"],
        "author_likes": "",
        "author_videos": "",
        "author_avatar": author["avatarThumb"],
        "body": post["desc"],
        "stickers": "",
        "timestamp": _utc_time(post["createTime"]),
        "unix_timestamp": int(post["createTime"]),
        "is_duet": "no",
        "is_ad": "no",
        "is_paid_partnership": "no",
        "is_sensitive": "no",
        "is_photosensitive": "no",
        "music_name": post["music"]["title"],
        "music_id": post["music"]["id"],
        "music_url": post["music"]["playUrl"],
        "music_thumbnail": post["music"]["coverLarge"],
        "music_author": post["music"]["authorName"],
        "video_url": post["video"]["downloadAddr"],
        "tiktok_url": f"https://www.tiktok.com/@{author['uniqueId']}/video/{post['id']}",
        "thumbnail_url": post["video"]["cover"],
        "likes": post["stats"]["diggCount"],
        "comments": post["stats"]["commentCount"],
        "shares": post["stats"]["shareCount"],
        "plays": post["stats"]["playCount"],
        "hashtags": ",".join(t["hashtagName"] for t in post["textExtra"] if t["hashtagName"]),
        "challenges": ",".join(c["title"] for c in post["challenges"]),
        "diversification_labels": "",
        "location_created": post["locationCreated"],
        "effects": "",
        "warning": "",
    }


def _ig_hashtags(caption: Any) -> str:
    if isinstance(caption, Missing):
        return ""
    return ",".join(_IG_HASHTAG.findall(caption))


def _instagram(node: dict[str, Any]) -> dict[str, Any] | None:
    if node.get("product_type") == "ad":
        return None
    polaris = "Polaris" in node.get("__typename", "")
    caption = Missing("") if "caption" not in node else (node["caption"] or {}).get("text", "")
    user = node["user"]
    partial = node.get("_zs_partial", False)
    if polaris or partial:
        taken: Any = Missing(0)
        unix: Any = Missing(0)
    else:
        taken, unix = _server_time(node["taken_at"]), node["taken_at"]
    media = node.get("carousel_media") or [node]
    if polaris:
        images = node["display_uri"]
        videos: Any = Missing("")  # a Polaris photo has no video_versions
    else:
        images = ",".join(m["image_versions2"]["candidates"][0]["url"] for m in media)
        # parse_itemlist_item: per media node the video's URL, else the photo's
        videos = ",".join(
            m["video_versions"][0]["url"]
            if m["media_type"] == 2
            else m["image_versions2"]["candidates"][0]["url"]
            for m in media
        )
    return {
        "collected_from_url": source_platform_url("instagram"),
        "collected_from_view": "",
        "partial_item": partial,
        "id": node["code"],
        "timestamp": taken,
        "thread_id": node["code"],
        "parent_id": node["code"],
        "url": "https://www.instagram.com/p/" + node["code"],
        "body": caption,
        "author_id": user["id"],
        "author": user["username"],
        "author_fullname": user.get("full_name", Missing("")),
        "verified": False,
        "author_avatar_url": Missing(""),
        "coauthors": Missing("") if polaris else "",
        "coauthor_fullnames": Missing("") if polaris else "",
        "coauthor_ids": Missing("") if polaris else "",
        "media_type": {1: "photo", 2: "video", 8: "photo"}.get(node.get("media_type"), "photo"),
        "num_media": len(media),
        "image_urls": images,
        "media_urls": videos,
        "hashtags": _ig_hashtags(caption),
        "usertags": Missing("") if polaris else "",
        "play_count": Missing(0),
        "likes_hidden": Missing("") if polaris else "no",
        "num_likes": Missing(0) if polaris else node.get("like_count", 0),
        "num_comments": Missing(0) if polaris else node.get("comment_count", -1),
        "location_name": Missing("") if polaris else "",
        "location_id": Missing("") if polaris else "",
        "location_latlong": Missing("") if polaris else "",
        "location_city": Missing("") if polaris else "",
        "unix_timestamp": unix,
        "missing_media": None,
    }


def _telegram(message: dict[str, Any]) -> dict[str, Any]:
    chat, sender = message["_chat"], message["_sender"]
    thread = str(chat.get("username") or chat.get("id"))
    names = [sender.get("first_name"), sender.get("last_name")]
    photo = (message.get("media") or {}).get("_type") == "MessageMediaPhoto"
    photo_data = message["media"]["photo"] if photo else {}
    return {
        "id": f"{thread}-{message['id']}",
        "thread_id": thread,
        "chat": thread,
        "author": sender["id"],
        "author_username": sender.get("username") or "",
        "author_name": " ".join(n for n in names if n).strip(),
        "author_is_bot": "no",
        "body": message["message"],
        "body_markdown": message["message_markdown"],
        "is_reply": False,
        "reply_to": "",
        "views": message["views"],
        "reactions": "",
        "restriction_reason": "",
        "chat_restriction_reason": "",
        "message_noforwards": "no",
        "chat_noforwards": "no",
        "timestamp": _server_time(message["date"]),
        "unix_timestamp": int(message["date"]),
        "timestamp_edited": "",
        "unix_timestamp_edited": "",
        "author_forwarded_from_name": "",
        "author_forwarded_from_username": "",
        "author_forwarded_from_id": "",
        "entities_linked": "",
        "entities_mentioned": "",
        "all_connections": "",
        "timestamp_forwarded_from": "",
        "unix_timestamp_forwarded_from": "",
        "link_title": "",
        "link_description": "",
        "link_attached": "",
        "attachment_type": "photo" if photo else "",
        # map_item: a photo's id, dc_id and file_reference as JSON; "" without media
        "attachment_data": json.dumps({k: photo_data[k] for k in ("id", "dc_id", "file_reference")})
        if photo
        else "",
        "attachment_filename": f"{thread}-{message['id']}.jpeg" if photo else "",
    }


def dataset_items(
    platform: str,
    items: list[dict[str, Any]],
    annotations: dict[str, str] | None = None,
    keep_missing: bool = False,
) -> list[dict[str, Any]]:
    """4CAT's `iterate_items`: each mapped item with `missing_fields` and the annotation
    column; missing values as their default, or (`keep_missing`) as the API's marker."""
    rows = []
    for item in items:
        row = mapped(platform, item)
        if row is None:
            continue
        missing = [k for k, v in row.items() if isinstance(v, Missing)]
        for key in missing:
            default = row[key].default
            row[key] = {"__missing": True, "value": default} if keep_missing else default
        row["missing_fields"] = ", ".join(missing)
        row[ANNOTATION] = (annotations or {}).get(row["id"], "")
        rows.append(row)
    return rows


# --- the files -------------------------------------------------------------------------------


def fourcat_csv(path: Path, platform: str, items: list[dict[str, Any]], **kw: Any) -> Path:
    """4CAT's "Download CSV" of a dataset."""
    rows = dataset_items(platform, items, **kw)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def api_stream(path: Path, platform: str, items: list[dict[str, Any]], **kw: Any) -> Path:
    """`GET /api/dataset/KEY/items/?stream=true` saved to a file."""
    lines = [json.dumps(row) + "\n" for row in dataset_items(platform, items, **kw)]
    path.write_text("".join(lines), encoding="utf-8")
    return path


def fourcat_ndjson(path: Path, platform: str, items: list[dict[str, Any]]) -> Path:
    """4CAT's stored dataset file: for Zeeschuimer imports the item with its envelope as
    `__import_meta`; for Telegram the serialised messages as they are."""
    lines = []
    for n, item in enumerate(items, 1):
        if platform == "telegram":
            lines.append(item)
            continue
        meta = envelope(platform, item, n, (T0 + 86400) * 1000 + n)
        del meta["data"]
        lines.append({**item, "__import_meta": meta})
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    return path


def zeeschuimer_ndjson(
    path: Path, platform: str, items: list[dict[str, Any]], again: dict[int, dict] | None = None
) -> Path:
    """Zeeschuimer's ".ndjson (original)" export. `again` maps a position to a later capture
    of that item (captured on another page, stored beside the first, as Zeeschuimer's
    default "insert" on duplicates does), written after all the others."""
    rows = [envelope(platform, item, n, (T0 + 86400) * 1000 + n) for n, item in enumerate(items)]
    for n, (position, item) in enumerate(sorted((again or {}).items()), len(rows)):
        rows.append(envelope(platform, item, n, (T0 + 2 * 86400) * 1000 + position))
    if again:
        rows.insert(0, rows.pop())  # Dexie orders by its own id, not by capture time
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def zeeschuimer_csv(path: Path, platform: str, items: list[dict[str, Any]]) -> Path:
    """Zeeschuimer's CSV export: its copy of 4CAT's `map_item`, `;`-separated, a value quoted
    only when it holds `"`, `;` or a line break, JavaScript's `String()` of each value."""

    def cell(value: Any) -> str:
        text = (
            "null"
            if value is None
            else str(value).lower()
            if isinstance(value, bool)
            else str(value)
        )
        return f'"{text.replace(chr(34), chr(34) * 2)}"' if any(c in text for c in '";\n') else text

    rows = [mapped(platform, item) for item in items]
    rows = [
        {k: v.default if isinstance(v, Missing) else v for k, v in r.items()} for r in rows if r
    ]
    out = io.StringIO()
    out.write(";".join(rows[0]) + "\n")
    for row in rows:
        out.write(";".join(cell(v) for v in row.values()) + "\n")
    path.write_text(out.getvalue(), encoding="utf-8")
    return path

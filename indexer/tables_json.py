"""NDJSON and JSON post files: 4CAT's stored raw items and Zeeschuimer's exports.

4CAT stores one raw platform item per line, with Zeeschuimer's wrapper fields moved into an
`__import_meta` key; Zeeschuimer itself nests the item under `data`. Raw TikTok items are mapped
the way 4CAT's `map_item` does, other platforms by common key names.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from indexer.tables_common import Draft, PostCollector, bom_encoding, split_hashtags, unique

_IMPORT_META = "__import_meta"
_WRAPPER_KEYS = ("item_id", "timestamp_collected", "source_platform", "source_url")

_ID_KEYS = ("id", "post_id", "item_id", "_id")
_AUTHOR_KEYS = ("author", "user", "username", "owner", "from")
_AUTHOR_NAME_KEYS = ("username", "uniqueId", "screen_name", "name", "id")
_BODY_KEYS = ("body", "text", "message", "caption", "description", "desc")
_TIME_KEYS = ("timestamp", "date", "created_at", "taken_at", "createTime", "time")
_URL_KEYS = ("url", "permalink", "link", "post_url")
_SCALARS = (str, int, float, bool)


def read_ndjson(path: Path, collector: PostCollector) -> None:
    """Add the posts of an NDJSON file (one JSON object a line) to `collector`.

    A line that is not valid JSON, or an item without an id, becomes a failure naming the line;
    the other lines are still read.
    """
    for line, raw in _lines(path):
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw)
        except UnicodeDecodeError:
            collector.fail(line, "not valid UTF-8")
            continue
        except json.JSONDecodeError as exc:
            collector.fail(line, f"invalid JSON ({exc.msg} at column {exc.colno})")
            continue
        _add_object(obj, line, collector)


def _lines(path: Path) -> Iterator[tuple[int, bytes | str]]:
    """Numbered lines: bytes (each decoded alone, so one bad line fails alone), or text for a
    file whose byte-order mark says UTF-16/32 (their lines cannot be split as bytes)."""
    with path.open("rb") as handle:
        encoding = bom_encoding(handle.read(4))
    if encoding in (None, "utf-8-sig"):
        with path.open("rb") as handle:
            for line, raw in enumerate(handle, 1):
                yield line, raw.removeprefix(codecs.BOM_UTF8) if line == 1 else raw
        return
    with path.open(encoding=encoding, errors="replace") as handle:
        yield from enumerate(handle, 1)


def read_json_array(path: Path, collector: PostCollector) -> None:
    """Add the posts of a JSON file holding one array of items to `collector`."""
    try:
        data = json.loads(path.read_bytes().removeprefix(codecs.BOM_UTF8))
    except UnicodeDecodeError:
        collector.fail(None, "not valid UTF-8")
        return
    except json.JSONDecodeError as exc:
        collector.fail(exc.lineno, f"invalid JSON ({exc.msg} at column {exc.colno})")
        return
    if not isinstance(data, list):
        collector.fail(None, "expected an array of items, or NDJSON (one item a line)")
        return
    for index, obj in enumerate(data, 1):
        _add_object(obj, f"item {index}", collector)


def _add_object(obj: Any, line: int | str, collector: PostCollector) -> None:
    if not isinstance(obj, dict):
        collector.fail(line, f"expected a JSON object, got {type(obj).__name__}")
        return
    item, meta = _unwrap(obj)
    if not item:
        return  # a line holding only import metadata, no post
    is_tiktok = str(meta.get("source_platform", "")).startswith("tiktok") or (
        "createTime" in item and "desc" in item
    )
    draft = _tiktok_draft(item) if is_tiktok else _generic_draft(item, meta)
    if draft is None:
        keys = ", ".join(list(item)[:20])
        collector.fail(line, f"no usable 'id' field in the item (keys: {keys})")
        return
    if meta.get("source_url"):
        draft.extra.setdefault("collected_from_url", meta["source_url"])
    if meta.get("timestamp_collected") is not None:
        draft.extra.setdefault("timestamp_collected", meta["timestamp_collected"])
    collector.add(draft, line)


def _unwrap(obj: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Split a line into the platform item and the collection metadata around it."""
    if isinstance(obj.get("data"), dict) and any(key in obj for key in _WRAPPER_KEYS):
        return obj["data"], {k: v for k, v in obj.items() if k != "data"}
    meta = obj.get(_IMPORT_META)
    item = {k: v for k, v in obj.items() if k != _IMPORT_META}
    return item, meta if isinstance(meta, dict) else {}


def _tiktok_draft(item: dict[str, Any]) -> Draft | None:
    post_id = _usable_id(item.get("id"))
    if post_id is None:
        return None
    author = item.get("author")
    if isinstance(author, dict):
        username, full_name = author.get("uniqueId"), author.get("nickname")
    else:
        username, full_name = author, item.get("nickname")
    username = str(username or "")
    stats, music, video = (_mapping(item.get(key)) for key in ("stats", "music", "video"))
    hashtags = unique(tag.get("hashtagName") for tag in _mappings(item.get("textExtra")))
    if not hashtags:
        hashtags = unique(challenge.get("title") for challenge in _mappings(item.get("challenges")))
    extra = {
        "author_full": full_name,
        "plays": stats.get("playCount"),
        "likes": stats.get("diggCount"),
        "comments": stats.get("commentCount"),
        "shares": stats.get("shareCount"),
        "music_name": music.get("title"),
        "music_author": music.get("authorName"),
        "thumbnail_url": video.get("cover"),
        "location_created": item.get("locationCreated"),
    }
    return Draft(
        post_id=post_id,
        author=username,
        body=str(item.get("desc") or ""),
        url=f"https://www.tiktok.com/@{username}/video/{post_id}",
        hashtags=hashtags,
        times=[("createTime", item.get("createTime"))],
        extra={k: v for k, v in extra.items() if isinstance(v, _SCALARS)},
    )


def _generic_draft(item: dict[str, Any], meta: dict[str, Any]) -> Draft | None:
    id_key = _first_key(item, _ID_KEYS)
    post_id = _usable_id(item.get(id_key) if id_key else meta.get("item_id"))
    if post_id is None:
        return None
    author_key, body_key, time_key, url_key = (
        _first_key(item, keys) for keys in (_AUTHOR_KEYS, _BODY_KEYS, _TIME_KEYS, _URL_KEYS)
    )
    author = item.get(author_key)
    if isinstance(author, dict):
        author = next((author[k] for k in _AUTHOR_NAME_KEYS if author.get(k)), "")
    body = item.get(body_key)
    if isinstance(body, dict):  # Instagram: caption {text, ...}
        body = body.get("text")
    hashtags = item.get("hashtags")
    if isinstance(hashtags, list):
        hashtags = unique(str(tag).lstrip("#") for tag in hashtags if isinstance(tag, _SCALARS))
    else:
        hashtags = split_hashtags(hashtags) if isinstance(hashtags, str) else ()
    used = {id_key, author_key, body_key, time_key, url_key, "hashtags"}
    return Draft(
        post_id=post_id,
        author=_text(author),
        body=_text(body),
        url=_text(item.get(url_key)),
        hashtags=hashtags,
        times=[(time_key, item[time_key])] if time_key else [],
        extra={k: v for k, v in item.items() if k not in used and isinstance(v, _SCALARS)},
    )


def _usable_id(value: Any) -> str | None:
    """A post id as a string, or None when missing, empty or not a string/integer."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    text = str(value).strip()
    return text or None


def _first_key(item: dict[str, Any], keys: Iterable[str]) -> str | None:
    return next((key for key in keys if item.get(key) not in (None, "")), None)


def _text(value: Any) -> str:
    return str(value) if isinstance(value, _SCALARS) else ""


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _mappings(value: Any) -> list[dict[str, Any]]:
    return [entry for entry in value if isinstance(entry, dict)] if isinstance(value, list) else []

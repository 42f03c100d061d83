"""NDJSON and JSON post files: 4CAT's stored raw items and Zeeschuimer's exports.

4CAT stores one raw platform item per line, with Zeeschuimer's wrapper fields moved into an
`__import_meta` key; Zeeschuimer itself nests the item under `data`; 4CAT's API stream writes
items already mapped to the CSV's columns. Raw TikTok, Instagram and Telegram items are mapped
to those columns as 4CAT's `map_item` does (`indexer.platforms`), so every file of a dataset
gives the same posts; items of other platforms are read by common key names.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from indexer.columns import MISSING_COLUMN, Roles
from indexer.platforms import Unmapped, map_raw, platform_of, raw_id
from indexer.tables_common import Draft, PostCollector, at, bom_encoding, split_hashtags, unique

_IMPORT_META = "__import_meta"
_WRAPPER_KEYS = ("item_id", "timestamp_collected", "source_platform", "source_url", "nav_index")

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
    mapper = _Mapper(collector)
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
        mapper.add(obj, line)


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
    mapper = _Mapper(collector)
    for index, obj in enumerate(data, 1):
        mapper.add(obj, f"item {index}")


class _Mapper:
    """Turns the objects of one file into drafts, remembering each key set's `Roles`."""

    def __init__(self, collector: PostCollector) -> None:
        self.collector = collector
        self._roles: dict[tuple[str, ...], Roles] = {}

    def add(self, obj: Any, line: int | str) -> None:
        collector = self.collector
        if not isinstance(obj, dict):
            collector.fail(line, f"expected a JSON object, got {type(obj).__name__}")
            return
        item, meta = _unwrap(obj)
        if not item:
            return  # a line holding only import metadata, no post
        platform = platform_of(item, meta)
        if platform is not None and _usable_id(raw_id(platform, item)) is None:
            keys = ", ".join(list(item)[:20])
            collector.fail(line, f"no usable post id in the {platform} item (keys: {keys})")
            return
        try:
            if platform is not None:
                draft = self._mapped(map_raw(platform, item, meta))
            elif _is_mapped(item):
                draft = self._mapped(_present(item))
            else:
                draft = _generic_draft(item, meta)
        except Unmapped as exc:
            collector.note(f"are left out: {exc}", at(line))
            return
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
            collector.fail(line, f"not a {platform} item as 4CAT maps it ({_describe(exc)})")
            return
        if draft is None:
            keys = ", ".join(list(item)[:20])
            collector.fail(line, f"no usable 'id' field in the item (keys: {keys})")
            return
        collector.add(draft, line, capture=_capture_time(meta))

    def _mapped(self, row: dict[str, Any]) -> Draft | None:
        key = tuple(row)
        roles = self._roles.get(key)
        if roles is None:
            roles = self._roles[key] = Roles(key)
        post_id = _usable_id(row.get(roles.id)) if roles.id else None
        if post_id is None:
            return None
        draft = roles.draft(post_id, row)
        draft.extra = {k: v for k, v in draft.extra.items() if isinstance(v, _SCALARS)}
        return draft


def _is_mapped(item: dict[str, Any]) -> bool:
    """A line of 4CAT's API stream: an item already mapped to its CSV columns."""
    return MISSING_COLUMN in item or ("thread_id" in item and "unix_timestamp" in item)


def _present(item: dict[str, Any]) -> dict[str, Any]:
    """The API stream with `missing_fields=keep` writes a missing value as
    `{"__missing": true, "value": ...}`: empty, and named in `missing_fields`."""
    missing = [k for k, v in item.items() if isinstance(v, dict) and v.get("__missing") is True]
    if not missing:
        return item
    row = {k: "" if k in missing else v for k, v in item.items()}
    listed = [f for f in str(row.get(MISSING_COLUMN) or "").split(", ") if f]
    row[MISSING_COLUMN] = ", ".join(dict.fromkeys(listed + missing))
    return row


def _capture_time(meta: dict[str, Any]) -> float | None:
    """When Zeeschuimer last captured the item: of an item captured twice, the newest wins."""
    for key in ("last_updated", "timestamp_collected"):
        value = meta.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
    return None


def _describe(exc: Exception) -> str:
    if isinstance(exc, KeyError):
        return f"no field {exc.args[0]!r}"
    return str(exc) or type(exc).__name__


def _unwrap(obj: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Split a line into the platform item and the collection metadata around it."""
    if isinstance(obj.get("data"), dict) and any(key in obj for key in _WRAPPER_KEYS):
        return obj["data"], {k: v for k, v in obj.items() if k != "data"}
    meta = obj.get(_IMPORT_META)
    item = {k: v for k, v in obj.items() if k != _IMPORT_META}
    return item, meta if isinstance(meta, dict) else {}


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
    source = isinstance(meta.get("source_platform_url"), str) and meta["source_platform_url"]
    return Draft(
        post_id=post_id,
        author=_text(author),
        body=_text(body),
        url=_text(item.get(url_key)),
        hashtags=hashtags,
        times=[(time_key, item[time_key])] if time_key else [],
        extra={k: v for k, v in item.items() if k not in used and isinstance(v, _SCALARS)}
        | ({"collected_from_url": meta["source_platform_url"]} if source else {}),
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

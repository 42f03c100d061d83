"""The image payload: built for a new image, merged when a known image turns up again."""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from indexer.records import MediaItem, Post, printable, raw_name
from indexer.video import VideoFrames
from picsift.engagement import image_engagement
from picsift.models.decode import ImageInfo


def image_id(sha256: str) -> str:
    """Point id of an image: a UUID made of the first 128 bits of its SHA-256 (hex)."""
    return str(uuid.UUID(hex=sha256[:32]))


def frame_key(video_sha256: str, time: float) -> str:
    """What names one frame of a video (its point id, as `image_id`, and its thumbnail): the
    SHA-256 of the video's hash and the frame's time in milliseconds, so re-indexing the same
    video writes the same points."""
    return hashlib.sha256(f"{video_sha256}@{round(time * 1000)}".encode()).hexdigest()


def file_entry(item: MediaItem) -> dict[str, Any]:
    """Where the bytes were seen, as stored in `files`."""
    entry = {"path": printable(str(item.path)), "member": item.member, "dataset": item.dataset}
    raw = raw_name(str(item.path))
    return entry | {"path_hex": raw} if raw else entry


def stored_path(entry: dict[str, Any]) -> Path:
    """The file a `files` entry names: from its bytes when the name is not UTF-8 (`path`
    then holds a printable form with `\\xNN` escapes)."""
    if entry.get("path_hex"):
        return Path(os.fsdecode(bytes.fromhex(entry["path_hex"])))
    return Path(str(entry.get("path", "")))


def _merge_post(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """`new` over `old` field by field: a value the newer record leaves empty (a bare post from
    `.metadata.json`, a column the table lacks) keeps the stored one."""
    merged = old | {k: v for k, v in new.items() if v not in ("", None, [], {})}
    merged["extra"] = (old.get("extra") or {}) | {
        k: v for k, v in (new.get("extra") or {}).items() if v not in ("", None)
    }
    return merged


def merge_posts(old: list[dict[str, Any]], new: Iterable[Post]) -> list[dict[str, Any]]:
    """Posts of both, one per (dataset, post_id); the newer record wins field by field."""
    merged = {(p["dataset"], p["post_id"]): p for p in old}
    for post in new:
        key = (post.dataset, post.post_id)
        payload = post.to_payload()
        merged[key] = _merge_post(merged[key], payload) if key in merged else payload
    return list(merged.values())


def merge_files(old: list[dict[str, Any]], new: Iterable[MediaItem]) -> list[dict[str, Any]]:
    """Every distinct place the bytes were seen, per dataset (the same folder indexed under two
    dataset names is recorded for both, so removing one keeps the image for the other)."""
    seen = {_file_key(f): f for f in old}
    for item in new:
        entry = file_entry(item)
        seen.setdefault(_file_key(entry), entry)
    return list(seen.values())


def _file_key(entry: dict[str, Any]) -> tuple:
    return (entry.get("path_hex") or entry["path"], entry.get("member"), entry["dataset"])


def derived(posts: list[dict[str, Any]], files: list[dict[str, Any]], indexed_ts: int) -> dict:
    """Fields computed from posts and files: counts, datasets, first time seen, engagement."""
    times = [p["ts"] for p in posts if p.get("ts") is not None]
    datasets = sorted({p["dataset"] for p in posts} | {f["dataset"] for f in files})
    return {
        "n_posts": len(posts),
        "datasets": datasets,
        "first_seen": min(times) if times else indexed_ts,
        **image_engagement(posts),
    }


def relabeled(existing: dict[str, Any], name: str, dataset: str) -> dict[str, Any]:
    """The keys to update when an image's dataset `name` joins `dataset`: its posts and files
    of `name` become `dataset`'s (a post both have is merged, `dataset`'s fields first)."""
    old = existing.get("posts") or []
    kept = [p for p in old if p["dataset"] != name]
    moved = [Post.from_payload(p | {"dataset": dataset}) for p in old if p["dataset"] == name]
    posts = merge_posts(kept, moved)
    files = [f | {"dataset": dataset} if f["dataset"] == name else f for f in existing["files"]]
    files = list({_file_key(f): f for f in files}.values())
    indexed_ts = int(existing.get("first_seen") or 0)
    return {"posts": posts, "files": files, **derived(posts, files, indexed_ts)}


def new_payload(
    sha256: str,
    items: list[MediaItem],
    posts: list[Post],
    info: ImageInfo,
    indexed_at: str,
    indexed_ts: int,
) -> dict[str, Any]:
    """Payload of an image seen for the first time."""
    post_payloads = merge_posts([], posts)
    files = merge_files([], items)
    return {
        "sha256": sha256,
        "files": files,
        "width": info.width,
        "height": info.height,
        "format": info.format,
        "posts": post_payloads,
        **derived(post_payloads, files, indexed_ts),
        "caption": None,
        "indexed_at": indexed_at,
        "missing": False,
    }


def frame_payload(
    video_sha256: str,
    items: list[MediaItem],
    posts: list[Post],
    video: VideoFrames,
    index: int,
    indexed_at: str,
    indexed_ts: int,
) -> dict[str, Any]:
    """Payload of the `index`-th kept frame of a video seen for the first time: an image's
    (the video's files and posts), no `sha256` (a frame is no file), and where it sits in
    its video."""
    frame = video.frames[index]
    info = ImageInfo(video.width, video.height, video.format)
    return new_payload("", items, posts, info, indexed_at, indexed_ts) | {
        "video_id": image_id(video_sha256),
        "video_sha256": video_sha256,
        "frame_time": frame.time,
        "frame_index": index,
        "video_frames": len(video.frames),
        "video_duration": video.duration,
        "frame_key": frame_key(video_sha256, frame.time),
    }


def merged_payload(
    existing: dict[str, Any], items: list[MediaItem], posts: list[Post]
) -> dict[str, Any] | None:
    """The keys to update on a known image seen again, or None when nothing is new."""
    old_posts = existing.get("posts") or []
    old_files = existing.get("files") or []
    posts_now = merge_posts(old_posts, posts)
    files_now = merge_files(old_files, items)
    if posts_now == old_posts and files_now == old_files and not existing.get("missing"):
        return None
    indexed_ts = int(existing.get("first_seen") or 0)
    return {
        "posts": posts_now,
        "files": files_now,
        **derived(posts_now, files_now, indexed_ts),
        "missing": False,
    }


def changed_posts(old: dict[str, Any], update: dict[str, Any], keys: set) -> set:
    """Which of the post `keys` an update of `merged_payload` adds or changes."""
    before = {(p["dataset"], p["post_id"]): p for p in old.get("posts") or []}
    after = {(p["dataset"], p["post_id"]): p for p in update["posts"]}
    return {k for k in keys if after.get(k) != before.get(k)}

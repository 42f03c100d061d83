"""Grouped results: at most one hit per post, per author or per video, in ranking order."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from picsift.store import Record

GROUP_BATCH = 200  # hits read for the first grouped batch; later batches double
GROUP_BATCH_MAX = 5000
GROUP_SCAN_MAX = 20_000  # candidates looked at to fill grouped pages


def group_key(hit: Record, group_by: str) -> Any:
    """What makes two hits the same group: their first post, its author, or their video (the
    frames of one video). Hits without one (no posts, no author, an image by video) are
    groups of their own."""
    if group_by == "video":
        video = hit.payload.get("video_id")
        return ("video", video) if video else ("image", hit.id)
    posts = hit.payload.get("posts") or []
    if not posts:
        return ("image", hit.id)
    first = min(posts, key=lambda p: (p.get("ts") is None, p.get("ts") or 0))
    if group_by == "post":
        return ("post", first.get("dataset"), first.get("post_id"))
    return ("author", first.get("author")) if first.get("author") else ("image", hit.id)


def first_of_groups(
    fetch: Callable[[int, int], list], group_by: str, scan_max: int | None = None
) -> Iterator[Any]:
    """The first hit of each group in the order `fetch(limit, offset)` reads hits, looking
    at `scan_max` hits at most. Batches double in size: ranks past the approximate windows
    cost an exact search each, so a few large reads beat many small ones."""
    seen: set[Any] = set()
    start, size = 0, GROUP_BATCH
    while scan_max is None or start < scan_max:
        if scan_max is not None:
            size = min(size, scan_max - start)
        page = fetch(size, start)
        for hit in page:
            key = group_key(hit, group_by)
            if key not in seen:
                seen.add(key)
                yield hit
        if len(page) < size:
            return
        start, size = start + size, min(2 * size, GROUP_BATCH_MAX)

"""Topics over time: posts per topic per day or week, for the UI's timeline."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from typing import Any, Literal

from picsift.errors import InputError
from picsift.store import Filter, ImageStore

PAGE = 2000
INTERVALS = ("day", "week")


def period_of(ts: int | float, interval: str) -> str:
    """The day (UTC) of a unix time, or the Monday of its week, as YYYY-MM-DD."""
    day = dt.datetime.fromtimestamp(ts, dt.UTC).date()
    if interval == "week":
        day -= dt.timedelta(days=day.weekday())
    return day.isoformat()


def timeline(
    store: ImageStore,
    *,
    interval: Literal["day", "week"] = "week",
    filter: Filter | None = None,
    post_matches: Callable[[dict[str, Any]], bool] | None = None,
) -> list[dict]:
    """Posts per topic per period, counted from each image's posts' `ts`.

    Posts are counted, not images: an image posted five times counts five times, so the
    timeline shows how often a topic's images circulated. Images without a topic, and posts
    without a time, are left out.

    Args:
        filter: Which images to look at.
        post_matches: Which of their posts to count (e.g. the request's dataset, author and
            dates: the other posts of a matching image fall outside them); all when None.

    Returns:
        Rows `{"period": "YYYY-MM-DD", "topic": int, "posts": int}`, sorted by period, topic.

    Raises:
        InputError: an unknown interval.
    """
    if interval not in INTERVALS:
        raise InputError(f"interval: must be one of {', '.join(INTERVALS)} (got {interval!r})")
    if not store.exists:
        return []
    counts: Counter[tuple[str, int]] = Counter()
    fields = ["topic", "posts[].ts", "posts[].dataset", "posts[].author"]
    records = store.images.scroll(filter, with_payload=fields, page_size=PAGE)
    for record in records:
        topic = record.payload.get("topic")
        if not isinstance(topic, int):
            continue
        for post in record.payload.get("posts") or []:
            if not isinstance(post, dict) or (post_matches and not post_matches(post)):
                continue
            ts = post.get("ts")
            if isinstance(ts, int | float):
                counts[(period_of(ts, interval), topic)] += 1
    return [
        {"period": period, "topic": topic, "posts": n}
        for (period, topic), n in sorted(counts.items())
    ]

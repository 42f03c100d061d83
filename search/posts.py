"""The posts of an image as the API gives them. One image can carry tens of thousands of posts
(a zip of 50,000 copies of one picture), so a hit carries the first `POSTS_IN_HIT` and their
count, and the rest are read a page at a time. Posts keep the order they are stored in: the order
they were first indexed (re-indexing a post keeps its place), so pages fit together."""

from __future__ import annotations

from typing import Any

from picsift.store import Hit, Record

POSTS_IN_HIT = 20
POSTS_PAGE = 100  # posts per page unless asked otherwise
POSTS_PAGE_MAX = 1000
SUMMARY_FIELDS = ("dataset", "post_id", "author", "timestamp", "url")
# What a hit reads of each post: its summary, and `ts` to group hits by their earliest post.
# Nested selectors leave bodies and extra columns in the store, however many posts there are.
HIT_POST_FIELDS = tuple(f"posts[].{k}" for k in (*SUMMARY_FIELDS, "ts"))
HIT_FIELDS = [  # what a hit reads of its image
    "sha256",
    "topic",
    "caption",
    "video_id",
    "frame_time",
    "engagement",
    "engagement_posts",
    *HIT_POST_FIELDS,
]


def summary(post: dict[str, Any]) -> dict[str, str]:
    """A post in a hit: who, when, where (empty strings for what the source lacked)."""
    return {k: post.get(k) or "" for k in SUMMARY_FIELDS}


def detail(post: dict[str, Any]) -> dict[str, Any]:
    """A post in full: the summary with its text, hashtags and the table's other columns."""
    return summary(post) | {
        "body": post.get("body") or "",
        "hashtags": list(post.get("hashtags") or []),
        "extra": post.get("extra") or {},
    }


def page(image_id: str, posts: list[dict[str, Any]], offset: int, limit: int) -> dict[str, Any]:
    """Posts `offset` to `offset + limit` of an image in full, with the paging fields."""
    chunk = posts[offset : offset + limit]
    end = offset + len(chunk)
    return {
        "id": image_id,
        "n_posts": len(posts),
        "offset": offset,
        "limit": limit,
        "next_offset": end if end < len(posts) else None,
        "posts": [detail(p) for p in chunk],
    }


def hit_shape(hit: Record, labels: dict[int, str], thumb_url: str) -> dict[str, Any]:
    """A stored hit in the architecture's hit shape (score None for a browsed record),
    with its first `POSTS_IN_HIT` posts and their count."""
    payload = hit.payload
    topic = payload.get("topic")
    posts = payload.get("posts") or []
    return {
        "id": hit.id,
        "score": round(float(hit.score), 6) if isinstance(hit, Hit) else None,
        "sha256": payload.get("sha256", ""),
        "topic": topic,
        "topic_label": labels.get(topic) if topic is not None else None,
        "caption": payload.get("caption"),
        "video_id": payload.get("video_id"),
        "frame_time": payload.get("frame_time"),
        "thumb_url": thumb_url.format(id=hit.id),
        "n_posts": len(posts),
        "engagement": payload.get("engagement"),
        "engagement_posts": payload.get("engagement_posts"),
        "posts": [summary(p) for p in posts[:POSTS_IN_HIT]],
        "evidence": None,  # a text or hybrid search's (see `_fused`)
    }

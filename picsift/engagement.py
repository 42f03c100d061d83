"""Engagement counts of posts, from the columns 4CAT writes per platform (TikTok: `likes`,
`comments`, `shares`, `plays`; Instagram: `num_likes`, `num_comments`; Telegram: `views`,
counted as plays). Instagram's hidden like counts and its -1 "unknown" are no count, nor is a
cell that is no number: a post without a count is left out of a sum, never counted as 0, and
each sum says over how many posts it is."""

from __future__ import annotations

from typing import Any

# metric -> the columns it is read from, as 4CAT's writers name them
METRICS = {
    "likes": ("likes", "num_likes"),
    "comments": ("comments", "num_comments"),
    "shares": ("shares",),
    "plays": ("plays", "views"),
}
ENGAGED = ("likes", "comments", "shares")  # what "engagement" sums (plays are reach)


def metric(post: dict[str, Any], columns: tuple[str, ...]) -> int | None:
    """The post's count in the first of `columns` it has (None: none, hidden or unknown)."""
    extra = post.get("extra") or {}
    if str(extra.get("likes_hidden", "")).lower() == "yes" and "num_likes" in columns:
        return None
    for column in columns:
        try:
            number = int(float(extra.get(column)))
        except (TypeError, ValueError, OverflowError):  # "", "n/a", "inf", absent
            continue
        if number >= 0:
            return number
    return None


def engaged(post: dict[str, Any]) -> int | None:
    """The post's likes, comments and shares together, of those it has counts for (None:
    none of them)."""
    counts = [n for m in ENGAGED if (n := metric(post, METRICS[m])) is not None]
    return sum(counts) if counts else None


def image_engagement(posts: list[dict[str, Any]]) -> dict[str, int]:
    """An image's `engagement` (likes, comments and shares summed over its posts) and
    `engagement_posts` (how many of its posts had any of those counts), stored with it so
    search can sort by them."""
    counts = [n for p in posts if (n := engaged(p)) is not None]
    return {"engagement": sum(counts), "engagement_posts": len(counts)}

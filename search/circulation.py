"""How each variant group circulated: the posts of all its images (copies of one picture),
when, by how many accounts, in which datasets, with what engagement.

A post is counted once per group (by dataset and post id), also when several copies of the
picture are in it. An account is an author name, so an account's posts in two scrapes (two
datasets) count once; a name that two platforms' accounts share counts once too. Engagement
is summed from the columns 4CAT writes (`picsift.engagement`): a metric is summed over the
posts that have it, and `engagement_posts` says how many those were, so a sum over 3 of 40
posts is not read as the whole.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, get_args

from picsift.engagement import ENGAGED, METRICS, metric
from picsift.store import Filter, ImageStore, Range

Sort = Literal["posts", "accounts", "images", "engagement", "first_seen"]
SORTS = get_args(Sort)
FIELDS = ["variant", "variant_size", "posts", "first_seen"]
LAST_TS = 253_402_300_800  # 10000-01-01: a post time past it is no unix time in seconds


@dataclass
class Group:
    """One variant group's circulation."""

    variant: str
    images: int
    posts: int = 0
    accounts: int = 0
    datasets: list[str] = field(default_factory=list)
    first_seen: str | None = None  # the earliest post's time (UTC, ISO)
    last_seen: str | None = None
    weeks: dict[str, int] = field(default_factory=dict)  # Monday (ISO date) -> posts
    engagement: dict[str, int] = field(default_factory=dict)
    engagement_posts: dict[str, int] = field(default_factory=dict)

    @property
    def engaged(self) -> int:
        """Likes, comments and shares together."""
        return sum(self.engagement.get(m, 0) for m in ENGAGED)


def circulation(store: ImageStore, sort: Sort = "posts", limit: int = 50) -> dict[str, Any]:
    """The groups of two or more images, by `sort` (largest first; `first_seen`: earliest
    first), at most `limit` of them, with how many groups there are."""
    if not store.exists:
        return {"groups": [], "total": 0, "sort": sort}
    shared = Filter(must=(Range("variant_size", gte=2),))
    posts: dict[str, dict[tuple[str, str], dict[str, Any]]] = defaultdict(dict)
    images: Counter[str] = Counter()
    for record in store.images.scroll(shared, with_payload=FIELDS):
        group = record.payload.get("variant")
        if not group:
            continue
        images[group] += 1
        for post in record.payload.get("posts") or []:
            posts[group].setdefault((str(post.get("dataset")), str(post.get("post_id"))), post)
    groups = [_summary(g, images[g], list(posts[g].values())) for g in images]
    groups.sort(key=_key(sort))
    return {"groups": [_plain(g) for g in groups[:limit]], "total": len(groups), "sort": sort}


def _summary(variant: str, images: int, posts: list[dict[str, Any]]) -> Group:
    group = Group(variant, images, posts=len(posts))
    group.accounts = len({p["author"] for p in posts if p.get("author")})
    group.datasets = sorted({str(p.get("dataset")) for p in posts if p.get("dataset")})
    times = sorted(
        int(t) for p in posts if isinstance(t := p.get("ts"), int | float) and 0 <= t < LAST_TS
    )
    if times:
        group.first_seen, group.last_seen = _iso(times[0]), _iso(times[-1])
        weeks = Counter(_monday(t) for t in times)
        group.weeks = dict(sorted(weeks.items()))
    for name, columns in METRICS.items():
        values = [v for p in posts if (v := metric(p, columns)) is not None]
        if values:
            group.engagement[name] = sum(values)
            group.engagement_posts[name] = len(values)
    return group


def _key(sort: Sort) -> Any:
    if sort == "first_seen":
        return lambda g: (g.first_seen is None, g.first_seen or "", g.variant)
    value = {
        "posts": lambda g: g.posts,
        "accounts": lambda g: g.accounts,
        "images": lambda g: g.images,
        "engagement": lambda g: g.engaged,
    }[sort]
    return lambda g: (-value(g), g.variant)


def _iso(ts: int) -> str:
    return dt.datetime.fromtimestamp(ts, dt.UTC).isoformat(timespec="seconds")


def _monday(ts: int) -> str:
    day = dt.datetime.fromtimestamp(ts, dt.UTC).date()
    return (day - dt.timedelta(days=day.weekday())).isoformat()


def _plain(group: Group) -> dict[str, Any]:
    return asdict(group) | {"engaged": group.engaged}

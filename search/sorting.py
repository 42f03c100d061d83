"""Hits sorted by engagement (`sort=engagement`): the images most liked, commented and shared
first, from the `engagement` each image stores (`picsift.engagement`).

Images with counts come first, most engaged first; then those none of whose posts has counts
(a platform without them, hidden likes), newest first, so an unknown is never ranked as a zero.
With post filters (dataset, author, dates) an image's engagement is summed over the posts they
select, not all of its posts, and hits carry that sum.

A ranking is sorted whole, so it must end: at a score cut, or where a text ranking's words stop
matching. Sorting only its first page would put a page's most engaged first and call that an
order; sorting it whole puts the most engaged matches first, each keeping its score.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TypeVar

from picsift.engagement import image_engagement
from picsift.errors import InputError
from picsift.store import Filter, ImageStore, IsEmpty, Range, Record
from picsift.store.records import PayloadSelect
from search.fused import DEPTH
from search.query import SearchRequest

SORT_DEPTH = 10_000  # images sorted in memory at most (a ranking, or a post-filtered list)
PAYLOAD_BATCH = 1000
NEWEST = "first_seen"
SORT_NEEDS_END = (
    "sort: sorting a ranking by engagement needs where the ranking ends: a min_score (the "
    "cosine in image mode; the strong-match edge helps choose) or mode=text (it ends where no "
    "word matches); a hybrid ranking has no end"
)
# What a post-filtered sort reads of each post, to sum the posts the filters select.
POST_FIELDS = [f"posts[].{k}" for k in ("dataset", "author", "ts", "extra")]
R = TypeVar("R", bound=Record)


def with_payloads(store: ImageStore, hits: Sequence[R], fields: PayloadSelect) -> list[R]:
    """The hits with their stored `fields` (one left out when it is gone from the store)."""
    found = store.images.retrieve([h.id for h in hits], with_payload=fields)
    payloads = {r.id: r.payload for r in found}
    return [replace(h, payload=payloads[h.id]) for h in hits if h.id in payloads]


def by_engagement(
    store: ImageStore,
    listed: Sequence[R],
    request: SearchRequest,
    fields: PayloadSelect,
    capped: bool = False,
) -> Callable[[int, int], list[R]]:
    """`fetch(limit, offset)` over `listed` (a ranking's hits, or browsed records: all of
    those the request selects) sorted by engagement (see the module), ties in their order,
    each with `fields` and the engagement it was sorted by.

    Raises:
        InputError: naming `sort`: over `SORT_DEPTH` images, a text ranking `capped` at a
            leg's depth, or a selected image with no engagement stored yet.
    """
    if capped:
        raise InputError(
            f"sort: more images match than the ranking holds (the best {DEPTH:,} of each "
            "language's text ranking), so sorting it would leave the rest out: give a "
            "min_score (a BM25 score in text mode) or narrow the filters"
        )
    if len(listed) > SORT_DEPTH:
        raise InputError(
            f"sort: over {SORT_DEPTH:,} images are in this list, and sorting by engagement "
            f"{'with post filters ' if request.selects_posts else ''}sorts all of it: raise "
            "min_score or narrow the filters"
        )
    if not request.selects_posts:
        check_engagement(store, request.to_filter())
    engaged = _engagement(store, [h.id for h in listed], request)

    def key(hit: R) -> tuple[bool, int]:
        counts = engaged[hit.id]
        return counts["engagement_posts"] == 0, -counts["engagement"]

    order = sorted(listed, key=key)

    def fetch(limit: int, offset: int) -> list[R]:
        page = with_payloads(store, order[offset : offset + limit], fields)
        return [replace(h, payload=h.payload | engaged[h.id]) for h in page]

    return fetch


def _engagement(
    store: ImageStore, ids: list[str], request: SearchRequest
) -> dict[str, dict[str, int]]:
    """Each image's engagement: stored, or with post filters summed over the selected posts."""
    fields = POST_FIELDS if request.selects_posts else ["engagement", "engagement_posts"]
    found: dict[str, dict[str, int]] = {}
    for start in range(0, len(ids), PAYLOAD_BATCH):
        for record in store.images.retrieve(
            ids[start : start + PAYLOAD_BATCH], with_payload=fields
        ):
            payload = record.payload
            if request.selects_posts:
                posts = [p for p in payload.get("posts") or [] if request.post_matches(p)]
                found[record.id] = image_engagement(posts)
            else:
                found[record.id] = {
                    "engagement": payload.get("engagement") or 0,
                    "engagement_posts": payload.get("engagement_posts") or 0,
                }
    return found


def browse_by_engagement(
    store: ImageStore, request: SearchRequest, fields: PayloadSelect
) -> Callable[[int, int], list[Record]]:
    """`fetch(limit, offset)` over the images matching the request, sorted by engagement (see
    the module): from the stored engagement's index, or, with post filters, in memory.

    Raises:
        InputError: naming `sort` (see `by_engagement`).
    """
    flt = request.to_filter()
    if request.selects_posts:
        listed: list[Record] = []
        for record in store.images.scroll(flt, with_payload=[NEWEST]):
            listed.append(record)
            if len(listed) > SORT_DEPTH:
                break
        listed.sort(key=lambda r: (-(r.payload.get(NEWEST) or 0), r.id))  # newest first
        return by_engagement(store, listed, request, fields)
    check_engagement(store, flt)
    counted = _and(flt, Range("engagement_posts", gte=1))
    uncounted = _and(flt, Range("engagement_posts", lte=0))
    first = store.images.count(counted)

    def fetch(limit: int, offset: int) -> list[Record]:
        page: list[Record] = []
        if offset < first:
            page = store.images.newest(
                "engagement", counted, limit=limit, offset=offset, with_payload=fields
            )
        if len(page) < limit:
            page += store.images.newest(
                NEWEST,
                uncounted,
                limit=limit - len(page),
                offset=max(0, offset - first),
                with_payload=fields,
            )
        return page

    return fetch


def check_engagement(store: ImageStore, flt: Filter | None) -> None:
    """Refuse to sort where images matching `flt` have no engagement stored (indexed by a
    picsift before it was), instead of leaving them out of the order.

    Raises:
        InputError: naming how many, and `picsift store migrate`.
    """
    missing = store.images.count(_and(flt, IsEmpty("engagement")))
    if missing:
        raise InputError(
            f"sort: {missing:,} of the images have no engagement stored yet (indexed by an "
            "earlier picsift); run `picsift store migrate` to add it"
        )


def _and(flt: Filter | None, condition: Range | IsEmpty) -> Filter:
    base = flt or Filter()
    return Filter((*base.must, condition), base.should, base.must_not)

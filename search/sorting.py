"""Hits sorted by engagement (`sort=engagement`): the images most liked, commented and shared
first, from the `engagement` each image stores (`picsift.engagement`).

A ranking is sorted whole, so it must end: at a score cut, or where a text ranking's words stop
matching. Sorting only its first page would put a page's most engaged first and call that an
order; sorting it whole puts the most engaged matches first, each keeping its score.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from picsift.errors import InputError
from picsift.store import Filter, Hit, ImageStore, IsEmpty
from picsift.store.records import PayloadSelect

SORT_DEPTH = 10_000  # images of a ranking sorted by engagement at most
PAYLOAD_BATCH = 1000
SORT_NEEDS_END = (
    "sort: sorting a ranking by engagement needs where the ranking ends: a min_score (the "
    "cosine in image mode; the strong-match edge helps choose) or mode=text (it ends where no "
    "word matches); a hybrid ranking has no end"
)


def with_payloads(store: ImageStore, hits: list[Hit], fields: PayloadSelect) -> list[Hit]:
    """The hits with their stored `fields` (one left out when it is gone from the store)."""
    found = store.images.retrieve([h.id for h in hits], with_payload=fields)
    payloads = {r.id: r.payload for r in found}
    return [replace(h, payload=payloads[h.id]) for h in hits if h.id in payloads]


def by_engagement(
    store: ImageStore,
    ranked: list[Hit],
    flt: Filter | None,
    fields: PayloadSelect,
    capped: bool = False,
) -> Callable[[int, int], list[Hit]]:
    """`fetch(limit, offset)` over a ranking's hits (`ranked`, all of those matching `flt`)
    sorted most engaged first, ties in rank order, each with its score and `fields`.

    Raises:
        InputError: the ranking is longer than `SORT_DEPTH` (or was `capped` at a leg's
            depth), or a matching image has no engagement stored yet.
    """
    if capped or len(ranked) > SORT_DEPTH:
        raise InputError(
            f"sort: over {SORT_DEPTH:,} images are in this ranking, and sorting by engagement "
            "sorts all of it: raise min_score or narrow the filters"
        )
    check_engagement(store, flt)
    engaged: dict[str, int] = {}
    for start in range(0, len(ranked), PAYLOAD_BATCH):
        batch = [h.id for h in ranked[start : start + PAYLOAD_BATCH]]
        for record in store.images.retrieve(batch, with_payload=["engagement"]):
            engaged[record.id] = record.payload.get("engagement") or 0
    order = sorted(ranked, key=lambda h: -engaged.get(h.id, 0))

    def fetch(limit: int, offset: int) -> list[Hit]:
        return with_payloads(store, order[offset : offset + limit], fields)

    return fetch


def check_engagement(store: ImageStore, flt: Filter | None) -> None:
    """Refuse to sort where images matching `flt` have no engagement stored (indexed by a
    picsift before it was), instead of leaving them out of the order.

    Raises:
        InputError: naming how many, and `picsift store migrate`.
    """
    base = flt or Filter()
    lacking = Filter((*base.must, IsEmpty("engagement")), base.should, base.must_not)
    missing = store.images.count(lacking)
    if missing:
        raise InputError(
            f"sort: {missing:,} of the images have no engagement stored yet (indexed by an "
            "earlier picsift); run `picsift store migrate` to add it"
        )

"""One fixed ranking of a query that pages fit together: approximate windows, then exact.

Kept apart from `Collection`'s storage calls: this is the part that decides what rank a hit
has, and the part every search, grouped search, export and strong-match count goes through.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np

from picsift.store.filters import Filter
from picsift.store.records import Hit, PayloadSelect

# The ranking of a query: the best RANK_WINDOWS[0] by an approximate search with that ef,
# then the rest of the best RANK_WINDOWS[1] likewise, then the rest by exact search.
RANK_WINDOWS = (100, 1000)


class Ranking:
    """The ranking methods of a `Collection` (which provides `query`, `retrieve` and
    `hnsw_ef`)."""

    def ranking(
        self,
        vector: np.ndarray,
        *,
        filter: Filter | None = None,
        limit: int,
        offset: int = 0,
        with_payload: PayloadSelect = True,
        score_threshold: float | None = None,
    ) -> list[Hit]:
        """Hits `offset .. offset + limit` of one fixed ranking of `vector`, best first; with
        `score_threshold`, the same ranking less the points scoring below it.

        A plain `query` per page is a separate approximate search whose candidates change
        with `offset + limit`, so its pages repeat and skip hits. Here each window of
        `RANK_WINDOWS` always comes from the same search (same limit, same ef) and adds the
        points the windows before it did not have; ranks past the last window are the exact
        ranking with the windowed points left out. So pages at any offset fit together
        without repeats or gaps while the data stays the same (scores may step up at a
        window's edge, where an approximate ranking hands over to a better one). Equal scores
        are ordered by id, so ties too come out the same on every page and both backends.
        """
        want = offset + limit
        ranked: list[Hit] = []
        seen: set[str] = set()
        # A window short of its size proves nothing: a sparse HNSW graph can reach fewer
        # points than asked for, so only the exact search below may end the ranking.
        for hits in self._windows(vector, filter):
            # The threshold is applied to the window here, not in its approximate search: the
            # windows stay the very searches of the ranking without one, so by construction
            # a threshold only drops hits from that ranking. The exact stage takes it as is.
            kept = (h for h in hits if score_threshold is None or h.score >= score_threshold)
            ranked += _in_rank_order(h for h in kept if h.id not in seen)
            seen.update(h.id for h in hits)
            if len(ranked) >= want:
                break
        if len(ranked) < want:
            ranked += self._exact_rest(vector, filter, seen, want - len(ranked), score_threshold)
        return self._with_payload(ranked[offset:want], with_payload)

    def _windows(self, vector: np.ndarray, filter: Filter | None) -> Iterator[list[Hit]]:
        """The ranking's approximate searches in turn (`RANK_WINDOWS`: limit and ef alike),
        each window's hits as the engine gave them; a caller stops when it has enough."""
        for size in RANK_WINDOWS:
            yield self.query(
                vector,
                filter=filter,
                limit=size,
                hnsw_ef=max(size, self.hnsw_ef or 0),
                with_payload=False,
            )

    def count_in_windows(
        self, vector: np.ndarray, threshold: float, *, filter: Filter | None = None
    ) -> tuple[int, bool]:
        """How many of the ranking's first `RANK_WINDOWS[-1]` ranks score at least
        `threshold` (what a cut there shows in them), and whether the last window is all
        above it, so that more may follow. Two approximate searches, where an exact count
        scans every vector (42 ms at 100k, unfiltered)."""
        above: set[str] = set()
        last: list[Hit] = []
        for last in self._windows(vector, filter):
            above.update(h.id for h in last if h.score >= threshold)
        full = len(last) == RANK_WINDOWS[-1] and all(h.score >= threshold for h in last)
        return len(above), full

    def _exact_rest(
        self,
        vector: np.ndarray,
        filter: Filter | None,
        seen: set[str],
        need: int,
        score_threshold: float | None = None,
    ) -> list[Hit]:
        """The best `need` points outside `seen` by exact search, ties complete and in id order.

        The engine orders equal scores arbitrarily, and which of them a top-k keeps depends on
        k (heaps, segment merges): asked for 1,020 and then 1,200 hits, it put one of two tied
        points at rank 1,011 in one answer and the other in the next. So the search is widened
        until every point tied with the last one needed is in the answer (the lowest score
        returned is below it), and ties are ordered by id.
        """
        limit = len(seen) + need
        while True:
            hits = self.query(
                vector,
                filter=filter,
                limit=limit,
                exact=True,
                with_payload=False,
                score_threshold=score_threshold,
            )
            fresh = _in_rank_order(h for h in hits if h.id not in seen)
            if len(hits) < limit:
                return fresh  # every matching point (at or above the threshold) is in the answer
            if len(fresh) >= need and min(h.score for h in hits) < fresh[need - 1].score:
                return fresh[:need]
            limit *= 2

    def _with_payload(self, page: list[Hit], with_payload: PayloadSelect) -> list[Hit]:
        if not page or with_payload is False:
            return page
        records = {r.id: r for r in self.retrieve([h.id for h in page], with_payload=with_payload)}
        return [
            Hit(id=h.id, payload=records[h.id].payload, score=h.score)
            for h in page
            if h.id in records
        ]


def _in_rank_order(hits: Iterable[Hit]) -> list[Hit]:
    """Best score first, equal scores by id: one order whatever order the engine gave."""
    return sorted(hits, key=lambda h: (-h.score, h.id))

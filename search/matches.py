"""How many images a ranked query matches, and where its strong matches end.

A ranking has no end of its own (CLIP scores every image for any text), so a page of hits
says nothing about how many are worth looking at. Two numbers do: how many images match the
filters (at or above `min_score` when one is given), counted exactly, and how many stand out
above the query's edge (`picsift.relevance`), calibrated once per store on meaningless
queries.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from picsift.relevance import NullModel, fit_null, null_texts, query_edge, sample_vectors
from picsift.store import Filter, ImageStore

MATCH_COUNT_CAP = 10_000  # exact counts stop here: past it, "10,000+" says enough
HISTOGRAM_BINS = 40
SIZE_CHECK_S = 5.0  # how stale the store size behind the calibration may be, at most
COUNT_CACHE = 256  # (query, filter, threshold) counts kept: pages of one query count once


@dataclass(frozen=True)
class Relevance:
    """Where one text query's strong matches end, and the sampled scores behind it."""

    edge: float | None
    strong: int | None
    strong_capped: bool
    verdict: str
    median: float | None
    histogram: dict[str, Any] | None
    sample: int
    method: str

    def to_dict(self) -> dict[str, Any]:
        """As the API and manifests give it."""
        return {
            "edge": self.edge,
            "strong": self.strong,
            "strong_capped": self.strong_capped,
            "verdict": self.verdict,
            "median": self.median,
            "histogram": self.histogram,
            "sample": self.sample,
            "method": self.method,
        }


class Matches:
    """Exact match counts and text-query edges over one store.

    The store's sample and null model are made on the first text query and again when the
    store's size changed (an index job added images) or after `reset()` (topics or payloads
    changed); counts are cached until then, so paging through a query counts it once.
    """

    def __init__(self, store: ImageStore, embed_texts: Callable[[list[str]], np.ndarray]):
        self.store = store
        self.embed_texts = embed_texts
        self._lock = threading.Lock()
        self._fit_lock = threading.Lock()  # concurrent first queries calibrate once
        self._size: int | None = None
        self._checked = -SIZE_CHECK_S  # when the size was last looked at
        self._calibration: tuple[np.ndarray, NullModel | None] | None = None
        self._counts: OrderedDict[tuple, tuple[int, bool]] = OrderedDict()

    def reset(self) -> None:
        """Forget the calibration and the cached counts."""
        with self._lock:
            self._size, self._calibration = None, None
            self._checked = -SIZE_CHECK_S
            self._counts.clear()

    def _check_size(self) -> None:
        """Drop what was computed from another store size (images added or deleted). An exact
        count costs 10 ms at 100k, so it is taken at most every `SIZE_CHECK_S` seconds; this
        server's own index jobs `reset()` at once."""
        now = time.monotonic()
        with self._lock:
            if now - self._checked < SIZE_CHECK_S:
                return
            self._checked = now
        size = self.store.images.count()
        with self._lock:
            if size != self._size:
                self._size, self._calibration = size, None
                self._counts.clear()

    def count(
        self, vector: np.ndarray | None, flt: Filter | None, threshold: float | None
    ) -> tuple[int, bool]:
        """How many images match `flt` (with a vector and a threshold: and score at least
        that), exactly, and whether there are more than `MATCH_COUNT_CAP` of them (a count by
        score stops there; a count by filter alone is never capped)."""
        self._check_size()
        if vector is None or threshold is None:
            return self._cached((None, flt, None), lambda: (self.store.images.count(flt), False))

        def by_score() -> tuple[int, bool]:
            hits = self.store.images.query(
                vector,
                filter=flt,
                limit=MATCH_COUNT_CAP + 1,
                exact=True,
                with_payload=False,
                score_threshold=threshold,
            )
            return min(len(hits), MATCH_COUNT_CAP), len(hits) > MATCH_COUNT_CAP

        return self._cached((_bytes(vector), flt, float(threshold)), by_score)

    def strong(self, vector: np.ndarray, flt: Filter | None, edge: float) -> tuple[int, bool]:
        """Images above the edge among the first 1,000 ranks of the query's ranking (the ones
        a cut at the edge shows there), and whether there may be more beyond them."""
        return self._cached(
            ("windows", _bytes(vector), flt, float(edge)),
            lambda: self.store.images.count_in_windows(vector, edge, filter=flt),
        )

    def _cached(self, key: tuple, compute: Callable[[], tuple[int, bool]]) -> tuple[int, bool]:
        with self._lock:
            if key in self._counts:
                self._counts.move_to_end(key)
                return self._counts[key]
        found = compute()
        with self._lock:
            self._counts[key] = found
            while len(self._counts) > COUNT_CACHE:
                self._counts.popitem(last=False)
        return found

    def calibration(self) -> tuple[np.ndarray, NullModel | None]:
        """The store's sampled vectors and null model (None: too few images to tell)."""
        self._check_size()
        with self._fit_lock:
            with self._lock:
                if self._calibration is not None:
                    return self._calibration
            sample = sample_vectors(self.store)
            vectors = self.embed_texts(null_texts()) if len(sample) else None
            null = fit_null(self.store, vectors, sample) if vectors is not None else None
            with self._lock:
                self._calibration = (sample, null)
            return sample, null

    def relevance(self, vector: np.ndarray, flt: Filter | None) -> Relevance:
        """The edge of a text query's vector, and how many images matching `flt` are above it."""
        sample, null = self.calibration()
        if not len(sample):
            return Relevance(None, None, False, "no images to score", None, None, 0, "")
        edge = query_edge(null, sample, vector)
        strong, capped = (None, False) if edge.edge is None else self.strong(vector, flt, edge.edge)
        lo, hi, counts = edge.histogram(bins=HISTOGRAM_BINS)
        return Relevance(
            edge=None if edge.edge is None else round(edge.edge, 6),
            strong=strong,
            strong_capped=capped,
            verdict=edge.verdict(strong, capped),
            median=round(edge.median, 6),
            histogram={"lo": round(lo, 6), "hi": round(hi, 6), "counts": counts},
            sample=len(sample),
            method=null.describe() if null is not None else edge.verdict(None),
        )


def _bytes(vector: np.ndarray) -> bytes:
    return np.asarray(vector, np.float32).tobytes()

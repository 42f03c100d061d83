"""The `Collection` interface: one Qdrant collection (embedded: one Edge shard) of points with
a dense vector, payloads and, for images, sparse text vectors; implemented per backend."""

from __future__ import annotations

import abc
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from picsift.store.filters import Filter, Range
from picsift.store.ranking import Ranking
from picsift.store.records import (
    CollectionSpec,
    Hit,
    Leg,
    PayloadSelect,
    PointData,
    Record,
    SparseVector,
)
from picsift.store.schema import IndexKind


class Collection(Ranking, abc.ABC):
    """One Qdrant collection (embedded: one Edge shard) with cosine vectors under one name."""

    def __init__(self, spec: CollectionSpec, hnsw_ef: int | None = None):
        self.spec = spec
        self.hnsw_ef = hnsw_ef  # search-time ef (None: the engine's default)

    @property
    def name(self) -> str:
        """Collection name."""
        return self.spec.name

    def _record(self, point: Any, with_vectors: bool) -> Record:
        """A backend's point (id, payload, vectors by name) as a Record."""
        vector = None
        if with_vectors and point.vector is not None:
            vector = np.asarray(point.vector[self.spec.vector_name], dtype=np.float32)
        return Record(id=str(point.id), payload=dict(point.payload or {}), vector=vector)

    def _hits(self, points: Iterable[Any], with_vectors: bool) -> list[Hit]:
        """A backend's scored points as Hits, best first."""
        hits = []
        for point in points:
            rec = self._record(point, with_vectors)
            hits.append(Hit(id=rec.id, payload=rec.payload, vector=rec.vector, score=point.score))
        return hits

    @abc.abstractmethod
    def upsert(self, points: Sequence[PointData]) -> None:
        """Insert or replace points (vector and whole payload)."""

    @abc.abstractmethod
    def retrieve(
        self, ids: Sequence[str], *, with_payload: PayloadSelect = True, with_vectors: bool = False
    ) -> list[Record]:
        """Points by id; ids not in the collection are left out."""

    def existing(self, ids: Sequence[str]) -> set[str]:
        """The subset of `ids` that are stored."""
        return {r.id for r in self.retrieve(ids, with_payload=False)}

    @abc.abstractmethod
    def set_payloads(self, items: Iterable[tuple[str, Mapping[str, Any]]]) -> None:
        """Set (merge) payload keys point by point, batched: [(id, {key: value}), ...]."""

    def set_payload(self, ids: Sequence[str], payload: Mapping[str, Any]) -> None:
        """Set the same payload keys on many points."""
        self.set_payloads((i, payload) for i in ids)

    @abc.abstractmethod
    def delete_payload_keys(self, ids: Sequence[str], keys: Sequence[str]) -> None:
        """Remove payload keys from points."""

    @abc.abstractmethod
    def scroll_page(
        self,
        *,
        filter: Filter | None,
        limit: int,
        offset: str | None,
        with_payload: PayloadSelect,
        with_vectors: bool,
    ) -> tuple[list[Record], str | None]:
        """One page of points in id order, and the offset of the next page (None at the end)."""

    def scroll(
        self,
        filter: Filter | None = None,
        *,
        with_payload: PayloadSelect = True,
        with_vectors: bool = False,
        page_size: int = 1000,
    ) -> Iterator[Record]:
        """Every matching point, read page by page so memory stays bounded."""
        offset: str | None = None
        while True:
            page, offset = self.scroll_page(
                filter=filter,
                limit=page_size,
                offset=offset,
                with_payload=with_payload,
                with_vectors=with_vectors,
            )
            yield from page
            if offset is None:
                return

    @abc.abstractmethod
    def ordered(
        self,
        key: str,
        filter: Filter | None = None,
        *,
        limit: int,
        descending: bool = True,
        with_payload: PayloadSelect = False,
    ) -> list[tuple[int, Record]]:
        """The first `limit` matching points ordered by an integer field with a range index,
        each with its value (ties in no defined order; points without the field left out)."""

    def newest(
        self,
        key: str,
        filter: Filter | None = None,
        *,
        limit: int,
        offset: int = 0,
        with_payload: PayloadSelect = True,
    ) -> list[Record]:
        """A page of matching points by an integer field, largest first, ties by id.

        Pages at any offset fit together without gaps or repeats while the data stays the
        same, and memory stays bounded by `limit` (the engine's order_by leaves tie order
        undefined and has no offset, so the offset is found by counting). Points without
        the field are left out.
        """
        start = self._value_at(key, filter, offset)
        if start is None:
            return []
        value, skip = start
        page = self._tied(key, value, filter, skip, limit, with_payload)
        if len(page) == limit:
            return page
        rest = self.ordered(
            key,
            _and(filter, Range(key, lt=value)),
            limit=limit - len(page),
            with_payload=with_payload,
        )
        if not rest:
            return page
        # Only the last value's group may be cut short: the groups before it are complete.
        last = rest[-1][0]
        page += [r for _, r in sorted(((-v, r.id), r) for v, r in rest if v != last)]
        return page + self._tied(key, last, filter, 0, limit - len(page), with_payload)

    def _value_at(self, key: str, filter: Filter | None, offset: int) -> tuple[int, int] | None:
        """The value at position `offset` of the descending order, and how many points of
        that value (in id order) come before it; None past the end."""
        top = self.ordered(key, filter, limit=1)
        if not top:
            return None
        hi = top[0][0]
        if offset == 0:
            return hi, 0
        lo = self.ordered(key, filter, limit=1, descending=False)[0][0]

        def at_least(value: int) -> int:
            return self.count(_and(filter, Range(key, gte=value)))

        if at_least(lo) <= offset:
            return None
        while lo < hi:  # the largest value with more than `offset` points at or above it
            mid = (lo + hi + 1) // 2
            lo, hi = (mid, hi) if at_least(mid) > offset else (lo, mid - 1)
        return lo, offset - at_least(lo + 1)

    def _tied(
        self,
        key: str,
        value: int,
        filter: Filter | None,
        skip: int,
        limit: int,
        with_payload: PayloadSelect,
    ) -> list[Record]:
        """Up to `limit` points whose field equals `value`, in id order, after the first `skip`."""
        flt = _and(filter, Range(key, gte=value, lte=value))
        cursor: str | None = None
        while skip > 0:
            skipped, cursor = self.scroll_page(
                filter=flt,
                limit=min(skip, 1000),
                offset=cursor,
                with_payload=False,
                with_vectors=False,
            )
            skip -= len(skipped)
            if cursor is None:
                return []
        page, _ = self.scroll_page(
            filter=flt, limit=limit, offset=cursor, with_payload=with_payload, with_vectors=False
        )
        return page

    @abc.abstractmethod
    def query(
        self,
        vector: np.ndarray,
        *,
        filter: Filter | None = None,
        limit: int = 10,
        offset: int = 0,
        exact: bool = False,
        hnsw_ef: int | None = None,
        with_payload: PayloadSelect = True,
        with_vectors: bool = False,
        score_threshold: float | None = None,
    ) -> list[Hit]:
        """Nearest points by cosine similarity, best first (none scoring below
        `score_threshold`)."""

    @abc.abstractmethod
    def sparse_query(
        self,
        vector: SparseVector,
        using: str,
        *,
        filter: Filter | None = None,
        limit: int = 10,
        with_payload: PayloadSelect = True,
        score_threshold: float | None = None,
    ) -> list[Hit]:
        """Best points by the sparse vector `using` (dot product, IDF-weighted), best first;
        only points sharing a token with `vector` score."""

    @abc.abstractmethod
    def fuse(
        self,
        legs: Sequence[Leg],
        *,
        k: int,
        filter: Filter | None = None,
        limit: int,
        with_payload: PayloadSelect = False,
    ) -> list[Hit]:
        """The legs' rankings fused by reciprocal rank (score: the sum of 1 / (k + rank) over
        the legs a point is in, ranks counted from 0), best first; every leg and the fusion
        under `filter`. `k` is always passed: the backends' defaults differ."""

    @abc.abstractmethod
    def set_sparse(self, items: Iterable[tuple[str, Mapping[str, SparseVector]]]) -> None:
        """Set sparse vectors point by point: [(id, {vector name: vector}), ...]."""

    @abc.abstractmethod
    def add_sparse(self, names: Sequence[str]) -> None:
        """Add sparse vectors (IDF-weighted) to the collection's config, in place."""

    @abc.abstractmethod
    def add_indexes(self, wanted: Mapping[str, IndexKind]) -> list[str]:
        """Create the payload indexes of `wanted` the collection lacks; their fields."""

    @abc.abstractmethod
    def count(self, filter: Filter | None = None) -> int:
        """Exact number of matching points."""

    @abc.abstractmethod
    def facet(self, key: str, filter: Filter | None = None, limit: int = 1000) -> dict[Any, int]:
        """Points per distinct value of an indexed keyword/integer field (largest first)."""

    @abc.abstractmethod
    def delete(self, ids: Sequence[str]) -> None:
        """Delete points by id (unknown ids are ignored)."""

    @abc.abstractmethod
    def delete_where(self, filter: Filter) -> None:
        """Delete every point that matches `filter`."""

    @abc.abstractmethod
    def optimize(self) -> None:
        """Build indexes for recently written points (call after bulk writes)."""

    @abc.abstractmethod
    def metadata(self) -> dict[str, Any]:
        """What the collection records about itself."""


def _and(filter: Filter | None, condition: Range) -> Filter:
    return Filter(must=(filter, condition)) if filter else Filter(must=(condition,))

"""The `ImageStore` interface: one image collection and one topic collection, two backends."""

from __future__ import annotations

import abc
import datetime as dt
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from typing import Any, Literal

import numpy as np

from picsift.errors import ModelMismatchError, StoreError
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
from picsift.store.schema import (
    DEFAULT_TEXT_LANGUAGES,
    IMAGE_INDEXES,
    SCHEMA_VERSION,
    TOPIC_INDEXES,
    StoreMeta,
    text_vector_name,
    vector_name,
)

Backend = Literal["embedded", "server"]


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


class ImageStore(abc.ABC):
    """The image collection and its topic collection, on one backend.

    A store may be opened before anything was indexed; `ensure(model_id, dim)` creates the
    collections (or checks that the existing ones were built with that model).
    """

    backend: Backend

    def __init__(
        self,
        collection: str,
        location: str,
        text_languages: Sequence[str] = DEFAULT_TEXT_LANGUAGES,
    ):
        self.collection = collection
        self.location = location
        self.text_languages = tuple(text_languages)  # of the text vectors of a new store
        self._images: Collection | None = None
        self._topics: Collection | None = None
        self.meta: StoreMeta | None = None

    @property
    def images(self) -> Collection:
        """The image collection (raises if nothing was indexed yet)."""
        if self._images is None:
            raise StoreError(
                f"store {self.location} has no collection {self.collection!r} yet; "
                "index some images first: picsift index SOURCE"
            )
        return self._images

    @property
    def topics(self) -> Collection:
        """The topic table, one point per topic (vector = centroid)."""
        if self._topics is None:
            raise StoreError(f"store {self.location} has no topic collection yet")
        return self._topics

    @property
    def exists(self) -> bool:
        """Whether the image collection exists."""
        return self.meta is not None

    def ensure(self, model_id: str, dim: int) -> StoreMeta:
        """Create the collections for `model_id`, or check that they were made with it.

        Raises:
            ModelMismatchError: the store holds vectors of another model or dimension.
        """
        if self.meta is not None:
            self.check_model(model_id, dim)
            return self.meta
        meta = StoreMeta(
            model=model_id,
            dim=dim,
            vector_name=vector_name(model_id),
            schema_version=SCHEMA_VERSION,
            created_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            text_languages=self.text_languages,
        )
        image_spec = CollectionSpec(
            self.collection,
            meta.vector_name,
            dim,
            IMAGE_INDEXES,
            meta.to_dict(),
            tuple(meta.text_vectors),
        )
        topic_spec = CollectionSpec(
            f"{self.collection}_topics", meta.vector_name, dim, TOPIC_INDEXES, meta.to_dict()
        )
        self._images, self._topics = self._create(image_spec, topic_spec)
        self.meta = meta
        return meta

    def check_model(self, model_id: str, dim: int | None = None) -> None:
        """Fail clearly when the requested model is not the one the store was built with."""
        if self.meta is None:
            return
        if vector_name(model_id) != self.meta.vector_name or (
            dim is not None and dim != self.meta.dim
        ):
            raise ModelMismatchError(
                f"store {self.location} (collection {self.collection!r}) was built with model "
                f"{self.meta.model!r} ({self.meta.dim}-d), not {model_id!r}"
                f"{f' ({dim}-d)' if dim else ''}; leave PICSIFT_MODEL unset to use the store's "
                "model, or pick another PICSIFT_STORE/PICSIFT_COLLECTION for the new model"
            )

    def _load_meta(self, raw: Mapping[str, Any] | None) -> None:
        if not raw:
            return
        meta = StoreMeta.from_dict(dict(raw))
        if meta.schema_version > SCHEMA_VERSION:
            raise StoreError(
                f"store {self.location} has schema version {meta.schema_version}, newer than "
                f"this picsift understands ({SCHEMA_VERSION}); upgrade picsift"
            )
        self.meta = meta

    @property
    def has_text_vectors(self) -> bool:
        """Whether the images have text vectors to search (a store of schema 2)."""
        return self.meta is not None and bool(self.meta.text_languages)

    def add_text_vectors(self) -> StoreMeta:
        """Give a store of schema 1 the text vectors of `text_languages` (empty: no point has
        one until the text phase runs), in place; the meta is written last, so a store cut
        off before it opens as schema 1 and is migrated again.

        Raises:
            StoreError: nothing indexed yet, or the store has text vectors already.
        """
        if self.meta is None:
            raise StoreError(f"store {self.location} is empty: nothing to migrate")
        if self.has_text_vectors:
            raise StoreError(
                f"store {self.location} has text vectors already "
                f"({', '.join(self.meta.text_languages)}): nothing to migrate"
            )
        self.images.add_sparse([text_vector_name(lang) for lang in self.text_languages])
        meta = replace(self.meta, schema_version=SCHEMA_VERSION, text_languages=self.text_languages)
        self._save_meta(meta)
        self.meta = meta
        return meta

    @abc.abstractmethod
    def _save_meta(self, meta: StoreMeta) -> None:
        """Record a changed meta with both collections (after `add_text_vectors`)."""

    def refresh_index(self) -> None:
        """Call after bulk payload writes: the embedded engine brute-forces rewritten points
        until optimized (1 -> 11 ms per query at 20k); a server optimizes in the background."""
        if self.backend == "embedded" and self.exists:
            self.images.optimize()

    @abc.abstractmethod
    def _create(self, images: CollectionSpec, topics: CollectionSpec) -> tuple[Collection, ...]:
        """Create both collections with their payload indexes."""

    @abc.abstractmethod
    def close(self) -> None:
        """Flush and release the store (and its lock)."""

    def __enter__(self) -> ImageStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

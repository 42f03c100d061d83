"""One Qdrant Edge shard as a `Collection` (see `edge.py` for the store around it)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import qdrant_edge as qe

from picsift.store import filters as f
from picsift.store.collection import Collection
from picsift.store.edge_types import SCHEMAS, search_params, sparse, to_edge_filter
from picsift.store.records import (
    CollectionSpec,
    Hit,
    Leg,
    PayloadSelect,
    PointData,
    Record,
    SparseVector,
    payload_selector,
)
from picsift.store.schema import IndexKind


class EdgeCollection(Collection):
    """One Edge shard."""

    def __init__(
        self, spec: CollectionSpec, shard: qe.EdgeShard, meta_path: Path, hnsw_ef: int | None
    ):
        super().__init__(spec, hnsw_ef)
        self._shard = shard
        self._meta_path = meta_path

    def upsert(self, points: Sequence[PointData]) -> None:
        if not points:
            return
        name = self.spec.vector_name
        edge_points = [
            qe.Point(uuid.UUID(p.id), {name: np.asarray(p.vector, np.float32).tolist()}, p.payload)
            for p in points
        ]
        self._shard.update(qe.UpdateOperation.upsert_points(edge_points))

    def retrieve(
        self, ids: Sequence[str], *, with_payload: PayloadSelect = True, with_vectors: bool = False
    ) -> list[Record]:
        if not ids:
            return []
        found = self._shard.retrieve(
            [uuid.UUID(i) for i in ids], payload_selector(with_payload), with_vectors
        )
        return [self._record(p, with_vectors) for p in found]

    def set_payloads(self, items: Iterable[tuple[str, Mapping[str, Any]]]) -> None:
        for point_id, payload in items:
            self._shard.update(qe.UpdateOperation.set_payload([uuid.UUID(point_id)], dict(payload)))

    def delete_payload_keys(self, ids: Sequence[str], keys: Sequence[str]) -> None:
        if ids:
            op = qe.UpdateOperation.delete_payload([uuid.UUID(i) for i in ids], list(keys))
            self._shard.update(op)

    def scroll_page(
        self,
        *,
        filter: f.Filter | None,
        limit: int,
        offset: str | None,
        with_payload: PayloadSelect,
        with_vectors: bool,
    ) -> tuple[list[Record], str | None]:
        request = qe.ScrollRequest(
            offset=uuid.UUID(offset) if offset else None,
            limit=limit,
            filter=to_edge_filter(filter),
            with_payload=payload_selector(with_payload),
            with_vector=with_vectors,
        )
        points, next_offset = self._shard.scroll(request)
        records = [self._record(p, with_vectors) for p in points]
        return records, (str(next_offset) if next_offset is not None else None)

    def ordered(
        self,
        key: str,
        filter: f.Filter | None = None,
        *,
        limit: int,
        descending: bool = True,
        with_payload: PayloadSelect = False,
    ) -> list[tuple[int, Record]]:
        direction = qe.Direction.Desc if descending else qe.Direction.Asc
        request = qe.ScrollRequest(
            limit=limit,
            filter=to_edge_filter(filter),
            with_payload=payload_selector(with_payload),
            with_vector=False,
            order_by=qe.OrderBy(key, direction=direction),
        )
        points, _ = self._shard.scroll(request)
        return [(int(p.order_value), self._record(p, False)) for p in points]

    def query(
        self,
        vector: np.ndarray,
        *,
        filter: f.Filter | None = None,
        limit: int = 10,
        offset: int = 0,
        exact: bool = False,
        hnsw_ef: int | None = None,
        with_payload: PayloadSelect = True,
        with_vectors: bool = False,
        score_threshold: float | None = None,
    ) -> list[Hit]:
        request = qe.QueryRequest(
            limit=limit,
            offset=offset,
            query=qe.Query.Nearest(
                np.asarray(vector, np.float32).tolist(), using=self.spec.vector_name
            ),
            filter=to_edge_filter(filter),
            params=search_params(hnsw_ef or self.hnsw_ef, exact),
            with_payload=payload_selector(with_payload),
            with_vector=with_vectors,
            score_threshold=score_threshold,
        )
        return self._hits(self._shard.query(request), with_vectors)

    def sparse_query(
        self,
        vector: SparseVector,
        using: str,
        *,
        filter: f.Filter | None = None,
        limit: int = 10,
        with_payload: PayloadSelect = True,
        score_threshold: float | None = None,
    ) -> list[Hit]:
        request = qe.QueryRequest(
            limit=limit,
            query=qe.Query.Nearest(sparse(vector), using=using),
            filter=to_edge_filter(filter),
            with_payload=payload_selector(with_payload),
            with_vector=False,
            score_threshold=score_threshold,
        )
        return self._hits(self._shard.query(request), False)

    def fuse(
        self,
        legs: Sequence[Leg],
        *,
        k: int,
        filter: f.Filter | None = None,
        limit: int,
        with_payload: PayloadSelect = False,
    ) -> list[Hit]:
        edge_filter = to_edge_filter(filter)
        prefetches = [self._prefetch(leg, edge_filter) for leg in legs]
        request = qe.QueryRequest(
            limit=limit,
            prefetches=prefetches,
            query=qe.Fusion.Rrf(k=k),
            filter=edge_filter,
            with_payload=payload_selector(with_payload),
            with_vector=False,
        )
        return self._hits(self._shard.query(request), False)

    def _prefetch(self, leg: Leg, edge_filter: qe.Filter | None) -> qe.Prefetch:
        if isinstance(leg.vector, SparseVector):
            query = qe.Query.Nearest(sparse(leg.vector), using=leg.using)
            params = None
        else:
            dense = np.asarray(leg.vector, np.float32).tolist()
            query = qe.Query.Nearest(dense, using=leg.using or self.spec.vector_name)
            params = search_params(max(leg.limit, self.hnsw_ef or 0))
        return qe.Prefetch(
            limit=leg.limit,
            query=query,
            filter=edge_filter,
            params=params,
            score_threshold=leg.score_threshold,
        )

    def set_sparse(self, items: Iterable[tuple[str, Mapping[str, SparseVector]]]) -> None:
        points = [
            qe.PointVectors(uuid.UUID(i), {name: sparse(v) for name, v in vectors.items()})
            for i, vectors in items
        ]
        if points:
            self._shard.update(qe.UpdateOperation.update_vectors(points))

    def add_sparse(self, names: Sequence[str]) -> None:
        # Edge takes a vector added this way (loading a shard with a config that adds one is
        # refused as incompatible with its segments); adding one it has changes nothing.
        for name in names:
            self._shard.update(
                qe.UpdateOperation.create_sparse_vector(name, modifier=qe.Modifier.Idf)
            )
        self._shard.flush()
        self.spec = replace(self.spec, sparse=tuple(dict.fromkeys((*self.spec.sparse, *names))))

    def add_indexes(self, wanted: Mapping[str, IndexKind]) -> list[str]:
        missing = {k: v for k, v in wanted.items() if k not in self.spec.indexes}
        for key, kind in missing.items():
            self._shard.update(qe.UpdateOperation.create_field_index(key, SCHEMAS[kind]))
        self._shard.flush()
        self.spec = replace(self.spec, indexes={**self.spec.indexes, **missing})
        return sorted(missing)

    def count(self, filter: f.Filter | None = None) -> int:
        return self._shard.count(qe.CountRequest(exact=True, filter=to_edge_filter(filter)))

    def facet(self, key: str, filter: f.Filter | None = None, limit: int = 1000) -> dict[Any, int]:
        request = qe.FacetRequest(key=key, limit=limit, exact=True, filter=to_edge_filter(filter))
        return {hit.value: hit.count for hit in self._shard.facet(request)}

    def delete(self, ids: Sequence[str]) -> None:
        if ids:
            self._shard.update(qe.UpdateOperation.delete_points([uuid.UUID(i) for i in ids]))

    def delete_where(self, filter: f.Filter) -> None:
        edge_filter = to_edge_filter(filter)
        if edge_filter is None:
            raise ValueError("delete_where needs a non-empty filter")
        self._shard.update(qe.UpdateOperation.delete_points_by_filter(edge_filter))

    def optimize(self) -> None:
        self._shard.optimize()

    def metadata(self) -> dict[str, Any]:
        return json.loads(self._meta_path.read_text())["spec"]["metadata"]

    def flush(self) -> None:
        """Write pending changes to disk."""
        self._shard.flush()

    def close(self) -> None:
        """Flush and close the shard."""
        self._shard.flush()
        self._shard.close()

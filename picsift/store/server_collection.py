"""One collection on a Qdrant server as a `Collection` (see `server.py` for the store)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
from qdrant_client import QdrantClient
from qdrant_client import models as qm

from picsift.store import filters as f
from picsift.store.base import (
    Collection,
    CollectionSpec,
    Hit,
    Leg,
    PayloadSelect,
    PointData,
    Record,
    SparseVector,
)
from picsift.store.records import payload_selector
from picsift.store.schema import IndexKind
from picsift.store.server_types import BATCH, SCHEMAS, search_params, sparse, to_qdrant_filter


class ServerCollection(Collection):
    """One collection on a Qdrant server."""

    def __init__(self, spec: CollectionSpec, client: QdrantClient, hnsw_ef: int | None = None):
        super().__init__(spec, hnsw_ef)
        self._client = client

    def upsert(self, points: Sequence[PointData]) -> None:
        name = self.spec.vector_name
        for start in range(0, len(points), BATCH):
            batch = [
                qm.PointStruct(
                    id=p.id,
                    vector={name: np.asarray(p.vector, np.float32).tolist()},
                    payload=p.payload,
                )
                for p in points[start : start + BATCH]
            ]
            self._client.upsert(self.name, batch, wait=True)

    def retrieve(
        self, ids: Sequence[str], *, with_payload: PayloadSelect = True, with_vectors: bool = False
    ) -> list[Record]:
        if not ids:
            return []
        found = self._client.retrieve(
            self.name,
            list(ids),
            with_payload=payload_selector(with_payload),
            with_vectors=[self.spec.vector_name] if with_vectors else False,
        )
        return [self._record(p, with_vectors) for p in found]

    def set_payloads(self, items: Iterable[tuple[str, Mapping[str, Any]]]) -> None:
        ops: list[Any] = []
        for point_id, payload in items:
            ops.append(
                qm.SetPayloadOperation(
                    set_payload=qm.SetPayload(payload=dict(payload), points=[point_id])
                )
            )
            if len(ops) >= BATCH:
                self._client.batch_update_points(self.name, ops, wait=True)
                ops = []
        if ops:
            self._client.batch_update_points(self.name, ops, wait=True)

    def delete_payload_keys(self, ids: Sequence[str], keys: Sequence[str]) -> None:
        if ids:
            self._client.delete_payload(self.name, list(keys), points=list(ids), wait=True)

    def scroll_page(
        self,
        *,
        filter: f.Filter | None,
        limit: int,
        offset: str | None,
        with_payload: PayloadSelect,
        with_vectors: bool,
    ) -> tuple[list[Record], str | None]:
        points, next_offset = self._client.scroll(
            self.name,
            scroll_filter=to_qdrant_filter(filter),
            limit=limit,
            offset=offset,
            with_payload=payload_selector(with_payload),
            with_vectors=[self.spec.vector_name] if with_vectors else False,
        )
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
        direction = qm.Direction.DESC if descending else qm.Direction.ASC
        points, _ = self._client.scroll(
            self.name,
            scroll_filter=to_qdrant_filter(filter),
            limit=limit,
            order_by=qm.OrderBy(key=key, direction=direction),
            with_payload=payload_selector(with_payload),
            with_vectors=False,
        )
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
        response = self._client.query_points(
            self.name,
            query=np.asarray(vector, np.float32).tolist(),
            using=self.spec.vector_name,
            query_filter=to_qdrant_filter(filter),
            limit=limit,
            offset=offset,
            search_params=search_params(hnsw_ef or self.hnsw_ef, exact),
            with_payload=payload_selector(with_payload),
            with_vectors=[self.spec.vector_name] if with_vectors else False,
            score_threshold=score_threshold,
        )
        return self._hits(response.points, with_vectors)

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
        response = self._client.query_points(
            self.name,
            query=sparse(vector),
            using=using,
            query_filter=to_qdrant_filter(filter),
            limit=limit,
            with_payload=payload_selector(with_payload),
            with_vectors=False,
            score_threshold=score_threshold,
        )
        return self._hits(response.points, False)

    def fuse(
        self,
        legs: Sequence[Leg],
        *,
        k: int,
        filter: f.Filter | None = None,
        limit: int,
        with_payload: PayloadSelect = False,
    ) -> list[Hit]:
        qfilter = to_qdrant_filter(filter)
        response = self._client.query_points(
            self.name,
            prefetch=[self._prefetch(leg, qfilter) for leg in legs],
            query=qm.RrfQuery(rrf=qm.Rrf(k=k)),
            query_filter=qfilter,
            limit=limit,
            with_payload=payload_selector(with_payload),
            with_vectors=False,
        )
        return self._hits(response.points, False)

    def _prefetch(self, leg: Leg, qfilter: qm.Filter | None) -> qm.Prefetch:
        if isinstance(leg.vector, SparseVector):
            return qm.Prefetch(
                query=sparse(leg.vector),
                using=leg.using,
                filter=qfilter,
                limit=leg.limit,
                score_threshold=leg.score_threshold,
            )
        return qm.Prefetch(
            query=np.asarray(leg.vector, np.float32).tolist(),
            using=leg.using or self.spec.vector_name,
            filter=qfilter,
            limit=leg.limit,
            score_threshold=leg.score_threshold,
            params=search_params(max(leg.limit, self.hnsw_ef or 0)),
        )

    def set_sparse(self, items: Iterable[tuple[str, Mapping[str, SparseVector]]]) -> None:
        points = [
            qm.PointVectors(id=i, vector={name: sparse(v) for name, v in vectors.items()})
            for i, vectors in items
        ]
        for start in range(0, len(points), BATCH):
            self._client.update_vectors(self.name, points[start : start + BATCH], wait=True)

    def add_sparse(self, names: Sequence[str]) -> None:
        config = self._client.get_collection(self.name).config.params.sparse_vectors or {}
        for name in names:
            if name not in config:
                self._client.create_vector_name(
                    self.name,
                    name,
                    qm.SparseVectorNameConfig(
                        sparse=qm.SparseVectorConfig(modifier=qm.Modifier.IDF)
                    ),
                )
        self.spec = replace(self.spec, sparse=tuple(dict.fromkeys((*self.spec.sparse, *names))))

    def add_indexes(self, wanted: Mapping[str, IndexKind]) -> list[str]:
        have = self._client.get_collection(self.name).payload_schema or {}
        missing = [key for key in wanted if key not in have]
        for key in missing:
            self._client.create_payload_index(
                self.name, key, field_schema=SCHEMAS[wanted[key]], wait=True
            )
        return sorted(missing)

    def count(self, filter: f.Filter | None = None) -> int:
        return self._client.count(
            self.name, count_filter=to_qdrant_filter(filter), exact=True
        ).count

    def facet(self, key: str, filter: f.Filter | None = None, limit: int = 1000) -> dict[Any, int]:
        response = self._client.facet(
            self.name, key, facet_filter=to_qdrant_filter(filter), limit=limit, exact=True
        )
        return {hit.value: hit.count for hit in response.hits}

    def delete(self, ids: Sequence[str]) -> None:
        if ids:
            self._client.delete(self.name, qm.PointIdsList(points=list(ids)), wait=True)

    def delete_where(self, filter: f.Filter) -> None:
        qfilter = to_qdrant_filter(filter)
        if qfilter is None:
            raise ValueError("delete_where needs a non-empty filter")
        self._client.delete(self.name, qm.FilterSelector(filter=qfilter), wait=True)

    def optimize(self) -> None:
        """The server indexes in the background; nothing to trigger here."""

    def metadata(self) -> dict[str, Any]:
        return dict(self._client.get_collection(self.name).config.metadata or {})

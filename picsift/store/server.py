"""Server backend: `qdrant-client` against a Qdrant server or cluster.

Tests run it on `QdrantClient(":memory:")`, which speaks the same API but ignores payload
indexes and cluster settings; what is sent for those is checked by its own tests.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
from qdrant_client import QdrantClient
from qdrant_client import models as qm

from picsift.errors import StoreError
from picsift.store import filters as f
from picsift.store.base import (
    Collection,
    CollectionSpec,
    Hit,
    ImageStore,
    Leg,
    PayloadSelect,
    PointData,
    Record,
    SparseVector,
)
from picsift.store.records import payload_selector
from picsift.store.schema import (
    DEFAULT_TEXT_LANGUAGES,
    IMAGE_INDEXES,
    INT8_QUANTILE,
    TOPIC_INDEXES,
    StoreMeta,
)
from picsift.store.server_types import (
    BATCH,
    SCHEMAS,
    SPARSE_PARAMS,
    search_params,
    sparse,
    to_qdrant_filter,
)


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


class ServerStore(ImageStore):
    """Store on a Qdrant server or cluster (or any `QdrantClient`, e.g. `":memory:"`)."""

    backend = "server"

    def __init__(
        self,
        client: QdrantClient,
        collection: str = "images",
        *,
        location: str = "",
        shard_number: int = 1,
        replication_factor: int = 1,
        on_disk: bool = False,
        quantization: str = "none",
        hnsw_m: int = 16,
        hnsw_ef_construct: int = 100,
        hnsw_ef: int | None = None,
        text_languages: Sequence[str] = DEFAULT_TEXT_LANGUAGES,
    ):
        super().__init__(collection, location or "qdrant", text_languages)
        self.client = client
        self._cluster = (shard_number, replication_factor)
        self._on_disk = on_disk
        self._quantization = (
            qm.ScalarQuantization(
                scalar=qm.ScalarQuantizationConfig(
                    type=qm.ScalarType.INT8, quantile=INT8_QUANTILE, always_ram=True
                )
            )
            if quantization == "int8"
            else None
        )
        self._hnsw = qm.HnswConfigDiff(m=hnsw_m, ef_construct=hnsw_ef_construct)
        self._hnsw_ef = hnsw_ef
        self._open_existing()

    def _open_existing(self) -> None:
        try:
            if not self.client.collection_exists(self.collection):
                return
            info = self.client.get_collection(self.collection)
        except Exception as exc:  # connection errors come in many types from httpx/grpc
            raise StoreError(
                f"cannot reach the Qdrant server at {self.location}: {exc}; check PICSIFT_STORE, "
                "PICSIFT_QDRANT_API_KEY and that the server is running"
            ) from None
        self._load_meta(info.config.metadata)
        if self.meta is None:
            raise StoreError(
                f"collection {self.collection!r} on {self.location} was not made by picsift "
                "(it records no model); choose another PICSIFT_COLLECTION"
            )
        name, dim = self.meta.vector_name, self.meta.dim
        text_vectors = tuple(self.meta.text_vectors)
        self._images = ServerCollection(
            CollectionSpec(self.collection, name, dim, IMAGE_INDEXES, sparse=text_vectors),
            self.client,
            self._hnsw_ef,
        )
        self._topics = ServerCollection(
            CollectionSpec(f"{self.collection}_topics", name, dim, TOPIC_INDEXES),
            self.client,
            self._hnsw_ef,
        )

    def _create(self, images: CollectionSpec, topics: CollectionSpec) -> tuple[Collection, ...]:
        shards, replicas = self._cluster
        made = []
        for spec in (images, topics):
            if not self.client.collection_exists(spec.name):
                self.client.create_collection(
                    spec.name,
                    vectors_config={
                        spec.vector_name: qm.VectorParams(
                            size=spec.dim, distance=qm.Distance.COSINE, on_disk=self._on_disk
                        )
                    },
                    sparse_vectors_config={name: SPARSE_PARAMS for name in spec.sparse} or None,
                    shard_number=shards,
                    replication_factor=replicas,
                    hnsw_config=self._hnsw,
                    quantization_config=self._quantization,
                    metadata=dict(spec.metadata),
                )
                for key, kind in spec.indexes.items():
                    self.client.create_payload_index(
                        spec.name, key, field_schema=SCHEMAS[kind], wait=True
                    )
            made.append(ServerCollection(spec, self.client, self._hnsw_ef))
        return tuple(made)

    def _save_meta(self, meta: StoreMeta) -> None:
        # The topics' first: the images' metadata is what says which schema the store has.
        for coll in (self.topics, self.images):
            self.client.update_collection(coll.name, metadata=meta.to_dict())

    def close(self) -> None:
        self.client.close()
        self._images = self._topics = None

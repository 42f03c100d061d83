"""Embedded backend: Qdrant Edge, the Qdrant engine in-process (HNSW, payload indexes, WAL).

Layout under the store directory: `qdrant/<collection>/` is an Edge shard, and
`qdrant/<collection>.meta.json` records what the collection holds (Edge shards have no
metadata of their own). The whole directory is owned by one process (see `lock.py`).
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import qdrant_edge as qe

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
from picsift.store.edge_types import (
    SCHEMAS,
    search_params,
    sparse,
    sparse_params,
    to_edge_filter,
)
from picsift.store.lock import StoreLock
from picsift.store.records import payload_selector
from picsift.store.schema import (
    DEFAULT_TEXT_LANGUAGES,
    INT8_QUANTILE,
    IndexKind,
    StoreMeta,
)


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


class EdgeStore(ImageStore):
    """Embedded store in a local directory, owned by this process while open."""

    backend = "embedded"

    def __init__(
        self,
        directory: str | Path,
        collection: str = "images",
        *,
        hnsw_m: int = 16,
        hnsw_ef_construct: int = 100,
        hnsw_ef: int | None = None,
        on_disk: bool = False,
        quantization: str = "none",
        command: str | None = None,
        text_languages: Sequence[str] = DEFAULT_TEXT_LANGUAGES,
    ):
        self.directory = Path(directory).expanduser().resolve()
        super().__init__(collection, str(self.directory), text_languages)
        self._hnsw = (hnsw_m, hnsw_ef_construct)
        self._hnsw_ef = hnsw_ef
        self._on_disk = on_disk
        self._quantization = (
            qe.ScalarQuantizationConfig(qe.ScalarType.Int8, quantile=INT8_QUANTILE, always_ram=True)
            if quantization == "int8"
            else None
        )
        self.lock = StoreLock(self.directory)
        self.lock.acquire(command)
        self._root = self.directory / "qdrant"
        try:
            self._open_existing()
        except BaseException:
            self.lock.release()
            raise

    def _shard_dir(self, name: str) -> Path:
        return self._root / name

    def _meta_path(self, name: str) -> Path:
        return self._root / f"{name}.meta.json"

    def _open_existing(self) -> None:
        meta_path = self._meta_path(self.collection)
        if not meta_path.exists():
            return
        try:
            raw = json.loads(meta_path.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise StoreError(f"cannot read {meta_path}: {exc}; the store is damaged") from None
        self._load_meta(raw["spec"]["metadata"])
        self._images = self._load(CollectionSpec(**raw["spec"]))
        topic_raw = json.loads(self._meta_path(f"{self.collection}_topics").read_text())
        self._topics = self._load(CollectionSpec(**topic_raw["spec"]))

    def _load(self, spec: CollectionSpec) -> EdgeCollection:
        spec = CollectionSpec(
            spec.name,
            spec.vector_name,
            spec.dim,
            _kinds(spec.indexes),
            spec.metadata,
            tuple(spec.sparse),
        )
        shard = qe.EdgeShard.load(str(self._shard_dir(spec.name)), self._config(spec))
        return EdgeCollection(spec, shard, self._meta_path(spec.name), self._hnsw_ef)

    def _config(self, spec: CollectionSpec) -> qe.EdgeConfig:
        m, ef_construct = self._hnsw
        params = qe.EdgeVectorParams(
            size=spec.dim, distance=qe.Distance.Cosine, on_disk=self._on_disk
        )
        return qe.EdgeConfig(
            vectors={spec.vector_name: params},
            sparse_vectors={name: sparse_params() for name in spec.sparse} or None,
            hnsw_config=qe.HnswIndexConfig(
                m=m, ef_construct=ef_construct, full_scan_threshold=10_000
            ),
            quantization_config=self._quantization,
        )

    def _create(self, images: CollectionSpec, topics: CollectionSpec) -> tuple[Collection, ...]:
        made = []
        for spec in (images, topics):
            shard_dir = self._shard_dir(spec.name)
            shard_dir.mkdir(parents=True, exist_ok=True)
            shard = qe.EdgeShard.create(str(shard_dir), self._config(spec))
            for key, kind in spec.indexes.items():
                shard.update(qe.UpdateOperation.create_field_index(key, SCHEMAS[kind]))
            shard.flush()
            # The meta file is written last: a crash before it leaves no half-made collection
            # that would later open as if complete.
            self._write_meta(spec)
            made.append(EdgeCollection(spec, shard, self._meta_path(spec.name), self._hnsw_ef))
        return tuple(made)

    def _write_meta(self, spec: CollectionSpec) -> None:
        record = {
            "spec": {
                "name": spec.name,
                "vector_name": spec.vector_name,
                "dim": spec.dim,
                "indexes": {k: v.value for k, v in spec.indexes.items()},
                "metadata": dict(spec.metadata),
                "sparse": list(spec.sparse),
            }
        }
        _atomic_write(self._meta_path(spec.name), json.dumps(record, indent=2))

    def _save_meta(self, meta: StoreMeta) -> None:
        # The topics' record first: the images' record is what says which schema the store has.
        for coll in (self.topics, self.images):
            coll.spec = replace(coll.spec, metadata=meta.to_dict())
            self._write_meta(coll.spec)

    def close(self) -> None:
        try:
            for coll in (self._images, self._topics):
                if isinstance(coll, EdgeCollection):
                    coll.close()
        finally:
            self._images = self._topics = None
            self.lock.release()


def _kinds(indexes: Mapping[str, Any]) -> dict[str, IndexKind]:
    return {k: IndexKind(v) for k, v in indexes.items()}


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)

"""Embedded backend: Qdrant Edge, the Qdrant engine in-process (HNSW, payload indexes, WAL).

Layout under the store directory: `qdrant/<collection>/` is an Edge shard, and
`qdrant/<collection>.meta.json` records what the collection holds (Edge shards have no
metadata of their own). The whole directory is owned by one process (see `lock.py`). A
re-embed builds its collections in `reembed/` and switches to them (see `switch.py`).
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import qdrant_edge as qe

from picsift.errors import StoreError
from picsift.store.base import Collection, CollectionSpec, ImageStore
from picsift.store.edge_collection import EdgeCollection
from picsift.store.edge_types import SCHEMAS, sparse_params
from picsift.store.lock import StoreLock
from picsift.store.notes import EdgeNotes, Notes
from picsift.store.schema import (
    DEFAULT_TEXT_LANGUAGES,
    INT8_QUANTILE,
    IndexKind,
    StoreMeta,
)
from picsift.store.switch import STAGING, finish_switch, switch_shards


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
        self._options = {
            "hnsw_m": hnsw_m,
            "hnsw_ef_construct": hnsw_ef_construct,
            "hnsw_ef": hnsw_ef,
            "on_disk": on_disk,
            "quantization": quantization,
        }
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
            finish_switch(self.directory)
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

    def _staging(self, model_id: str) -> EdgeStore:
        staged = EdgeStore(
            self.directory / STAGING,
            self.collection,
            command="picsift reembed",
            text_languages=self.meta.text_languages if self.meta else self.text_languages,
            **self._options,
        )
        if staged.meta is not None and staged.meta.model != model_id:
            # Left by a re-embed with another model that did not finish: started over.
            staged.close()
            shutil.rmtree(staged.directory)
            return self._staging(model_id)
        return staged

    def replace_with(self, staged: ImageStore) -> None:
        staged.close()
        self._close_collections()
        self.meta = None
        switch_shards(
            self.directory, self._root.name, [self.collection, f"{self.collection}_topics"]
        )
        self._open_existing()

    def _close_collections(self) -> None:
        try:
            for coll in (self._images, self._topics):
                if isinstance(coll, EdgeCollection):
                    coll.close()
        finally:
            self._images = self._topics = None

    def _open_notes(self, name: str) -> Notes:
        return EdgeNotes(name, self._shard_dir(name))

    def close(self) -> None:
        try:
            self._close_notes()
            self._close_collections()
        finally:
            self.lock.release()


def _kinds(indexes: Mapping[str, Any]) -> dict[str, IndexKind]:
    return {k: IndexKind(v) for k, v in indexes.items()}


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)

"""Collections of what researchers make of the images (saved selections, later codes and the
coding log): `<collection>_<kind>` beside the images, one record per key, payload only.

They hold image ids and definitions, no model vectors, so a re-embed leaves them as they are,
and a server deployment shares them across machines. The embedded engine needs a vector in
every collection: a sparse one that no record uses stands in for it.
"""

from __future__ import annotations

import abc
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import qdrant_edge as qe
from qdrant_client import QdrantClient
from qdrant_client import models as qm

from picsift.store.edge_types import sparse_params

PAGE = 256
SELECTIONS = "selections"  # saved selections (search.selections)
CODERS, CODEBOOK, CODINGS, CODING_LOG = "coders", "codebook", "codings", "coding_log"  # coding
KINDS = (SELECTIONS, CODERS, CODEBOOK, CODINGS, CODING_LOG)  # what a store export carries
_NAMESPACE = uuid.UUID("6f3b1a52-4c1e-4d8a-9a57-1f0c2b7d9e31")  # picsift's, for record ids


def record_id(key: str) -> str:
    """The point id of the record `key` (a UUID made from it, the same on every backend)."""
    return str(uuid.uuid5(_NAMESPACE, key))


class Notes(abc.ABC):
    """One collection of records, each a JSON payload under a text key (kept in `key`)."""

    def __init__(self, name: str):
        self.name = name

    def put(self, key: str, payload: dict[str, Any]) -> None:
        """Write the record `key` whole (replacing one of that key)."""
        self._upsert(record_id(key), payload | {"key": key})

    def get(self, key: str) -> dict[str, Any] | None:
        """The record `key`, or None."""
        return self._retrieve(record_id(key))

    @abc.abstractmethod
    def all(self) -> Iterator[dict[str, Any]]:
        """Every record, in id order."""

    def delete(self, key: str) -> bool:
        """Delete the record `key`; whether there was one."""
        if self.get(key) is None:
            return False
        self._delete(record_id(key))
        return True

    @abc.abstractmethod
    def _upsert(self, point_id: str, payload: dict[str, Any]) -> None: ...

    @abc.abstractmethod
    def _retrieve(self, point_id: str) -> dict[str, Any] | None: ...

    @abc.abstractmethod
    def _delete(self, point_id: str) -> None: ...

    @abc.abstractmethod
    def close(self) -> None:
        """Release what the collection holds open."""


class EdgeNotes(Notes):
    """Records in an Edge shard of their own."""

    def __init__(self, name: str, directory: Path):
        super().__init__(name)
        config = qe.EdgeConfig(vectors={}, sparse_vectors={"unused": sparse_params()})
        if directory.exists():
            self._shard = qe.EdgeShard.load(str(directory), config)
        else:
            directory.mkdir(parents=True)
            self._shard = qe.EdgeShard.create(str(directory), config)

    def _upsert(self, point_id: str, payload: dict[str, Any]) -> None:
        point = qe.Point(uuid.UUID(point_id), {}, payload)
        self._shard.update(qe.UpdateOperation.upsert_points([point]))
        self._shard.flush()

    def _retrieve(self, point_id: str) -> dict[str, Any] | None:
        found = self._shard.retrieve([uuid.UUID(point_id)], True, False)
        return dict(found[0].payload) if found else None

    def _delete(self, point_id: str) -> None:
        self._shard.update(qe.UpdateOperation.delete_points([uuid.UUID(point_id)]))
        self._shard.flush()

    def all(self) -> Iterator[dict[str, Any]]:
        offset = None
        while True:
            request = qe.ScrollRequest(offset=offset, limit=PAGE, with_payload=True)
            points, offset = self._shard.scroll(request)
            yield from (dict(p.payload) for p in points)
            if offset is None:
                return

    def close(self) -> None:
        self._shard.flush()
        self._shard.close()


class ServerNotes(Notes):
    """Records in a collection of a Qdrant server (created when first opened)."""

    def __init__(self, name: str, client: QdrantClient):
        super().__init__(name)
        self._client = client
        if not client.collection_exists(name):
            try:
                client.create_collection(name, vectors_config={})
            except Exception:  # another process made it meanwhile (a 409), or it failed
                if not client.collection_exists(name):
                    raise

    def _upsert(self, point_id: str, payload: dict[str, Any]) -> None:
        point = qm.PointStruct(id=point_id, vector={}, payload=payload)
        self._client.upsert(self.name, [point], wait=True)

    def _retrieve(self, point_id: str) -> dict[str, Any] | None:
        found = self._client.retrieve(self.name, [point_id], with_payload=True)
        return dict(found[0].payload or {}) if found else None

    def _delete(self, point_id: str) -> None:
        self._client.delete(self.name, qm.PointIdsList(points=[point_id]), wait=True)

    def close(self) -> None:
        """Nothing: the client is the store's, closed with it."""

    def all(self) -> Iterator[dict[str, Any]]:
        offset = None
        while True:
            points, offset = self._client.scroll(
                self.name, limit=PAGE, offset=offset, with_payload=True
            )
            yield from (dict(p.payload or {}) for p in points)
            if offset is None:
                return

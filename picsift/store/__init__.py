"""The vector store: `ImageStore` over Qdrant Edge (embedded) or a Qdrant server."""

from __future__ import annotations

from picsift.settings import Settings
from picsift.store.base import Collection, Hit, ImageStore, PointData, Record
from picsift.store.filters import Filter, HasId, IsEmpty, Match, MatchAny, Nested, Range, Text
from picsift.store.schema import StoreMeta, vector_name

__all__ = [
    "Collection",
    "Filter",
    "HasId",
    "Hit",
    "ImageStore",
    "IsEmpty",
    "Match",
    "MatchAny",
    "Nested",
    "PointData",
    "Range",
    "Record",
    "StoreMeta",
    "Text",
    "open_store",
    "vector_name",
]


def open_store(settings: Settings, command: str | None = None) -> ImageStore:
    """Open the store the settings point at (embedded directory or Qdrant server URL).

    The embedded store is locked for this process until `close()`; `command` names this
    process in the lock, so a second process can say who holds it.
    """
    if settings.is_server:
        from qdrant_client import QdrantClient

        from picsift.store.server import ServerStore

        api_key = settings.qdrant_api_key.get_secret_value() if settings.qdrant_api_key else None
        client = QdrantClient(url=settings.store, api_key=api_key, timeout=60)
        return ServerStore(
            client,
            settings.collection,
            location=settings.store,
            shard_number=settings.shard_number,
            replication_factor=settings.replication_factor,
            on_disk=settings.on_disk,
            quantization=settings.quantization,
            hnsw_m=settings.hnsw_m,
            hnsw_ef_construct=settings.hnsw_ef_construct,
            hnsw_ef=settings.hnsw_ef,
        )
    from picsift.store.edge import EdgeStore

    return EdgeStore(
        settings.store,
        settings.collection,
        hnsw_m=settings.hnsw_m,
        hnsw_ef_construct=settings.hnsw_ef_construct,
        hnsw_ef=settings.hnsw_ef,
        on_disk=settings.on_disk,
        quantization=settings.quantization,
        command=command,
    )

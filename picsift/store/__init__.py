"""The vector store: `ImageStore` over Qdrant Edge (embedded) or a Qdrant server."""

from __future__ import annotations

from pathlib import Path

from picsift.errors import StoreError
from picsift.settings import Settings
from picsift.store.base import Collection, Hit, ImageStore, PointData, Record
from picsift.store.filters import Filter, HasId, IsEmpty, Match, MatchAny, Nested, Range, Text
from picsift.store.lock import LOCK_NAME
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


# Only commands that bring images in may make a new store. Any other command pointed at a
# store that is not there (a wrong folder or server collection) says so and leaves nothing
# behind, rather than opening a new, empty store that looks like a lost corpus.
CREATING_COMMANDS = frozenset(
    {"picsift index", "picsift demo", "picsift store import", "picsift serve"}
)


def open_store(settings: Settings, command: str | None = None) -> ImageStore:
    """Open the store the settings point at (embedded directory or Qdrant server URL).

    The embedded store is locked for this process until `close()`; `command` names this
    process in the lock, so a second process can say who holds it. A command outside
    `CREATING_COMMANDS` needs an existing store: an embedded store directory, or on a
    server the collection. Without a `command` (library use) a missing store is made.

    Raises:
        StoreError: the store does not exist and `command` may not create it.
    """
    must_exist = command is not None and command not in CREATING_COMMANDS
    if settings.is_server:
        store = _open_server(settings)
        if must_exist and not store.exists:
            store.close()
            raise StoreError(_missing(f"{settings.store} (collection {settings.collection!r})"))
        return store
    from picsift.store.edge import EdgeStore

    directory = Path(settings.store).expanduser().resolve()
    if must_exist and not _is_store_dir(directory):
        raise StoreError(_missing(str(directory)))
    return EdgeStore(
        settings.store,
        settings.collection,
        hnsw_m=settings.hnsw_m,
        hnsw_ef_construct=settings.hnsw_ef_construct,
        hnsw_ef=settings.hnsw_ef,
        on_disk=settings.on_disk,
        quantization=settings.quantization,
        command=command,
        text_languages=settings.text_language_list,
    )


def _missing(where: str) -> str:
    return (
        f"no picsift store at {where}; run `picsift index` first, "
        "or cd to the folder that has picsift.toml"
    )


def _is_store_dir(directory: Path) -> bool:
    """Every opened store has its lock file; a copied one may have only its `qdrant/`."""
    return (directory / LOCK_NAME).is_file() or (directory / "qdrant").is_dir()


def _open_server(settings: Settings) -> ImageStore:
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
        text_languages=settings.text_language_list,
    )

"""Server backend: `qdrant-client` against a Qdrant server or cluster.

Tests run it on `QdrantClient(":memory:")`, which speaks the same API but ignores payload
indexes and cluster settings; what is sent for those is checked by its own tests. A
re-embedded store's two names are aliases of the collections `picsift reembed` built.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from qdrant_client import QdrantClient
from qdrant_client import models as qm

from picsift.errors import StoreError
from picsift.store.base import Collection, CollectionSpec, ImageStore
from picsift.store.notes import Notes, ServerNotes
from picsift.store.schema import (
    DEFAULT_TEXT_LANGUAGES,
    IMAGE_INDEXES,
    INT8_QUANTILE,
    TOPIC_INDEXES,
    StoreMeta,
    vector_name,
)
from picsift.store.server_collection import ServerCollection
from picsift.store.server_types import SCHEMAS, SPARSE_PARAMS


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
        owns_client: bool = True,
    ):
        super().__init__(collection, location or "qdrant", text_languages)
        self.client = client
        self._owns_client = owns_client  # False: a staging store on its store's client
        self._options = {
            "location": self.location,
            "shard_number": shard_number,
            "replication_factor": replication_factor,
            "on_disk": on_disk,
            "quantization": quantization,
            "hnsw_m": hnsw_m,
            "hnsw_ef_construct": hnsw_ef_construct,
            "hnsw_ef": hnsw_ef,
        }
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
            aliases = self._aliases()
            missing = self.collection not in aliases and not self.client.collection_exists(
                self.collection
            )
            if missing and not self._finish_switch(aliases):
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

    def _aliases(self) -> dict[str, str]:
        """Alias -> the collection it names (a re-embedded store's names are aliases)."""
        return {a.alias_name: a.collection_name for a in self.client.get_aliases().aliases}

    def _staging(self, model_id: str) -> ServerStore:
        return ServerStore(
            self.client,
            f"{self.collection}-{vector_name(model_id)}",
            text_languages=self.meta.text_languages if self.meta else self.text_languages,
            owns_client=False,
            **self._options,
        )

    def _finish_switch(self, aliases: dict[str, str]) -> bool:
        """A first switch cut short after the store's own collection went, before the alias
        took its name (the topics' alias is made first): make the alias; True when made."""
        topics = aliases.get(f"{self.collection}_topics", "")
        target = topics.removesuffix("_topics")
        if not topics.endswith("_topics") or not self.client.collection_exists(target):
            return False
        make = qm.CreateAlias(collection_name=target, alias_name=self.collection)
        self.client.update_collection_aliases([qm.CreateAliasOperation(create_alias=make)])
        return True

    def replace_with(self, staged: ImageStore) -> None:
        # The topics first: the images' collection is what says which model the store has.
        for name, target in (
            (f"{self.collection}_topics", f"{staged.collection}_topics"),
            (self.collection, staged.collection),
        ):
            before = self._aliases().get(name)
            if before == target:
                continue  # switched by an earlier call that was cut short
            if before is None and self.client.collection_exists(name):
                # The store's first collection has the alias's name: it goes before the alias
                # can be made (a moment in which the store is not there).
                self.client.delete_collection(name)
            ops: list[Any] = [qm.DeleteAliasOperation(delete_alias=qm.DeleteAlias(alias_name=name))]
            make = qm.CreateAlias(collection_name=target, alias_name=name)
            ops = [*(ops if before else []), qm.CreateAliasOperation(create_alias=make)]
            self.client.update_collection_aliases(ops)  # one step: never without the name
            if before is not None:
                self.client.delete_collection(before)
        staged.close()
        self._images = self._topics = None
        self.meta = None
        self._open_existing()

    def _open_notes(self, name: str) -> Notes:
        return ServerNotes(name, self.client)

    def close(self) -> None:
        self._close_notes()
        if self._owns_client:
            self.client.close()
        self._images = self._topics = None

"""Server-backend specifics: what is sent to a real server (indexes, cluster settings)."""

from __future__ import annotations

from typing import Any

import pytest
from qdrant_client import QdrantClient
from qdrant_client import models as qm

from picsift.errors import StoreError
from picsift.store.schema import IMAGE_INDEXES, TOPIC_INDEXES
from picsift.store.server import ServerStore

pytestmark = pytest.mark.filterwarnings("ignore:Payload indexes have no effect")


class RecordingClient(QdrantClient):
    """An in-memory client that remembers the collection and index requests."""

    def __init__(self) -> None:
        super().__init__(":memory:")
        self.created: dict[str, dict[str, Any]] = {}
        self.indexes: dict[str, dict[str, Any]] = {}

    def create_collection(self, collection_name: str, **kwargs: Any) -> bool:
        self.created[collection_name] = kwargs
        return super().create_collection(collection_name, **kwargs)

    def create_payload_index(self, collection_name: str, field_name: str, **kwargs: Any) -> Any:
        self.indexes.setdefault(collection_name, {})[field_name] = kwargs["field_schema"]
        return super().create_payload_index(collection_name, field_name, **kwargs)


def test_cluster_settings_and_vectors_are_sent():
    client = RecordingClient()
    store = ServerStore(
        client, "corpus", shard_number=6, replication_factor=2, on_disk=True, hnsw_m=32
    )
    store.ensure("clip-ViT-B-32", 512)
    sent = client.created["corpus"]
    assert sent["shard_number"] == 6 and sent["replication_factor"] == 2
    params = sent["vectors_config"]["clip-ViT-B-32"]
    assert params.size == 512 and params.distance == qm.Distance.COSINE and params.on_disk
    assert sent["hnsw_config"].m == 32
    assert sent["metadata"]["model"] == "clip-ViT-B-32"
    assert client.created["corpus_topics"]["shard_number"] == 6


def test_payload_indexes_are_created_with_the_collection():
    client = RecordingClient()
    ServerStore(client, "corpus").ensure("toy", 16)
    assert set(client.indexes["corpus"]) == set(IMAGE_INDEXES)
    assert set(client.indexes["corpus_topics"]) == set(TOPIC_INDEXES)
    assert client.indexes["corpus"]["topic"] == qm.PayloadSchemaType.INTEGER
    assert client.indexes["corpus"]["posts[].dataset"] == qm.PayloadSchemaType.KEYWORD
    assert client.indexes["corpus"]["caption"].type == qm.TextIndexType.TEXT


def test_foreign_collection_is_refused():
    client = QdrantClient(":memory:")
    client.create_collection("images", vectors_config=qm.VectorParams(size=4, distance="Cosine"))
    with pytest.raises(StoreError, match="not made by picsift"):
        ServerStore(client, "images")


def test_unreachable_server_names_the_settings():
    client = QdrantClient(url="http://127.0.0.1:9", timeout=1, check_compatibility=False)
    with pytest.raises(StoreError, match=r"PICSIFT_STORE.*PICSIFT_QDRANT_API_KEY"):
        ServerStore(client, location="http://127.0.0.1:9")


def test_int8_quantization_is_sent_with_the_collection():
    client = RecordingClient()
    ServerStore(client, "corpus", quantization="int8").ensure("toy", 16)
    scalar = client.created["corpus"]["quantization_config"].scalar
    assert scalar.type == qm.ScalarType.INT8 and scalar.always_ram
    plain = RecordingClient()
    ServerStore(plain, "corpus").ensure("toy", 16)
    assert plain.created["corpus"]["quantization_config"] is None

"""Shared fixtures: deterministic data and small real stores on both backends."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest
from qdrant_client import QdrantClient

from picsift.store.base import ImageStore
from picsift.store.edge import EdgeStore
from picsift.store.server import ServerStore
from tests.compose_helpers import load_compose


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Tests never see the developer's PICSIFT_* settings or picsift.toml."""
    import os

    for key in list(os.environ):
        if key.startswith("PICSIFT_"):
            monkeypatch.delenv(key)
    config = tmp_path_factory.mktemp("cfg") / "empty.toml"
    config.touch()
    monkeypatch.setenv("PICSIFT_CONFIG", str(config))


def unit_vectors(n: int, dim: int, seed: int = 0) -> np.ndarray:
    """`n` random L2-normalised float32 vectors."""
    rng = np.random.default_rng(seed)
    v = rng.normal(size=(n, dim)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def point_id(i: int) -> str:
    """A stable UUID string for test point `i`."""
    return str(uuid.UUID(int=i + 1))


@pytest.fixture(params=["embedded", "server"])
def make_store(request: pytest.FixtureRequest, tmp_path) -> Iterator[Callable[[], ImageStore]]:
    """Factory of stores on one backend; calling it again reopens the same store (keyword
    arguments go to the store, e.g. `text_languages`)."""
    opened: list[ImageStore] = []
    client = QdrantClient(":memory:") if request.param == "server" else None

    def factory(**kwargs: Any) -> ImageStore:
        for store in opened:
            if request.param == "embedded":
                store.close()
        if request.param == "embedded":
            store: ImageStore = EdgeStore(tmp_path / "store", **kwargs)
        else:
            store = ServerStore(client, location=":memory:", **kwargs)
        opened.append(store)
        return store

    factory.backend = request.param  # type: ignore[attr-defined]
    yield factory
    for store in opened:
        store.close()


# --- docker-compose.yml, for tests/test_compose*.py -------------------------------------------


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return load_compose()


@pytest.fixture(scope="module")
def picsift_svc(compose: dict[str, Any]) -> dict[str, Any]:
    return compose["services"]["picsift"]


@pytest.fixture(scope="module")
def qdrant_svc(compose: dict[str, Any]) -> dict[str, Any]:
    return compose["services"]["qdrant"]

"""What the store reads and writes: points, records, hits and collection specs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from picsift.store.schema import IndexKind

PayloadSelect = bool | Sequence[str]


def payload_selector(select: PayloadSelect) -> Any:
    """What both engines take for a payload selection: all, none, or a list of keys."""
    return select if isinstance(select, bool) else list(select)


@dataclass
class PointData:
    """A point to write: id (UUID string), unit vector, payload."""

    id: str
    vector: np.ndarray
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass
class Record:
    """A stored point as read back."""

    id: str
    payload: dict[str, Any]
    vector: np.ndarray | None = None


@dataclass
class Hit(Record):
    """A query result: a record with its cosine similarity."""

    score: float = 0.0


@dataclass(frozen=True)
class SparseVector:
    """A sparse vector (BM25 of a text): token ids and their weights."""

    indices: tuple[int, ...]
    values: tuple[float, ...]


@dataclass(frozen=True)
class Leg:
    """One ranking a fused query reads: `vector` under `using` (None: the collection's dense
    vector; a name: one of its sparse vectors), its best `limit` points, none scoring below
    `score_threshold`."""

    vector: np.ndarray | SparseVector
    using: str | None
    limit: int
    score_threshold: float | None = None


@dataclass(frozen=True)
class CollectionSpec:
    """How to create a collection."""

    name: str
    vector_name: str
    dim: int
    indexes: Mapping[str, IndexKind]
    metadata: Mapping[str, Any] = field(default_factory=dict)
    sparse: tuple[str, ...] = ()  # sparse vectors (text, BM25 weights; IDF at query time)

"""What the store reads and writes: points, records, hits and collection specs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from picsift.store.schema import IndexKind

PayloadSelect = bool | Sequence[str]


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
class CollectionSpec:
    """How to create a collection."""

    name: str
    vector_name: str
    dim: int
    indexes: Mapping[str, IndexKind]
    metadata: Mapping[str, Any] = field(default_factory=dict)

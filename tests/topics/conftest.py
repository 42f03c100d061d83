"""Toy-shape corpora for topic tests: 12 colour/shape classes, vectors from the toy CLIP."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass

import numpy as np
import pytest
from qdrant_client import QdrantClient

from picsift.models.toy import COLORS, SHAPES, caption
from picsift.store.base import ImageStore, PointData
from picsift.store.edge import EdgeStore
from picsift.store.server import ServerStore
from picsift.thumbs import write_thumb

PER_CLASS = 15  # images per class in the fitted corpus
NEW_PER_CLASS = 4  # images per class indexed after the fit
LATE_PER_CLASS = 2  # and a few more after that
DAY = 86_400
T0 = 1_700_438_400  # 2023-11-20 00:00 UTC, a Monday


@dataclass
class Shapes:
    """Toy images with their true class and toy-CLIP vectors."""

    images: list
    classes: np.ndarray  # colour index * 3 + shape index
    vectors: np.ndarray

    def sha(self, i: int) -> str:
        return hashlib.sha256(self.images[i].tobytes()).hexdigest()

    def point_id(self, i: int) -> str:
        return str(uuid.UUID(hex=self.sha(i)[:32]))

    def label(self, i: int) -> str:
        k = int(self.classes[i])
        return caption(COLORS[k // 3], SHAPES[k % 3])


@pytest.fixture(scope="session")
def shapes() -> Shapes:
    """12 x 15 shapes to fit on, 12 x 4 new ones (rows 180..227), 12 x 2 late ones (228..)."""
    from picsift.models.encoder import ClipEncoder
    from picsift.models.runtime import Runtime
    from picsift.models.toy import sample

    data = sample(12 * (PER_CLASS + NEW_PER_CLASS + LATE_PER_CLASS), seed=2024)
    encoder = ClipEncoder("toy", runtime=Runtime("cpu", "fp32", "test"), batch_size=64)
    vectors = encoder.embed_images([img for img, _, _ in data]).astype(np.float32)
    classes = np.array([COLORS.index(c) * 3 + SHAPES.index(s) for _, c, s in data])
    return Shapes([img for img, _, _ in data], classes, vectors)


def posts_of(i: int) -> list[dict]:
    """Image i is posted once on day i % 10, and every third image once more a week later."""
    posts = [{"dataset": "tiktok", "post_id": f"p{i}", "ts": T0 + (i % 10) * DAY}]
    if i % 3 == 0:
        posts.append({"dataset": "telegram", "post_id": f"q{i}", "ts": T0 + (i % 10 + 7) * DAY})
    return posts


def add_images(
    store: ImageStore, data_dir, shapes: Shapes, rows, *, captions: bool = True
) -> list[str]:
    """Index rows of `shapes` the way the indexer would (payload, thumbnail); returns ids."""
    store.ensure("toy", shapes.vectors.shape[1])
    points = []
    for i in rows:
        sha = shapes.sha(i)
        write_thumb(data_dir, sha, shapes.images[i])
        payload = {
            "sha256": sha,
            "posts": posts_of(i),
            "datasets": sorted({p["dataset"] for p in posts_of(i)}),
            "caption": shapes.label(i) if captions else None,
            "tags": [],
        }
        points.append(PointData(shapes.point_id(i), shapes.vectors[i], payload))
    store.images.upsert(points)
    store.images.optimize()
    return [p.id for p in points]


def open_backend(backend: str, path) -> ImageStore:
    """An embedded store in `path`, or a server store on an in-memory qdrant-client."""
    if backend == "embedded":
        return EdgeStore(path / "store")
    return ServerStore(QdrantClient(":memory:"), location=":memory:")

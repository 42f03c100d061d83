"""The search service: no web framework here, so the API and the CLI share it."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import numpy as np

from picsift.store import ImageStore
from search.query import SearchRequest
from topics.table import list_topics

NEGATIVE_WEIGHT = 1.0
CACHE_SIZE = 512


@dataclass
class SearchResult:
    """Hits in the architecture's hit shape, best first."""

    query: str
    hits: list[dict[str, Any]]


class TextVectors:
    """Text embeddings of recent queries: paging and filter changes never re-encode."""

    def __init__(self, encoder: Any, size: int = CACHE_SIZE):
        self.encoder = encoder
        self.size = size
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, texts: tuple[str, ...]) -> np.ndarray:
        with self._lock:
            missing = [t for t in texts if t not in self._cache]
        if missing:
            vectors = self.encoder.embed_texts(missing)
            with self._lock:
                for text, vector in zip(missing, vectors, strict=True):
                    self._cache[text] = vector
                while len(self._cache) > self.size:
                    self._cache.popitem(last=False)
        with self._lock:
            for t in texts:
                self._cache.move_to_end(t)
            return np.stack([self._cache[t] for t in texts])


def combine(positive: np.ndarray, negative: np.ndarray | None) -> np.ndarray:
    """Query arithmetic as rclip does it: add the positive terms, subtract the negative ones,
    renormalise."""
    vector = positive.sum(axis=0)
    if negative is not None and len(negative):
        vector = vector - NEGATIVE_WEIGHT * negative.sum(axis=0)
    norm = np.linalg.norm(vector)
    return vector / norm if norm > 0 else vector


class SearchService:
    """Text-to-image search over a store, with filters and topic labels."""

    def __init__(self, store: ImageStore, encoder: Any, thumb_url: str = "/api/images/{id}/thumb"):
        self.store = store
        self.texts = TextVectors(encoder)
        self.thumb_url = thumb_url

    def search(self, request: SearchRequest) -> SearchResult:
        """Run a validated text search."""
        request.validate()
        positive = self.texts(tuple(t.strip() for t in request.q if t.strip()))
        negative = self.texts(tuple(request.not_)) if request.not_ else None
        hits = self.store.images.query(
            combine(positive, negative),
            filter=request.to_filter(),
            limit=request.limit,
            offset=request.offset,
            with_payload=["sha256", "topic", "caption", "posts"],
        )
        labels = self.topic_labels()
        return SearchResult(" ".join(request.q), [self.hit(h, labels) for h in hits])

    def topic_labels(self) -> dict[int, str]:
        """Labels of the current topic run (empty before topics are fitted)."""
        return {t.topic: t.label for t in list_topics(self.store)}

    def hit(self, hit: Any, labels: dict[int, str]) -> dict[str, Any]:
        """A stored hit in the architecture's hit shape."""
        payload = hit.payload
        topic = payload.get("topic")
        return {
            "id": hit.id,
            "score": round(float(hit.score), 6),
            "sha256": payload.get("sha256", ""),
            "topic": topic,
            "topic_label": labels.get(topic) if topic is not None else None,
            "caption": payload.get("caption"),
            "thumb_url": self.thumb_url.format(id=hit.id),
            "posts": [
                {k: p.get(k, "") for k in ("dataset", "post_id", "author", "timestamp", "url")}
                for p in payload.get("posts", [])
            ],
        }

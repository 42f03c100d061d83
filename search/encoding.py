"""Query encoding for the service: cached text vectors, concurrent requests batched together.

The model runs one call at a time (two threads calling torch at once only fight over the same
cores); texts that arrive while a call runs are encoded together in the next one, so 20
concurrent clients cost a few batched calls rather than 20 queued single ones.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

import numpy as np

from picsift.errors import InputError

if TYPE_CHECKING:
    from picsift.models.protocols import Encoder

CACHE_SIZE = 512
MAX_BATCH = 32
NEGATIVE_WEIGHT = 1.0
CANCELLED = 1e-6  # query vector norm below which nothing is left to rank by


class TextVectors:
    """Text embeddings of recent queries: paging and filter changes never re-encode."""

    def __init__(self, encoder: Encoder, size: int = CACHE_SIZE, max_batch: int = MAX_BATCH):
        self.encoder = encoder
        self.size = size
        self.max_batch = max_batch
        self.model_lock = threading.Lock()
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_lock = threading.Lock()
        self._pending: list[tuple[list[str], Future]] = []
        self._pending_lock = threading.Lock()

    def __call__(self, texts: tuple[str, ...]) -> np.ndarray:
        """Vectors of `texts`, shape (len(texts), dim), from the cache where possible."""
        with self._cache_lock:
            missing = list(dict.fromkeys(t for t in texts if t not in self._cache))
        if missing:
            vectors = self._encode(missing)
            with self._cache_lock:
                for text, vector in zip(missing, vectors, strict=True):
                    self._cache[text] = vector
                while len(self._cache) > self.size:
                    self._cache.popitem(last=False)
        with self._cache_lock:
            found = {}
            for t in texts:
                if t in self._cache:
                    self._cache.move_to_end(t)
                    found[t] = self._cache[t]
        # A text evicted between encoding and reading (cache smaller than a burst) is rare;
        # encoding it again keeps the answer correct.
        rest = [t for t in texts if t not in found]
        if rest:
            found.update(zip(rest, self._encode(rest), strict=True))
        return np.stack([found[t] for t in texts])

    def _encode(self, texts: list[str]) -> np.ndarray:
        """Encode, sharing one model call with whatever else is waiting."""
        mine: Future = Future()
        with self._pending_lock:
            self._pending.append((texts, mine))
        while not mine.done():
            with self.model_lock:
                if mine.done():
                    break
                batch = self._take()
                flat = [t for texts_, _ in batch for t in texts_]
                try:
                    vectors = self.encoder.embed_texts(flat)
                except BaseException as exc:
                    for _, fut in batch:
                        fut.set_exception(exc)
                    continue
                start = 0
                for texts_, fut in batch:
                    fut.set_result(vectors[start : start + len(texts_)])
                    start += len(texts_)
        return mine.result()

    def _take(self) -> list[tuple[list[str], Future]]:
        """The oldest waiting requests, at most `max_batch` texts (always at least one)."""
        with self._pending_lock:
            taken, count = [], 0
            while self._pending and (
                not taken or count + len(self._pending[0][0]) <= self.max_batch
            ):
                entry = self._pending.pop(0)
                taken.append(entry)
                count += len(entry[0])
            return taken

    def image(self, image: Any) -> np.ndarray:
        """The vector of one decoded image (one model call at a time, like texts)."""
        with self.model_lock:
            return self.encoder.embed_images([image])[0]


def combine(positive: np.ndarray, negative: np.ndarray | None) -> np.ndarray:
    """Query arithmetic as rclip does it: add the positive terms, subtract the negative ones,
    renormalise.

    Raises:
        InputError: the `not` terms cancel the query out (every score would be 0).
    """
    vector = positive.sum(axis=0)
    if negative is not None and len(negative):
        vector = vector - NEGATIVE_WEIGHT * negative.sum(axis=0)
    norm = np.linalg.norm(vector)
    if norm < CANCELLED:
        raise InputError("not: the terms to subtract cancel out the query; drop one of them")
    return vector / norm

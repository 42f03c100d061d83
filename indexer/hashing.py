"""The hash stage: each media item's SHA-256, read in a thread pool and handed on a chunk at a
time, with the bytes read to compute it.

A file the hash cache knows (same size and mtime) is not read. An image that is read keeps its
bytes in its chunk, so that a new image is decoded from the same read (a zip member is
decompressed once); a video is hashed a block at a time and keeps none (it is decoded from its
file). The next chunk is read only when the caller asks for it, after indexing this one: the bytes
held are at most `chunk_bytes` plus the last file read and the reads in flight (twice the workers).
"""

from __future__ import annotations

import hashlib
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from indexer.cache import IndexCache
from indexer.records import MediaItem
from indexer.video import VideoError, hash_video
from picsift.models.decode import READ_ERRORS, Unreadable
from picsift.progress import Progress

CHUNK_FILES = 512  # at most this many files a chunk
CHUNK_BYTES = 128 * 2**20  # a chunk ends once the bytes it read reach this


@dataclass
class Hashed:
    """One item's SHA-256 and the bytes read for it, or why it could not be read."""

    item: MediaItem
    sha256: str | None = None
    data: bytes | None = None  # None: a video, the hash cache knew the file, or it failed
    error: str | None = None


class Hasher:
    """Hashes media items a chunk at a time, remembering new hashes in the hash cache."""

    def __init__(
        self,
        cache: IndexCache,
        read: Callable[[MediaItem], bytes],
        progress: Progress,
        *,
        workers: int = 4,
        chunk_files: int = CHUNK_FILES,
        chunk_bytes: int = CHUNK_BYTES,
    ):
        self.cache = cache
        self.read = read
        self.progress = progress
        self.workers = workers
        self.chunk_files = chunk_files
        self.chunk_bytes = chunk_bytes

    def chunks(self, media: Sequence[MediaItem]) -> Iterator[list[Hashed]]:
        """The items hashed, in input order: at most `chunk_files` a chunk, and a chunk ends once
        the bytes it read reach `chunk_bytes`."""
        chunk: list[Hashed] = []
        held = 0
        for done, hashed in enumerate(self._in_order(media), 1):
            self.progress("hash", done, len(media))
            chunk.append(hashed)
            held += len(hashed.data or b"")
            if len(chunk) >= self.chunk_files or held >= self.chunk_bytes:
                yield self._remembered(chunk)
                chunk, held = [], 0
        if chunk:
            yield self._remembered(chunk)

    def _in_order(self, media: Sequence[MediaItem]) -> Iterator[Hashed]:
        limit = 2 * self.workers
        with ThreadPoolExecutor(self.workers, thread_name_prefix="hash") as pool:
            pending: deque[Future[Hashed]] = deque()
            for item in media:
                pending.append(pool.submit(self._hash, item))
                if len(pending) >= limit:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()

    def _hash(self, item: MediaItem) -> Hashed:
        cached = self.cache.cached_hash(item)
        if cached:
            return Hashed(item, cached)
        if item.kind == "video":
            return self._hash_video(item)
        try:
            data = self.read(item)
        except Unreadable as exc:
            return Hashed(item, error=str(exc))
        except READ_ERRORS as exc:
            return Hashed(item, error=f"cannot read: {exc}")
        return Hashed(item, hashlib.sha256(data).hexdigest(), data)

    @staticmethod
    def _hash_video(item: MediaItem) -> Hashed:
        try:
            return Hashed(item, hash_video(item))
        except VideoError as exc:
            return Hashed(item, error=str(exc))
        except READ_ERRORS as exc:
            return Hashed(item, error=f"cannot read: {exc}")

    def _remembered(self, chunk: list[Hashed]) -> list[Hashed]:
        self.cache.remember_hashes((h.item, h.sha256) for h in chunk if h.sha256 is not None)
        return chunk

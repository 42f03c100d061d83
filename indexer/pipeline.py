"""The indexing pipeline: hash -> skip known -> decode + embed -> thumbnail -> upsert, a chunk
of files at a time (see `indexer.hashing`): a new image is decoded from the bytes read to hash it.
Videos take the same path to their hash, then the video stage (`indexer.video_index`): one point
a kept frame.

Writes go out batch by batch, so a killed run loses at most the batch in flight; a re-run finds
the written images by content hash and only merges their posts, so nothing is duplicated. The
same merge takes a file whose content an earlier chunk of the run wrote.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from indexer.cache import IndexCache
from indexer.datasets import RETRIEVE_CHUNK, DatasetResolver
from indexer.hashing import CHUNK_BYTES, CHUNK_FILES, Hashed, Hasher
from indexer.payloads import changed_posts, image_id, merged_payload, new_payload
from indexer.reader import read_item
from indexer.records import Failure, MediaItem, Post
from indexer.shard import Shard
from indexer.video import FramePlan
from indexer.video_index import VideoFile, VideoStage
from picsift.progress import Progress
from picsift.store import Filter, ImageStore, MatchAny, PointData
from picsift.thumbs import THUMB_SIDE, write_thumb

if TYPE_CHECKING:
    from picsift.models.protocols import Encoder


@dataclass
class IndexReport:
    """What a run did, in the shape of `picsift index --report FILE.json`."""

    found: int = 0
    new: int = 0
    known: int = 0
    posts_linked: int = 0
    posts_without_media: int = 0
    failed: list[Failure] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    skipped: list[Failure] = field(default_factory=list)  # files that are not media, and why
    new_videos: int = 0  # of the new points, videos decoded (each written as its frames)
    known_videos: int = 0
    new_frames: int = 0  # frame points written (not in `new`, which counts images)

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return asdict(self)


@dataclass
class _Image:
    """One distinct image content found in this run, with every item and post that used it."""

    sha256: str
    items: list[MediaItem] = field(default_factory=list)
    posts: list[Post] = field(default_factory=list)
    cached: set[tuple[str, str]] = field(default_factory=set)  # posts joined from the cache
    data: bytes | None = None  # the bytes read to hash it; None: the hash cache knew its files

    @property
    def id(self) -> str:
        return image_id(self.sha256)

    @property
    def kind(self) -> str:
        """ "image" or "video" (what its first file was found to be)."""
        return self.items[0].kind


@dataclass
class _Run:
    """What one run has found and written so far, over its chunks."""

    posts: dict[tuple[str, str], Post]  # this run's posts and the cached posts its media use
    cached: set[tuple[str, str]]  # the keys of those from the cache
    linked: set[tuple[str, str]] = field(default_factory=set)  # this run's posts linked
    joined: set[tuple[str, str]] = field(default_factory=set)  # cached posts that reached the store
    known: set[str] = field(default_factory=set)  # ids found in the store
    written: set[str] = field(default_factory=set)  # ids this run wrote
    fresh: int = 0  # images sent to decoding
    decoded: int = 0  # of those, written or failed


class Indexer:
    """Indexes media items and posts into a store with an encoder (both passed in)."""

    def __init__(
        self,
        store: ImageStore,
        encoder: Encoder,
        cache: IndexCache,
        data_dir: Path,
        *,
        read: Callable[[MediaItem], bytes] = read_item,
        on_new: Callable[[list[str]], None] | None = None,
        progress: Progress | None = None,
        hash_workers: int = 4,
        shard: Shard | None = None,
        chunk_files: int = CHUNK_FILES,
        chunk_bytes: int = CHUNK_BYTES,
        frames: FramePlan | None = None,
    ):
        self.store = store
        self.encoder = encoder
        self.cache = cache
        self.data_dir = data_dir
        self.read = read
        self.on_new = on_new
        self.progress = progress or (lambda stage, done, total: None)
        self.shard = shard
        self.datasets = DatasetResolver(store, cache)
        self.videos = VideoStage(
            store, encoder, data_dir, frames or FramePlan(), self.progress, on_new
        )
        self.hasher = Hasher(
            cache,
            read,
            self.progress,
            workers=hash_workers,
            chunk_files=chunk_files,
            chunk_bytes=chunk_bytes,
        )

    def run(self, media: Sequence[MediaItem], posts: Sequence[Post]) -> IndexReport:
        """Index `media`, linking them to `posts` (and to posts cached from earlier tables)."""
        report = IndexReport(found=len(media))
        self.store.ensure(self.encoder.model_id, self.encoder.dim)
        posts = self.datasets.tables(media, posts, report.warnings)
        self.cache.remember_posts(posts)
        media = self.datasets.derived(media, posts, report.warnings)
        run = self._new_run(media, posts, report)
        for chunk in self.hasher.chunks(media):
            self._index_chunk(chunk, run, report)
            chunk.clear()  # its bytes go before the next chunk is read, not after
        report.new = len(run.written)
        report.known = len(run.known - run.written)
        linked = run.linked | self._link_stored_posts(posts, run.linked)
        report.posts_linked = len(linked | run.joined)
        report.posts_without_media = sum(1 for p in posts if (p.dataset, p.post_id) not in linked)
        if media:
            _warn_unmatched(posts, linked, len(media), report)
        if report.new:
            self.store.images.optimize()
        return report

    def _index_chunk(self, chunk: list[Hashed], run: _Run, report: IndexReport) -> None:
        images = _group_by_content(chunk, report)
        run.linked |= _attach_posts(images, run)
        if self.shard:
            # Posts of other workers' images count as linked: their owner links them.
            images = {sha: img for sha, img in images.items() if self.shard.owns(img.id)}
        videos = [img for img in images.values() if img.kind == "video"]
        images = {sha: img for sha, img in images.items() if img.kind != "video"}
        known = self._merge_known(images, run)
        self._embed_new([img for img in images.values() if img.id not in known], report, run)
        if videos:
            self._index_videos(videos, report, run)

    def _index_videos(self, videos: list[_Image], report: IndexReport, run: _Run) -> None:
        indexed_at, indexed_ts = _now()
        files = [VideoFile(v.sha256, v.items, v.posts, v.cached) for v in videos]
        done = self.videos.index(files, indexed_at, indexed_ts)
        report.new_videos += done.new
        report.known_videos += done.known
        report.new_frames += done.frames
        report.failed += done.failed
        report.warnings += done.warnings
        run.joined |= done.joined

    def _new_run(
        self, media: Sequence[MediaItem], posts: Sequence[Post], report: IndexReport
    ) -> _Run:
        """A run's state, with its posts by key: this run's, and the cached posts of a dataset
        that its media name and the run lacks (a table indexed before its archive)."""
        by_key = {(p.dataset, p.post_id): p for p in posts}
        wanted: dict[str, set[str]] = {}
        for item in media:
            ids = {i for i in item.post_ids if (item.dataset, i) not in by_key}
            wanted.setdefault(item.dataset, set()).update(ids)
        cached: set[tuple[str, str]] = set()
        for dataset, ids in wanted.items():
            for post_id, post in self.datasets.cached_posts(dataset, ids, report.warnings).items():
                by_key[(dataset, post_id)] = post
                cached.add((dataset, post_id))
        return _Run(by_key, cached)

    def _merge_known(self, images: dict[str, _Image], run: _Run) -> set[str]:
        by_id = {img.id: img for img in images.values()}
        ids = list(by_id)
        known: set[str] = set()
        for start in range(0, len(ids), RETRIEVE_CHUNK):
            records = self.store.images.retrieve(
                ids[start : start + RETRIEVE_CHUNK],
                with_payload=["posts", "files", "missing", "first_seen"],
            )
            updates = []
            for record in records:
                known.add(record.id)
                image = by_id[record.id]
                update = merged_payload(record.payload, image.items, image.posts)
                if update is not None:
                    updates.append((record.id, update))
                    run.joined.update(changed_posts(record.payload, update, image.cached))
            self.store.images.set_payloads(updates)
        run.known |= known
        return known

    def _embed_new(self, fresh: list[_Image], report: IndexReport, run: _Run) -> None:
        indexed_at, indexed_ts = _now()
        run.fresh += len(fresh)
        batches = self.encoder.embed_sources(fresh, read=self._bytes, min_side=THUMB_SIDE)
        for batch in batches:
            for image, reason in batch.failed:
                report.failed.extend(Failure(item.location, reason) for item in image.items)
            points = []
            for decoded, vector in zip(batch.decoded, batch.vectors, strict=True):
                image = decoded.item
                write_thumb(self.data_dir, image.sha256, decoded.image)
                payload = new_payload(
                    image.sha256, image.items, image.posts, decoded.info, indexed_at, indexed_ts
                )
                points.append(PointData(image.id, vector, payload))
                run.joined.update(image.cached)
            self.store.images.upsert(points)
            run.written.update(p.id for p in points)
            run.decoded += len(batch.failed) + len(points)
            self.progress("embed", run.decoded, run.fresh)
            if self.on_new and points:
                self.on_new([p.id for p in points])

    def _bytes(self, image: _Image) -> bytes:
        """The bytes read to hash the image, else (the hash cache knew its files) a read now."""
        return self.read(image.items[0]) if image.data is None else image.data

    def _link_stored_posts(self, posts: Iterable[Post], linked: set) -> set:
        """Posts of a table whose images were indexed earlier (a table after its archive):
        each goes to the stored post of the same dataset and id."""
        pending = {(p.dataset, p.post_id): p for p in posts if (p.dataset, p.post_id) not in linked}
        newly: set[tuple[str, str]] = set()
        ids = sorted({post_id for _, post_id in pending})
        for start in range(0, len(ids), RETRIEVE_CHUNK):
            chunk = tuple(ids[start : start + RETRIEVE_CHUNK])
            flt = Filter(must=(MatchAny("posts[].post_id", chunk),))
            updates = []
            fields = ["posts", "files", "first_seen", "missing"]
            for record in self.store.images.scroll(flt, with_payload=fields):
                keys = {(p["dataset"], p["post_id"]) for p in record.payload.get("posts", [])}
                matches = [pending[k] for k in keys if k in pending]
                newly.update(keys.intersection(pending))
                if self.shard and not self.shard.owns(record.id):
                    continue  # counted as linked; its owner writes it
                update = merged_payload(record.payload, [], matches)
                if update is not None:
                    updates.append((record.id, update))
            self.store.images.set_payloads(updates)
        return newly


def _now() -> tuple[str, int]:
    """Now, as `indexed_at` (ISO, seconds) and unix seconds."""
    now = dt.datetime.now(dt.UTC)
    return now.isoformat(timespec="seconds"), int(now.timestamp())


def _group_by_content(chunk: list[Hashed], report: IndexReport) -> dict[str, _Image]:
    images: dict[str, _Image] = {}
    for hashed in chunk:
        if hashed.sha256 is None:
            report.failed.append(Failure(hashed.item.location, hashed.error or "cannot read"))
            continue
        image = images.setdefault(hashed.sha256, _Image(hashed.sha256))
        image.items.append(hashed.item)
        if image.data is None:
            image.data = hashed.data
    return images


def _attach_posts(images: dict[str, _Image], run: _Run) -> set[tuple[str, str]]:
    """Give every image its posts: this run's, else the dataset's cached ones; returns the keys
    of this run's posts linked (those from the cache are kept in `_Image.cached`)."""
    linked: set[tuple[str, str]] = set()
    for image in images.values():
        for item in image.items:
            for post_id in item.post_ids:
                key = (item.dataset, post_id)
                post = run.posts.get(key)
                if key in run.cached:
                    image.cached.add(key)
                elif post is not None:
                    linked.add(key)
                image.posts.append(post or Post(item.dataset, post_id))
    return linked


def _warn_unmatched(posts: Sequence[Post], linked: set, n_media: int, report: IndexReport) -> None:
    """A table none of whose posts matched this run's images: likely not the archive's table."""
    by_dataset: dict[str, int] = {}
    for post in posts:
        by_dataset[post.dataset] = by_dataset.get(post.dataset, 0) + 1
    for dataset in {d for d, _ in linked}:
        by_dataset.pop(dataset, None)
    for dataset, n in sorted(by_dataset.items()):
        report.warnings.append(
            f"table of dataset {dataset!r}: none of its {n:,} posts matched any of the "
            f"{n_media:,} files of this run or an indexed image: are the table and the archive "
            "from the same 4CAT dataset? The posts are kept for an archive indexed later"
        )

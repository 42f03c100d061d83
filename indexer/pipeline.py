"""The indexing pipeline: hash -> skip known -> decode + embed -> thumbnail -> upsert.

Writes go out batch by batch, so a killed run loses at most the batch in flight; a re-run finds
the written images by content hash and only merges their posts, so nothing is duplicated.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from indexer.cache import IndexCache
from indexer.datasets import RETRIEVE_CHUNK, DatasetResolver
from indexer.payloads import image_id, merged_payload, new_payload
from indexer.reader import read_item
from indexer.records import Failure, MediaItem, Post
from indexer.shard import Shard
from picsift.models.decode import READ_ERRORS, Unreadable
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
    skipped: list[Failure] = field(default_factory=list)  # files that are not images, and why

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

    @property
    def id(self) -> str:
        return image_id(self.sha256)


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
    ):
        self.store = store
        self.encoder = encoder
        self.cache = cache
        self.data_dir = data_dir
        self.read = read
        self.on_new = on_new
        self.progress = progress or (lambda stage, done, total: None)
        self.hash_workers = hash_workers
        self.shard = shard
        self.datasets = DatasetResolver(store, cache)

    def run(self, media: Sequence[MediaItem], posts: Sequence[Post]) -> IndexReport:
        """Index `media`, linking them to `posts` (and to posts cached from earlier tables)."""
        report = IndexReport(found=len(media))
        self.store.ensure(self.encoder.model_id, self.encoder.dim)
        posts = self.datasets.tables(media, posts, report.warnings)
        self.cache.remember_posts(posts)
        media = self.datasets.derived(media, posts, report.warnings)
        images = self._group_by_content(media, report)
        linked = self._attach_posts(images, posts, report)
        if self.shard:
            # Posts of other workers' images count as linked: their owner links them.
            images = {sha: img for sha, img in images.items() if self.shard.owns(img.id)}
        joined: set[tuple[str, str]] = set()  # cached posts that reached the store this run
        known = self._merge_known(images, joined)
        report.known = len(known)
        fresh = [img for img in images.values() if img.id not in known]
        report.new = self._embed_new(fresh, report, joined)
        linked |= self._link_stored_posts(posts, linked)
        report.posts_linked = len(linked | joined)
        report.posts_without_media = sum(1 for p in posts if (p.dataset, p.post_id) not in linked)
        if media:
            _warn_unmatched(posts, linked, len(media), report)
        if report.new:
            self.store.images.optimize()
        return report

    def _hash(self, item: MediaItem) -> tuple[MediaItem, str | None, str | None]:
        cached = self.cache.cached_hash(item)
        if cached:
            return item, cached, None
        try:
            return item, hashlib.sha256(self.read(item)).hexdigest(), None
        except Unreadable as exc:
            return item, None, str(exc)
        except READ_ERRORS as exc:
            return item, None, f"cannot read: {exc}"

    def _group_by_content(
        self, media: Sequence[MediaItem], report: IndexReport
    ) -> dict[str, _Image]:
        images: dict[str, _Image] = {}
        fresh_hashes: list[tuple[MediaItem, str]] = []
        with ThreadPoolExecutor(self.hash_workers, thread_name_prefix="hash") as pool:
            for done, (item, sha, error) in enumerate(pool.map(self._hash, media), 1):
                self.progress("hash", done, len(media))
                if sha is None:
                    report.failed.append(Failure(item.location, error or "cannot read"))
                    continue
                fresh_hashes.append((item, sha))
                images.setdefault(sha, _Image(sha)).items.append(item)
        self.cache.remember_hashes(fresh_hashes)
        return images

    def _attach_posts(
        self, images: dict[str, _Image], posts: Sequence[Post], report: IndexReport
    ) -> set:
        """Give every image its posts: this run's, else the dataset's cached ones (a table
        indexed before its archive); returns the (dataset, post_id) keys of this run's posts
        linked (those from the cache are kept in `_Image.cached`)."""
        by_key = {(p.dataset, p.post_id): p for p in posts}
        wanted: dict[str, set[str]] = {}
        for image in images.values():
            for item in image.items:
                ids = {i for i in item.post_ids if (item.dataset, i) not in by_key}
                wanted.setdefault(item.dataset, set()).update(ids)
        cached: set[tuple[str, str]] = set()
        for dataset, ids in wanted.items():
            for post_id, post in self.datasets.cached_posts(dataset, ids, report.warnings).items():
                by_key[(dataset, post_id)] = post
                cached.add((dataset, post_id))
        linked: set[tuple[str, str]] = set()
        for image in images.values():
            for item in image.items:
                for post_id in item.post_ids:
                    key = (item.dataset, post_id)
                    post = by_key.get(key)
                    if key in cached:
                        image.cached.add(key)
                    elif post is not None:
                        linked.add(key)
                    image.posts.append(post or Post(item.dataset, post_id))
        return linked

    def _merge_known(self, images: dict[str, _Image], joined: set) -> set[str]:
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
                    joined.update(_changed(record.payload, update, image.cached))
            self.store.images.set_payloads(updates)
        return known

    def _embed_new(self, fresh: list[_Image], report: IndexReport, joined: set) -> int:
        now = dt.datetime.now(dt.UTC)
        indexed_at, indexed_ts = now.isoformat(timespec="seconds"), int(now.timestamp())
        written = failed = 0
        batches = self.encoder.embed_sources(
            fresh, read=lambda img: self.read(img.items[0]), min_side=THUMB_SIDE
        )
        for batch in batches:
            for image, reason in batch.failed:
                report.failed.extend(Failure(item.location, reason) for item in image.items)
            failed += len(batch.failed)
            points = []
            for decoded, vector in zip(batch.decoded, batch.vectors, strict=True):
                image = decoded.item
                write_thumb(self.data_dir, image.sha256, decoded.image)
                payload = new_payload(
                    image.sha256, image.items, image.posts, decoded.info, indexed_at, indexed_ts
                )
                points.append(PointData(image.id, vector, payload))
                joined.update(image.cached)
            self.store.images.upsert(points)
            written += len(points)
            self.progress("embed", written + failed, len(fresh))
            if self.on_new and points:
                self.on_new([p.id for p in points])
        return written

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


def _changed(old: dict[str, Any], update: dict[str, Any], keys: set) -> set:
    """Which of the post `keys` the update adds or changes."""
    before = {(p["dataset"], p["post_id"]): p for p in old.get("posts") or []}
    after = {(p["dataset"], p["post_id"]): p for p in update["posts"]}
    return {k for k in keys if after.get(k) != before.get(k)}

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
from typing import Any

from indexer.cache import IndexCache
from indexer.payloads import image_id, merged_payload, new_payload
from indexer.records import Failure, MediaItem, Post
from indexer.shard import Shard
from picsift.store import Filter, ImageStore, MatchAny, PointData
from picsift.thumbs import THUMB_SIDE, write_thumb

RETRIEVE_CHUNK = 256
Progress = Callable[[str, int, int], None]  # (stage, done, total)


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

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return asdict(self)


@dataclass
class _Image:
    """One distinct image content found in this run, with every item and post that used it."""

    sha256: str
    items: list[MediaItem] = field(default_factory=list)
    posts: list[Post] = field(default_factory=list)

    @property
    def id(self) -> str:
        return image_id(self.sha256)


class Indexer:
    """Indexes media items and posts into a store with an encoder (both passed in)."""

    def __init__(
        self,
        store: ImageStore,
        encoder: Any,
        cache: IndexCache,
        data_dir: Path,
        *,
        read: Callable[[MediaItem], bytes] = MediaItem.read_bytes,
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

    def run(self, media: Sequence[MediaItem], posts: Sequence[Post]) -> IndexReport:
        """Index `media`, linking them to `posts` (and to posts cached from earlier tables)."""
        report = IndexReport(found=len(media))
        self.store.ensure(self.encoder.model_id, self.encoder.dim)
        self.cache.remember_posts(posts)
        images = self._group_by_content(media, report)
        linked = self._attach_posts(images, posts)
        if self.shard:
            # Posts of other workers' images count as linked: their owner links them.
            images = {sha: img for sha, img in images.items() if self.shard.owns(img.id)}
        known = self._merge_known(images)
        report.known = len(known)
        fresh = [img for img in images.values() if img.id not in known]
        report.new = self._embed_new(fresh, report)
        linked |= self._link_stored_posts(posts, linked)
        report.posts_linked = len(linked)
        report.posts_without_media = sum(1 for p in posts if (p.dataset, p.post_id) not in linked)
        if report.new:
            self.store.images.optimize()
        return report

    def _hash(self, item: MediaItem) -> tuple[MediaItem, str | None, str | None]:
        cached = self.cache.cached_hash(item)
        if cached:
            return item, cached, None
        try:
            return item, hashlib.sha256(self.read(item)).hexdigest(), None
        except (OSError, KeyError, ValueError) as exc:
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

    def _attach_posts(self, images: dict[str, _Image], posts: Sequence[Post]) -> set:
        """Give every image its posts; returns the (dataset, post_id) keys linked."""
        by_key = {(p.dataset, p.post_id): p for p in posts}
        by_id = {p.post_id: p for p in posts}
        linked: set[tuple[str, str]] = set()
        for image in images.values():
            for item in image.items:
                missing = [i for i in item.post_ids if (item.dataset, i) not in by_key]
                cached = self.cache.find_posts(item.dataset, missing) if missing else {}
                for post_id in item.post_ids:
                    post = by_key.get((item.dataset, post_id)) or cached.get(post_id)
                    if post is None and post_id in by_id:  # table under another dataset name
                        post = Post.from_payload(
                            by_id[post_id].to_payload() | {"dataset": item.dataset}
                        )
                        linked.add((by_id[post_id].dataset, post_id))
                    image.posts.append(post or Post(item.dataset, post_id))
                    if (item.dataset, post_id) in by_key:
                        linked.add((item.dataset, post_id))
        return linked

    def _merge_known(self, images: dict[str, _Image]) -> set[str]:
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
            self.store.images.set_payloads(updates)
        return known

    def _embed_new(self, fresh: list[_Image], report: IndexReport) -> int:
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
            self.store.images.upsert(points)
            written += len(points)
            self.progress("embed", written + failed, len(fresh))
            if self.on_new and points:
                self.on_new([p.id for p in points])
        return written

    def _link_stored_posts(self, posts: Iterable[Post], linked: set) -> set:
        """Posts of a table whose images were indexed earlier (a table after its archive)."""
        pending: dict[str, Post] = {}
        for post in posts:
            if (post.dataset, post.post_id) not in linked:
                pending[post.post_id] = post
        newly: set[tuple[str, str]] = set()
        ids = list(pending)
        for start in range(0, len(ids), RETRIEVE_CHUNK):
            chunk = tuple(ids[start : start + RETRIEVE_CHUNK])
            flt = Filter(must=(MatchAny("posts[].post_id", chunk),))
            updates = []
            fields = ["posts", "files", "first_seen", "missing"]
            for record in self.store.images.scroll(flt, with_payload=fields):
                matches = [
                    Post.from_payload(
                        pending[p["post_id"]].to_payload() | {"dataset": p["dataset"]}
                    )
                    for p in record.payload.get("posts", [])
                    if p["post_id"] in pending
                ]
                newly.update((pending[m.post_id].dataset, m.post_id) for m in matches)
                if self.shard and not self.shard.owns(record.id):
                    continue  # counted as linked; its owner writes it
                update = merged_payload(record.payload, [], matches)
                if update is not None:
                    updates.append((record.id, update))
            self.store.images.set_payloads(updates)
        return newly

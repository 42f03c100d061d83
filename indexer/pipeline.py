"""The indexing pipeline: hash -> skip known -> decode + embed -> thumbnail -> upsert.

Writes go out batch by batch, so a killed run loses at most the batch in flight; a re-run finds
the written images by content hash and only merges their posts, so nothing is duplicated.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from indexer.cache import IndexCache
from indexer.media import is_video_frame
from indexer.payloads import image_id, merged_payload, new_payload, relabeled
from indexer.reader import read_item
from indexer.records import Failure, MediaItem, Post
from indexer.shard import Shard
from picsift.models.decode import READ_ERRORS, Unreadable
from picsift.store import Filter, ImageStore, Match, MatchAny, PointData
from picsift.thumbs import THUMB_SIDE, write_thumb

if TYPE_CHECKING:
    from picsift.models.protocols import Encoder

RETRIEVE_CHUNK = 256
_FOURCAT_KEY = re.compile(r"[0-9a-f]{32}")
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

    def run(self, media: Sequence[MediaItem], posts: Sequence[Post]) -> IndexReport:
        """Index `media`, linking them to `posts` (and to posts cached from earlier tables)."""
        report = IndexReport(found=len(media))
        self.store.ensure(self.encoder.model_id, self.encoder.dim)
        posts = self._resolve_tables(media, posts, report)
        self.cache.remember_posts(posts)
        media = self._follow_derived(media, posts, report)
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

    def _resolve_tables(
        self, media: Sequence[MediaItem], posts: Sequence[Post], report: IndexReport
    ) -> list[Post]:
        """Name the dataset of each table given without its media: a table stem joined before
        keeps its dataset; a name the store does not know joins the one dataset without a
        table of its own that holds most (at least half) of its post ids, in this run's media
        or the stored images."""
        run_datasets = {item.dataset for item in media}
        ids_by_name: dict[str, set[str]] = {}
        for post in posts:
            if post.dataset not in run_datasets:
                ids_by_name.setdefault(post.dataset, set()).add(post.post_id)
        target: dict[str, str] = {}
        for name, ids in ids_by_name.items():
            dataset = self.cache.alias(name) or self._key_in_name(name, run_datasets)
            if dataset is None and not self._stored_dataset(name):
                counts = self._stored_holders(ids)
                for item in media:
                    for post_id in ids.intersection(item.post_ids):
                        counts.setdefault(item.dataset, set()).add(post_id)
                sizes = {d: len(s) for d, s in counts.items()}
                dataset = self._claim(name, len(ids), sizes, report)
            if dataset is not None and dataset != name:
                self.cache.bind(name, dataset)
                target[name] = dataset
        return [
            Post.from_payload(p.to_payload() | {"dataset": target[p.dataset]})
            if p.dataset in target
            else p
            for p in posts
        ]

    def _key_in_name(self, name: str, run_datasets: set[str]) -> str | None:
        """The 4CAT dataset key a table's file is named with (`<query>-<key>.csv`), when this
        run's media or the store have that dataset."""
        key = name.rsplit("-", 1)[-1]
        if name == key or not _FOURCAT_KEY.fullmatch(key):
            return None
        return key if key in run_datasets or self._stored_dataset(key) else None

    def _follow_derived(
        self, media: Sequence[MediaItem], posts: Sequence[Post], report: IndexReport
    ) -> list[MediaItem]:
        """Video frames of a dataset without a table of its own, all of whose post ids are posts
        of one dataset with a table, were made from that dataset: 4CAT's "Download TikTok
        videos" downloads from a hidden step, so its videos and their frames name the step's
        key. Such images join that dataset, in this run and in the store, and the step's key
        stays an alias so later archives of it join too. Only frames: two scrapes' image
        archives may share posts and stay two datasets."""
        tabled = {p.dataset for p in posts}
        candidates: dict[str, set[str]] = {}
        not_frames: set[str] = set()
        for item in media:
            if item.dataset not in tabled:
                candidates.setdefault(item.dataset, set()).update(item.post_ids)
                if not is_video_frame(item.member or item.path.as_posix()):
                    not_frames.add(item.dataset)
        if posts:
            for name in self._stored_holders({p.post_id for p in posts}):
                if name not in tabled and name not in candidates:
                    ids, frames = self._stored_frames(name)
                    candidates[name] = ids
                    if not frames:
                        not_frames.add(name)
        established = tabled | {item.dataset for item in media}
        targets: dict[str, str] = {}
        for name, ids in candidates.items():
            if self.cache.size(name) or name in not_frames or not ids:
                continue
            target = self.cache.alias(name) or self._leader(name, ids, established, report)
            if target is not None and target != name:
                targets[name] = target
        for name, target in targets.items():
            self.cache.bind(name, target)
            self._relabel_stored(name, target)
        return [
            replace(m, dataset=targets[m.dataset]) if m.dataset in targets else m for m in media
        ]

    def _leader(
        self, name: str, ids: set[str], established: set[str], report: IndexReport
    ) -> str | None:
        """The one dataset with a table (in this run, or stored) holding all of `ids`."""
        counts = {
            other: n
            for other, n in self.cache.holders(ids).items()
            if other != name and (other in established or self._stored_dataset(other))
        }
        best = self._best(counts, report, f"dataset {name!r}: tables")
        if best is None or counts[best] < len(ids):
            return None
        report.warnings.append(
            f"dataset {name!r}: its video frames are of {len(ids):,} posts of dataset {best!r}, "
            f'which has their table: they join {best!r} (4CAT made them from it; "Download '
            'TikTok videos" names the key of a hidden step)'
        )
        return best

    def _stored_frames(self, dataset: str) -> tuple[set[str], bool]:
        """The post ids of a stored dataset's images, and whether all its files are frames."""
        ids: set[str] = set()
        frames = True
        flt = Filter(must=(Match("datasets", dataset),))
        for record in self.store.images.scroll(flt, with_payload=["posts", "files"]):
            ids.update(p["post_id"] for p in record.payload["posts"] if p["dataset"] == dataset)
            frames &= all(
                is_video_frame(f["member"] or f["path"])
                for f in record.payload["files"]
                if f["dataset"] == dataset
            )
        return ids, frames

    def _relabel_stored(self, name: str, dataset: str) -> None:
        """Stored images of dataset `name`: their posts and files move to `dataset`."""
        flt = Filter(must=(Match("datasets", name),))
        fields = ["posts", "files", "first_seen"]
        updates = [
            (record.id, relabeled(record.payload, name, dataset))
            for record in self.store.images.scroll(flt, with_payload=fields)
        ]
        self.store.images.set_payloads(updates)

    def _stored_dataset(self, name: str) -> bool:
        return self.store.images.count(Filter(must=(Match("datasets", name),))) > 0

    def _stored_holders(self, post_ids: set[str]) -> dict[str, set[str]]:
        """Per stored dataset, which of `post_ids` its images' posts hold."""
        holders: dict[str, set[str]] = {}
        ids = sorted(post_ids)
        for start in range(0, len(ids), RETRIEVE_CHUNK):
            flt = Filter(
                must=(MatchAny("posts[].post_id", tuple(ids[start : start + RETRIEVE_CHUNK])),)
            )
            for record in self.store.images.scroll(flt, with_payload=["posts"]):
                for p in record.payload.get("posts", []):
                    if p["post_id"] in post_ids:
                        holders.setdefault(p["dataset"], set()).add(p["post_id"])
        return holders

    def _claim(
        self, name: str, n_posts: int, counts: dict[str, int], report: IndexReport
    ) -> str | None:
        """The dataset that table `name` joins, from how many of its posts each holds."""
        tabled = sorted(d for d in counts if self.cache.size(d))
        free = {d: n for d, n in counts.items() if d not in tabled}
        best = self._best(free, report, f"table {name!r}: datasets")
        if best is not None and 2 * free[best] >= n_posts:
            return best
        if tabled and not free:
            report.warnings.append(
                f"table {name!r}: its posts are in dataset(s) {', '.join(map(repr, tabled))}, "
                "which have a table already; not joined: to update one, index the table "
                "again with --dataset NAME"
            )
        return None

    @staticmethod
    def _best(counts: dict[str, int], report: IndexReport, what: str) -> str | None:
        """The name with the highest count; None on a tie (with a warning about `what`)."""
        if not counts:
            return None
        most = max(counts.values())
        best = sorted(d for d, n in counts.items() if n == most)
        if len(best) > 1:
            report.warnings.append(
                f"{what}: {', '.join(map(repr, best))} hold as many of its post ids; not joined "
                "to any: index the table again with --dataset NAME"
            )
            return None
        return best[0]

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
            for post_id, post in self._cached(dataset, ids, report).items():
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

    def _cached(self, dataset: str, ids: set[str], report: IndexReport) -> dict[str, Post]:
        """Cached posts of `dataset`. A dataset without a table of its own joins the table
        indexed alone under its file stem (a name the store does not know) that holds most of
        its post ids, when at least half of that table's posts are among them."""
        found = self.cache.find_posts(dataset, ids) if ids else {}
        rest = ids - found.keys()
        if rest and not self.cache.size(dataset):
            counts = {
                name: n
                for name, n in self.cache.holders(rest).items()
                if name != dataset
                and not self._stored_dataset(name)
                and 2 * n >= self.cache.size(name)
            }
            name = self._best(counts, report, f"dataset {dataset!r}: tables")
            if name is not None:
                self.cache.bind(name, dataset)
                found |= self.cache.find_posts(dataset, rest)
        return found

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

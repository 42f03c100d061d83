"""Which dataset a run's tables and media belong to.

A table given alone is named after its file (the 4CAT key in it, if any); a 4CAT archive after
its `from_dataset` key. This joins them: a table to the dataset its file name's key or its post
ids point at, a dataset without a table to the table indexed alone that holds its posts, and the
videos and frames of 4CAT's "Download TikTok videos" (named after a hidden step) to the dataset
holding their posts. Each decision that cannot be made is a warning naming what to pass
(`--dataset NAME`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from indexer.cache import IndexCache
from indexer.media import is_video_frame
from indexer.metadata import is_dataset_key, key_in_name
from indexer.payloads import relabeled
from indexer.records import MediaItem, Post
from picsift.store import Filter, ImageStore, Match, MatchAny

RETRIEVE_CHUNK = 256  # ids per store filter


def _of_a_video(item: MediaItem) -> bool:
    """A video file, or a frame file 4CAT's frame processors extracted from one."""
    return item.kind == "video" or is_video_frame(item.member or item.path.as_posix())


class DatasetResolver:
    """Dataset decisions against the store and the posts cache; warnings go to the list given."""

    def __init__(self, store: ImageStore, cache: IndexCache):
        self.store = store
        self.cache = cache

    def tables(
        self, media: Sequence[MediaItem], posts: Sequence[Post], warnings: list[str]
    ) -> list[Post]:
        """Name the dataset of each table given without its media: a table stem joined before
        keeps its dataset; a name the store does not know joins the one dataset without a
        table of its own that holds most (at least half) of its post ids, in this run's media
        or the stored images; otherwise a name with a 4CAT key (`<query>-<key>`) is that key."""
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
                dataset = self._claim(name, len(ids), sizes, warnings)
                key = key_in_name(name)
                if key and (dataset is None or self._videos_only(dataset, media)):
                    # A table 4CAT named is that dataset, also when its posts' only media
                    # are videos or frames of a hidden step: `derived` joins those to it.
                    dataset = key
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
        key = key_in_name(name)
        return key if key and (key in run_datasets or self._stored_dataset(key)) else None

    def _videos_only(self, dataset: str, media: Sequence[MediaItem]) -> bool:
        """Whether all of a dataset's media, in this run or stored, are videos or frames."""
        run = [item for item in media if item.dataset == dataset]
        if run:
            return all(map(_of_a_video, run))
        return self._stored_frames(dataset)[1]

    def derived(
        self, media: Sequence[MediaItem], posts: Sequence[Post], warnings: list[str]
    ) -> list[MediaItem]:
        """Videos and video frames of a dataset without a table of its own, all of whose post
        ids are posts of one dataset with a table, were made from that dataset: 4CAT's
        "Download TikTok videos" downloads from a hidden step, so its videos and their frames
        name the step's key. Such media join that dataset, in this run and in the store, and
        the step's key stays an alias so later archives of it join too. Only videos and
        frames: two scrapes' image archives may share posts and stay two datasets."""
        tabled = {p.dataset for p in posts}
        candidates: dict[str, set[str]] = {}
        not_frames: set[str] = set()
        for item in media:
            if item.dataset not in tabled:
                candidates.setdefault(item.dataset, set()).update(item.post_ids)
                if not _of_a_video(item):
                    not_frames.add(item.dataset)
        # Stored datasets without a table: the frames indexed before this table. Most stores
        # have none, and then the table's post ids are not looked up at all.
        untabled = {
            name
            for name in (self.store.images.facet("datasets", limit=100_000) if posts else ())
            if name not in tabled and name not in candidates and not self.cache.size(name)
        }
        if untabled:
            for name in untabled.intersection(self._stored_holders({p.post_id for p in posts})):
                ids, frames = self._stored_frames(name)
                candidates[name] = ids
                if not frames:
                    not_frames.add(name)
        established = tabled | {item.dataset for item in media}
        targets: dict[str, str] = {}
        for name, ids in candidates.items():
            if self.cache.size(name) or name in not_frames or not ids:
                continue
            target = self.cache.alias(name) or self._leader(name, ids, established, warnings)
            if target is not None and target != name:
                targets[name] = target
        for name, target in targets.items():
            self.cache.bind(name, target)
            self._relabel_stored(name, target)
        return [
            replace(m, dataset=targets[m.dataset]) if m.dataset in targets else m for m in media
        ]

    def _leader(
        self, name: str, ids: set[str], established: set[str], warnings: list[str]
    ) -> str | None:
        """The one dataset with a table (in this run, or stored) holding all of `ids`."""
        counts = {
            other: n
            for other, n in self.cache.holders(ids).items()
            if other != name
            and (other in established or is_dataset_key(other) or self._stored_dataset(other))
        }
        best = self._best(counts, warnings, f"dataset {name!r}: tables")
        if best is None or counts[best] < len(ids):
            return None
        warnings.append(
            f"dataset {name!r}: its video frames are of {len(ids):,} posts of dataset {best!r}, "
            f'which has their table: they join {best!r} (4CAT made them from it; "Download '
            'TikTok videos" names the key of a hidden step)'
        )
        return best

    def _stored_frames(self, dataset: str) -> tuple[set[str], bool]:
        """The post ids of a stored dataset's points, and whether all are videos' frames
        (cut by picsift or extracted by 4CAT)."""
        ids: set[str] = set()
        frames = True
        flt = Filter(must=(Match("datasets", dataset),))
        fields = ["posts", "files", "video_sha256"]
        for record in self.store.images.scroll(flt, with_payload=fields):
            ids.update(p["post_id"] for p in record.payload["posts"] if p["dataset"] == dataset)
            frames &= "video_sha256" in record.payload or all(
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
        self, name: str, n_posts: int, counts: dict[str, int], warnings: list[str]
    ) -> str | None:
        """The dataset that table `name` joins, from how many of its posts each holds."""
        tabled = sorted(d for d in counts if self.cache.size(d))
        free = {d: n for d, n in counts.items() if d not in tabled}
        best = self._best(free, warnings, f"table {name!r}: datasets")
        if best is not None and 2 * free[best] >= n_posts:
            return best
        if tabled and not free:
            warnings.append(
                f"table {name!r}: its posts are in dataset(s) {', '.join(map(repr, tabled))}, "
                "which have a table already; not joined: to update one, index the table "
                "again with --dataset NAME"
            )
        return None

    @staticmethod
    def _best(counts: dict[str, int], warnings: list[str], what: str) -> str | None:
        """The name with the highest count; None on a tie (with a warning about `what`)."""
        if not counts:
            return None
        most = max(counts.values())
        best = sorted(d for d, n in counts.items() if n == most)
        if len(best) > 1:
            warnings.append(
                f"{what}: {', '.join(map(repr, best))} hold as many of its post ids; not joined "
                "to any: index the table again with --dataset NAME"
            )
            return None
        return best[0]

    def cached_posts(self, dataset: str, ids: set[str], warnings: list[str]) -> dict[str, Post]:
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
            name = self._best(counts, warnings, f"dataset {dataset!r}: tables")
            if name is not None:
                self.cache.bind(name, dataset)
                found |= self.cache.find_posts(dataset, rest)
        return found

"""Taking a dataset out (takedowns, ethics review): its posts and file records go; images
left with no post and no file of another dataset are deleted, with their thumbnails, and the
variant groups they were in are counted again."""

from __future__ import annotations

from pathlib import Path

from indexer.cache import IndexCache
from indexer.payloads import derived
from indexer.variants import recount
from picsift.store import Filter, ImageStore, Match
from picsift.thumbs import THUMB_FIELDS, thumb_key, thumb_path


def remove_dataset(
    store: ImageStore, cache: IndexCache, data_dir: Path, dataset: str
) -> tuple[int, int]:
    """Remove `dataset` everywhere. Returns (images kept with fewer posts, images deleted)."""
    flt = Filter(must=(Match("datasets", dataset),))
    fields = [*THUMB_FIELDS, "posts", "files", "first_seen", "variant"]
    records = list(store.images.scroll(flt, with_payload=fields))
    updates, doomed = [], []
    for record in records:
        posts = [p for p in record.payload.get("posts", []) if p["dataset"] != dataset]
        files = [f for f in record.payload.get("files", []) if f["dataset"] != dataset]
        if posts or files:
            first_seen = int(record.payload.get("first_seen") or 0)
            updates.append(
                (record.id, {"posts": posts, "files": files, **derived(posts, files, first_seen)})
            )
        else:
            doomed.append(record)
    store.images.set_payloads(updates)
    store.images.delete([r.id for r in doomed])
    recount(store, {r.payload["variant"] for r in doomed if r.payload.get("variant")})
    for record in doomed:
        if key := thumb_key(record.payload):
            thumb_path(data_dir, key).unlink(missing_ok=True)
    cache.forget_dataset(dataset)
    return len(updates), len(doomed)

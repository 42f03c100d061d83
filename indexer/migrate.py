"""Fields a store made by an earlier picsift lacks, computed from what it holds (`picsift store
migrate`)."""

from __future__ import annotations

from picsift.engagement import image_engagement
from picsift.store import Filter, ImageStore, IsEmpty

BATCH = 500


def add_engagement(store: ImageStore) -> int:
    """Store `engagement` and `engagement_posts` (from each image's posts) on the images that
    lack them; returns how many there were. The ids are listed first, so writing never moves
    the pages being read."""
    if not store.exists:
        return 0
    lacking = Filter(must=(IsEmpty("engagement"),))
    ids = [r.id for r in store.images.scroll(lacking, with_payload=False)]
    for start in range(0, len(ids), BATCH):
        records = store.images.retrieve(ids[start : start + BATCH], with_payload=["posts"])
        store.images.set_payloads(
            (r.id, image_engagement(r.payload.get("posts") or [])) for r in records
        )
    if ids:
        store.refresh_index()
    return len(ids)

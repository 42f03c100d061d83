"""Caption enrichment: images without a caption get one, read from their thumbnails (so it
works when the original zip has moved, and never decodes a full-size file again)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from picsift.models.captioner import CAPTION_FAILED
from picsift.progress import Progress
from picsift.store import Filter, ImageStore, IsEmpty
from picsift.thumbs import THUMB_FIELDS, thumb_key, thumb_path

if TYPE_CHECKING:
    from picsift.models.protocols import ImageCaptioner

PAGE = 256


def caption_missing(
    store: ImageStore,
    captioner: ImageCaptioner,
    data_dir: Path,
    *,
    progress: Progress | None = None,
) -> tuple[int, list[tuple[str, str]]]:
    """Caption every image whose caption is empty. An image whose
    thumbnail cannot be read, or that the model fails on, is left without a caption and
    listed with the reason; the others are captioned.

    Returns:
        How many captions were written, and `(image id, reason)` for images that failed.
    """
    flt = Filter(must=(IsEmpty("caption"),))
    total = store.images.count(flt)
    done, failed = 0, []
    pending: list[tuple[str, str]] = []

    def flush() -> None:
        nonlocal done
        captions = captioner.caption_sources(
            pending, read=lambda item: thumb_path(data_dir, item[1])
        )
        updates = []
        try:
            for (point_id, _), caption, error in captions:
                if caption is None:
                    reason = error if error.startswith(CAPTION_FAILED) else f"thumbnail: {error}"
                    failed.append((point_id, reason))
                else:
                    updates.append((point_id, {"caption": caption}))
                done += 1
                if progress:  # after each image: a job lets quick writes in here, or stops
                    progress("caption", done, total)
        finally:  # a job stopped in the middle keeps the captions it made
            store.images.set_payloads(updates)

    # Pages are collected first: writing captions while scrolling a filter on `caption`
    # would shift the pages under the scroll.
    for record in list(store.images.scroll(flt, with_payload=THUMB_FIELDS, page_size=PAGE)):
        pending.append((record.id, thumb_key(record.payload) or ""))
        if len(pending) >= PAGE:
            flush()
            pending = []
    if pending:
        flush()
    return done - len(failed), failed

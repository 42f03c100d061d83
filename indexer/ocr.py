"""OCR enrichment: every image without an `ocr` payload gets one, read from its original file
(checked against its SHA-256) at full size, else from its thumbnail, which says so (`source`).
A video's frames are read from the video (checked against `video_sha256`, decoded once for all
its frames) at full size, else from their thumbnails. Resumable: a run cut short is finished
by the next."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from indexer.pictures import FIELDS, Read, pictures
from indexer.reader import read_item
from picsift.models.ocr import OcrEngine, OcrText
from picsift.progress import Progress
from picsift.store import Filter, ImageStore, IsEmpty

PAGE = 64
OCR_SIDE = 1440  # originals are decoded to about this shorter side (OCR_SIDE >= ocr.MIN_SIDE)


def ocr_payload(read: OcrText, source: str, engine: OcrEngine) -> dict[str, Any]:
    """The `ocr` payload: the text and how it was read."""
    return {
        "text": read.text,
        "language": read.language,
        "confidence": read.confidence,
        "words": len(read.words),
        "source": source,
        "languages": engine.languages,
        "min_confidence": engine.min_confidence,
    }


def ocr_missing(
    store: ImageStore,
    engine: OcrEngine,
    data_dir: Path,
    *,
    read: Read = read_item,
    progress: Progress | None = None,
) -> tuple[int, list[tuple[str, str]]]:
    """Read the text of every image and video frame without an `ocr` payload.

    Returns:
        How many payloads were written, and `(image id, reason)` for images neither whose
        original nor whose thumbnail could be read (left without, tried again next run).
    """
    flt = Filter(must=(IsEmpty("ocr"),))
    # Collected first: writing `ocr` while scrolling a filter on it would shift the pages.
    records = list(store.images.scroll(flt, with_payload=FIELDS, page_size=256))
    done, failed, updates = 0, [], []
    try:
        for seen, (record, (picture, source)) in enumerate(
            pictures(records, data_dir, OCR_SIDE, read), 1
        ):
            if picture is None:
                failed.append((record.id, source))
            else:
                read_now = engine.read(picture)
                updates.append((record.id, {"ocr": ocr_payload(read_now, source, engine)}))
            if len(updates) == PAGE:
                store.images.set_payloads(updates)
                done += len(updates)
                updates = []
            if progress:  # after each image: a job lets quick writes in here, or stops
                progress("ocr", seen, len(records))
    finally:  # a job stopped in the middle keeps what it read
        store.images.set_payloads(updates)
        done += len(updates)
    return done, failed

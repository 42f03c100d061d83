"""OCR enrichment: every image without an `ocr` payload gets one, read from its original file
(checked against its SHA-256) at full size, else from its thumbnail, which says so (`source`).
Video frames are read from their thumbnails (a frame is no file). Resumable: a run cut short
is finished by the next."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PIL import Image

from indexer.payloads import stored_path
from indexer.reader import read_item
from indexer.records import MediaItem
from picsift.models.decode import READ_ERRORS, DecodeError, decode_image
from picsift.models.ocr import OcrEngine, OcrText
from picsift.progress import Progress
from picsift.store import Filter, ImageStore, IsEmpty
from picsift.thumbs import THUMB_FIELDS, thumb_key, thumb_path

PAGE = 64
OCR_SIDE = 1440  # originals are decoded to about this shorter side (OCR_SIDE >= ocr.MIN_SIDE)
FIELDS = [*THUMB_FIELDS, "files", "video_id"]


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
    read: Callable[[MediaItem], bytes] = read_item,
    progress: Progress | None = None,
) -> tuple[int, list[tuple[str, str]]]:
    """Read the text of every image without an `ocr` payload.

    Returns:
        How many payloads were written, and `(image id, reason)` for images neither whose
        original nor whose thumbnail could be read (left without, tried again next run).
    """
    flt = Filter(must=(IsEmpty("ocr"),))
    done, failed = 0, []
    # Collected first: writing `ocr` while scrolling a filter on it would shift the pages.
    records = list(store.images.scroll(flt, with_payload=FIELDS, page_size=256))
    total = len(records)
    for start in range(0, len(records), PAGE):
        updates = []
        for record in records[start : start + PAGE]:
            picture, source = _picture(record.payload, data_dir, read)
            if picture is None:
                failed.append((record.id, source))
                continue
            updates.append((record.id, {"ocr": ocr_payload(engine.read(picture), source, engine)}))
        store.images.set_payloads(updates)
        done += len(updates)
        if progress:
            progress("ocr", min(start + PAGE, total), total)
    return done, failed


def _picture(
    payload: dict[str, Any], data_dir: Path, read: Callable[[MediaItem], bytes]
) -> tuple[Image.Image | None, str]:
    """The picture to read and where it came from ("original", "thumbnail"); None and the
    reason when there is neither."""
    sha = payload.get("sha256") or ""
    if sha and not payload.get("video_id"):
        for entry in payload.get("files") or []:
            item = MediaItem(stored_path(entry), entry.get("member"), 0, 0.0, "")
            try:
                data = read(item)
            except READ_ERRORS:
                continue
            if hashlib.sha256(data).hexdigest() != sha:
                continue  # changed since it was indexed: not the image
            try:
                return decode_image(data, OCR_SIDE)[0], "original"
            except DecodeError:
                continue
    key = thumb_key(payload) or ""
    try:
        with Image.open(thumb_path(data_dir, key)) as thumb:
            return thumb.convert("RGB"), "thumbnail"
    except OSError as exc:
        return None, f"no readable original or thumbnail ({exc})"

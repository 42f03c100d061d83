"""OCR enrichment: every image without an `ocr` payload gets one, read from its original file
(checked against its SHA-256) at full size, else from its thumbnail, which says so (`source`).
A video's frames are read from the video (checked against `video_sha256`, decoded once for all
its frames) at full size, else from their thumbnails. Resumable: a run cut short is finished
by the next."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from itertools import groupby
from pathlib import Path
from typing import Any

from PIL import Image

from indexer.payloads import stored_path
from indexer.reader import read_item
from indexer.records import MediaItem
from indexer.video import VideoError, frames_at, hash_video, open_video
from picsift.models.decode import READ_ERRORS, DecodeError, decode_image
from picsift.models.ocr import OcrEngine, OcrText
from picsift.progress import Progress
from picsift.store import Filter, ImageStore, IsEmpty, Record
from picsift.thumbs import THUMB_FIELDS, thumb_key, thumb_path

PAGE = 64
OCR_SIDE = 1440  # originals are decoded to about this shorter side (OCR_SIDE >= ocr.MIN_SIDE)
FIELDS = [*THUMB_FIELDS, "files", "video_id", "video_sha256", "frame_time"]
Read = Callable[[MediaItem], bytes]
Picture = tuple[Image.Image | None, str]  # the picture and its source, or None and why not


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
    for seen, (record, (picture, source)) in enumerate(_pictures(records, data_dir, read), 1):
        if picture is None:
            failed.append((record.id, source))
        else:
            updates.append((record.id, {"ocr": ocr_payload(engine.read(picture), source, engine)}))
        if len(updates) == PAGE or seen == len(records):
            store.images.set_payloads(updates)
            done += len(updates)
            updates = []
            if progress:
                progress("ocr", seen, len(records))
    return done, failed


def _pictures(
    records: list[Record], data_dir: Path, read: Read
) -> Iterator[tuple[Record, Picture]]:
    """Each record's picture, one at a time (a video's frames from one pass over it)."""
    images = [r for r in records if not r.payload.get("video_sha256")]
    frames = sorted(
        (r for r in records if r.payload.get("video_sha256")),
        key=lambda r: (r.payload["video_sha256"], float(r.payload.get("frame_time") or 0.0)),
    )
    for record in images:
        yield record, _image(record.payload, data_dir, read)
    for _, group in groupby(frames, key=lambda r: r.payload["video_sha256"]):
        yield from _video_frames(list(group), data_dir)


def _image(payload: dict[str, Any], data_dir: Path, read: Read) -> Picture:
    sha = payload.get("sha256") or ""
    for item in _items(payload) if sha else []:
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
    return _thumbnail(payload, data_dir)


def _video_frames(frames: list[Record], data_dir: Path) -> Iterator[tuple[Record, Picture]]:
    """The frames of one video (in time order) from the first of its files that still hashes
    to `video_sha256`; what it cannot give, from the thumbnails."""
    sha = frames[0].payload["video_sha256"]
    by_time = {round(float(r.payload.get("frame_time") or 0.0), 3): r for r in frames}
    for item in _items(frames[0].payload):
        try:
            if hash_video(item) != sha:
                continue  # changed since it was indexed: not the video
            with open_video(item) as stream:
                for time, picture in frames_at(stream, list(by_time), OCR_SIDE):
                    yield by_time.pop(time), (picture, "original")
        except (*READ_ERRORS, VideoError):
            continue  # frames it gave are read; the rest from the next file
        if not by_time:
            return
    for record in by_time.values():
        yield record, _thumbnail(record.payload, data_dir)


def _items(payload: dict[str, Any]) -> list[MediaItem]:
    """The files a payload's `files` entries name, as items to read."""
    entries = payload.get("files") or []
    return [MediaItem(stored_path(e), e.get("member"), 0, 0.0, "") for e in entries]


def _thumbnail(payload: dict[str, Any], data_dir: Path) -> Picture:
    try:
        with Image.open(thumb_path(data_dir, thumb_key(payload) or "")) as thumb:
            return thumb.convert("RGB"), "thumbnail"
    except OSError as exc:
        return None, f"no readable original or thumbnail ({exc})"

"""The pictures of stored images, read again from what was indexed: an image from its original
file (checked against its SHA-256), a video frame from its video (checked against
`video_sha256`, decoded once for all its frames), else from its thumbnail, with the source
said (`original`, `thumbnail`). OCR reads them at full size, a re-embed at the embedding's."""

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
from picsift.store import Record
from picsift.thumbs import THUMB_FIELDS, thumb_key, thumb_path

FIELDS = [*THUMB_FIELDS, "files", "video_id", "video_sha256", "frame_time"]  # what they read
Read = Callable[[MediaItem], bytes]
Picture = tuple[Image.Image | None, str]  # the picture and its source, or None and why not


def pictures(
    records: list[Record], data_dir: Path, side: int, read: Read = read_item
) -> Iterator[tuple[Record, Picture]]:
    """Each record's picture, its shorter side brought down to about `side`, one at a time
    (a video's frames from one pass over it)."""
    images = [r for r in records if not r.payload.get("video_sha256")]
    frames = sorted(
        (r for r in records if r.payload.get("video_sha256")),
        key=lambda r: (r.payload["video_sha256"], float(r.payload.get("frame_time") or 0.0)),
    )
    for record in images:
        yield record, _image(record.payload, data_dir, side, read)
    for _, group in groupby(frames, key=lambda r: r.payload["video_sha256"]):
        yield from _video_frames(list(group), data_dir, side)


def _image(payload: dict[str, Any], data_dir: Path, side: int, read: Read) -> Picture:
    data = original_bytes(payload, read)
    if data is not None:
        try:
            return decode_image(data, side)[0], "original"
        except DecodeError:
            pass
    return thumbnail(payload, data_dir)


def original_bytes(payload: dict[str, Any], read: Read = read_item) -> bytes | None:
    """The bytes of the first of an image's files that still hash to its SHA-256 (None: none
    does; the files are gone, unreadable or changed since they were indexed)."""
    sha = payload.get("sha256") or ""
    for item in _items(payload) if sha else []:
        try:
            data = read(item)
        except READ_ERRORS:
            continue
        if hashlib.sha256(data).hexdigest() == sha:
            return data
    return None


def _video_frames(
    frames: list[Record], data_dir: Path, side: int
) -> Iterator[tuple[Record, Picture]]:
    """The frames of one video (in time order) from the first of its files that still hashes
    to `video_sha256`; what it cannot give, from the thumbnails."""
    sha = frames[0].payload["video_sha256"]
    by_time = {round(float(r.payload.get("frame_time") or 0.0), 3): r for r in frames}
    for item in _items(frames[0].payload):
        try:
            if hash_video(item) != sha:
                continue  # changed since it was indexed: not the video
            with open_video(item) as stream:
                for time, picture in frames_at(stream, list(by_time), side):
                    yield by_time.pop(time), (picture, "original")
        except (*READ_ERRORS, VideoError):
            continue  # frames it gave are read; the rest from the next file
        if not by_time:
            return
    for record in by_time.values():
        yield record, thumbnail(record.payload, data_dir)


def _items(payload: dict[str, Any]) -> list[MediaItem]:
    """The files a payload's `files` entries name, as items to read."""
    entries = payload.get("files") or []
    return [MediaItem(stored_path(e), e.get("member"), 0, 0.0, "") for e in entries]


def thumbnail(payload: dict[str, Any], data_dir: Path) -> Picture:
    """The image's thumbnail (about 256 px), or None and why not."""
    try:
        with Image.open(thumb_path(data_dir, thumb_key(payload) or "")) as thumb:
            return thumb.convert("RGB"), "thumbnail"
    except OSError as exc:
        return None, f"no readable original or thumbnail ({exc})"

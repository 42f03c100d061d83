"""Originals and thumbnails of stored images, found only through the image's own payload (no
request names a path), and an original is handed out only while its bytes still hash to the
indexed SHA-256, so a file swapped for a link to another one serves nothing of it (#23). A video
frame is no file: its original is the video, checked against the video's SHA-256 the same way,
and its thumbnail is named by its `frame_key` (`picsift.thumbs.thumb_key`)."""

from __future__ import annotations

import hashlib
import os
import re
import stat
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from indexer.payloads import stored_path
from indexer.video import MAX_VIDEO_BYTES, VideoError, frame_at
from picsift.models.decode import MAX_FILE_BYTES, READ_ERRORS, DecodeError, decode_image
from picsift.store import ImageStore, Record
from picsift.thumbs import THUMB_FIELDS, THUMB_SIDE, thumb_key, thumb_path, write_thumb
from search.service import NotFoundError

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")  # the name goes into a header
CHUNK = 1 << 20
_GONE = (FileNotFoundError, NotADirectoryError, KeyError)  # KeyError: the zip lost the member
SPOOL_BYTES = 16 * 2**20  # a larger original is copied to a temporary file, not held in memory
MEDIA_TYPES = {
    "jpeg": "image/jpeg",
    "mpo": "image/jpeg",
    "png": "image/png",
    "gif": "image/gif",
    "webp": "image/webp",
    "bmp": "image/bmp",
    "tiff": "image/tiff",
    "avif": "image/avif",
}
VIDEO_TYPES = {  # by the file's suffix: a frame's `format` names the codec, not the container
    ".mp4": "video/mp4",
    ".m4v": "video/mp4",
    ".mov": "video/quicktime",
    ".webm": "video/webm",
    ".mkv": "video/x-matroska",
    ".avi": "video/x-msvideo",
    ".3gp": "video/3gpp",
}
ORIGINAL_FIELDS = ["files", "format", "sha256", "video_id", "video_sha256"]  # what `original` reads
# what `thumbnail` reads
THUMB_SOURCE_FIELDS = list(dict.fromkeys([*THUMB_FIELDS, *ORIGINAL_FIELDS, "frame_time"]))


@dataclass
class Original:
    """An original file, checked against the image's SHA-256: its bytes (in memory or spooled
    to disk), their size, the media type and a download name. The caller closes `body`."""

    media_type: str
    name: str
    body: BinaryIO
    size: int


class GoneError(NotFoundError):
    """None of the image's recorded files can be read where it was indexed (moved, deleted)."""


class ChangedError(NotFoundError):
    """A recorded file is there, but its bytes no longer hash to the image's SHA-256: edited,
    replaced, or swapped for a link to some other file, whose bytes must never be served."""


def get_record(store: ImageStore, image_id: str, fields: Any = True) -> Record:
    """A stored image by id.

    Raises:
        NotFoundError: no such image.
    """
    records = store.images.retrieve([image_id], with_payload=fields) if store.exists else []
    if not records:
        raise NotFoundError(f"id: no image {image_id} in the store")
    return records[0]


def file_name(entry: dict[str, Any]) -> str:
    """A file entry's name without the server's folders: `file.jpg` or `archive.zip!member`."""
    name = Path(str(entry.get("path", ""))).name
    return f"{name}!{entry['member']}" if entry.get("member") else name


def original(record: Record) -> Original:
    """The first of the image's recorded files whose bytes still hash to its SHA-256; for a
    video frame, the first of the video's files that still hash to the video's SHA-256.

    The recorded path is only a hint: whatever is there now (a link, an edited file) is read
    while hashing, and only bytes that match the hash taken at indexing are handed out.

    Raises:
        ChangedError: a file is there, but none holds the indexed bytes any more.
        GoneError: none of the files is there any more.
    """
    payload = record.payload
    video = bool(payload.get("video_id"))
    sha = str(payload.get("video_sha256" if video else "sha256", ""))
    limit = MAX_VIDEO_BYTES if video else MAX_FILE_BYTES
    what = f"the video of frame {record.id}" if video else f"the original of image {record.id}"
    changed = False
    for entry in payload.get("files") or []:
        member = entry.get("member")
        name = _UNSAFE.sub("_", Path(member).name if member else stored_path(entry).name)[:100]
        try:
            body, size = _verified(_read(entry), sha, limit)
        except _GONE:
            continue
        except (_Mismatch, *READ_ERRORS):  # there, but not readable as what was indexed
            changed = True
            continue
        return Original(_media_type(payload, name, video), name, body, size)
    if changed:
        raise ChangedError(
            f"id: {what} changed since it was indexed (its bytes no longer match the indexed "
            "SHA-256), so it is not served"
        )
    raise GoneError(f"id: {what} is no longer where it was indexed")


def _media_type(payload: dict[str, Any], name: str, video: bool) -> str:
    """The media type to serve: an image's by its format, a video's by its file's suffix."""
    if video:
        found = VIDEO_TYPES.get(Path(name).suffix.lower())
    else:
        found = MEDIA_TYPES.get(str(payload.get("format", "")).lower())
    return found or "application/octet-stream"


class _Mismatch(Exception):
    """What the path holds now is not the indexed file."""


def _open_regular(path: Path) -> BinaryIO:
    """`path` opened for reading if it is (or links to) a regular file: a FIFO or a device put
    in its place would hang the request or never end, so it counts as a changed file."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise _Mismatch
    return os.fdopen(fd, "rb")


@contextmanager
def _read(entry: dict[str, Any]) -> Iterator[BinaryIO]:
    """The bytes a `files` entry names: the file, or the member of the zip.

    Raises:
        _Mismatch: not a regular file, or no longer a zip.
        OSError, KeyError: gone, or the zip no longer holds the member.
    """
    with _open_regular(stored_path(entry)) as file:
        member = entry.get("member")
        if member is None:
            yield file
            return
        try:
            archive = zipfile.ZipFile(file)
        except zipfile.BadZipFile:
            raise _Mismatch from None
        with archive, archive.open(member) as stream:
            yield stream


def _verified(
    source: AbstractContextManager[BinaryIO], sha: str, limit: int
) -> tuple[BinaryIO, int]:
    """The source's bytes, copied while hashing, once they are known to hash to `sha`.

    A copy is served, never the path: the file cannot be swapped between check and send.

    Raises:
        _Mismatch: other bytes, or more than `limit` (what any indexed file of its kind can
            hold).
    """
    digest = hashlib.sha256()
    size = 0
    with ExitStack() as cleanup:
        copy = cleanup.enter_context(tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES))
        with source as stream:
            while chunk := stream.read(CHUNK):
                size += len(chunk)
                if size > limit:
                    raise _Mismatch
                digest.update(chunk)
                copy.write(chunk)
        if not _SHA256.match(sha) or digest.hexdigest() != sha:
            raise _Mismatch
        cleanup.pop_all()  # verified: the caller now owns the copy
    copy.seek(0)
    return copy, size


def thumbnail(record: Record, data_dir: Path) -> Path:
    """The cached thumbnail, made again from the original when it is missing: an image's from
    its file, a video frame's from its video (decoded up to the frame's time).

    Raises:
        NotFoundError: no thumbnail and no readable original.
    """
    key = thumb_key(record.payload) or ""
    if not _SHA256.match(key):
        raise NotFoundError(f"id: image {record.id} has no thumbnail")
    path = thumb_path(data_dir, key)
    if path.is_file():
        return path
    frame = record.payload.get("video_id") is not None
    what = f"video frame {record.id}" if frame else f"image {record.id}"
    try:
        source = original(record)
    except NotFoundError as exc:
        raise NotFoundError(f"id: {what} has no thumbnail, and {_reason(exc)}") from None
    try:
        with source.body:
            if frame:
                image = frame_at(source.body, float(record.payload.get("frame_time") or 0.0))
            else:
                image = decode_image(source.body.read(), THUMB_SIDE)[0]
    except (DecodeError, VideoError) as exc:
        raise NotFoundError(f"id: {what} cannot be decoded any more ({exc})") from None
    return write_thumb(data_dir, key, image)


def _reason(exc: Exception) -> str:
    return str(exc).removeprefix("id: ")

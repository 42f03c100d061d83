"""Originals and thumbnails of stored images, found only through the image's own payload (no
request names a path), so nothing outside the indexed files can be read."""

from __future__ import annotations

import os
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from picsift.models.decode import DecodeError, decode_image
from picsift.store import ImageStore, Record
from picsift.thumbs import THUMB_SIDE, thumb_path, write_thumb
from search.service import NotFoundError

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")  # the name goes into a header
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


@dataclass
class Original:
    """An original file: its bytes or its path, media type and a download name."""

    media_type: str
    name: str
    path: Path | None = None
    data: bytes | None = None


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


def stored_path(entry: dict[str, Any]) -> Path:
    """The file a `files` entry names: from its bytes when the name is not UTF-8 (`path`
    then holds a printable form with `\\xNN` escapes)."""
    if entry.get("path_hex"):
        return Path(os.fsdecode(bytes.fromhex(entry["path_hex"])))
    return Path(str(entry.get("path", "")))


def original(record: Record) -> Original:
    """The first of the image's recorded files that can still be read.

    Raises:
        NotFoundError: none of them is there any more.
    """
    media_type = MEDIA_TYPES.get(str(record.payload.get("format", "")).lower(), "")
    for entry in record.payload.get("files") or []:
        path = stored_path(entry)
        member = entry.get("member")
        name = _UNSAFE.sub("_", Path(member).name if member else path.name)[:100]
        try:
            if member is None:
                if path.is_file():
                    return Original(media_type or "application/octet-stream", name, path=path)
                continue
            with zipfile.ZipFile(path) as archive:
                data = archive.read(member)
            return Original(media_type or "application/octet-stream", name, data=data)
        except (OSError, KeyError, zipfile.BadZipFile, ValueError):
            continue
    raise NotFoundError(
        f"id: the original of image {record.id} is no longer where it was indexed "
        "(its thumbnail still is)"
    )


def thumbnail(record: Record, data_dir: Path) -> Path:
    """The cached thumbnail, made from the original when it is missing.

    Raises:
        NotFoundError: no thumbnail and no readable original.
    """
    sha = str(record.payload.get("sha256", ""))
    if not _SHA256.match(sha):
        raise NotFoundError(f"id: image {record.id} has no thumbnail")
    path = thumb_path(data_dir, sha)
    if path.is_file():
        return path
    source = original(record)
    try:
        image = decode_image(source.data if source.data is not None else source.path, THUMB_SIDE)
    except DecodeError as exc:
        raise NotFoundError(f"id: image {record.id} cannot be decoded any more ({exc})") from None
    return write_thumb(data_dir, sha, image[0])

"""Stored images: metadata with every post, the original, the thumbnail, similar images."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Annotated, Any, BinaryIO

from fastapi import APIRouter, Depends, Header, Path
from fastapi.responses import FileResponse, Response, StreamingResponse

from picsift.errors import InputError
from search.deps import ReadAccess, Search, State
from search.errors import documented, error_response
from search.media import (
    CHUNK,
    ORIGINAL_FIELDS,
    THUMB_SOURCE_FIELDS,
    ChangedError,
    GoneError,
    file_name,
    get_record,
    original,
    thumbnail,
)
from search.posts import POSTS_IN_HIT, detail
from search.routes.search import page
from search.schemas import ErrorOut, ImageOut, SearchOut
from search.videos import video_detail

router = APIRouter(
    prefix="/api/images", tags=["images"], dependencies=[ReadAccess], responses=documented(404)
)
THUMB_CACHE = "public, max-age=31536000, immutable"  # thumbnails are named by content hash


_RANGE = re.compile(r"bytes=(\d*)-(\d*)")
_UUID = {"pattern": r"^[0-9a-fA-F]{8}-?([0-9a-fA-F]{4}-?){3}[0-9a-fA-F]{12}$"}


def image_id(image_id: Annotated[str, Path(max_length=64, json_schema_extra=_UUID)]) -> str:
    """The path's image id, checked to be a UUID (ids never reach the file system)."""
    try:
        return str(uuid.UUID(image_id))
    except ValueError:
        raise InputError(f"id: {image_id[:64]!r} is not an image id (a UUID)") from None


ImageId = Annotated[str, Depends(image_id)]


@router.get("/{image_id}", response_model=ImageOut)
def image(state: State, image_id: ImageId) -> dict[str, Any]:
    """An image's metadata with its first posts (`n_posts` counts them all; the rest page from
    `/api/images/{id}/posts`); for a video frame, its video with every kept frame."""
    record = get_record(state.store, image_id)
    p = record.payload
    posts = p.get("posts") or []
    topic = p.get("topic")
    labels = state.service.topic_labels()
    return {
        "id": record.id,
        "sha256": p.get("sha256", ""),
        "width": p.get("width"),
        "height": p.get("height"),
        "format": p.get("format"),
        "caption": p.get("caption"),
        "ocr": p.get("ocr"),
        "tags": p.get("tags") or [],
        "topic": topic,
        "topic_label": labels.get(topic) if topic is not None else None,
        "topic_score": p.get("topic_score"),
        "topic_by": p.get("topic_by"),
        "topic_run": p.get("topic_run"),
        "xy": p.get("xy"),
        "n_posts": len(posts),
        "first_seen": p.get("first_seen"),
        "indexed_at": p.get("indexed_at"),
        "missing": bool(p.get("missing")),
        "datasets": p.get("datasets") or [],
        "posts": [detail(post) for post in posts[:POSTS_IN_HIT]],
        "files": [
            {"dataset": f.get("dataset"), "name": file_name(f)} for f in p.get("files") or []
        ],
        "thumb_url": f"/api/images/{record.id}/thumb",
        "file_url": f"/api/images/{record.id}/file",
        "similar_url": f"/api/images/{record.id}/similar",
        "video": video_detail(state.store, p),
        "variant": p.get("variant"),
        "variant_size": p.get("variant_size"),
    }


@router.get(
    "/{image_id}/file",
    response_class=Response,
    responses={
        409: {"model": ErrorOut, "description": "The file changed since it was indexed"},
        410: {"model": ErrorOut, "description": "The file is no longer where it was indexed"},
        206: {"description": "The byte range asked for (`Range: bytes=START-END`)"},
        416: {"model": ErrorOut, "description": "The range is past the end of the file"},
    },
)
def image_file(
    state: State, image_id: ImageId, range_: Annotated[str | None, Header(alias="range")] = None
) -> Response:
    """The original file, from where it was indexed, only while its bytes still hash to the
    image's SHA-256 (409 when they do not, 410 when it is gone; the thumbnail still works).
    For a video frame: the video file, checked against the video's SHA-256.

    One byte range (`Range: bytes=START-END`, as a browser asks to seek in a video) is answered
    206 with that part, each time from bytes hashed again; a range past the end is 416, several
    ranges get the whole file."""
    record = get_record(state.store, image_id, ORIGINAL_FIELDS)
    thumb = f"its thumbnail is still at /api/images/{record.id}/thumb"
    try:
        found = original(record)
    except ChangedError as exc:
        return error_response(409, "file_changed", f"{exc}; {thumb}")
    except GoneError as exc:
        return error_response(410, "file_gone", f"{exc} (moved or deleted); {thumb}")
    headers = {"Content-Disposition": f'inline; filename="{found.name}"', "Accept-Ranges": "bytes"}
    part = _byte_range(range_, found.size)
    if part is None:
        found.body.close()
        headers["Content-Range"] = f"bytes */{found.size}"
        return error_response(
            416, "range_not_satisfiable", f"range: {range_!r} is past the {found.size:,} bytes "
            "of the file", headers=headers,
        )  # fmt: skip
    start, end = part
    headers["Content-Length"] = str(end - start)
    status = 200
    if (start, end) != (0, found.size):
        status = 206
        headers["Content-Range"] = f"bytes {start}-{end - 1}/{found.size}"
    found.body.seek(start)
    return StreamingResponse(
        _chunks(found.body, end - start),
        status_code=status,
        media_type=found.media_type,
        headers=headers,
    )


def _byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The bytes [start, end) one `Range` header asks for: the whole file when there is none,
    or it is not one byte range (RFC 9110 lets a server ignore it); None when it is past the
    end."""
    match = _RANGE.fullmatch(header.strip()) if header else None
    first, last = match.groups() if match else ("", "")
    if not (first or last):
        return 0, size
    if not first:  # the last N bytes
        return (max(size - int(last), 0), size) if int(last) and size else None
    start = int(first)
    end = min(int(last) + 1, size) if last else size
    if last and int(last) < start:
        return 0, size  # not a valid range: ignored
    return (start, end) if start < size else None


def _chunks(body: BinaryIO, length: int) -> Iterator[bytes]:
    with body:
        while length > 0 and (chunk := body.read(min(CHUNK, length))):
            length -= len(chunk)
            yield chunk


@router.get("/{image_id}/thumb", response_class=FileResponse)
def image_thumb(state: State, image_id: ImageId) -> FileResponse:
    """The cached thumbnail (JPEG, shorter side 256 px), of an image or a video frame."""
    record = get_record(state.store, image_id, THUMB_SOURCE_FIELDS)
    path = thumbnail(record, state.settings.data_dir)
    return FileResponse(path, media_type="image/jpeg", headers={"Cache-Control": THUMB_CACHE})


@router.get("/{image_id}/similar", response_model=SearchOut)
def similar(state: State, image_id: ImageId, request: Search) -> dict[str, Any]:
    """Images like this one (itself left out), optionally mixed with text terms, filtered."""
    return page(state.service.similar(image_id, request), request)

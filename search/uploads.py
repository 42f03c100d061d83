"""Untrusted input that reaches the disk or the decoder: request size limits, uploaded images
and zips, and server-side paths for index jobs."""

from __future__ import annotations

import io
import json
import re
import shutil
import uuid
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from PIL import Image, UnidentifiedImageError

from picsift.errors import InputError
from picsift.models.decode import DecodeError, decode_image
from picsift.thumbs import THUMB_SIDE

CHUNK = 1 << 20
FORM_OVERHEAD = 64 * 1024  # multipart boundaries and small fields around a file


class TooLargeError(InputError):
    """An upload or request body over its size or pixel limit (HTTP 413)."""


class ForbiddenError(InputError):
    """A request for something this server does not allow (HTTP 403)."""


@dataclass(frozen=True)
class Limits:
    """Size limits of untrusted input, and the folders index jobs may read."""

    image_bytes: int = 20 * 2**20
    image_pixels: int = 50_000_000
    zip_bytes: int = 4 * 2**30
    zip_member_bytes: int = 512 * 2**20
    zip_members: int = 1_000_000
    body_bytes: int = 2**20
    index_roots: tuple[Path, ...] = field(default_factory=lambda: (Path.cwd(),))

    def for_request(self, method: str, path: str) -> int:
        """The largest body a request to `path` may send."""
        if method == "POST" and path == "/api/search/image":
            return self.image_bytes + FORM_OVERHEAD
        if method == "POST" and path == "/api/jobs/index":
            return self.zip_bytes + FORM_OVERHEAD
        return self.body_bytes


class BodyLimit:
    """ASGI middleware: a body over the route's limit gets 413 before it is all read (at
    once when Content-Length says so, else as soon as the count passes the limit)."""

    def __init__(self, app: Any, limits: Limits):
        self.app = app
        self.limits = limits

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limits.for_request(scope["method"], scope["path"])
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await _too_large(send, limit)
            return
        state = {"received": 0, "over": False, "started": False}

        async def counted_receive() -> dict:
            message = await receive()
            if message["type"] == "http.request":
                state["received"] += len(message.get("body", b""))
                if state["received"] > limit:
                    state["over"] = True
                    raise TooLargeError(f"body: over the {limit:,} byte limit")
            return message

        async def guarded_send(message: dict) -> None:
            # Once the limit is passed, whatever the app answers is replaced by the 413.
            if state["over"]:
                return
            state["started"] = True
            await send(message)

        try:
            await self.app(scope, counted_receive, guarded_send)
        except TooLargeError:
            state["over"] = True
        if state["over"] and not state["started"]:
            await _too_large(send, limit)


async def _too_large(send: Any, limit: int) -> None:
    body = json.dumps(
        {
            "error": "too_large",
            "parameter": "body",
            "message": f"body: the request is over the {limit:,} byte limit of this endpoint",
        }
    ).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def read_upload(file: BinaryIO, limit: int, name: str = "file") -> bytes:
    """The bytes of an uploaded file, refused past `limit`."""
    data = file.read(limit + 1)
    if len(data) > limit:
        raise TooLargeError(f"{name}: over the {limit:,} byte limit")
    if not data:
        raise InputError(f"{name}: the upload is empty")
    return data


def decode_upload(data: bytes, limits: Limits, name: str = "file") -> Image.Image:
    """An uploaded image decoded to RGB (about thumbnail size), within the pixel limit."""
    try:
        with warnings.catch_warnings():
            # The pixel limit below decides, and says so in the answer.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                width, height = probe.size
    except Image.DecompressionBombError:
        raise TooLargeError(
            f"{name}: too many pixels, over the {limits.image_pixels:,} pixel limit"
        ) from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError):
        raise InputError(f"{name}: not an image (JPEG, PNG, GIF, WebP, BMP or TIFF)") from None
    if width * height > limits.image_pixels:
        raise TooLargeError(
            f"{name}: {width}x{height} pixels, over the {limits.image_pixels:,} pixel limit"
        )
    try:
        return decode_image(data, THUMB_SIDE)[0]
    except DecodeError as exc:
        raise InputError(f"{name}: {exc}") from None


_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_name(filename: str | None, suffix: str = ".zip") -> str:
    """A file name made only of safe characters, ending in `suffix` (client names are never
    used as paths)."""
    stem = _SAFE.sub("_", Path((filename or "").replace("\\", "/")).name).strip("._")[:100]
    stem = stem[: -len(suffix)] if stem.lower().endswith(suffix) else stem
    return f"{stem or 'upload'}{suffix}"


def save_zip(file: BinaryIO, filename: str | None, data_dir: Path, limits: Limits) -> Path:
    """Keep an uploaded zip in `PICSIFT_DATA/uploads/<random>/<name>.zip` (the index points at
    it for originals later), after checking it is a zip within the limits.

    Raises:
        InputError: not a zip, or a member past the limits (then nothing is kept).
    """
    folder = data_dir / "uploads" / uuid.uuid4().hex[:16]
    folder.mkdir(parents=True)
    path = folder / safe_name(filename)
    try:
        with path.open("wb") as out:
            size = 0
            while chunk := file.read(CHUNK):
                size += len(chunk)
                if size > limits.zip_bytes:
                    raise TooLargeError(f"file: over the {limits.zip_bytes:,} byte limit")
                out.write(chunk)
        if size == 0:
            raise InputError("file: the upload is empty")
        _check_zip(path, limits)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return path


def _check_zip(path: Path, limits: Limits) -> None:
    if not zipfile.is_zipfile(path):
        raise InputError("file: not a zip archive")
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise InputError(f"file: damaged zip archive ({exc})") from None
    if len(members) > limits.zip_members:
        raise TooLargeError(f"file: {len(members):,} members, over the {limits.zip_members:,}")
    for info in members:
        if info.file_size > limits.zip_member_bytes:
            raise TooLargeError(
                f"file: member {info.filename[:100]!r} unpacks to {info.file_size:,} bytes, "
                f"over the {limits.zip_member_bytes:,} byte limit"
            )


def check_sources(paths: list[str], roots: tuple[Path, ...]) -> tuple[Path, ...]:
    """Server-side paths of an index job, resolved, inside `roots` and existing.

    Raises:
        ForbiddenError: a path outside the folders this server may index.
        InputError: a path that does not exist.
    """
    resolved_roots = [r.expanduser().resolve() for r in roots]
    out = []
    for i, raw in enumerate(paths):
        name = f"paths[{i}]"
        if not raw.strip() or "\x00" in raw:
            raise InputError(f"{name}: not a path")
        path = Path(raw).expanduser()
        path = (path if path.is_absolute() else resolved_roots[0] / path).resolve()
        if not any(path.is_relative_to(root) for root in resolved_roots):
            allowed = ", ".join(str(r) for r in resolved_roots)
            raise ForbiddenError(
                f"{name}: {raw[:200]!r} is outside the folders this server may index "
                f"({allowed}); start `picsift serve` with --index-root for another folder"
            )
        if not path.exists():
            raise InputError(f"{name}: {raw[:200]!r} does not exist on the server")
        out.append(path)
    return tuple(out)

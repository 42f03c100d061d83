"""Listing a media source: every file of a folder, a zip or a single image or video, told apart
into images and videos (by content; image names are taken as they are), skipped files (with the
reason), metadata and failures."""

from __future__ import annotations

import os
import stat
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import BinaryIO, Literal

from PIL import features

from indexer.metadata import MAX_METADATA_BYTES, METADATA_NAME
from indexer.reach import Reach
from indexer.records import Failure, printable
from indexer.video import looks_like_video
from picsift.models.decode import HEAD_BYTES, READ_ERRORS, image_header

# Names taken for images without a look inside (a damaged one is a failure, not a skip); any
# other file is an image when its first bytes are one (4CAT's `.mpo` phone photos), else a
# video when they are a video container's.
IMAGE_EXTENSIONS = frozenset(
    {".jpg", ".jpeg", ".png", ".gif", ".webp", ".bmp", ".tif", ".tiff"}
    | ({".avif"} if features.check("avif") else set())
)
# Names taken for videos whatever their first bytes (a damaged one fails with PyAV's reason).
VIDEO_EXTENSIONS = frozenset(
    {".mp4", ".mov", ".m4v", ".webm", ".mkv", ".avi", ".flv", ".3gp", ".mpg", ".mpeg", ".ts"}
)
NOT_MEDIA = "neither an image nor a video: Pillow and PyAV do not recognise its content"
A_ZIP = "a zip archive inside the source: not opened; give it as a source of its own"

Kind = Literal["image", "video"]


class SourceError(Exception):
    """The whole source cannot be read; the message is the reason for the report."""


@dataclass
class ListedFile:
    name: str  # relative POSIX path inside the source
    path: Path
    member: str | None
    size: int
    mtime: float
    kind: Kind = "image"


@dataclass
class Listing:
    media: list[ListedFile] = field(default_factory=list)  # images and videos
    names: set[str] = field(default_factory=set)  # every file, media or not
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (name, why): not media
    zips: list[str] = field(default_factory=list)  # archives inside a folder source
    unsafe: list[str] = field(default_factory=list)  # zip members named to escape (zip slip)
    metadata: dict[str, bytes] = field(default_factory=dict)  # by folder prefix, '' = root
    failed: list[Failure] = field(default_factory=list)

    def add_media(self, file: ListedFile) -> None:
        self.names.add(file.name)
        self.media.append(file)

    def add_other(self, name: str, reason: str) -> None:
        self.names.add(name)
        self.skipped.append((name, reason))


def media_kind(name: str, open_stream: Callable[[], BinaryIO]) -> Kind | None:
    """What the file is: an image (by its name, else its first bytes: Pillow recognises
    them), a video (its first bytes are a video container's, or its name says so), or None
    (skipped, for `skip_reason`).

    Raises:
        OSError, zipfile.BadZipFile, ...: its first bytes cannot be read (`READ_ERRORS`).
    """
    suffix = PurePosixPath(name).suffix.lower()
    if suffix in IMAGE_EXTENSIONS:
        return "image"
    if suffix == ".zip":
        return None
    with open_stream() as stream:
        head = stream.read(HEAD_BYTES)
    if head and image_header(head):
        return "image"
    if suffix in VIDEO_EXTENSIONS or looks_like_video(head):
        return "video"
    return None


def skip_reason(name: str) -> str:
    """Why a file that `media_kind` finds to be neither image nor video is skipped."""
    return A_ZIP if PurePosixPath(name).suffix.lower() == ".zip" else NOT_MEDIA


def list_source(path: Path, reach: Reach) -> Listing:
    if path.is_dir():
        return _list_folder(path, reach)
    if not path.exists():
        raise SourceError("does not exist")
    if path.suffix.lower() == ".zip":
        return _list_zip(path)
    try:
        st = path.stat()
        kind = media_kind(path.name, lambda: path.open("rb"))
    except OSError as e:
        raise SourceError(f"cannot read file: {e.strerror or e}") from None
    if kind is None:
        raise SourceError("not a folder, zip archive, image or video file")
    listing = Listing()
    listing.add_media(ListedFile(path.name, path, None, st.st_size, st.st_mtime, kind))
    return listing


def _list_folder(folder: Path, reach: Reach) -> Listing:
    listing = Listing()
    try:
        os.listdir(folder)
    except OSError as e:
        raise SourceError(f"cannot read folder: {e.strerror or e}") from None
    for file_path in _walk(folder, listing.failed, reach):
        name = file_path.relative_to(folder).as_posix()
        if file_path.name == METADATA_NAME:
            try:
                if file_path.stat().st_size > MAX_METADATA_BYTES:
                    listing.failed.append(Failure(str(file_path), "too large for a .metadata.json"))
                    continue
                if (allowed := reach.allow(file_path)) is not None:
                    listing.metadata[name[: -len(METADATA_NAME)]] = allowed.read_bytes()
            except OSError as e:
                listing.failed.append(Failure(str(file_path), f"cannot read: {e.strerror or e}"))
            continue
        try:
            st = file_path.stat()
        except OSError as e:
            reason = "broken link" if file_path.is_symlink() else (e.strerror or str(e))
            listing.failed.append(Failure(str(file_path), f"cannot read file: {reason}"))
            continue
        if not stat.S_ISREG(st.st_mode) or (allowed := reach.allow(file_path)) is None:
            continue
        try:
            kind = media_kind(name, lambda: allowed.open("rb"))
        except OSError as e:
            listing.failed.append(Failure(str(file_path), f"cannot read file: {e.strerror or e}"))
            continue
        if kind is not None:
            listing.add_media(ListedFile(name, allowed, None, st.st_size, st.st_mtime, kind))
        else:
            listing.add_other(name, skip_reason(name))
            if name.lower().endswith(".zip"):
                listing.zips.append(name)
    return listing


def _walk(root: Path, failed: list[Failure], reach: Reach) -> Iterator[Path]:
    """Non-hidden files (and `.metadata.json` files) under `root`, following the links `reach`
    allows; each real folder is entered once."""

    def on_error(error: OSError) -> None:
        failed.append(Failure(str(error.filename), f"cannot read folder: {error.strerror}"))

    seen: set[tuple[int, int]] = set()
    for folder, dirs, files in os.walk(root, followlinks=True, onerror=on_error):
        try:
            st = os.stat(folder)
        except OSError as e:
            on_error(e)
            dirs.clear()
            continue
        if (st.st_dev, st.st_ino) in seen:  # a link back to a folder already walked
            dirs.clear()
            continue
        seen.add((st.st_dev, st.st_ino))
        shown = sorted(d for d in dirs if not d.startswith("."))
        dirs[:] = [d for d in shown if reach.allow(Path(folder, d)) is not None]
        wanted = (f for f in sorted(files) if f == METADATA_NAME or not f.startswith("."))
        yield from (Path(folder, f) for f in wanted)


def _list_zip(path: Path) -> Listing:
    listing = Listing()
    try:
        mtime = path.stat().st_mtime
        with zipfile.ZipFile(path) as archive:
            infos = {info.filename: info for info in archive.infolist() if not info.is_dir()}
            for name in infos:
                prefix, _, base = name.rpartition("/")
                if base == METADATA_NAME and not _hidden(prefix) and not _unsafe(name):
                    raw = _read_member(archive, name, path, listing.failed)
                    if raw is not None:
                        listing.metadata[prefix + "/" if prefix else ""] = raw
            for info in infos.values():
                _list_member(archive, info, path, mtime, listing)
    except READ_ERRORS as e:
        raise SourceError(f"not a readable zip archive: {e}") from None
    return listing


def _list_member(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, path: Path, mtime: float, listing: Listing
) -> None:
    name = info.filename
    if _unsafe(name):
        listing.unsafe.append(name)
        return
    if _hidden(name):
        return
    try:
        kind = media_kind(name, lambda: archive.open(info))
    except READ_ERRORS as e:
        listing.failed.append(Failure(file_location(path, name), f"cannot read: {e}"))
        return
    if kind is not None:
        listing.add_media(ListedFile(name, path, name, info.file_size, mtime, kind))
    else:
        listing.add_other(name, skip_reason(name))


def _read_member(
    archive: zipfile.ZipFile, name: str, path: Path, failed: list[Failure]
) -> bytes | None:
    size = archive.getinfo(name).file_size
    if size > MAX_METADATA_BYTES:
        failed.append(Failure(file_location(path, name), f"too large: {size:,} bytes"))
        return None
    try:
        with archive.open(name) as member:
            raw = member.read(MAX_METADATA_BYTES + 1)
        if len(raw) > MAX_METADATA_BYTES:
            failed.append(
                Failure(file_location(path, name), "too large: holds more than it declares")
            )
            return None
        return raw
    except READ_ERRORS as e:
        failed.append(Failure(file_location(path, name), f"cannot read: {e}"))
        return None


def _hidden(name: str) -> bool:
    return any(part.startswith(".") for part in name.split("/"))


def _unsafe(name: str) -> bool:
    """Absolute, drive-letter or `..` member names (zip slip)."""
    parts = name.replace("\\", "/").split("/")
    return name.startswith(("/", "\\")) or ".." in parts or (len(name) > 1 and name[1] == ":")


def file_location(source: Path, name: str) -> str:
    where = f"{source}!{name}" if source.suffix.lower() == ".zip" else str(source / name)
    return printable(where)

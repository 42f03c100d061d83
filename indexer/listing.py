"""Listing a media source: every file of a folder, a zip or a single image, told apart into
images (by name, else by content), skipped files (with the reason), metadata and failures."""

from __future__ import annotations

import os
import stat
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from PIL import features

from indexer.metadata import MAX_METADATA_BYTES, METADATA_NAME
from indexer.reach import Reach
from indexer.records import Failure, printable
from picsift.models.decode import READ_ERRORS, looks_like_image

# Names taken for images without a look inside (a damaged one is a failure, not a skip); any
# other file is an image when its first bytes are one (4CAT's `.mpo` phone photos).
IMAGE_EXTENSIONS = frozenset(
    {".jpg", ".jpeg", ".png", ".gif", ".webp", ".bmp", ".tif", ".tiff"}
    | ({".avif"} if features.check("avif") else set())
)
# Only to say why a file is skipped: videos are not read (yet), their frames are.
VIDEO_EXTENSIONS = frozenset(
    {".mp4", ".mov", ".m4v", ".webm", ".mkv", ".avi", ".flv", ".3gp", ".mpg", ".mpeg", ".ts"}
)
NOT_AN_IMAGE = "not an image: Pillow does not recognise its content"
A_VIDEO = "a video file: picsift indexes no videos yet (4CAT's frame extractors make images of it)"


class SourceError(Exception):
    """The whole source cannot be read; the message is the reason for the report."""


@dataclass
class ListedFile:
    name: str  # relative POSIX path inside the source
    path: Path
    member: str | None
    size: int
    mtime: float


@dataclass
class Listing:
    images: list[ListedFile] = field(default_factory=list)
    names: set[str] = field(default_factory=set)  # every file, images or not
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (name, why): not images
    zips: list[str] = field(default_factory=list)  # archives inside a folder source
    unsafe: list[str] = field(default_factory=list)  # zip members named to escape (zip slip)
    metadata: dict[str, bytes] = field(default_factory=dict)  # by folder prefix, '' = root
    failed: list[Failure] = field(default_factory=list)

    def add_image(self, file: ListedFile) -> None:
        self.names.add(file.name)
        self.images.append(file)

    def add_other(self, name: str, reason: str) -> None:
        self.names.add(name)
        self.skipped.append((name, reason))


def skip_reason(name: str, open_stream: Callable[[], BinaryIO]) -> str | None:
    """None when the file is an image (by its name, else by its first bytes); otherwise why
    it is skipped.

    Raises:
        OSError, zipfile.BadZipFile, ...: its first bytes cannot be read (`READ_ERRORS`).
    """
    suffix = PurePosixPath(name).suffix.lower()
    if suffix in IMAGE_EXTENSIONS:
        return None
    if suffix == ".zip":
        return "a zip archive inside the source: not opened; give it as a source of its own"
    if looks_like_image(open_stream):
        return None
    return A_VIDEO if suffix in VIDEO_EXTENSIONS else NOT_AN_IMAGE


def list_source(path: Path, reach: Reach) -> Listing:
    if path.is_dir():
        return _list_folder(path, reach)
    if not path.exists():
        raise SourceError("does not exist")
    if path.suffix.lower() == ".zip":
        return _list_zip(path)
    try:
        st = path.stat()
        is_image = skip_reason(path.name, lambda: path.open("rb")) is None
    except OSError as e:
        raise SourceError(f"cannot read file: {e.strerror or e}") from None
    if not is_image:
        raise SourceError("not a folder, zip archive or image file")
    listing = Listing()
    listing.add_image(ListedFile(path.name, path, None, st.st_size, st.st_mtime))
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
            why = skip_reason(name, lambda: allowed.open("rb"))
        except OSError as e:
            listing.failed.append(Failure(str(file_path), f"cannot read file: {e.strerror or e}"))
            continue
        if why is None:
            listing.add_image(ListedFile(name, allowed, None, st.st_size, st.st_mtime))
        else:
            listing.add_other(name, why)
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
        why = skip_reason(name, lambda: archive.open(info))
    except READ_ERRORS as e:
        listing.failed.append(Failure(file_location(path, name), f"cannot read: {e}"))
        return
    if why is None:
        listing.add_image(ListedFile(name, path, name, info.file_size, mtime))
    else:
        listing.add_other(name, why)


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

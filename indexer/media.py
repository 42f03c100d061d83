"""Media sources: list the images of a folder, a zip or a 4CAT media archive, linked to posts."""

from __future__ import annotations

import os
import re
import stat
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from PIL import features

from indexer.metadata import (
    MAX_METADATA_BYTES,
    METADATA_NAME,
    MetadataError,
    MetadataTree,
    parse_metadata,
)
from indexer.reach import Reach, display_name
from indexer.records import Failure, MediaItem, ScanResult, printable
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

_FRAME_NAME = re.compile(r"^(video_frame_\d+|.+_scene_\d+)$")


class _SourceError(Exception):
    """The whole source cannot be read; the message is the reason for the report."""


@dataclass
class _File:
    name: str  # relative POSIX path inside the source
    path: Path
    member: str | None
    size: int
    mtime: float


@dataclass
class _Listing:
    images: list[_File] = field(default_factory=list)
    names: set[str] = field(default_factory=set)  # every file, images or not
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (name, why): not images
    zips: list[str] = field(default_factory=list)  # archives inside a folder source
    unsafe: list[str] = field(default_factory=list)  # zip members named to escape (zip slip)
    metadata: dict[str, bytes] = field(default_factory=dict)  # by folder prefix, '' = root
    failed: list[Failure] = field(default_factory=list)

    def add_image(self, file: _File) -> None:
        self.names.add(file.name)
        self.images.append(file)

    def add_other(self, name: str, reason: str) -> None:
        self.names.add(name)
        self.skipped.append((name, reason))


def _skip_reason(name: str, open_stream: Callable[[], BinaryIO]) -> str | None:
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


def is_media_source(path: Path) -> bool:
    """Whether `path` can be given to `scan_media`: a folder, a .zip or an image file (by its
    name or its content)."""
    if path.is_dir():
        return True
    if not path.is_file():
        return False
    try:
        return (
            path.suffix.lower() == ".zip"
            or _skip_reason(path.name, lambda: path.open("rb")) is None
        )
    except OSError:
        return False


def scan_media(
    path: Path,
    dataset: str | None = None,
    *,
    stem_post_ids: bool = False,
    numeric_stem_post_ids: bool = False,
    root: Path | None = None,
) -> ScanResult:
    """List the images of one media source and link them to posts.

    The source is a folder (searched recursively, hidden entries skipped), a zip, or a single
    image. A `.metadata.json` (a 4CAT media archive) links the files of its folder to post
    ids, frames in `<video_stem>/` folders included; it may sit in a subfolder (an archive
    unzipped and zipped again, or a folder of several archives). Problems become `failed` entries
    and `warnings`; nothing is raised.

    Args:
        path: The folder, zip or image file.
        dataset: Dataset name for every item; defaults to the most common `from_dataset` of the
            metadata, else the source's file or folder stem.
        stem_post_ids: Without usable metadata, take each file's stem as its post id (TikTok
            thumbnails are `<post_id>.jpeg`). Without it such files get no post ids.
        numeric_stem_post_ids: The same for files whose stem is a number only (an unpacked
            folder of thumbnails, whose table may come in a later run).
        root: For an index job, the folder it may read: what leads out of it (the source, a
            link to a file or a folder) is not read but a failure, and items carry resolved
            paths. None (the CLI) follows links and names those that leave the source.

    Returns:
        The items sorted by their path inside the source.
    """
    reach = Reach(path, root)
    try:
        if reach.allow(path) is None:
            return ScanResult(dataset=dataset or _stem(path), failed=reach.failed)
        listing = _list_source(path, reach)
    except _SourceError as e:
        return ScanResult(dataset=dataset or _stem(path), failed=[Failure(str(path), str(e))])
    meta = _parse(path, listing)
    result = ScanResult(
        dataset=dataset or (meta and meta.dataset) or _stem(path),
        failed=listing.failed + reach.failed,
        warnings=reach.warnings,
    )
    _link(result, listing, meta, stem_post_ids, numeric_stem_post_ids)
    missing, frameless = (
        meta.absent(listing.names, {f.name for f in listing.images}) if meta else ([], [])
    )
    for name in missing:
        reason = "listed in .metadata.json but not in the archive"
        result.failed.append(Failure(_location(path, name), reason))
    if frameless:
        shown = ", ".join(display_name(n) for n in frameless[:3]) + (
            ", ..." if frameless[3:] else ""
        )
        result.warnings.append(
            f"{len(frameless)} video(s) listed in .metadata.json have no frames in this archive "
            f"({shown}): 4CAT found no scene in them or could not read them; their posts get "
            "no image from it"
        )
    result.skipped = [Failure(_location(path, n), why) for n, why in listing.skipped]
    others = [n for n, _ in listing.skipped if n not in listing.zips]  # zips: a warning below
    if others:
        shown = ", ".join(display_name(n) for n in others[:3]) + (", ..." if others[3:] else "")
        result.warnings.append(
            f"skipped {len(others)} file(s) that are not images ({shown}): each is named "
            "with the reason in the report's skipped list"
        )
    if listing.zips:
        example = path / listing.zips[0]
        result.warnings.append(
            f"{len(listing.zips)} zip archive(s) inside {path.name} were not opened "
            f"({', '.join(listing.zips[:3])}); give them as sources: picsift index {example}"
        )
    if listing.unsafe:
        result.warnings.append(
            f"ignored {len(listing.unsafe)} zip member(s) with an absolute path or '..' in the name"
        )
        reason = "not read: an absolute path or '..' in the name (zip slip)"
        where = display_name(str(path))
        result.failed.extend(Failure(f"{where}!{display_name(n)}", reason) for n in listing.unsafe)
    return result


def _link(
    result: ScanResult,
    listing: _Listing,
    meta: MetadataTree | None,
    stem_post_ids: bool,
    numeric_stem_post_ids: bool,
) -> None:
    unlisted = stemmed = by_name = 0
    for file in sorted(listing.images, key=lambda f: f.name):
        if meta is not None:
            post_ids = meta.post_ids_for(file.name)
            if post_ids is None and meta.named_by_post(file.name):
                post_ids = (_stem_post_id(file.name),)
                by_name += 1
            unlisted += post_ids is None
        else:
            stem = _stem_post_id(file.name)
            post_ids = (
                (stem,)
                if stem_post_ids or (numeric_stem_post_ids and stem.isascii() and stem.isdigit())
                else ()
            )
            stemmed += bool(post_ids)
        item = MediaItem(
            file.path, file.member, file.size, file.mtime, result.dataset, post_ids or ()
        )
        result.media.append(item)
    if meta is not None and meta.failed_downloads:
        result.warnings.append(f".metadata.json records {meta.failed_downloads} failed download(s)")
    if by_name:
        result.warnings.append(
            f"{by_name} image(s) not listed in .metadata.json linked to the post their file is "
            "named after, as the archive names all its files (4CAT keeps one entry per URL: "
            "posts sharing an image, such as a sound's cover, lose all but the last)"
        )
    if unlisted:
        result.warnings.append(
            f"{unlisted} image(s) not listed in .metadata.json, indexed without post ids"
        )
    if stemmed:
        result.warnings.append("no usable .metadata.json: post ids taken from file names")


def is_video_frame(name: str) -> bool:
    """Whether a file (a relative name or a zip member) is a frame 4CAT extracted from a video:
    `<video_stem>/video_frame_0000001.jpeg` or `<video_stem>/<video_stem>_scene_3.jpeg`."""
    path = PurePosixPath(name)
    return len(path.parts) > 1 and bool(_FRAME_NAME.match(path.stem))


def _stem_post_id(name: str) -> str:
    """The post id a file name stands for: its stem (TikTok thumbnails), or for a video frame
    (`<video_stem>/video_frame_0000001.jpeg`, `<video_stem>/<video_stem>_scene_3.jpeg`) the
    folder named after the video."""
    path = PurePosixPath(printable(name))
    if is_video_frame(path.as_posix()):
        return path.parent.name
    return path.stem


def _parse(source: Path, listing: _Listing) -> MetadataTree | None:
    by_prefix = {}
    for prefix, raw in sorted(listing.metadata.items()):
        location = _location(source, prefix + METADATA_NAME)
        try:
            meta = parse_metadata(raw)
        except MetadataError as e:
            listing.failed.append(Failure(location, f"malformed .metadata.json: {e}"))
            continue
        listing.failed.extend(
            Failure(location, f"malformed .metadata.json: {bad}; its other entries are used")
            for bad in meta.bad_entries
        )
        if meta.links or meta.datasets or meta.failed_downloads or not meta.bad_entries:
            by_prefix[prefix] = meta
    return MetadataTree(by_prefix) if by_prefix else None


def _list_source(path: Path, reach: Reach) -> _Listing:
    if path.is_dir():
        return _list_folder(path, reach)
    if not path.exists():
        raise _SourceError("does not exist")
    if path.suffix.lower() == ".zip":
        return _list_zip(path)
    try:
        st = path.stat()
        is_image = _skip_reason(path.name, lambda: path.open("rb")) is None
    except OSError as e:
        raise _SourceError(f"cannot read file: {e.strerror or e}") from None
    if not is_image:
        raise _SourceError("not a folder, zip archive or image file")
    listing = _Listing()
    listing.add_image(_File(path.name, path, None, st.st_size, st.st_mtime))
    return listing


def _list_folder(folder: Path, reach: Reach) -> _Listing:
    listing = _Listing()
    try:
        os.listdir(folder)
    except OSError as e:
        raise _SourceError(f"cannot read folder: {e.strerror or e}") from None
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
            why = _skip_reason(name, lambda: allowed.open("rb"))
        except OSError as e:
            listing.failed.append(Failure(str(file_path), f"cannot read file: {e.strerror or e}"))
            continue
        if why is None:
            listing.add_image(_File(name, allowed, None, st.st_size, st.st_mtime))
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


def _list_zip(path: Path) -> _Listing:
    listing = _Listing()
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
        raise _SourceError(f"not a readable zip archive: {e}") from None
    return listing


def _list_member(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, path: Path, mtime: float, listing: _Listing
) -> None:
    name = info.filename
    if _unsafe(name):
        listing.unsafe.append(name)
        return
    if _hidden(name):
        return
    try:
        why = _skip_reason(name, lambda: archive.open(info))
    except READ_ERRORS as e:
        listing.failed.append(Failure(_location(path, name), f"cannot read: {e}"))
        return
    if why is None:
        listing.add_image(_File(name, path, name, info.file_size, mtime))
    else:
        listing.add_other(name, why)


def _read_member(
    archive: zipfile.ZipFile, name: str, path: Path, failed: list[Failure]
) -> bytes | None:
    size = archive.getinfo(name).file_size
    if size > MAX_METADATA_BYTES:
        failed.append(Failure(_location(path, name), f"too large: {size:,} bytes"))
        return None
    try:
        with archive.open(name) as member:
            raw = member.read(MAX_METADATA_BYTES + 1)
        if len(raw) > MAX_METADATA_BYTES:
            failed.append(Failure(_location(path, name), "too large: holds more than it declares"))
            return None
        return raw
    except READ_ERRORS as e:
        failed.append(Failure(_location(path, name), f"cannot read: {e}"))
        return None


def _hidden(name: str) -> bool:
    return any(part.startswith(".") for part in name.split("/"))


def _unsafe(name: str) -> bool:
    """Absolute, drive-letter or `..` member names (zip slip)."""
    parts = name.replace("\\", "/").split("/")
    return name.startswith(("/", "\\")) or ".." in parts or (len(name) > 1 and name[1] == ":")


def _location(source: Path, name: str) -> str:
    where = f"{source}!{name}" if source.suffix.lower() == ".zip" else str(source / name)
    return printable(where)


def _stem(path: Path) -> str:
    absolute = Path(os.path.abspath(path))
    return printable(absolute.name if path.is_dir() else absolute.stem)

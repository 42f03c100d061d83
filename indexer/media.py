"""Media sources: list the images and videos of a folder, a zip or a 4CAT media archive, linked
to posts."""

from __future__ import annotations

import os
import re
from pathlib import Path, PurePosixPath

from indexer.listing import Listing, SourceError, file_location, list_source, media_kind
from indexer.metadata import METADATA_NAME, MetadataError, MetadataTree, parse_metadata
from indexer.reach import Reach, display_name
from indexer.records import Failure, MediaItem, ScanResult, printable

_FRAME_NAME = re.compile(r"^(video_frame_\d+|.+_scene_\d+)$")


def is_media_source(path: Path) -> bool:
    """Whether `path` can be given to `scan_media`: a folder, a .zip, or an image or video file
    (by its name or its content)."""
    if path.is_dir():
        return True
    if not path.is_file():
        return False
    try:
        return (
            path.suffix.lower() == ".zip"
            or media_kind(path.name, lambda: path.open("rb")) is not None
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
    """List the images and videos of one media source and link them to posts.

    The source is a folder (searched recursively, hidden entries skipped), a zip, or a single
    image or video. A `.metadata.json` (a 4CAT media archive) links the files of its folder to post
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
        listing = list_source(path, reach)
    except SourceError as e:
        return ScanResult(dataset=dataset or _stem(path), failed=[Failure(str(path), str(e))])
    meta = _parse(path, listing)
    result = ScanResult(
        dataset=dataset or (meta and meta.dataset) or _stem(path),
        failed=listing.failed + reach.failed,
        warnings=reach.warnings,
    )
    _link(result, listing, meta, stem_post_ids, numeric_stem_post_ids)
    missing, frameless = (
        meta.absent(listing.names, {f.name for f in listing.media}) if meta else ([], [])
    )
    for name in missing:
        reason = "listed in .metadata.json but not in the archive"
        result.failed.append(Failure(file_location(path, name), reason))
    if frameless:
        result.warnings.append(
            f"{len(frameless)} video(s) listed in .metadata.json have no frames in this archive "
            f"({_first_names(frameless)}): 4CAT found no scene in them or could not read them; "
            "their posts get no image from it"
        )
    result.skipped = [Failure(file_location(path, n), why) for n, why in listing.skipped]
    others = [n for n, _ in listing.skipped if n not in listing.zips]  # zips: a warning below
    if others:
        result.warnings.append(
            f"skipped {len(others)} file(s) that are neither images nor videos "
            f"({_first_names(others)}): each "
            "is named with the reason in the report's skipped list"
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


def _first_names(names: list[str]) -> str:
    """The first three names, shown, for a warning (`, ...` when there are more)."""
    return ", ".join(display_name(n) for n in names[:3]) + (", ..." if names[3:] else "")


def _link(
    result: ScanResult,
    listing: Listing,
    meta: MetadataTree | None,
    stem_post_ids: bool,
    numeric_stem_post_ids: bool,
) -> None:
    unlisted = stemmed = by_name = 0
    for file in sorted(listing.media, key=lambda f: f.name):
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
            file.path, file.member, file.size, file.mtime, result.dataset, post_ids or (), file.kind
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


def _parse(source: Path, listing: Listing) -> MetadataTree | None:
    by_prefix = {}
    for prefix, raw in sorted(listing.metadata.items()):
        location = file_location(source, prefix + METADATA_NAME)
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


def _stem(path: Path) -> str:
    absolute = Path(os.path.abspath(path))
    return printable(absolute.name if path.is_dir() else absolute.stem)

"""Source detection: what each path given to `picsift index` is, and what it holds."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from indexer.listing import media_kind
from indexer.media import is_media_source, scan_media
from indexer.metadata import key_in_name
from indexer.reach import Reach
from indexer.records import Failure, MediaItem, Post
from indexer.tables import is_post_table, read_image_table, read_posts
from picsift.errors import InputError


@dataclass
class Collected:
    """Everything found in the sources of one run."""

    media: list[MediaItem] = field(default_factory=list)
    posts: list[Post] = field(default_factory=list)
    failed: list[Failure] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    skipped: list[Failure] = field(default_factory=list)  # files that are not images
    datasets: list[str] = field(default_factory=list)


def collect(
    sources: list[Path],
    dataset: str | None = None,
    image_column: str | None = None,
    roots: Sequence[Path] | None = None,
) -> Collected:
    """Scan every source. Media archives and post tables given together share one dataset
    name: `dataset` if given, else the archive's (its 4CAT key, or its file name).

    Args:
        sources: Folders, zips, image and video files, and post tables.
        dataset: The dataset name of everything found.
        image_column: The column of image paths, for a table that names its images.
        roots: For an index job, the folders it may read. Each source is held to the root
            that holds it (one in none of them, an uploaded zip, to itself): links and
            table paths leading out of it are failures. None (the CLI) follows links and
            names in the warnings those that leave their source.

    Raises:
        InputError: a source that does not exist or is neither media nor a table.
    """
    # Absolute paths: the `files` payload must still point at the files from another folder.
    sources = [p.expanduser().resolve() for p in sources]
    tables, media_sources, unknown = _classify(sources, image_column)
    out = Collected(failed=unknown)
    for path in media_sources:
        # A folder alone only takes numeric stems: its table may come later (TikTok
        # thumbnails), while `photo_1.jpg` is no post id.
        stem_all = bool(tables) or path.suffix.lower() == ".zip"
        scan = scan_media(
            path,
            dataset,
            stem_post_ids=stem_all,
            numeric_stem_post_ids=True,
            root=_root_of(path, roots),
        )
        out.media.extend(scan.media)
        out.skipped.extend(scan.skipped)
        _absorb(out, scan.dataset, scan.failed, scan.warnings, path)
    archive = out.datasets[0] if len(out.datasets) == 1 else None
    for path in tables:
        # A table named with another 4CAT key than the archive's is another dataset (the
        # archive of a hidden step: "Download TikTok videos"); `DatasetResolver` joins them.
        key = key_in_name(path.stem)
        name = dataset or (archive if key in (None, archive) else None) or path.stem
        if image_column:
            scan, pairs = read_image_table(path, image_column, name)
            reach = Reach(path.parent, _root_of(path, roots), out.failed, scan.warnings)
            out.media.extend(_items_from_pairs(pairs, name, reach))
        else:
            scan = read_posts(path, name)
        out.posts.extend(scan.posts)
        _absorb(out, name, scan.failed, scan.warnings, path)
    return out


def _classify(
    sources: list[Path], image_column: str | None
) -> tuple[list[Path], list[Path], list[Failure]]:
    """Tables, media sources, and the sources that are neither: those fail alone, so the
    others of the run are still indexed."""
    tables, media, unknown = [], [], []
    for path in sources:
        if not path.exists():
            raise InputError(f"source {path} does not exist")
        # With --image-column, folders, zips and image files given beside the table stay media.
        if is_post_table(path) or (image_column and not is_media_source(path)):
            tables.append(path)
        elif is_media_source(path):
            media.append(path)
        else:
            unknown.append(
                Failure(
                    str(path),
                    "neither media (a folder, zip, image or video file) nor a post table (4CAT "
                    "CSV/NDJSON); for a table with a column of image paths, add "
                    "--image-column NAME",
                )
            )
    return tables, media, unknown


def _absorb(out: Collected, name: str, failed, warnings, path: Path) -> None:
    if name not in out.datasets:
        out.datasets.append(name)
    out.failed.extend(failed)
    out.warnings.extend(f"{path.name}: {w}" for w in warnings)


def _root_of(source: Path, roots: Sequence[Path] | None) -> Path | None:
    """The folder a job's source is held to: the root that holds it, else the source itself."""
    if roots is None:
        return None
    for root in roots:
        if source.is_relative_to(os.path.realpath(root)):
            return root
    return source if source.is_dir() else source.parent


def _items_from_pairs(pairs: list[tuple[Path, str]], dataset: str, reach: Reach) -> list[MediaItem]:
    items = []
    for path, post_id in pairs:
        try:
            stat = path.stat()
            if (allowed := reach.allow(path)) is None:
                continue
            # Neither image nor video: read as an image, to fail with the reason.
            kind = media_kind(allowed.name, lambda: allowed.open("rb")) or "image"
        except OSError as exc:
            reach.failed.append(Failure(str(path), f"cannot read: {exc.strerror or exc}"))
            continue
        items.append(
            MediaItem(allowed, None, stat.st_size, stat.st_mtime, dataset, (post_id,), kind)
        )
    return items


def check_anything_read(report: dict) -> None:
    """Raise InputError when the sources gave nothing at all but failures: the run could not
    do its job (a non-zero exit, a failed job), unlike a run where some files failed beside
    good ones. The message names the first failure."""
    read = report["found"] or report["posts_linked"] or report["posts_without_media"]
    if not read and report["failed"]:
        first = report["failed"][0]
        raise InputError(
            f"nothing could be read from the sources ({len(report['failed']):,} failed, "
            f"first {first['path']}: {first['reason']})"
        )

"""Read a 4CAT `.metadata.json`: which file in a media archive belongs to which posts."""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import PurePosixPath
from typing import Any

METADATA_NAME = ".metadata.json"
# 4CAT writes about 500 bytes an image: 512 MiB is a million images; larger is a bomb.
MAX_METADATA_BYTES = 512 * 2**20
_DATASET_KEY = re.compile(r"[0-9a-f]{32}")


def is_dataset_key(name: str) -> bool:
    """Whether `name` is a 4CAT dataset key (32 hex digits)."""
    return _DATASET_KEY.fullmatch(name) is not None


def key_in_name(name: str) -> str | None:
    """The 4CAT dataset key a table's file is named with (`<query>-<key>.csv`), if any."""
    key = name.rsplit("-", 1)[-1]
    return key if name != key and is_dataset_key(key) else None


class MetadataError(ValueError):
    """The `.metadata.json` is not valid JSON or not shaped as 4CAT writes it."""


@dataclass
class ArchiveMetadata:
    """The links recorded in a `.metadata.json`, keyed by file name inside the archive."""

    links: dict[str, tuple[str, ...]] = field(default_factory=dict)
    failed_downloads: int = 0
    datasets: Counter[str] = field(default_factory=Counter)
    bad_entries: list[str] = field(default_factory=list)  # what is wrong with each, by key

    @property
    def dataset(self) -> str | None:
        """The most common `from_dataset` of the entries, None when no entry names one."""
        common = self.datasets.most_common(1)
        return common[0][0] if common else None

    def post_ids_for(self, name: str) -> tuple[str, ...] | None:
        """Post ids of the archive file `name` (a relative POSIX path), None if not listed.

        A frame `<video_stem>/<frame>.jpeg` gets the post ids of the video named `<video_stem>.*`.
        """
        name = _nfc(name)
        if name in self.links:
            return self.links[name]
        folder, _, rest = name.partition("/")
        return self._by_stem.get(folder) if rest else None

    def absent(self, names: set[str], images: set[str]) -> tuple[list[str], list[str]]:
        """Linked files not in the archive: (missing, without frames).

        `names` are all the archive's files, `images` those that are images. In a frame archive
        (frames in `<video_stem>/` folders, none of the listed videos themselves), a listed
        video with no frame is no lost file: 4CAT's extractor found no scene in it, or ffmpeg
        could not read it. Elsewhere a listed file that is not there is missing.
        """
        names = {_nfc(n) for n in names}
        with_frames = {n.split("/", 1)[0] for n in map(_nfc, images) if "/" in n}
        listed = {PurePosixPath(f).stem for f in self.links}
        frames = bool(with_frames & listed) and not any(f in names for f in self.links)
        gone = [
            f for f in self.links if f not in names and PurePosixPath(f).stem not in with_frames
        ]
        return ([], gone) if frames else (gone, [])

    @property
    def named_by_post(self) -> bool:
        """Whether every listed file is named `<post id>.<ext>` after its one post (TikTok's
        and Telegram's image downloaders): then an unlisted file's stem is its post id."""
        return bool(self.links) and all(
            ids == (PurePosixPath(f).stem,) for f, ids in self.links.items()
        )

    @cached_property
    def _by_stem(self) -> dict[str, tuple[str, ...]]:
        by_stem: dict[str, tuple[str, ...]] = {}
        for filename, post_ids in self.links.items():
            stem = PurePosixPath(filename).stem
            by_stem[stem] = tuple(dict.fromkeys(by_stem.get(stem, ()) + post_ids))
        return by_stem


@dataclass
class MetadataTree:
    """Every `.metadata.json` of one source, by the folder that holds it (`""` for the root,
    `"images-k15/"` for an archive unzipped and zipped again with a top folder). A file is
    looked up in the metadata of its nearest folder."""

    by_prefix: dict[str, ArchiveMetadata]

    @property
    def dataset(self) -> str | None:
        """The most common `from_dataset` over all the metadata files."""
        counts: Counter[str] = Counter()
        for meta in self.by_prefix.values():
            counts.update(meta.datasets)
        common = counts.most_common(1)
        return common[0][0] if common else None

    @property
    def failed_downloads(self) -> int:
        """Failed downloads recorded in all the metadata files."""
        return sum(meta.failed_downloads for meta in self.by_prefix.values())

    def post_ids_for(self, name: str) -> tuple[str, ...] | None:
        """Post ids of the file `name` (relative to the source), None if no metadata lists it."""
        nearest = self._nearest(_nfc(name))
        if nearest is None:
            return None
        prefix, meta = nearest
        return meta.post_ids_for(_nfc(name)[len(prefix) :])

    def absent(self, names: set[str], images: set[str]) -> tuple[list[str], list[str]]:
        """Listed files (relative to the source) not in it: (missing, without frames); see
        `ArchiveMetadata.absent`."""
        missing: list[str] = []
        frameless: list[str] = []
        for prefix, meta in self.by_prefix.items():
            inside = {n[len(prefix) :] for n in names if n.startswith(prefix)}
            shown = {n[len(prefix) :] for n in images if n.startswith(prefix)}
            gone, no_frames = meta.absent(inside, shown)
            missing += [prefix + f for f in gone]
            frameless += [prefix + f for f in no_frames]
        return missing, frameless

    def named_by_post(self, name: str) -> bool:
        """Whether the metadata nearest to file `name` names every file after its post."""
        meta = self._nearest(_nfc(name))
        return meta is not None and meta[1].named_by_post

    def _nearest(self, name: str) -> tuple[str, ArchiveMetadata] | None:
        prefix = max((p for p in self.by_prefix if name.startswith(p)), key=len, default=None)
        return None if prefix is None else (prefix, self.by_prefix[prefix])


def parse_metadata(raw: bytes) -> ArchiveMetadata:
    """Parse the bytes of a `.metadata.json`.

    Only entries with `success` true are linked; each of their files (`filename`, or every
    successful `files[].filename`) maps to all ids in `post_ids`, accumulated over entries.
    An entry with a value of the wrong type is left out and described in `bad_entries`; the
    good entries around it are kept.

    Raises:
        MetadataError: invalid JSON, or not an object of entries.
    """
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise MetadataError(f"not valid JSON: {e}") from None
    if not isinstance(data, dict):
        raise MetadataError(f"expected an object keyed by URL, got {_kind(data)}")
    meta = ArchiveMetadata()
    for key, entry in data.items():
        if not isinstance(entry, dict):
            meta.bad_entries.append(f"entry {key!r} is {_kind(entry)}, not an object")
            continue
        try:
            # Checked whole before anything is added: a bad entry adds nothing.
            _add_entry(ArchiveMetadata(), key, entry)
        except MetadataError as e:
            meta.bad_entries.append(f"entry {key!r}: {e}")
            continue
        _add_entry(meta, key, entry)
    return meta


def _add_entry(meta: ArchiveMetadata, key: str, entry: dict[str, Any]) -> None:
    dataset = _typed(entry, "from_dataset", str)
    if dataset:
        meta.datasets[dataset] += 1
    if _typed(entry, "success", bool) is False:
        meta.failed_downloads += 1
        return
    filenames, failed = _filenames(entry)
    meta.failed_downloads += failed
    post_ids = _post_ids(entry, key)
    for filename in filenames:
        known = meta.links.get(filename, ())
        meta.links[filename] = tuple(dict.fromkeys(known + post_ids))


def _filenames(entry: dict[str, Any]) -> tuple[list[str], int]:
    """The entry's downloaded file names and how many of its files failed."""
    names: list[str] = []
    failed = 0
    filename = _typed(entry, "filename", str)
    if filename:
        names.append(filename)
    files = _typed(entry, "files", list)
    for i, file in enumerate(files or []):
        if not isinstance(file, dict):
            raise MetadataError(f"files[{i}] is {_kind(file)}, not an object")
        name = _typed(file, "filename", str)
        if name and _typed(file, "success", bool) is not False:
            names.append(name)
        else:
            failed += 1
    if not names and not files:
        failed += 1
    return [_nfc(n) for n in dict.fromkeys(names)], failed


def _post_ids(entry: dict[str, Any], key: str) -> tuple[str, ...]:
    post_ids = _typed(entry, "post_ids", list)
    if post_ids is None:
        # Older TikTok video zips are keyed by the video id, which is the post id.
        return (key,) if "post_ids" not in entry and key.isdigit() else ()
    for post_id in post_ids:
        if isinstance(post_id, bool) or not isinstance(post_id, str | int):
            raise MetadataError(f"post_ids holds {_kind(post_id)}, expected strings")
    return tuple(dict.fromkeys(str(p) for p in post_ids if str(p)))


def _typed(obj: dict[str, Any], key: str, kind: type) -> Any:
    """`obj[key]` if absent, null or of `kind`; a MetadataError otherwise."""
    value = obj.get(key)
    if value is not None and not isinstance(value, kind):
        raise MetadataError(f"{key!r} is {_kind(value)}, expected {_kind(kind())}")
    return value


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}.get(
        type(value), "a number" if isinstance(value, int | float) else "null"
    )


def _nfc(name: str) -> str:
    # Folders unpacked on macOS store names decomposed (NFD); the JSON keeps them composed.
    return unicodedata.normalize("NFC", name)

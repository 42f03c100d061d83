"""Reading the bytes of media items: plain files and zip members, as `read_media` reads them."""

from __future__ import annotations

import threading
import zipfile
from collections import OrderedDict
from pathlib import Path

from indexer.records import MediaItem
from picsift.models.decode import read_media


def read_item(item: MediaItem) -> bytes:
    """The item's bytes, opening its zip for a member (one read; `MediaReader` keeps zips
    open for many).

    Raises:
        Unreadable, OSError, zipfile.BadZipFile, KeyError: as `MediaReader.read`.
    """
    if item.member is None:
        return read_media(lambda: item.path.open("rb"), item.size)
    with zipfile.ZipFile(item.path) as archive:
        return _read_member(archive, item.member)


def _read_member(archive: zipfile.ZipFile, member: str) -> bytes:
    info = archive.getinfo(member)
    return read_media(lambda: archive.open(info), info.file_size)


class MediaReader:
    """Reads the bytes of media items, from any number of threads.

    Open `ZipFile`s are pooled per archive: a read takes a free handle of its archive (or opens
    one) and gives it back after, so reading many members does not parse the zip's central
    directory again each time, and the handles open for an archive are at most the reads of it
    running at once, however many thread pools come and go (the indexer decodes each chunk in a
    pool of its own). At most `max_archives` archives keep handles; the least recently used
    are closed first.
    """

    def __init__(self, max_archives: int = 16):
        self._max_archives = max_archives
        self._lock = threading.Lock()
        self._free: OrderedDict[Path, list[zipfile.ZipFile]] = OrderedDict()

    def read(self, item: MediaItem) -> bytes:
        """The item's bytes.

        Raises:
            Unreadable: too large, or not an image (see `read_media`).
            OSError, zipfile.BadZipFile, KeyError: the file or member cannot be read.
        """
        if item.member is None:
            return read_media(lambda: item.path.open("rb"), item.size)
        archive = self._take(item.path)
        try:
            return _read_member(archive, item.member)
        finally:
            self._give_back(item.path, archive)

    def close(self) -> None:
        """Close every free handle; later reads open them again."""
        with self._lock:
            pools, self._free = self._free, OrderedDict()
        for handles in pools.values():
            for archive in handles:
                archive.close()

    def __enter__(self) -> MediaReader:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _take(self, path: Path) -> zipfile.ZipFile:
        with self._lock:
            free = self._free.get(path)
            if free:
                self._free.move_to_end(path)
                return free.pop()
        return zipfile.ZipFile(path)

    def _give_back(self, path: Path, archive: zipfile.ZipFile) -> None:
        closing: list[zipfile.ZipFile] = []
        with self._lock:
            self._free.setdefault(path, []).append(archive)
            self._free.move_to_end(path)
            while len(self._free) > self._max_archives:
                closing += self._free.popitem(last=False)[1]
        for old in closing:
            old.close()

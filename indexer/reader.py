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
    """Reads the bytes of media items for the decode threads.

    Each thread keeps its own open `ZipFile` per archive, so reading many members does not parse
    the zip's central directory again each time. At most `max_open_per_thread` archives stay
    open per thread (the least recently used is closed first).
    """

    def __init__(self, max_open_per_thread: int = 16):
        self._max_open = max_open_per_thread
        self._local = threading.local()
        self._lock = threading.Lock()
        self._open: set[zipfile.ZipFile] = set()

    def read(self, item: MediaItem) -> bytes:
        """The item's bytes.

        Raises:
            Unreadable: too large, or not an image (see `read_media`).
            OSError, zipfile.BadZipFile, KeyError: the file or member cannot be read.
        """
        if item.member is None:
            return read_media(lambda: item.path.open("rb"), item.size)
        return _read_member(self._archive(item.path), item.member)

    def close(self) -> None:
        """Close every archive opened by any thread; later reads open them again."""
        with self._lock:
            archives, self._open = self._open, set()
            self._local = threading.local()
        for archive in archives:
            archive.close()

    def __enter__(self) -> MediaReader:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _archive(self, path: Path) -> zipfile.ZipFile:
        cache: OrderedDict[Path, zipfile.ZipFile] | None = getattr(self._local, "zips", None)
        if cache is None:
            cache = self._local.zips = OrderedDict()
        archive = cache.pop(path, None)
        if archive is None:
            archive = zipfile.ZipFile(path)
            with self._lock:
                self._open.add(archive)
            if len(cache) >= self._max_open:
                _, oldest = cache.popitem(last=False)
                with self._lock:
                    self._open.discard(oldest)
                oldest.close()
        cache[path] = archive
        return archive

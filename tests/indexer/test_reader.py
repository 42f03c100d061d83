"""`MediaReader`: zip members read from many threads, with open handles pooled per archive."""

from __future__ import annotations

import threading
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from indexer.media import scan_media
from indexer.reader import MediaReader, read_item
from indexer.records import MediaItem
from tests.indexer.conftest import write_4cat_zip
from tests.indexer.fixtures_media import image_bytes, write_zip


def test_reader_reads_members_from_many_threads_opening_each_zip_once_per_concurrent_read(
    tmp_path, monkeypatch
):
    members = {f"m{i:03}.png": image_bytes("PNG", (i, 255 - i, 7)) for i in range(60)}
    sources = [write_zip(tmp_path / f"{n}.zip", members) for n in ("one", "two")]
    items = [item for source in sources for item in scan_media(source, None).media]
    (tmp_path / "loose.jpg").write_bytes(image_bytes())
    items += scan_media(tmp_path / "loose.jpg", None).media
    expected = [read_item(item) for item in items]

    opened: list[Path] = []
    real_zipfile = zipfile.ZipFile

    def counting(file, *args, **kwargs):
        opened.append(Path(file))
        return real_zipfile(file, *args, **kwargs)

    monkeypatch.setattr(zipfile, "ZipFile", counting)
    threads = 4
    with MediaReader() as reader, ThreadPoolExecutor(threads) as pool:
        for _ in range(3):
            assert list(pool.map(reader.read, items)) == expected
    assert 2 <= len(opened) <= threads * len(sources)


def test_reader_reopens_after_close_and_evicts_old_archives(tmp_path):
    one, two = image_bytes("PNG"), image_bytes("PNG", (1, 2, 3))
    first = write_zip(tmp_path / "1.zip", {"a.jpg": one})
    second = write_zip(tmp_path / "2.zip", {"a.jpg": two})
    [item1], [item2] = scan_media(first, None).media, scan_media(second, None).media
    reader = MediaReader(max_archives=1)
    assert reader.read(item1) == one
    assert reader.read(item2) == two
    assert reader.read(item1) == one
    reader.close()
    assert reader.read(item2) == two
    reader.close()


def test_zip_handles_stay_bounded_across_decode_pools(tmp_path, monkeypatch):
    """Each chunk decodes in a thread pool of its own; a zip handle kept per thread was left
    open when the pool's threads ended (4 more per chunk: 'Too many open files' on a large
    re-index). Handles are pooled per archive instead: at most the reads running at once."""
    import indexer.reader

    archive = tmp_path / "images.zip"
    write_4cat_zip(archive, 40)
    live: set[int] = set()
    lock = threading.Lock()

    class Counted(zipfile.ZipFile):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            with lock:
                live.add(id(self))

        def close(self):
            with lock:
                live.discard(id(self))
            super().close()

    monkeypatch.setattr(indexer.reader.zipfile, "ZipFile", Counted)
    with Counted(archive) as listing:
        members = [n for n in listing.namelist() if n.endswith(".jpeg")]
    items = [MediaItem(archive, member, 0, 0.0, "d") for member in members]
    with MediaReader() as reader:
        for _ in range(10):  # ten chunks, each with a fresh pool of 4 threads
            with ThreadPoolExecutor(4) as pool:
                assert all(pool.map(reader.read, items))
        assert len(live) <= 4, len(live)
    assert not live

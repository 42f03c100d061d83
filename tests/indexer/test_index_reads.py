"""How often an index run reads each file: a new image once (hashed and decoded from the same
bytes; a zip member decompressed once), a file the hash cache knows never."""

from __future__ import annotations

import shutil
import threading
import zipfile
from collections import Counter

import pytest

from indexer.cache import IndexCache
from indexer.pipeline import Indexer
from indexer.reader import MediaReader
from indexer.records import MediaItem
from indexer.run import Sources, run_index
from indexer.sources import collect
from picsift.store.edge import EdgeStore
from tests.indexer.conftest import index, shape_images, write_4cat_zip


def test_each_new_zip_member_is_decompressed_once(tmp_path, monkeypatch):
    archive = tmp_path / "images.zip"
    write_4cat_zip(archive, 12)
    opened: Counter[str] = Counter()
    lock = threading.Lock()
    real_open = zipfile.ZipFile.open

    def counted_open(self, name, *args, **kwargs):
        with lock:
            opened[getattr(name, "filename", name)] += 1
        return real_open(self, name, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "open", counted_open)
    first = index(tmp_path / "store", archive)
    assert first["new"] == 12 and not first["failed"]
    images = {name: n for name, n in opened.items() if name.endswith(".jpeg")}
    assert len(images) == 12
    assert set(images.values()) == {1}, images

    opened.clear()
    again = index(tmp_path / "store", archive)
    assert (again["new"], again["known"]) == (0, 12)
    assert not [name for name in opened if name.endswith(".jpeg")]


class CountingReader:
    """`MediaReader.read`, counting the reads of each file (from any thread)."""

    def __init__(self, reader: MediaReader):
        self.reader = reader
        self.reads: Counter[str] = Counter()
        self.events: list[str] = []  # "read" per read and "write" per batch written, in order
        self._lock = threading.Lock()

    def read(self, item: MediaItem) -> bytes:
        with self._lock:
            self.reads[item.location] += 1
            self.events.append("read")
        return self.reader.read(item)


def _folder(tmp_path, n: int):
    folder = tmp_path / "images"
    folder.mkdir()
    for i, (img, _, _) in enumerate(shape_images(n, seed=11)):
        img.save(folder / f"a{i}.jpg", quality=90)
    return folder


def test_new_files_are_read_once_and_known_files_never(tmp_path, toy_encoder):
    folder = _folder(tmp_path, 5)
    shutil.copyfile(folder / "a0.jpg", folder / "copy of a0.jpg")
    (folder / "truncated.jpg").write_bytes((folder / "a1.jpg").read_bytes()[:300])
    cache = IndexCache(tmp_path / "data")
    with EdgeStore(tmp_path / "store") as store, MediaReader() as reader:
        counting = CountingReader(reader)
        first = run_index(
            store, toy_encoder, cache, tmp_path / "data", Sources((folder,)), read=counting.read
        )
        assert counting.reads == Counter({item: 1 for item in counting.reads})
        assert len(counting.reads) == 7
        report = first.report
        assert (report["new"], report["known"]) == (5, 0)
        (failed,) = report["failed"]
        assert failed["path"].endswith("/truncated.jpg") and "Truncated" in failed["reason"]
        shared = [r.payload for r in store.images.scroll() if len(r.payload["files"]) == 2]

        counting.reads.clear()
        again = run_index(
            store, toy_encoder, cache, tmp_path / "data", Sources((folder,)), read=counting.read
        )
    cache.close()
    assert (again.report["new"], again.report["known"]) == (0, 5)
    # The truncated file is known to the hash cache but not to the store: read for decoding.
    assert list(counting.reads) == [failed["path"]]
    assert [len(p["files"]) for p in shared] == [2]


@pytest.mark.parametrize(
    ("chunk_files", "chunk_bytes", "per_chunk"),
    [(2, 2**30, 2), (512, 1, 1)],  # chunks ended by their count of files, or by their bytes
)
def test_chunks_bound_the_reads_ahead_of_the_writes(
    tmp_path, toy_encoder, chunk_files, chunk_bytes, per_chunk
):
    folder = _folder(tmp_path, 8)
    shutil.copyfile(folder / "a0.jpg", folder / "z copy of a0.jpg")  # in the last chunk
    found = collect([folder], "shapes")
    cache = IndexCache(tmp_path / "data")
    with EdgeStore(tmp_path / "store") as store, MediaReader() as reader:
        counting = CountingReader(reader)
        indexer = Indexer(
            store,
            toy_encoder,
            cache,
            tmp_path / "data",
            read=counting.read,
            on_new=lambda ids: counting.events.append("write"),
            hash_workers=1,
            chunk_files=chunk_files,
            chunk_bytes=chunk_bytes,
        )
        report = indexer.run(found.media, found.posts)
        payloads = [r.payload for r in store.images.scroll()]
    cache.close()
    assert (report.new, report.known, report.failed) == (8, 0, [])
    assert sum(counting.reads.values()) == 9 == len(counting.reads)
    # The first chunk is written before more than its files and the reads in flight (twice the
    # hash workers) are read; the copy of a0, last, is merged into the image its chunk wrote.
    assert counting.events.index("write") <= per_chunk + 2
    assert counting.events.count("write") == 8 // per_chunk
    (shared,) = [p for p in payloads if len(p["files"]) == 2]
    assert sorted(f["path"].rsplit("/", 1)[-1] for f in shared["files"]) == [
        "a0.jpg",
        "z copy of a0.jpg",
    ]


def test_a_chunk_s_bytes_are_let_go_before_the_next_chunk_is_read(tmp_path, toy_encoder):
    """The bytes held while reading are at most one chunk's plus the reads in flight: the loop
    that indexed chunk k no longer keeps its bytes while chunk k+1 is read."""
    import gc

    from indexer.hashing import Hashed

    folder = _folder(tmp_path, 12)
    found = collect([folder], "shapes")
    size = max(m.size for m in found.media)
    held: list[int] = []

    def read(item: MediaItem) -> bytes:
        held.append(sum(len(o.data) for o in gc.get_objects() if type(o) is Hashed and o.data))
        return item.path.read_bytes()

    cache = IndexCache(tmp_path / "data")
    with EdgeStore(tmp_path / "store") as store:
        indexer = Indexer(
            store,
            toy_encoder,
            cache,
            tmp_path / "data",
            read=read,
            hash_workers=1,
            chunk_files=512,
            chunk_bytes=3 * size,
        )
        report = indexer.run(found.media, found.posts)
    cache.close()
    assert report.new == 12
    # One chunk (3 files, the last crossing the limit: at most 4) plus 2 reads in flight.
    assert max(held) <= 6 * size, (max(held) / size, held)

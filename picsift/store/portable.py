"""A portable copy of a store: vectors, payloads and local state in one tar file.

`picsift store export` / `import` move a store between backends (an embedded store growing into
a Qdrant server, or back) without re-embedding. The file holds:

- `manifest.json`: format, version, the store's `StoreMeta`, counts, when and by what;
- `images.jsonl.gz` and `topics.jsonl.gz`: one point per line, `{"id", "vector", "payload"}`,
  the vector as base64 of little-endian float32;
- `notes/<kind>.jsonl.gz`: what researchers made (saved selections, coders, the codebook,
  codings and their log), one record per line (`key`: its name);
- `data/...`: the files of `PICSIFT_DATA` (thumbnails, topic runs, the hash and posts cache),
  without the embedded engine's own files, which the target backend rebuilds.
"""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import io
import json
import sqlite3
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from picsift import __version__
from picsift.errors import InputError, StoreError
from picsift.progress import Progress
from picsift.store.base import Collection, ImageStore, PointData
from picsift.store.notes import KINDS, SELECTIONS
from picsift.store.schema import StoreMeta
from picsift.store.switch import JOURNAL, REPLACED, STAGING

FORMAT = "picsift-store"
VERSION = 1
BATCH = 512
# The embedded engine's files (rebuilt by the target), and what a re-embed cut short left.
# Secrets of the server that runs on the store never leave with it: the key that signs coders'
# cookies (search/routes/coding.py) and the read sessions (search/sessions.py).
SECRETS = {"coder-cookie.key", "sessions.json"}
_SKIP = {"qdrant", ".picsift.lock", STAGING, REPLACED, JOURNAL, *SECRETS}
_SQLITE = ".sqlite"


@dataclass(frozen=True)
class Transfer:
    """What an export or import moved."""

    images: int
    topics: int
    files: int
    selections: int = 0


def _encode(vector: np.ndarray) -> str:
    return base64.b64encode(np.asarray(vector, dtype="<f4").tobytes()).decode("ascii")


def _decode(text: str, dim: int, where: str) -> np.ndarray:
    vector = np.frombuffer(base64.b64decode(text), dtype="<f4")
    if vector.shape != (dim,):
        raise InputError(f"{where}: vector has {vector.size} values, the store's model has {dim}")
    return vector.astype(np.float32)


def _write_points(collection: Collection, path: Path, progress: Progress, total: int) -> int:
    count = 0
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        for record in collection.scroll(with_vectors=True, page_size=BATCH):
            line = {"id": record.id, "vector": _encode(record.vector), "payload": record.payload}
            fh.write(json.dumps(line, ensure_ascii=False) + "\n")
            count += 1
            progress(collection.name, count, total)
    return count


def _data_files(data_dir: Path) -> Iterator[Path]:
    if not data_dir.is_dir():
        return
    for path in sorted(data_dir.rglob("*")):
        relative = path.relative_to(data_dir)
        if relative.parts[0] in _SKIP or not path.is_file():
            continue
        if path.name.endswith((f"{_SQLITE}-wal", f"{_SQLITE}-shm")):
            continue  # the backup below folds them into the database file
        yield path


def _add_file(tar: tarfile.TarFile, path: Path, name: str, tmp: Path) -> None:
    if path.suffix == _SQLITE:
        # A consistent copy even while an indexer writes to the cache.
        copy = tmp / "copy.sqlite"
        copy.unlink(missing_ok=True)
        with sqlite3.connect(path) as src, sqlite3.connect(copy) as dst:
            src.backup(dst)
        path = copy
    tar.add(path, arcname=name, recursive=False)


def export_store(
    store: ImageStore, data_dir: Path, out: Path, progress: Progress | None = None
) -> Transfer:
    """Write the store and its local state to `out` (a tar file).

    Raises:
        StoreError: the store is empty.
    """
    if not store.exists or store.meta is None:
        raise StoreError(f"store {store.location} is empty: nothing to export")
    report = progress or (lambda stage, done, total: None)
    with tempfile.TemporaryDirectory(dir=out.parent) as tmpname:
        tmp = Path(tmpname)
        images = _write_points(store.images, tmp / "images.jsonl.gz", report, store.images.count())
        topics = _write_points(store.topics, tmp / "topics.jsonl.gz", report, store.topics.count())
        (tmp / "notes").mkdir()
        notes = {kind: _write_records(store, kind, tmp / _notes_file(kind)) for kind in KINDS}
        files = list(_data_files(Path(data_dir)))
        manifest = {
            "format": FORMAT,
            "version": VERSION,
            "meta": store.meta.to_dict(),
            "images": images,
            "topics": topics,
            "notes": notes,
            "files": len(files),
            "source": {"backend": store.backend, "location": store.location},
            "picsift": __version__,
            "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        }
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2))
        partial = out.with_name(out.name + ".partial")
        with tarfile.open(partial, "w") as tar:
            names = ["manifest.json", "images.jsonl.gz", "topics.jsonl.gz"]
            for name in names + [_notes_file(kind) for kind in KINDS]:
                tar.add(tmp / name, arcname=name)
            for done, path in enumerate(files, 1):
                _add_file(tar, path, f"data/{path.relative_to(data_dir).as_posix()}", tmp)
                report("files", done, len(files))
        partial.replace(out)
    return Transfer(images, topics, len(files), notes[SELECTIONS])


def _notes_file(kind: str) -> str:
    return f"notes/{kind}.jsonl.gz"


def _write_records(store: ImageStore, kind: str, path: Path) -> int:
    """The records of `kind`, one JSON record a line; how many."""
    count = 0
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        for record in store.notes(kind).all():
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
    return count


def _read_records(tar: tarfile.TarFile, store: ImageStore, kind: str, src: Path) -> int:
    """Load the records of `kind` of an export (none in one made before they were kept)."""
    name = _notes_file(kind)
    try:
        member = tar.extractfile(name)
    except KeyError:
        return 0
    if member is None:
        return 0
    notes = store.notes(kind)
    count = 0
    with gzip.open(io.BufferedReader(member), "rt", encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            try:
                record = json.loads(line)
                key = record.pop("key")
                if not isinstance(key, str):
                    raise TypeError("its key is no name")
            except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
                where = f"{src}:{name} line {number}"
                raise InputError(f"{where}: not a {kind} record ({exc})") from None
            notes.put(key, record)
            count += 1
    return count


def _manifest(tar: tarfile.TarFile, src: Path) -> dict[str, Any]:
    try:
        member = tar.extractfile("manifest.json")
        manifest = json.load(member) if member else None
    except (KeyError, json.JSONDecodeError):
        manifest = None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise InputError(f"{src}: not a picsift store export (no valid manifest.json)")
    if manifest.get("version", 0) > VERSION:
        raise InputError(
            f"{src}: export format version {manifest['version']} is newer than this picsift "
            f"reads ({VERSION}); upgrade picsift"
        )
    return manifest


def _read_points(
    tar: tarfile.TarFile, name: str, collection: Collection, dim: int, src: Path, report: Progress
) -> int:
    member = tar.extractfile(name)
    if member is None:
        raise InputError(f"{src}: {name} is missing")
    count = 0
    batch: list[PointData] = []
    with gzip.open(io.BufferedReader(member), "rt", encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            where = f"{src}:{name} line {number}"
            try:
                item = json.loads(line)
                vector = _decode(item["vector"], dim, where)
                # Text vectors are not exported: made again after the import, in the target
                # store's languages, so their record of what they were made from goes.
                payload = {k: v for k, v in item["payload"].items() if k != "text_sha"}
                batch.append(PointData(item["id"], vector, payload))
            except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
                raise InputError(f"{where}: not a stored point ({exc})") from None
            if len(batch) == BATCH:
                collection.upsert(batch)
                count += len(batch)
                batch = []
                report(collection.name, count, 0)
    if batch:
        collection.upsert(batch)
        count += len(batch)
    return count


def import_store(
    store: ImageStore, data_dir: Path, src: Path, progress: Progress | None = None
) -> Transfer:
    """Load an export into an empty store and its data folder.

    Raises:
        InputError: `src` is not a picsift export, or is damaged.
        StoreError: the target store already holds images.
    """
    if not src.is_file():
        raise InputError(f"{src}: no such file")
    report = progress or (lambda stage, done, total: None)
    if not tarfile.is_tarfile(src):
        raise InputError(f"{src}: not a picsift store export (not a tar file)")
    with tarfile.open(src, "r") as tar:
        manifest = _manifest(tar, src)
        meta = StoreMeta.from_dict(manifest["meta"])
        if store.exists and store.images.count():
            raise StoreError(
                f"store {store.location} already holds {store.images.count():,} images; import "
                "into an empty store (another PICSIFT_STORE or PICSIFT_COLLECTION)"
            )
        made = [kind for kind in KINDS if next(iter(store.notes(kind).all()), None) is not None]
        if made:
            raise StoreError(
                f"store {store.location} already holds {', '.join(made)}; import into an empty "
                "store (another PICSIFT_STORE or PICSIFT_COLLECTION)"
            )
        store.ensure(meta.model, meta.dim)
        images = _read_points(tar, "images.jsonl.gz", store.images, meta.dim, src, report)
        topics = _read_points(tar, "topics.jsonl.gz", store.topics, meta.dim, src, report)
        notes = {kind: _read_records(tar, store, kind, src) for kind in KINDS}
        store.images.optimize()
        store.topics.optimize()
        members = [m for m in tar.getmembers() if m.name.startswith("data/") and m.isfile()]
        data_dir.mkdir(parents=True, exist_ok=True)
        for done, member in enumerate(members, 1):
            member.name = member.name.removeprefix("data/")
            tar.extract(member, data_dir, filter="data")
            report("files", done, len(members))
    return Transfer(images, topics, len(members), notes[SELECTIONS])

"""Local index state in PICSIFT_DATA (one SQLite file): the hash cache, so unchanged files are
not read again, and the posts cache, so a post table indexed before its media is joined later."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from pathlib import Path

from indexer.records import MediaItem, Post

_SCHEMA = """
CREATE TABLE IF NOT EXISTS hashes (
    location TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime REAL NOT NULL, sha256 TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS posts (
    dataset TEXT NOT NULL, post_id TEXT NOT NULL, post TEXT NOT NULL,
    PRIMARY KEY (dataset, post_id)
);
CREATE INDEX IF NOT EXISTS posts_by_id ON posts (post_id);
"""


class IndexCache:
    """SQLite-backed caches; every write is committed at once (a killed run keeps them)."""

    def __init__(self, data_dir: Path):
        data_dir.mkdir(parents=True, exist_ok=True)
        self.path = data_dir / "index-cache.sqlite"
        # Several `--shard` workers may share one PICSIFT_DATA: WAL lets them write in turn.
        self._db = sqlite3.connect(self.path, check_same_thread=False, timeout=60)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)

    def cached_hash(self, item: MediaItem) -> str | None:
        """The file's SHA-256 if it was hashed before with the same size and mtime."""
        row = self._db.execute(
            "SELECT sha256 FROM hashes WHERE location = ? AND size = ? AND mtime = ?",
            (item.location, item.size, item.mtime),
        ).fetchone()
        return row[0] if row else None

    def remember_hashes(self, hashed: Iterable[tuple[MediaItem, str]]) -> None:
        """Store `(item, sha256)` pairs."""
        with self._db:
            self._db.executemany(
                "INSERT OR REPLACE INTO hashes VALUES (?, ?, ?, ?)",
                [(i.location, i.size, i.mtime, sha) for i, sha in hashed],
            )

    def remember_posts(self, posts: Iterable[Post]) -> None:
        """Keep posts from a table until their media arrive (replaces older copies)."""
        with self._db:
            self._db.executemany(
                "INSERT OR REPLACE INTO posts VALUES (?, ?, ?)",
                [(p.dataset, p.post_id, json.dumps(p.to_payload())) for p in posts],
            )

    def find_posts(self, dataset: str, post_ids: Iterable[str]) -> dict[str, Post]:
        """Cached posts by id: from `dataset` first, else from any dataset (a table indexed
        under another name than its archive); found posts are relabelled to `dataset`."""
        found: dict[str, Post] = {}
        for post_id in set(post_ids):
            row = self._db.execute(
                "SELECT post FROM posts WHERE post_id = ? ORDER BY dataset != ? LIMIT 1",
                (post_id, dataset),
            ).fetchone()
            if row:
                data = json.loads(row[0]) | {"dataset": dataset}
                found[post_id] = Post.from_payload(data)
        return found

    def forget_dataset(self, dataset: str) -> None:
        """Drop a dataset's cached posts (`picsift remove`)."""
        with self._db:
            self._db.execute("DELETE FROM posts WHERE dataset = ?", (dataset,))

    def close(self) -> None:
        """Close the database."""
        self._db.close()

"""Local index state in PICSIFT_DATA (one SQLite file): the hash cache, so unchanged files are
not read again, and the posts cache, so a post table indexed before its media is joined later.

A post is identified by (dataset, post id). A table indexed alone, without `--dataset`, is
cached under its file stem; when the archive that uses its posts arrives, its posts move to the
archive's dataset and the stem is kept as an alias of it (the same table indexed again later
goes to the same dataset, and `picsift remove` of that dataset takes it out too).
"""

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
CREATE TABLE IF NOT EXISTS aliases (name TEXT PRIMARY KEY, dataset TEXT NOT NULL);
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
            (item.key, item.size, item.mtime),
        ).fetchone()
        return row[0] if row else None

    def remember_hashes(self, hashed: Iterable[tuple[MediaItem, str]]) -> None:
        """Store `(item, sha256)` pairs."""
        with self._db:
            self._db.executemany(
                "INSERT OR REPLACE INTO hashes VALUES (?, ?, ?, ?)",
                [(i.key, i.size, i.mtime, sha) for i, sha in hashed],
            )

    def remember_posts(self, posts: Iterable[Post]) -> None:
        """Keep posts from a table until their media arrive (replaces older copies)."""
        with self._db:
            self._db.executemany(
                "INSERT OR REPLACE INTO posts VALUES (?, ?, ?)",
                [(p.dataset, p.post_id, json.dumps(p.to_payload())) for p in posts],
            )

    def find_posts(self, dataset: str, post_ids: Iterable[str]) -> dict[str, Post]:
        """Cached posts of `dataset` by id (never another dataset's)."""
        found: dict[str, Post] = {}
        for post_id in set(post_ids):
            row = self._db.execute(
                "SELECT post FROM posts WHERE dataset = ? AND post_id = ?", (dataset, post_id)
            ).fetchone()
            if row:
                found[post_id] = Post.from_payload(json.loads(row[0]))
        return found

    def holders(self, post_ids: Iterable[str]) -> dict[str, int]:
        """How many of `post_ids` each cached dataset (or table stem) holds."""
        counts: dict[str, int] = {}
        for post_id in set(post_ids):
            for (dataset,) in self._db.execute(
                "SELECT dataset FROM posts WHERE post_id = ?", (post_id,)
            ):
                counts[dataset] = counts.get(dataset, 0) + 1
        return counts

    def size(self, dataset: str) -> int:
        """How many posts are cached under `dataset` (0: it has no table)."""
        return self._db.execute(
            "SELECT count(*) FROM posts WHERE dataset = ?", (dataset,)
        ).fetchone()[0]

    def alias(self, name: str) -> str | None:
        """The dataset a table stem was joined to, if any."""
        row = self._db.execute("SELECT dataset FROM aliases WHERE name = ?", (name,)).fetchone()
        return row[0] if row else None

    def bind(self, name: str, dataset: str) -> None:
        """Join the table cached as `name` to `dataset`: its posts move there (posts the
        dataset already has from its own table stay) and `name` becomes an alias."""
        with self._db:
            for post_id, post in self._db.execute(
                "SELECT post_id, post FROM posts WHERE dataset = ?", (name,)
            ).fetchall():
                data = json.loads(post) | {"dataset": dataset}
                self._db.execute(
                    "INSERT OR IGNORE INTO posts VALUES (?, ?, ?)",
                    (dataset, post_id, json.dumps(data)),
                )
            self._db.execute("DELETE FROM posts WHERE dataset = ?", (name,))
            self._db.execute("INSERT OR REPLACE INTO aliases VALUES (?, ?)", (name, dataset))

    def forget_dataset(self, dataset: str) -> None:
        """Drop a dataset's cached posts and its aliases (`picsift remove`)."""
        with self._db:
            self._db.execute(
                "DELETE FROM posts WHERE dataset = ? OR dataset IN "
                "(SELECT name FROM aliases WHERE dataset = ?)",
                (dataset, dataset),
            )
            self._db.execute("DELETE FROM aliases WHERE dataset = ?", (dataset,))

    def close(self) -> None:
        """Close the database."""
        self._db.close()

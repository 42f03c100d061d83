"""Plain records that flow through the indexer: posts from tables, media files from sources."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

EXTRA_MAX_CHARS = 2000


def printable(text: str) -> str:
    """`text` as valid UTF-8. A file name may hold bytes that are not UTF-8 (`b'bad\\xff.jpg'`);
    Python keeps them as lone surrogates, which SQLite, JSON and Qdrant refuse, so they are
    written as `\\xff` wherever a name is stored or shown (the file itself is still read by its
    real name)."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def raw_name(text: str) -> str | None:
    """The bytes of a name that is not valid UTF-8, as hex (None for a valid name), so the exact
    file can be found again from what is stored."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogateescape").hex()
    return None


@dataclass(frozen=True)
class Post:
    """One post (a row of a 4CAT table), as stored in an image's `posts` payload."""

    dataset: str
    post_id: str
    author: str = ""
    timestamp: str = ""  # ISO 8601 UTC, e.g. 2024-01-31T12:00:00Z; "" when unknown
    ts: int | None = None  # unix seconds of `timestamp`
    url: str = ""
    body: str = ""
    hashtags: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)

    def to_payload(self) -> dict[str, Any]:
        """The JSON form stored in Qdrant (long strings in `extra` cut at 2,000 chars)."""
        extra = {k: v[:EXTRA_MAX_CHARS] if isinstance(v, str) else v for k, v in self.extra.items()}
        return {
            "dataset": self.dataset,
            "post_id": self.post_id,
            "author": self.author,
            "timestamp": self.timestamp,
            "ts": self.ts,
            "url": self.url,
            "body": self.body,
            "hashtags": list(self.hashtags),
            "extra": extra,
        }

    @classmethod
    def from_payload(cls, data: dict[str, Any]) -> Post:
        """Inverse of `to_payload`."""
        return cls(
            dataset=data["dataset"],
            post_id=data["post_id"],
            author=data.get("author", ""),
            timestamp=data.get("timestamp", ""),
            ts=data.get("ts"),
            url=data.get("url", ""),
            body=data.get("body", ""),
            hashtags=tuple(data.get("hashtags", ())),
            extra=dict(data.get("extra", {})),
        )


@dataclass(frozen=True)
class MediaItem:
    """One image or video file found in a source: a file on disk, or a member of a zip."""

    path: Path  # the file, or the zip that holds it
    member: str | None  # name inside the zip, None for plain files
    size: int
    mtime: float  # of the file, or of the zip for members
    dataset: str
    post_ids: tuple[str, ...] = ()  # posts that used this file (from .metadata.json, a table)
    kind: str = "image"  # or "video"

    @property
    def _where(self) -> str:
        return f"{self.path}!{self.member}" if self.member is not None else str(self.path)

    @property
    def location(self) -> str:
        """Where the bytes are, for reports: path or `zip!member`, printable."""
        return printable(self._where)

    @property
    def key(self) -> str:
        """The file's exact identity as storable text: its location, or for a name that is not
        UTF-8 a NUL (which no path holds) and the name's bytes in hex, so two names that print
        alike never share a cache entry."""
        raw = raw_name(self._where)
        return self._where if raw is None else "\0" + raw


@dataclass
class Failure:
    """Something that could not be used, with the reason, for the report."""

    path: str
    reason: str


@dataclass
class ScanResult:
    """What a source yielded: media items or posts, plus what went wrong along the way."""

    dataset: str
    media: list[MediaItem] = field(default_factory=list)
    posts: list[Post] = field(default_factory=list)
    failed: list[Failure] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    skipped: list[Failure] = field(default_factory=list)  # files that are not images, and why

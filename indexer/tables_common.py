"""Shared by the table readers: timestamps, hashtags, and the collector that turns rows into posts.

Every reader (CSV, NDJSON, image tables) produces `Draft`s and hands them to a `PostCollector`,
which parses the timestamps, drops repeated post ids and summarises what went wrong in one
warning per kind of problem, so a file with 10,000 bad dates gives one line, not 10,000.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from indexer.records import Failure, Post, ScanResult

_NUMBER = re.compile(r"[+-]?\d+(\.\d*)?")
_HASHTAG_SPLIT = re.compile(r"[,\s]+")
# Unix seconds stay below 1e11 until the year 5138; above that the number is milliseconds.
_MILLIS_FROM = 1e11


def parse_timestamp(value: Any) -> tuple[str, int | None] | None:
    """Read a timestamp as 4CAT and the platforms write it.

    Accepts `YYYY-MM-DD HH:MM:SS` (UTC), ISO 8601 strings with or without an offset (naive ones
    are UTC), unix seconds (int, float or digits) and unix milliseconds (13 digits).

    Args:
        value: The raw cell or JSON value.

    Returns:
        `(iso, ts)` with `iso` like `2024-01-31T12:00:00Z` and `ts` the unix seconds;
        `("", None)` for an empty value; None when the value is there but cannot be read.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return "", None
    if isinstance(value, bool):
        return None
    try:
        if isinstance(value, int | float):
            moment = _from_unix(float(value))
        else:
            text = str(value).strip()
            if _NUMBER.fullmatch(text):
                moment = _from_unix(float(text))
            else:
                moment = datetime.fromisoformat(text)
    except (ValueError, OverflowError, OSError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ"), math.floor(moment.timestamp())


def _from_unix(seconds: float) -> datetime:
    if not math.isfinite(seconds):
        raise ValueError("not a finite number")
    if abs(seconds) >= _MILLIS_FROM:
        seconds /= 1000
    return datetime.fromtimestamp(seconds, tz=UTC)


def split_hashtags(value: str) -> tuple[str, ...]:
    """`"fyp, #news cats"` -> `("fyp", "news", "cats")`: comma or space separated, `#` dropped."""
    return unique(tag.lstrip("#") for tag in _HASHTAG_SPLIT.split(value))


def unique(values: Any) -> tuple[str, ...]:
    """The non-empty strings of `values`, first occurrence kept, in order."""
    return tuple(dict.fromkeys(str(v) for v in values if v not in (None, "")))


@dataclass
class Draft:
    """A post before its timestamp is parsed and its id checked against the earlier rows."""

    post_id: str
    author: str = ""
    body: str = ""
    url: str = ""
    hashtags: tuple[str, ...] = ()
    times: list[tuple[str, Any]] = field(default_factory=list)  # (column, raw value), in order
    extra: dict[str, Any] = field(default_factory=dict)


def at(line: int | str) -> str:
    """`line 12` for line numbers, other places (`row 3`, `item 3`) as they are."""
    return f"line {line}" if isinstance(line, int) else line


class PostCollector:
    """Gathers the posts, failures and warnings of one file into a `ScanResult`."""

    def __init__(self, path: Path, dataset: str, *, warn_repeats: bool = True) -> None:
        """Start an empty result for `path`, whose posts belong to `dataset`.

        Args:
            path: The file read, named in every failure and warning.
            dataset: The dataset the posts belong to.
            warn_repeats: Whether a repeated post id is worth a warning (it is not in image
                tables, where a post with three images has three rows).
        """
        self.path = path
        self.result = ScanResult(dataset=dataset)
        self._warn_repeats = warn_repeats
        self._seen: set[str] = set()
        self._tallies: dict[str, tuple[int, str]] = {}

    def fail(self, line: int | str | None, reason: str) -> None:
        """Record a row (or, with `line` None, the whole file) that could not be used."""
        place = str(self.path) if line is None else f"{self.path}:{line}"
        self.result.failed.append(Failure(path=place, reason=reason))

    def warn(self, message: str) -> None:
        """Record a problem with the whole file, prefixed with its path."""
        self.result.warnings.append(f"{self.path}: {message}")

    def note(self, problem: str, where: str) -> None:
        """Count a row-level problem; `finish` turns each kind into one warning.

        Args:
            problem: What is wrong, worded to follow "N row(s)", e.g. "have an empty date".
            where: The first place it happened, e.g. "line 12, column 'timestamp'".
        """
        count, first = self._tallies.get(problem, (0, where))
        self._tallies[problem] = (count + 1, first)

    def add(self, draft: Draft, line: int | str) -> Post | None:
        """Turn `draft` into a post, unless its id was already seen in this file.

        Returns:
            The new post, or None for a repeated id (only the first row of an id is kept).
        """
        if draft.post_id in self._seen:
            if self._warn_repeats:
                self.note(
                    "repeat an earlier post id, only the first row of each id is kept",
                    f"{at(line)}, id {draft.post_id!r}",
                )
            return None
        self._seen.add(draft.post_id)
        iso, ts = self._timestamp(draft.times, line)
        post = Post(
            dataset=self.result.dataset,
            post_id=draft.post_id,
            author=draft.author,
            timestamp=iso,
            ts=ts,
            url=draft.url,
            body=draft.body,
            hashtags=draft.hashtags,
            extra=draft.extra,
        )
        self.result.posts.append(post)
        return post

    def _timestamp(self, times: list[tuple[str, Any]], line: int | str) -> tuple[str, int | None]:
        bad: str | None = None
        for column, value in times:
            parsed = parse_timestamp(value)
            if parsed is None:
                bad = bad or f"{at(line)}, column {column!r}, value {str(value)[:40]!r}"
            elif parsed[1] is not None:
                return parsed
        if bad:
            self.note("have a timestamp that cannot be read, those posts have no date", bad)
        return "", None

    def finish(self) -> ScanResult:
        """Add one summary warning per kind of row-level problem and return the result."""
        for problem, (count, first) in self._tallies.items():
            self.warn(f"{count} row(s) {problem} (first at {first})")
        self._tallies.clear()
        return self.result

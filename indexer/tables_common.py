"""Shared by the table readers: timestamps, hashtags, CSV records, and the collector that turns
rows into posts.

Every reader (CSV, NDJSON, image tables) produces `Draft`s and hands them to a `PostCollector`,
which parses the timestamps, drops repeated post ids and summarises what went wrong in one
warning per kind of problem, so a file with 10,000 bad dates gives one line, not 10,000.
"""

from __future__ import annotations

import codecs
import csv
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from indexer.records import Failure, Post, ScanResult

_NUMBER = re.compile(r"[+-]?\d+(\.\d*)?")
_HASHTAG_SPLIT = re.compile(r"[,\s]+")
# Unix seconds stay below 1e11 until the year 5138; above that the number is milliseconds.
_MILLIS_FROM = 1e11

# 4CAT bodies and transcripts can exceed the csv module's default 128 KiB field limit.
csv.field_size_limit(2**31 - 1)


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
        self._seen: dict[str, tuple[int, float | None]] = {}  # id -> (index, capture time)
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

    def add(self, draft: Draft, line: int | str, capture: float | None = None) -> Post | None:
        """Turn `draft` into a post, unless its id was already seen in this file.

        Args:
            draft: The row's post.
            line: Where it is, for warnings.
            capture: When the row was captured (Zeeschuimer's `last_updated`): of rows with
                the same id and capture times, the newest is kept, in the place of the first.

        Returns:
            The new post, or None for a repeated id (only the first row of an id is kept,
            unless a newer capture replaces it).
        """
        if draft.post_id in self._seen:
            return self._repeat(draft, line, capture)
        self._seen[draft.post_id] = (len(self.result.posts), capture)
        post = self._post(draft, line)
        self.result.posts.append(post)
        return post

    def _repeat(self, draft: Draft, line: int | str, capture: float | None) -> Post | None:
        index, earlier = self._seen[draft.post_id]
        if capture is None or earlier is None:
            if self._warn_repeats:
                self.note(
                    "repeat an earlier post id, only the first row of each id is kept",
                    f"{at(line)}, id {draft.post_id!r}",
                )
            return None
        self.note(
            "hold a post captured again (Zeeschuimer), the newest capture of each is kept",
            f"{at(line)}, id {draft.post_id!r}",
        )
        if capture <= earlier:
            return None
        self._seen[draft.post_id] = (index, capture)
        post = self._post(draft, line)
        self.result.posts[index] = post
        return post

    def _post(self, draft: Draft, line: int | str) -> Post:
        iso, ts = self._timestamp(draft.times, line)
        return Post(
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

    def _timestamp(self, times: list[tuple[str, Any]], line: int | str) -> tuple[str, int | None]:
        bad: str | None = None
        zero: str | None = None
        for column, value in times:
            parsed = parse_timestamp(value)
            if parsed is None:
                bad = bad or f"{at(line)}, column {column!r}, value {str(value)[:40]!r}"
            elif parsed[1] == 0:
                zero = zero or f"{at(line)}, column {column!r}"
            elif parsed[1] is not None:
                return parsed
        if zero:
            self.note(
                "have the time 0 (1970-01-01), which 4CAT writes when the platform gave no "
                "time; those posts have no date",
                zero,
            )
        if bad:
            self.note("have a timestamp that cannot be read, those posts have no date", bad)
        return "", None

    def finish(self) -> ScanResult:
        """Add one summary warning per kind of row-level problem and return the result."""
        for problem, (count, first) in self._tallies.items():
            self.warn(f"{count} row(s) {problem} (first at {first})")
        self._tallies.clear()
        return self.result


def csv_rows(path: Path, collector: PostCollector) -> Iterator[tuple[int, list[str]]]:
    """`(first line number, cells)` of each non-blank record of a CSV/TSV file, the header
    first.

    A quote left open swallows the rows after it into one cell, up to the end of the file or
    to the next quote. Such a record fails at the line and column of its quote, and the lines
    after that line are read again as rows. It is told by running into the end of the file,
    by the csv module giving up on it, or, for a record over several lines, by quotes that
    strict CSV (as 4CAT and spreadsheets write it) does not allow. A record over several lines
    with another cell count than the header's is kept, with a warning.
    """
    encoding = _csv_encoding(path, collector)
    with path.open(encoding=encoding, newline="") as handle:
        first_line = handle.readline()
        handle.seek(0)
        delimiter = _delimiter(first_line, path.suffix.lower())
        lines = _Lines(handle)
        reader = csv.reader(lines, delimiter=delimiter)
        width = None
        while True:
            start = lines.start_record()
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                _runaway_quote(lines, start, delimiter, collector, f"unreadable CSV record ({exc})")
                continue
            if lines.ended or (len(lines.record) > 1 and not _strict(lines.record, delimiter)):
                _runaway_quote(lines, start, delimiter, collector, "unreadable CSV record")
                continue
            if len(lines.record) > 1 and width is not None and len(cells) != width:
                collector.note(
                    f"span several lines and do not have the header's {width} cells: a stray "
                    "quote may have joined rows",
                    f"lines {start}-{lines.number}",
                )
            if any("\0" in cell for cell in cells):
                collector.note("hold NUL characters (removed)", f"line {start}")
                cells = [cell.replace("\0", "") for cell in cells]
            if any(cell.strip() for cell in cells):
                width = len(cells) if width is None else width
                yield start, cells


class _Lines:
    """The file's lines for `csv.reader`, keeping those of the record being read, so that a
    record that went wrong can be read again from one of its lines."""

    def __init__(self, handle: Iterator[str]) -> None:
        self._handle = handle
        self._again: list[str] = []  # lines to hand out again, the next one last
        self.record: list[str] = []
        self.number = 0  # of the last line handed out
        self.ended = False  # the current record ran into the end of the file

    def start_record(self) -> int:
        """Begin a record; returns the number of its first line."""
        self.record, self.ended = [], False
        return self.number + 1

    def read_again(self, first: int) -> None:
        """Hand out the current record's lines again, from its line numbered `first` on."""
        start = self.number - len(self.record) + 1
        self._again.extend(reversed(self.record[first - start :]))
        self.number = first - 1

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        try:
            line = self._again.pop() if self._again else next(self._handle)
        except StopIteration:
            self.ended = True
            raise
        self.record.append(line)
        self.number += 1
        return line


def _strict(record: list[str], delimiter: str) -> bool:
    try:
        list(csv.reader(record, delimiter=delimiter, strict=True))
    except csv.Error:
        return False
    return True


def _runaway_quote(
    lines: _Lines, start: int, delimiter: str, collector: PostCollector, otherwise: str
) -> None:
    """Fail a record that went wrong. When a quoted cell in it runs over a line end, the
    failure names that quote's line and column, and the lines after that line are read again;
    otherwise the record fails at its first line with the reason `otherwise`."""
    quote = _spanning_quote("".join(lines.record), delimiter)
    if quote is None:
        collector.fail(start, otherwise)
        return
    line = start
    for text in lines.record:
        if quote < len(text):
            break
        quote -= len(text)
        line += 1
    collector.fail(
        line,
        f"the quote at column {quote + 1} is not closed where it should be: the text after it, "
        f"to line {lines.number}, was read as one cell; this row is skipped and the lines "
        "after it are read as rows",
    )
    lines.read_again(line + 1)


def _spanning_quote(text: str, delimiter: str) -> int | None:
    """Offset of the first quote whose quoted cell runs over a line end or is still open at
    the end of `text` (CSV as the csv module reads it with its defaults), or None."""
    opened, state = 0, "start"
    for offset, char in enumerate(text):
        if state == "quoted":
            if char in "\r\n":
                return opened
            state = "closing" if char == '"' else state
        elif state == "closing" and char == '"':  # a doubled quote inside a quoted cell
            state = "quoted"
        elif state == "start" and char == '"':
            state, opened = "quoted", offset
        else:
            state = "start" if char in (delimiter, "\n", "\r") else "cell"
    return opened if state == "quoted" else None


# Byte-order marks, longest first: UTF-32's LE mark starts with UTF-16's.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def bom_encoding(head: bytes) -> str | None:
    """The encoding a byte-order mark at the start of `head` announces (Excel saves
    "Unicode text" as UTF-16 with one), None without a mark."""
    return next((name for bom, name in _BOMS if head.startswith(bom)), None)


def _csv_encoding(path: Path, collector: PostCollector) -> str:
    """The byte-order mark's encoding, else UTF-8, else latin-1 with a warning naming the
    first bad line."""
    with path.open("rb") as handle:
        marked = bom_encoding(handle.read(4))
    if marked:
        return marked
    with path.open("rb") as handle:
        for line, raw in enumerate(handle, 1):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError:
                collector.warn(
                    f"not valid UTF-8 (first at line {line}); read as latin-1, so accented "
                    "characters may be wrong"
                )
                return "latin-1"
    return "utf-8-sig"


def _delimiter(first_line: str, suffix: str) -> str:
    if suffix == ".tsv":
        return "\t"
    counts = {sep: first_line.count(sep) for sep in ",\t;"}
    best = max(counts, key=lambda sep: counts[sep])
    return best if counts[best] else ","

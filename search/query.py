"""A search request as plain data, validated, and its translation to a store filter."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from picsift.errors import InputError
from picsift.store import Filter, IsEmpty, Match, MatchAny, Range, Text

MAX_QUERY_CHARS = 1000
MAX_LIMIT = 1000


@dataclass(frozen=True)
class SearchRequest:
    """What to look for (texts to add and subtract) and where (filters)."""

    q: tuple[str, ...] = ()
    not_: tuple[str, ...] = ()
    text: str | None = None
    topics: tuple[int, ...] = ()
    exclude_topics: tuple[int, ...] = ()
    datasets: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    date_from: str | None = None
    date_to: str | None = None
    has_caption: bool | None = None
    limit: int = 20
    offset: int = 0

    def validate(self) -> SearchRequest:
        """Raise InputError naming the parameter when something is out of range."""
        if not any(s.strip() for s in self.q):
            raise InputError("q: the query is empty; say what to look for, e.g. 'red circle'")
        for name, texts in (("q", self.q), ("not", self.not_)):
            for text in texts:
                if len(text) > MAX_QUERY_CHARS:
                    raise InputError(
                        f"{name}: {len(text):,} characters, over the {MAX_QUERY_CHARS:,} limit"
                    )
        if not 1 <= self.limit <= MAX_LIMIT:
            raise InputError(f"limit: must be within 1..{MAX_LIMIT}, got {self.limit}")
        if self.offset < 0:
            raise InputError(f"offset: must be 0 or more, got {self.offset}")
        for name in ("date_from", "date_to"):
            _day(name, getattr(self, name))
        return self

    def to_filter(self) -> Filter | None:
        """The store filter of this request's conditions (None when there are none)."""
        must: list = []
        must_not: list = []
        for key, values in (
            ("topic", self.topics),
            ("datasets", self.datasets),
            ("posts[].author", self.authors),
            ("tags", self.tags),
        ):
            if values:
                must.append(MatchAny(key, tuple(values)))
        if self.exclude_topics:
            must_not.append(MatchAny("topic", tuple(self.exclude_topics)))
        start, end = _day("date_from", self.date_from), _day("date_to", self.date_to)
        if start is not None or end is not None:
            end_ts = end + 86_400 if end is not None else None  # date_to includes that day
            must.append(Range("posts[].ts", gte=start, lt=end_ts))
        if self.has_caption is True:
            must_not.append(IsEmpty("caption"))
        elif self.has_caption is False:
            must.append(IsEmpty("caption"))
        if self.text and self.text.strip():
            words = self.text.strip()
            must.append(
                Filter(
                    should=(
                        Text("caption", words),
                        Text("posts[].body", words),
                        Match("posts[].hashtags", words.lstrip("#").lower()),
                    )
                )
            )
        flt = Filter(must=tuple(must), must_not=tuple(must_not))
        return flt or None


def _day(name: str, value: str | None) -> int | None:
    """Unix seconds at 00:00 UTC of an ISO date (YYYY-MM-DD)."""
    if value is None or value == "":
        return None
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise InputError(f"{name}: {value!r} is not a date; use YYYY-MM-DD") from None
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp())

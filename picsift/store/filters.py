"""Backend-neutral payload filters; each backend translates them to its own Qdrant types.

Keys may address list elements with Qdrant's `[]` syntax (`posts[].dataset`): such a condition
holds when *any* element matches. Conditions that must hold for the *same* element of a list
of objects (one post by this author in this date range) go in a `Nested` filter.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

Scalar = Union[str, int, bool]  # noqa: UP007 (a runtime alias used in isinstance-free typing)


@dataclass(frozen=True)
class Match:
    """`key` equals `value` (for a list field: contains it)."""

    key: str
    value: Scalar


@dataclass(frozen=True)
class MatchAny:
    """`key` equals one of `values`."""

    key: str
    values: tuple[Scalar, ...]


@dataclass(frozen=True)
class Range:
    """Numeric range on `key`; bounds left as None are open."""

    key: str
    gte: float | None = None
    lte: float | None = None
    gt: float | None = None
    lt: float | None = None


@dataclass(frozen=True)
class Text:
    """Full-text match: every word of `text` occurs in `key` (needs a text payload index)."""

    key: str
    text: str


@dataclass(frozen=True)
class HasId:
    """Point id is one of `ids`."""

    ids: tuple[str, ...]


@dataclass(frozen=True)
class IsEmpty:
    """`key` is missing, null or an empty list."""

    key: str


@dataclass(frozen=True)
class Filter:
    """All of `must`, at least one of `should` (when given), none of `must_not`."""

    must: tuple[Condition, ...] = field(default_factory=tuple)
    should: tuple[Condition, ...] = field(default_factory=tuple)
    must_not: tuple[Condition, ...] = field(default_factory=tuple)

    def __bool__(self) -> bool:
        return bool(self.must or self.should or self.must_not)


@dataclass(frozen=True)
class Nested:
    """Some element of the list of objects at `key` meets all of `filter` (its keys are
    relative to the element: `author`, not `posts[].author`)."""

    key: str
    filter: Filter


Condition = Union[Match, MatchAny, Range, Text, HasId, IsEmpty, Nested, Filter]  # noqa: UP007

"""A search request as plain data, validated, and its translation to a store filter."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any, Literal, get_args

from picsift.errors import InputError
from picsift.names import check_dataset, check_text
from picsift.store import Filter, HasId, IsEmpty, Match, MatchAny, Nested, Range, Text

MAX_LIMIT = 1000
MAX_VALUES = 100  # per repeated filter parameter (topic=..&topic=..)
MAX_TERMS = 20  # per q / not: each distinct term is one text encoding under the model lock
GroupBy = Literal["post", "author", "video"]
GROUPS = get_args(GroupBy)
Mode = Literal["image", "text", "hybrid"]
Sort = Literal["engagement"]  # None: by score with a query, newest first without
SORTS = get_args(Sort)
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
MODES = get_args(Mode)


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
    variant: str | None = None  # a variant group's id: only its images
    selection: str | None = None  # a saved selection's name: only its images
    code: str | None = None  # only the images a coder applied this code to
    coder: str | None = None  # only the images this coder coded (with `code`: applied it)
    limit: int = 20
    offset: int = 0
    group_by: GroupBy | None = None
    min_score: float | None = None  # hits scoring below it are not returned
    # What a text query ranks by: the image (CLIP), the images' text (BM25), or both fused;
    # None: decided by `resolved`.
    mode: Mode | None = None
    # "engagement": most engaged first (an image's likes, comments and shares over its posts;
    # ties in score or browse order); a ranking is sorted within its end (see `SearchService`).
    sort: Sort | None = None
    # The images of `selection`, and those `code`/`coder` select, read from the store by
    # `SearchService.with_stored` (never parameters); None until then.
    selection_ids: tuple[str, ...] | None = None
    coded_ids: tuple[str, ...] | None = None

    @classmethod
    def from_options(
        cls,
        *,
        q: Sequence[str] | None = None,
        not_: Sequence[str] | None = None,
        topic: Sequence[int] | None = None,
        exclude_topic: Sequence[int] | None = None,
        dataset: Sequence[str] | None = None,
        author: Sequence[str] | None = None,
        tag: Sequence[str] | None = None,
        **rest: Any,
    ) -> SearchRequest:
        """A request from repeatable options as the CLI and the API receive them (singular
        names, None when not given); `rest` are the single-valued fields."""
        return cls(
            q=tuple(q or ()),
            not_=tuple(not_ or ()),
            topics=tuple(topic or ()),
            exclude_topics=tuple(exclude_topic or ()),
            datasets=tuple(dataset or ()),
            authors=tuple(author or ()),
            tags=tuple(tag or ()),
            **rest,
        )

    @property
    def terms(self) -> tuple[str, ...]:
        """The non-blank positive terms, stripped."""
        return tuple(t.strip() for t in self.q if t.strip())

    @property
    def negatives(self) -> tuple[str, ...]:
        """The non-blank terms to subtract, stripped (a form's empty `not=` means none)."""
        return tuple(t.strip() for t in self.not_ if t.strip())

    def validate(self, *, require_query: bool = True) -> SearchRequest:
        """Raise InputError naming the parameter when something is out of range.

        Args:
            require_query: A text query must be given (export and image search need none).
        """
        if require_query and not self.terms:
            raise InputError("q: the query is empty; say what to look for, e.g. 'red circle'")
        for name, terms in (("q", self.q), ("not", self.not_)):
            if len(terms) > MAX_TERMS:
                raise InputError(f"{name}: {len(terms)} terms, over the {MAX_TERMS} limit")
        for name, texts in (("q", self.q), ("not", self.not_), ("text", (self.text or "",))):
            for text in texts:
                check_text(name, text)
        for name, values in (
            ("topic", self.topics),
            ("exclude_topic", self.exclude_topics),
            ("dataset", self.datasets),
            ("author", self.authors),
            ("tag", self.tags),
        ):
            if len(values) > MAX_VALUES:
                raise InputError(f"{name}: {len(values)} values, over the {MAX_VALUES} limit")
        for name, values in (("author", self.authors), ("tag", self.tags)):
            for value in values:
                check_text(name, value)
                if not value.strip():
                    raise InputError(f"{name}: empty value; leave {name} out to not filter by it")
        for value in self.datasets:
            check_dataset(value)
        for name in ("selection", "code", "coder"):
            value = getattr(self, name)
            if value is not None:
                check_text(name, value)
                if not value.strip():
                    raise InputError(f"{name}: empty; leave {name} out to not filter by it")
        if self.variant is not None and not _UUID.fullmatch(self.variant):
            raise InputError(
                f"variant: {self.variant[:40]!r} is not a variant group's id (the `variant` "
                "of an image, a UUID)"
            )
        if not 1 <= self.limit <= MAX_LIMIT:
            raise InputError(f"limit: must be within 1..{MAX_LIMIT}, got {self.limit}")
        if self.offset < 0:
            raise InputError(f"offset: must be 0 or more, got {self.offset}")
        self._validate_mode()
        if self.sort is not None and self.sort not in SORTS:
            raise InputError(f"sort: must be 'engagement' (or left out), got {self.sort!r}")
        if self.group_by is not None and self.group_by not in GROUPS:
            raise InputError(
                f"group_by: must be 'post', 'author' or 'video', got {self.group_by!r}"
            )
        start, end = _day("date_from", self.date_from), _day("date_to", self.date_to)
        if start is not None and end is not None and start > end:
            raise InputError(f"date_from: {self.date_from} is after date_to {self.date_to}")
        return self

    def resolved(self, has_text: Callable[[], bool]) -> SearchRequest:
        """The request with its mode decided: the one asked for, else hybrid for a text query
        without a cut where `has_text()` (some image has text to match), else image. A cut
        with no mode is a cosine, as it was before there were modes."""
        if self.mode is not None:
            return self
        hybrid = bool(self.terms) and self.min_score is None and has_text()
        return replace(self, mode="hybrid" if hybrid else "image")

    def _validate_mode(self) -> None:
        """The mode, and what each mode's scores can be cut at: a cosine in image mode (and
        with no mode, see `resolved`), a BM25 score in text mode, nothing in hybrid mode (a
        fused rank is no measure)."""
        if self.mode is not None and self.mode not in MODES:
            raise InputError(f"mode: must be 'image', 'text' or 'hybrid', got {self.mode!r}")
        cosine = self.mode in (None, "image")
        # `not a <= x <= b` also refuses NaN, which no comparison satisfies.
        if cosine and self.min_score is not None and not -1 <= self.min_score <= 1:
            raise InputError(f"min_score: a cosine similarity, within -1..1, got {self.min_score}")
        if self.mode == "text" and self.min_score is not None and not self.min_score >= 0:
            raise InputError(
                f"min_score: a BM25 score (text mode), 0 or more, got {self.min_score}"
            )
        if self.mode == "hybrid" and self.min_score is not None:
            raise InputError(
                "min_score: hybrid mode ranks by fused rank, which measures nothing to cut at; "
                "take the top hits (limit), or cut in mode=image (cosine) or mode=text (BM25)"
            )
        if self.mode == "text" and self.negatives:
            raise InputError(
                "not: subtracting terms works on the image ranking; leave it out in text mode, "
                "or use mode=image or mode=hybrid"
            )

    def to_filter(self) -> Filter | None:
        """The store filter of this request's conditions (None when there are none).

        Author and date conditions, and the dataset with them, must hold for the same post
        (a nested condition on `posts`); a dataset alone matches images in it by a post or a
        file.
        """
        must: list = []
        must_not: list = []
        for key, values in (("topic", self.topics), ("tags", self.tags)):
            if values:
                must.append(MatchAny(key, tuple(values)))
        post = self.post_filter()
        if post is not None:
            must.append(Nested("posts", post))
        elif self.datasets:
            must.append(MatchAny("datasets", tuple(self.datasets)))
        if self.exclude_topics:
            must_not.append(MatchAny("topic", tuple(self.exclude_topics)))
        if self.variant:
            must.append(Match("variant", self.variant))
        if self.selection is not None:
            if self.selection_ids is None:
                raise ValueError("read the selection first (SearchService.with_stored)")
            must.append(HasId(self.selection_ids))
        if self.code is not None or self.coder is not None:
            if self.coded_ids is None:
                raise ValueError("read the codings first (SearchService.with_stored)")
            must.append(HasId(self.coded_ids))
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
                        Text("ocr.text", words),
                        Text("posts[].body", words),
                        Match("posts[].hashtags", words.lstrip("#").lower()),
                    )
                )
            )
        flt = Filter(must=tuple(must), must_not=tuple(must_not))
        return flt or None

    @property
    def selects_posts(self) -> bool:
        """Whether post filters (dataset, author, dates) pick which of an image's posts count."""
        return bool(self.datasets or self.authors or any(v is not None for v in self.time_range()))

    def post_filter(self) -> Filter | None:
        """The conditions one post must meet, relative to the post (None without author or
        date filters)."""
        start, end = self.time_range()
        if not self.authors and start is None and end is None:
            return None
        must: list = []
        if self.datasets:
            must.append(MatchAny("dataset", tuple(self.datasets)))
        if self.authors:
            must.append(MatchAny("author", tuple(self.authors)))
        if start is not None or end is not None:
            must.append(Range("ts", gte=start, lt=end))
        return Filter(must=tuple(must))

    def time_range(self) -> tuple[int | None, int | None]:
        """`[start, end)` in unix seconds of the date filters (date_to includes that day)."""
        start, end = _day("date_from", self.date_from), _day("date_to", self.date_to)
        return start, (end + 86_400 if end is not None else None)

    def post_matches(self, post: dict[str, Any]) -> bool:
        """Whether one post meets the post-level filters (dataset, author, dates)."""
        if self.datasets and post.get("dataset") not in self.datasets:
            return False
        if self.authors and post.get("author") not in self.authors:
            return False
        start, end = self.time_range()
        ts = post.get("ts")
        if start is not None and (ts is None or ts < start):
            return False
        return not (end is not None and (ts is None or ts >= end))

    def to_params(self, *, page: bool = True) -> list[tuple[str, str]]:
        """The request as the API's query string reads it (the inverse of `search_request`
        in search/deps.py); with `page`, `limit` and `offset` too."""
        params = [("limit", str(self.limit)), ("offset", str(self.offset))] if page else []
        for name, values in (
            ("q", self.q),
            ("not", self.not_),
            ("topic", self.topics),
            ("exclude_topic", self.exclude_topics),
            ("dataset", self.datasets),
            ("author", self.authors),
            ("tag", self.tags),
        ):
            params += [(name, str(v)) for v in values]
        if self.mode is not None:
            params.append(("mode", self.mode))
        for name in (
            "text",
            "date_from",
            "date_to",
            "variant",
            "selection",
            "code",
            "coder",
            "sort",
            "group_by",
            "min_score",
            "has_caption",
        ):
            value = getattr(self, name)
            if value is not None and value != "":
                params.append((name, str(value).lower() if isinstance(value, bool) else str(value)))
        return params

    def describe(self) -> dict[str, Any]:
        """The query and filters as plain JSON (for manifests), unset ones left out."""
        resolved = ("selection_ids", "coded_ids")
        out = {k.rstrip("_"): v for k, v in asdict(self).items() if k not in resolved}
        out |= {"q": self.terms, "not": self.negatives}
        return {
            k: list(v) if isinstance(v, tuple) else v for k, v in out.items() if v not in (None, ())
        }


def _day(name: str, value: str | None) -> int | None:
    """Unix seconds at 00:00 UTC of an ISO date (YYYY-MM-DD)."""
    if value is None or value == "":
        return None
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise InputError(f"{name}: {value[:40]!r} is not a date; use YYYY-MM-DD") from None
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp())

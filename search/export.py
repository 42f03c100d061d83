"""Post-level export (one row per post and image) as CSV or NDJSON (its methods manifest is in
`search.manifest`). Shared by `GET /api/export` and `picsift export`."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from indexer.records import EXTRA_MAX_CHARS
from picsift.errors import InputError
from picsift.store import ImageStore
from picsift.store.notes import CODINGS
from search.matches import Relevance
from search.query import SearchRequest
from search.service import MIN_SCORE_WITHOUT_Q, NOT_WITHOUT_Q, SearchService

Format = Literal["csv", "ndjson", "gexf"]  # gexf: the image-account network (search.network)
MAX_RANKED = 100_000  # images of a ranking exported at most
API_CUT = ("limit: ", "limit=N", "min_score=S")  # how the refusal names the cut's options
CLI_CUT = ("", "--limit N", "--min-score S")
COLUMNS = (
    "post_id",
    "dataset",
    "image_id",
    "sha256",
    "video_id",
    "frame_time",
    "variant",
    "variant_size",
    "topic",
    "topic_label",
    "topic_score",
    "caption",
    "ocr_text",
    "author",
    "timestamp",
    "url",
    "body",
    "hashtags",
    "tags",
    "codes",
    "coders",
    "score",
    "rank",
    "n_posts",
    "width",
    "height",
)
# The table's other columns (each post's `extra`): CSV headers `extra.NAME`, NDJSON an `extra`
# object, so no name can collide with COLUMNS (none has a dot) and a header never starts as a
# formula. The CSV needs its header first: without `columns`, a first pass over the selection
# finds the names (in first-seen order across the rows); NDJSON rows carry their own.
EXTRA_PREFIX = "extra."
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "ndjson": "application/x-ndjson",
    "gexf": "application/gexf+xml",
}
# OWASP's rule against CSV injection: a spreadsheet runs a cell starting with these as a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
ESCAPING = {
    "csv": "text cells starting with =, +, -, @, a tab or a carriage return get a leading ' "
    "(OWASP's rule against CSV injection: a spreadsheet would run them as formulas); numbers and "
    "all other text are written as stored, control and text-direction characters included "
    "(RFC 4180 quoting, CRLF line ends), an extra column's other values (true, lists) as JSON; "
    "the NDJSON export has every value exactly",
    "ndjson": "none: every value is exactly as stored",
    "gexf": "XML escaping of every label and attribute (networkx's GEXF writer)",
}


def checked(
    service: SearchService,
    request: SearchRequest,
    limit: int | None,
    names: tuple[str, str, str] = API_CUT,
) -> SearchRequest:
    """The request validated for an export (naming the parameter when it is not valid),
    its mode decided (`SearchRequest.resolved`).

    A ranking has no end of its own (every image gets a score for any text), so the export
    of a ranked query must say where to cut it: the best `limit`, those scoring at least
    `min_score`, or both; the refusal names the query's strong-match edge to help choose.

    Args:
        names: How the message names the options (`API_CUT`, `CLI_CUT`).

    Raises:
        InputError: a bad filter, an unknown topic, `not` or `min_score` without `q` (an
            export without a query is not ranked), or a ranked export without a cut.
    """
    request = service.with_stored(request.validate(require_query=False))
    if request.negatives and not request.terms:
        raise InputError(NOT_WITHOUT_Q)
    if request.min_score is not None and not request.terms:
        raise InputError(MIN_SCORE_WITHOUT_Q)
    service.check_topics(request.topics + request.exclude_topics)
    chosen = request.mode is None
    request = request.resolved(service.fusion.has_text)
    # A text ranking ends where no word matches; an image or hybrid one never does.
    ends = request.mode == "text"
    if request.terms and limit is None and request.min_score is None and not ends:
        if request.mode == "hybrid":
            message = (
                f"{names[0]}a hybrid ranking has no end and no score to cut at: export its "
                f"best N ({names[1]})"
            )
            if chosen:
                message += (
                    f"; no mode was given, and the store's images have text, so it ranks "
                    f"hybrid: a cut ({names[2]}) with no mode ranks by the image instead"
                )
            raise InputError(message)
        raise InputError(cut_message(service.relevance(request), names))
    return request


def cut_message(relevance: Relevance | None, names: tuple[str, str, str]) -> str:
    """Why a ranked export needs a cut, and what the query's edge suggests."""
    prefix, limit, min_score = names
    if relevance is None:
        edge = ""
    elif relevance.edge is None:
        edge = "; the store is too small to estimate a strong-match edge"
    else:
        above = f"{relevance.strong:,}{'+' if relevance.strong_capped else ''}"
        edge = (
            f"; the strong-match edge for this query is {relevance.edge:.2f}, with {above} "
            "images above it"
        )
    return (
        f"{prefix}export of a ranked query needs a cut: {limit} (the best N) and/or "
        f"{min_score} (those scoring at least S; see the score distribution in the UI or "
        f"`picsift search` output{edge})"
    )


@dataclass
class Counts:
    """What an export wrote (filled in while the rows stream)."""

    rows: int = 0
    images: int = 0
    extra: dict[str, None] = field(default_factory=dict)  # extra columns met, first-seen order
    extra_at_max: int = 0  # extra text cells of EXTRA_MAX_CHARS characters: maybe cut


def parse_columns(text: str | None, name: str = "columns") -> tuple[str, ...] | None:
    """The extra columns asked for, `a,b` (names stripped, repeats dropped); None: all.

    Raises:
        InputError: naming `name`, for an empty name.
    """
    if text is None:
        return None
    names = [part.strip() for part in text.split(",")]
    if not all(names):
        raise InputError(f"{name}: an empty column name in {text!r}; give names like likes,plays")
    return tuple(dict.fromkeys(names))


def extra_columns(
    service: SearchService,
    request: SearchRequest,
    limit: int | None,
    fmt: Format,
    wanted: tuple[str, ...] | None,
    name: str = "columns",
) -> tuple[str, ...] | None:
    """The extra columns an export writes: `wanted` (checked against those of the exported
    posts), else all of them in first-seen order; None for an NDJSON export of all, whose
    rows carry their own (no first pass). Other exports read the selection once first.

    Raises:
        InputError: naming `name`, for a wanted column no exported post has.
    """
    if wanted is None and fmt == "ndjson":
        return None
    found: dict[str, None] = {}
    for _, hit in selected(service, request, limit):
        for post in selected_posts(hit.payload, request):
            found.update(dict.fromkeys(post.get("extra") or {}))
    if wanted is None:
        return tuple(found)
    unknown = [c for c in wanted if c not in found]
    if unknown:
        known = ", ".join(map(repr, found)) if found else "none"
        raise InputError(
            f"{name}: no column {unknown[0]!r} in the exported posts; their columns: {known}"
        )
    return wanted


def rows(
    service: SearchService,
    request: SearchRequest,
    limit: int | None,
    counts: Counts,
    extra: tuple[str, ...] | None,
) -> Iterator[dict[str, Any]]:
    """The export rows: with text terms the `limit` best images scoring at least `min_score`
    (ranked; at most `MAX_RANKED` without a limit), else every image matching the filters
    (at most `limit`); with `group_by`, the first image of each post, author or video in
    that order (newest first without terms), as search gives them. A video frame's row
    names its video and time (`video_id`, `frame_time`; empty for an image). Post filters
    (dataset, author, dates) also pick which of an image's posts become rows; an image with
    no post in the selection (one in a dataset by its file alone) gives one row with empty
    post fields. A row's `extra` holds the post's `extra` columns named in `extra` (all of
    them for None), those the post has."""
    labels = service.topic_labels()
    keep = None if extra is None else set(extra)
    coded = codings_by_image(service.store, request.coder)
    for rank, hit in selected(service, request, limit):
        counts.images += 1
        payload = hit.payload
        base = _image_columns(hit, payload, labels, rank if request.terms else None)
        given = coded.get(hit.id, {})
        base |= {
            "codes": sorted(set().union(*given.values())) if given else [],
            "coders": sorted(given),
        }
        for post in selected_posts(payload, request) or [{}]:
            counts.rows += 1
            stored = post.get("extra") or {}
            cells = {k: stored[k] for k in stored if keep is None or k in keep}
            counts.extra.update(dict.fromkeys(cells))
            counts.extra_at_max += sum(
                isinstance(v, str) and len(v) >= EXTRA_MAX_CHARS for v in cells.values()
            )
            yield base | {
                "post_id": post.get("post_id", ""),
                "dataset": post.get("dataset") or _dataset(payload, request),
                "author": post.get("author", ""),
                "timestamp": post.get("timestamp", ""),
                "url": post.get("url", ""),
                "body": post.get("body", ""),
                "hashtags": list(post.get("hashtags") or []),
                "extra": cells,
            }


def codings_by_image(store: ImageStore, coder: str | None) -> dict[str, dict[str, list[str]]]:
    """Image id -> coder -> their latest codes (only `coder`'s, when given)."""
    found: dict[str, dict[str, list[str]]] = {}
    for coding in store.notes(CODINGS).all():
        if coder is None or coding["coder"] == coder:
            found.setdefault(coding["image_id"], {})[coding["coder"]] = coding["codes"]
    return found


def selected(
    service: SearchService, request: SearchRequest, limit: int | None
) -> Iterator[tuple[int, Any]]:
    """The selected images with their places (1, 2, ...), in export order."""
    hits: Iterable
    if request.group_by:
        hits = service.groups(request)
    elif request.terms:
        hits = service.ranked(request, limit or MAX_RANKED)
    else:
        hits = service.scroll(request)
    for rank, hit in enumerate(hits, 1):
        if limit is not None and rank > limit:
            return
        yield rank, hit


def selected_posts(payload: dict, request: SearchRequest) -> list[dict[str, Any]]:
    """The image's posts that the post filters select."""
    return [p for p in payload.get("posts") or [] if request.post_matches(p)]


def _dataset(payload: dict, request: SearchRequest) -> str:
    """The image's first dataset that the request selects (any, without a dataset filter)."""
    datasets = payload.get("datasets") or []
    return next((d for d in datasets if not request.datasets or d in request.datasets), "")


def _image_columns(hit: Any, payload: dict, labels: dict[int, str], rank: int | None) -> dict:
    topic = payload.get("topic")
    return {
        "image_id": hit.id,
        "sha256": payload.get("sha256", ""),
        "video_id": payload.get("video_id"),
        "frame_time": payload.get("frame_time"),
        "variant": payload.get("variant"),
        "variant_size": payload.get("variant_size"),
        "topic": topic,
        "topic_label": labels.get(topic) if topic is not None else None,
        "topic_score": payload.get("topic_score"),
        "caption": payload.get("caption"),
        "ocr_text": (payload.get("ocr") or {}).get("text"),
        "tags": list(payload.get("tags") or []),
        "score": round(float(hit.score), 6) if rank is not None else None,
        "rank": rank,
        "n_posts": payload.get("n_posts"),
        "width": payload.get("width"),
        "height": payload.get("height"),
    }


def encode(
    records: Iterable[dict[str, Any]], fmt: Format, extra: tuple[str, ...] | None
) -> Iterator[str]:
    """Rows as text chunks: CSV (RFC 4180, CRLF line ends; header first, COLUMNS then
    `extra.NAME` for each of `extra`; lists joined by commas, empty for null, other JSON values
    of an extra column as JSON, text a spreadsheet would run as a formula led by a `'`) or
    NDJSON (one JSON object a line, the extra columns in an `extra` object, lists kept, every
    value exact)."""
    if fmt == "ndjson":
        for row in records:
            line = {k: row[k] for k in COLUMNS} | {"extra": row["extra"]}
            yield json.dumps(line, ensure_ascii=False) + "\n"
        return
    if extra is None:
        raise ValueError("a CSV export needs its extra columns named (see extra_columns)")
    buffer = io.StringIO()
    # RFC 4180's CRLF: the writer quotes cells holding the terminator's characters, so a post
    # with a bare carriage return in its text stays one cell (with "\n" it split the row).
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS + tuple(EXTRA_PREFIX + name for name in extra))
    for row in records:
        cells = row["extra"]
        writer.writerow(
            [_cell(row[k]) for k in COLUMNS] + [_extra_cell(cells.get(k)) for k in extra]
        )
        if buffer.tell() > 1 << 16:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, list):
        value = ",".join(map(str, value))
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _extra_cell(value: Any) -> Any:
    """An extra column's value in a CSV cell: JSON for what is not text or a number."""
    if isinstance(value, bool | list | dict):
        value = json.dumps(value, ensure_ascii=False)
    return _cell(value)

"""Post-level export (one row per post and image) as CSV or NDJSON, with a methods manifest
that says how the set was made. Shared by `GET /api/export` and `picsift export`."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

from picsift import __version__
from picsift.errors import InputError
from picsift.settings import Settings
from picsift.store.ranking import RANK_WINDOWS
from search.matches import Relevance
from search.query import SearchRequest
from search.service import MIN_SCORE_WITHOUT_Q, NOT_WITHOUT_Q, SearchService
from topics.table import current_run, list_topics, run_dir

Format = Literal["csv", "ndjson"]
MAX_RANKED = 100_000  # images of a ranking exported at most
API_CUT = ("limit: ", "limit=N", "min_score=S")  # how the refusal names the cut's options
CLI_CUT = ("", "--limit N", "--min-score S")
COLUMNS = (
    "post_id",
    "dataset",
    "image_id",
    "sha256",
    "topic",
    "topic_label",
    "topic_score",
    "caption",
    "author",
    "timestamp",
    "url",
    "body",
    "hashtags",
    "tags",
    "score",
    "rank",
    "n_posts",
    "width",
    "height",
)
MEDIA_TYPES = {"csv": "text/csv; charset=utf-8", "ndjson": "application/x-ndjson"}
# OWASP's rule against CSV injection: a spreadsheet runs a cell starting with these as a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
ESCAPING = {
    "csv": "text cells starting with =, +, -, @, a tab or a carriage return get a leading ' "
    "(OWASP's rule against CSV injection: a spreadsheet would run them as formulas); numbers and "
    "all other text are written as stored, control and text-direction characters included "
    "(RFC 4180 quoting, CRLF line ends); the NDJSON export has every value exactly",
    "ndjson": "none: every value is exactly as stored",
}


def checked(
    service: SearchService,
    request: SearchRequest,
    limit: int | None,
    names: tuple[str, str, str] = API_CUT,
) -> SearchRequest:
    """The request validated for an export (naming the parameter when it is not valid).

    A ranking has no end of its own (every image gets a score for any text), so the export
    of a ranked query must say where to cut it: the best `limit`, those scoring at least
    `min_score`, or both; the refusal names the query's strong-match edge to help choose.

    Args:
        names: How the message names the options (`API_CUT`, `CLI_CUT`).

    Raises:
        InputError: a bad filter, an unknown topic, `not` or `min_score` without `q` (an
            export without a query is not ranked), or a ranked export without a cut.
    """
    request.validate(require_query=False)
    if request.negatives and not request.terms:
        raise InputError(NOT_WITHOUT_Q)
    if request.min_score is not None and not request.terms:
        raise InputError(MIN_SCORE_WITHOUT_Q)
    service.check_topics(request.topics + request.exclude_topics)
    if request.terms and limit is None and request.min_score is None:
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


def rows(
    service: SearchService, request: SearchRequest, limit: int | None, counts: Counts
) -> Iterator[dict[str, Any]]:
    """The export rows: with text terms the `limit` best images scoring at least `min_score`
    (ranked; at most `MAX_RANKED` without a limit), else every image matching the filters
    (at most `limit`); with `group_by`, the first image of each post or
    author in that order (newest first without terms), as search gives them. Post filters
    (dataset, author, dates) also pick which of an image's posts become rows; an image with
    no post in the selection (one in a dataset by its file alone) gives one row with empty
    post fields."""
    labels = service.topic_labels()
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
        counts.images += 1
        payload = hit.payload
        posts = [p for p in payload.get("posts") or [] if request.post_matches(p)]
        base = _image_columns(hit, payload, labels, rank if request.terms else None)
        for post in posts or [{}]:
            counts.rows += 1
            yield base | {
                "post_id": post.get("post_id", ""),
                "dataset": post.get("dataset") or _dataset(payload, request),
                "author": post.get("author", ""),
                "timestamp": post.get("timestamp", ""),
                "url": post.get("url", ""),
                "body": post.get("body", ""),
                "hashtags": list(post.get("hashtags") or []),
            }


def _topic_edits(service: SearchService) -> dict[str, dict[str, Any]]:
    """The researcher's renames and merges of the current run, by topic id: a topic filter
    on a merged topic covers the topics it absorbed."""
    return {
        str(t.topic): {
            "label": t.label,
            "auto_label": t.auto_label,
            "renamed": t.renamed,
            "merged_from": t.merged_from,
        }
        for t in list_topics(service.store)
        if t.renamed or t.merged_from
    }


def _edit_log(settings: Settings, run: str | None) -> list[dict[str, Any]]:
    """The run's edit log (`edits.jsonl`), oldest first."""
    path = run_dir(settings.data_dir, run) / "edits.jsonl" if run else None
    if path is None or not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def _selection(request: SearchRequest, limit: int | None) -> str:
    group = (
        f"; one image per {request.group_by} (the first of each, grouped by the image's "
        "earliest post)"
        if request.group_by
        else ""
    )
    if not request.terms:
        first = f" (first {limit:,})" if limit else ""
        order = ", newest first" if request.group_by else ""
        return f"every image matching the filters{first}{order}{group}"
    if request.min_score is None:
        which = f"the {limit:,} images most similar to the query (cosine, CLIP)"
    else:
        most = f"the {limit:,} best" if limit else f"at most {MAX_RANKED:,},"
        which = (
            f"the images scoring at least {request.min_score} for the query (cosine, CLIP; "
            f"{most} best first)"
        )
    return (
        f"{which} that match the filters{group}; ranks 1-{RANK_WINDOWS[0]} by approximate "
        f"(HNSW) search with ef {RANK_WINDOWS[0]}, ranks up to {RANK_WINDOWS[-1]:,} by "
        f"approximate search with ef {RANK_WINDOWS[-1]:,} (those not already ranked), deeper "
        "ranks by exact search"
    )


def _cut(service: SearchService, request: SearchRequest, limit: int | None) -> dict[str, Any]:
    """Where a ranking was cut, and where the query's strong matches end (null without a
    query: an export of the filters alone is not ranked)."""
    relevance = service.relevance(request) if request.terms else None
    return {
        "limit": limit,
        "min_score": request.min_score,
        "edge": relevance.edge if relevance else None,
        "strong": relevance.strong if relevance else None,
        "strong_capped": relevance.strong_capped if relevance else False,
        "verdict": relevance.verdict if relevance else None,
        "method": relevance.method if relevance else None,
    }


def _dataset(payload: dict, request: SearchRequest) -> str:
    """The image's first dataset that the request selects (any, without a dataset filter)."""
    datasets = payload.get("datasets") or []
    return next((d for d in datasets if not request.datasets or d in request.datasets), "")


def _image_columns(hit: Any, payload: dict, labels: dict[int, str], rank: int | None) -> dict:
    topic = payload.get("topic")
    return {
        "image_id": hit.id,
        "sha256": payload.get("sha256", ""),
        "topic": topic,
        "topic_label": labels.get(topic) if topic is not None else None,
        "topic_score": payload.get("topic_score"),
        "caption": payload.get("caption"),
        "tags": list(payload.get("tags") or []),
        "score": round(float(hit.score), 6) if rank is not None else None,
        "rank": rank,
        "n_posts": payload.get("n_posts"),
        "width": payload.get("width"),
        "height": payload.get("height"),
    }


def encode(records: Iterable[dict[str, Any]], fmt: Format) -> Iterator[str]:
    """Rows as text chunks: CSV (RFC 4180, CRLF line ends; header first; lists joined by
    commas, empty for null, text a spreadsheet would run as a formula led by a `'`) or NDJSON
    (one JSON object a line, lists kept, every value exact)."""
    if fmt == "ndjson":
        for row in records:
            yield json.dumps({k: row[k] for k in COLUMNS}, ensure_ascii=False) + "\n"
        return
    buffer = io.StringIO()
    # RFC 4180's CRLF: the writer quotes cells holding the terminator's characters, so a post
    # with a bare carriage return in its text stays one cell (with "\n" it split the row).
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in records:
        writer.writerow([_cell(row[k]) for k in COLUMNS])
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


def manifest(
    service: SearchService,
    settings: Settings,
    request: SearchRequest,
    fmt: Format,
    limit: int | None,
    counts: Counts | None,
) -> dict[str, Any]:
    """How an export was made: software, model, topic run and its parameters, query, filters."""
    store = service.store
    run = current_run(settings.data_dir)
    return {
        "picsift_version": __version__,
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "format": fmt,
        "csv_escaping": ESCAPING[fmt],
        "columns": list(COLUMNS),
        "rows": counts.rows if counts else None,
        "images": counts.images if counts else None,
        "model": store.meta.model if store.meta else None,
        "query_encoding": service.texts.encoder.text_description,
        "store": {
            "backend": store.backend,
            "collection": store.collection,
            "images": store.images.count() if store.exists else 0,
            "images_per_dataset": store.images.facet("datasets") if store.exists else {},
        },
        "topic_run": run.to_dict() if run else None,
        "topic_edits": _topic_edits(service),
        "topic_edit_log": _edit_log(settings, run.run if run else None),
        "query": {"q": list(request.terms), "not": list(request.negatives)},
        "filters": {
            k: v
            for k, v in request.describe().items()
            if k not in ("q", "not", "limit", "offset", "min_score")
        },
        "cut": _cut(service, request, limit),
        "selection": _selection(request, limit),
        "rows_are": "one per (post, image); post filters (dataset, author, dates) select the "
        "posts, and author and dates must hold for the same post; an image with no post in "
        "the selection (in a dataset by its file alone) has one row with empty post fields",
    }

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
from picsift.store.base import RANK_WINDOWS
from search.query import SearchRequest
from search.service import NOT_WITHOUT_Q, SearchService
from topics.table import current_run, list_topics, run_dir

Format = Literal["csv", "ndjson"]
DEFAULT_RANKED = 1000  # images exported for a text query when no limit is given
MAX_RANKED = 100_000
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


def checked(service: SearchService, request: SearchRequest) -> SearchRequest:
    """The request validated for an export (naming the parameter when it is not valid).

    Raises:
        InputError: a bad filter, an unknown topic, or `not` without `q` (an export without
            a query is not ranked, so there is nothing to subtract from).
    """
    request.validate(require_query=False)
    if request.negatives and not request.terms:
        raise InputError(NOT_WITHOUT_Q)
    service.check_topics(request.topics + request.exclude_topics)
    return request


@dataclass
class Counts:
    """What an export wrote (filled in while the rows stream)."""

    rows: int = 0
    images: int = 0


def rows(
    service: SearchService, request: SearchRequest, limit: int | None, counts: Counts
) -> Iterator[dict[str, Any]]:
    """The export rows: with text terms the `limit` best images (ranked), else every image
    matching the filters (at most `limit`); with `group_by`, the first image of each post or
    author in that order (newest first without terms), as search gives them. Post filters
    (dataset, author, dates) also pick which of an image's posts become rows; an image with
    no post in the selection (one in a dataset by its file alone) gives one row with empty
    post fields."""
    labels = service.topic_labels()
    cap = limit or (DEFAULT_RANKED if request.terms else None)
    hits: Iterable
    if request.group_by:
        hits = service.groups(request)
    elif request.terms:
        hits = service.ranked(request, cap or DEFAULT_RANKED)
    else:
        hits = service.scroll(request)
    for rank, hit in enumerate(hits, 1):
        if cap is not None and rank > cap:
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
    return (
        f"the {limit or DEFAULT_RANKED:,} images most similar to the query (cosine, CLIP) that "
        f"match the filters{group}; ranks 1-{RANK_WINDOWS[0]} by approximate (HNSW) search "
        f"with ef {RANK_WINDOWS[0]}, ranks up to {RANK_WINDOWS[-1]:,} by approximate search "
        f"with ef {RANK_WINDOWS[-1]:,} (those not already ranked), deeper ranks by exact search"
    )


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
    """Rows as text chunks: CSV (header first; lists joined by commas, empty for null) or
    NDJSON (one JSON object a line, lists kept)."""
    if fmt == "ndjson":
        for row in records:
            yield json.dumps({k: row[k] for k in COLUMNS}, ensure_ascii=False) + "\n"
        return
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
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
        return ",".join(map(str, value))
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
            k: v for k, v in request.describe().items() if k not in ("q", "not", "limit", "offset")
        },
        "selection": _selection(request, limit),
        "rows_are": "one per (post, image); post filters (dataset, author, dates) select the "
        "posts, and author and dates must hold for the same post; an image with no post in "
        "the selection (in a dataset by its file alone) has one row with empty post fields",
    }

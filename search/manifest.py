"""The methods manifest of an export: software, model, topic run and its edits, query,
filters, where the ranking was cut and how it was searched. Written beside every export
(`picsift export`'s .manifest.json, `GET /api/export/manifest`)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from indexer.records import EXTRA_MAX_CHARS
from picsift import __version__
from picsift.settings import Settings
from picsift.store import Filter, HasId
from picsift.store.notes import CODEBOOK, CODERS, SELECTIONS
from picsift.store.ranking import RANK_WINDOWS
from picsift.store.status import media_counts
from picsift.text import AVG_LEN, K1, PARTS, B
from search.export import COLUMNS, ESCAPING, EXTRA_PREFIX, MAX_RANKED, Counts, Format
from search.fused import DEPTH, RRF_K
from search.network import Merge, NetworkCounts, describe
from search.query import SearchRequest
from search.service import SearchService
from topics.table import current_run, list_topics, run_dir


def manifest(
    service: SearchService,
    settings: Settings,
    request: SearchRequest,
    fmt: Format,
    limit: int | None,
    counts: Counts | None,
    extra: tuple[str, ...] | None,
    wanted: tuple[str, ...] | None,
) -> dict[str, Any]:
    """How an export was made: software, model, topic run and its parameters, query, filters.

    Args:
        extra: The extra columns written, as `extra_columns` gave them (None: those that
            `counts` met, an NDJSON export of all).
        wanted: The extra columns asked for (None: all).
    """
    store = service.store
    run = current_run(settings.data_dir)
    written = list(extra if extra is not None else (counts.extra if counts else ()))
    columns = list(COLUMNS)
    if fmt == "csv":
        columns += [EXTRA_PREFIX + name for name in written]
    else:
        columns.append("extra")
    return {
        "picsift_version": __version__,
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "format": fmt,
        "csv_escaping": ESCAPING[fmt],
        "columns": columns,
        "extra_columns": written,
        "extra_columns_are": "the table's other columns, kept in each post's `extra` (CSV "
        f"headers {EXTRA_PREFIX}NAME, NDJSON an `extra` object of those the post has): "
        + (
            "those asked for (columns)"
            if wanted is not None
            else "all that the exported posts have, in first-seen order"
        ),
        "extra_cut": _extra_cut(counts),
        "rows": counts.rows if counts else None,
        "images": counts.images if counts else None,
        "model": store.meta.model if store.meta else None,
        # An export without a query encodes no text (and loads no text model to say how).
        "query_encoding": service.texts.encoder.text_description if request.terms else None,
        "score": _score(service, request),
        "store": _store(service),
        "topic_run": run.to_dict() if run else None,
        "topic_edits": _topic_edits(service),
        "topic_edit_log": _edit_log(settings, run.run if run else None),
        "query": {"q": list(request.terms), "not": list(request.negatives)},
        "filters": {
            k: v
            for k, v in request.describe().items()
            if k not in ("q", "not", "limit", "offset", "min_score", "mode")
        },
        "search": _search(service, request),
        "cut": _cut(service, request, limit),
        "selection": _selection(request, limit, service.texts.encoder.kind),
        "saved_selection": _saved(service, request),
        "coding": _coding(service, request),
        "rows_are": "one per (post, image); post filters (dataset, author, dates) select the "
        "posts, and author and dates must hold for the same post; an image with no post in "
        "the selection (in a dataset by its file alone) has one row with empty post fields",
    }


def network_manifest(
    service: SearchService,
    settings: Settings,
    request: SearchRequest,
    limit: int | None,
    counts: NetworkCounts,
    merge: Merge,
) -> dict[str, Any]:
    """How a GEXF network export was made: the manifest of the same selection, its graph
    described in place of a table's columns and rows (`search.network.describe`)."""
    table = ("columns", "extra_columns", "extra_columns_are", "extra_cut", "rows", "rows_are")
    made = manifest(service, settings, request, "gexf", limit, None, (), None)
    kept = {k: v for k, v in made.items() if k not in table}
    return kept | {"images": counts.images} | describe(counts, merge)


def _coding(service: SearchService, request: SearchRequest) -> dict[str, Any] | None:
    """The codebook and the coders behind the `codes` and `coders` columns (and a `code` or
    `coder` filter); null in a store without a codebook."""
    store = service.store
    book = list(store.notes(CODEBOOK).all())
    if not book:
        return None
    return {
        "codebook": sorted(
            ({"code": r["code"], "description": r["description"]} for r in book),
            key=lambda c: c["code"],
        ),
        "coders": sorted(r["name"] for r in store.notes(CODERS).all()),
        "codes_are": "each coder's latest codes for the image, from the coding log; `codes` "
        "is their union (only the `coder` filter's coder's, when given), `coders` the coders "
        "who saw the image (an image seen and left without codes counts as seen)",
    }


def _saved(service: SearchService, request: SearchRequest) -> dict[str, Any] | None:
    """The saved selection the export was kept to: how it was made, by whom, when, and how
    many of its images are in the store now (null without `selection`)."""
    if request.selection is None:
        return None
    saved = service.store.notes(SELECTIONS).get(request.selection) or {}
    ids = request.selection_ids or ()
    present = service.store.images.count(Filter(must=(HasId(ids),))) if ids else 0
    return {
        "name": request.selection,
        "source": saved.get("source"),
        "view": saved.get("view"),
        "description": saved.get("description"),
        "created_at": saved.get("created_at"),
        "created_by": saved.get("created_by"),
        "model": saved.get("model"),
        "version": saved.get("version"),
        "ids_sha256": saved.get("ids_sha256"),
        "images": len(ids),
        "present": present,
    }


def _store(service: SearchService) -> dict[str, Any]:
    """What the exported store holds: images, videos and their frames, points per dataset."""
    store = service.store
    images, videos, frames = media_counts(store) if store.exists else (0, 0, 0)
    return {
        "backend": store.backend,
        "collection": store.collection,
        "images": images,
        "videos": videos,
        "frames": frames,
        "images_per_dataset": store.images.facet("datasets") if store.exists else {},
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


def _score(service: SearchService, request: SearchRequest) -> str | None:
    """What the rows' `score` means: the model's cosine (and for this kind of model, CLIP or
    SigLIP, what that cosine means), or a fused rank; None without a query (no scores)."""
    if not request.terms:
        return None
    if request.mode == "image":
        return service.texts.encoder.score_meaning
    return (
        f"fused rank: the sum of 1/({RRF_K} + rank) over the rankings the image is in (ranks "
        "from 0), no measure of similarity; the API's search gives each hit's cosine and BM25 "
        "scores as its evidence"
    )


def _selection(request: SearchRequest, limit: int | None, kind: str) -> str:
    group = _grouping(request.group_by)
    if not request.terms:
        first = f" (first {limit:,})" if limit else ""
        order = ", newest first" if request.group_by else ""
        return f"every image matching the filters{first}{order}{group}"
    if request.mode != "image":
        return _fused_selection(request, limit, kind) + group
    if request.min_score is None:
        which = f"the {limit:,} images most similar to the query (cosine, {kind})"
    else:
        most = f"the {limit:,} best" if limit else f"at most {MAX_RANKED:,},"
        which = (
            f"the images scoring at least {request.min_score} for the query (cosine, {kind}; "
            f"{most} best first)"
        )
    return (
        f"{which} that match the filters{group}; ranks 1-{RANK_WINDOWS[0]} by approximate "
        f"(HNSW) search with ef {RANK_WINDOWS[0]}, ranks up to {RANK_WINDOWS[-1]:,} by "
        f"approximate search with ef {RANK_WINDOWS[-1]:,} (those not already ranked), deeper "
        "ranks by exact search"
    )


def _fused_selection(request: SearchRequest, limit: int | None, kind: str) -> str:
    """A text or hybrid selection in words (see `search.fused`)."""
    legs = f"the BM25 ranking of their text in each language (best {DEPTH:,} each"
    legs += f", BM25 score at least {request.min_score})" if request.min_score is not None else ")"
    if request.mode == "hybrid":
        legs = (
            f"the image ranking ({kind} cosine, best {DEPTH:,} by approximate search with ef "
            f"{DEPTH:,}) and {legs}"
        )
    first = f"the {limit:,} best" if limit else "every image"
    return (
        f"{first} of {legs}, fused by reciprocal rank (score: the sum of 1/({RRF_K} + rank), "
        "ranks from 0), that match the filters; equal scores by id"
    )


def _grouping(group_by: str | None) -> str:
    """How the selection was grouped, in words (empty without grouping)."""
    if group_by is None:
        return ""
    if group_by == "video":
        return (
            "; one frame per video (the first of each in that order; an image is a group of "
            "its own)"
        )
    return f"; one image per {group_by} (the first of each, grouped by the image's earliest post)"


def _search(service: SearchService, request: SearchRequest) -> dict[str, Any]:
    """How a query was ranked: its mode and, for text and hybrid, the text vectors' making
    and the fusion's parameters."""
    meta = service.store.meta
    if not request.terms or request.mode == "image":
        return {"mode": request.mode if request.terms else None}
    return {
        "mode": request.mode,
        "text_languages": list(meta.text_languages) if meta else [],
        "text_fields": list(PARTS),
        "bm25": {"k1": K1, "b": B, "avg_len": AVG_LEN, "idf": "by the engine, at query time"},
        "fusion": {"method": "reciprocal rank", "k": RRF_K, "depth_per_leg": DEPTH},
    }


def _cut(service: SearchService, request: SearchRequest, limit: int | None) -> dict[str, Any]:
    """Where a ranking was cut, and where the image ranking's strong matches end (as the
    search answers it: in image and hybrid modes; null without a query and in text mode)."""
    imaged = request.terms and request.mode != "text"
    relevance = service.relevance(request) if imaged else None
    fused = request.terms and request.mode != "image"
    return {
        "limit": limit,
        "min_score": request.min_score,
        # Text and hybrid: a leg was full at its depth, so more images match than it ranked.
        "depth_reached": service.fused_capped(request) if fused else None,
        "edge": relevance.edge if relevance else None,
        "strong": relevance.strong if relevance else None,
        "strong_capped": relevance.strong_capped if relevance else False,
        "verdict": relevance.verdict if relevance else None,
        "method": relevance.method if relevance else None,
    }


def _extra_cut(counts: Counts | None) -> str | None:
    """Whether extra text may have been cut when it was indexed (null when no cell can be)."""
    if counts is None or not counts.extra_at_max:
        return None
    return (
        f"the index stores extra column text cut at {EXTRA_MAX_CHARS:,} characters; "
        f"{counts.extra_at_max:,} exported cells have {EXTRA_MAX_CHARS:,} and may have been cut"
    )

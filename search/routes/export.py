"""Export the current query and filters at post level (CSV or NDJSON), with its manifest."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from search import export, manifest
from search.deps import Filters, MinScore, ReadAccess, SearchMode, State
from search.query import GroupBy

router = APIRouter(prefix="/api/export", tags=["export"], dependencies=[ReadAccess])
Limit = Annotated[
    int | None,
    Query(
        ge=1,
        le=export.MAX_RANKED,
        description="Images at most (with q: the best N; q needs limit and/or min_score).",
    ),
]
Fmt = Annotated[export.Format, Query(alias="format", description="csv or ndjson.")]
Columns = Annotated[
    str | None,
    Query(
        max_length=10_000,
        description="The table's other columns to write, comma-separated (CSV headers "
        "extra.NAME, NDJSON an `extra` object); default: all that the exported posts have.",
    ),
]
Grouping = Annotated[
    GroupBy | None,
    Query(description="At most one image per post, per author or per video, as search."),
]


@router.get("", response_class=StreamingResponse)
def export_rows(
    state: State,
    filters: Filters,
    fmt: Fmt = "csv",
    limit: Limit = None,
    group_by: Grouping = None,
    min_score: MinScore = None,
    mode: SearchMode = None,
    columns: Columns = None,
):
    """One row per (post, image) for the query (optional) and filters, streamed. A query's
    ranking needs a cut: `limit` (the best N) and/or `min_score`. A CSV of all extra columns
    reads the selection once before streaming, to know its header."""
    request = replace(filters, group_by=group_by, min_score=min_score, mode=mode)
    request = export.checked(state.service, request, limit)
    wanted = export.parse_columns(columns)
    extra = export.extra_columns(state.service, request, limit, fmt, wanted)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    rows = export.rows(state.service, request, limit, export.Counts(), extra)
    return StreamingResponse(
        export.encode(rows, fmt, extra),
        media_type=export.MEDIA_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="picsift-{stamp}.{fmt}"'},
    )


@router.get("/manifest")
def export_manifest(
    state: State,
    filters: Filters,
    fmt: Fmt = "csv",
    limit: Limit = None,
    group_by: Grouping = None,
    min_score: MinScore = None,
    mode: SearchMode = None,
    columns: Columns = None,
) -> dict[str, Any]:
    """The methods manifest of the same export (software, model, topic run, query, filters,
    time, row counts, columns written, where the ranking was cut)."""
    request = replace(filters, group_by=group_by, min_score=min_score, mode=mode)
    request = export.checked(state.service, request, limit)
    wanted = export.parse_columns(columns)
    extra = export.extra_columns(state.service, request, limit, fmt, wanted)
    counts = export.Counts()
    for _ in export.rows(state.service, request, limit, counts, extra):
        pass
    return manifest.manifest(
        state.service, state.settings, request, fmt, limit, counts, extra, wanted
    )

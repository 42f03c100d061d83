"""Export the current query and filters at post level (CSV or NDJSON), with its manifest."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from search import export
from search.deps import Filters, ReadAccess, State
from search.query import GroupBy

router = APIRouter(prefix="/api/export", tags=["export"], dependencies=[ReadAccess])
Limit = Annotated[
    int | None,
    Query(
        ge=1,
        le=export.MAX_RANKED,
        description=f"Images at most (with q: the best; default {export.DEFAULT_RANKED:,}).",
    ),
]
Fmt = Annotated[export.Format, Query(alias="format", description="csv or ndjson.")]
Grouping = Annotated[
    GroupBy | None, Query(description="At most one image per post or per author, as search.")
]


@router.get("", response_class=StreamingResponse)
def export_rows(
    state: State,
    filters: Filters,
    fmt: Fmt = "csv",
    limit: Limit = None,
    group_by: Grouping = None,
):
    """One row per (post, image) for the query (optional) and filters, streamed."""
    request = export.checked(state.service, replace(filters, group_by=group_by))
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    rows = export.rows(state.service, request, limit, export.Counts())
    return StreamingResponse(
        export.encode(rows, fmt),
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
) -> dict[str, Any]:
    """The methods manifest of the same export (software, model, topic run, query, filters,
    time, row counts)."""
    request = export.checked(state.service, replace(filters, group_by=group_by))
    counts = export.Counts()
    for _ in export.rows(state.service, request, limit, counts):
        pass
    return export.manifest(state.service, state.settings, request, fmt, limit, counts)

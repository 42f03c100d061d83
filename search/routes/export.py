"""Export the current query and filters at post level (CSV or NDJSON), with its manifest."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from picsift.errors import InputError
from search import export, manifest, network
from search.deps import NO_SELECTION, AppState, Filters, MinScore, ReadAccess, SearchMode, State
from search.query import GroupBy, SearchRequest

router = APIRouter(
    prefix="/api/export",
    tags=["export"],
    dependencies=[ReadAccess],
    responses=NO_SELECTION,
)
Limit = Annotated[
    int | None,
    Query(
        ge=1,
        le=export.MAX_RANKED,
        description="Images at most (with q: the best N; q needs limit and/or min_score).",
    ),
]
Fmt = Annotated[
    export.Format,
    Query(
        alias="format",
        description="csv or ndjson (one row per post and image), or gexf (the image-account "
        "network, for Gephi).",
    ),
]
Merge = Annotated[
    network.Merge,
    Query(
        description="gexf: one image node per variant group (copies of one picture, "
        "`variant`) or per image (`none`)."
    ),
]
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
    merge: Merge = "variant",
):
    """One row per (post, image) for the query (optional) and filters, streamed; or, with
    `format=gexf`, their image-account network. A query's ranking needs a cut: `limit` (the
    best N) and/or `min_score`. A CSV of all extra columns reads the selection once before
    streaming, to know its header."""
    request = replace(filters, group_by=group_by, min_score=min_score, mode=mode)
    request = export.checked(state.service, request, limit)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    if fmt == "gexf":
        _no_columns(columns)
        graph = network.network(state.service, request, limit, merge, network.NetworkCounts())
        chunks = network.gexf(graph)
    else:
        wanted = export.parse_columns(columns)
        extra = export.extra_columns(state.service, request, limit, fmt, wanted)
        rows = export.rows(state.service, request, limit, export.Counts(), extra)
        chunks = export.encode(rows, fmt, extra)
    return StreamingResponse(
        chunks,
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
    merge: Merge = "variant",
) -> dict[str, Any]:
    """The methods manifest of the same export (software, model, topic run, query, filters,
    time, row counts, columns written, where the ranking was cut; for a network its nodes,
    edges and what it left out)."""
    request = replace(filters, group_by=group_by, min_score=min_score, mode=mode)
    request = export.checked(state.service, request, limit)
    if fmt == "gexf":
        return _network_manifest(state, request, limit, columns, merge)
    wanted = export.parse_columns(columns)
    extra = export.extra_columns(state.service, request, limit, fmt, wanted)
    counts = export.Counts()
    for _ in export.rows(state.service, request, limit, counts, extra):
        pass
    return manifest.manifest(
        state.service, state.settings, request, fmt, limit, counts, extra, wanted
    )


def _no_columns(columns: str | None) -> None:
    if columns is not None:
        raise InputError("columns: a GEXF network has no table columns; leave columns out")


def _network_manifest(
    state: AppState,
    request: SearchRequest,
    limit: int | None,
    columns: str | None,
    merge: network.Merge,
) -> dict[str, Any]:
    _no_columns(columns)
    counts = network.NetworkCounts()
    network.network(state.service, request, limit, merge, counts)
    return manifest.network_manifest(state.service, state.settings, request, limit, counts, merge)

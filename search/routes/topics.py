"""Topics of the current run: list, one, collage, map, timeline, rename, merge."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import FileResponse

from picsift.errors import InputError
from picsift.names import check_text
from search.deps import NO_SELECTION, AppState, Filters, ReadAccess, State, WriteAccess, WriteSlot
from search.errors import documented
from search.schemas import (
    MapBinsOut,
    MapPointsOut,
    MergeIn,
    RenameIn,
    TimelineOut,
    TopicOut,
    TopicsOut,
)
from search.service import NotFoundError
from search.topic_map import binned, paged, select
from topics.table import OUTLIER, TopicInfo, collage_path, current_run, get_topic, list_topics

router = APIRouter(prefix="/api/topics", tags=["topics"])
MAX_MAP_POINTS = 20_000


def topic_out(info: TopicInfo) -> dict[str, Any]:
    """A topic as the API shows it."""
    return {
        "topic": info.topic,
        "label": info.label,
        "keywords": info.keywords,
        "count": info.count,
        "representatives": info.representatives,
        "collage_url": f"/api/topics/{info.topic}/collage",
        "auto_label": info.auto_label,
        "renamed": info.renamed,
        "merged_from": info.merged_from,
        "run": info.run,
        "xy": info.xy,
    }


def _topic(state: AppState, topic_id: int) -> TopicInfo:
    try:
        return get_topic(state.store, topic_id)
    except InputError as exc:
        # An unknown topic in the path is a 404 (in a filter it is a bad parameter).
        raise NotFoundError(f"topic_id: {str(exc).removeprefix('topic: ')}") from None


@router.get("", response_model=TopicsOut, dependencies=[ReadAccess])
def topics(state: State) -> dict[str, Any]:
    """Every topic of the current run with counts, labels, keywords, representatives."""
    run = current_run(state.settings.data_dir)
    return {
        "run": run.to_dict() if run else None,
        "topics": [topic_out(t) for t in list_topics(state.store)],
    }


def map_box(
    x_min: float | None = None,
    x_max: float | None = None,
    y_min: float | None = None,
    y_max: float | None = None,
) -> tuple[float, float, float, float] | None:
    """An optional viewport; all four bounds or none."""
    given = [v for v in (x_min, x_max, y_min, y_max) if v is not None]
    if not given:
        return None
    if len(given) != 4 or x_min > x_max or y_min > y_max:  # type: ignore[operator]
        raise InputError("x_min: give all of x_min, x_max, y_min, y_max, with min <= max")
    return (x_min, x_max, y_min, y_max)  # type: ignore[return-value]


@router.get("/map", response_model=MapBinsOut | MapPointsOut, dependencies=[ReadAccess])
def topic_map(
    state: State,
    box: Annotated[tuple[float, float, float, float] | None, Depends(map_box)],
    topic: Annotated[list[int] | None, Query(description="Only these topics.")] = None,
    mode: Annotated[Literal["bins", "points"], Query(description="Grid or points.")] = "bins",
    bins: Annotated[int, Query(ge=1, le=256, description="Grid cells per side.")] = 64,
    limit: Annotated[int, Query(ge=1, le=MAX_MAP_POINTS)] = 5000,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    """Map coordinates: a `bins` x `bins` grid of counts (default), or the points themselves,
    paged, within an optional box (x_min, x_max, y_min, y_max)."""
    state.service.check_topics(tuple(topic or ()))
    run = current_run(state.settings.data_dir)
    data = state.maps.get(state.store, run.run if run else None, state.generation)
    index = select(data, tuple(topic or ()), box)
    body = binned(data, index, bins, box) if mode == "bins" else paged(data, index, limit, offset)
    return {"run": run.run if run else None, **body}


@router.get(
    "/timeline",
    response_model=TimelineOut,
    dependencies=[ReadAccess],
    responses=NO_SELECTION,
)
def topic_timeline(
    state: State,
    filters: Filters,
    interval: Annotated[Literal["week", "day"], Query()] = "week",
) -> dict[str, Any]:
    """Posts per topic per week or day (timelines count posts: how often images circulated)."""
    from topics.timeline import timeline

    filters = state.service.with_stored(filters.validate(require_query=False))
    state.service.check_topics(filters.topics + filters.exclude_topics)
    rows = timeline(
        state.store,
        interval=interval,
        filter=filters.to_filter(),
        post_matches=filters.post_matches,
    )
    return {"interval": interval, "rows": rows}


@router.get(
    "/{topic_id}", response_model=TopicOut, dependencies=[ReadAccess], responses=documented(404)
)
def topic(state: State, topic_id: int) -> dict[str, Any]:
    """One topic."""
    return topic_out(_topic(state, topic_id))


@router.get(
    "/{topic_id}/collage",
    response_class=FileResponse,
    dependencies=[ReadAccess],
    responses={200: {"content": {"image/jpeg": {}}}, **documented(404)},
)
def topic_collage(state: State, topic_id: int) -> FileResponse:
    """The topic's collage of representative images (JPEG)."""
    info = _topic(state, topic_id)
    run = current_run(state.settings.data_dir)
    path = collage_path(state.settings.data_dir, run.run if run else info.run, topic_id)
    if not path.is_file():
        raise NotFoundError(f"topic_id: topic {topic_id} has no collage")
    return FileResponse(path, media_type="image/jpeg")


@router.patch(
    "/{topic_id}",
    response_model=TopicOut,
    dependencies=[WriteAccess],
    responses=documented(401, 404, 409),
)
def rename(state: State, topic_id: int, body: RenameIn) -> dict[str, Any]:
    """Rename a topic (the researcher's label replaces the automatic one)."""
    from topics.edits import rename_topic

    if topic_id == OUTLIER:
        raise InputError(f"topic_id: topic {OUTLIER} holds the outliers; it cannot be renamed")
    check_text("label", body.label)
    _topic(state, topic_id)
    with WriteSlot(state):
        info = rename_topic(state.store, state.settings.data_dir, topic_id, body.label.strip())
    return topic_out(info)


@router.post(
    "/merge",
    response_model=TopicOut,
    dependencies=[WriteAccess],
    responses=documented(401, 404, 409),
)
def merge(state: State, body: MergeIn) -> dict[str, Any]:
    """Merge topics into the first one (its images get that topic)."""
    from topics.edits import merge_topics

    if OUTLIER in body.topics:
        raise InputError(f"topics: topic {OUTLIER} holds the outliers; it cannot be merged")
    for topic_id in body.topics:
        try:
            get_topic(state.store, topic_id)
        except InputError as exc:
            raise NotFoundError(f"topics: {str(exc).removeprefix('topic: ')}") from None
    if body.label is not None:
        check_text("label", body.label)
    label = body.label.strip() if body.label else None
    with WriteSlot(state):
        info = merge_topics(state.store, state.settings.data_dir, body.topics, label)
    return topic_out(info)

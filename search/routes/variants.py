"""Variant groups: how each picture circulated (`search.circulation`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from search.circulation import Sort, circulation
from search.deps import ReadAccess, State
from search.schemas import CirculationOut

router = APIRouter(tags=["variants"])


@router.get("/api/variants", response_model=CirculationOut, dependencies=[ReadAccess])
def variants(
    state: State,
    sort: Annotated[Sort, Query(description="posts, accounts, images, engagement, first_seen.")] = (
        "posts"
    ),
    limit: Annotated[int, Query(ge=1, le=1000, description="Groups at most.")] = 50,
) -> dict[str, Any]:
    """The variant groups of two or more images (copies of one picture), by spread: posts,
    accounts, images, engagement (likes, comments and shares summed over the posts that have
    them; `engagement_posts` says how many did), or the earliest first."""
    return circulation(state.store, sort, limit)

"""Saved selections (`search.selections`): save a view's images under a name, list, open and
delete them; `selection=NAME` on search and export keeps a selection's images."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from picsift.errors import InputError
from search import selections
from search.deps import NO_SELECTION, Filters, MinScore, ReadAccess, SearchMode, State, WriteAccess
from search.errors import documented
from search.export import MAX_RANKED
from search.query import GroupBy, SearchRequest

router = APIRouter(prefix="/api/selections", tags=["selections"])
Name = Annotated[str, Path(max_length=selections.MAX_NAME, description="The selection's name.")]


class SelectionIn(BaseModel):
    """A selection to save: a search view's images (`source` search: the query, filters and
    cut in the query string, as for export), or the `ids` the client holds."""

    name: str = Field(max_length=selections.MAX_NAME)
    source: selections.Source = Field(
        "search",
        description="search (the query string's view), similar (a list of similar images), "
        "upload (an uploaded-image search), map (a box or lasso), picked (chosen by hand).",
    )
    ids: list[str] | None = Field(
        None, max_length=MAX_RANKED, description="The images, in order (not for search)."
    )
    view: dict[str, Any] | None = Field(
        None, description="How the ids were chosen (the image searched from, the box), kept."
    )
    description: str = Field("", max_length=selections.MAX_DESCRIPTION)
    replace: bool = Field(False, description="Overwrite a selection of the same name.")


class SelectionOut(BaseModel):
    name: str
    source: str
    description: str
    created_at: str = Field(description="When it was first saved.")
    saved_at: str = Field(description="When this version was saved.")
    created_by: str
    model: str | None
    store_images: int = Field(description="Images in the store when it was saved.")
    ids_sha256: str = Field(description="SHA-256 of its ids in order, one a line.")
    version: int = Field(description="1, then one more each time it was replaced.")
    images: int = Field(description="Images in the selection.")
    present: int | None = Field(description="How many of them are in the store now.")


class SelectionFull(SelectionOut):
    ids: list[str] = Field(description="Its images, in the order of the view it was saved from.")
    view: dict[str, Any] = Field(description="How it was made (the request, or the view).")


@router.get("", response_model=list[SelectionOut], dependencies=[ReadAccess])
def list_selections(state: State) -> list[dict[str, Any]]:
    """Every saved selection, newest first."""
    return selections.listed(state.store)


@router.get(
    "/{name}",
    response_model=SelectionFull,
    dependencies=[ReadAccess],
    responses=documented(404),
)
def get_selection(state: State, name: Name) -> dict[str, Any]:
    """A selection with its images and how it was made."""
    found = selections.load(state.store, name)
    present = selections.present(state.store, found)
    return found.summary(present) | {"ids": found.ids, "view": found.view}


@router.post(
    "",
    response_model=SelectionOut,
    status_code=201,
    dependencies=[WriteAccess],
    responses=documented(401) | NO_SELECTION,
)
def save_selection(
    state: State,
    body: SelectionIn,
    filters: Filters,
    limit: Annotated[
        int | None, Query(ge=1, le=MAX_RANKED, description="Search: images at most.")
    ] = None,
    group_by: Annotated[GroupBy | None, Query(description="Search: as search.")] = None,
    min_score: MinScore = None,
    mode: SearchMode = None,
) -> dict[str, Any]:
    """Save a selection. Source `search`: the images of the query string's view (query,
    filters and cut, resolved as an export resolves them: a ranking needs `limit` and/or
    `min_score`); the other sources: the `ids` given, with `view` saying how they were
    chosen. Its images are frozen when it is saved."""
    request = replace(filters, group_by=group_by, min_score=min_score, mode=mode)
    if body.source == "search":
        made = selections.save(
            state.service,
            body.name,
            "search",
            request=request,
            limit=limit,
            description=body.description,
            replace=body.replace,
        )
    else:
        if request != SearchRequest() or limit is not None:
            raise InputError(
                f"source: a {body.source} selection is its ids; leave the query and filters out"
            )
        made = selections.save(
            state.service,
            body.name,
            body.source,
            ids=body.ids,
            view=body.view,
            description=body.description,
            replace=body.replace,
        )
    return made.summary(len(made.ids))


@router.delete(
    "/{name}", status_code=204, dependencies=[WriteAccess], responses=documented(401, 404)
)
def delete_selection(state: State, name: Name) -> None:
    """Delete a selection (the images stay)."""
    selections.delete(state.store, name)
